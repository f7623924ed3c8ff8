"""Deprecated alias of :mod:`stygaze.data.synhage` (removed in 0.3)."""

from stygaze._compat import moved

moved(__name__, "stygaze.data.synhage")
