"""Motion kinematics shared by the style statistics and the realism measures: the smoothing before any speed."""

from __future__ import annotations

import numpy as np

SMOOTH_FRAMES = 5
"""Default moving-average width (frames at 25 fps) applied before any speed."""


def smooth(x: np.ndarray, frames: int = SMOOTH_FRAMES) -> np.ndarray:
    """Centred moving average over ``frames`` (odd ≥ 1) frames; NaN where the window touches NaN.

    The first and last ``frames // 2`` frames are NaN (no full window).
    """
    x = np.asarray(x, dtype=np.float64)
    k = int(frames)
    if k < 1 or k % 2 == 0:
        raise ValueError(f"smoothing width must be an odd number of frames >= 1, got {frames}")
    if k == 1:
        return x.copy()
    out = np.full_like(x, np.nan)
    if len(x) < k:
        return out
    c = np.cumsum(np.vstack([np.zeros((1,) + x.shape[1:]), x]), axis=0)
    out[k // 2 : len(x) - k // 2] = (c[k:] - c[:-k]) / k
    return out


def std_and_speed(x: np.ndarray, fps: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel standard deviation around the mean and mean absolute velocity after
    :func:`smooth` (units per second) of ``(T, C)``; frames with NaN are skipped (zeros when
    too few are left)."""
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x).all(axis=1)
    std = x[ok].std(axis=0) if ok.sum() >= 2 else np.zeros(x.shape[1])
    v = np.abs(np.diff(smooth(x), axis=0)) * fps
    v = v[np.isfinite(v).all(axis=1)]
    speed = v.mean(axis=0) if len(v) else np.zeros(x.shape[1])
    return std, speed
