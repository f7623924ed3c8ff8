"""Make the two reference style clips of ``notebooks/style_transfer.ipynb`` (committed outputs).

``calm.npz`` and ``lively.npz``: 20 s SynHAGE motion (25 fps, 7 channels, degrees + blink)
of two contrasting speakers, synthesised on the same espeak-ng conversation with
hand-picked :class:`~stygaze.data.synhage.style.SynthStyle` parameters at opposite ends of their
ranges (long vs short fixations, small vs large saccades, eye-led vs head-led gaze shifts,
few vs many nods and aversions; looking slightly down with the head tilted one way vs up and
tilted the other way). Needs espeak-ng. Deterministic::

    .venv/bin/python examples/styles/make_styles.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from stygaze.data.synhage.speech import synth_conversation  # noqa: E402
from stygaze.data.synhage import SynthStyle, synthesize  # noqa: E402

SECONDS = 20.0
STYLES = {
    "calm": SynthStyle(
        fixation_mean_s=0.40, fixation_shape=5.0, amplitude_scale=0.6, face_spread_deg=1.0,
        aversion_tendency=0.1, aversion_rate_hz=0.02, aversion_hold_s=0.7, aversion_amplitude_deg=8.0,
        head_share=0.25, head_onset_deg=23.0, nod_prob=0.3, nod_gain=0.5, sway_deg=0.4,
        speech_head_gain=0.0, gesture_rate_per_min=1.0, microsaccade_rate_hz=0.2, listening_calm=0.45,
        gaze_centre_pitch=-4.0, head_pitch_rest=-4.0, head_roll_rest=-3.0,
    ),
    "lively": SynthStyle(
        fixation_mean_s=0.18, fixation_shape=2.0, amplitude_scale=1.6, face_spread_deg=3.5,
        aversion_tendency=0.9, aversion_rate_hz=0.2, aversion_hold_s=1.5, aversion_amplitude_deg=24.0,
        head_share=0.75, head_onset_deg=11.0, nod_prob=0.85, nod_gain=1.8, sway_deg=2.2,
        speech_head_gain=1.0, gesture_rate_per_min=7.0, microsaccade_rate_hz=1.5, listening_calm=0.95,
        gaze_centre_pitch=3.0, head_pitch_rest=4.0, head_roll_rest=3.0,
    ),
}


def main() -> None:
    conv = synth_conversation(SECONDS, np.random.default_rng(20))
    for i, (name, style) in enumerate(STYLES.items()):
        motion = synthesize(conv.audio, style=style, seed=100 + i).motion
        motion.events = None  # the clip is a style reference: motion + blink only
        path = motion.save(HERE / f"{name}.npz")
        print(f"{path.name}: {len(motion)} frames, {path.stat().st_size / 1024:.0f} kB")


if __name__ == "__main__":
    main()
