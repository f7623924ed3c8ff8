"""Beat alignment: head movements retimed to end on speech beats, nothing else changed."""

import numpy as np
import pytest

from stygaze.eval.beats import beat_alignment_score, motion_beats
from stygaze.features.kinematics import std_and_speed
from stygaze.stygazetalk.beat_align import MAX_RATE, MAX_SHIFT_S, align_to_beats, beat_time_map, movement_ends


def nods(T: int = 500, period: int = 30, phase: float = 0.0, seed: int = 0) -> np.ndarray:
    """(T, 7): a head nodding with a jittered period, eyes following the head, in degrees."""
    rng = np.random.default_rng(seed)
    t = np.arange(T, dtype=np.float64)
    wobble = np.cumsum(rng.normal(0.0, 0.02, T))
    pitch = 3.0 * np.sin(2 * np.pi * (t + phase) / period + wobble)
    yaw = 2.0 * np.sin(2 * np.pi * t / 97.0)
    m = np.zeros((T, 7))
    m[:, 0], m[:, 1], m[:, 2] = pitch, yaw, 0.3 * pitch
    m[:, 3], m[:, 5] = -0.5 * pitch, -0.5 * pitch
    return m


def test_movement_ends_land_on_nearby_beats():
    m = nods()
    ends = movement_ends(m[:, :3])
    beats = np.round(ends + 3.0).astype(np.int64)  # every movement end 3 frames before a beat (0.12 s < MAX_SHIFT_S)
    out, moved = align_to_beats(m, beats)
    assert moved >= 0.8 * len(ends)
    before = beat_alignment_score(beats, motion_beats(m[:, :3]))
    after = beat_alignment_score(beats, motion_beats(out[:, :3]))
    assert after > before + 0.2 and after > 0.8
    new_ends = movement_ends(out[:, :3])
    assert np.median(np.min(np.abs(new_ends[:, None] - beats[None, :]), axis=1)) <= 1.0


def test_only_timing_changes():
    m = nods(seed=3)
    beats = np.arange(7, 500, 11)  # a regular 2.3 Hz beat
    out, moved = align_to_beats(m, beats)
    assert moved > 0 and out.shape == m.shape and out.dtype == np.float32
    assert np.allclose(out[0], m[0]) and np.allclose(out[-1], m[-1], atol=1e-5)
    s0, v0 = std_and_speed(m[:, :3])
    s1, v1 = std_and_speed(out[:, :3])
    assert np.allclose(s1, s0, rtol=0.02) and np.allclose(v1, v0, rtol=0.1)
    assert out.min() >= m.min() - 1e-5 and out.max() <= m.max() + 1e-5  # a resampling, never an extrapolation
    # the eyes are retimed with the head: the eye-head relation of every frame is kept
    assert np.allclose(out[:, 3], -0.5 * out[:, 0], atol=1e-4)


def test_far_beats_missing_beats_and_short_clips_leave_the_motion_alone():
    m = nods()
    far = np.round(movement_ends(m[:, :3]) + 25 * MAX_SHIFT_S + 3).astype(np.int64)
    far = far[far < len(m)]
    for beats in (far, np.zeros(0, np.int64)):
        out, moved = align_to_beats(m, beats)
        assert moved == 0 and np.allclose(out, m, atol=1e-6)
    out, moved = align_to_beats(m[:2], np.array([1]))
    assert moved == 0 and np.allclose(out, m[:2])
    assert align_to_beats(m, np.arange(5, 500, 11), max_shift_s=0.0)[1] == 0


def test_time_map_is_monotone_and_rate_limited():
    rng = np.random.default_rng(0)
    for _ in range(50):
        T = int(rng.integers(30, 400))
        ends = np.sort(rng.uniform(0, T, int(rng.integers(0, 40))))
        beats = np.sort(rng.integers(0, T, int(rng.integers(0, 60))))
        src, dst = beat_time_map(ends, beats, T)
        assert src[0] == dst[0] == 0 and src[-1] == dst[-1] == T - 1
        ds, dd = np.diff(src), np.diff(dst)
        assert (ds > 0).all() and (dd > 0).all()
        assert (ds / dd <= MAX_RATE + 1e-9).all() and (ds / dd >= 1 / MAX_RATE - 1e-9).all()
        assert (np.abs(src - dst) <= 25 * MAX_SHIFT_S + 1e-9).all()


def test_non_finite_motion_is_returned_unchanged():
    m = nods()
    m[10, 0] = np.nan
    out, moved = align_to_beats(m, np.arange(5, 500, 11))
    assert moved == 0 and np.isnan(out[10, 0])


@pytest.mark.parametrize("shift", [-4, 4])
def test_either_direction(shift):
    m = nods(seed=1)
    beats = np.round(movement_ends(m[:, :3]) + shift).astype(np.int64)
    beats = beats[(beats > 0) & (beats < len(m) - 1)]
    out, moved = align_to_beats(m, beats)
    assert moved > 0
    assert beat_alignment_score(beats, motion_beats(out[:, :3])) > beat_alignment_score(beats, motion_beats(m[:, :3])) + 0.2
