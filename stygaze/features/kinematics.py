"""Motion kinematics shared by the generator's stages and the metrics: the smoothing before any
speed, per-frame speed and its minima (the "motion beats" of the beat alignment score)."""

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


def frame_speed(x: np.ndarray) -> np.ndarray:
    """``(T−1,)`` speed ``‖x[t+1] − x[t]‖`` (units per frame) of ``x`` (T, C) or (T,).

    Steps touching NaN frames are filled by linear interpolation from their neighbours
    (all-NaN → empty).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    speed = np.linalg.norm(np.diff(x, axis=0), axis=1)
    bad = ~np.isfinite(speed)
    if bad.all():
        return np.zeros(0)
    if bad.any():
        idx = np.arange(len(speed))
        speed[bad] = np.interp(idx[bad], idx[~bad], speed[~bad])
    return speed


def speed_minima(x: np.ndarray, sigma: float = 5.0) -> np.ndarray:
    """Local minima of :func:`frame_speed` smoothed by a Gaussian of ``sigma`` frames.

    Index ``t`` is the step from frame ``t`` to ``t + 1``: where a movement ends and the next
    one starts (the turning point of a nod, the end of a turn).

    Returns:
        ``(B,)`` int64 step indices: strictly lower than both neighbours (what
        ``scipy.signal.argrelextrema(·, np.less)`` returns, without importing scipy.signal).
    """
    from scipy.ndimage import gaussian_filter1d

    speed = frame_speed(x)
    if len(speed) < 3:
        return np.zeros(0, np.int64)
    s = gaussian_filter1d(speed, sigma) if sigma > 0 else speed
    return (np.flatnonzero((s[1:-1] < s[:-2]) & (s[1:-1] < s[2:])) + 1).astype(np.int64)
