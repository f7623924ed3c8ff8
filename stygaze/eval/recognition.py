"""Recognizer metrics (OmniHead §5.1, CCDb-HG protocol): frame/event F1, angular error, CCC.

Labels are per-frame integer class ids ``(T,)``; ``background`` (default 0, "none") is the
class that events are cut out of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _labels(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"{name} must be (T,) integer labels, got shape {x.shape}")
    if x.size and not np.issubdtype(x.dtype, np.integer):
        if not np.all(np.isfinite(x)) or not np.all(x == np.round(x)):
            raise ValueError(f"{name} must hold integer class ids")
    return x.astype(np.int64)


def frame_f1(
    pred: np.ndarray,
    gt: np.ndarray,
    *,
    average: str = "macro",
    labels: Sequence[int] | None = None,
) -> float:
    """Frame-level F1 of per-frame class labels; higher is better (0..1).

    Args:
        pred, gt: ``(T,)`` integer class ids.
        average: ``"macro"`` (mean of per-class F1 = 2TP/(2TP+FP+FN)) or ``"micro"``
            (pooled TP/FP/FN over ``labels``; equals accuracy when ``labels`` covers every class).
        labels: classes to score (default: every class present in ``gt`` or ``pred``).
            Pass e.g. ``labels=[1, 2, 3]`` to leave the background class out.

    Returns:
        F1; NaN when ``labels`` is empty.
    """
    p, g = _labels(pred, "pred"), _labels(gt, "gt")
    if p.shape != g.shape:
        raise ValueError(f"pred and gt must have the same length, got {p.shape} and {g.shape}")
    classes = np.union1d(np.unique(p), np.unique(g)) if labels is None else np.asarray(list(labels), np.int64)
    if classes.size == 0:
        return float("nan")
    tp = np.array([np.sum((p == c) & (g == c)) for c in classes], np.float64)
    fp = np.array([np.sum((p == c) & (g != c)) for c in classes], np.float64)
    fn = np.array([np.sum((p != c) & (g == c)) for c in classes], np.float64)
    if average == "micro":
        den = 2 * tp.sum() + fp.sum() + fn.sum()
        return float(2 * tp.sum() / den) if den > 0 else float("nan")
    if average == "macro":
        den = 2 * tp + fp + fn
        f1 = np.where(den > 0, 2 * tp / np.where(den > 0, den, 1.0), 0.0)
        return float(f1.mean())
    raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")


def smooth_labels(labels: np.ndarray, window: int = 11) -> np.ndarray:
    """Majority vote over a centred window of ``window`` frames (clipped at the ends).

    Ties keep the centre frame's label when it is among the most frequent, else the
    smallest tied label.
    """
    x = _labels(labels, "labels")
    if window <= 1 or x.size == 0:
        return x.copy()
    classes, inv = np.unique(x, return_inverse=True)
    onehot = np.zeros((x.size + 1, classes.size), np.float64)
    onehot[np.arange(1, x.size + 1), inv] = 1.0
    csum = np.cumsum(onehot, axis=0)  # csum[i] = counts of x[:i]
    half = window // 2
    t = np.arange(x.size)
    lo = np.clip(t - half, 0, x.size)
    hi = np.clip(t + window - half, 0, x.size)
    counts = csum[hi] - csum[lo]
    counts[t, inv] += 0.5  # tie-break towards the centre label
    return classes[np.argmax(counts, axis=1)]


def label_events(labels: np.ndarray, background: int = 0) -> np.ndarray:
    """Runs of one non-background label: ``(K, 3)`` int64 ``[onset, offset, label]`` (offset exclusive)."""
    x = _labels(labels, "labels")
    if x.size == 0:
        return np.zeros((0, 3), np.int64)
    change = np.flatnonzero(np.diff(x)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [x.size]])
    lab = x[starts]
    keep = lab != background
    return np.stack([starts[keep], ends[keep], lab[keep]], axis=1).astype(np.int64)


def drop_short_events(labels: np.ndarray, max_frames: int = 5, background: int = 0) -> np.ndarray:
    """Set events of at most ``max_frames`` frames to ``background``."""
    x = _labels(labels, "labels").copy()
    for on, off, _ in label_events(x, background):
        if off - on <= max_frames:
            x[on:off] = background
    return x


@dataclass(frozen=True)
class EventScores:
    """Event-level precision, recall and F1 at one overlap threshold (each 0..1, higher is better)."""

    precision: float
    recall: float
    f1: float
    num_pred: int
    num_gt: int


def _overlap_f1(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise overlap-F1 ``2|I| / (|A| + |B|)`` of events ``a`` (K, 3) and ``b`` (L, 3), same label only."""
    inter = np.clip(np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    size = (a[:, None, 1] - a[:, None, 0]) + (b[None, :, 1] - b[None, :, 0])
    ov = 2.0 * inter / np.maximum(size, 1)
    return np.where(a[:, None, 2] == b[None, :, 2], ov, 0.0)


def event_scores(
    pred: np.ndarray,
    gt: np.ndarray,
    threshold: float = 0.1,
    *,
    background: int = 0,
    smooth: int | None = None,
    drop_short: int = 0,
) -> EventScores:
    """Event precision/recall/F1 (CCDb-HG protocol); see :func:`event_f1`."""
    p, g = _labels(pred, "pred"), _labels(gt, "gt")
    if p.shape != g.shape:
        raise ValueError(f"pred and gt must have the same length, got {p.shape} and {g.shape}")
    if smooth:
        p = smooth_labels(p, smooth)
    if drop_short:
        p = drop_short_events(p, drop_short, background)
    ep, eg = label_events(p, background), label_events(g, background)
    if len(ep) == 0 and len(eg) == 0:
        return EventScores(float("nan"), float("nan"), float("nan"), 0, 0)
    ov = _overlap_f1(ep, eg) if len(ep) and len(eg) else np.zeros((len(ep), len(eg)))
    hit = ov >= threshold
    precision = float(hit.any(axis=1).mean()) if len(ep) else 0.0
    recall = float(hit.any(axis=0).mean()) if len(eg) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return EventScores(precision, recall, float(f1), len(ep), len(eg))


def event_f1(
    pred: np.ndarray,
    gt: np.ndarray,
    threshold: float = 0.1,
    *,
    background: int = 0,
    smooth: int | None = None,
    drop_short: int = 0,
) -> float:
    """Event-level F1 of per-frame labels; higher is better (0..1).

    Events are runs of one non-background label. A predicted event is correct when a
    ground-truth event of the same label overlaps it with overlap-F1 ``2|I|/(|P|+|G|) ≥
    threshold`` (the protocol reports 0.1, 0.25 and 0.5); recall counts ground-truth events
    matched the same way from the ground-truth side. F1 = 2PR/(P+R).

    Args:
        pred, gt: ``(T,)`` integer class ids.
        threshold: overlap-F1 threshold (default 0.1).
        background: the "no event" class (default 0).
        smooth: majority-vote window applied to ``pred`` first (the protocol uses 11 for
            head gestures; default: none).
        drop_short: predicted events of at most this many frames are dropped after smoothing
            (the protocol uses 5; default 0 = keep all).

    Returns:
        F1; 0 when only one side has events, NaN when neither has any.
    """
    return event_scores(pred, gt, threshold, background=background, smooth=smooth, drop_short=drop_short).f1


def pooled_event_scores(preds, gts, threshold: float = 0.1, **kw) -> tuple[float, float, float]:
    """Event precision, recall and F1 over several clips/sessions, matched and total event counts pooled.

    Args:
        preds, gts: sequences of ``(T_i,)`` integer label arrays (pairs of equal length).
        threshold: overlap-F1 threshold; ``kw`` as :func:`event_scores`.

    Returns:
        ``(precision, recall, f1)``; F1 is 0 when either is 0.
    """
    tp_p = n_p = tp_g = n_g = 0.0
    for p, g in zip(preds, gts):
        s = event_scores(p, g, threshold, **kw)
        if s.num_pred:
            tp_p += s.precision * s.num_pred
        if s.num_gt:
            tp_g += s.recall * s.num_gt
        n_p += s.num_pred
        n_g += s.num_gt
    prec = tp_p / n_p if n_p else 0.0
    rec = tp_g / n_g if n_g else 0.0
    return float(prec), float(rec), float(2 * prec * rec / (prec + rec)) if prec + rec > 0 else 0.0


def pooled_event_f1(preds, gts, threshold: float = 0.1, **kw) -> float:
    """Event F1 of :func:`pooled_event_scores` (counts pooled over the clips/sessions)."""
    return pooled_event_scores(preds, gts, threshold, **kw)[2]


def angular_error_deg(pred: np.ndarray, gt: np.ndarray, *, reduction: str = "mean") -> float | np.ndarray:
    """Angle between 3-D gaze directions in degrees; lower is better.

    Args:
        pred, gt: ``(..., 3)`` direction vectors (need not be unit length).
        reduction: ``"mean"`` (default; NaN rows and zero vectors left out) or ``"none"``
            for the ``(...)`` array of per-vector errors.
    """
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    if p.shape != g.shape or p.shape[-1:] != (3,):
        raise ValueError(f"pred and gt must be (..., 3) arrays of the same shape, got {p.shape} and {g.shape}")
    # atan2(|p×g|, p·g) is accurate for tiny and near-180° angles, unlike arccos of the dot product
    cross = np.linalg.norm(np.cross(p, g), axis=-1)
    dot = np.sum(p * g, axis=-1)
    err = np.rad2deg(np.arctan2(cross, dot))
    zero = (np.linalg.norm(p, axis=-1) == 0) | (np.linalg.norm(g, axis=-1) == 0)
    err = np.where(zero, np.nan, err)
    if reduction == "none":
        return err
    if reduction == "mean":
        return float(np.nanmean(err)) if np.isfinite(err).any() else float("nan")
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def ccc(pred: np.ndarray, gt: np.ndarray) -> float:
    """Lin's concordance correlation coefficient in −1..1; higher is better.

    ``2·cov(x, y) / (var x + var y + (mean x − mean y)²)`` with population (1/N) moments;
    pairs with a NaN are left out. NaN when fewer than 2 pairs are left, or when both
    series are the same constant (zero denominator).
    """
    x = np.asarray(pred, dtype=np.float64).reshape(-1)
    y = np.asarray(gt, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"pred and gt must have the same size, got {x.size} and {y.size}")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 2:
        return float("nan")
    mx, my = x.mean(), y.mean()
    cov = np.mean((x - mx) * (y - my))
    den = x.var() + y.var() + (mx - my) ** 2
    return float(2 * cov / den) if den > 0 else float("nan")
