"""Saccade stage: turn a generated gaze trajectory into fixations and main-sequence saccades.

A windowed regressor such as StyGazeTalk's generator cannot know *when* a saccade will
happen (SynHAGE's and people's saccade timing is not predictable from speech), so its gaze
output drifts smoothly where a real eye holds still and then jumps: the generated gaze is
where the eyes *should look*, not how eyes move there. This stage adds the missing
oculomotor dynamics, causally, frame by frame (so it streams with no added latency):

- The generator's gaze (mean of both eyes, composed with the head into a **world**
  direction ``g(t)``) is the *desired* gaze.
- The eye **fixates**: the world gaze direction ``f`` is held, so while the head moves
  the eye-in-head angles counter-rotate (the vestibulo-ocular reflex). With
  ``vor_gain`` < 1 the fixation follows ``1 − vor_gain`` of the head's (pitch, yaw)
  change since the fixation began (default gain 0.8; SynHAGE leaks 5 % of the head motion
  that is not part of a gaze shift).
- When the desired gaze has moved more than ``threshold_deg`` away from ``f`` (the
  retinal error that triggers a saccade) and the fixation has lasted at least
  ``min_fixation_s``, a **saccade** carries ``f`` to the current ``g(t)`` along a
  minimum-jerk profile whose duration follows the main sequence
  (``slope_ms · A + intercept_ms``, REFERENCE.md "Physiology"). At 25 fps a saccade below
  ≈ 9° completes within one frame, as in recordings.
- During a fixation the held direction is not perfectly still: a slow **drift**
  (Ornstein–Uhlenbeck, stationary std ``drift_deg``, time constant ``drift_tau_s``) and
  occasional **microsaccades** (rate ``microsaccade_rate_hz``, amplitude
  ``microsaccade_deg``) move it by fractions of a degree (REFERENCE.md: drift/tremor
  0.05–0.2°, microsaccades < 1°). Their draws come from ``seed`` in a fixed number per
  frame, so any chunking of a stream gives the same output.
- The two eyes keep the generator's difference between them (vergence), so each eye is
  ``fixated mean gaze ± half the generated left-right difference``. Head channels and
  blinks are untouched.

Units: degrees; input and output are ``(T, 7)`` motion arrays in the
:mod:`stygaze.motion` layout at ``fps``. NaN frames pass through unchanged and end the
current fixation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stygaze.geometry import (
    angles_to_vector,
    head_rotation_matrix,
    slerp_unit,
    vector_to_angles,
)


@dataclass
class SaccadeStageConfig:
    """Saccade stage parameters (degrees, seconds, milliseconds as named)."""

    threshold_deg: float = 3.0  # retinal error (desired vs held gaze) that triggers a saccade
    min_fixation_s: float = 0.1  # shortest fixation: no new saccade before it has lasted this long
    slope_ms: float = 2.2  # main sequence: duration = slope_ms * amplitude + intercept_ms
    intercept_ms: float = 21.0
    drift_deg: float = 0.1  # stationary std of fixational drift (per axis); 0 = perfectly still fixations
    drift_tau_s: float = 0.3  # drift time constant
    microsaccade_rate_hz: float = 0.3  # microsaccades per second of fixation
    microsaccade_deg: float = 0.5  # microsaccade amplitude
    vor_gain: float = 0.8  # 1 = world gaze perfectly still while the head moves during a fixation

    def validate(self) -> "SaccadeStageConfig":
        for name in ("threshold_deg", "min_fixation_s", "slope_ms", "intercept_ms", "drift_deg", "drift_tau_s",
                     "microsaccade_rate_hz", "microsaccade_deg", "vor_gain"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"saccade stage: {name} must be a finite number >= 0, got {v!r}")
        return self


def _minjerk(u: float) -> float:
    """Minimum-jerk position profile on [0, 1] (0 before, 1 after)."""
    if u >= 1.0:
        return 1.0
    if u <= 0.0:
        return 0.0
    return u * u * u * (10.0 - 15.0 * u + 6.0 * u * u)


class SaccadeStage:
    """Stateful, causal saccade stage; :meth:`process` chunks give the same result as one call.

    Example::

        stage = SaccadeStage()
        out = stage.process(motion.data)   # (T, 7) degrees -> (T, 7) degrees
    """

    def __init__(self, config: SaccadeStageConfig | None = None, fps: float = 25.0, seed: int | None = 0):
        self.config = (config or SaccadeStageConfig()).validate()
        self.fps = float(fps)
        self._rng = np.random.default_rng([0 if seed is None else int(seed), 0x5ACC])
        self.num_saccades = 0
        self.reset()

    def reset(self) -> None:
        """Forget the current fixation (the next valid frame starts a new one)."""
        self._drift = (0.0, 0.0)  # fixational offset (pitch, yaw) in degrees
        self._head0: tuple | None = None  # head (pitch, yaw) when the current fixation began
        self._hold: tuple | None = None  # held world gaze direction (unit 3-vector)
        self._age = 0.0  # time since the current fixation began (s)
        self._sacc: tuple | None = None  # (start dir, end dir, elapsed s, duration s)

    def _step(self, g: tuple, phase: float = 0.5) -> tuple[tuple, bool]:
        """Advance one frame given the desired world gaze ``g``.

        Returns ``(direction, fixating)``: ``fixating`` is True when the frame continues the
        current fixation (no fixation began, no saccade started, flew or landed), i.e. when
        drift and VOR slip apply. ``phase`` in [0, 1): when a saccade starts, how far into
        the preceding frame interval it began (the camera samples a saccade at a random
        point of its flight).
        """
        c, dt = self.config, 1.0 / self.fps
        if self._hold is None:
            self._hold, self._age = g, 0.0
            return g, False
        if self._sacc is not None:  # a saccade in flight
            a, b, el, dur = self._sacc
            el += dt
            if el >= dur:
                self._sacc, self._hold, self._age = None, b, el - dur
                return b, False
            self._sacc = (a, b, el, dur)
            return slerp_unit(a, b, _minjerk(el / dur)), False
        self._age += dt
        h = self._hold
        err = math.degrees(math.acos(max(-1.0, min(1.0, h[0] * g[0] + h[1] * g[1] + h[2] * g[2]))))
        if err > c.threshold_deg and self._age >= c.min_fixation_s:
            self.num_saccades += 1
            dur = (c.slope_ms * err + c.intercept_ms) / 1000.0
            el = phase * dt  # it began this long before the frame's sample time
            if el >= dur:  # short enough to land before this frame's sample time
                self._hold, self._age = g, el - dur
                return g, False
            self._sacc = (h, g, el, dur)
            return slerp_unit(h, g, _minjerk(el / dur)), False
        return h, True

    def _fixational(self, h: tuple, draws: np.ndarray, head: tuple) -> tuple:
        """Advance drift + microsaccades by one frame; return ``h`` displaced by them and the VOR slip."""
        c, dt = self.config, 1.0 / self.fps
        dp, dy = self._drift
        if c.drift_deg > 0:
            a = math.exp(-dt / max(c.drift_tau_s, 1e-6))
            k = c.drift_deg * math.sqrt(1.0 - a * a)
            dp, dy = a * dp + k * float(draws[0]), a * dy + k * float(draws[1])
        if c.microsaccade_rate_hz > 0 and draws[2] < c.microsaccade_rate_hz * dt:
            ang = 2.0 * math.pi * float(draws[3])
            dp, dy = dp + c.microsaccade_deg * math.sin(ang), dy + c.microsaccade_deg * math.cos(ang)
        self._drift = (dp, dy)
        slip = 1.0 - c.vor_gain
        dp, dy = dp + slip * (head[0] - self._head0[0]), dy + slip * (head[1] - self._head0[1])
        if dp == 0.0 and dy == 0.0:
            return h
        # small rotation of h: offset its (pitch, yaw) angles
        p = math.degrees(math.asin(max(-1.0, min(1.0, h[1])))) + dp
        y = math.degrees(math.atan2(h[0], h[2])) + dy
        cp = math.cos(math.radians(p))
        return (cp * math.sin(math.radians(y)), math.sin(math.radians(p)), cp * math.cos(math.radians(y)))

    def process(self, data: np.ndarray) -> np.ndarray:
        """Apply the stage to the next ``(n, 7)`` frames (degrees); returns a new ``(n, 7)`` array."""
        data = np.asarray(data, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != 7:
            raise ValueError(f"expected (n, 7) motion frames, got shape {data.shape}")
        out = data.copy()
        if len(data) == 0:
            return out
        d = data.astype(np.float64)
        R = head_rotation_matrix(d[:, 0], d[:, 1], d[:, 2])  # (n, 3, 3) head -> world
        mp, my = 0.5 * (d[:, 3] + d[:, 5]), 0.5 * (d[:, 4] + d[:, 6])  # the mean eye's angles
        g = np.einsum("tij,tj->ti", R, angles_to_vector(mp, my))  # desired world gaze (mean eye)
        valid = np.isfinite(d).all(axis=1)
        held = np.empty_like(g)
        # five uniforms per frame from one call, so chunking a stream does not change the draws;
        # the first two become two standard normals (Box-Muller)
        draws = self._rng.random((len(d), 5))
        r = np.sqrt(-2.0 * np.log(np.maximum(1.0 - draws[:, 0], 1e-300)))
        draws[:, 0], draws[:, 1] = r * np.cos(2 * np.pi * draws[:, 1]), r * np.sin(2 * np.pi * draws[:, 1])
        for t in range(len(d)):
            if not valid[t]:
                self.reset()
                held[t] = np.nan
                continue
            v, fixating = self._step((float(g[t, 0]), float(g[t, 1]), float(g[t, 2])), float(draws[t, 4]))
            if fixating:
                v = self._fixational(v, draws[t], (float(d[t, 0]), float(d[t, 1])))  # drift, microsaccades, VOR slip
            else:
                # a saccade (or a new fixation) re-centres the drift; VOR slip counts from here
                self._drift, self._head0 = (0.0, 0.0), (float(d[t, 0]), float(d[t, 1]))
            held[t] = v
        # eye-in-head direction that points the mean eye at the held world direction
        e = np.einsum("tji,tj->ti", R, held)  # R^T · held
        p, y = vector_to_angles(e)
        dp, dy = p - mp, y - my  # shift of the mean eye; both eyes move together
        out[valid, 3] = (d[valid, 3] + dp[valid]).astype(np.float32)
        out[valid, 5] = (d[valid, 5] + dp[valid]).astype(np.float32)
        out[valid, 4] = (d[valid, 4] + dy[valid]).astype(np.float32)
        out[valid, 6] = (d[valid, 6] + dy[valid]).astype(np.float32)
        return out


def apply_saccade_stage(
    data: np.ndarray, config: SaccadeStageConfig | None = None, fps: float = 25.0, seed: int | None = 0
) -> np.ndarray:
    """One-shot :class:`SaccadeStage` over a whole ``(T, 7)`` array (degrees)."""
    return SaccadeStage(config, fps, seed).process(data)
