"""The SynHAGE style prior: :class:`SynthStyle`, a speaker's interpretable per-session parameters.

Every field carries its sampling range, unit and a one-line meaning; :meth:`SynthStyle.sample`
draws a speaker, :meth:`SynthStyle.to_vector` gives the ``[0, 1]^P`` ground-truth style vector
that a learned style encoder is checked against. Literature sources: ``docs/data-synhage.md``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from stygaze.errors import StyleError


def _p(default: float, lo: float, hi: float, unit: str, doc: str, log: bool = False) -> Any:
    return field(default=default, metadata={"range": (lo, hi), "unit": unit, "doc": doc, "log": log})


@dataclass(frozen=True)
class SynthStyle:
    """The per-session style of a SynHAGE speaker: interpretable, documented parameters.

    Each field's metadata holds its sampling ``range`` (drawn uniformly, log-uniformly
    where ``log``), its ``unit`` and a one-line ``doc``. :meth:`sample` draws a style;
    :meth:`to_vector` maps it to ``[0, 1]^P`` (the ground-truth style vector that the
    learned style encoder is checked against). Literature sources: ``docs/data-synhage.md``.
    """

    fixation_mean_s: float = _p(0.2, 0.13, 0.29, "s", "mean fixation duration while speaking (≈ 1/saccade rate)")
    fixation_shape: float = _p(3.0, 2.0, 5.0, "", "gamma shape of fixation durations (higher = more regular)")
    amplitude_scale: float = _p(1.0, 0.5, 1.7, "×", "scales within-face and aversion saccade amplitudes")
    face_spread_deg: float = _p(1.2, 0.6, 2.4, "deg", "spread of fixation points on the partner's face")
    gaze_centre_pitch: float = _p(0.0, -5.0, 4.0, "deg", "where the partner's face is (gaze centre bias), pitch")
    gaze_centre_yaw: float = _p(0.0, -6.0, 6.0, "deg", "where the partner's face is (gaze centre bias), yaw")
    aversion_tendency: float = _p(0.5, 0.1, 0.9, "prob", "probability of averting gaze at an utterance start")
    aversion_rate_hz: float = _p(0.8, 0.15, 4.0, "1/s", "spontaneous aversions per second while speaking", log=True)
    aversion_hold_s: float = _p(0.9, 0.4, 2.0, "s", "mean duration of a gaze aversion")
    aversion_spread_deg: float = _p(8.0, 4.0, 12.0, "deg", "step between consecutive fixations of one gaze aversion (std)")
    aversion_amplitude_deg: float = _p(24.0, 15.0, 34.0, "deg", "typical eccentricity of averted gaze")
    aversion_direction_deg: float = _p(45.0, -180.0, 180.0, "deg", "preferred aversion direction (0 = left, 90 = up)")
    aversion_focus: float = _p(1.5, 0.0, 4.0, "", "von Mises concentration of aversion direction (0 = any)")
    head_share: float = _p(0.45, 0.2, 0.7, "fraction", "head contribution to large gaze shifts")
    head_onset_deg: float = _p(17.0, 11.0, 23.0, "deg", "gaze-shift amplitude at which the head share is half")
    head_lag_s: float = _p(0.035, 0.02, 0.05, "s", "head movement onset after the eye's")
    head_speed: float = _p(1.0, 0.7, 1.4, "×", "head movement speed (duration divisor)")
    nod_prob: float = _p(0.7, 0.45, 0.95, "prob", "probability that a stressed syllable carries a beat nod")
    nod_gain: float = _p(1.0, 0.5, 1.8, "×", "amplitude of beat nods (× SynthConfig.nod_depth_deg)")
    sway_deg: float = _p(1.7, 0.6, 3.0, "deg", "slow postural head sway, std (× SynthConfig.sway_axis_gain per axis: mostly roll)")
    speech_motion_deg: float = _p(
        0.6, 0.25, 1.5, "deg", "speech-driven head movement: std of the head pose at each stressed syllable", log=True
    )
    head_roll_scale: float = _p(1.2, 0.5, 2.0, "×", "roll of sway, speech-driven movement and beats relative to yaw", log=True)
    speech_head_gain: float = _p(0.5, 0.0, 1.0, "×", "head pitch following speech loudness (× SynthConfig.speech_head_deg)")
    head_pitch_rest: float = _p(0.0, -5.0, 5.0, "deg", "resting head pitch")
    head_roll_rest: float = _p(0.0, -4.0, 4.0, "deg", "resting head roll")
    gesture_rate_per_min: float = _p(3.0, 1.0, 7.0, "1/min", "labelled head gestures per minute", log=True)
    blink_rate_per_min: float = _p(19.0, 12.0, 28.0, "1/min", "blink rate")
    gaze_evoked_blink_prob: float = _p(0.3, 0.1, 0.6, "prob", "probability of a blink with a gaze shift > 20°")
    drift_deg: float = _p(0.1, 0.05, 0.2, "deg", "std of fixational drift")
    microsaccade_rate_hz: float = _p(1.2, 0.5, 2.5, "1/s", "microsaccades per second of fixation", log=True)
    partner_distance_m: float = _p(1.0, 0.7, 1.6, "m", "distance to the partner (sets vergence)")
    listening_calm: float = _p(0.7, 0.45, 0.95, "×", "head sway multiplier in pauses / listening")

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
