"""The SynHAGE signal simulation: a :class:`~stygaze.data.synhage.plan.MotionPlan` rendered at 250 Hz.

:func:`simulate` evaluates the planned events on the internal grid of ``SynthConfig.sim_rate``:
world gaze (saccade profiles on the main sequence, Ornstein–Uhlenbeck drift, tremor, the small
downward eye movement of a blink, the VOR leak of fast head motion), head (minimum-jerk
steps, gesture oscillations, postural sway and loudness-driven pitch), vergence and eyelid.
:func:`sample_frames` point-samples the 25 fps frames, composes eye-in-head from world gaze
and head (rotation composition) and adds the tracker noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from stygaze.audio import FPS
from stygaze.data.synhage.config import SynthConfig
from stygaze.data.synhage.cues import SpeechCues
from stygaze.data.synhage.plan import MotionPlan
from stygaze.data.synhage.style import SynthStyle
from stygaze.geometry import angles_to_vector, head_rotation_matrix, vector_to_angles


# --------------------------------------------------------------------------------------
# movement profiles and noise (vectorised)
# --------------------------------------------------------------------------------------
def profile_saccade(u: np.ndarray, skew: float = SynthConfig.saccade_skew) -> np.ndarray:
    """Saccade position profile on u ∈ [0, 1]: raised cosine (velocity peak π/2 · mean),
    skewed by ``u ** skew`` (faster acceleration than deceleration)."""
    w = u**skew
    return 0.5 - 0.5 * np.cos(np.pi * w)


def peak_velocity(A: float, D: float, skew: float = SynthConfig.saccade_skew) -> float:
    """Peak velocity (deg/s) of :func:`profile_saccade` for amplitude ``A`` (deg), duration ``D`` (s)."""
    u = np.linspace(0, 1, 201)  # 200 steps: the peak to < 0.1 %
    return float(A / D * np.max(np.diff(profile_saccade(u, skew))) * 200) if A > 0 else 0.0


def profile_minjerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk position profile 10u³ − 15u⁴ + 6u⁵ (velocity peak 1.875 · mean)."""
    return u * u * u * (10.0 - 15.0 * u + 6.0 * u * u)


def superpose(t: np.ndarray, onsets: np.ndarray, durations: np.ndarray, deltas: np.ndarray, profile: Callable) -> np.ndarray:
    """Sum of step movements ``Σ_k deltas_k · profile((t − onset_k) / duration_k)``.

    Args:
        t: ``(N,)`` times in seconds (sorted).
        onsets: ``(K,)`` movement onsets in seconds (sorted ascending).
        durations: ``(K,)`` seconds (> 0).
        deltas: ``(K, C)`` displacement of each movement.
        profile: maps u ∈ [0, 1] to progress in [0, 1].

    Returns:
        ``(N, C)`` float64. Overlapping movements add up (submovement superposition); the
        cost is O(N · J) where J is the largest number of movements active at once.
    """
    t = np.asarray(t, np.float64)
    K = len(onsets)
    deltas = np.asarray(deltas, np.float64)
    C = deltas.shape[1] if deltas.ndim == 2 else 1
    out = np.zeros((len(t), C))
    if K == 0:
        return out
    deltas = deltas.reshape(K, C)
    onsets = np.asarray(onsets, np.float64)
    durations = np.maximum(np.asarray(durations, np.float64), 1e-6)
    ends = onsets + durations
    J = max(1, int(np.max(np.searchsorted(onsets, ends, side="left") - np.arange(K))))
    last = np.searchsorted(onsets, t, side="right") - 1  # (N,) last movement started
    cum = np.cumsum(deltas, axis=0)
    base = last - J
    out += np.where((base >= 0)[:, None], cum[np.clip(base, 0, None)], 0.0)
    for j in range(J):
        k = last - j
        valid = k >= 0
        kk = np.clip(k, 0, None)
        u = np.clip((t - onsets[kk]) / durations[kk], 0.0, 1.0)
        out += np.where(valid[:, None], deltas[kk] * profile(u)[:, None], 0.0)
    return out


def ou_noise(rng: np.random.Generator, n: int, dims: int, std: float, tau_s: float, rate: float) -> np.ndarray:
    """``(n, dims)`` Ornstein–Uhlenbeck noise with stationary ``std`` and time constant ``tau_s``."""
    from scipy.signal import lfilter

    a = math.exp(-1.0 / (tau_s * rate))
    w = rng.standard_normal((n, dims)) * std * math.sqrt(1 - a * a)
    x0 = rng.standard_normal(dims) * std
    y, _ = lfilter([1.0], [1.0, -a], w, axis=0, zi=(a * x0)[None, :])
    return y


def lowpass_noise(
    rng: np.random.Generator, n: int, dims: int, cutoff_hz: float, rate: float, order: int = 2, warmup_periods: float = 3.0
) -> np.ndarray:
    """``(n, dims)`` unit-std smooth noise: Butterworth low-passed white noise, the filter's
    start-up transient (``warmup_periods`` cutoff periods) discarded."""
    from scipy.signal import butter, lfilter

    b, a = butter(order, cutoff_hz / (rate / 2))
    warm = int(warmup_periods * rate / cutoff_hz)
    y = lfilter(b, a, rng.standard_normal((n + warm, dims)), axis=0)[warm:]
    return y / max(float(y.std()), 1e-9)


def blink_profile(t: np.ndarray, onsets: np.ndarray, close: np.ndarray, hold: np.ndarray, open_: np.ndarray, amp: np.ndarray) -> np.ndarray:
    """Eyelid closure (0 open … 1 closed) of non-overlapping blinks at times ``t``: minimum-jerk
    closing, hold, minimum-jerk opening, scaled by each blink's ``amp``."""
    out = np.zeros(len(t))
    if len(onsets) == 0:
        return out
    k = np.searchsorted(onsets, t, side="right") - 1
    ok = k >= 0
    kk = np.clip(k, 0, None)
    dt = t - onsets[kk]
    c, h, o = close[kk], hold[kk], open_[kk]
    rise = profile_minjerk(np.clip(dt / c, 0, 1))
    fall = 1.0 - profile_minjerk(np.clip((dt - c - h) / o, 0, 1))
    val = np.where(dt < c, rise, np.where(dt < c + h, 1.0, fall))
    val = np.where(dt > c + h + o, 0.0, val)
    return np.where(ok, val * amp[kk], 0.0)


# --------------------------------------------------------------------------------------
# the simulation
# --------------------------------------------------------------------------------------
@dataclass
class Simulated:
    """The plan rendered at ``sim_rate``: ``t`` (N,) s, ``world_gaze`` (N, 2) (pitch, yaw) deg,
    ``head`` (N, 3) (pitch, yaw, roll) deg, ``vergence`` (N,) per-eye inward deg, ``blink`` (N,) 0..1."""

    t: np.ndarray
    world_gaze: np.ndarray
    head: np.ndarray
    vergence: np.ndarray
    blink: np.ndarray


def _sorted(m, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A :class:`~stygaze.data.synhage.plan.Movements`' columns sorted by onset (stable)."""
    on = np.asarray(m.onset_s, np.float64)
    order = np.argsort(on, kind="stable")
    return on[order], np.asarray(m.duration_s)[order], np.asarray(m.delta, np.float64).reshape(-1, width)[order]


def simulate_head(
    plan: MotionPlan, cues: SpeechCues, style: SynthStyle, cfg: SynthConfig, rng: np.random.Generator, T: int, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Head at the times ``t``: ``(N, 3)`` all of it, and ``(N, 3)`` the part that is not the
    head's share of gaze shifts (beat nods, gestures, sway, loudness-driven pitch; sway and
    loudness computed at 25 fps, then interpolated)."""
    from scipy.ndimage import gaussian_filter1d

    R = cfg.sim_rate
    N = len(t)
    head = superpose(t, *_sorted(plan.head, 3), profile_minjerk)
    gaze_head = superpose(t, *_sorted(plan.gaze_head, 3), profile_minjerk)
    head[:, 0:2] += plan.head_rest
    head[:, 2] += plan.head_roll_rest
    for o in plan.oscillations:
        a, b = int(o.start_s * R), min(N, int((o.start_s + o.cycles / o.freq_hz) * R) + 1)
        if a >= N:
            continue
        tt = t[a:b] - o.start_s
        win = np.sin(np.pi * np.clip(tt * o.freq_hz / o.cycles, 0, 1))  # smooth on/offset envelope
        sgn = -1.0 if o.channel == 0 else 1.0  # nods start downwards
        head[a:b, o.channel] += sgn * o.amplitude_deg * win * np.sin(2 * np.pi * o.freq_hz * tt)
    # sway (calmer when silent) and loudness-driven pitch, at 25 fps
    fr_t = np.arange(T) / FPS
    spk_f = cues.speaking_at(fr_t).astype(np.float64)
    roll = np.array([1.0, 1.0, style.head_roll_scale])
    activity = gaussian_filter1d(spk_f + (1 - spk_f) * style.listening_calm, cfg.activity_smooth_frames)
    sway = np.concatenate([lowpass_noise(rng, T, 1, fc, FPS) for fc in cfg.sway_cutoff_hz], axis=1)
    sway *= style.sway_deg * np.array(cfg.sway_axis_gain) * roll * activity[:, None]
    env_i = np.clip((np.arange(T) * cfg.envelope_rate_hz / FPS).astype(int), 0, len(cues.energy_db) - 1)
    loud = np.clip((cues.energy_db[env_i] + cfg.loudness_range_db) / cfg.loudness_range_db, 0.0, 1.0) * spk_f
    loud = gaussian_filter1d(loud, cfg.loudness_smooth_frames)
    sway[:, 0] += style.speech_head_gain * cfg.speech_head_deg * (loud - loud.mean())
    head += np.stack([np.interp(t, fr_t, sway[:, c]) for c in range(3)], axis=1)
    return head + gaze_head, head


def simulate(plan: MotionPlan, cues: SpeechCues, style: SynthStyle, cfg: SynthConfig, rng: np.random.Generator, T: int) -> Simulated:
    """Render ``plan`` for ``T`` frames at ``cfg.sim_rate``; ``rng`` draws the noise (drift,
    tremor, sway) in a fixed order."""
    from scipy.signal import lfilter

    R = cfg.sim_rate
    N = T * (R // FPS)
    t = np.arange(N) / R
    sac = plan.saccades
    s_on = np.asarray(sac.onset_s, np.float64)
    s_order = np.argsort(s_on, kind="stable")
    d_all = np.asarray(sac.delta, np.float64).reshape(-1, 2)
    skewed = lambda u: profile_saccade(u, cfg.saccade_skew)  # noqa: E731
    gaze = plan.initial_gaze + superpose(t, s_on[s_order], np.asarray(sac.duration_s)[s_order], d_all[s_order], skewed)
    gaze += ou_noise(rng, N, 2, style.drift_deg, cfg.drift_tau_s, R) + rng.standard_normal((N, 2)) * cfg.tremor_deg

    head, free = simulate_head(plan, cues, style, cfg, rng, T, t)

    # vergence (per-eye inward rotation), blinks
    v_on, v_dur, v_delta = _sorted(plan.vergence, 1)
    verg = plan.vergence_deg + superpose(t, v_on, v_dur, v_delta, profile_minjerk)[:, 0]
    b = plan.blinks
    blink = blink_profile(t, b.onset_s, b.close_s, b.hold_s, b.open_s, b.amplitude)
    gaze[:, 0] -= cfg.blink_eye_drop_deg * blink
    # imperfect VOR: a fraction of fast head motion leaks into world gaze; the head's share of a
    # gaze shift does not (the reflex, back on at gaze landing, holds gaze on the new target)
    a = math.exp(-1.0 / (cfg.vor_leak_tau_s * R))
    free_lp = lfilter([1 - a], [1, -a], free[:, :2] - free[0, :2], axis=0) + free[0, :2]
    gaze += (1.0 - cfg.vor_gain) * (free[:, :2] - free_lp)
    return Simulated(t, gaze, head, verg, blink)


def sample_frames(sim: Simulated, cfg: SynthConfig, rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray]:
    """The 25 fps frames: ``(T, 7)`` float64 motion (head; eye-in-head = world gaze ∘ head⁻¹,
    vergence, tracker noise, clipped to the oculomotor range) and ``(T,)`` eyelid closure
    averaged over each frame's exposure."""
    step = cfg.sim_rate // FPS
    idx = np.arange(T) * step
    hf, gf = sim.head[idx], sim.world_gaze[idx]
    Rh = head_rotation_matrix(hf[:, 0], hf[:, 1], hf[:, 2])
    d_world = angles_to_vector(gf[:, 0], gf[:, 1])
    e_pitch, e_yaw = vector_to_angles(np.einsum("tji,tj->ti", Rh, d_world))  # R^T d
    noise = rng.standard_normal((T, 4)) * cfg.tracker_noise_deg
    noise += np.tile(rng.standard_normal((T, 2)) * cfg.tracker_noise_shared_deg, (1, 2))
    vf = sim.vergence[idx]
    data = np.empty((T, 7), np.float64)
    data[:, 0:3] = hf
    data[:, 3] = e_pitch + noise[:, 0]
    data[:, 4] = e_yaw - vf + noise[:, 1]
    data[:, 5] = e_pitch + noise[:, 2]
    data[:, 6] = e_yaw + vf + noise[:, 3]
    data[:, 3:7] = np.clip(data[:, 3:7], -cfg.eye_range_deg, cfg.eye_range_deg)
    blink_f = sim.blink.reshape(T, step).mean(axis=1)  # the eyelid averaged over the frame exposure
    return data, blink_f
