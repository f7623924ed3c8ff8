"""Shared argparse ``type=`` checkers: a bad value is one line, ``stygaze: error: argument --x: ...``.

Each checker parses the text and checks the range in one step, so a handler never sees a
negative seed, an infinite threshold or a sample count past :mod:`stygaze.limits`::

    p.add_argument("--seed", type=seed)
    p.add_argument("--samples", type=int_in(1, MAX_SAMPLES))
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from stygaze.limits import MAX_FPS, MAX_SEED, MAX_THREADS, MIN_FPS


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _parse_float(text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def int_in(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An integer in ``[lo, hi]`` (``hi=None``: no upper bound)."""

    def check(text: str) -> int:
        value = _parse_int(text)
        if value < lo or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"expected an integer {_range(lo, hi)}, got {text!r}")
        return value

    check.__name__ = f"integer {_range(lo, hi)}"
    return check


def float_in(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False) -> Callable[[str], float]:
    """A finite number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``; ``None`` = unbounded)."""

    def check(text: str) -> float:
        value = _parse_float(text)
        below = lo is not None and (value <= lo if lo_open else value < lo)
        if below or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"expected a number {_range(lo, hi, lo_open)}, got {text!r}")
        return value

    check.__name__ = f"number {_range(lo, hi, lo_open)}"
    return check


def _range(lo: float | None, hi: float | None, lo_open: bool = False) -> str:
    if lo is not None and hi is None:
        return f"{'>' if lo_open else '>='} {_num(lo)}"
    if lo is None and hi is not None:
        return f"<= {_num(hi)}"
    if lo is None:
        return "(any)"
    return f"in {'(' if lo_open else '['}{_num(lo)}, {_num(hi)}]"


def _num(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


positive_int = int_in(1)
"""An integer ≥ 1 (counts, jobs, workers, epochs)."""
non_negative_int = int_in(0)
"""An integer ≥ 0."""
seed = int_in(0, MAX_SEED)
"""A seed: 0 … 2³² − 1."""
threads = int_in(1, MAX_THREADS)
"""torch CPU threads: 1 … 1024."""
port = int_in(0, 65535)
"""A TCP port (0 = any free one)."""
finite_float = float_in()
"""Any finite number (no nan, inf)."""
positive_float = float_in(0.0, lo_open=True)
"""A finite number > 0."""
non_negative_float = float_in(0.0)
"""A finite number ≥ 0."""
fps = float_in(MIN_FPS, MAX_FPS)
"""A frame rate in [1, 1000]."""
