"""Eye–head coordination measures that work at 25 fps.

StyGazeTalk's CompScore (:func:`stygaze.eval.patterns.comp_score`) stays for comparability,
but at 25 fps it measures head speed only: its eye-sensitive branch needs a world-gaze step of
at least 25 °/frame (625 °/s), which a 25 fps track practically never has, so every step
falls in the ``‖g‖ < 20`` branch and CompScore = −(mean head speed in °/frame); the eyes do
not enter it (the same value with the eyes frozen in the head, see the tests). The measures
here look at the eyes:

* **VOR gain** (:attr:`CompensationStats.vor_gain`): during fixations of world gaze the
  vestibulo-ocular reflex turns the eyes against the head so that gaze stays on target. The
  gain is the least-squares slope (through the origin) of eye-in-head velocity on head
  velocity over the frame steps inside fixations, yaw and pitch pooled:
  ``Σ e·h / Σ h·h``. Ideal ≈ −1 (world gaze still while the head moves); 0 = eyes frozen in
  the head (gaze drags along with the head); NaN when the head hardly moves during fixations
  (RMS head speed below :data:`MIN_HEAD_RMS_DEG_S`), where the slope means nothing.
* **Head share of gaze shifts** per amplitude bin (< 10°, 10–20°, ≥ 20°): for each pair of
  consecutive fixations, the head's displacement from the end of the first fixation to the
  end of the second (head yaw/pitch at their last frames) projected on the gaze shift
  (between the fixations' mean positions), divided by the shift's amplitude. 0 = eye-only
  shift, 1 = the head ends up carrying all of it. Measured at the end of the fixation, it
  includes head movement that continues after gaze has landed (which the VOR cancels), as
  Freedman & Sparks (1997)'s head contribution measured at the end of the head movement. Real people:
  shifts below ≈ 15–20° are mostly eye-only; larger ones have a growing head share.
* **Eye–head latency** (:attr:`CompensationStats.latency_ms`): the lag that maximises the
  cross-correlation of world-gaze velocity and head velocity (yaw and pitch, lags within
  ±:data:`MAX_LAG_MS`), refined by a parabola through the peak. Positive = the head follows
  gaze (real people: ≈ 20–50 ms). At 25 fps one frame is 40 ms, so read it to about ±20 ms.

All from a :class:`~stygaze.motion.Motion`: head (pitch, yaw) channels, mean eye-in-head
(pitch, yaw), world gaze from :func:`stygaze.eval.patterns.gaze_signal`; velocities in °/s.
Fixations come from :func:`stygaze.eval.events.detect_events` on world gaze (the adaptive
detector by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from stygaze.eval.events import Detector, detect_events
from stygaze.eval.patterns import gaze_signal

if TYPE_CHECKING:  # pragma: no cover
    from stygaze.motion import Motion

SHIFT_BINS_DEG: tuple[float, ...] = (0.0, 10.0, 20.0, math.inf)
"""Amplitude bins of the head share: [0, 10), [10, 20), [20, ∞) degrees."""
BIN_NAMES: tuple[str, ...] = ("lt10", "10to20", "ge20")
MIN_HEAD_RMS_DEG_S: float = 1.0
"""Below this RMS head speed during fixations the VOR gain is undefined (NaN)."""
MAX_LAG_MS: float = 400.0
"""Largest eye–head lag searched by the cross-correlation (either sign)."""


@dataclass(frozen=True)
class CompensationStats:
    """Eye–head measures of one clip, kept as sums so that clips pool exactly.

    Attributes:
        fps: frame rate of the clip(s) (pooling needs one rate).
        eh, hh: ``Σ e·h`` and ``Σ h·h`` over fixation steps (yaw and pitch; (°/s)²).
        vor_steps: number of fixation steps in the sums.
        shift_deg: ``(M,)`` gaze-shift amplitudes (degrees).
        head_share: ``(M,)`` the head's share of each shift (unitless).
        xcorr: ``(2L+1,)`` ``Σ_t g_t · h_{t+τ}`` for τ = −L … L frames ((°/s)²).
        gg, hh_all: ``Σ g·g`` and ``Σ h·h`` over the steps used in ``xcorr``.
    """

    fps: float
    eh: float
    hh: float
    vor_steps: int
    shift_deg: np.ndarray
    head_share: np.ndarray
    xcorr: np.ndarray
    gg: float
    hh_all: float

    @property
    def max_lag(self) -> int:
        return (len(self.xcorr) - 1) // 2

    @property
    def head_rms_deg_s(self) -> float:
        """RMS head speed over the fixation steps (°/s)."""
        return math.sqrt(self.hh / self.vor_steps) if self.vor_steps else float("nan")

    @property
    def vor_gain(self) -> float:
        """``Σ e·h / Σ h·h`` over fixation steps (ideal ≈ −1; NaN when the head is still)."""
        if not self.vor_steps or not self.head_rms_deg_s >= MIN_HEAD_RMS_DEG_S:
            return float("nan")
        return self.eh / self.hh

    def head_share_by_bin(self) -> dict[str, tuple[float, int]]:
        """``{bin: (median head share, number of shifts)}`` for :data:`SHIFT_BINS_DEG`."""
        out = {}
        for name, lo, hi in zip(BIN_NAMES, SHIFT_BINS_DEG[:-1], SHIFT_BINS_DEG[1:]):
            sel = (self.shift_deg >= lo) & (self.shift_deg < hi)
            out[name] = (float(np.median(self.head_share[sel])) if sel.any() else float("nan"), int(sel.sum()))
        return out

    @property
    def latency_corr(self) -> float:
        """Peak normalised cross-correlation of gaze and head velocity (−1..1)."""
        denom = math.sqrt(self.gg * self.hh_all)
        return float(self.xcorr.max() / denom) if denom > 0 else float("nan")

    @property
    def latency_ms(self) -> float:
        """Lag of the cross-correlation peak (ms; + = head after gaze).

        NaN when the peak correlation is not positive or the peak sits at the edge of the
        searched lag range.
        """
        if not len(self.xcorr) or not self.latency_corr > 0:
            return float("nan")
        k = int(np.argmax(self.xcorr))
        if k in (0, len(self.xcorr) - 1):
            return float("nan")  # the peak lies at or beyond the edge of the searched lags
        lag = float(k - self.max_lag)
        if 0 < k < len(self.xcorr) - 1:  # parabola through the peak and its neighbours
            a, b, c = self.xcorr[k - 1], self.xcorr[k], self.xcorr[k + 1]
            den = a - 2 * b + c
            if den < 0:
                lag += 0.5 * (a - c) / den
        return lag * 1000.0 / self.fps

    @classmethod
    def pooled(cls, parts: list[CompensationStats]) -> CompensationStats:
        """All parts together (sums add, shifts concatenate). Parts must share fps and lag range."""
        if not parts:
            raise ValueError("nothing to pool")
        if len({p.fps for p in parts}) != 1 or len({len(p.xcorr) for p in parts}) != 1:
            raise ValueError("compensation stats of different frame rates or lag ranges cannot be pooled")
        return cls(
            parts[0].fps,
            float(sum(p.eh for p in parts)),
            float(sum(p.hh for p in parts)),
            int(sum(p.vor_steps for p in parts)),
            np.concatenate([p.shift_deg for p in parts]),
            np.concatenate([p.head_share for p in parts]),
            np.sum([p.xcorr for p in parts], axis=0),
            float(sum(p.gg for p in parts)),
            float(sum(p.hh_all for p in parts)),
        )

    def summary(self) -> dict:
        """JSON-ready summary (``None`` where undefined)."""
        bins = self.head_share_by_bin()
        out = {
            "vor_gain": _clean(self.vor_gain),
            "vor_steps": self.vor_steps,
            "head_rms_deg_s": _clean(self.head_rms_deg_s),
            "latency_ms": _clean(self.latency_ms),
            "latency_corr": _clean(self.latency_corr),
        }
        for name, (median, n) in bins.items():
            out[f"head_share_{name}"] = _clean(median)
            out[f"num_shifts_{name}"] = n
        return out


def _clean(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def compensation_stats(
    motion: Motion,
    *,
    detector: Detector | str = "adaptive",
    max_lag_ms: float = MAX_LAG_MS,
) -> CompensationStats:
    """Eye–head measures of one clip (see the module docstring).

    Args:
        motion: the clip (any fps; velocities are in °/s). NaN frames are left out of
            every sum; a fixation containing none is used as it is.
        detector: fixation detector on world gaze (a config or preset name).
        max_lag_ms: cross-correlation lag range (either sign).
    """
    fps = float(motion.fps)
    data = motion.data.astype(np.float64)
    head = data[:, [1, 0]]  # (T, 2) head (yaw, pitch), the order of gaze_signal's (x, y)
    eye = 0.5 * (data[:, [4, 3]] + data[:, [6, 5]])  # (T, 2) mean eye-in-head (yaw, pitch)
    world = gaze_signal(motion, "world")  # (T, 2) world gaze (yaw, pitch)
    h = np.diff(head, axis=0) * fps  # (T−1, 2) °/s
    e = np.diff(eye, axis=0) * fps
    g = np.diff(world, axis=0) * fps

    events = detect_events(world, fps, detector)
    if abs(events.fps - fps) > 1e-9:
        raise ValueError("the compensation detector must run at the clip's own rate (no resampling preset)")
    fix = events.fixations
    in_fix = np.zeros(max(len(data) - 1, 0), bool)  # steps whose two samples share a fixation
    for a, b in fix:
        in_fix[a : b - 1] = True
    ok = in_fix & np.isfinite(h).all(axis=1) & np.isfinite(e).all(axis=1)
    eh = float(np.sum(e[ok] * h[ok]))
    hh = float(np.sum(h[ok] * h[ok]))

    shift_deg, head_share = [], []
    for (a0, b0), (a1, b1) in zip(fix[:-1], fix[1:]):
        c0, c1 = np.nanmean(world[a0:b0], axis=0), np.nanmean(world[a1:b1], axis=0)
        h0, h1 = head[b0 - 1], head[b1 - 1]  # head where each fixation ends
        s = c1 - c0
        amp = float(np.hypot(*s))
        if amp > 0 and np.isfinite(h1 - h0).all():
            shift_deg.append(amp)
            head_share.append(float(np.dot(h1 - h0, s) / (amp * amp)))

    L = max(1, int(round(max_lag_ms * fps / 1000.0)))
    okg = np.isfinite(g).all(axis=1) & np.isfinite(h).all(axis=1)
    g0 = np.where(okg[:, None], g, 0.0)
    h0 = np.where(okg[:, None], h, 0.0)
    n = len(g0)
    xcorr = np.zeros(2 * L + 1)
    for k, lag in enumerate(range(-L, L + 1)):  # Σ_t g_t · h_{t+lag}
        if lag >= 0:
            xcorr[k] = np.sum(g0[: n - lag] * h0[lag:]) if lag < n else 0.0
        else:
            xcorr[k] = np.sum(g0[-lag:] * h0[: n + lag]) if -lag < n else 0.0
    return CompensationStats(
        fps,
        eh,
        hh,
        int(ok.sum()),
        np.asarray(shift_deg, np.float64),
        np.asarray(head_share, np.float64),
        xcorr,
        float(np.sum(g0 * g0)),
        float(np.sum(h0 * h0)),
    )


def vor_gain(motion: Motion, *, detector: Detector | str = "adaptive") -> float:
    """VOR gain of one clip (ideal ≈ −1, 0 = eyes frozen in the head; see the module docstring)."""
    return compensation_stats(motion, detector=detector).vor_gain
