"""Deprecated alias of :mod:`stygaze.stygazetalk.generator` (removed in 0.3)."""

from stygaze._compat import moved

moved(__name__, "stygaze.stygazetalk.generator")
