"""stygaze: speech-driven, style-controllable gaze and head motion, and metrics for it.

The motion contract lives in :mod:`stygaze.motion` (``Motion``: (T, 7) degrees at 25 fps),
constants in :mod:`stygaze.audio` (``SAMPLE_RATE``, ``FPS``).
"""

__version__ = "0.1.0"

from stygaze.audio import FPS, SAMPLE_RATE
from stygaze.errors import StygazeError
from stygaze.motion import CHANNELS, Motion

__all__ = ["CHANNELS", "FPS", "SAMPLE_RATE", "Motion", "StygazeError", "__version__"]
