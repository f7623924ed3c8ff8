"""One writer per output folder: a non-blocking ``fcntl.flock`` on a lock file inside it.

A writer that holds :func:`folder_lock` knows no other stygaze process writes the folder, so
temporary entries left there (``.<name>.<random>.part``, see :func:`stygaze.io.atomic_dir`)
belong to a process that died and may be removed (:func:`remove_stale_parts`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from stygaze.errors import StygazeError
from stygaze.io import temporary_glob

LOCK_NAME = ".stygaze.lock"


class BusyError(StygazeError):
    """Another stygaze process is writing the same output folder."""


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold the write lock of ``folder`` (created if missing) for the ``with`` block.

    The lock file ``folder/.stygaze.lock`` holds the owner's pid and is removed on exit.

    Raises:
        BusyError: another process holds the lock (message names its pid).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BusyError(f"{folder} is being written by another stygaze process (pid {_owner(path)})") from None
        try:  # the previous owner may have removed the file between our open and our lock: retry
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # still under the lock: a waiting process then sees a fresh file
        os.close(fd)


def _owner(path: Path) -> str:
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"


def remove_stale_parts(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary ``.*.part*`` entries of dead writers in ``folder``; call under :func:`folder_lock`."""
    removed = []
    for p in Path(folder).iterdir():
        if p.name.startswith(".") and ".part" in p.name and p.name != LOCK_NAME:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed


@contextlib.contextmanager
def held(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the existing file ``path`` while its writer works on it,
    so :func:`remove_dead_temporaries` can tell a live writer's temporary file from a dead one's."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


def remove_dead_temporaries(target: str | os.PathLike, min_age_s: float = 5.0, newer_than: float | None = None) -> list[Path]:
    """Remove the temporary files that writers of ``target`` killed mid-write left beside it.

    Candidates are the siblings :func:`stygaze.io.atomic_path` names for ``target``
    (``.<stem>.*.part<suffix>``, :func:`stygaze.io.temporary_glob`);
    one is removed when nobody holds its :func:`held` lock and it is older than ``min_age_s``
    (a writer that has just created its file may not hold the lock yet) and, with
    ``newer_than`` (a ``time.time()``), modified after that moment (written by writers the
    caller knows are dead).
    """
    import time

    target = Path(target)
    removed = []
    if not target.parent.is_dir():
        return removed
    for p in target.parent.glob(temporary_glob(target)):
        try:
            mtime = p.stat().st_mtime
            if not p.is_file() or p.is_symlink() or time.time() - mtime < min_age_s:
                continue
            if newer_than is not None and mtime < newer_than:
                continue
            fd = os.open(p, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live writer
        finally:
            os.close(fd)
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed
