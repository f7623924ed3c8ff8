"""SynHAGE: the procedural, physiologically grounded gaze + head corpus with exact labels.

Given 16 kHz speech audio, :func:`synthesize` produces 25 fps 7-DoF :class:`~stygaze.motion.Motion`
(with a ``blink`` channel) and exact labelled events. The synthesizer is a chain of phases,
one module each:

* :mod:`~stygaze.data.synhage.style` — :class:`SynthStyle`, the per-speaker style prior;
* :mod:`~stygaze.data.synhage.config` — :class:`SynthConfig`, every fixed constant with unit and source;
* :mod:`~stygaze.data.synhage.cues` — :func:`analyze_speech` → :class:`SpeechCues`;
* :mod:`~stygaze.data.synhage.plan` — the events in continuous time;
* :mod:`~stygaze.data.synhage.simulate` — the 250 Hz signals and the 25 fps frames;
* :mod:`~stygaze.data.synhage.labels` — per-frame labels and event tables;
* :mod:`~stygaze.data.synhage.synth` — :func:`synthesize`, which calls them in order;
* :mod:`~stygaze.data.synhage.speech` — espeak-ng conversations / the user's audio files.

What is modelled, with sources, and its calibration against real people (head amplitude and
speed of real talking heads, fixation and gaze-shift statistics of real video calls,
``scripts/calibrate_synhage.py``): ``docs/data-synhage.md``. :func:`procedural_generate`
(:mod:`stygaze.data.procedural`) is the rule-based baseline model.
"""

from stygaze.data.synhage.config import SynthConfig  # noqa: F401
from stygaze.data.synhage.cues import SpeechCues, analyze_speech  # noqa: F401
from stygaze.data.synhage.labels import (  # noqa: F401
    GAZE_LABELS,
    GESTURE_LABELS,
    head_share_by_amplitude,
)
from stygaze.data.synhage.style import SynthStyle  # noqa: F401
from stygaze.data.synhage.synth import SynthResult, synthesize  # noqa: F401
