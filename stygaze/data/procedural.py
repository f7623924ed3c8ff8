"""The rule-based baseline model: SynHAGE motion of a typical speaker for any speech.

``stygaze generate --model procedural`` calls :func:`procedural_generate`: no learned part,
the default (mid-range) :class:`~stygaze.data.synhage.style.SynthStyle`, the same rules as the
corpus. A floor for what a learned model must beat on real speech.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from stygaze.data.synhage.style import SynthStyle
from stygaze.data.synhage.synth import synthesize

if TYPE_CHECKING:
    from stygaze.motion import Motion


def procedural_generate(
    audio: np.ndarray,
    *,
    style: SynthStyle | None = None,
    seed: int | None = None,
) -> Motion:
    """The rule-based baseline: SynHAGE motion for ``audio`` (``stygaze generate --model procedural``).

    Args:
        audio: ``(S,)`` float waveform at 16 kHz.
        style: a :class:`~stygaze.data.synhage.style.SynthStyle`; the default (mid-range)
            style when None, so the baseline is a typical speaker rather than a random one.
        seed: for the random parts (fixation timing, targets, blinks); None = 0.

    Returns:
        25 fps :class:`~stygaze.motion.Motion` of ``round(S / 640)`` frames with a ``blink``
        channel and the labelled ``events``.
    """
    return synthesize(audio, style=style or SynthStyle(), seed=0 if seed is None else seed).motion
