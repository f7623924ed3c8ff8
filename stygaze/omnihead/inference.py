"""Whole-video inference: sliding windows keeping the centre frame (the OmniHead protocol)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from stygaze.omnihead.model import OmniHead

# ---------------------------------------------------------------------------------------------
# inference


@dataclass
class FramePredictions:
    """Per-frame recognizer outputs for a whole video (numpy).

    Attributes:
        gesture: (T,) int class per frame (argmax); blink, saccade: (T,) 0/1, positive where the
            probability reaches the model's ``binary_thresholds`` (0.5 = argmax).
        gesture_prob: (T, 6), blink_prob, saccade_prob: (T,) probability of the positive class.
        gaze: (T, 3) unit vectors (camera coordinates).
        clip_features, clip_dynamics: (W, C) encoder features of every window that was run
            (see :class:`OmniHeadOutput`).
    """

    gesture: Any = None
    gesture_prob: Any = None
    blink: Any = None
    blink_prob: Any = None
    saccade: Any = None
    saccade_prob: Any = None
    gaze: Any = None
    clip_features: Any = None
    clip_dynamics: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@torch.no_grad()
def sliding_window_predict(model: OmniHead, frames: Any, batch_size: int = 16, stride: int = 1) -> FramePredictions:
    """Sliding-window inference keeping the centre frame (OmniHead protocol).

    Each frame ``t`` is predicted from the window ``[t − L//2, t − L//2 + L)`` (edges padded by
    repeating the first/last frame) and only the window's centre prediction is kept. With
    ``stride > 1`` a window keeps its ``stride`` central frames (faster, approximate). The motion
    paths (``task_stems``) run once over the whole video (in overlapping chunks) and each window
    reads its frames' features: at the centre frame identical to running them on the window,
    ≈ 5× faster at stride 1 than once per window.

    Args:
        frames: (T, H, W, 3) uint8 video at the model's resolution.
    Returns:
        :class:`FramePredictions` with T entries per task.
    """
    import numpy as np

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3), got {frames.shape}")
    t_total = frames.shape[0]
    length = model.config.num_frames
    centre = length // 2
    stride = max(1, min(int(stride), length))
    off = centre - stride // 2  # position of the first kept frame inside a window
    # window for targets [a, a+stride) starts at a - off; front padding of `centre` frames
    padded = np.concatenate([np.repeat(frames[:1], centre, 0), frames, np.repeat(frames[-1:], length, 0)], axis=0)
    starts = list(range(0, t_total, stride))
    device = model.pixel_mean.device
    keep: dict[str, list[np.ndarray]] = {}
    feats: list[np.ndarray] = []
    dyn: list[np.ndarray] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            # the motion paths depend on a few frames around each frame: run once over the whole video, not once per window
            motion = _video_motion_features(model, padded, device)
            for i in range(0, len(starts), batch_size):
                chunk = starts[i : i + batch_size]
                spans = [(a - off + centre, a - off + centre + length) for a in chunk]
                batch = np.stack([padded[s0:s1] for s0, s1 in spans])
                given = {task: torch.stack([f[s0:s1] for s0, s1 in spans]) for task, f in motion.items()} if motion else None
                out = model(torch.from_numpy(np.ascontiguousarray(batch)).to(device), motion_features=given)
                feats.append(out.clip_features.float().cpu().numpy())
                dyn.append(out.clip_dynamics.float().cpu().numpy())
                for task in ("gesture", "blink", "saccade", "gaze"):
                    y = out.task(task)
                    if y is None:
                        continue
                    if task != "gaze":
                        y = y.softmax(-1)
                    keep.setdefault(task, []).append(y[:, off : off + stride].float().cpu().numpy())
    finally:
        model.train(was_training)
    res = FramePredictions(clip_features=np.concatenate(feats, 0), clip_dynamics=np.concatenate(dyn, 0))
    for task, parts in keep.items():
        arr = np.concatenate(parts, 0)  # (nW, stride, D): window i keeps frames [i·stride, (i+1)·stride)
        arr = arr.reshape(-1, arr.shape[-1])[:t_total]
        if task == "gaze":
            res.gaze = arr
        elif task == "gesture":
            res.gesture_prob = arr
            res.gesture = arr.argmax(-1)
        else:
            thr = float(model.binary_thresholds[0 if task == "blink" else 1])
            setattr(res, f"{task}_prob", arr[:, 1])
            setattr(res, task, (arr[:, 1] >= thr).astype(np.int64))
    return res


def _video_motion_features(model: OmniHead, frames: Any, device: Any, chunk: int = 128) -> dict[str, torch.Tensor]:
    """:meth:`OmniHead.motion_features` of a whole (T, H, W, 3) uint8 video, in chunks of ``chunk``
    frames overlapping by the stems' :attr:`FrameMotionStem.reach` on each side (so the result
    equals one pass over the whole video): ``{task: (T, D)}``."""
    import numpy as np

    if model.task_stems is None:
        return {}
    reach = max(stem.reach for stem in model.task_stems.values())
    t_total = len(frames)
    parts: dict[str, list[torch.Tensor]] = {}
    for a in range(0, t_total, chunk):
        b = min(a + chunk, t_total)
        lo, hi = max(0, a - reach), min(t_total, b + reach)
        clip = torch.from_numpy(np.ascontiguousarray(frames[lo:hi]))[None].to(device)
        for task, f in model.motion_features(clip).items():
            parts.setdefault(task, []).append(f[0, a - lo : b - lo])
    return {task: torch.cat(p, 0) for task, p in parts.items()}
