"""Gaze-event stage: decide when the gaze shifts and where to, on top of the generated gaze.

A windowed regressor such as StyGazeTalk's generator cannot know *when* a saccade will
happen (people's saccade timing is not predictable from speech), so its gaze drifts smoothly
where a real eye holds still, and a stage that only tracks that drift (fire a saccade when the
drift has gone a few degrees) gives saccades of one size and staircases of equal steps. Real
gaze in conversation is a point process: fixations of a few hundred milliseconds separated
by shifts whose amplitudes are heavy-tailed, mostly small shifts around the face of the
person one talks to and, every few shifts, a larger look away and back (speakers avert their
gaze more than listeners). This stage generates that process, causally and frame by frame
(so it streams with no added latency), **anchored on the generator's gaze**:

- **Anchor.** The generator's gaze (mean of both eyes, composed with the head into a world
  direction) is smoothed causally (exponential, time constant ``anchor_tau_s``) into the
  *anchor*: where this speaker, in this style, with this audio, is looking at the moment.
  Every fixation target is the anchor plus an offset, so the style's posture (e.g. a lowered
  gaze) and the model's audio-driven gaze movements carry through.
- **When.** Shifts come as a renewal process: the interval to the next shift is
  ``min_interval_s`` plus a gamma draw (shape ``interval_shape``) with mean
  ``interval_mean_s`` while speaking and ``interval_mean_silent_s`` in pauses. Besides,
  when speech starts after a pause the gaze is averted with probability
  ``onset_avert_prob`` (speakers look away as they begin an utterance), when it stops an
  averted gaze returns to the anchor with probability ``end_return_prob``, and when the
  anchor has moved more than ``follow_deg`` from the current target the gaze follows at once.
- **Where.** Two modes. *Home*: the target is the anchor plus a small scatter (per-axis std
  ``home_sd_deg``; ``home_sd_silent_deg`` in pauses), the small shifts between the eyes and
  mouth of the listener. From home a shift is a *look-away* with probability
  ``avert_prob`` (``avert_prob_silent`` in pauses): an offset of log-normal amplitude
  (median ``avert_median_deg`` / ``avert_median_silent_deg``, log-std ``avert_sigma``),
  mostly horizontal (the vertical component is scaled by ``avert_vertical``) and with
  probability ``avert_same_side`` to the side of the previous look-away. While averted,
  a shift returns home with probability ``return_prob``, moves to another look-away with
  ``reavert_prob``, and otherwise makes a small shift around the averted point. Look-aways
  and returns make consecutive large shifts mostly opposite in direction, as in real
  conversation. Targets are clamped so the eyes stay within ``eye_range_deg`` of the head.
- **How.** A shift is a saccade along a minimum-jerk profile whose duration follows the main
  sequence (``slope_ms · A + intercept_ms``: 2.2 ms/° + 21 ms, Carpenter 1988); it starts at a
  random point between two frames, so the 25 fps frames sample it as a camera would.
  Between shifts the eye **fixates**: the world direction is held, so the eye-in-head angles
  counter-rotate head motion (vestibulo-ocular reflex; ``vor_gain`` < 1 lets ``1 − vor_gain``
  of the head's pitch/yaw change since the fixation began through), with a slow **drift** (Ornstein–Uhlenbeck,
  stationary std ``drift_deg``, time constant ``drift_tau_s``) and occasional
  **microsaccades** (``microsaccade_rate_hz``, ``microsaccade_deg``).
- The two eyes keep the generator's difference between them (vergence): each eye is the
  new mean gaze ± half the generated left-right difference. Head channels are untouched.

Speaking or not comes per frame from the caller (:mod:`stygaze.features.voice`, causal
energy-based voice activity); without it every frame counts as speaking. Random draws come
from ``seed`` one frame after another, so any chunking of a stream gives the same output.
The defaults aim at the figures of real video calls (Dembinsky et al. 2024, speaking: fixations
178 ms median, 30 % of shifts > 6°, 90th percentile ≈ 18°, ≈ 20 % of consecutive shifts in the
same direction; listening: shorter shifts; see docs/model-stygazetalk.md for the measurement).

Units: degrees, seconds; input and output are ``(T, 7)`` motion arrays in the
:mod:`stygaze.motion` layout at ``fps``. NaN frames pass through unchanged and end the
current fixation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stygaze.geometry import angles_to_vector, head_rotation_matrix, slerp_unit, vector_to_angles

HOME, AWAY = 0, 1
"""Gaze modes: near the anchor, or looking away from it."""


@dataclass
class GazeEventConfig:
    """Gaze-event stage parameters (degrees, seconds, milliseconds, probabilities as named)."""

    # when
    interval_mean_s: float = 0.27  # mean time between shifts while speaking
    interval_mean_silent_s: float = 0.36  # ... in pauses
    interval_shape: float = 2.5  # gamma shape of (interval − min_interval_s)
    min_interval_s: float = 0.1  # shortest fixation between two shifts
    onset_avert_prob: float = 0.5  # look away when speech starts after a pause
    end_return_prob: float = 0.7  # look back at the anchor when speech stops
    follow_deg: float = 6.0  # the anchor moved this far from the target: shift at once
    anchor_tau_s: float = 1.0  # smoothing of the generator's gaze into the anchor
    # where
    home_sd_deg: float = 0.9  # per-axis scatter of home fixations around the anchor (speaking)
    home_sd_silent_deg: float = 0.6  # ... in pauses
    avert_prob: float = 0.2  # probability that a shift from home looks away (speaking)
    avert_prob_silent: float = 0.06  # ... in pauses
    avert_median_deg: float = 11.0  # median look-away distance from the anchor (speaking)
    avert_median_silent_deg: float = 7.0  # ... in pauses
    avert_sigma: float = 0.5  # log-std of the look-away distance
    avert_max_deg: float = 25.0  # longest look-away
    avert_vertical: float = 0.35  # vertical spread of look-away directions relative to horizontal
    avert_same_side: float = 0.7  # probability that a look-away goes to the side of the previous one
    return_prob: float = 0.6  # while averted: probability that a shift returns home
    reavert_prob: float = 0.15  # while averted: probability of another look-away
    eye_range_deg: float = 28.0  # targets keep the eyes within this of the head (pitch and yaw)
    # how
    slope_ms: float = 2.2  # main sequence: duration = slope_ms * amplitude + intercept_ms
    intercept_ms: float = 21.0
    drift_deg: float = 0.1  # stationary std of fixational drift (per axis); 0 = perfectly still fixations
    drift_tau_s: float = 0.3  # drift time constant
    microsaccade_rate_hz: float = 0.3  # microsaccades per second of fixation
    microsaccade_deg: float = 0.4  # microsaccade amplitude
    vor_gain: float = 0.8  # 1 = world gaze perfectly still while the head moves during a fixation

    def validate(self) -> GazeEventConfig:
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0):
                raise ValueError(f"gaze-event stage: {name} must be a finite number >= 0, got {v!r}")
        for name in ("onset_avert_prob", "end_return_prob", "avert_prob", "avert_prob_silent", "return_prob", "reavert_prob", "vor_gain"):
            if getattr(self, name) > 1:
                raise ValueError(f"gaze-event stage: {name} must be in [0, 1], got {getattr(self, name)!r}")
        if self.return_prob + self.reavert_prob > 1:
            raise ValueError("gaze-event stage: return_prob + reavert_prob must be at most 1")
        if self.interval_shape <= 0:
            raise ValueError("gaze-event stage: interval_shape must be > 0")
        return self


@dataclass
class GazeFrames:
    """The stage's output for ``n`` frames.

    Attributes:
        motion: ``(n, 7)`` float32 degrees (eyes replaced, head as given).
        shift_deg: ``(n,)`` amplitude (degrees) of the gaze shift that started in the interval
            before the frame (0 = none).
        shift_lead_s: ``(n,)`` how long before the frame's sample time that shift started (s).
    """

    motion: np.ndarray
    shift_deg: np.ndarray
    shift_lead_s: np.ndarray


def _minjerk(u: float) -> float:
    """Minimum-jerk position profile on [0, 1] (0 before, 1 after)."""
    if u >= 1.0:
        return 1.0
    if u <= 0.0:
        return 0.0
    return u * u * u * (10.0 - 15.0 * u + 6.0 * u * u)


def _angle_deg(a: tuple, b: tuple) -> float:
    return math.degrees(math.acos(max(-1.0, min(1.0, a[0] * b[0] + a[1] * b[1] + a[2] * b[2]))))


def _direction(pitch: float, yaw: float) -> tuple:
    cp = math.cos(math.radians(pitch))
    return (cp * math.sin(math.radians(yaw)), math.sin(math.radians(pitch)), cp * math.cos(math.radians(yaw)))


def _angles(v: tuple) -> tuple[float, float]:
    return math.degrees(math.asin(max(-1.0, min(1.0, v[1])))), math.degrees(math.atan2(v[0], v[2]))


class GazeEventStage:
    """Stateful, causal gaze-event stage; :meth:`process` chunks give the same result as one call.

    Example::

        stage = GazeEventStage(seed=0)
        out = stage.process(motion.data, speaking)   # (T, 7) degrees, (T,) bool -> (T, 7) degrees
    """

    def __init__(self, config: GazeEventConfig | None = None, fps: float = 25.0, seed: int | None = 0):
        self.config = (config or GazeEventConfig()).validate()
        self.fps = float(fps)
        self._rng = np.random.default_rng([0 if seed is None else int(seed), 0x5ACC])
        self.num_saccades = 0  # gaze shifts started so far (microsaccades not counted)
        self._prev_speaking: bool | None = None
        self._side = 0.0  # horizontal side (+1 left, -1 right) of the last look-away; 0 = none yet
        self.reset()

    def reset(self) -> None:
        """Forget the current fixation and anchor (the next valid frame starts anew)."""
        self._anchor: tuple[float, float] | None = None  # (pitch, yaw) degrees
        self._mode = HOME
        self._offset = (0.0, 0.0)  # target = anchor + offset (pitch, yaw)
        self._hold: tuple | None = None  # held world direction (unit 3-vector)
        self._age = 0.0  # time since the current fixation began (s)
        self._next = 0.0  # time left until the next scheduled shift (s)
        self._sacc: tuple | None = None  # (start dir, end dir, elapsed s, duration s)
        self._drift = (0.0, 0.0)
        self._head0: tuple | None = None

    # --- draws ---------------------------------------------------------------------
    def _interval(self, speaking: bool) -> float:
        c = self.config
        mean = c.interval_mean_s if speaking else c.interval_mean_silent_s
        extra = max(mean - c.min_interval_s, 1e-6)
        return c.min_interval_s + float(self._rng.gamma(c.interval_shape, extra / c.interval_shape))

    def _home_offset(self, speaking: bool) -> tuple[float, float]:
        sd = self.config.home_sd_deg if speaking else self.config.home_sd_silent_deg
        z = self._rng.standard_normal(2)
        return (0.75 * sd * float(z[0]), sd * float(z[1]))  # pitch scatter a little smaller than yaw

    def _avert_offset(self, speaking: bool) -> tuple[float, float]:
        c = self.config
        med = c.avert_median_deg if speaking else c.avert_median_silent_deg
        amp = min(med * math.exp(c.avert_sigma * float(self._rng.standard_normal())), c.avert_max_deg)
        z = self._rng.standard_normal(2)
        side = float(self._rng.random())
        yaw = float(z[1])
        if self._side != 0 and side < c.avert_same_side:
            yaw = math.copysign(yaw, self._side)  # people tend to look away to one side
        self._side = 1.0 if yaw >= 0 else -1.0
        d = math.hypot(float(z[0]) * c.avert_vertical, yaw) or 1.0
        return (amp * float(z[0]) * c.avert_vertical / d, amp * yaw / d)

    def _choose(self, speaking: bool, force: int | None) -> None:
        """Pick the next mode and offset (``force``: HOME or AWAY, else the random rule)."""
        c = self.config
        u = float(self._rng.random())
        if force is not None:
            mode = force
        elif self._mode == HOME:
            mode = AWAY if u < (c.avert_prob if speaking else c.avert_prob_silent) else HOME
        else:
            mode = HOME if u < c.return_prob else AWAY
        if mode == HOME:
            self._offset = self._home_offset(speaking)
        elif self._mode == HOME or force is not None or u < c.return_prob + c.reavert_prob:
            self._offset = self._avert_offset(speaking)  # a new look-away
        else:  # a small shift around the averted point
            h = self._home_offset(speaking)
            self._offset = (self._offset[0] + h[0], self._offset[1] + h[1])
        self._mode = mode

    # --- one frame -----------------------------------------------------------------
    def _target(self, R: np.ndarray) -> tuple:
        """World direction of anchor + offset, clamped to the eye range under head rotation ``R``."""
        c = self.config
        p, y = self._anchor[0] + self._offset[0], self._anchor[1] + self._offset[1]
        d = _direction(p, y)
        e = R.T @ np.asarray(d)  # eye-in-head direction
        ep, ey = _angles(tuple(e))
        lim = c.eye_range_deg
        if abs(ep) > lim or abs(ey) > lim:
            e2 = _direction(max(-lim, min(lim, ep)), max(-lim, min(lim, ey)))
            d = tuple(float(v) for v in R @ np.asarray(e2))
            self._offset = (_angles(d)[0] - self._anchor[0], _angles(d)[1] - self._anchor[1])
        return d

    def _start_saccade(self, target: tuple, lead: float) -> tuple[tuple, float]:
        """Start a saccade from the held direction to ``target`` that began ``lead`` s before now."""
        c = self.config
        h = self._hold
        amp = _angle_deg(h, target)
        self.num_saccades += 1
        dur = (c.slope_ms * amp + c.intercept_ms) / 1000.0
        if lead >= dur:  # landed before this frame's sample time
            self._hold, self._age, self._sacc = target, lead - dur, None
            return target, amp
        self._sacc = (h, target, lead, dur)
        return slerp_unit(h, target, _minjerk(lead / dur)), amp

    def _step(self, g: tuple, R: np.ndarray, speaking: bool, onset: bool, offset: bool, phase: float, event: float) -> tuple[tuple, bool, float, float]:
        """Advance one frame; returns ``(direction, fixating, shift amplitude, shift lead)``.

        ``phase``, ``event``: the frame's uniform draws for a shift's start within the frame and
        for the speech onset/end decisions.
        """
        c, dt = self.config, 1.0 / self.fps
        gp, gy = _angles(g)
        if self._anchor is None:
            self._anchor = (gp, gy)
        else:
            a = 1.0 - math.exp(-dt / max(c.anchor_tau_s, 1e-6))
            self._anchor = (self._anchor[0] + a * (gp - self._anchor[0]), self._anchor[1] + a * (gy - self._anchor[1]))
        if self._hold is None:  # the first frame of a fixation sequence
            self._mode, self._offset = HOME, self._home_offset(speaking)
            self._hold = self._target(R)
            self._age, self._next = 0.0, self._interval(speaking)
            return self._hold, False, 0.0, 0.0
        if self._sacc is not None:  # a saccade in flight
            a0, b, el, dur = self._sacc
            el += dt
            self._next -= dt
            if el >= dur:
                self._sacc, self._hold, self._age = None, b, el - dur
                return b, False, 0.0, 0.0
            self._sacc = (a0, b, el, dur)
            return slerp_unit(a0, b, _minjerk(el / dur)), False, 0.0, 0.0
        self._age += dt
        self._next -= dt
        force = None
        if onset and self._mode == HOME and event < c.onset_avert_prob:
            force = AWAY
        elif offset and self._mode == AWAY and event < c.end_return_prob:
            force = HOME
        due = self._next <= 0.0
        if not due and force is None and self._age >= c.min_interval_s:
            goal = _direction(self._anchor[0] + self._offset[0], self._anchor[1] + self._offset[1])
            due = _angle_deg(self._hold, goal) > c.follow_deg
        if (due or force is not None) and self._age >= c.min_interval_s:
            # a scheduled shift began when its interval ran out, between the previous frame and this one
            lead = min(max(-self._next, 0.0), dt) if (due and force is None and self._next <= 0.0) else phase * dt
            self._choose(speaking, force)
            d, amp = self._start_saccade(self._target(R), lead)
            self._next = self._interval(speaking) - lead
            return d, False, amp, lead
        return self._hold, True, 0.0, 0.0

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
        p, y = _angles(h)
        return _direction(p + dp, y + dy)

    def process_frames(self, data: np.ndarray, speaking: np.ndarray | None = None) -> GazeFrames:
        """Apply the stage to the next ``(n, 7)`` frames (degrees).

        Args:
            data: ``(n, 7)`` generated motion, degrees.
            speaking: ``(n,)`` bool, the person speaks in that frame (None = always).

        Returns:
            :class:`GazeFrames` (the new motion and the gaze shifts that started).
        """
        data = np.asarray(data, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != 7:
            raise ValueError(f"expected (n, 7) motion frames, got shape {data.shape}")
        n = len(data)
        sp = np.ones(n, bool) if speaking is None else np.asarray(speaking, bool).reshape(-1)
        if len(sp) != n:
            raise ValueError(f"speaking must have one value per frame ({n}), got {len(sp)}")
        out = data.copy()
        shift_deg, shift_lead = np.zeros(n, np.float32), np.zeros(n, np.float32)
        if n == 0:
            return GazeFrames(out, shift_deg, shift_lead)
        d = data.astype(np.float64)
        R = head_rotation_matrix(d[:, 0], d[:, 1], d[:, 2])  # (n, 3, 3) head -> world
        mp, my = 0.5 * (d[:, 3] + d[:, 5]), 0.5 * (d[:, 4] + d[:, 6])  # the mean eye's angles
        g = np.einsum("tij,tj->ti", R, angles_to_vector(mp, my))  # the generator's world gaze (mean eye)
        valid = np.isfinite(d).all(axis=1)
        held = np.empty_like(g)
        for t in range(n):
            # six uniforms per frame (drift normals, microsaccade, its direction, shift phase, speech-event
            # decision) in a fixed number, then the shift draws: the sequence depends only on the frames,
            # never on the chunking
            u = self._rng.random(6)
            r = math.sqrt(-2.0 * math.log(max(1.0 - u[0], 1e-300)))
            draws = (r * math.cos(2 * math.pi * u[1]), r * math.sin(2 * math.pi * u[1]), u[2], u[3])
            s = bool(sp[t])
            onset = s and self._prev_speaking is False
            offset = (not s) and self._prev_speaking is True
            self._prev_speaking = s
            if not valid[t]:
                self.reset()
                held[t] = np.nan
                continue
            v, fixating, amp, lead = self._step((float(g[t, 0]), float(g[t, 1]), float(g[t, 2])), R[t], s, onset, offset, float(u[4]), float(u[5]))
            shift_deg[t], shift_lead[t] = amp, lead
            if fixating:
                v = self._fixational(v, draws, (float(d[t, 0]), float(d[t, 1])))  # drift, microsaccades, VOR slip
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
        return GazeFrames(out, shift_deg, shift_lead)

    def process(self, data: np.ndarray, speaking: np.ndarray | None = None) -> np.ndarray:
        """:meth:`process_frames` returning only the new ``(n, 7)`` motion (degrees)."""
        return self.process_frames(data, speaking).motion


def apply_gaze_events(
    data: np.ndarray,
    speaking: np.ndarray | None = None,
    config: GazeEventConfig | None = None,
    fps: float = 25.0,
    seed: int | None = 0,
) -> np.ndarray:
    """One-shot :class:`GazeEventStage` over a whole ``(T, 7)`` array (degrees)."""
    return GazeEventStage(config, fps, seed).process(data, speaking)


# the names of the earlier, threshold-triggered stage (kept so existing code keeps working)
SaccadeStageConfig = GazeEventConfig
SaccadeStage = GazeEventStage


def apply_saccade_stage(data: np.ndarray, config: GazeEventConfig | None = None, fps: float = 25.0, seed: int | None = 0,
                        speaking: np.ndarray | None = None) -> np.ndarray:
    """:func:`apply_gaze_events` with the earlier argument order (``speaking`` last)."""
    return apply_gaze_events(data, speaking, config, fps, seed)
