"""Style statistics matching: bring a generated head to a reference clip's amplitude and speed.

The generator reads a reference's head statistics beside its learned style but follows them
only part of the way (its training corpus spans a narrower range than real speakers). This
stage finishes the job after generation, with the measures :mod:`stygaze.eval.realism` uses
on any recording: per-axis standard deviation around the clip's mean pose, and per-axis mean
absolute velocity after a 5-frame moving average.

One gain per axis cannot set both (scaling multiplies both by the same factor), so the head is
split into a slow band (a centred :data:`SLOW_S` moving average: posture and drift, which
carry most of the amplitude) and the fast rest (nods and turns, which carry most of the
speed), and the two bands get their own gains, found by a few alternating updates (speed ->
fast gain, amplitude -> slow gain), each within ``[1 / limit, limit]``. The mean pose and the
timing of every movement stay the generator's. Scaling a single large turn by the same gains
would make it implausibly large, so deviations from the mean pose beyond :data:`KNEE` target
standard deviations are compressed smoothly towards :data:`SOFT_LIMIT` of them, inside the same
updates.
"""

from __future__ import annotations

import numpy as np

from stygaze.features.kinematics import smooth, std_and_speed

HEAD_STATS: tuple[str, ...] = ("log_std_pitch", "log_std_yaw", "log_std_roll", "log_speed_pitch", "log_speed_yaw", "log_speed_roll")
"""What :func:`head_statistics` returns, in order (natural logs of degrees and degrees per second)."""
FLOOR = 0.05
"""Smallest standard deviation (degrees) / speed (degrees per second) before the log."""
SLOW_S = 2.0
"""Width of the moving average that separates the slow band from the fast one (seconds)."""
GAIN_LIMIT = 8.0
"""Largest factor (and smallest, its inverse) a band is scaled by."""
MIN_FRAMES = 25
"""Shortest clip (frames) whose statistics are measured and matched."""
KNEE = 2.5
"""Deviations from the mean pose up to this many target standard deviations are left as they are."""
SOFT_LIMIT = 4.0
"""Larger deviations approach this many target standard deviations and never pass it."""


def head_statistics(motion: np.ndarray, fps: float = 25.0) -> np.ndarray:
    """A clip ``(T, 3+)`` degrees (head first) -> ``(6,)`` :data:`HEAD_STATS`, floored at :data:`FLOOR`.

    Raises:
        ValueError: fewer than :data:`MIN_FRAMES` frames without NaN.
    """
    head = np.asarray(motion, dtype=np.float64)[:, :3]
    if int(np.isfinite(head).all(axis=1).sum()) < MIN_FRAMES:
        raise ValueError(f"head statistics need at least {MIN_FRAMES} valid frames")
    return log_statistics(head, fps).astype(np.float32)


def log_statistics(motion: np.ndarray, fps: float = 25.0) -> np.ndarray:
    """``(T, 3+)`` degrees (head first) -> ``(6,)`` :data:`HEAD_STATS` as float64, however few the
    frames (NaN frames skipped; the floor where too few are left)."""
    std, speed = std_and_speed(np.asarray(motion, dtype=np.float64)[:, :3], fps)
    return np.log(np.maximum(np.r_[std, speed], FLOOR))


def _slow(head: np.ndarray, frames: int) -> np.ndarray:
    """Centred moving average of ``(T, 3)`` over ``frames`` (odd), the edges padded with the end values."""
    half = frames // 2
    return smooth(np.pad(head, ((half, half), (0, 0)), mode="edge"), frames)[half : half + len(head)]


def match_head(head: np.ndarray, target: np.ndarray, fps: float = 25.0, limit: float = GAIN_LIMIT,
               iterations: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Scale a generated head ``(T, 3)`` (degrees, no NaN) towards ``target`` :data:`HEAD_STATS`.

    Returns:
        ``(head, gains)``: the matched head ``(T, 3)`` and the ``(2, 3)`` band gains (slow, fast)
        per axis. A clip shorter than :data:`MIN_FRAMES` comes back unchanged (gains 1).
    """
    head = np.asarray(head, dtype=np.float64)
    gains = np.ones((2, 3))
    if len(head) < MIN_FRAMES or not np.isfinite(head).all():
        return head.astype(np.float32), gains
    t_std, t_speed = np.exp(np.asarray(target, dtype=np.float64).reshape(2, 3))
    centre = head.mean(axis=0)
    frames = max(1, int(round(SLOW_S * fps))) | 1
    slow = _slow(head - centre, frames)
    fast = head - centre - slow
    lo, hi = 1.0 / limit, limit
    knee, room = KNEE * t_std, (SOFT_LIMIT - KNEE) * t_std

    def combine(g: np.ndarray) -> np.ndarray:
        x = g[0] * slow + g[1] * fast
        over = np.maximum(np.abs(x) - knee, 0.0)
        x = np.sign(x) * (np.minimum(np.abs(x), knee) + room * np.tanh(over / room))
        return x - x.mean(axis=0)  # neither the band split nor the limit is exactly zero-mean: keep the mean pose

    for _ in range(iterations):
        std, speed = std_and_speed(combine(gains), fps)
        gains[1] = np.clip(gains[1] * t_speed / np.maximum(speed, 1e-9), lo, hi)
        std, speed = std_and_speed(combine(gains), fps)
        gains[0] = np.clip(gains[0] * t_std / np.maximum(std, 1e-9), lo, hi)
    return (centre + combine(gains)).astype(np.float32), gains.astype(np.float32)
