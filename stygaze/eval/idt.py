"""I-DT fixation identification (Salvucci & Goldberg 2000), compiled with numba.

The algorithm (Salvucci & Goldberg 2000), exactly as implemented:

* Dispersion of a window: ``D = (max x − min x) + (max y − min y)`` (degrees), or with
  ``per_axis=True`` ``D = max(max x − min x, max y − min y)``, so that ``D ≤ threshold``
  means "x range ≤ threshold and y range ≤ threshold" (the form most datasets state,
  e.g. Dembinsky et al. 2024: 30 px per axis).
* Start with a window of ``min_samples`` samples. If ``D ≤ dispersion_deg``, grow it one
  sample at a time while ``D ≤ dispersion_deg``. The fixation is the window **without**
  the sample that broke it; the next window starts **at** that (breaking) sample.
* Otherwise the window's first sample is a non-fixation sample and the window slides by one.
* A NaN sample (tracker loss) is never inside a fixation: a window containing NaN does not
  qualify, and a NaN sample stops a growing window like a breaking sample does.

Events are returned as half-open sample ranges ``[onset, offset)`` (``offset`` exclusive,
so ``offset − onset`` is the number of samples and ``offset`` is the index of the breaking
sample, or ``T`` at the end of the data).

Relation to ``pymovements.events.idt`` (MIT), checked by ``tests/unit/eval/test_idt_vs_pymovements.py``:

1. pymovements keeps the breaking sample inside the fixation and starts its next window
   one sample *after* it. With its inclusive offsets this means ``pm_offset == our
   offset`` (our exclusive end = index of the breaking sample = ``our last sample + 1``),
   except for a fixation that runs to the end of the data, where ``pm_offset == T − 1 ==
   our offset − 1``. Onsets are equal.
2. Because it resumes one sample later, the two agree event by event up to and including
   the first fixation whose breaking sample itself starts the next fixation of ours
   (back-to-back fixations, e.g. an instantaneous step with no sample in flight); from
   there pymovements searches from the sample after the breaking one, so its next onset
   is later than ours (exactly one later on a clean step). When no window that starts at
   a breaking sample is a fixation (typically: saccades sampled in flight, far from their
   target) the two stay in step over the whole signal.
3. Ties: pymovements accepts a window with ``D ≤ threshold`` but grows it only while
   ``D < threshold``; we grow while ``D ≤ threshold`` (REFERENCE). They differ only when a
   dispersion equals the threshold exactly.
4. NaN: pymovements ignores NaN in the dispersion (``nanmax``/``nanmin``), so a window grows
   across a tracker-loss gap; afterwards it cuts the window at NaN samples and drops pieces
   shorter than the minimum. A fixation that we end at a NaN sample therefore ends at the
   same last valid sample in pymovements (``pm_offset == our offset − 1``: no breaking
   sample is added), and if the gaze moved during the gap, pymovements' breaking sample is
   the first valid sample after it, so its next fixation starts one sample later than ours.
   In a window that contains NaN pymovements also drops the window's last sample when the
   window reaches the end of the data (its last offset is then ``T − 2``).
"""

from __future__ import annotations

import math

import numpy as np

try:  # numba is a hard dependency; the fallback only keeps `import stygaze.eval` working without it
    from numba import njit
except ImportError:  # pragma: no cover
    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda f: f


@njit(cache=True, nogil=True)
def _idt_kernel(x, y, threshold, min_samples, pm_variant, per_axis):  # pragma: no cover - compiled
    """Core loop. Returns ``(onsets, offsets)`` int64, half-open ``[onset, offset)``.

    ``pm_variant`` reproduces pymovements' choices 1–3 above (breaking sample included,
    resume after it, grow while ``D < threshold``) for the differential tests; it treats NaN
    like the standard mode. ``per_axis`` takes the larger axis range instead of the sum. Cost: O(T) for fixation samples, O(min_samples) per
    non-fixation sample.
    """
    n = x.shape[0]
    cap = n // min_samples + 1
    onsets = np.empty(cap, np.int64)
    offsets = np.empty(cap, np.int64)
    k = 0
    s = 0
    while s + min_samples <= n:
        xmin = np.inf
        xmax = -np.inf
        ymin = np.inf
        ymax = -np.inf
        nan_at = -1
        for i in range(s, s + min_samples):
            xi = x[i]
            yi = y[i]
            if xi != xi or yi != yi:
                nan_at = i
                break
            if xi < xmin:
                xmin = xi
            if xi > xmax:
                xmax = xi
            if yi < ymin:
                ymin = yi
            if yi > ymax:
                ymax = yi
        if nan_at >= 0:
            # every window that contains the NaN sample fails: jump past it (same result as
            # sliding one by one)
            s = nan_at + 1
            continue
        if per_axis:
            d0 = max(xmax - xmin, ymax - ymin)
        else:
            d0 = (xmax - xmin) + (ymax - ymin)
        if not d0 <= threshold:
            s += 1
            continue
        e = s + min_samples  # exclusive end of the fixation window
        if pm_variant and d0 == threshold:
            # pymovements does not grow a window that already sits at the threshold
            onsets[k] = s
            offsets[k] = e
            k += 1
            s = e
            continue
        broke = False
        while e < n:
            xi = x[e]
            yi = y[e]
            if xi != xi or yi != yi:
                break  # tracker loss ends the fixation (not counted as a breaking sample)
            nxmin = xi if xi < xmin else xmin
            nxmax = xi if xi > xmax else xmax
            nymin = yi if yi < ymin else ymin
            nymax = yi if yi > ymax else ymax
            if per_axis:
                d = max(nxmax - nxmin, nymax - nymin)
            else:
                d = (nxmax - nxmin) + (nymax - nymin)
            if pm_variant:
                ok = d < threshold
            else:
                ok = d <= threshold
            if not ok:
                broke = True
                break
            xmin = nxmin
            xmax = nxmax
            ymin = nymin
            ymax = nymax
            e += 1
        onsets[k] = s
        if pm_variant and broke:
            offsets[k] = e + 1  # pymovements keeps the breaking sample ...
            s = e + 1  # ... and resumes after it
        else:
            offsets[k] = e
            s = e  # REFERENCE: the next window starts at the breaking (or NaN) sample
        k += 1
    return onsets[:k], offsets[:k]


def _check_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D arrays of equal length, got {x.shape} and {y.shape}")
    if np.isinf(x).any() or np.isinf(y).any():
        raise ValueError("x and y must not contain infinite values (NaN marks tracker loss)")
    return x, y


def min_samples_for(fps: float, min_duration_s: float = 0.1) -> int:
    """Minimum fixation length in samples: ``ceil(min_duration_s · fps)`` (3 at 25 fps, 100 at 1 kHz).

    A tiny tolerance keeps float products such as ``0.1 · 30 = 3.0000000000000004`` at 3.
    """
    if not (fps > 0 and min_duration_s > 0):
        raise ValueError(f"fps and min_duration_s must be positive, got {fps}, {min_duration_s}")
    return max(1, int(math.ceil(min_duration_s * fps - 1e-9)))


def idt_fixations(
    x: np.ndarray,
    y: np.ndarray,
    dispersion_deg: float = 1.0,
    min_samples: int = 3,
    *,
    per_axis: bool = False,
    _pm_variant: bool = False,
) -> np.ndarray:
    """Fixations of a 2-D gaze signal by I-DT.

    Args:
        x, y: ``(T,)`` horizontal and vertical gaze angles in degrees (for stygaze: world
            yaw and pitch). NaN marks tracker loss and is never inside a fixation.
        dispersion_deg: dispersion threshold in degrees (``D ≤ threshold`` is a fixation).
        per_axis: ``False`` (default): ``D`` is the sum of the x and y ranges (Salvucci &
            Goldberg, StyGazeTalk); ``True``: each axis range must stay within the threshold.
        min_samples: minimum fixation length in samples (``ceil(0.1 s · fps)`` = 3 at 25 fps;
            see :func:`min_samples_for`).

    Returns:
        ``(K, 2)`` int64 ``[onset, offset)`` sample indices, ``offset`` **exclusive**, in
        increasing order and non-overlapping.
    """
    x, y = _check_xy(x, y)
    if not dispersion_deg > 0 or not np.isfinite(dispersion_deg):
        raise ValueError(f"dispersion_deg must be a positive number, got {dispersion_deg}")
    min_samples = int(min_samples)
    if min_samples < 1:
        raise ValueError(f"min_samples must be at least 1, got {min_samples}")
    if x.shape[0] < min_samples:
        return np.zeros((0, 2), np.int64)
    on, off = _idt_kernel(x, y, float(dispersion_deg), min_samples, bool(_pm_variant), bool(per_axis))
    return np.stack([on, off], axis=1).astype(np.int64, copy=False)


def events_to_mask(events: np.ndarray, length: int) -> np.ndarray:
    """``(T,)`` bool, True inside the half-open ``[onset, offset)`` ranges of ``events`` (K, 2)."""
    delta = np.zeros(length + 1, np.int64)
    events = np.asarray(events, dtype=np.int64).reshape(-1, 2)
    np.add.at(delta, events[:, 0], 1)
    np.add.at(delta, events[:, 1], -1)
    return np.cumsum(delta[:-1]) > 0


def fixation_mask(
    x: np.ndarray,
    y: np.ndarray,
    dispersion_deg: float = 1.0,
    min_samples: int = 3,
) -> np.ndarray:
    """``(T,)`` bool: True for samples inside an I-DT fixation (see :func:`idt_fixations`).

    NaN samples are always False.
    """
    events = idt_fixations(x, y, dispersion_deg, min_samples)
    return events_to_mask(events, np.asarray(x).shape[0])
