"""Deprecated alias of :mod:`stygaze.stygazetalk.audio_encoder` (removed in 0.3)."""

from stygaze._compat import moved

moved(__name__, "stygaze.stygazetalk.audio_encoder")
