"""The saccade stage: fixations held in world coordinates, main-sequence saccades, causal."""

import numpy as np
import pytest

from stygaze.stygazetalk.saccades import SaccadeStage, SaccadeStageConfig, apply_saccade_stage
from stygaze.motion import Motion

STILL = dict(drift_deg=0.0, microsaccade_rate_hz=0.0, vor_gain=1.0)


def ramp_motion(T=200, speed=0.2):
    """Eyes sweep yaw smoothly at ``speed`` deg/frame; head still."""
    data = np.zeros((T, 7), np.float32)
    data[:, 4] = data[:, 6] = speed * np.arange(T)
    return data


def test_smooth_sweep_becomes_fixations_and_saccades():
    data = ramp_motion()
    stage = SaccadeStage(SaccadeStageConfig(threshold_deg=3.0, **STILL))
    out = stage.process(data)
    yaw = Motion(out).world_gaze_angles()[:, 1]
    step = np.abs(np.diff(yaw))
    # mostly perfectly still frames, a few jumps of about the threshold
    assert (step < 1e-6).mean() > 0.8
    jumps = step[step > 1.0]
    assert len(jumps) >= 5 and stage.num_saccades >= 8
    assert np.all(np.abs(out[:, 4] - data[:, 4]) <= 3.0 + 0.2 + 1e-4)  # never further than threshold + one frame
    assert np.allclose(out[:, 4], out[:, 6]) and np.allclose(out[:, 3], 0, atol=1e-4)  # conjugate, pitch untouched
    assert np.array_equal(out[:, :3], data[:, :3])  # head untouched


def test_fixation_is_held_in_world_coordinates_while_the_head_turns():
    """VOR: the head turns 5°, the desired gaze stays put -> eye-in-head counter-rotates, no saccade."""
    T = 60
    data = np.zeros((T, 7), np.float32)
    data[:, 1] = np.linspace(0, 5, T)  # head yaw 0 -> 5°
    data[:, 4] = data[:, 6] = -np.linspace(0, 5, T) + 0.5 * np.sin(np.arange(T))  # generator: wobbly compensation
    stage = SaccadeStage(SaccadeStageConfig(threshold_deg=2.0, **STILL))
    out = stage.process(data)
    world = Motion(out).world_gaze_angles()
    assert stage.num_saccades == 0
    assert np.abs(world - world[0]).max() < 1e-3
    assert np.allclose(out[:, 4], -data[:, 1], atol=1e-3)  # exact counter-rotation


def test_vor_gain_lets_a_fraction_of_the_head_turn_through():
    T = 40
    data = np.zeros((T, 7), np.float32)
    data[:, 1] = np.linspace(0, 5, T)
    data[:, 4] = data[:, 6] = -data[:, 1]
    out = apply_saccade_stage(data, SaccadeStageConfig(threshold_deg=5.0, drift_deg=0.0, microsaccade_rate_hz=0.0, vor_gain=0.8))
    world_yaw = Motion(out).world_gaze_angles()[:, 1]
    assert world_yaw[-1] == pytest.approx(0.2 * 5.0, abs=0.02)


@pytest.mark.parametrize("amp", [4.0, 12.0, 25.0])
def test_saccade_duration_follows_the_main_sequence(amp):
    """A step in desired gaze -> one saccade whose flight lasts 2.2·A + 21 ms (sampled at 1000 fps)."""
    fps = 1000.0
    T = 400
    data = np.zeros((T, 7), np.float32)
    data[150:, 4] = data[150:, 6] = amp
    stage = SaccadeStage(SaccadeStageConfig(threshold_deg=1.0, **STILL), fps=fps)
    yaw = stage.process(data)[:, 4]
    moving = np.flatnonzero((yaw > 1e-5 * amp) & (yaw < (1 - 1e-5) * amp))
    dur_ms = (moving[-1] - moving[0] + 2) / fps * 1000
    assert stage.num_saccades == 1
    assert dur_ms == pytest.approx(2.2 * amp + 21.0, abs=3.0)
    assert yaw[-1] == pytest.approx(amp, abs=1e-3)


def test_chunked_processing_equals_one_call_and_seed_reproduces():
    rng = np.random.default_rng(0)
    data = np.cumsum(rng.standard_normal((300, 7)).astype(np.float32) * 0.4, axis=0)
    data[:, :3] *= 0.3
    cfg = SaccadeStageConfig()
    whole = SaccadeStage(cfg, seed=5).process(data)
    st = SaccadeStage(cfg, seed=5)
    parts = [st.process(data[a:b]) for a, b in ((0, 7), (7, 7), (7, 100), (100, 101), (101, 300))]
    assert np.array_equal(np.concatenate(parts), whole)
    assert not np.array_equal(SaccadeStage(cfg, seed=6).process(data), whole)  # drift / microsaccades are seeded


def test_drift_and_microsaccades_are_small():
    data = np.zeros((2500, 7), np.float32)  # desired gaze perfectly still: only fixational motion
    out = apply_saccade_stage(data, SaccadeStageConfig(threshold_deg=3.0, drift_deg=0.1, microsaccade_rate_hz=0.5, microsaccade_deg=0.5))
    dev = np.abs(out[:, 4])
    assert 0.02 < dev.std() and dev.max() < 3.0


def test_nan_frames_pass_through_and_restart_the_fixation():
    data = ramp_motion(60)
    data[20:25] = np.nan
    out = apply_saccade_stage(data, SaccadeStageConfig(**STILL))
    assert np.isnan(out[20:25]).all() and np.isfinite(out[:20]).all() and np.isfinite(out[25:]).all()
    assert out[25, 4] == pytest.approx(data[25, 4], abs=1e-4)  # a new fixation starts where the gaze is


def test_bad_config_and_shapes():
    with pytest.raises(ValueError, match="threshold_deg"):
        SaccadeStage(SaccadeStageConfig(threshold_deg=float("nan")))
    with pytest.raises(ValueError, match="vor_gain"):
        SaccadeStage(SaccadeStageConfig(vor_gain=-1))
    with pytest.raises(ValueError, match=r"\(n, 7\)"):
        SaccadeStage().process(np.zeros((5, 6)))
    assert SaccadeStage().process(np.zeros((0, 7))).shape == (0, 7)


def test_vor_slip_restarts_after_a_saccade_that_lands_within_its_first_frame():
    """A zero-duration saccade starts a new fixation: the slip counts from the head pose at landing."""
    T = 30
    data = np.zeros((T, 7), np.float32)
    data[:10, 1] = np.linspace(0, 5, 10)  # head yaw 0 -> 5° during the first fixation, then still
    data[10:, 1] = 5.0
    data[:10, 4] = data[:10, 6] = -data[:10, 1]  # desired world gaze still ...
    data[10:, 4] = data[10:, 6] = 5.0  # ... then 10° to the left (world)
    cfg = SaccadeStageConfig(threshold_deg=2.0, min_fixation_s=0.0, slope_ms=0.0, intercept_ms=0.0,
                             drift_deg=0.0, microsaccade_rate_hz=0.0, vor_gain=0.8)
    stage = SaccadeStage(cfg)
    world_yaw = Motion(stage.process(data)).world_gaze_angles()[:, 1]
    assert stage.num_saccades == 1
    assert world_yaw[9] == pytest.approx(0.2 * 5.0, abs=0.01)  # slip during the first fixation
    assert np.allclose(world_yaw[10:], 10.0, atol=1e-3)  # the head is still from here on: no slip carried over
