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
