"""Old import paths kept for one release after the package re-layout."""

from __future__ import annotations

import importlib
import sys
import warnings

REMOVED_IN = "0.3"


def _caller_stacklevel(old: str) -> int:
    """Stack level of the first frame outside this module, the old module and the import machinery."""
    frame, level = sys._getframe(1), 1
    while frame is not None and (
        frame.f_code.co_filename == __file__
        or frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_globals.get("__name__") == old
    ):
        frame, level = frame.f_back, level + 1
    return level


def warn_moved(old: str, new: str) -> None:
    """Warn (DeprecationWarning, attributed to the importing code) that module ``old`` moved to ``new``."""
    warnings.warn(
        f"{old} moved to {new}; the old path goes away in stygaze {REMOVED_IN}",
        DeprecationWarning,
        stacklevel=_caller_stacklevel(old),
    )


def moved(old: str, new: str) -> None:
    """Make module ``old`` an alias of ``new`` (the same module object) and warn on import."""
    warn_moved(old, new)
    sys.modules[old] = importlib.import_module(new)
