"""SynHAGE: the procedural, physiologically grounded gaze + head corpus with exact labels."""

from stygaze.data.synhage.synth import (  # noqa: F401
    GAZE_LABELS,
    GESTURE_LABELS,
    SpeechCues,
    SynthConfig,
    SynthResult,
    SynthStyle,
    analyze_speech,
    head_share_by_amplitude,
    procedural_generate,
    synthesize,
)
