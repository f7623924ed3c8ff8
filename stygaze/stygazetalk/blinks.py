"""Blink stage: eyelid closure (the Motion's ``blink`` channel) generated with the motion, causally.

Three sources of blinks, frame by frame:

- **Spontaneous** blinks: a renewal process (gamma intervals of shape ``interval_shape``, at
  least ``refractory_s`` apart) whose clock runs at ``rate_speaking_per_min`` while the person
  speaks and ``rate_pause_per_min`` in pauses. Bentivoglio et al. (1997, *Movement
  Disorders* 12:1028–1034; 150 people) measured 17 blinks/min at rest and 26/min in
  conversation; speakers blink at the ends of utterances and in pauses (Nakano & Kitazawa
  2010, *Exp Brain Res* 205:577–581), hence the higher pause rate and
- **pause** blinks: when speech stops (a pause begins) a blink follows with probability
  ``pause_blink_prob``.
- **Gaze-evoked** blinks: a gaze shift of amplitude ``A`` (from the gaze-event stage) carries a
  blink starting with it with probability ``evoked_max_prob · clip((A − evoked_min_deg) /
  (evoked_full_deg − evoked_min_deg), 0, 1)``. Evinger et al. (1994, *Exp Brain Res*
  100:337–344, "Not looking while leaping") found lid-closing muscle activity with 97 % of
  gaze shifts larger than 33°, beginning with the gaze shift.

A gaze-evoked or pause blink restarts the spontaneous clock, so the overall rate is the
spontaneous rate plus a few evoked blinks: ≈ 20–24 per minute for a talking avatar (aimed at
between Bentivoglio's rest and conversation figures; SynHAGE's 19/min is in the same range).

**Lid profile** (closure 0 = open, 1 = closed): a minimum-jerk close over ``close_s`` (uniform
in the given range), a hold at full closure ``hold_s``, and a slower minimum-jerk opening
over ``open_s``: 175–305 ms in all, the down phase about twice as fast as the up phase
(Evinger, Manning & Sibony 1991, *IOVS* 32:387–400). A share ``partial_prob`` of blinks
closes only partially (``partial_depth``). Each frame holds the closure averaged over its
exposure interval ``[t, t + 1)`` frames (as SynHAGE renders it), so a blink shorter than a
frame still shows. While the lid is closed the eyes rotate down by up to ``eye_drop_deg``
(blink-related eye movement; Riggs et al. 1987 measured 1–2°).

Draws come from ``seed`` in a fixed order frame by frame, so a stream equals the offline result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SUBSTEPS = 8
"""Samples per frame over which the lid closure is averaged (the frame's exposure)."""


@dataclass
class BlinkConfig:
    """Blink stage parameters (per minute, seconds, degrees, probabilities as named)."""

    rate_speaking_per_min: float = 12.0  # spontaneous blinks while speaking
    rate_pause_per_min: float = 24.0  # ... in pauses
    interval_shape: float = 2.0  # gamma shape of the spontaneous intervals (1 = Poisson)
    refractory_s: float = 0.5  # no blink starts within this of the previous one's start
    pause_blink_prob: float = 0.2  # a blink when speech stops
    evoked_min_deg: float = 10.0  # gaze shifts below this evoke no blink
    evoked_full_deg: float = 33.0  # ... at this amplitude the probability reaches evoked_max_prob
    evoked_max_prob: float = 0.97
    close_s: tuple[float, float] = (0.055, 0.085)  # closing duration range (uniform)
    hold_s: tuple[float, float] = (0.010, 0.040)  # full-closure duration range
    open_s: tuple[float, float] = (0.110, 0.180)  # opening duration range
    partial_prob: float = 0.15  # share of partial blinks
    partial_depth: tuple[float, float] = (0.5, 0.9)  # their closure range
    eye_drop_deg: float = 1.5  # downward eye rotation at full closure

    def validate(self) -> BlinkConfig:
        for name in ("rate_speaking_per_min", "rate_pause_per_min", "interval_shape", "refractory_s", "pause_blink_prob",
                     "evoked_min_deg", "evoked_full_deg", "evoked_max_prob", "partial_prob", "eye_drop_deg"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0):
                raise ValueError(f"blink stage: {name} must be a finite number >= 0, got {v!r}")
        for name in ("pause_blink_prob", "evoked_max_prob", "partial_prob"):
            if getattr(self, name) > 1:
                raise ValueError(f"blink stage: {name} must be in [0, 1], got {getattr(self, name)!r}")
        if self.interval_shape <= 0 or self.evoked_full_deg <= self.evoked_min_deg:
            raise ValueError("blink stage: interval_shape must be > 0 and evoked_full_deg > evoked_min_deg")
        for name in ("close_s", "hold_s", "open_s", "partial_depth"):
            lo, hi = (float(v) for v in getattr(self, name))
            if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo <= hi):
                raise ValueError(f"blink stage: {name} must be a range (lo, hi) with 0 <= lo <= hi, got {getattr(self, name)!r}")
        if min(self.close_s[0], self.open_s[0]) <= 0 or self.partial_depth[1] > 1:
            raise ValueError("blink stage: close and open durations must be > 0 and partial_depth within (0, 1]")
        return self

    def evoked_prob(self, amplitude_deg: float) -> float:
        """Probability that a gaze shift of ``amplitude_deg`` carries a blink."""
        u = (amplitude_deg - self.evoked_min_deg) / (self.evoked_full_deg - self.evoked_min_deg)
        return self.evoked_max_prob * min(max(u, 0.0), 1.0)


def _minjerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 - 15.0 * u + 6.0 * u * u)


def lid_profile(t: np.ndarray, close_s: float, hold_s: float, open_s: float, depth: float = 1.0) -> np.ndarray:
    """Closure (0..``depth``) at times ``t`` (s, from the blink's start) of one blink."""
    t = np.asarray(t, np.float64)
    rise = _minjerk(t / close_s)
    fall = 1.0 - _minjerk((t - close_s - hold_s) / open_s)
    v = np.where(t < close_s, rise, np.where(t < close_s + hold_s, 1.0, fall))
    return np.where((t < 0) | (t > close_s + hold_s + open_s), 0.0, v) * depth


@dataclass
class BlinkFrames:
    """The stage's output for ``n`` frames: ``blink (n,)`` closure 0..1 and ``onsets (n,)`` bool
    (a blink started in the interval before the frame's sample time)."""

    blink: np.ndarray
    onsets: np.ndarray


class BlinkStage:
    """Stateful, causal blink generator; :meth:`process` chunks give the same result as one call."""

    def __init__(self, config: BlinkConfig | None = None, fps: float = 25.0, seed: int | None = 0):
        self.config = (config or BlinkConfig()).validate()
        self.fps = float(fps)
        self._rng = np.random.default_rng([0 if seed is None else int(seed), 0xB11C])
        self._t = 0.0  # sample time of the next frame (s)
        self._clock = 0.0  # spontaneous clock (in blinks: advances by rate · dt)
        self._due = self._draw_interval()  # clock value at which the next spontaneous blink starts
        self._last = -math.inf  # start time of the last blink
        self._active: list[tuple[float, float, float, float, float]] = []  # (start, close, hold, open, depth)
        self._prev_speaking: bool | None = None
        self.num_blinks = 0
        self.counts = {"spontaneous": 0, "pause": 0, "gaze_evoked": 0}  # blinks started, by source

    def _draw_interval(self) -> float:
        k = self.config.interval_shape
        return float(self._rng.gamma(k, 1.0 / k))  # in units of the mean interval

    def _start(self, when: float, source: str) -> None:
        c = self.config
        u = self._rng.random(5)
        depth = c.partial_depth[0] + u[4] * (c.partial_depth[1] - c.partial_depth[0]) if u[3] < c.partial_prob else 1.0
        lerp = lambda r, x: r[0] + x * (r[1] - r[0])  # noqa: E731
        self._active.append((when, lerp(c.close_s, u[0]), lerp(c.hold_s, u[1]), lerp(c.open_s, u[2]), float(depth)))
        self._last = when
        self._clock, self._due = 0.0, self._draw_interval()
        self.num_blinks += 1
        self.counts[source] += 1

    def process(self, n: int, speaking: np.ndarray | None = None, shift_deg: np.ndarray | None = None,
                shift_lead_s: np.ndarray | None = None) -> BlinkFrames:
        """Blinks of the next ``n`` frames.

        Args:
            n: frames.
            speaking: ``(n,)`` bool per frame (None = always speaking).
            shift_deg, shift_lead_s: ``(n,)`` gaze shifts started before each frame and how
                long before its sample time (from :class:`~stygaze.stygazetalk.saccades.GazeEventStage`).

        Returns:
            :class:`BlinkFrames`.
        """
        c, dt = self.config, 1.0 / self.fps
        sp = np.ones(n, bool) if speaking is None else np.asarray(speaking, bool).reshape(-1)
        amp = np.zeros(n) if shift_deg is None else np.asarray(shift_deg, np.float64).reshape(-1)
        lead = np.zeros(n) if shift_lead_s is None else np.asarray(shift_lead_s, np.float64).reshape(-1)
        if not (len(sp) == len(amp) == len(lead) == n):
            raise ValueError("speaking, shift_deg and shift_lead_s need one value per frame")
        out = np.zeros(n, np.float32)
        onsets = np.zeros(n, bool)
        sub = (np.arange(SUBSTEPS) + 0.5) / SUBSTEPS * dt  # exposure samples within a frame
        for i in range(n):
            now = self._t
            u = self._rng.random(3)  # evoked, pause, spontaneous-phase draws: a fixed number per frame
            s = bool(sp[i])
            pause_start = (not s) and self._prev_speaking is True
            self._prev_speaking = s
            rate = (c.rate_speaking_per_min if s else c.rate_pause_per_min) / 60.0
            self._clock += rate * dt
            free = lambda when: when - self._last >= c.refractory_s  # noqa: E731
            if amp[i] > 0 and u[0] < c.evoked_prob(float(amp[i])) and free(now - lead[i]):
                self._start(now - lead[i], "gaze_evoked")  # begins with the gaze shift
                onsets[i] = True
            elif pause_start and u[1] < c.pause_blink_prob and free(now - u[2] * dt):
                self._start(now - u[2] * dt, "pause")
                onsets[i] = True
            elif self._clock >= self._due and free(now - u[2] * dt):
                self._start(now - u[2] * dt, "spontaneous")
                onsets[i] = True
            if self._active:
                ts = now + sub
                val = np.zeros(SUBSTEPS)
                for b in self._active:
                    val = np.maximum(val, lid_profile(ts - b[0], b[1], b[2], b[3], b[4]))
                out[i] = float(val.mean())
                self._active = [b for b in self._active if b[0] + b[1] + b[2] + b[3] > now + dt]
            self._t = now + dt
        return BlinkFrames(out, onsets)
