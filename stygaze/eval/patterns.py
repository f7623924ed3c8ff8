"""Gaze-pattern metrics of StyGazeTalk Table IV: FixRatio, CompScore, Sim.

All velocities are **degrees per frame** (REFERENCE: the paper's CompScore ≈ −0.34 only fits
per-frame velocities at 25 fps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from stygaze.eval.idt import events_to_mask, idt_fixations, min_samples_for

if TYPE_CHECKING:  # pragma: no cover
    from stygaze.motion import Motion


def gaze_signal(motion: Motion, signal: str = "world") -> np.ndarray:
    """``(T, 2)`` (x, y) = (yaw, pitch) in degrees of the signal I-DT runs on.

    ``signal="world"``: world gaze, head ∘ mean eye (rotation composition, via
    :meth:`Motion.world_gaze_angles`); ``signal="eye"``: mean eye-in-head angles.
    """
    if signal == "world":
        pitch_yaw = motion.world_gaze_angles()
    elif signal == "eye":
        pitch_yaw = motion.mean_eye.astype(np.float64)
    else:
        raise ValueError(f"signal must be 'world' or 'eye', got {signal!r}")
    return np.stack([pitch_yaw[:, 1], pitch_yaw[:, 0]], axis=1)


@dataclass(frozen=True)
class FixationStats:
    """I-DT result on one motion clip.

    Attributes:
        events: ``(K, 2)`` int64 half-open ``[onset, offset)`` frame ranges.
        mask: ``(T,)`` bool, True on fixation frames.
        valid: ``(T,)`` bool, True where the gaze signal is not NaN.
    """

    events: np.ndarray
    mask: np.ndarray
    valid: np.ndarray

    @property
    def num_fixation(self) -> int:
        return int(self.mask.sum())

    @property
    def num_valid(self) -> int:
        return int(self.valid.sum())

    @property
    def ratio(self) -> float:
        """Fixation samples / valid samples (NaN when no sample is valid)."""
        return self.num_fixation / self.num_valid if self.num_valid else float("nan")


def fixation_stats(
    motion: Motion,
    *,
    signal: str = "world",
    dispersion_deg: float = 1.0,
    min_duration_s: float = 0.1,
) -> FixationStats:
    """Run I-DT on ``motion`` (see :func:`fix_ratio` for the arguments)."""
    xy = gaze_signal(motion, signal)
    events = idt_fixations(xy[:, 0], xy[:, 1], dispersion_deg, min_samples_for(motion.fps, min_duration_s))
    return FixationStats(events, events_to_mask(events, len(xy)), np.isfinite(xy).all(axis=1))


def fix_ratio(
    motion: Motion,
    *,
    signal: str = "world",
    dispersion_deg: float = 1.0,
    min_duration_s: float = 0.1,
) -> float:
    """FixRatio = fixation samples / (fixation + non-fixation samples), in 0..1.

    Not a higher-is-better score: compare it with the ground truth (the paper's GT is
    0.6113). Fixations come from I-DT on world gaze (head ∘ mean eye) as (yaw, pitch)
    degrees, or on the mean eye-in-head angles with ``signal="eye"``. NaN (tracker loss)
    samples count as neither. Returns NaN when every sample is NaN.

    Args:
        motion: the clip (any fps; the minimum duration is converted to samples).
        signal: ``"world"`` (default) or ``"eye"``.
        dispersion_deg: I-DT dispersion threshold in degrees (default 1.0).
        min_duration_s: minimum fixation duration in seconds (default 0.1 → 3 frames at 25 fps).
    """
    return fixation_stats(motion, signal=signal, dispersion_deg=dispersion_deg, min_duration_s=min_duration_s).ratio


@dataclass(frozen=True)
class CompStats:
    """Per-frame compensation scores: ``scores`` (T−1,) with NaN where a velocity is NaN."""

    scores: np.ndarray

    @property
    def num_valid(self) -> int:
        return int(np.isfinite(self.scores).sum())

    @property
    def mean(self) -> float:
        return float(np.nanmean(self.scores)) if self.num_valid else float("nan")


def comp_scores(
    motion: Motion,
    *,
    small_gaze: float = 20.0,
    large_gaze: tuple[float, float] = (25.0, 90.0),
) -> CompStats:
    """Per-frame eye–head compensation scores (see :func:`comp_score`)."""
    data = motion.data.astype(np.float64)
    head = np.diff(data[:, 0:2], axis=0)  # (T-1, 2) head (pitch, yaw) velocity, deg/frame
    eye = np.diff(0.5 * (data[:, 3:5] + data[:, 5:7]), axis=0)  # (T-1, 2) mean eye-in-head velocity
    gaze = head + eye
    h_norm = np.linalg.norm(head, axis=1)
    e_norm = np.linalg.norm(eye, axis=1)
    g_norm = np.linalg.norm(gaze, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.einsum("ti,ti->t", head, eye) / (h_norm * e_norm)
    cos = np.where((h_norm > 0) & (e_norm > 0), cos, 0.0)
    scores = np.zeros(len(g_norm))
    small = g_norm < small_gaze
    large = (g_norm >= large_gaze[0]) & (g_norm <= large_gaze[1])
    scores[small] = -h_norm[small]
    scores[large] = -cos[large]
    scores[~np.isfinite(g_norm)] = np.nan
    return CompStats(scores)


def comp_score(
    motion: Motion,
    *,
    small_gaze: float = 20.0,
    large_gaze: tuple[float, float] = (25.0, 90.0),
) -> float:
    """CompScore (after Freedman & Sparks 1997): mean eye–head compensation score.

    With h̃_t the head (pitch, yaw) velocity, ẽ_t the mean eye-in-head (pitch, yaw)
    velocity and g_t = ẽ_t + h̃_t (all degrees per frame)::

        Score_t = −‖h̃_t‖            if ‖g_t‖ < small_gaze (20)
                  −cos θ(h̃_t, ẽ_t)   if 25 ≤ ‖g_t‖ ≤ 90 (0 when either velocity is zero)
                  0                  otherwise

    CompScore is the mean over the T−1 frame steps; steps touching a NaN frame are left out
    (NaN when none is left). Not higher-is-better: compare with the ground truth (the paper's
    GT is −0.3366). Units: deg/frame in the first branch, unitless in the second.
    """
    return comp_scores(motion, small_gaze=small_gaze, large_gaze=large_gaze).mean


def sim_score(fix_gt: float, fix_pred: float, comp_gt: float, comp_pred: float) -> float:
    """Sim = 1 − (|Fix_GT − Fix_pred| + |Comp_GT − Comp_pred|); higher is better (1 = identical).

    ``fix_*`` are fixation ratios as fractions in 0..1 (not percent), ``comp_*`` CompScores.
    """
    return float(1.0 - (abs(fix_gt - fix_pred) + abs(comp_gt - comp_pred)))
