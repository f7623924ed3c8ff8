"""Deprecated alias of :mod:`stygaze.cvae.pipeline` (removed in 0.3)."""

from stygaze._compat import moved

moved(__name__, "stygaze.cvae.pipeline")
