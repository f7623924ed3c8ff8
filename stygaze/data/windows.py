"""Where training windows start: the one place every trainer draws its windows from.

A *window* is ``length`` consecutive frames of a session; a frame is *valid* when none of its
channels is NaN (tracker loss). The trainers draw windows as follows:

============================  ==================================================================
style encoder (NT-Xent)       :func:`random_window_start`: uniform start, re-drawn (≤ 20 tries)
                              until the window is valid
generator (K-step rollout)    :func:`random_segment_starts` / :func:`even_segment_starts`:
                              a segment plus ``before`` frames of past context that may run
                              off the start of the session (the neutral pose stands in)
cVAE                          :func:`sample_windows`: uniform over every valid window of every
                              session (or evenly spaced, for validation)
OmniHead segments and clips   :func:`focused_starts` / :func:`centred_start`: a share of the
                              windows centred on a labelled frame (a gesture, a blink)
============================  ==================================================================

Each function takes a NumPy ``Generator`` and draws from it in a fixed order, so a seeded
trainer draws the same windows run after run. All frame counts are at 25 fps.
"""

from __future__ import annotations

import numpy as np

from stygaze.audio import FPS
from stygaze.errors import DataError


def valid_frames(x: np.ndarray) -> np.ndarray:
    """``(T,)`` bool: frames of ``x`` (T, ...) without NaN in any channel."""
    x = np.asarray(x)
    return ~np.isnan(x.reshape(len(x), -1)).any(axis=1)


def nan_free_starts(valid: np.ndarray, length: int, hop: int = 1) -> np.ndarray:
    """``(W,)`` int64: every start ``s`` (a multiple of ``hop``) with ``valid[s : s + length]`` all True."""
    valid = np.asarray(valid, bool)
    if len(valid) < length:
        return np.zeros(0, dtype=np.int64)
    c = np.concatenate([[0], np.cumsum(~valid)])
    ok = np.flatnonzero(c[length:] - c[:-length] == 0).astype(np.int64)
    return ok if hop == 1 else ok[ok % hop == 0]


def window_is_valid(valid: np.ndarray, start: int, length: int, before: int = 0) -> bool:
    """Whether frames ``[start - before, start + length)`` (clipped at frame 0) are all valid."""
    return bool(valid[max(0, start - before) : start + length].all())


# --------------------------------------------------------------------------------------
# style encoder
# --------------------------------------------------------------------------------------
def random_window_start(valid: np.ndarray, length: int, rng: np.random.Generator, tries: int = 20) -> int:
    """A uniform start in ``[0, T - length]``, re-drawn up to ``tries`` times until the window is
    valid (the last draw is kept when none is: sessions with much tracker loss still contribute)."""
    for _ in range(tries):
        s = int(rng.integers(0, len(valid) - length + 1))
        if valid[s : s + length].all():
            break
    return s


# --------------------------------------------------------------------------------------
# generator
# --------------------------------------------------------------------------------------
def random_segment_starts(
    valid: list[np.ndarray], n: int, rng: np.random.Generator, span: int, before: int, start_prob: float = 0.0
) -> list[tuple[int, int]]:
    """``n`` random ``(session, start)`` segments of ``span`` frames whose past ``before`` frames
    (clipped at 0) and own frames are valid.

    Per draw: a uniform session, then with probability ``start_prob`` a start in
    ``[0, min(before, T - span)]`` (a clip start: the past is mostly the neutral pose), else a
    uniform start in ``[0, T - span]``; invalid segments are re-drawn. Sessions must have at
    least ``span + 1`` frames.

    Raises:
        DataError: a drawn session has no valid frame (the draw could never succeed).
    """
    out: list[tuple[int, int]] = []
    while len(out) < n:
        i = int(rng.integers(len(valid)))
        hi = len(valid[i]) - span
        t = int(rng.integers(0, min(before, hi + 1))) if rng.random() < start_prob else int(rng.integers(0, hi + 1))
        if window_is_valid(valid[i], t, span, before):
            out.append((i, t))
        elif not valid[i].any():
            raise DataError("a training session has no valid frames")
    return out


def even_segment_starts(valid: list[np.ndarray], n: int, span: int, before: int) -> list[tuple[int, int]]:
    """Up to ``n`` deterministic ``(session, start)`` segments (validation): ``ceil(n / sessions)``
    starts evenly spread over each session, the invalid ones dropped."""
    per = max(1, -(-n // len(valid)))
    out = []
    for i, v in enumerate(valid):
        for t in np.linspace(0, len(v) - span, per).astype(int):
            if window_is_valid(v, int(t), span, before):
                out.append((i, int(t)))
    return out[:n]


# --------------------------------------------------------------------------------------
# cVAE
# --------------------------------------------------------------------------------------
def sample_windows(valid: list[np.ndarray], length: int, n: int, rng: np.random.Generator | None) -> np.ndarray:
    """``(n, 2)`` int64 ``(session, start)``: uniform over all valid windows of all sessions
    (``rng=None``: ``min(n, total)`` windows evenly spaced over that list, for validation).

    Raises:
        DataError: no session has a valid window.
    """
    starts = [nan_free_starts(v, length) for v in valid]
    counts = np.array([len(s) for s in starts])
    total = int(counts.sum())
    if total == 0:
        raise DataError(f"no NaN-free window of {length} frames ({length / FPS:.1f} s) in the sessions; use longer sessions")
    flat = rng.integers(0, total, size=n) if rng is not None else np.linspace(0, total - 1, num=min(n, total)).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    si = np.searchsorted(offsets, flat, side="right") - 1
    return np.stack([si, np.array([starts[a][f - offsets[a]] for a, f in zip(si, flat)], dtype=np.int64)], 1)


# --------------------------------------------------------------------------------------
# OmniHead
# --------------------------------------------------------------------------------------
def centred_start(frame: int | np.ndarray, length: int, jitter: int | np.ndarray, last: int) -> int | np.ndarray:
    """Start of the window of ``length`` frames centred on ``frame`` (shifted by ``jitter``),
    clipped to ``[0, last]``."""
    return np.clip(frame - length // 2 + jitter, 0, last)


def focused_starts(num_frames: int, focus_frames: np.ndarray, n: int, length: int, focus: float, rng: np.random.Generator) -> np.ndarray:
    """``(n,)`` int64 window starts in a session of ``num_frames`` frames: uniform, except a share
    ``focus`` centred (± ``length // 4``) on frames drawn from ``focus_frames`` (e.g. the frames of
    a labelled head gesture). Empty when the session is shorter than ``length``."""
    if num_frames < length:
        return np.zeros(0, np.int64)
    starts = rng.integers(0, num_frames - length + 1, n)
    if len(focus_frames):
        k = rng.random(n) < focus
        centres = rng.choice(focus_frames, int(k.sum()))
        jitter = rng.integers(-(length // 4), length // 4 + 1, len(centres))
        starts[k] = centred_start(centres, length, jitter, num_frames - length)
    return starts
