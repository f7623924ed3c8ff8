"""Frame metrics of StyGazeTalk Table II: MAE, Vel, MEE (lower is better for all three).

Inputs are ``(T, C)`` arrays in degrees at the same frame rate (stygaze: 25 fps). The
``channels`` argument selects a group: :data:`ALL` (the 7 motion channels), :data:`GAZE`
(the 4 eye-in-head channels) or :data:`HEAD` (pitch, yaw, roll); ``None`` uses every column.
NaN (tracker loss) entries are left out of the means; a metric with nothing left is NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ALL: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
"""All 7 motion channels."""
GAZE: tuple[int, ...] = (3, 4, 5, 6)
"""Eye-in-head channels (l_pitch, l_yaw, r_pitch, r_yaw)."""
HEAD: tuple[int, ...] = (0, 1, 2)
"""Head channels (pitch, yaw, roll)."""

GROUPS: dict[str, tuple[int, ...]] = {"all": ALL, "gaze": GAZE, "head": HEAD}


def _pair(pred: np.ndarray, gt: np.ndarray, channels: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.ndim == 1:
        pred = pred[:, None]
    if gt.ndim == 1:
        gt = gt[:, None]
    if pred.shape != gt.shape or pred.ndim != 2:
        raise ValueError(f"pred and gt must be (T, C) arrays of the same shape, got {pred.shape} and {gt.shape}")
    if channels is not None:
        idx = list(channels)
        pred, gt = pred[:, idx], gt[:, idx]
    return pred, gt


def _nanmean(x: np.ndarray) -> float:
    return float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")


def mae(pred: np.ndarray, gt: np.ndarray, channels: Sequence[int] | None = None) -> float:
    """Mean absolute error ``mean |x̂ − x|`` over frames and channels, in degrees. Lower is better."""
    p, g = _pair(pred, gt, channels)
    return _nanmean(np.abs(p - g))


def vel_error(pred: np.ndarray, gt: np.ndarray, channels: Sequence[int] | None = None) -> float:
    """Velocity error ``mean |Δx̂ − Δx|`` over frame steps and channels, in degrees/frame. Lower is better."""
    p, g = _pair(pred, gt, channels)
    return _nanmean(np.abs(np.diff(p, axis=0) - np.diff(g, axis=0)))


def motion_energy(x: np.ndarray, channels: Sequence[int] | None = None) -> float:
    """Motion energy ``E(x) = mean_t ‖Δx_t‖²`` (sum over the group's channels), deg²/frame².

    Frame steps with a NaN channel are left out.
    """
    x, _ = _pair(x, x, channels)
    sq = np.sum(np.diff(x, axis=0) ** 2, axis=1)  # (T-1,), NaN if any channel is NaN
    return _nanmean(sq)


def motion_energy_error(pred: np.ndarray, gt: np.ndarray, channels: Sequence[int] | None = None) -> float:
    """Motion energy error (MEE) ``|E(x̂) − E(x)|`` in deg²/frame² (our reading of the paper). Lower is better."""
    p, g = _pair(pred, gt, channels)
    return float(abs(motion_energy(p) - motion_energy(g)))
