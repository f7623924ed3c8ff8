"""Small I/O helpers shared by every writer: outputs appear whole or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from stygaze.errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_RANDOM = 8  # characters tempfile adds to a temporary name


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _fit(stem: str, room: int) -> str:
    """``stem`` cut to at most ``room`` bytes (file names are limited in bytes, not characters)."""
    while stem and len(os.fsencode(stem)) > room:
        stem = stem[:-1]
    return stem


def _temp_affixes(path: Path, folder: bool = False) -> tuple[str, str]:
    """``(prefix, suffix)`` of a temporary name next to ``path`` that stays within NAME_MAX.

    The name is ``.<stem>.<random>.part<suffix>`` (``.<name>.<random>.part`` for a folder);
    the stem is shortened, never the final name, and a file keeps its suffix, since writers
    such as ``np.savez`` and ffmpeg look at it.
    """
    name_max = _name_max(path.parent) if path.parent.is_dir() else 255
    stem, suffix = (path.name, ".part") if folder else (path.stem, f".part{path.suffix}")
    if len(os.fsencode(suffix)) + _RANDOM + 2 > name_max:  # an absurdly long suffix: drop it
        stem, suffix = path.name, ".part"
    room = name_max - len(os.fsencode(suffix)) - _RANDOM - 2
    return f".{_fit(stem, room)}.", suffix


def temporary_glob(path: str | os.PathLike) -> str:
    """Glob pattern (relative to ``path``'s folder) of the temporary files :func:`atomic_path`
    makes for ``path``: its temporary names, stem shortened as they are."""
    import glob

    prefix, suffix = _temp_affixes(Path(path))
    return f"{glob.escape(prefix)}*{glob.escape(suffix)}"


def _write_error(exc: OSError, path: Path, *temps: Path) -> OSError | OutputError:
    """``exc`` as a one-line :class:`OutputError` when it concerns writing ``path``, else ``exc``.

    An error about another file (an input read inside the ``with`` block) stays as it is.
    """
    if exc.filename is not None:
        filename = Path(os.fsdecode(exc.filename))
        ours = filename == path or filename in path.parents
        ours = ours or any(filename == t or t in filename.parents for t in temps)
        if not ours:
            return exc
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return OutputError(f"cannot write {path}: {reason}")


@contextlib.contextmanager
def _as_write_errors(path: Path, *temps: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        error = _write_error(exc, path, *temps)
        if error is exc:
            raise
        raise error from exc


def _mkparent(path: Path) -> None:
    for folder in path.parents:
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():  # mkdir would say "File exists"
                raise OutputError(f"cannot write {path}: Not a directory: {folder}")
            break
    with _as_write_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file keeps the target's suffix (so writers that look at it, such as
    ``np.savez`` or ffmpeg, behave), lives in the same directory (so the final
    ``os.replace`` is atomic) and has a name within NAME_MAX however long ``path``'s name
    is. On any exception the temporary file is removed and the target is left untouched; an
    OSError while writing (disk full, read-only folder, the output is a folder, ...) becomes
    :class:`~stygaze.errors.OutputError` ``cannot write PATH: <reason>``.
    """
    path = Path(path)
    _mkparent(path)
    prefix, suffix = _temp_affixes(path)
    with _as_write_errors(path):
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        with _as_write_errors(path, tmp_path):
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
            yield tmp_path
            os.replace(tmp_path, path)
    finally:
        with contextlib.suppress(OSError):
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; rename it onto ``path`` on success.

    Used for outputs that are folders (a corpus session, a checkpoint): readers never see
    a half-written folder. With ``overwrite`` an existing ``path`` is replaced; without it
    an existing ``path`` raises FileExistsError. Temporary names and write errors as in
    :func:`atomic_path`.
    """
    path = Path(path)
    _mkparent(path)
    prefix, suffix = _temp_affixes(path, folder=True)
    with _as_write_errors(path):
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=path.parent))
    old = path.with_name(f"{prefix}old")
    try:
        with _as_write_errors(path, tmp):
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; give the folder normal permissions
            yield tmp
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} already exists")
        with _as_write_errors(path, tmp, old):
            if path.exists():
                if old.exists():
                    shutil.rmtree(old)
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old)
            else:
                os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when ``a`` and ``b`` name the same file or folder, through symlinks and hard links.

    Both existing: the same (device, inode); otherwise the resolved paths are compared.
    """
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return os.path.realpath(a) == os.path.realpath(b)


def check_distinct_outputs(
    outputs: dict[str, str | os.PathLike | None],
    inputs: dict[str, str | os.PathLike | list | tuple | None],
) -> None:
    """Refuse an output that is one of the inputs, or another output, before any work.

    ``outputs`` and ``inputs`` map the flag that names each path (``"-o"``, ``"--style"``)
    to the path (None: not given); an input may be a list of paths. Symlinks and hard
    links count as the same file.

    Raises:
        OutputError: ``-o talk.npz is one of the inputs (--style); choose another output``.
    """
    named = [(flag, p) for flag, value in inputs.items() if value is not None
             for p in (value if isinstance(value, (list, tuple)) else [value])]
    seen: list[tuple[str, str | os.PathLike]] = []
    for flag, out in outputs.items():
        if out is None:
            continue
        for in_flag, path in named:
            if same_file(out, path):
                raise OutputError(f"{flag} {out} is one of the inputs ({in_flag}); choose another output")
        for other_flag, other in seen:
            if same_file(out, other):
                raise OutputError(f"{flag} {out} is also the output of {other_flag}; choose another output")
        seen.append((flag, out))


def find_ffmpeg() -> str | None:
    """Path of an ffmpeg binary: the system one, else imageio-ffmpeg's; None when neither exists."""
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # imageio-ffmpeg missing or without a binary
        return None
