"""SynHAGE: :func:`synthesize`, the speech → gaze + head synthesizer, as a chain of named phases.

1. :func:`~stygaze.data.synhage.cues.analyze_speech` — voice activity, utterances, listening
   stretches and stressed syllables, from the audio only;
2. :func:`~stygaze.data.synhage.plan.plan_motion` — the events in continuous time (aversions,
   fixations and saccades with their head part, beat nods, gestures, blinks);
3. :func:`~stygaze.data.synhage.simulate.simulate` — the events rendered at 250 Hz (saccade and
   minimum-jerk profiles, eye–head coupling, VOR, drift, sway);
4. :func:`~stygaze.data.synhage.simulate.sample_frames` — 25 fps frames, eye-in-head, tracker noise;
5. :func:`~stygaze.data.synhage.labels.make_events` — the exact labels.

One seed gives three independent random streams (style, plan, noise), so the same audio,
style and seed always give the same motion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stygaze.audio import FPS, SAMPLE_RATE, num_frames
from stygaze.data.synhage.config import SynthConfig
from stygaze.data.synhage.cues import SpeechCues, analyze_speech
from stygaze.data.synhage.labels import make_events
from stygaze.data.synhage.plan import plan_motion
from stygaze.data.synhage.simulate import sample_frames, simulate
from stygaze.data.synhage.style import SynthStyle
from stygaze.errors import AudioError
from stygaze.motion import Motion


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
        config: the fixed constants (:class:`SynthConfig`).
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

    cfg = config or SynthConfig()
    if cfg.sim_rate % FPS:
        raise ValueError(f"sim_rate must be a multiple of {FPS}, got {cfg.sim_rate}")
    audio = _check_audio(audio)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    style_ss, plan_ss, noise_ss = ss.spawn(3)
    if style is None:
        style = SynthStyle.sample(np.random.default_rng(style_ss))
    plan_rng = np.random.default_rng(plan_ss)
    noise_rng = np.random.default_rng(noise_ss)

    T = num_frames(len(audio))
    cues = analyze_speech(audio, cfg)
    plan = plan_motion(cues, style, cfg, plan_rng, T / FPS)
    sim = simulate(plan, cues, style, cfg, noise_rng, T)
    data, blink = sample_frames(sim, cfg, noise_rng, T)
    events = make_events(plan, cues, blink, T, cfg)

    motion = Motion(data.astype(np.float32), FPS, blink=np.clip(blink, 0, 1).astype(np.float32), events=events)
    internal = None
    if return_internal:
        internal = {"t": sim.t, "world_gaze": sim.world_gaze, "head": sim.head, "blink": sim.blink}
    return SynthResult(motion=motion, events=events, style=style, cues=cues, internal=internal)


_MOVED = {
    "GAZE_LABELS": "stygaze.data.synhage.labels",
    "GESTURE_LABELS": "stygaze.data.synhage.labels",
    "head_share_by_amplitude": "stygaze.data.synhage.labels",
    "superpose": "stygaze.data.synhage.simulate",
    "procedural_generate": "stygaze.data.procedural",
}


def __getattr__(name: str) -> Any:
    """Names that lived in this module before the synthesizer was split into phases (one release)."""
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    import warnings

    from stygaze._compat import REMOVED_IN

    new = _MOVED[name]
    msg = f"{__name__}.{name} moved to {new}.{name}; the old path goes away in stygaze {REMOVED_IN}"
    warnings.warn(msg, DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(new), name)
