"""Deprecated: OmniHead moved to :mod:`stygaze.omnihead` (config, video_swin, decoder, model, loss,
inference); this module re-exports their public names until 0.3."""

from stygaze._compat import warn_moved

warn_moved(__name__, "stygaze.omnihead")

from stygaze.omnihead.config import *  # noqa: E402,F401,F403
from stygaze.omnihead.decoder import *  # noqa: E402,F401,F403
from stygaze.omnihead.inference import *  # noqa: E402,F401,F403
from stygaze.omnihead.loss import *  # noqa: E402,F401,F403
from stygaze.omnihead.model import *  # noqa: E402,F401,F403
from stygaze.omnihead.video_swin import *  # noqa: E402,F401,F403
