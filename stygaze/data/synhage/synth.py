"""SynHAGE: procedural, physiologically grounded gaze + head motion of a talking person.

Given 16 kHz speech audio, :func:`synthesize` produces 25 fps 7-DoF :class:`~stygaze.motion.Motion`
(with a ``blink`` channel) and exact labelled events. Everything is simulated in continuous
time and evaluated on an internal grid of ``SynthConfig.sim_rate`` (250 Hz) before being
point-sampled at 25 fps, so saccades, head movements and blinks land between frames the way
an eye tracker would see them. What is modelled (sources in ``datasets/synhage.md``):

* **Fixations** with gamma-distributed durations (style ``fixation_mean_s``), ocular drift
  (Ornstein–Uhlenbeck, style ``drift_deg``), tremor, and **microsaccades** (< 1°).
* **Saccades** on the main sequence: duration ``2.2·A + 21`` ms (``SynthConfig``), a raised-
  cosine velocity profile whose peak ``≈ 1.7 · A / D`` saturates near 600 °/s; primary saccades
  > 8° undershoot by 5–12 % and are followed by a corrective saccade.
* **Eye–head coupling** (Freedman & Sparks 1997): the head's share of a gaze shift rises
  with amplitude (logistic in amplitude around ``head_onset_deg``, up to ``head_share``);
  the head starts ``head_lag_s`` (20–50 ms) after the eye, moves with a minimum-jerk
  profile and ends later; the eyes counter-rotate (VOR, gain ``SynthConfig.vor_gain``)
  so world gaze stays still while the head finishes. The head also recentres when the
  eye would end too far in its orbit.
* **Vergence**: each eye turns inward by ``atan(IPD/2 / distance)`` (≈ 1.8° at 1 m), with
  a slower vergence movement when gaze moves between the partner and the distance.
* **Speech coupling** (from the audio only: energy-based voice activity, utterances,
  pauses, listening stretches, stressed syllables = speech-rhythm beats from
  :mod:`stygaze.features.rhythm`): gaze aversion
  at utterance starts (``aversion_tendency``) and spontaneously while speaking, head
  "beat" nods aligned to stressed syllables (``nod_prob``, ``nod_gain``), head pitch that
  follows loudness (``speech_head_gain``), calmer behaviour in pauses and while listening
  (``listening_calm``), listener back-channel nods.
* **Head gestures** with labels: nod (pitch oscillation 2–3 Hz), shake (yaw oscillation),
  tilt (roll excursion), up/down (large pitch excursion), turn (large yaw head shift of
  a gaze shift).
* **Blinks** (``blink_rate_per_min``, 12–28/min) with the asymmetric close/open profile,
  gaze-evoked blinks at large shifts (``gaze_evoked_blink_prob``) and the small downward
  eye movement that accompanies a blink.
* Postural **sway** of the head (``sway_deg``) and a small frame-level tracker noise.

Every session draws a :class:`SynthStyle` (interpretable parameters with documented ranges);
the same ``seed`` always gives the same motion. :func:`procedural_generate` is the rule-based
baseline model (``stygaze generate --model procedural``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from stygaze.audio import FPS, SAMPLE_RATE
from stygaze.errors import AudioError, StyleError
from stygaze.motion import Motion
from stygaze.geometry import angles_to_vector, head_rotation_matrix, vector_to_angles

GAZE_LABELS: tuple[str, ...] = ("fixation", "saccade")
"""Per-frame gaze labels in ``events["gaze"]`` (index = label id)."""

GESTURE_LABELS: tuple[str, ...] = ("none", "nod", "shake", "tilt", "turn", "up_down")
"""Per-frame head-gesture labels in ``events["gesture"]`` (index = label id)."""


# --------------------------------------------------------------------------------------
# style: interpretable per-session parameters
# --------------------------------------------------------------------------------------
def _p(default: float, lo: float, hi: float, unit: str, doc: str, log: bool = False) -> Any:
    return field(default=default, metadata={"range": (lo, hi), "unit": unit, "doc": doc, "log": log})


@dataclass(frozen=True)
class SynthStyle:
    """The per-session style of a SynHAGE speaker: interpretable, documented parameters.

    Each field's metadata holds its sampling ``range`` (drawn uniformly, log-uniformly
    where ``log``), its ``unit`` and a one-line ``doc``. :meth:`sample` draws a style;
    :meth:`to_vector` maps it to ``[0, 1]^P`` (the ground-truth style vector that the
    learned style encoder is checked against). Literature sources: ``datasets/synhage.md``.
    """

    fixation_mean_s: float = _p(0.28, 0.18, 0.4, "s", "mean fixation duration while speaking (≈ 1/saccade rate)")
    fixation_shape: float = _p(3.0, 2.0, 5.0, "", "gamma shape of fixation durations (higher = more regular)")
    amplitude_scale: float = _p(1.0, 0.6, 1.6, "×", "scales within-face and aversion saccade amplitudes")
    face_spread_deg: float = _p(2.0, 1.0, 3.5, "deg", "spread of fixation points on the partner's face")
    gaze_centre_pitch: float = _p(0.0, -5.0, 4.0, "deg", "where the partner's face is (gaze centre bias), pitch")
    gaze_centre_yaw: float = _p(0.0, -6.0, 6.0, "deg", "where the partner's face is (gaze centre bias), yaw")
    aversion_tendency: float = _p(0.5, 0.1, 0.9, "prob", "probability of averting gaze at an utterance start")
    aversion_rate_hz: float = _p(0.08, 0.02, 0.2, "1/s", "spontaneous aversions per second while speaking", log=True)
    aversion_hold_s: float = _p(1.5, 0.7, 3.0, "s", "mean duration of a gaze aversion")
    aversion_amplitude_deg: float = _p(14.0, 8.0, 26.0, "deg", "typical eccentricity of averted gaze")
    aversion_direction_deg: float = _p(45.0, -180.0, 180.0, "deg", "preferred aversion direction (0 = left, 90 = up)")
    aversion_focus: float = _p(1.5, 0.0, 4.0, "", "von Mises concentration of aversion direction (0 = any)")
    head_share: float = _p(0.5, 0.25, 0.75, "fraction", "head contribution to large gaze shifts")
    head_onset_deg: float = _p(17.0, 11.0, 23.0, "deg", "gaze-shift amplitude at which the head share is half")
    head_lag_s: float = _p(0.035, 0.02, 0.05, "s", "head movement onset after the eye's")
    head_speed: float = _p(1.0, 0.7, 1.4, "×", "head movement speed (duration divisor)")
    nod_prob: float = _p(0.55, 0.3, 0.85, "prob", "probability that a stressed syllable carries a beat nod")
    nod_gain: float = _p(1.0, 0.5, 1.8, "×", "amplitude of beat nods (×2.5° nominal)")
    sway_deg: float = _p(1.0, 0.4, 2.2, "deg", "std of slow postural head sway")
    speech_head_gain: float = _p(0.5, 0.0, 1.0, "×", "head pitch following speech loudness (×2° nominal)")
    head_pitch_rest: float = _p(0.0, -5.0, 5.0, "deg", "resting head pitch")
    head_roll_rest: float = _p(0.0, -4.0, 4.0, "deg", "resting head roll")
    gesture_rate_per_min: float = _p(3.0, 1.0, 7.0, "1/min", "labelled head gestures per minute", log=True)
    blink_rate_per_min: float = _p(19.0, 12.0, 28.0, "1/min", "blink rate")
    gaze_evoked_blink_prob: float = _p(0.4, 0.15, 0.7, "prob", "probability of a blink with a gaze shift > 15°")
    drift_deg: float = _p(0.1, 0.05, 0.2, "deg", "std of fixational drift")
    microsaccade_rate_hz: float = _p(0.6, 0.2, 1.5, "1/s", "microsaccades per second of fixation", log=True)
    partner_distance_m: float = _p(1.0, 0.7, 1.6, "m", "distance to the partner (sets vergence)")
    listening_calm: float = _p(0.7, 0.45, 0.95, "×", "saccade rate and sway multiplier in pauses / listening")

    # --- helpers -----------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def ranges(cls) -> dict[str, tuple[float, float]]:
        """``{name: (low, high)}`` sampling range of every parameter."""
        return {f.name: tuple(f.metadata["range"]) for f in fields(cls)}

    @classmethod
    def sample(cls, rng: np.random.Generator) -> SynthStyle:
        """Draw a style: each parameter uniform (log-uniform where marked) in its range."""
        values = {}
        for f in fields(cls):
            lo, hi = f.metadata["range"]
            if f.metadata["log"]:
                values[f.name] = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            else:
                values[f.name] = float(rng.uniform(lo, hi))
        return cls(**values)

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> SynthStyle:
        """Build from a dict (e.g. ``style.json``); unknown keys or non-numbers raise StyleError."""
        known = set(cls.param_names())
        unknown = sorted(set(values) - known)
        if unknown:
            raise StyleError(f"unknown SynthStyle parameter(s): {', '.join(unknown)}")
        out = {}
        for k, v in values.items():
            try:
                out[k] = float(v)
            except (TypeError, ValueError) as exc:
                raise StyleError(f"SynthStyle parameter {k} must be a number, got {v!r}") from exc
            if not math.isfinite(out[k]):
                raise StyleError(f"SynthStyle parameter {k} must be finite, got {v!r}")
        return cls(**out)

    def to_vector(self) -> np.ndarray:
        """``(P,)`` float32: every parameter mapped to [0, 1] by its range (log where marked)."""
        out = []
        for f in fields(self):
            lo, hi = f.metadata["range"]
            v = getattr(self, f.name)
            if f.metadata["log"]:
                out.append((math.log(max(v, 1e-9)) - math.log(lo)) / (math.log(hi) - math.log(lo)))
            else:
                out.append((v - lo) / (hi - lo))
        return np.asarray(out, dtype=np.float32)


@dataclass(frozen=True)
class SynthConfig:
    """Fixed physiology and rendering constants (not part of a speaker's style).

    Attributes:
        sim_rate: internal simulation rate in Hz (a multiple of 25).
        main_sequence_slope_ms: saccade duration slope, ms per degree (2.2).
        main_sequence_intercept_ms: saccade duration intercept, ms (21).
        saccade_duration_jitter: log-normal std of saccade duration around the main sequence.
        min_fixation_s: shortest fixation between two saccades.
        head_share_small: head share of small (≲ 10°) gaze shifts.
        eye_comfort_deg: eye-in-head eccentricity beyond which the head recentres.
        eye_range_deg: eye-in-head limit (oculomotor range).
        vor_gain: vestibulo-ocular reflex gain (1 = world gaze perfectly still during head motion).
        interocular_m: interpupillary distance for vergence.
        far_distance_m: fixation distance range of averted gaze.
        tremor_deg: white tremor at the simulation rate.
        tracker_noise_deg: frame-level measurement noise added to each eye channel
            independently (deg, std).
        tracker_noise_shared_deg: frame-level measurement noise common to both eyes (deg,
            std): a wearable eye tracker's precision is a few tenths of a degree, and it is
            the main reason a 1° I-DT on real 25 fps world gaze finds ~60–70 % fixation
            samples rather than the ~95 % of noise-free motion. Set both to 0 for clean motion.
        blink_eye_drop_deg: downward eye rotation during a full blink.
        vad_threshold_db: speech is frame energy above ``noise floor + this``.
        listening_gap_s: silences at least this long are listening, shorter ones are pauses.
        utterance_gap_s: silences at least this long separate utterances.
    """

    sim_rate: int = 250
    main_sequence_slope_ms: float = 2.2
    main_sequence_intercept_ms: float = 21.0
    saccade_duration_jitter: float = 0.08
    min_fixation_s: float = 0.1
    head_share_small: float = 0.06
    eye_comfort_deg: float = 16.0
    eye_range_deg: float = 35.0
    vor_gain: float = 0.8
    interocular_m: float = 0.063
    far_distance_m: tuple[float, float] = (0.6, 4.0)
    tremor_deg: float = 0.01
    tracker_noise_deg: float = 0.06
    tracker_noise_shared_deg: float = 0.23
    blink_eye_drop_deg: float = 3.0
    vad_threshold_db: float = 14.0
    listening_gap_s: float = 1.5
    utterance_gap_s: float = 0.35


# --------------------------------------------------------------------------------------
# speech analysis (energy based, fast: no spectrogram)
# --------------------------------------------------------------------------------------
ENV_RATE = 100  # Hz of the energy envelope
NOD_DEG = 2.5  # nominal beat-nod depth (deg), × nod_gain × (0.5 + stress strength)
NOD_STROKE_S = (0.24, 0.34)  # beat nod: down-stroke and recovery durations (s)
NOD_HOLD_S = (0.28, 0.42)  # hold at the bottom (s), centred on the stressed syllable


@dataclass
class SpeechCues:
    """What the synthesizer knows about the speech, all found in the audio.

    Attributes:
        duration_s: clip length in seconds.
        energy_db: ``(E,)`` frame energy at 100 Hz, dB relative to the clip's loud level.
        speech: ``(E,)`` bool voice activity at 100 Hz (after gap filling).
        utterances: ``(U, 2)`` start/end seconds of utterances (speech separated by ≥ 0.35 s).
        listening: ``(L, 2)`` start/end seconds of silences ≥ ``listening_gap_s``.
        stress_s: ``(K,)`` times (s) of stressed syllables: speech-rhythm beats inside speech.
        stress_strength: ``(K,)`` onset strength in 0.2..1.
    """

    duration_s: float
    energy_db: np.ndarray
    speech: np.ndarray
    utterances: np.ndarray
    listening: np.ndarray
    stress_s: np.ndarray
    stress_strength: np.ndarray

    def speaking_at(self, t: np.ndarray) -> np.ndarray:
        """Bool per time (s): inside an utterance (pauses shorter than 0.35 s included)."""
        t = np.asarray(t, dtype=np.float64)
        if len(self.utterances) == 0:
            return np.zeros(t.shape, bool)
        i = np.searchsorted(self.utterances[:, 0], t, side="right") - 1
        ok = i >= 0
        ic = np.clip(i, 0, None)
        return ok & (t < self.utterances[ic, 1])


def _runs(mask: np.ndarray) -> np.ndarray:
    """``(R, 2)`` [start, end) index ranges of True runs."""
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.diff(m.astype(np.int8))
    return np.stack([np.flatnonzero(d == 1), np.flatnonzero(d == -1)], axis=1)


def analyze_speech(audio: np.ndarray, cfg: SynthConfig | None = None) -> SpeechCues:
    """Voice activity, utterances, listening stretches and stressed-syllable candidates.

    Args:
        audio: ``(S,)`` float waveform at 16 kHz (any scale).

    Returns:
        :class:`SpeechCues`. Stressed syllables are the beats of
        :func:`stygaze.features.rhythm.rhythmic_beats` that fall inside speech (speech rhythm is carried by stressed
        syllables; a beat tracker on the onset envelope finds the strongest, roughly regular
        onsets), with strength = onset strength / its 90th percentile.
    """
    cfg = cfg or SynthConfig()
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    hop = SAMPLE_RATE // ENV_RATE
    n = max(1, len(x) // hop)
    xx = np.zeros(n * hop, np.float32)
    xx[: min(len(x), n * hop)] = x[: n * hop]
    x = xx - xx.mean()
    power = np.einsum("ij,ij->i", x.reshape(n, hop), x.reshape(n, hop)) / hop
    db = 10.0 * np.log10(power + 1e-12)
    loud = float(np.percentile(db, 95))
    floor = float(np.percentile(db, 10))
    db = db - loud
    floor -= loud
    if loud - (floor + loud) < cfg.vad_threshold_db:  # no dynamic range: silence or noise only
        speech = np.zeros(n, bool)
    else:
        speech = db > max(floor + cfg.vad_threshold_db, -40.0)
    # fill short gaps (< 120 ms) and drop blips (< 80 ms)
    runs = _runs(~speech)
    for a, b in runs:
        if b - a < 12 and a > 0 and b < n:
            speech[a:b] = True
    for a, b in _runs(speech):
        if b - a < 8:
            speech[a:b] = False
    runs = _runs(speech) / ENV_RATE
    # utterances: speech runs merged over gaps < utterance_gap_s
    utts: list[list[float]] = []
    for a, b in runs:
        if utts and a - utts[-1][1] < cfg.utterance_gap_s:
            utts[-1][1] = b
        else:
            utts.append([a, b])
    utterances = np.asarray(utts, dtype=np.float64).reshape(-1, 2)
    duration = len(audio) / SAMPLE_RATE
    # listening stretches: long silences (including the start and end of the clip)
    bounds = np.concatenate([[0.0], utterances.reshape(-1), [duration]]).reshape(-1, 2)
    gaps = bounds[(bounds[:, 1] - bounds[:, 0]) >= cfg.listening_gap_s]
    # rhythmic stresses: the beats of a beat tracker on the onset envelope (spectral flux of
    # the log-mel spectrogram at one value per motion frame) that fall inside speech
    from stygaze.features.rhythm import rhythmic_beats

    beats, onset = rhythmic_beats(audio)
    bi = np.clip(np.round(beats * ENV_RATE / FPS).astype(int), 0, n - 1)
    inside = speech[bi]
    beats = beats[inside]
    if len(beats):
        ref = float(np.percentile(onset[beats], 90)) or 1.0
        strength = np.clip(onset[beats] / ref, 0.2, 1.0)
    else:
        strength = np.zeros(0)
    peaks = beats * (ENV_RATE / FPS)
    return SpeechCues(
        duration_s=duration,
        energy_db=db.astype(np.float32),
        speech=speech,
        utterances=utterances,
        listening=gaps,
        stress_s=peaks / ENV_RATE,
        stress_strength=strength,
    )


# --------------------------------------------------------------------------------------
# continuous-time building blocks (vectorised)
# --------------------------------------------------------------------------------------
def _profile_saccade(u: np.ndarray) -> np.ndarray:
    """Saccade position profile on u ∈ [0, 1]: raised cosine (velocity peak π/2 · mean),
    slightly skewed (faster acceleration than deceleration)."""
    w = u**0.85
    return 0.5 - 0.5 * np.cos(np.pi * w)


def _peak_velocity(A: float, D: float) -> float:
    """Peak velocity (deg/s) of :func:`_profile_saccade` for amplitude ``A`` (deg), duration ``D`` (s)."""
    u = np.linspace(0, 1, 201)
    return float(A / D * np.max(np.diff(_profile_saccade(u))) * 200) if A > 0 else 0.0


def _profile_minjerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk position profile 10u³ − 15u⁴ + 6u⁵ (velocity peak 1.875 · mean)."""
    return u * u * u * (10.0 - 15.0 * u + 6.0 * u * u)


def superpose(t: np.ndarray, onsets: np.ndarray, durations: np.ndarray, deltas: np.ndarray, profile) -> np.ndarray:
    """Sum of step movements ``Σ_k deltas_k · profile((t − onset_k) / duration_k)``.

    Args:
        t: ``(N,)`` times in seconds (sorted).
        onsets: ``(K,)`` movement onsets in seconds (sorted ascending).
        durations: ``(K,)`` seconds (> 0).
        deltas: ``(K, C)`` displacement of each movement.
        profile: maps u ∈ [0, 1] to progress in [0, 1].

    Returns:
        ``(N, C)`` float64. Overlapping movements add up (submovement superposition); the
        cost is O(N · J) where J is the largest number of movements active at once.
    """
    t = np.asarray(t, np.float64)
    K = len(onsets)
    deltas = np.asarray(deltas, np.float64)
    C = deltas.shape[1] if deltas.ndim == 2 else 1
    out = np.zeros((len(t), C))
    if K == 0:
        return out
    deltas = deltas.reshape(K, C)
    onsets = np.asarray(onsets, np.float64)
    durations = np.maximum(np.asarray(durations, np.float64), 1e-6)
    ends = onsets + durations
    J = max(1, int(np.max(np.searchsorted(onsets, ends, side="left") - np.arange(K))))
    last = np.searchsorted(onsets, t, side="right") - 1  # (N,) last movement started
    cum = np.cumsum(deltas, axis=0)
    base = last - J
    out += np.where((base >= 0)[:, None], cum[np.clip(base, 0, None)], 0.0)
    for j in range(J):
        k = last - j
        valid = k >= 0
        kk = np.clip(k, 0, None)
        u = np.clip((t - onsets[kk]) / durations[kk], 0.0, 1.0)
        out += np.where(valid[:, None], deltas[kk] * profile(u)[:, None], 0.0)
    return out


def _ou(rng: np.random.Generator, n: int, dims: int, std: float, tau_s: float, rate: float) -> np.ndarray:
    """``(n, dims)`` Ornstein–Uhlenbeck noise with stationary ``std`` and time constant ``tau_s``."""
    from scipy.signal import lfilter

    a = math.exp(-1.0 / (tau_s * rate))
    w = rng.standard_normal((n, dims)) * std * math.sqrt(1 - a * a)
    x0 = rng.standard_normal(dims) * std
    y, _ = lfilter([1.0], [1.0, -a], w, axis=0, zi=(a * x0)[None, :])
    return y


def _lowpass_noise(rng: np.random.Generator, n: int, dims: int, cutoff_hz: float, rate: float) -> np.ndarray:
    """``(n, dims)`` unit-std smooth noise (2nd-order Butterworth low-passed white noise)."""
    from scipy.signal import butter, lfilter

    b, a = butter(2, cutoff_hz / (rate / 2))
    warm = int(3 * rate / cutoff_hz)
    y = lfilter(b, a, rng.standard_normal((n + warm, dims)), axis=0)[warm:]
    return y / max(float(y.std()), 1e-9)


def _blink_profile(t: np.ndarray, onsets: np.ndarray, close: np.ndarray, hold: np.ndarray, open_: np.ndarray, amp: np.ndarray) -> np.ndarray:
    """Eyelid closure (0 open … 1 closed) of non-overlapping blinks at times ``t``."""
    out = np.zeros(len(t))
    if len(onsets) == 0:
        return out
    k = np.searchsorted(onsets, t, side="right") - 1
    ok = k >= 0
    kk = np.clip(k, 0, None)
    dt = t - onsets[kk]
    c, h, o = close[kk], hold[kk], open_[kk]
    rise = _profile_minjerk(np.clip(dt / c, 0, 1))
    fall = 1.0 - _profile_minjerk(np.clip((dt - c - h) / o, 0, 1))
    val = np.where(dt < c, rise, np.where(dt < c + h, 1.0, fall))
    val = np.where(dt > c + h + o, 0.0, val)
    return np.where(ok, val * amp[kk], 0.0)


# --------------------------------------------------------------------------------------
# the synthesizer
# --------------------------------------------------------------------------------------
@dataclass
class SynthResult:
    """Output of :func:`synthesize`.

    Attributes:
        motion: 25 fps :class:`Motion` ``(T, 7)`` degrees with ``blink`` ``(T,)`` and ``events``.
        events: the labelled events (also ``motion.events``); see :func:`synthesize`.
        style: the :class:`SynthStyle` used.
        cues: the :class:`SpeechCues` found in the audio.
        internal: with ``return_internal``: ``{"t": (N,) s, "world_gaze": (N, 2) (pitch, yaw)
            deg, "head": (N, 3) deg, "blink": (N,)}`` at ``SynthConfig.sim_rate``; else None.
    """

    motion: Motion
    events: dict
    style: SynthStyle
    cues: SpeechCues
    internal: dict | None = None


def _check_audio(audio: Any) -> np.ndarray:
    x = np.asarray(audio)
    if x.ndim != 1:
        raise AudioError(f"audio: expected a mono (S,) waveform at {SAMPLE_RATE} Hz, got shape {x.shape}")
    if x.size < SAMPLE_RATE // FPS:
        raise AudioError(f"audio: {x.size} samples is shorter than one motion frame ({SAMPLE_RATE // FPS} samples)")
    if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
        raise AudioError("audio: contains NaN or infinite samples")
    return x.astype(np.float32, copy=False)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(v[0], v[1]))
    return v / n if n > 1e-9 else np.zeros(2)


def synthesize(
    audio: np.ndarray,
    *,
    style: SynthStyle | None = None,
    seed: int | np.random.SeedSequence | None = None,
    config: SynthConfig | None = None,
    return_internal: bool = False,
) -> SynthResult:
    """Synthesize SynHAGE motion and events for speech audio.

    Args:
        audio: ``(S,)`` waveform at 16 kHz (any scale); the motion has ``round(S / 640)`` frames.
        style: the speaker's style; drawn from ``seed`` when None.
        seed: an int or a ``SeedSequence``; the same audio + style + seed give identical
            arrays. None draws fresh entropy (not reproducible).
        config: physiology constants (:class:`SynthConfig`).
        return_internal: also return the ``sim_rate`` world-gaze / head signals.

    Returns:
        :class:`SynthResult`. ``events`` holds ``fps``, ``num_frames``, per-frame label lists
        ``gaze`` (ids into ``gaze_labels``), ``gesture`` (ids into ``gesture_labels``) and
        ``blink_frames`` (0/1); column tables ``saccades`` (``onset_s``, ``duration_s``,
        ``amplitude_deg``, ``peak_velocity_deg_s``, ``head_amplitude_deg``, ``kind``: primary /
        corrective / micro, ``region``: face / averted), ``blinks`` (``onset_s``,
        ``duration_s``, ``amplitude``, ``evoked``), ``gestures`` (``label``, ``start_frame``,
        ``end_frame`` exclusive, ``amplitude_deg``), ``aversions`` (``start_s``, ``end_s``),
        ``beat_nods_s`` and the speech cues (``utterances``, ``listening``, ``stress_s``).
    """
    from stygaze.audio import num_frames

    cfg = config or SynthConfig()
    if cfg.sim_rate % FPS:
        raise ValueError(f"sim_rate must be a multiple of {FPS}, got {cfg.sim_rate}")
    audio = _check_audio(audio)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    style_ss, plan_ss, noise_ss = ss.spawn(3)
    if style is None:
        style = SynthStyle.sample(np.random.default_rng(style_ss))
    rng = np.random.default_rng(plan_ss)
    nrng = np.random.default_rng(noise_ss)

    T = num_frames(len(audio))
    dur = T / FPS
    cues = analyze_speech(audio, cfg)
    speaking = cues.speaking_at
    st = style

    # ---------------- gaze aversions --------------------------------------------------
    av: list[list[float]] = []
    for u0 in cues.utterances[:, 0]:
        if rng.random() < st.aversion_tendency:
            s = u0 + rng.normal(-0.1, 0.15)
            av.append([s, s + rng.gamma(3.0, st.aversion_hold_s / 3.0)])
    n_sp = rng.poisson(st.aversion_rate_hz * dur)
    for s in np.sort(rng.uniform(0, dur, n_sp)):
        if speaking(np.array([s]))[0] or rng.random() < 0.3:
            av.append([s, s + rng.gamma(3.0, st.aversion_hold_s / 3.0)])
    av.sort()
    merged: list[list[float]] = []
    for a, b in av:
        if merged and a <= merged[-1][1] + 0.3:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    aversions = np.asarray(merged, np.float64).reshape(-1, 2)
    av_dirs = rng.vonmises(math.radians(st.aversion_direction_deg), st.aversion_focus, len(aversions))
    av_amp = st.aversion_amplitude_deg * st.amplitude_scale * np.exp(rng.normal(0, 0.3, len(aversions)))
    centre = np.array([st.gaze_centre_pitch, st.gaze_centre_yaw])
    # (pitch, yaw): vertical aversions are smaller than horizontal ones
    av_points = centre + np.stack([0.6 * av_amp * np.sin(av_dirs), av_amp * np.cos(av_dirs)], axis=1)
    av_points[:, 0] = np.clip(av_points[:, 0], -25, 25)
    av_points[:, 1] = np.clip(av_points[:, 1], -40, 40)
    av_dist = np.exp(rng.uniform(*np.log(cfg.far_distance_m), len(aversions)))

    def aversion_at(t: float) -> int:
        if len(aversions) == 0:
            return -1
        i = int(np.searchsorted(aversions[:, 0], t, side="right")) - 1
        return i if i >= 0 and t < aversions[i, 1] else -1

    # ---------------- fixation / saccade plan (sequential, ~4 events per second) ------
    head_rest = np.array([st.head_pitch_rest + 0.5 * st.gaze_centre_pitch, 0.7 * st.gaze_centre_yaw])
    G = centre + rng.normal(0, st.face_spread_deg * 0.5, 2)  # current world gaze (pitch, yaw)
    H = head_rest.copy()  # current head target (pitch, yaw)
    verg = math.degrees(math.atan(cfg.interocular_m / 2 / st.partner_distance_m))
    verg_cur = verg
    sac = {k: [] for k in ("onset_s", "duration_s", "amplitude_deg", "peak_velocity_deg_s", "head_amplitude_deg", "kind", "region")}
    sac_delta: list[np.ndarray] = []
    head_on, head_dur, head_delta = [], [], []
    verg_on, verg_delta = [], []
    evoked_blinks: list[float] = []
    turn_events: list[tuple[str, float, float, float]] = []  # (label, start_s, end_s, amp)
    region, region_id = "face", -1

    def add_saccade(t0: float, delta: np.ndarray, kind: str, reg: str, head_amp: float) -> float:
        A = float(np.hypot(*delta))
        D = (cfg.main_sequence_slope_ms * A + cfg.main_sequence_intercept_ms) / 1000.0
        D *= math.exp(rng.normal(0, cfg.saccade_duration_jitter))
        sac["onset_s"].append(t0)
        sac["duration_s"].append(D)
        sac["amplitude_deg"].append(A)
        sac["peak_velocity_deg_s"].append(_peak_velocity(A, D))
        sac["head_amplitude_deg"].append(head_amp)
        sac["kind"].append(kind)
        sac["region"].append(reg)
        sac_delta.append(delta)
        return D

    t = 0.0
    while True:
        calm = 1.0 if speaking(np.array([t]))[0] else st.listening_calm
        f = max(cfg.min_fixation_s, rng.gamma(st.fixation_shape, st.fixation_mean_s / st.fixation_shape) / calm)
        # microsaccades inside the fixation
        n_micro = rng.poisson(st.microsaccade_rate_hz * f)
        micro = np.zeros(2)
        for tm in np.sort(rng.uniform(t + 0.05, t + f, n_micro)):
            amp = rng.uniform(0.1, 0.8)
            ang = rng.uniform(0, 2 * np.pi)
            d = np.array([amp * math.sin(ang), amp * math.cos(ang)]) - 0.5 * micro  # drift-correcting
            add_saccade(float(tm), d, "micro", region, 0.0)
            micro += d
        t_s = t + f
        if t_s >= dur:
            break
        ai = aversion_at(t_s)
        if ai >= 0:
            spread = 1.5 * st.amplitude_scale if ai == region_id else 0.5
            target = av_points[ai] + rng.normal(0, spread, 2)
            new_region, dist = "averted", av_dist[ai]
        else:
            target = centre + np.clip(rng.normal(0, st.face_spread_deg * st.amplitude_scale, 2), -7, 7)
            new_region, dist = "face", st.partner_distance_m
        cur = G + micro
        delta = target - cur
        A = float(np.hypot(*delta))
        if A < 0.6:  # no saccade worth making: the fixation simply continues
            t = t_s
            G = cur
            continue
        # eye-head coupling
        share = cfg.head_share_small + (st.head_share - cfg.head_share_small) / (1 + math.exp(-(A - st.head_onset_deg) / 3.5))
        dH = share * delta
        ecc = target - (H + dH)
        e = float(np.hypot(*ecc))
        if e > cfg.eye_comfort_deg:
            dH = dH + (e - cfg.eye_comfort_deg) * _unit(ecc)
        if new_region == "face":
            dH = dH + 0.2 * (head_rest - (H + dH))
        hA = float(np.hypot(*dH))
        # primary saccade (with undershoot) and corrective saccade
        if A > 8.0 and rng.random() < 0.7:
            under = rng.uniform(0.05, 0.12)
            D1 = add_saccade(t_s, delta * (1 - under), "primary", new_region, hA)
            t_c = t_s + D1 + rng.uniform(0.1, 0.16)
            D2 = add_saccade(t_c, delta * under, "corrective", new_region, 0.0)
            t_end = t_c + D2
        else:
            D1 = add_saccade(t_s, delta, "primary", new_region, hA)
            t_end = t_s + D1
        if hA > 0.05:
            lag = max(0.01, st.head_lag_s + rng.normal(0, 0.008))
            hd = (0.16 + 0.011 * hA) / st.head_speed * math.exp(rng.normal(0, 0.1))
            head_on.append(t_s + lag)
            head_dur.append(hd)
            head_delta.append(np.array([dH[0], dH[1], 0.0]))
            if abs(dH[1]) >= 10.0 and abs(dH[1]) > abs(dH[0]):
                turn_events.append(("turn", t_s + lag, t_s + lag + hd, abs(dH[1])))
            elif abs(dH[0]) >= 8.0:
                turn_events.append(("up_down", t_s + lag, t_s + lag + hd, abs(dH[0])))
        new_verg = math.degrees(math.atan(cfg.interocular_m / 2 / dist))
        if abs(new_verg - verg_cur) > 0.05:
            verg_on.append(t_s)
            verg_delta.append(new_verg - verg_cur)
            verg_cur = new_verg
        if A > 15.0 and rng.random() < st.gaze_evoked_blink_prob:
            evoked_blinks.append(t_s - 0.02)
        G = target
        H = H + dH
        region = new_region
        region_id = ai
        t = t_end

    # ---------------- beat nods at stressed syllables, head gestures -----------------
    # A beat nod: a down-stroke, a hold at the bottom and a recovery of the same duration,
    # centred on the stressed syllable so that the head's pitch extreme (a speed minimum)
    # coincides with it.
    nod_t = []
    busy_until = -1.0
    for ts, s in zip(cues.stress_s, cues.stress_strength):
        d, hold = rng.uniform(*NOD_STROKE_S), rng.uniform(*NOD_HOLD_S)
        tn = ts + rng.normal(0, 0.02)
        start = tn - hold / 2 - d
        if start < busy_until:
            continue
        if rng.random() < st.nod_prob * (0.5 + s):
            a = -NOD_DEG * st.nod_gain * (0.5 + s) * math.exp(rng.normal(0, 0.25))
            nod_t.append((tn, a))
            head_on += [start, tn + hold / 2]
            head_dur += [d, d]
            head_delta += [np.array([a, 0.0, 0.0]), np.array([-a, 0.0, 0.0])]
            busy_until = tn + hold / 2 + d

    gestures: list[tuple[str, float, float, float]] = []
    osc: list[tuple[int, float, float, float, float]] = []  # (channel, start, freq, cycles, amp)
    n_g = rng.poisson(st.gesture_rate_per_min / 60.0 * dur)
    g_last = -10.0
    for tg in np.sort(rng.uniform(0.5, max(0.6, dur - 2.0), n_g)):
        if tg < g_last + 0.5:
            continue
        lis = not speaking(np.array([tg]))[0]
        probs = np.array([0.6, 0.1, 0.2, 0.1]) if lis else np.array([0.35, 0.25, 0.25, 0.15])
        kind = ("nod", "shake", "tilt", "up_down")[rng.choice(4, p=probs)]
        if kind in ("nod", "shake"):
            fq, cyc, amp = rng.uniform(2.0, 3.0), rng.choice([1.5, 2.0, 2.5, 3.0]), rng.uniform(5, 12) * (0.6 if kind == "shake" else 1.0)
            length = cyc / fq
            osc.append((0 if kind == "nod" else 1, tg, fq, cyc, amp))
        else:
            ch = 2 if kind == "tilt" else 0
            amp = rng.uniform(5, 12) if kind == "tilt" else rng.uniform(8, 15)
            sign = rng.choice([-1.0, 1.0]) if kind == "tilt" else (1.0 if rng.random() < 0.6 else -1.0)
            rise, hold, fall = rng.uniform(0.25, 0.4), rng.uniform(0.4, 1.4), rng.uniform(0.3, 0.5)
            head_on += [tg, tg + rise + hold]
            head_dur += [rise, fall]
            vec = np.zeros(3)
            vec[ch] = sign * amp
            head_delta += [vec, -vec]
            length = rise + hold + fall
        gestures.append((kind, tg, tg + length, float(amp)))
        g_last = tg + length

    # ---------------- blinks -----------------------------------------------------------
    # A renewal process (gamma intervals, shape 2, ≥ 0.5 s apart) at the style's rate; each
    # gaze-evoked blink then takes over the nearest spontaneous blink within 1.5 s (or is
    # added when there is none), so large gaze shifts carry blinks and the rate still holds.
    rate = st.blink_rate_per_min / 60.0
    n_b = int(rate * dur * 1.5) + 4
    b_on = np.cumsum(np.maximum(0.5, rng.gamma(2.0, 1.0 / (2.0 * rate), n_b))) - rng.uniform(0, 1.0 / rate)
    b_on = b_on[(b_on >= 0) & (b_on < dur - 0.3)]
    b_ev = np.zeros(len(b_on), bool)
    for te in evoked_blinks:
        if te < 0 or te >= dur - 0.3:
            continue
        free = np.flatnonzero(~b_ev)
        j = free[np.argmin(np.abs(b_on[free] - te))] if len(free) else -1
        if j >= 0 and abs(b_on[j] - te) < 1.5:
            b_on[j] = te
            b_ev[j] = True
        else:
            b_on = np.append(b_on, te)
            b_ev = np.append(b_ev, True)
    order = np.argsort(b_on, kind="stable")
    b_on, b_ev = b_on[order], b_ev[order]
    keep = np.concatenate([[True], np.diff(b_on) >= 0.4]) if len(b_on) else np.zeros(0, bool)
    b_on, b_ev = b_on[keep], b_ev[keep]
    nb = len(b_on)
    b_close = rng.uniform(0.06, 0.09, nb)
    b_hold = rng.uniform(0.02, 0.06, nb)
    b_open = rng.uniform(0.12, 0.2, nb)
    b_amp = np.where(rng.random(nb) < 0.15, rng.uniform(0.5, 0.9, nb), 1.0)

    # ---------------- render at the simulation rate -----------------------------------
    R = cfg.sim_rate
    step = R // FPS
    N = T * step
    ts_ = np.arange(N) / R
    s_on = np.asarray(sac["onset_s"], np.float64)
    s_order = np.argsort(s_on, kind="stable")
    # initial gaze = first planned position: reconstruct from the final position and deltas
    d_all = np.asarray(sac_delta, np.float64).reshape(-1, 2)
    init = (G - d_all.sum(0)) if len(d_all) else G
    gaze = init + superpose(ts_, s_on[s_order], np.asarray(sac["duration_s"])[s_order], d_all[s_order], _profile_saccade)
    gaze += _ou(nrng, N, 2, st.drift_deg, 0.4, R) + nrng.standard_normal((N, 2)) * cfg.tremor_deg

    h_on = np.asarray(head_on, np.float64)
    h_order = np.argsort(h_on, kind="stable")
    h_d = np.asarray(head_delta, np.float64).reshape(-1, 3)
    head = superpose(ts_, h_on[h_order], np.asarray(head_dur)[h_order], h_d[h_order], _profile_minjerk)
    head[:, 0:2] += head_rest
    head[:, 2] += st.head_roll_rest
    for ch, tg, fq, cyc, amp in osc:
        a, b = int(tg * R), min(N, int((tg + cyc / fq) * R) + 1)
        if a >= N:
            continue
        tt = ts_[a:b] - tg
        win = np.sin(np.pi * np.clip(tt * fq / cyc, 0, 1))  # smooth on/offset envelope
        sgn = -1.0 if ch == 0 else 1.0  # nods start downwards
        head[a:b, ch] += sgn * amp * win * np.sin(2 * np.pi * fq * tt)
    # sway (calmer when silent) and loudness-driven pitch, computed at 25 fps then interpolated
    fr_t = np.arange(T) / FPS
    spk_f = speaking(fr_t).astype(np.float64)
    from scipy.ndimage import gaussian_filter1d

    activity = gaussian_filter1d(spk_f + (1 - spk_f) * st.listening_calm, 12.0)
    sway = _lowpass_noise(nrng, T, 3, 0.35, FPS) * st.sway_deg * np.array([1.0, 1.0, 0.6]) * activity[:, None]
    env_i = np.clip((np.arange(T) * ENV_RATE / FPS).astype(int), 0, len(cues.energy_db) - 1)
    loud = np.clip((cues.energy_db[env_i] + 30.0) / 30.0, 0.0, 1.0) * spk_f
    loud = gaussian_filter1d(loud, 8.0)
    sway[:, 0] += st.speech_head_gain * 2.0 * (loud - loud.mean())
    head += np.stack([np.interp(ts_, fr_t, sway[:, c]) for c in range(3)], axis=1)

    # vergence (per-eye inward rotation), blinks
    v_on = np.asarray(verg_on, np.float64)
    verg_sig = verg + superpose(ts_, v_on, np.full(len(v_on), 0.2), np.asarray(verg_delta).reshape(-1, 1), _profile_minjerk)[:, 0]
    blink = _blink_profile(ts_, b_on, b_close, b_hold, b_open, b_amp)
    gaze[:, 0] -= cfg.blink_eye_drop_deg * blink
    # imperfect VOR: a fraction of fast head motion leaks into world gaze
    from scipy.signal import lfilter

    a = math.exp(-1.0 / (0.25 * R))
    head_lp = lfilter([1 - a], [1, -a], head[:, :2] - head[0, :2], axis=0) + head[0, :2]
    gaze += (1.0 - cfg.vor_gain) * (head[:, :2] - head_lp)

    # ---------------- sample frames, compose eye-in-head -------------------------------
    idx = np.arange(T) * step
    hf, gf = head[idx], gaze[idx]
    Rh = head_rotation_matrix(hf[:, 0], hf[:, 1], hf[:, 2])
    d_world = angles_to_vector(gf[:, 0], gf[:, 1])
    e_pitch, e_yaw = vector_to_angles(np.einsum("tji,tj->ti", Rh, d_world))  # R^T d
    noise = nrng.standard_normal((T, 4)) * cfg.tracker_noise_deg
    noise += np.tile(nrng.standard_normal((T, 2)) * cfg.tracker_noise_shared_deg, (1, 2))
    vf = verg_sig[idx]
    data = np.empty((T, 7), np.float64)
    data[:, 0:3] = hf
    data[:, 3] = e_pitch + noise[:, 0]
    data[:, 4] = e_yaw - vf + noise[:, 1]
    data[:, 5] = e_pitch + noise[:, 2]
    data[:, 6] = e_yaw + vf + noise[:, 3]
    data[:, 3:7] = np.clip(data[:, 3:7], -cfg.eye_range_deg, cfg.eye_range_deg)
    blink_f = blink.reshape(T, step).mean(axis=1)  # the eyelid averaged over the frame exposure

    # ---------------- labels -----------------------------------------------------------
    half = 0.5 / FPS
    kinds = np.asarray(sac["kind"])
    gaze_lab = np.zeros(T + 1, np.int64)
    real = kinds != "micro"
    so, sd = s_on[real], np.asarray(sac["duration_s"])[real]
    a0 = np.clip(np.ceil((so - half) * FPS).astype(int), 0, T)
    a1 = np.clip(np.floor((so + sd + half) * FPS).astype(int) + 1, 0, T)
    np.add.at(gaze_lab, a0, 1)
    np.add.at(gaze_lab, a1, -1)
    gaze_lab = (np.cumsum(gaze_lab)[:T] > 0).astype(np.int64)
    # per-frame gesture labels; `src` remembers which event wrote each frame, so that the
    # event table is read back from the final frames (explicit gestures, written last, win)
    gest_lab = np.zeros(T, np.int64)
    src = np.full(T, -1, np.int64)
    all_gestures = turn_events + gestures
    for k, (lab, s0, s1, _amp) in enumerate(all_gestures):
        f0, f1 = int(round(s0 * FPS)), min(T, int(round(s1 * FPS)) + 1)
        if f0 >= T or f1 <= f0:
            continue
        gest_lab[f0:f1] = GESTURE_LABELS.index(lab)
        src[f0:f1] = k
    gest_tab = {"label": [], "start_frame": [], "end_frame": [], "amplitude_deg": []}
    for c0, c1 in _runs(src >= 0):
        for d0, d1 in _split_by_value(src, int(c0), int(c1)):
            gest_tab["label"].append(GESTURE_LABELS[gest_lab[d0]])
            gest_tab["start_frame"].append(d0)
            gest_tab["end_frame"].append(d1)
            gest_tab["amplitude_deg"].append(round(float(all_gestures[src[d0]][3]), 3))

    def _r(values, nd=4):
        return [round(float(v), nd) for v in values]

    sac_tab = {
        "onset_s": _r(s_on[s_order]),
        "duration_s": _r(np.asarray(sac["duration_s"])[s_order]),
        "amplitude_deg": _r(np.asarray(sac["amplitude_deg"])[s_order], 3),
        "peak_velocity_deg_s": _r(np.asarray(sac["peak_velocity_deg_s"])[s_order], 1),
        "head_amplitude_deg": _r(np.asarray(sac["head_amplitude_deg"])[s_order], 3),
        "kind": [str(k) for k in kinds[s_order]],
        "region": [str(r) for r in np.asarray(sac["region"])[s_order]],
    }
    events = {
        "fps": FPS,
        "num_frames": T,
        "gaze_labels": list(GAZE_LABELS),
        "gesture_labels": list(GESTURE_LABELS),
        "gaze": gaze_lab.tolist(),
        "gesture": gest_lab.tolist(),
        "blink_frames": (blink_f >= 0.5).astype(int).tolist(),
        "saccades": sac_tab,
        "blinks": {
            "onset_s": _r(b_on),
            "duration_s": _r(b_close + b_hold + b_open),
            "amplitude": _r(b_amp, 3),
            "evoked": [bool(v) for v in b_ev],
        },
        "gestures": gest_tab,
        "aversions": {"start_s": _r(aversions[:, 0]), "end_s": _r(aversions[:, 1])},
        "beat_nods_s": _r([n[0] for n in nod_t]),
        "utterances": [_r(u) for u in cues.utterances],
        "listening": [_r(u) for u in cues.listening],
        "stress_s": _r(cues.stress_s, 2),
    }
    motion = Motion(data.astype(np.float32), FPS, blink=np.clip(blink_f, 0, 1).astype(np.float32), events=events)
    internal = None
    if return_internal:
        internal = {"t": ts_, "world_gaze": gaze, "head": head, "blink": blink}
    return SynthResult(motion=motion, events=events, style=style, cues=cues, internal=internal)


def _split_by_value(lab: np.ndarray, a: int, b: int) -> list[tuple[int, int]]:
    """Split [a, b) into runs of constant ``lab`` value."""
    seg = lab[a:b]
    cuts = np.flatnonzero(np.diff(seg)) + 1
    edges = np.concatenate([[0], cuts, [len(seg)]]) + a
    return [(int(edges[i]), int(edges[i + 1])) for i in range(len(edges) - 1)]


def procedural_generate(
    audio: np.ndarray,
    *,
    style: SynthStyle | None = None,
    seed: int | None = None,
) -> Motion:
    """The rule-based baseline: SynHAGE motion for ``audio`` (``stygaze generate --model procedural``).

    Args:
        audio: ``(S,)`` float waveform at 16 kHz.
        style: a :class:`SynthStyle`; the default (mid-range) style when None, so the
            baseline is a typical speaker rather than a random one.
        seed: for the random parts (fixation timing, targets, blinks); None = 0.

    Returns:
        25 fps :class:`Motion` of ``round(S / 640)`` frames with a ``blink`` channel and the
        labelled ``events``.
    """
    return synthesize(audio, style=style or SynthStyle(), seed=0 if seed is None else seed).motion


def head_share_by_amplitude(sessions) -> dict[str, tuple[float | None, int]]:
    """How much of each primary gaze shift the head carries, pooled by shift amplitude.

    For every ``primary`` saccade in the events (onset frame f0 ≥ 1 with 15 frames after it),
    the world-gaze shift over 0.2 s (frames f0 → f0+5) gives the direction and amplitude A
    (shifts under 1° are skipped); the head's (pitch, yaw) displacement along that direction
    over 0.6 s (f0 → f0+15) is pooled per amplitude bin (< 10°, 10–20°, ≥ 20°) and divided by
    the pooled amplitudes.

    Args:
        sessions: iterable of ``(motion, events)`` pairs (25 fps :class:`Motion`, the
            ``events`` dict of :class:`SynthResult` / ``events.json``).

    Returns:
        ``{"<10" | "10-20" | ">=20": (share or None when the bin is empty, number of shifts)}``.
    """
    pooled = {"<10": [0.0, 0.0, 0], "10-20": [0.0, 0.0, 0], ">=20": [0.0, 0.0, 0]}  # along, amplitude, count
    for m, events in sessions:
        sac = (events or {}).get("saccades", {})
        wg, head = m.world_gaze_angles(), m.head[:, :2]
        for on, kind in zip(sac.get("onset_s", []), sac.get("kind", [])):
            f0 = int(np.floor(on * 25))
            if kind != "primary" or f0 < 1 or f0 + 15 >= len(m):
                continue
            dg = wg[f0 + 5] - wg[f0]
            amp = float(np.linalg.norm(dg))
            if amp < 1.0:
                continue
            b = pooled["<10" if amp < 10 else ("10-20" if amp < 20 else ">=20")]
            b[0] += float((head[f0 + 15] - head[f0]) @ (dg / amp))
            b[1] += amp
            b[2] += 1
    return {k: (along / amp if amp else None, n) for k, (along, amp, n) in pooled.items()}
