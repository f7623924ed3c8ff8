"""Input files that are safe to open: a regular file, or a clear one-line error.

Opening a FIFO blocks until something writes to it, and ``Path.exists()`` calls a symlink loop
"missing"; readers call :func:`require_regular_file` (or :func:`file_problem`) before opening.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from stygaze.errors import DataError, StygazeError

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"))


def file_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as a file (``"not found"``, ``"a symlink loop"``, ``"a FIFO (named pipe)"``, ...), or None."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop"
        if exc.errno == errno.ENOENT:
            return "a broken symlink" if os.path.islink(path) else "not found"
        return exc.strerror or type(exc).__name__
    if stat.S_ISREG(st.st_mode):
        return None
    return next((kind for test, kind in _KINDS if test(st.st_mode)), "not a regular file")


def require_regular_file(path: str | os.PathLike, what: str = "file", error: type[StygazeError] = DataError) -> Path:
    """``path`` as a :class:`Path` when it is a regular file (symlinks followed).

    Raises:
        ``error``: one line, e.g. ``audio file /x/audio.wav is a FIFO (named pipe), not a regular file``.
    """
    problem = file_problem(path)
    if problem is None:
        return Path(path)
    if problem == "not found":
        raise error(f"{what} not found: {path}")
    if problem.startswith("a "):
        raise error(f"{what} {path} is {problem}, not a regular file")
    raise error(f"{what} {path}: {problem}")
