"""World gaze, the cVAE's condition: from a :class:`Motion`, with tracker loss bridged, and back.

* :func:`world_gaze_track` — each eye's ``R_head · d(eye-in-head)`` as pitch/yaw degrees;
* :func:`bridge_gaps` — short NaN gaps interpolated, long ones refused;
* :func:`eye_in_head_for` — the eye-in-head angles that keep a world gaze under a new head;
* :func:`heads_for_gaze` — the whole gaze → K heads computation around a model's ``generate``.

numpy only (no torch): the model is passed in. The public entry points are
:func:`stygaze.cvae.pipeline.generate_heads` and :meth:`stygaze.cvae.model.HeadCVAE.sample_heads`;
see :mod:`stygaze.cvae.pipeline` for what is kept and what changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stygaze.audio import FPS
from stygaze.errors import ModelOutputError, MotionFormatError
from stygaze.geometry import angles_to_vector, head_rotation_matrix, vector_to_angles
from stygaze.limits import MAX_SAMPLE_FRAMES, MAX_SAMPLES
from stygaze.motion import Motion, resample_linear

MIN_FRAMES = 25
"""Shortest gaze track accepted, in frames at 25 fps (1 s)."""
DEFAULT_MAX_GAP = 25
"""Longest NaN gap bridged by interpolation, in frames at 25 fps (1 s)."""


@dataclass
class HeadSamples:
    """Result of :func:`heads_for_gaze` (and so of ``generate_heads`` / ``sample_heads``).

    Attributes:
        motion: the first sample as a :class:`Motion` (T, 7): generated head, eye-in-head
            recomputed so the world gaze equals the input's.
        samples: ``(K, T, 7)`` float32 degrees, all K samples (``samples[0] == motion.data``).
        bridged: ``(T,)`` bool, frames whose gaze was NaN and was bridged for the model.
    """

    motion: Motion
    samples: np.ndarray
    bridged: np.ndarray


def world_gaze_track(motion: Motion) -> np.ndarray:
    """Per-eye world gaze ``(T, 4)`` = ``[l_pitch, l_yaw, r_pitch, r_yaw]`` degrees (NaN kept).

    Head channels that are NaN on *every* frame mean "no head track" and count as zero.
    """
    data = motion.data.astype(np.float64)
    head = data[:, 0:3]
    if np.isnan(head).all():
        head = np.zeros_like(head)
    R = head_rotation_matrix(head[:, 0], head[:, 1], head[:, 2])
    out = []
    for a, b in ((3, 4), (5, 6)):
        w = np.einsum("tij,tj->ti", R, angles_to_vector(data[:, a], data[:, b]))
        pitch, yaw = vector_to_angles(w)
        out += [pitch, yaw]
    track = np.stack(out, axis=-1)
    track[np.isnan(data[:, 3:7]).any(axis=1) | np.isnan(head).any(axis=1)] = np.nan
    return track.astype(np.float32)


def bridge_gaps(track: np.ndarray, max_gap: int, *, fps: float = FPS) -> tuple[np.ndarray, np.ndarray]:
    """Fill NaN rows of ``track`` ``(T, D)`` (interpolate inside, hold at the ends).

    Args:
        track: ``(T, D)``; a row with any NaN counts as missing.
        max_gap: longest gap bridged, in frames at 25 fps (converted to ``fps``).
        fps: frame rate of ``track``.

    Returns:
        ``(filled (T, D) float32, missing (T,) bool)``.

    Raises:
        MotionFormatError: no valid frame, or a gap longer than ``max_gap``.
    """
    track = np.asarray(track, dtype=np.float64)
    missing = np.isnan(track).any(axis=1)
    if not missing.any():
        return track.astype(np.float32), missing
    valid = np.flatnonzero(~missing)
    if valid.size == 0:
        raise MotionFormatError("gaze is NaN on every frame (no tracked frame to condition on)")
    limit = int(np.floor(max_gap * fps / FPS + 1e-9))
    # runs of missing frames
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for a, b in zip(starts, stops):
        if b - a > limit:
            raise MotionFormatError(
                f"gaze has a NaN gap of {b - a} frames ({(b - a) / fps:.2f} s) at frames {a}-{b - 1}, longer than "
                f"the {max_gap}-frame ({max_gap / FPS:.2f} s) maximum that is bridged; split the file there or raise --max-gap"
            )
    idx = np.arange(len(track))
    filled = np.stack([np.interp(idx, valid, track[valid, d]) for d in range(track.shape[1])], axis=-1)
    return filled.astype(np.float32), missing


def eye_in_head_for(head: np.ndarray, world: np.ndarray) -> np.ndarray:
    """Eye-in-head angles that give ``world`` gaze under ``head``.

    Args:
        head: ``(..., T, 3)`` pitch, yaw, roll degrees.
        world: ``(T, 4)`` per-eye world gaze degrees (NaN propagates).

    Returns:
        ``(..., T, 4)`` ``[l_pitch, l_yaw, r_pitch, r_yaw]`` eye-in-head degrees.
    """
    R = head_rotation_matrix(head[..., 0], head[..., 1], head[..., 2])  # (..., T, 3, 3)
    out = []
    for a in (0, 2):
        w = angles_to_vector(world[:, a], world[:, a + 1])  # (T, 3)
        e = np.einsum("...tji,tj->...ti", R, w)  # Rᵀ w
        pitch, yaw = vector_to_angles(e)
        out += [pitch, yaw]
    return np.stack(out, axis=-1).astype(np.float32)


def heads_for_gaze(
    model,
    gaze_motion: Motion,
    *,
    num_samples: int = 1,
    seed: int | None = 0,
    max_gap: int = DEFAULT_MAX_GAP,
    temperature: float = 1.0,
) -> HeadSamples:
    """Sample ``num_samples`` head tracks of ``model`` for the gaze of ``gaze_motion``.

    The work behind :func:`stygaze.cvae.pipeline.generate_heads` and
    :meth:`HeadCVAE.sample_heads <stygaze.cvae.model.HeadCVAE.sample_heads>`: world gaze,
    NaN bridging, resampling to 25 fps and back, eye-in-head angles for the new heads.

    Args:
        model: anything with ``generate(cond (T, 4), num_samples=, seed=, temperature=) ->
            (K, T, 3)`` degrees (a :class:`~stygaze.cvae.model.HeadCVAE`).
        gaze_motion: a :class:`Motion`; only its world gaze is used.
        num_samples: K ≥ 1.
        seed: seed of the sampling noise (same seed → identical samples).
        max_gap: longest NaN gap bridged, frames at 25 fps.
        temperature: prior noise scale (0 → one deterministic track, repeated K times).

    Raises:
        MotionFormatError: too short, all NaN, or a NaN gap longer than ``max_gap``.
    """
    if not isinstance(gaze_motion, Motion):
        raise TypeError(f"gaze_motion must be a Motion, got {type(gaze_motion).__name__}")
    if int(num_samples) < 1:
        raise MotionFormatError(f"--samples must be at least 1, got {num_samples}")
    if max_gap < 0:
        raise MotionFormatError(f"--max-gap must be >= 0 frames, got {max_gap}")
    fps = float(gaze_motion.fps)
    T = len(gaze_motion)
    if int(num_samples) > MAX_SAMPLES or int(num_samples) * T > MAX_SAMPLE_FRAMES:
        raise MotionFormatError(f"--samples {num_samples} × {T} frames is over the limit ({MAX_SAMPLES} samples, "
                                f"{MAX_SAMPLE_FRAMES} frames in all)")
    n25 = int(round(T * FPS / fps))
    if n25 < MIN_FRAMES:
        raise MotionFormatError(
            f"gaze is too short: {T} frames ({T / fps:.2f} s); the cVAE needs at least {MIN_FRAMES} frames ({MIN_FRAMES / FPS:.1f} s)"
        )
    world = world_gaze_track(gaze_motion)
    filled, missing = bridge_gaps(world, max_gap, fps=fps)
    if abs(fps - FPS) > 1e-9:
        cond = resample_linear(filled, np.arange(n25) * fps / FPS)
    else:
        cond = filled
    heads = model.generate(cond, num_samples=int(num_samples), seed=seed, temperature=temperature)  # (K, n25, 3)
    if not np.isfinite(heads).all():
        raise ModelOutputError("the cVAE produced NaN or infinite head motion: its weights are broken (retrain or re-download the checkpoint)")
    if abs(fps - FPS) > 1e-9:
        pos = np.arange(T) * FPS / fps
        heads = np.stack([resample_linear(h, pos) for h in heads])
    heads = heads.astype(np.float64)
    eyes = eye_in_head_for(heads, world)  # NaN where the input gaze was NaN
    samples = np.concatenate([heads.astype(np.float32), eyes], axis=-1)
    motion = Motion(samples[0].copy(), fps, gaze_motion.blink, dict(gaze_motion.extras), None)
    return HeadSamples(motion=motion, samples=samples, bridged=missing)
