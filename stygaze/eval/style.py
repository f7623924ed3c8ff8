"""Style error hook (StyGazeTalk's CE): ``1 − cos(SE(x), SE(x̂))`` averaged over windows.

The style encoder is passed in as a function, so this module needs no model code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def motion_windows(x: np.ndarray, window: int = 100, hop: int | None = None) -> np.ndarray:
    """``(N, W, C)`` windows of ``x`` (T, C) starting at 0, hop, 2·hop, … (hop defaults to W).

    A clip shorter than ``window`` gives one window of the whole clip (W = T).
    """
    x = np.asarray(x)
    hop = window if hop is None else int(hop)
    if window < 1 or hop < 1:
        raise ValueError(f"window and hop must be positive, got {window}, {hop}")
    T = x.shape[0]
    if T <= window:
        return x[None]
    starts = np.arange(0, T - window + 1, hop)
    return np.stack([x[s : s + window] for s in starts])


def style_error(
    embed_fn: Callable[[np.ndarray], np.ndarray],
    pred: np.ndarray,
    gt: np.ndarray,
    window: int = 100,
    hop: int | None = None,
) -> float:
    """Style error: mean over aligned windows of ``1 − cos(embed(gt_w), embed(pred_w))``.

    Lower is better (0 = same style direction, up to 2).

    Args:
        embed_fn: maps windows ``(N, W, 7)`` float32 degrees to style vectors ``(N, d)``
            (e.g. a trained style encoder wrapped to numpy).
        pred, gt: ``(T, 7)`` motion in degrees, same length.
        window: window length in frames (default 100 = 4 s at 25 fps, the style encoder's).
        hop: window step in frames (default: ``window``, no overlap).

    Windows containing NaN in either clip are skipped; NaN when none is left.
    """
    pred = np.asarray(pred, dtype=np.float32)
    gt = np.asarray(gt, dtype=np.float32)
    if pred.shape != gt.shape:
        raise ValueError(f"pred and gt must have the same shape, got {pred.shape} and {gt.shape}")
    wp, wg = motion_windows(pred, window, hop), motion_windows(gt, window, hop)
    keep = np.isfinite(wp).all(axis=(1, 2)) & np.isfinite(wg).all(axis=(1, 2))
    if not keep.any():
        return float("nan")
    ep = np.asarray(embed_fn(wp[keep]), dtype=np.float64)
    eg = np.asarray(embed_fn(wg[keep]), dtype=np.float64)
    if ep.shape != eg.shape or ep.ndim != 2 or ep.shape[0] != int(keep.sum()):
        raise ValueError(f"embed_fn must map (N, W, C) to (N, d), got {ep.shape} for N={int(keep.sum())}")
    num = np.sum(ep * eg, axis=1)
    den = np.linalg.norm(ep, axis=1) * np.linalg.norm(eg, axis=1)
    cos = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return float(np.mean(1.0 - cos))
