"""Deprecated: the models moved to :mod:`stygaze.stygazetalk`, :mod:`stygaze.cvae` and :mod:`stygaze.omnihead`."""
