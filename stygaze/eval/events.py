"""Fixations and saccades of a gaze track, and distributions of gaze behaviour built from them.

Input everywhere is a gaze track ``xy`` ``(T, 2)`` = (x, y) in degrees (for stygaze: world
gaze (yaw, pitch) from :func:`stygaze.eval.patterns.gaze_signal`; for screen eye tracking:
horizontal, vertical angle) sampled at ``fps`` Hz, NaN = tracker loss.

Detectors (pure numpy, plus the numba I-DT kernel of :mod:`stygaze.eval.idt`):

* :class:`IDTConfig`: I-DT (Salvucci & Goldberg 2000), summed or per-axis dispersion,
  minimum duration in milliseconds, optionally run after linear resampling to another rate.
* :class:`IVTConfig`: I-VT, a fixed velocity threshold in °/s.
* :class:`AdaptiveConfig`: a velocity threshold that adapts to the noise of the track, after
  Engbert & Kliegl (2003, *Vision Research* 43:1035–1045): per axis, the velocity spread is
  estimated with the median-based ``σ = sqrt(median(v²) − median(v)²)`` and a step is
  saccadic when ``(v_x / λσ_x)² + (v_y / λσ_y)² > 1``.

Velocity (both velocity detectors) is taken on **frame steps**: the velocity of the step
between samples ``i`` and ``i + 1`` is the least-squares slope of the ``n`` samples centred on
it, ``n = max(2, 2·round(window_ms·fps / 2000))`` (a plain difference ``(x[i+1] − x[i])·fps``
at 25 or 90 Hz; 10 samples at 500 Hz with the default 20 ms). A run of saccadic steps
``a … b−1`` is one saccade from sample ``a`` (take-off) to sample ``b`` (landing); the samples
strictly inside it are labelled saccade. Runs that touch tracker loss or peak above
``max_velocity_deg_s`` (1000 °/s: blinks and tracker glitches, the rule of Nyström &
Holmqvist 2010) are labelled other. Fixations are the runs of samples joined by valid,
non-saccadic steps that last at least the minimum duration; so at 25 fps an instantaneous
jump between two frames ends one fixation at the last frame before it and starts the next
at the first frame after it, and the time of a saccade is its number of steps / fps.

Minimum durations in milliseconds become samples by one stated rule (:func:`min_samples`):
``"samples"`` (default) counts a fixation of ``N`` samples as ``N / fps`` long, so it needs
``N ≥ ceil(ms · fps / 1000)`` (100 ms: 3 frames = 120 ms at 25 fps, 9 samples at 90 Hz);
``"span"`` measures from the first to the last sample, ``(N − 1) / fps ≥ ms / 1000`` (100 ms:
10 samples at 90 Hz, which is what the Dembinsky et al. 2024 fixation table shows: none is
shorter than 10 samples of 11.1 ms).

Sample labels use the coding of Andersson et al. (2017) for the two classes here:
``FIXATION = 1``, ``SACCADE = 2``, ``OTHER = 0`` (tracker loss, blinks, too-short pieces, and
for I-DT everything that is not a fixation).

Behaviour measures (:class:`EventStats`) come from the fixation sequence: fixation
durations (ms), shift amplitudes (distance between consecutive fixation centres, degrees,
``hypot(Δx, Δy)`` as in the Dembinsky table), shifts ≥ 2° per minute, the share of shifts
larger than 6°, and the share of consecutive shifts (both > 2°) that go the same way
(angle between the two shift vectors < 45°). :func:`compare_events` compares a prediction
with ground truth by 1-D Wasserstein distances and summarises them as ``event_sim`` in
[0, 1], higher is better (see there for the normalisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Union

import numpy as np

from stygaze.eval.idt import idt_fixations
from stygaze.motion import resample_frames

OTHER, FIXATION, SACCADE = 0, 1, 2
"""Sample labels (Andersson et al. 2017 coding for fixation and saccade)."""

SHIFT_MIN_DEG: float = 2.0
"""Shifts at least this large count in :attr:`EventStats.shifts_per_min` (degrees)."""
LARGE_SHIFT_DEG: float = 6.0
"""Shifts larger than this count in :attr:`EventStats.large_shift_share` (degrees)."""
SAME_DIRECTION_MIN_DEG: float = 2.0
"""Both shifts of a consecutive pair must be larger than this to enter the direction measure."""
SAME_DIRECTION_MAX_DEG: float = 45.0
"""Two consecutive shifts go "the same direction" when the angle between them is below this."""
TURN_SCALE_DEG: float = 90.0
"""Normaliser of the turn-angle Wasserstein distance (the mean turn of directionless shifts)."""
MAX_VELOCITY_DEG_S: float = 1000.0
"""Saccade candidates peaking above this speed are blinks or tracker glitches (Nyström & Holmqvist 2010)."""
MERGE_DEG: float = 1.0
"""Adaptive detector: consecutive fixations whose centres are closer than this merge (degrees;
Andersson et al. 2017's minimum distance between fixations)."""
MERGE_GAP_MS: float = 75.0
"""... if the gap between them is at most this long (ms; the Tobii I-VT filter's default)."""
DURATION_RULES = ("samples", "span")


# --------------------------------------------------------------------------------------
# configs
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IDTConfig:
    """I-DT settings.

    Attributes:
        dispersion_deg: dispersion threshold (degrees).
        min_duration_ms: minimum fixation duration (milliseconds; see ``duration_rule``).
        per_axis: ``False``: (x range + y range) ≤ threshold (Salvucci & Goldberg, StyGazeTalk);
            ``True``: x range ≤ threshold and y range ≤ threshold.
        duration_rule: ``"samples"`` or ``"span"`` (module docstring, :func:`min_samples`).
        fps: run at this rate after linear resampling (``None``: the track's own rate).
    """

    dispersion_deg: float = 1.0
    min_duration_ms: float = 100.0
    per_axis: bool = False
    duration_rule: str = "samples"
    fps: float | None = None


@dataclass(frozen=True)
class IVTConfig:
    """I-VT settings: a step is saccadic when its speed exceeds ``threshold_deg_s``.

    Attributes:
        threshold_deg_s: speed threshold (°/s).
        window_ms: velocity window (module docstring).
        min_fixation_ms: minimum fixation duration ("samples" rule).
        max_velocity_deg_s: candidates peaking above are labelled other (blink/glitch).
        merge_deg, merge_gap_ms: as in :class:`AdaptiveConfig` (no merging by default).
    """

    threshold_deg_s: float = 30.0
    window_ms: float = 20.0
    min_fixation_ms: float = 55.0
    max_velocity_deg_s: float = MAX_VELOCITY_DEG_S
    merge_deg: float = 0.0
    merge_gap_ms: float = MERGE_GAP_MS


@dataclass(frozen=True)
class AdaptiveConfig:
    """Noise-adaptive velocity threshold (Engbert & Kliegl 2003).

    Per axis ``η = max(λ·σ, min_threshold_deg_s)`` with the median-based ``σ`` of the step
    velocities; a step is saccadic when ``(v_x/η_x)² + (v_y/η_y)² > 1``. The floor keeps a
    noise-free track (synthetic or generated gaze, ``σ ≈ 0``) from calling every slow drift
    a saccade.

    Consecutive fixation pieces closer than ``merge_deg`` (and at most ``merge_gap_ms``
    apart) are one fixation, which absorbs the noise splits a lower λ lets through.

    Attributes:
        vfac: λ, the threshold in units of σ. Engbert & Kliegl use 5–6 at 250–500 Hz; the
            default 4 is for 25 fps tracks, which have 20× fewer steps per second (so fewer
            false alarms per second at the same λ) and whose false splits the merge rule
            absorbs; it resolves 1–2° shifts under 0.2° noise (see ``docs/metrics.md``).
        min_threshold_deg_s: floor of η per axis (°/s).
        window_ms, min_fixation_ms, max_velocity_deg_s: as in :class:`IVTConfig`.
        merge_deg: merge distance (degrees, :data:`MERGE_DEG`; 0 = no merging).
        merge_gap_ms: largest gap between merged pieces (ms, :data:`MERGE_GAP_MS`).
    """

    vfac: float = 4.0
    min_threshold_deg_s: float = 10.0
    window_ms: float = 20.0
    min_fixation_ms: float = 55.0
    max_velocity_deg_s: float = MAX_VELOCITY_DEG_S
    merge_deg: float = MERGE_DEG
    merge_gap_ms: float = MERGE_GAP_MS


Detector = Union[IDTConfig, IVTConfig, AdaptiveConfig]

PRESETS: dict[str, Detector] = {
    # StyGazeTalk Table IV: 1° summed dispersion, 100 ms (3 frames = 120 ms at 25 fps)
    "table4": IDTConfig(1.0, 100.0),
    # Andersson et al. 2017's I-DT parameters (2.7° summed dispersion, 55 ms)
    "andersson_idt": IDTConfig(2.7, 55.0),
    # Dembinsky et al. 2024's fixations of real video calls: x range and y range each
    # ≤ 30 px ≈ 0.72°, ≥ 100 ms first-to-last sample, on ~90 Hz Tobii data; a 25 fps track
    # is linearly upsampled to 90 Hz first so the same detector sees the same sample grid
    "conversation": IDTConfig(0.72, 100.0, per_axis=True, duration_rule="span", fps=90.0),
    "ivt": IVTConfig(),
    # Andersson et al. 2017's I-VT threshold
    "andersson_ivt": IVTConfig(45.36),
    "adaptive": AdaptiveConfig(),
}
"""Named detectors; ``"conversation"`` is the one to measure gaze against the real video calls."""


def get_detector(detector: Detector | str) -> Detector:
    """A detector config, or the :data:`PRESETS` entry of that name (``ValueError`` if unknown)."""
    if isinstance(detector, str):
        if detector not in PRESETS:
            raise ValueError(f"unknown detector preset {detector!r} (known: {', '.join(PRESETS)})")
        return PRESETS[detector]
    if not isinstance(detector, (IDTConfig, IVTConfig, AdaptiveConfig)):
        raise TypeError(f"detector must be a preset name or a detector config, got {type(detector).__name__}")
    return detector


def min_samples(duration_ms: float, fps: float, rule: str = "samples") -> int:
    """Minimum event length in samples for ``duration_ms`` at ``fps`` (module docstring).

    ``"samples"``: ``ceil(ms · fps / 1000)`` (at least 1); ``"span"``: that plus one. A tiny
    tolerance keeps float products such as ``100 · 90 / 1000`` exact.
    """
    if rule not in DURATION_RULES:
        raise ValueError(f"duration_rule must be one of {DURATION_RULES}, got {rule!r}")
    if not (fps > 0 and duration_ms >= 0):
        raise ValueError(f"fps must be positive and duration_ms non-negative, got {fps}, {duration_ms}")
    n = max(1, int(math.ceil(duration_ms * fps / 1000.0 - 1e-9)))
    return n + 1 if rule == "span" else n


# --------------------------------------------------------------------------------------
# detection
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GazeEvents:
    """Events of one gaze track.

    Attributes:
        xy: ``(T, 2)`` float64 degrees, the track the detector ran on (after any resampling).
        fps: its rate (Hz).
        labels: ``(T,)`` int8 :data:`FIXATION` / :data:`SACCADE` / :data:`OTHER`.
        fixations: ``(K, 2)`` int64 half-open sample ranges ``[onset, offset)``.
        saccades: ``(S, 2)`` int64 ``[take-off, landing]`` sample indices (inclusive; the
            saccade's time is ``landing − take-off`` steps); empty for I-DT.
        saccade_steps: number of saccadic frame steps (velocity detectors; 0 for I-DT).
        threshold: ``(2,)`` per-axis velocity threshold used (°/s; NaN for I-DT).
    """

    xy: np.ndarray
    fps: float
    labels: np.ndarray
    fixations: np.ndarray
    saccades: np.ndarray
    saccade_steps: int = 0
    threshold: np.ndarray = field(default_factory=lambda: np.full(2, np.nan))
    velocity_based: bool = False

    @property
    def valid(self) -> np.ndarray:
        """``(T,)`` bool: the sample is not tracker loss."""
        return np.isfinite(self.xy).all(axis=1)

    @property
    def valid_steps(self) -> int:
        """Frame steps between two valid samples."""
        v = self.valid
        return int((v[1:] & v[:-1]).sum())

    @property
    def fixation_share(self) -> float:
        """Fixation samples / valid samples (NaN without valid samples)."""
        n = int(self.valid.sum())
        return float((self.labels == FIXATION).sum() / n) if n else float("nan")

    @property
    def saccade_share(self) -> float:
        """Share of valid frame steps spent in detected saccades (time share, 0..1).

        NaN for I-DT, which detects no saccades (its non-fixation share is StyGazeTalk's
        "saccades": ``1 − fixation_share``).
        """
        n = self.valid_steps
        if not self.velocity_based or n == 0:
            return float("nan")
        return self.saccade_steps / n


def _check_track(xy: np.ndarray, fps: float) -> np.ndarray:
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"xy must have shape (T, 2), got {xy.shape}")
    if np.isinf(xy).any():
        raise ValueError("xy must not contain infinite values (NaN marks tracker loss)")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    return xy


def step_velocity(xy: np.ndarray, fps: float, window_ms: float = 20.0) -> np.ndarray:
    """``(T−1, 2)`` velocity (°/s) of each frame step (module docstring).

    Step ``i`` (between samples ``i`` and ``i+1``) gets the least-squares slope of the ``n``
    samples centred on it (``n`` even, at least 2: a plain difference). The ends repeat the
    first/last sample. A NaN sample makes every step whose window holds it NaN.
    """
    xy = _check_track(xy, fps)
    T = len(xy)
    if T < 2:
        return np.zeros((0, 2))
    n = max(2, 2 * int(round(window_ms * fps / 2000.0)))
    h = n // 2
    k = np.arange(-h + 1, h + 1) - 0.5  # sample offsets from the step's centre
    w = k / np.sum(k * k) * fps
    if h == 1:
        return np.diff(xy, axis=0) * fps
    p = np.pad(xy, ((h - 1, h - 1), (0, 0)), mode="edge")  # (T + 2h − 2, 2)
    # correlate: out[i] = Σ_j w[j] p[i + j]  (np.convolve flips its kernel)
    return np.stack([np.convolve(p[:, c], w[::-1], mode="valid") for c in range(2)], axis=1)


def adaptive_threshold(xy: np.ndarray, fps: float, config: AdaptiveConfig = AdaptiveConfig()) -> np.ndarray:
    """``(2,)`` per-axis threshold ``η = max(λ·σ, floor)`` (°/s) of :class:`AdaptiveConfig`.

    ``σ = sqrt(median(v²) − median(v)²)`` over the valid step velocities per axis
    (Engbert & Kliegl 2003); the floor alone when no step is valid.
    """
    v = step_velocity(xy, fps, config.window_ms)
    ok = np.isfinite(v).all(axis=1)
    floor = float(config.min_threshold_deg_s)
    if not ok.any():
        return np.full(2, floor)
    v = v[ok]
    sigma = np.sqrt(np.maximum(np.median(v * v, axis=0) - np.median(v, axis=0) ** 2, 0.0))
    return np.maximum(config.vfac * sigma, floor)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Half-open ``[start, stop)`` of the True runs of a 1-D bool array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _label_steps(
    xy: np.ndarray,
    saccadic: np.ndarray,
    speed: np.ndarray,
    min_fix: int,
    max_velocity: float,
    merge_deg: float = 0.0,
    merge_gap: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Sample labels, fixations, saccades and saccadic-step count from per-step decisions.

    Args:
        xy: ``(T, 2)`` degrees. saccadic: ``(T−1,)`` bool. speed: ``(T−1,)`` °/s (NaN =
            invalid step). min_fix: minimum fixation samples. max_velocity: °/s.
        merge_deg, merge_gap: consecutive fixation pieces whose centres are closer than
            ``merge_deg`` and that are at most ``merge_gap`` samples apart (no tracker loss
            between) become one fixation, before the minimum duration is applied.
    """
    T = len(xy)
    labels = np.zeros(T, np.int8)
    valid = np.isfinite(xy).all(axis=1)
    ok = np.isfinite(speed)
    saccadic = saccadic & ok
    saccades = []
    noise = np.zeros(T - 1, bool)
    interior = np.zeros(T, bool)  # samples strictly inside a saccade or a noise run
    starts, stops = _runs(saccadic)
    for a, b in zip(starts, stops):  # steps a .. b-1: take-off at sample a, landing at sample b
        interior[a + 1 : b] = True
        touches_loss = (a > 0 and not ok[a - 1]) or (b < T - 1 and not ok[b])
        if touches_loss or np.max(speed[a:b]) > max_velocity:
            noise[a:b] = True  # blink / glitch: neither saccade nor fixation
            continue
        saccades.append((a, b))
    joined = ok & ~saccadic & ~noise  # steps that join two fixation samples
    starts, stops = _runs(joined)
    pieces = [(a, b + 1) for a, b in zip(starts, stops)]  # steps a .. b-1 join samples a .. b
    lone = valid & ~interior  # a valid sample joined to neither neighbour is a piece of its own
    lone[1:] &= ~joined
    lone[:-1] &= ~joined
    pieces = sorted(pieces + [(i, i + 1) for i in np.flatnonzero(lone)])
    if merge_deg > 0 and len(pieces) > 1:
        csum = np.concatenate([np.zeros((1, 2)), np.cumsum(np.where(valid[:, None], xy, 0.0), axis=0)])

        def centre(a: int, b: int) -> np.ndarray:  # mean of samples [a, b), all valid
            return (csum[b] - csum[a]) / (b - a)

        merged = [pieces[0]]
        for a, b in pieces[1:]:
            pa, pb = merged[-1]
            close = np.hypot(*(centre(pa, pb) - centre(a, b))) < merge_deg
            if close and a - pb <= merge_gap and valid[pb:a].all():
                merged[-1] = (pa, b)
            else:
                merged.append((a, b))
        pieces = merged
    fixations = [(a, b) for a, b in pieces if b - a >= min_fix]
    piece_of = np.full(T, -1)
    for k, (a, b) in enumerate(pieces):
        piece_of[a:b] = k
    # a saccade whose take-off and landing ended up in one merged piece is merged away
    saccades = [(a, b) for a, b in saccades if piece_of[a] < 0 or piece_of[a] != piece_of[b]]
    for a, b in saccades:
        labels[a + 1 : b] = SACCADE
    for a, b in fixations:
        labels[a:b] = FIXATION
    return (
        labels,
        np.asarray(fixations, np.int64).reshape(-1, 2),
        np.asarray(saccades, np.int64).reshape(-1, 2),
        int(sum(b - a for a, b in saccades)),
    )


def detect_events(
    xy: np.ndarray,
    fps: float,
    detector: Detector | str = "adaptive",
    *,
    threshold: np.ndarray | None = None,
) -> GazeEvents:
    """Fixations and saccades of a gaze track.

    Args:
        xy: ``(T, 2)`` degrees (x, y), NaN = tracker loss.
        fps: sampling rate (Hz).
        detector: a config or a :data:`PRESETS` name (default ``"adaptive"``).
        threshold: adaptive detector only: use this ``(2,)`` per-axis threshold (°/s)
            instead of the track's own (how :func:`compare_tracks` segments two tracks alike).

    Returns:
        :class:`GazeEvents` at the rate the detector ran at (``detector.fps`` for a
        resampling I-DT, else ``fps``).
    """

    det = get_detector(detector)
    xy = _check_track(xy, fps)
    T = len(xy)
    if isinstance(det, IDTConfig):
        if det.fps is not None and abs(det.fps - fps) > 1e-9 and T > 0:
            xy = resample_frames(xy, fps, det.fps, "linear").astype(np.float64)
            fps = float(det.fps)
        n = min_samples(det.min_duration_ms, fps, det.duration_rule)
        fix = idt_fixations(xy[:, 0], xy[:, 1], det.dispersion_deg, n, per_axis=det.per_axis)
        labels = np.zeros(len(xy), np.int8)
        for a, b in fix:
            labels[a:b] = FIXATION
        return GazeEvents(xy, float(fps), labels, fix, np.zeros((0, 2), np.int64))
    if T < 2:
        labels = np.zeros(T, np.int8)
        return GazeEvents(xy, float(fps), labels, np.zeros((0, 2), np.int64), np.zeros((0, 2), np.int64), velocity_based=True)
    v = step_velocity(xy, fps, det.window_ms)  # (T−1, 2)
    speed = np.hypot(v[:, 0], v[:, 1])
    if isinstance(det, IVTConfig):
        eta = np.full(2, float(det.threshold_deg_s))
        saccadic = speed > det.threshold_deg_s
    else:
        eta = adaptive_threshold(xy, fps, det) if threshold is None else np.asarray(threshold, np.float64).reshape(2)
        with np.errstate(invalid="ignore"):
            saccadic = (v[:, 0] / eta[0]) ** 2 + (v[:, 1] / eta[1]) ** 2 > 1.0
    min_fix = min_samples(det.min_fixation_ms, fps)
    merge_gap = int(math.floor(det.merge_gap_ms * fps / 1000.0 + 1e-9))
    labels, fix, sac, steps = _label_steps(xy, saccadic, speed, min_fix, det.max_velocity_deg_s, det.merge_deg, merge_gap)
    return GazeEvents(xy, float(fps), labels, fix, sac, steps, eta, velocity_based=True)


# --------------------------------------------------------------------------------------
# behaviour measures
# --------------------------------------------------------------------------------------
def _shift_measures(centers: np.ndarray, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift amplitudes and turn angles of a fixation-centre sequence.

    ``centers`` ``(K, 2)`` degrees, ``segment`` ``(K,)``: shifts join consecutive fixations of
    the same segment. Returns ``shift_deg`` ``(M,)`` and ``turn_deg`` ``(P,)``: the angle
    between consecutive shift vectors (same segment, both longer than
    :data:`SAME_DIRECTION_MIN_DEG`), 0..180°.
    """
    centers = np.asarray(centers, np.float64).reshape(-1, 2)
    segment = np.asarray(segment).reshape(-1)
    if len(centers) < 2:
        return np.zeros(0), np.zeros(0)
    vec = np.diff(centers, axis=0)  # (K−1, 2)
    same = segment[1:] == segment[:-1]
    amp = np.hypot(vec[:, 0], vec[:, 1])
    shift_deg = amp[same]
    # consecutive pairs (j, j+1) of shifts: both inside one segment and both large enough
    pair = same[:-1] & same[1:] & (amp[:-1] > SAME_DIRECTION_MIN_DEG) & (amp[1:] > SAME_DIRECTION_MIN_DEG)
    a, b = vec[:-1][pair], vec[1:][pair]
    cos = np.einsum("ij,ij->i", a, b) / (amp[:-1][pair] * amp[1:][pair])
    turn_deg = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return shift_deg, turn_deg


@dataclass(frozen=True)
class EventStats:
    """Distributions of gaze behaviour from a fixation sequence (one clip or pooled).

    Attributes:
        fixation_ms: ``(K,)`` fixation durations (ms).
        shift_deg: ``(M,)`` distances between consecutive fixation centres (degrees).
        turn_deg: ``(P,)`` angles between consecutive shifts both > 2° (degrees, 0..180).
        minutes: observed time (minutes) the rates refer to.
        saccade_steps, valid_steps: detected saccadic / valid frame steps (0 / 0 when
            the source has no saccade detection, e.g. I-DT or a fixation table).
    """

    fixation_ms: np.ndarray
    shift_deg: np.ndarray
    turn_deg: np.ndarray
    minutes: float
    saccade_steps: int = 0
    valid_steps: int = 0

    # --- construction ----------------------------------------------------------------
    @classmethod
    def from_events(cls, events: GazeEvents) -> EventStats:
        """Measures of one detected track (minutes = the track's length)."""
        fix = events.fixations
        dur = (fix[:, 1] - fix[:, 0]) / events.fps * 1000.0
        centers = np.array([events.xy[a:b].mean(axis=0) for a, b in fix]).reshape(-1, 2)
        shift, turn = _shift_measures(centers, np.zeros(len(fix), np.int64))
        steps = events.valid_steps if events.velocity_based else 0
        return cls(dur, shift, turn, len(events.xy) / events.fps / 60.0, events.saccade_steps, steps)

    @classmethod
    def from_fixations(
        cls,
        duration_ms: np.ndarray,
        center_deg: np.ndarray,
        segment: np.ndarray | None = None,
        minutes: float = float("nan"),
    ) -> EventStats:
        """Measures of a fixation table (e.g. Dembinsky et al. 2024's real video calls).

        Args:
            duration_ms: ``(K,)`` fixation durations, in order of time.
            center_deg: ``(K, 2)`` fixation centres (degrees).
            segment: ``(K,)`` recording/segment ids; shifts never join two segments.
            minutes: observed time the table covers (for the shift rate).
        """
        duration_ms = np.asarray(duration_ms, np.float64).reshape(-1)
        seg = np.zeros(len(duration_ms), np.int64) if segment is None else np.asarray(segment).reshape(-1)
        shift, turn = _shift_measures(center_deg, seg)
        return cls(duration_ms, shift, turn, float(minutes))

    @classmethod
    def pooled(cls, parts: list[EventStats]) -> EventStats:
        """All parts' events together; minutes and step counts add up."""
        if not parts:
            return cls(np.zeros(0), np.zeros(0), np.zeros(0), 0.0)
        return cls(
            np.concatenate([p.fixation_ms for p in parts]),
            np.concatenate([p.shift_deg for p in parts]),
            np.concatenate([p.turn_deg for p in parts]),
            float(sum(p.minutes for p in parts)),
            int(sum(p.saccade_steps for p in parts)),
            int(sum(p.valid_steps for p in parts)),
        )

    # --- summaries (NaN when undefined) ----------------------------------------------
    @property
    def num_fixations(self) -> int:
        return int(len(self.fixation_ms))

    @property
    def fixation_median_ms(self) -> float:
        return _quantile(self.fixation_ms, 0.5)

    @property
    def fixation_iqr_ms(self) -> tuple[float, float]:
        return _quantile(self.fixation_ms, 0.25), _quantile(self.fixation_ms, 0.75)

    @property
    def shift_median_deg(self) -> float:
        return _quantile(self.shift_deg, 0.5)

    @property
    def shift_p90_deg(self) -> float:
        return _quantile(self.shift_deg, 0.9)

    @property
    def large_shift_share(self) -> float:
        """Share of shifts larger than :data:`LARGE_SHIFT_DEG` (6°)."""
        return float(np.mean(self.shift_deg > LARGE_SHIFT_DEG)) if len(self.shift_deg) else float("nan")

    @property
    def shifts_per_min(self) -> float:
        """Shifts of at least :data:`SHIFT_MIN_DEG` (2°) per minute of observed time."""
        if not (self.minutes > 0):
            return float("nan")
        return float(np.sum(self.shift_deg >= SHIFT_MIN_DEG) / self.minutes)

    @property
    def same_direction_share(self) -> float:
        """Share of consecutive shift pairs (both > 2°) whose directions differ by < 45°."""
        return float(np.mean(self.turn_deg < SAME_DIRECTION_MAX_DEG)) if len(self.turn_deg) else float("nan")

    @property
    def saccade_share(self) -> float:
        """Detected-saccade time share of valid frame steps (NaN without saccade detection)."""
        return self.saccade_steps / self.valid_steps if self.valid_steps else float("nan")

    def summary(self) -> dict:
        """JSON-ready summary (floats, ``None`` where undefined)."""
        q1, q3 = self.fixation_iqr_ms
        out = {
            "num_fixations": self.num_fixations,
            "fixation_median_ms": self.fixation_median_ms,
            "fixation_q1_ms": q1,
            "fixation_q3_ms": q3,
            "shift_median_deg": self.shift_median_deg,
            "shift_p90_deg": self.shift_p90_deg,
            "large_shift_share": self.large_shift_share,
            "shifts_per_min": self.shifts_per_min,
            "same_direction_share": self.same_direction_share,
            "saccade_share": self.saccade_share,
        }
        return {k: (v if isinstance(v, int) else _clean(v)) for k, v in out.items()}


def fixation_table_stats(table: dict, label: str | None = None) -> EventStats:
    """:class:`EventStats` of a fixation table in time order, e.g. real video calls.

    ``table`` holds equal-length arrays per fixation: ``participant``, ``segment``, ``label``,
    ``fix_idx`` (0, 1, 2, … within a segment), ``duration_ms``, ``onset_interval_ms`` (onset
    minus the previous fixation's onset) and ``center_x_deg``/``center_y_deg`` (the layout of
    Dembinsky et al. 2024's conversation fixations). A segment is a run of rows with one
    (participant, segment, label); shifts never join two segments. Observed time is the sum of
    the onset-to-onset intervals inside segments (one fixation-plus-shift cycle per shift),
    which on a long clip converges to its length, what :meth:`EventStats.from_events` uses.

    Args:
        table: the arrays above.
        label: keep only rows with this label (None = all rows).
    """
    lab = np.asarray(table["label"])
    key = np.stack([np.asarray(table["participant"]), np.asarray(table["segment"]), np.unique(lab, return_inverse=True)[1]], axis=1)
    new_run = np.r_[True, (key[1:] != key[:-1]).any(axis=1)]
    fix_idx = np.asarray(table["fix_idx"])
    if not (np.all(fix_idx[new_run] == 0) and np.all(np.diff(fix_idx)[~new_run[1:]] == 1)):
        raise ValueError("fixation table rows are not in time order within their segments")
    seg_id = np.cumsum(new_run) - 1
    sel = np.arange(len(seg_id)) if label is None else np.flatnonzero(lab == label)
    segs = seg_id[sel]
    first = np.r_[True, segs[1:] != segs[:-1]]
    minutes = float(np.sum(np.asarray(table["onset_interval_ms"], np.float64)[sel][~first])) / 60000.0
    centers = np.stack([np.asarray(table["center_x_deg"])[sel], np.asarray(table["center_y_deg"])[sel]], axis=1)
    return EventStats.from_fixations(np.asarray(table["duration_ms"])[sel], centers, segs, minutes)


def _quantile(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q)) if len(x) else float("nan")


def _clean(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def event_stats(xy: np.ndarray, fps: float, detector: Detector | str = "adaptive") -> EventStats:
    """:class:`EventStats` of one track with one detector (see :func:`detect_events`)."""
    return EventStats.from_events(detect_events(xy, fps, detector))


# --------------------------------------------------------------------------------------
# prediction vs ground truth
# --------------------------------------------------------------------------------------
def wasserstein_1d(a: np.ndarray, b: np.ndarray) -> float:
    """1-D Wasserstein-1 distance ``∫ |F_a(x) − F_b(x)| dx`` of two samples (their units).

    Same value as ``scipy.stats.wasserstein_distance`` (unweighted). NaN if either is empty.
    """
    a = np.sort(np.asarray(a, np.float64).reshape(-1))
    b = np.sort(np.asarray(b, np.float64).reshape(-1))
    if not len(a) or not len(b):
        return float("nan")
    allv = np.sort(np.concatenate([a, b]))
    widths = np.diff(allv)
    fa = np.searchsorted(a, allv[:-1], side="right") / len(a)
    fb = np.searchsorted(b, allv[:-1], side="right") / len(b)
    return float(np.sum(np.abs(fa - fb) * widths))


EVENT_COMPONENTS = ("fixation_ms", "shift_deg", "shift_rate", "turn_deg")
"""The parts of ``event_sim``, in order."""


@dataclass(frozen=True)
class EventComparison:
    """Prediction vs ground truth on :class:`EventStats`.

    Attributes:
        distances: per component, the raw distance: Wasserstein-1 of fixation durations
            (ms), of shift amplitudes (degrees), of turn angles (degrees), and the absolute
            difference of shifts ≥ 2° per minute.
        similarities: per component, ``exp(−distance / scale)`` in (0, 1] (see
            :func:`compare_events`); missing when undefined.
        event_sim: mean of the defined similarities, in [0, 1], higher is better (1 = the
            same distributions); NaN when no component is defined.
    """

    distances: dict
    similarities: dict
    event_sim: float

    def to_dict(self) -> dict:
        return {
            "event_sim": _clean(self.event_sim),
            "distance": {k: _clean(self.distances.get(k, float("nan"))) for k in EVENT_COMPONENTS},
            "similarity": {k: _clean(self.similarities.get(k, float("nan"))) for k in EVENT_COMPONENTS},
        }


def compare_events(pred: EventStats, gt: EventStats) -> EventComparison:
    """``event_sim``: how alike two event distributions are, in [0, 1], higher is better.

    Each component is a distance ``d`` divided by a scale taken from the ground truth, so
    that it reads as "in units of the real value" and is independent of units:

    * ``fixation_ms``: W1(pred, gt fixation durations) / mean gt duration;
    * ``shift_deg``: W1(pred, gt shift amplitudes) / mean gt amplitude;
    * ``shift_rate``: |pred − gt shifts ≥ 2° per minute| / gt rate;
    * ``turn_deg``: W1(pred, gt turn angles between consecutive shifts > 2°) / 90°.

    Each becomes a similarity ``exp(−d)`` (1 when equal, 0.37 when off by one gt scale,
    → 0 far apart) and ``event_sim`` is their mean. W1 ≥ the difference of the means, so a
    distribution twice as long as the truth's scores at most exp(−1) on that component.
    A component is left out when the ground truth has no such events (or a zero scale) and
    the prediction has none either; it scores 0 when only one side has any.
    """
    dist: dict = {}
    sims: dict = {}

    def add(name: str, p: np.ndarray, g: np.ndarray, scale: float | None) -> None:
        if not len(p) and not len(g):
            return
        if not len(p) or not len(g):
            sims[name] = 0.0
            return
        d = wasserstein_1d(p, g)
        dist[name] = d
        s = float(np.mean(g)) if scale is None else scale
        if s > 0:
            sims[name] = math.exp(-d / s)
        else:
            sims[name] = 1.0 if d == 0 else 0.0

    add("fixation_ms", pred.fixation_ms, gt.fixation_ms, None)
    add("shift_deg", pred.shift_deg, gt.shift_deg, None)
    rp, rg = pred.shifts_per_min, gt.shifts_per_min
    if math.isfinite(rp) and math.isfinite(rg):
        dist["shift_rate"] = abs(rp - rg)
        if rg > 0:
            sims["shift_rate"] = math.exp(-abs(rp - rg) / rg)
        elif rp > 0:
            sims["shift_rate"] = 0.0
    add("turn_deg", pred.turn_deg, gt.turn_deg, TURN_SCALE_DEG)
    vals = [sims[k] for k in EVENT_COMPONENTS if k in sims]
    return EventComparison(dist, sims, float(np.mean(vals)) if vals else float("nan"))


def compare_tracks(
    pred_xy: np.ndarray,
    gt_xy: np.ndarray,
    fps: float,
    detector: Detector | str = "adaptive",
) -> tuple[GazeEvents, GazeEvents]:
    """Detect events on a prediction and its ground truth alike.

    With the adaptive detector both tracks are segmented with the same per-axis threshold,
    the larger of their own (:func:`adaptive_threshold`): a clean prediction is then not
    credited with small shifts that the noise of the ground truth hides there (and vice
    versa), so adding noise to one side moves both alike. Other detectors run as they are.

    Returns:
        ``(pred_events, gt_events)``.
    """
    det = get_detector(detector)
    if isinstance(det, AdaptiveConfig):
        eta = np.maximum(adaptive_threshold(pred_xy, fps, det), adaptive_threshold(gt_xy, fps, det))
        return detect_events(pred_xy, fps, det, threshold=eta), detect_events(gt_xy, fps, det, threshold=eta)
    return detect_events(pred_xy, fps, det), detect_events(gt_xy, fps, det)


def event_sim(pred_xy: np.ndarray, gt_xy: np.ndarray, fps: float, detector: Detector | str = "adaptive") -> float:
    """``event_sim`` of one predicted track against its ground truth (higher is better, 0..1).

    Both ``(T, 2)`` degrees at ``fps``; see :func:`compare_tracks` and :func:`compare_events`.
    """
    p, g = compare_tracks(pred_xy, gt_xy, fps, detector)
    return compare_events(EventStats.from_events(p), EventStats.from_events(g)).event_sim
