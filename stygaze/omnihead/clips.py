"""Training clips for OmniHead: per-frame labels from labelled motion, a rendered segment cache, clip sampling."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stygaze.data.corpus import Session
from stygaze.data.windows import centred_start, focused_starts
from stygaze.errors import DataError
from stygaze.io import atomic_path
from stygaze.render.clips import camera_gaze, render_clip_frames, sample_render_config

if TYPE_CHECKING:  # pragma: no cover
    from stygaze.omnihead.train import OmniHeadTrainConfig


@dataclass
class FrameLabels:
    """Per-frame labels of a motion: gesture/blink/saccade (T,) int64 (−1 = unlabelled)."""

    gesture: np.ndarray
    blink: np.ndarray
    saccade: np.ndarray


def load_session_motion(session: Session | str | os.PathLike) -> Any:
    """A session's motion with its labelled events (``events.json`` of the corpus layout when the
    npz carries none); see :meth:`stygaze.data.corpus.Session.load_motion`."""
    session = session if isinstance(session, Session) else Session(Path(session))
    return session.load_motion(events=True)


def motion_labels(motion: Any) -> FrameLabels:
    """Labels from a SynHAGE motion's ``events`` (``gesture``, ``gaze``) and ``blink`` closure.

    Frames without labels (no events, or a list of another length) get −1.
    """
    t = len(motion.data)
    ev = motion.events or {}
    missing = np.full(t, -1, np.int64)

    def per_frame(key: str) -> np.ndarray:
        v = ev.get(key)
        if v is None or len(v) != t:
            return missing.copy()
        return np.asarray(v, np.int64)

    if motion.blink is not None:
        blink = (np.nan_to_num(np.asarray(motion.blink, np.float64), nan=0.0) >= 0.5).astype(np.int64)
    elif ev.get("blink_frames") is not None and len(ev["blink_frames"]) == t:
        blink = np.asarray(ev["blink_frames"], np.int64)
    else:
        blink = missing.copy()
    return FrameLabels(gesture=per_frame("gesture"), blink=blink, saccade=per_frame("gaze"))


def _data_key(cfg: OmniHeadTrainConfig, sessions: list[Session], img_size: int) -> str:
    blob = json.dumps(
        {"v": 2, "r": asdict(cfg.randomize), "s": [p.name for p in sessions], "img": img_size, "T": cfg.segment_frames, "ss": cfg.supersample, "f": cfg.gesture_focus, "seed": cfg.seed},
        sort_keys=True,
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:10]


Renderer = Callable[[Any, Any], np.ndarray]
"""``(motion, RenderConfig) → (T, S, S, 3) uint8``; the default is :func:`render_clip_frames`."""


def build_segment_cache(
    out_dir: str | os.PathLike,
    sessions: list[Session],
    num_segments: int,
    cfg: OmniHeadTrainConfig,
    img_size: int,
    seed: int,
    chunk: int = 16,
    renderer: Renderer | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Render (or reuse) ``num_segments`` labelled segments of ``cfg.segment_frames`` frames.

    Each segment has its own random camera, lights, colours and mirror flip. Files per chunk:
    ``out_dir/frames_<i>.npy`` (n, T, S, S, 3) uint8 and ``labels_<i>.npz``, written
    atomically, so a rerun continues where an interrupted one stopped.

    Returns:
        ``frames``: list of (n, T, S, S, 3) uint8 arrays (memory-mapped); ``gesture``,
        ``blink``, ``saccade`` (N, T) int64; ``gaze`` (N, T, 3) float32; ``flip`` (N,) bool.
    """
    from tqdm import tqdm

    render = renderer or (lambda motion, rcfg: render_clip_frames(motion, config=rcfg))
    length = cfg.segment_frames
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    motions = [load_session_motion(s) for s in sessions]
    labels = [motion_labels(m) for m in motions]
    lengths = np.array([max(0, len(m.data) - length + 1) for m in motions], np.float64)
    if lengths.sum() <= 0:
        raise DataError(f"every session in {sessions[0].root.parent} is shorter than {length} frames")
    n_chunks = int(math.ceil(num_segments / chunk))
    keys = ("gesture", "blink", "saccade", "gaze", "flip")
    parts: dict[str, list] = {k: [] for k in ("frames",) + keys}
    bar = tqdm(total=num_segments, desc=f"render {out.name}", disable=not progress, leave=False)
    for c in range(n_chunks):
        n = min(chunk, num_segments - c * chunk)
        fpath, lpath = out / f"frames_{c:03d}.npy", out / f"labels_{c:03d}.npz"
        if not (fpath.exists() and lpath.exists()):
            rng = np.random.default_rng([seed, c])
            sess = rng.choice(len(motions), n, p=lengths / lengths.sum())
            frames = np.zeros((n, length, img_size, img_size, 3), np.uint8)
            lab = {k: np.zeros((n, length), np.int64) for k in ("gesture", "blink", "saccade")}
            gaze = np.zeros((n, length, 3), np.float32)
            flip = rng.random(n) < cfg.randomize.hflip
            starts = np.zeros(n, np.int64)
            for i, s in enumerate(sess):
                lab_s = labels[s]
                start = starts[i] = int(focused_starts(len(lab_s.gesture), np.flatnonzero(lab_s.gesture > 0), 1, length, cfg.gesture_focus, rng)[0])
                seg = motions[s].slice(start, start + length)
                rcfg = sample_render_config(rng, img_size, cfg.randomize, cfg.supersample)
                img = np.asarray(render(seg, rcfg), np.uint8)
                g = camera_gaze(seg, rcfg.camera)
                if flip[i]:  # mirror image: gaze x flips; every label is left/right symmetric
                    img = img[:, :, ::-1]
                    g = g * np.array([-1.0, 1.0, 1.0], np.float32)
                frames[i] = img
                gaze[i] = g
                for k in lab:
                    lab[k][i] = getattr(labels[s], k)[start : start + length]
                bar.update(1)
            with atomic_path(lpath) as tmp:
                np.savez(tmp, gaze=gaze, flip=flip, session=np.array([sessions[k].name for k in sess]), start=starts, **lab)
            with atomic_path(fpath) as tmp:
                np.save(tmp, frames)
        else:
            bar.update(n)
        parts["frames"].append(np.load(fpath, mmap_mode="r"))
        with np.load(lpath) as z:
            for k in keys:
                parts[k].append(z[k])
    bar.close()
    res: dict[str, Any] = {"frames": parts["frames"]}
    for k in keys:
        res[k] = np.concatenate(parts[k], 0)
    return res


class ClipSet:
    """Clips of ``L`` frames cut from cached segments.

    ``batch(idx, offsets)`` → (video (B, L, S, S, 3) uint8 tensor, targets dict of (B, L[, 3]) tensors).
    """

    def __init__(self, data: dict[str, Any], clip_len: int):
        self.chunks = data["frames"]
        self.bounds = np.cumsum([0] + [len(c) for c in self.chunks])
        self.data = data
        self.clip_len = int(clip_len)
        self.segment_len = int(self.chunks[0].shape[1])
        if self.segment_len < self.clip_len:
            raise DataError(f"segments of {self.segment_len} frames are shorter than the {self.clip_len}-frame clips")

    def __len__(self) -> int:
        return int(self.bounds[-1])

    @property
    def max_offset(self) -> int:
        return self.segment_len - self.clip_len

    def fixed_offsets(self) -> list[tuple[int, int]]:
        """Non-overlapping (segment, offset) pairs covering every segment (for validation)."""
        offs = list(range(0, self.max_offset + 1, self.clip_len)) or [0]
        return [(i, o) for i in range(len(self)) for o in offs]

    def batch(self, items: list[tuple[int, int]], device: Any = "cpu") -> tuple[Any, dict[str, Any]]:
        import torch

        vids = []
        for i, o in items:
            c = int(np.searchsorted(self.bounds, i, side="right") - 1)
            vids.append(np.asarray(self.chunks[c][i - self.bounds[c], o : o + self.clip_len]))
        video = torch.from_numpy(np.stack(vids)).to(device)
        targets = {}
        for k in ("gesture", "blink", "saccade", "gaze"):
            targets[k] = torch.from_numpy(np.stack([self.data[k][i, o : o + self.clip_len] for i, o in items])).to(device)
        return video, targets


def sample_clips(data: ClipSet, n: int, balance: float, rng: np.random.Generator, segments: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` training clips as (segment index (n,), frame offset (n,)).

    Without balancing every segment appears equally often (``segments``, a permutation given by
    the caller, or uniform draws) at a uniform offset. With ``balance`` > 0 that share of the
    clips is instead centred (± ``L//2 − 2`` frames) on a positive frame of a rare class: blink,
    or one of the gesture classes 1–5, the class chosen uniformly among those present, so a
    class covering 0.5 % of the frames is seen as often as one covering 10 %.
    """
    seg = segments if segments is not None else rng.integers(0, len(data), n)
    offs = rng.integers(0, data.max_offset + 1, n)
    if balance <= 0:
        return seg, offs
    pools = []
    blink = np.argwhere(data.data["blink"] > 0)
    if len(blink):
        pools.append(blink)
    for c in range(1, 6):
        g = np.argwhere(data.data["gesture"] == c)
        if len(g):
            pools.append(g)
    if not pools:
        return seg, offs
    seg, offs = seg.copy(), offs.copy()
    pick = np.flatnonzero(rng.random(n) < balance)
    which = rng.integers(0, len(pools), len(pick))
    half = max(0, data.clip_len // 2 - 2)
    for i, w in zip(pick, which):
        s, f = pools[w][rng.integers(0, len(pools[w]))]
        seg[i] = s
        offs[i] = int(centred_start(f, data.clip_len, rng.integers(-half, half + 1), data.max_offset))
    return seg, offs
