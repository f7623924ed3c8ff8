"""Deprecated alias of :mod:`stygaze.cvae.model` (removed in 0.3)."""

from stygaze._compat import moved

moved(__name__, "stygaze.cvae.model")
