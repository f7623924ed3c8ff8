"""Perceptual evaluation: render motion, recognise what a viewer would see, compare.

Two layers (STYLE.md §5):

* pure numpy functions — :func:`frechet_distance` between two feature sets,
  :func:`behaviour_stats` of per-frame recognizer labels, :func:`compare_stats`;
* :func:`perceptual_report`, which renders predicted and reference motion with the same
  camera/lighting, runs the OmniHead recognizer (sliding window, centre frame kept) and
  returns a :class:`PerceptualReport` (statistics side by side, their differences and the
  Fréchet distance between the recognizer's clip features of the two sets).

Lower Fréchet distance = the two sets look more alike to the recognizer (0 for identical
sets). Behaviour statistics have no "better" direction on their own; their differences to
the reference are what matter (closer to 0 is better). The distance uses the *dynamics* of the
recognizer's representation (per-window temporal standard deviation of its frame features), so
it compares how the heads move rather than how the renders look; the distance on the
window means (appearance-sensitive) is reported alongside.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from stygaze.audio import FPS
from stygaze.eval.recognition import drop_short_events, label_events, smooth_labels
from stygaze.motion import Motion
from stygaze.render.clips import render_clip_frames

GESTURE_NAMES: tuple[str, ...] = ("none", "nod", "shake", "tilt", "turn", "up_down")


# ---------------------------------------------------------------------------------------------
# pure functions


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (FID formula); lower = closer.

    ``‖μa − μb‖² + Tr(Σa + Σb − 2(ΣaΣb)^½)``. Symmetric, ≥ 0 up to round-off, 0 for identical sets.

    Args:
        feats_a: (N, C) features; feats_b: (M, C) features (N, M ≥ 2).
    """
    a = np.asarray(feats_a, dtype=np.float64)
    b = np.asarray(feats_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"features must be (N, C) and (M, C) with the same C, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("need at least 2 feature vectors per set for a covariance")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    # Tr((Σa Σb)^½) = Tr((Σa^½ Σb Σa^½)^½): a symmetric PSD problem, stable for singular covariances
    w, v = np.linalg.eigh(cov_a)
    sqrt_a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    inner = sqrt_a @ cov_b @ sqrt_a
    eig = np.linalg.eigvalsh(0.5 * (inner + inner.T))
    tr_covmean = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu_a - mu_b
    value = float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * tr_covmean)
    return max(value, 0.0)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) runs of True in a (T,) bool array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


@dataclass
class BehaviourStats:
    """What the recognizer saw in a set of videos.

    Attributes:
        seconds: total duration (s).
        saccade_share: fraction of frames labelled saccade (0..1).
        saccades_per_min: saccade events per minute.
        blink_rate: blink events per minute.
        gesture_share: fraction of frames per gesture class (after the protocol's 11-frame
            majority smoothing and dropping events of ≤ 5 frames), keys = class names.
        gestures_per_min: gesture events (non-"none") per minute.
    """

    seconds: float
    saccade_share: float
    saccades_per_min: float
    blink_rate: float
    gesture_share: dict[str, float] = field(default_factory=dict)
    gestures_per_min: float = 0.0

    def flat(self) -> dict[str, float]:
        """One float per statistic (gesture shares as ``gesture_<name>``)."""
        d = {k: float(v) for k, v in asdict(self).items() if k != "gesture_share"}
        d.update({f"gesture_{k}": float(v) for k, v in self.gesture_share.items()})
        return d


def behaviour_stats(
    saccade: Sequence[np.ndarray],
    blink: Sequence[np.ndarray],
    gesture: Sequence[np.ndarray],
    fps: float = FPS,
    smooth: bool = True,
) -> BehaviourStats:
    """Behaviour statistics of per-frame labels of several videos.

    Args:
        saccade, blink: per video a (T,) 0/1 array; gesture: per video a (T,) class-id array.
        fps: frame rate.
        smooth: apply the gesture protocol (11-frame majority vote, drop events ≤ 5 frames).
    """
    frames = sum(len(np.asarray(s)) for s in saccade)
    if frames == 0:
        raise ValueError("no frames to summarise")
    minutes = frames / fps / 60.0
    sacc_frames = sum(int(np.sum(np.asarray(s) > 0)) for s in saccade)
    sacc_events = sum(len(_runs(np.asarray(s) > 0)) for s in saccade)
    blink_events = sum(len(_runs(np.asarray(b) > 0)) for b in blink)
    counts = np.zeros(len(GESTURE_NAMES))
    gest_events = 0
    for g in gesture:
        g = np.asarray(g, np.int64)
        if smooth and len(g):
            g = drop_short_events(smooth_labels(g, 11), 5, 0)
        counts += np.bincount(g, minlength=len(GESTURE_NAMES))[: len(GESTURE_NAMES)]
        gest_events += len(label_events(g, 0))
    total = max(counts.sum(), 1.0)
    return BehaviourStats(
        seconds=frames / fps,
        saccade_share=sacc_frames / frames,
        saccades_per_min=sacc_events / minutes,
        blink_rate=blink_events / minutes,
        gesture_share={n: float(c / total) for n, c in zip(GESTURE_NAMES, counts)},
        gestures_per_min=gest_events / minutes,
    )


def compare_stats(pred: BehaviourStats, gt: BehaviourStats) -> dict[str, float]:
    """``pred − gt`` for every flat statistic, plus ``gesture_hist_l1`` = Σ|Δ gesture share|."""
    p, g = pred.flat(), gt.flat()
    diff = {k: p[k] - g[k] for k in g if k != "seconds"}
    diff["gesture_hist_l1"] = float(sum(abs(pred.gesture_share[n] - gt.gesture_share[n]) for n in GESTURE_NAMES))
    return diff


# ---------------------------------------------------------------------------------------------
# recognizer-driven report


@dataclass
class RecognizedVideo:
    """Recognizer output for one video: per-frame labels and the features of its windows.

    ``features``: (W, C) clip dynamics (temporal std of the recognizer's frame features);
    ``mean_features``: (W, C) clip means (appearance-sensitive), when available.
    """

    saccade: np.ndarray
    blink: np.ndarray
    gesture: np.ndarray
    gaze: np.ndarray
    features: np.ndarray
    mean_features: np.ndarray | None = None


@dataclass
class PerceptualReport:
    """Side-by-side behaviour statistics and feature distance of predicted vs reference motion.

    Attributes:
        pred, gt: :class:`BehaviourStats` of the two sets.
        diff: ``pred − gt`` per statistic (see :func:`compare_stats`).
        frechet: Fréchet distance between the recognizer's clip-dynamics features of the two sets
            (lower = closer; insensitive to camera/lighting, 0 for identical sets).
        frechet_mean: the same on the clip-mean features (also reacts to appearance); NaN if absent.
        num_windows: feature vectors per set used for the distance.
        meta: recognizer and render settings.
    """

    pred: BehaviourStats
    gt: BehaviourStats
    diff: dict[str, float]
    frechet: float
    num_windows: tuple[int, int]
    frechet_mean: float = float("nan")
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "frechet_distance": self.frechet,
            "frechet_distance_mean_features": None if not np.isfinite(self.frechet_mean) else self.frechet_mean,
            "pred": asdict(self.pred),
            "gt": asdict(self.gt),
            "diff": self.diff,
            "num_windows": list(self.num_windows),
            "meta": self.meta,
        }

    def table(self) -> str:
        """Plain-text table: statistic, GT, pred, pred − GT."""
        p, g = self.pred.flat(), self.gt.flat()
        lines = [f"{'statistic':<22}{'gt':>10}{'pred':>10}{'pred-gt':>10}"]
        for k in g:
            lines.append(f"{k:<22}{g[k]:>10.3f}{p[k]:>10.3f}{p[k] - g[k]:>10.3f}")
        lines.append(f"{'gesture_hist_l1':<22}{'':>10}{'':>10}{self.diff['gesture_hist_l1']:>10.3f}")
        lines.append(f"Fréchet distance (recognizer clip dynamics): {self.frechet:.4f}")
        if np.isfinite(self.frechet_mean):
            lines.append(f"Fréchet distance (recognizer clip means, appearance-sensitive): {self.frechet_mean:.4f}")
        return "\n".join(lines)


def default_renderer(size: int) -> Callable[[Any], np.ndarray]:
    """A renderer ``Motion → (T, size, size, 3) uint8`` with the training camera (front, head crop)."""
    def _render(motion: Any) -> np.ndarray:
        return render_clip_frames(motion, size=size)

    return _render


def recognise(model: Any, frames: np.ndarray, stride: int = 1, batch_size: int = 16) -> RecognizedVideo:
    """Run the recognizer over a (T, H, W, 3) uint8 video (sliding window, centre frame kept)."""
    from stygaze.omnihead.inference import sliding_window_predict

    pred = sliding_window_predict(model, frames, batch_size=batch_size, stride=stride)
    return RecognizedVideo(
        saccade=pred.saccade, blink=pred.blink, gesture=pred.gesture, gaze=pred.gaze, features=pred.clip_dynamics, mean_features=pred.clip_features
    )


def recognise_motions(
    model: Any,
    motions: Sequence[Any],
    renderer: Callable[[Any], np.ndarray] | None = None,
    stride: int = 4,
    progress: bool = False,
) -> list[RecognizedVideo]:
    """Render each :class:`~stygaze.motion.Motion` and recognise it."""
    from tqdm import tqdm

    render = renderer or default_renderer(model.config.img_size)
    out = []
    for motion in tqdm(motions, desc="recognise", disable=not progress, leave=False):
        out.append(recognise(model, render(motion), stride=stride))
    return out


def perceptual_report_from_recognized(pred: Sequence[RecognizedVideo], gt: Sequence[RecognizedVideo], fps: float = FPS) -> PerceptualReport:
    """Build the report from already-recognised videos (see :func:`perceptual_report`)."""
    sp = behaviour_stats([r.saccade for r in pred], [r.blink for r in pred], [r.gesture for r in pred], fps)
    sg = behaviour_stats([r.saccade for r in gt], [r.blink for r in gt], [r.gesture for r in gt], fps)
    fa = np.concatenate([r.features for r in pred], 0)
    fb = np.concatenate([r.features for r in gt], 0)
    fm = float("nan")
    if all(r.mean_features is not None for r in list(pred) + list(gt)):
        fm = frechet_distance(np.concatenate([r.mean_features for r in pred], 0), np.concatenate([r.mean_features for r in gt], 0))
    return PerceptualReport(
        pred=sp, gt=sg, diff=compare_stats(sp, sg), frechet=frechet_distance(fa, fb), num_windows=(len(fa), len(fb)), frechet_mean=fm
    )


def perceptual_report(
    pred_motions: Sequence[Any],
    gt_motions: Sequence[Any],
    model: Any = None,
    renderer: Callable[[Any], np.ndarray] | None = None,
    stride: int = 4,
    progress: bool = False,
) -> PerceptualReport:
    """Render predicted and reference motions identically, recognise them, compare.

    Args:
        pred_motions, gt_motions: lists of :class:`~stygaze.motion.Motion` (25 fps).
        model: an :class:`~stygaze.omnihead.model.OmniHead` (default: the shipped tiny recognizer).
        renderer: ``Motion → (T, S, S, 3) uint8`` at the model's input size (default: the
            procedural head with the training camera).
        stride: frames kept per window (1 = the exact centre-frame protocol; 4 is 4× faster).
    """
    from stygaze.omnihead.model import load_omnihead

    model = model if model is not None else load_omnihead()
    rp = recognise_motions(model, pred_motions, renderer, stride, progress)
    rg = recognise_motions(model, gt_motions, renderer, stride, progress)
    report = perceptual_report_from_recognized(rp, rg)
    report.meta = {"img_size": model.config.img_size, "num_frames": model.config.num_frames, "stride": stride}
    return report


def perceptual_eval_pairs(pairs: Sequence[Any], recognizer: Any = None, stride: int = 4, size: int | None = None, progress: bool = False) -> PerceptualReport:
    """``stygaze eval --perceptual``: the report for paired motion files.

    Args:
        pairs: objects with ``.pred`` and ``.gt`` motion paths (``stygaze.eval.files.pair_paths``);
            both motions of a pair are cut to the shorter length.
        recognizer: OmniHead checkpoint folder (default: the shipped tiny recognizer).
        stride: frames kept per recognizer window (1 = exact centre-frame protocol).
        size: render size (default: the recognizer's input size).
    """
    from stygaze.omnihead.model import load_omnihead

    model = load_omnihead(recognizer)
    renderer = default_renderer(size or model.config.img_size)
    preds, gts = [], []
    for pair in pairs:
        pred, gt = Motion.load(pair.pred, allow_nan=False), Motion.load(pair.gt)
        n = min(len(pred), len(gt))
        preds.append(pred.slice(0, n))
        gts.append(gt.slice(0, n))
    rp = recognise_motions(model, preds, renderer, stride, progress)
    rg = recognise_motions(model, gts, renderer, stride, progress)
    report = perceptual_report_from_recognized(rp, rg)
    report.meta = {"recognizer": str(recognizer or "built-in tiny"), "img_size": model.config.img_size, "stride": stride, "clips": len(preds)}
    return report
