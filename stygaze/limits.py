"""Size limits on everything read from outside: one place, checked before anything is allocated.

A value over a limit is refused with a one-line :class:`~stygaze.errors.StygazeError` by the
reader at the edge (the npz loaders, the audio reader, the checkpoint config, the CLI), so
a typo or a hostile file cannot make stygaze allocate gigabytes or run for days. Every limit
is far above what real use needs; ``docs/security.md`` lists them with where each is checked.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable

import numpy as np
from numpy.lib import format as npy

MAX_FRAMES: int = 25 * 3600 * 4
"""Frames in one motion: 4 h at 25 fps (360 000). Resampling targets are checked too."""

MIN_FPS: float = 1.0
"""Lowest frame rate of a motion file or ``--fps`` (a slower one is a unit mistake)."""

MAX_FPS: float = 1000.0
"""Highest frame rate of a motion file or ``--fps`` (eye trackers reach 1000 Hz)."""

MAX_AUDIO_SECONDS: float = 4 * 3600.0
"""Longest audio clip read: 4 h (the motion would reach :data:`MAX_FRAMES`)."""

MAX_NPZ_MEMBER_BYTES: int = 256 * 1024**2
"""Largest decompressed array in a motion or style ``.npz``: 256 MiB (a 4 h motion is 10 MB)."""

MAX_NPZ_MEMBERS: int = 64
"""Most arrays in one motion or style ``.npz``."""

MAX_CHECKPOINT_CONFIG_BYTES: int = 16 * 1024**2
"""Largest checkpoint ``config.json`` read: 16 MiB (a real one is a few kB)."""

MAX_MODEL_WIDTH: int = 4096
"""Largest model dimension in a checkpoint config (hidden, d_model, style_dim, ...)."""

MAX_MODEL_DEPTH: int = 16
"""Most stacked layers or blocks in a checkpoint config."""

MAX_SAMPLES: int = 1000
"""Most cVAE head samples of ``generate --samples`` (each is a (T, 7) motion kept in memory)."""

MAX_SAMPLE_FRAMES: int = 10 * MAX_FRAMES
"""Most frames of all cVAE head samples together (``--samples`` × frames): 100 MB of motion."""

MAX_SEED: int = 2**32 - 1
"""Seeds are 0 … 2³² − 1 (what numpy's and torch's generators accept everywhere)."""

MAX_THREADS: int = 1024
"""Most torch threads of ``--threads``."""


def check_npz_members(path: str | os.PathLike, error: Callable[[str], Exception]) -> None:
    """Refuse an ``.npz`` whose members would decompress past :data:`MAX_NPZ_MEMBER_BYTES`.

    Reads only the zip directory (``file_size`` of each member) and each array's ``.npy``
    header (the shape and dtype ``np.load`` would allocate), so a small file that unpacks to
    gigabytes, or a header that claims a huge shape, is refused before ``np.load`` allocates
    anything. A file that is not a zip is left to ``np.load`` (which reports it).

    Raises:
        the exception ``error(message)`` builds, e.g. :class:`~stygaze.errors.MotionFormatError`.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    with zf:
        members = zf.infolist()
        if len(members) > MAX_NPZ_MEMBERS:
            raise error(f"{path}: {len(members)} arrays in one .npz, at most {MAX_NPZ_MEMBERS} are read")
        for info in members:
            size = max(info.file_size, _declared_bytes(zf, info))
            if size > MAX_NPZ_MEMBER_BYTES:
                raise error(
                    f"{path}: array {info.filename!r} unpacks to {size / 1024**2:.0f} MiB, "
                    f"more than the limit of {MAX_NPZ_MEMBER_BYTES // 1024**2} MiB"
                )


def _declared_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Bytes the ``.npy`` header of member ``info`` declares (shape × itemsize); 0 if unreadable."""
    try:
        with zf.open(info) as fh:
            version = npy.read_magic(fh)
            read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            shape, _, dtype = read_header(fh, max_header_size=10_000)
    except Exception:  # not an .npy member (np.load reports it), or a corrupt header
        return 0
    return int(np.prod(shape, dtype=object)) * max(int(dtype.itemsize), 1)
