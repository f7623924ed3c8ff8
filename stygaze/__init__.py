"""stygaze: speech-driven, style-controllable gaze and head motion, and metrics for it.

::

    from stygaze import Motion, StyGazeTalk, HeadCVAE
    motion = StyGazeTalk.from_pretrained().generate("talk.wav")   # Motion (T, 7) degrees, 25 fps

The motion contract lives in :mod:`stygaze.motion`, constants in :mod:`stygaze.audio`
(``SAMPLE_RATE``, ``FPS``). The model classes are imported on first use, so
``import stygaze`` stays light (no torch until a model is touched).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from stygaze.audio import FPS, SAMPLE_RATE
from stygaze.errors import StygazeError
from stygaze.motion import CHANNELS, Motion
from stygaze.version import __version__

_LAZY = {
    "StyGazeTalk": "stygaze.stygazetalk.pipeline",
    "StyleVector": "stygaze.stygazetalk.pipeline",
    "HeadCVAE": "stygaze.cvae.model",
    "OmniHead": "stygaze.omnihead.model",
}

if TYPE_CHECKING:  # pragma: no cover
    from stygaze.cvae.model import HeadCVAE
    from stygaze.omnihead.model import OmniHead
    from stygaze.stygazetalk.pipeline import StyGazeTalk, StyleVector

__all__ = ["CHANNELS", "FPS", "SAMPLE_RATE", "HeadCVAE", "Motion", "OmniHead", "StyGazeTalk", "StyleVector", "StygazeError", "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'stygaze' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
