"""Deprecated: SynHAGE moved to :mod:`stygaze.data.synhage` and the baseline to
:mod:`stygaze.data.procedural`; this module re-exports their public names until 0.3."""

from stygaze._compat import warn_moved

warn_moved(__name__, "stygaze.data.synhage")

from stygaze.data.procedural import procedural_generate  # noqa: E402,F401
from stygaze.data.synhage import *  # noqa: E402,F401,F403
from stygaze.data.synhage.synth import *  # noqa: E402,F401,F403
