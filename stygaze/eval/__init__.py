"""stygaze.eval: pure numpy metric functions and a report builder on top of them.

Importing this package is light (numpy, plus numba for I-DT); librosa, scipy and matplotlib
are imported inside the functions that need them.

* :mod:`~stygaze.eval.idt`: I-DT fixations (Salvucci & Goldberg), numba-compiled.
* :mod:`~stygaze.eval.patterns`: FixRatio, CompScore, Sim (Table IV).
* :mod:`~stygaze.eval.events`: fixation/saccade detection (I-DT with per-axis dispersion,
  I-VT, a noise-adaptive threshold, the ``"conversation"`` preset), behaviour distributions
  and ``event_sim``.
* :mod:`~stygaze.eval.compensation`: VOR gain, head share of gaze shifts, eye–head latency.
* :mod:`~stygaze.eval.frame`: MAE, Vel, MEE (Table II) on channel groups ALL/GAZE/HEAD.
* :mod:`~stygaze.eval.beats`: motion/audio beats and the Beat Alignment Score.
* :mod:`~stygaze.eval.style`: style error hook (1 − cos of style embeddings).
* :mod:`~stygaze.eval.recognition`: frame/event F1 (CCDb-HG), angular error, CCC.
* :mod:`~stygaze.eval.report`: :class:`EvalAccumulator`, :func:`evaluate_pair`, tables.
"""

from stygaze.eval.beats import audio_beats, beat_alignment_score, motion_beats
from stygaze.eval.compensation import compensation_stats, vor_gain
from stygaze.eval.events import (
    PRESETS,
    EventStats,
    compare_events,
    detect_events,
    event_sim,
    event_stats,
)
from stygaze.eval.frame import (
    ALL,
    GAZE,
    HEAD,
    mae,
    motion_energy,
    motion_energy_error,
    vel_error,
)
from stygaze.eval.idt import (
    events_to_mask,
    fixation_mask,
    idt_fixations,
    min_samples_for,
)
from stygaze.eval.patterns import comp_score, fix_ratio, sim_score
from stygaze.eval.recognition import (
    angular_error_deg,
    ccc,
    event_f1,
    event_scores,
    frame_f1,
)
from stygaze.eval.report import EvalAccumulator, evaluate_pair, format_tables
from stygaze.eval.style import style_error

__all__ = [
    "ALL",
    "GAZE",
    "HEAD",
    "EvalAccumulator",
    "EventStats",
    "PRESETS",
    "angular_error_deg",
    "audio_beats",
    "beat_alignment_score",
    "ccc",
    "comp_score",
    "compare_events",
    "compensation_stats",
    "detect_events",
    "evaluate_pair",
    "event_f1",
    "event_sim",
    "event_stats",
    "event_scores",
    "events_to_mask",
    "fix_ratio",
    "fixation_mask",
    "format_tables",
    "frame_f1",
    "idt_fixations",
    "mae",
    "min_samples_for",
    "motion_beats",
    "motion_energy",
    "motion_energy_error",
    "sim_score",
    "style_error",
    "vel_error",
    "vor_gain",
]
