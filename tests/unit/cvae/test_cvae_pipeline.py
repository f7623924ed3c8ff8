"""Gaze → head pipeline: world gaze kept, NaN gaps bridged or refused, fps, files, metrics."""

import numpy as np
import pytest

from stygaze.errors import MotionFormatError
from stygaze.cvae.model import CVAEConfig, HeadCVAE
from stygaze.motion import Motion
from stygaze.cvae.pipeline import (
    DEFAULT_MAX_GAP,
    MIN_FRAMES,
    bridge_gaps,
    gaze_shift_head_response,
    generate_heads,
    head_angular_errors,
    head_correlations,
    head_jerk,
    load_head_samples,
    sample_diversity,
    save_head_samples,
    world_gaze_track,
)


@pytest.fixture(scope="module")
def model():
    import torch

    torch.manual_seed(0)
    m = HeadCVAE(CVAEConfig(hidden=8, z_dim=3, chunk=5, context=3, overlap=1))
    m.set_normalization([0, 0, 0], [5, 8, 2], [0, 0, 0, 0], [5, 15, 5, 15])
    return m


def _gaze_motion(T, rng, fps=25.0, head=True):
    data = np.zeros((T, 7), np.float32)
    data[:, 3:7] = np.repeat(rng.normal(0, 10, (T // 8 + 1, 4)), 8, axis=0)[:T]
    if head:
        data[:, 0:3] = rng.normal(0, 3, (T, 3))
    return Motion(data, fps)


def test_output_keeps_the_world_gaze_and_adds_head(model, rng):
    gm = _gaze_motion(60, rng)
    res = generate_heads(gm, model=model, num_samples=3, seed=0)
    assert res.samples.shape == (3, 60, 7) and res.motion.data.shape == (60, 7)
    np.testing.assert_array_equal(res.samples[0], res.motion.data)
    for k in range(3):
        out = Motion(res.samples[k])
        np.testing.assert_allclose(out.world_gaze_vectors("left"), gm.world_gaze_vectors("left"), atol=1e-5)
        np.testing.assert_allclose(out.world_gaze_vectors("right"), gm.world_gaze_vectors("right"), atol=1e-5)
    assert np.abs(res.samples[:, :, :3] - gm.head[None]).max() > 1e-3  # the head is new


def test_world_gaze_of_a_gaze_only_file_is_its_eye_angles(rng):
    gm = _gaze_motion(30, rng, head=False)
    np.testing.assert_allclose(world_gaze_track(gm), gm.gaze, atol=1e-4)
    gm.data[:, 0:3] = np.nan  # no head track at all counts as a zero head
    np.testing.assert_allclose(world_gaze_track(gm), gm.data[:, 3:7], atol=1e-4)


def test_yaw_shift_of_head_and_eyes_is_world_gaze():
    data = np.zeros((1, 7), np.float32)
    data[0, 1] = 20.0  # head yaw 20 deg left
    data[0, [4, 6]] = 10.0  # eyes 10 deg further left in the head
    np.testing.assert_allclose(world_gaze_track(Motion(data)), [[0, 30, 0, 30]], atol=1e-4)


def test_short_nan_gaps_are_bridged_and_stay_nan_in_the_eyes(model, rng):
    gm = _gaze_motion(80, rng)
    gm.data[10:15, 3:7] = np.nan
    gm.data[:3, 4] = np.nan  # leading gap: held
    res = generate_heads(gm, model=model, num_samples=2, seed=0)
    assert res.bridged[10:15].all() and res.bridged[:3].all() and res.bridged.sum() == 8
    assert np.isfinite(res.samples[:, :, :3]).all()  # the head is defined everywhere
    assert np.isnan(res.samples[:, 10:15, 3:7]).all() and np.isfinite(res.samples[:, 20:, 3:7]).all()


def test_bridge_gaps_interpolates_linearly():
    x = np.array([[0.0], [np.nan], [np.nan], [3.0], [np.nan]])
    filled, missing = bridge_gaps(x, max_gap=2)
    np.testing.assert_allclose(filled[:, 0], [0, 1, 2, 3, 3])
    assert missing.tolist() == [False, True, True, False, True]


def test_long_nan_gap_is_refused(model, rng):
    gm = _gaze_motion(100, rng)
    gm.data[20 : 20 + DEFAULT_MAX_GAP + 1, 3] = np.nan
    with pytest.raises(MotionFormatError, match=r"NaN gap of 26 frames .* at frames 20-45"):
        generate_heads(gm, model=model)
    # a larger max_gap bridges it
    assert generate_heads(gm, model=model, max_gap=30).bridged.sum() == 26


def test_all_nan_and_too_short_are_refused(model, rng):
    gm = _gaze_motion(40, rng)
    gm.data[:, 3:7] = np.nan
    with pytest.raises(MotionFormatError, match="NaN on every frame"):
        generate_heads(gm, model=model, max_gap=100)
    with pytest.raises(MotionFormatError, match="too short"):
        generate_heads(_gaze_motion(MIN_FRAMES - 1, rng), model=model)
    with pytest.raises(MotionFormatError, match="samples"):
        generate_heads(_gaze_motion(40, rng), model=model, num_samples=0)


def test_other_frame_rates_keep_the_input_timeline(model, rng):
    gm = _gaze_motion(120, rng, fps=50.0)
    res = generate_heads(gm, model=model, num_samples=2, seed=1)
    assert res.motion.fps == 50.0 and res.samples.shape == (2, 120, 7)
    np.testing.assert_allclose(res.motion.world_gaze_vectors(), gm.world_gaze_vectors(), atol=1e-5)


def test_samples_file_roundtrip_and_motion_load_tolerates_it(model, rng, tmp_path):
    res = generate_heads(_gaze_motion(50, rng), model=model, num_samples=4, seed=2)
    path = save_head_samples(tmp_path / "out.npz", res)
    m = Motion.load(path)
    np.testing.assert_array_equal(m.data, res.motion.data)
    np.testing.assert_array_equal(load_head_samples(path), res.samples)
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"]  # no temp files left
    res.motion.save(tmp_path / "plain.npz")
    with pytest.raises(MotionFormatError, match="no 'samples'"):
        load_head_samples(tmp_path / "plain.npz")


def test_metrics_golden_values():
    true = np.zeros((10, 3))
    pred = np.zeros((2, 10, 3))
    pred[0, :, 0] = 1.0
    pred[1, :, 1] = -2.0
    np.testing.assert_allclose(head_angular_errors(pred, true), [[1, 0], [0, 2]])
    t = np.linspace(0, 1, 50)
    true = np.stack([t, t**2, np.sin(6 * t)], 1)
    np.testing.assert_allclose(head_correlations(np.stack([true, -true]), true), [[1, 1, 1], [-1, -1, -1]], atol=1e-12)
    # a straight line and a parabola have zero third difference; a cubic's is constant 6 dt^3
    assert head_jerk(np.stack([t, t**2, 0 * t], 1)) == pytest.approx(0.0, abs=1e-12)
    assert head_jerk(np.stack([np.arange(10.0) ** 3, 0 * t[:10], 0 * t[:10]], 1)) == pytest.approx(6.0)
    # identical samples: zero diversity; two tracks 3 deg apart on one axis: 3
    s = np.zeros((3, 5, 3))
    assert sample_diversity(s) == 0.0
    s2 = np.zeros((2, 5, 3))
    s2[1, :, 1] = 3.0
    assert sample_diversity(s2) == pytest.approx(3.0)


def test_gaze_shift_response_finds_large_shifts_only():
    T = 200
    gaze = np.zeros(T)
    gaze[50:] = 30.0  # one 30 deg shift at frame 50 (a single fast step)
    gaze[120:] = 35.0  # a 5 deg shift: too small
    head = np.clip((np.arange(T) - 52) * 1.0, 0, 15)  # the head turns 15 deg after the eyes
    amps, resp = gaze_shift_head_response(gaze, head)
    np.testing.assert_allclose(amps, [30.0])
    np.testing.assert_allclose(resp, [15.0])
