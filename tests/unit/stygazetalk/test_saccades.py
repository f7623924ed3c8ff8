"""The gaze-event stage: when and where the gaze shifts, fixations held in the world, causal and seeded."""

import numpy as np
import pytest

from stygaze.motion import Motion
from stygaze.stygazetalk.saccades import GazeEventConfig, GazeEventStage, SaccadeStage, apply_gaze_events, apply_saccade_stage

STILL = dict(drift_deg=0.0, microsaccade_rate_hz=0.0, vor_gain=1.0)
NEVER = dict(interval_mean_s=1e4, interval_mean_silent_s=1e4, min_interval_s=1e3)  # no scheduled shift within a test


def still_motion(T, pitch=0.0, yaw=0.0):
    data = np.zeros((T, 7), np.float32)
    data[:, [3, 5]] = pitch
    data[:, [4, 6]] = yaw
    return data


def fixation_shifts(out):
    """Shift vectors (K, 2) (yaw, pitch degrees) between the still stretches of a noise-free output."""
    xy = Motion(out).world_gaze_angles()[:, ::-1]
    still = np.r_[True, np.abs(np.diff(xy, axis=0)).max(axis=1) < 1e-6]
    d = np.diff(np.r_[0, still.astype(int), 0])
    starts, stops = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    keep = (stops - starts) >= 2  # at least 2 still frames (a fixation, not a sample in flight)
    centres = np.array([xy[a:b].mean(axis=0) for a, b in zip(starts[keep], stops[keep])])
    return np.diff(centres, axis=0)


def same_direction_share(vec):
    amp = np.hypot(vec[:, 0], vec[:, 1])
    pair = (amp[:-1] > 2) & (amp[1:] > 2)
    cos = np.einsum("ij,ij->i", vec[:-1][pair], vec[1:][pair]) / (amp[:-1][pair] * amp[1:][pair])
    return float(np.mean(np.degrees(np.arccos(np.clip(cos, -1, 1))) < 45))


def test_speaking_gaze_has_heavy_tailed_shifts_and_little_direction_persistence():
    """10 min of a still generated gaze while speaking: figures of real video calls (Dembinsky et al. 2024)."""
    T = 25 * 600
    g = GazeEventStage(GazeEventConfig(**STILL), seed=1).process_frames(still_motion(T))
    amp = g.shift_deg[g.shift_deg > 0]
    per_min = len(amp) / (T / 25 / 60)
    assert 150 < per_min < 300  # a shift every 0.2-0.4 s
    assert 0.2 < np.mean(amp > 6) < 0.45  # ~30 % larger than 6°
    assert np.quantile(amp, 0.9) >= 10 and amp.max() <= 2 * 25 + 2  # heavy tail; look-aways are capped at 25° from the anchor
    assert np.median(amp) < 3  # most shifts are small
    vec = fixation_shifts(g.motion)
    assert same_direction_share(vec) <= 0.3  # look-aways come back: no staircases
    intervals = np.diff(np.flatnonzero(g.shift_deg > 0)) / 25
    assert 0.16 <= np.median(intervals) <= 0.36 and intervals.min() >= 0.08


def test_pauses_have_fewer_and_smaller_shifts():
    T = 25 * 300
    speak = GazeEventStage(GazeEventConfig(**STILL), seed=2).process_frames(still_motion(T), np.ones(T, bool))
    quiet = GazeEventStage(GazeEventConfig(**STILL), seed=2).process_frames(still_motion(T), np.zeros(T, bool))
    a, b = speak.shift_deg[speak.shift_deg > 0], quiet.shift_deg[quiet.shift_deg > 0]
    assert len(b) < 0.9 * len(a)
    assert np.mean(b > 6) < 0.5 * np.mean(a > 6) and np.median(b) < np.median(a)


def test_speech_onsets_bring_look_aways():
    T = 25 * 600
    speaking = (np.arange(T) % 125) < 75  # 3 s of speech, 2 s pause
    g = GazeEventStage(GazeEventConfig(**STILL), seed=3).process_frames(still_motion(T), speaking)
    onset = np.flatnonzero(speaking[1:] & ~speaking[:-1]) + 1
    big = g.shift_deg > 6
    near_onset = np.mean([big[i : i + 3].any() for i in onset])
    elsewhere = np.mean([big[i : i + 3].any() for i in onset + 50])  # 2 s into the utterance
    assert near_onset > elsewhere + 0.2


def test_the_anchor_is_the_generated_gaze():
    """Style and audio still matter: the gaze lives around where the generator looks."""
    T = 25 * 120
    low = apply_gaze_events(still_motion(T, pitch=-12.0, yaw=5.0), config=GazeEventConfig(**STILL), seed=4)
    high = apply_gaze_events(still_motion(T, pitch=6.0, yaw=5.0), config=GazeEventConfig(**STILL), seed=4)
    d = np.median(Motion(high).world_gaze_angles(), axis=0) - np.median(Motion(low).world_gaze_angles(), axis=0)
    assert d[0] == pytest.approx(18.0, abs=1.5) and abs(d[1]) < 1.5
    # a moving generated gaze is followed (the home region moves with it)
    data = still_motion(T)
    data[:, [4, 6]] = np.linspace(-10, 10, T)[:, None]
    out = Motion(apply_gaze_events(data, config=GazeEventConfig(**STILL), seed=4)).world_gaze_angles()[:, 1]
    assert np.median(np.abs(out - data[:, 4])) < 2.0


def test_fixations_are_held_in_the_world_while_the_head_turns():
    """VOR: the head turns, the generator compensates only roughly -> between shifts the world gaze stays put."""
    T = 25 * 30
    data = still_motion(T)
    t = np.arange(T) / 25
    data[:, 1] = 6 * np.sin(2 * np.pi * 0.3 * t)  # head yaw
    data[:, [4, 6]] = (-data[:, 1] + 0.5 * np.sin(7 * t))[:, None]  # wobbly compensation
    g = GazeEventStage(GazeEventConfig(**STILL), seed=5).process_frames(data)
    world = Motion(g.motion).world_gaze_angles()
    step = np.abs(np.diff(world, axis=0)).max(axis=1)
    moving = np.zeros(T - 1, bool)
    for i in np.flatnonzero(g.shift_deg > 0):  # a shift lands within 3 frames (main sequence ≤ 80 ms)
        moving[max(i - 1, 0) : i + 3] = True
    assert np.all(step[~moving] < 1e-3)
    assert np.array_equal(g.motion[:, :3], data[:, :3])  # head untouched
    assert np.allclose(g.motion[:, 4] - g.motion[:, 6], data[:, 4] - data[:, 6], atol=1e-4)  # vergence kept


def test_vor_gain_lets_a_fraction_of_the_head_turn_through():
    T = 40
    data = still_motion(T)
    data[:, 1] = np.linspace(0, 5, T)
    data[:, [4, 6]] = -data[:, 1:2]
    cfg = GazeEventConfig(drift_deg=0.0, microsaccade_rate_hz=0.0, vor_gain=0.8, home_sd_deg=0.0, follow_deg=100.0, **NEVER)
    world_yaw = Motion(apply_gaze_events(data, config=cfg)).world_gaze_angles()[:, 1]
    assert world_yaw[-1] - world_yaw[0] == pytest.approx(0.2 * 5.0, abs=0.02)


@pytest.mark.parametrize("amp", [4.0, 12.0, 25.0])
def test_saccade_duration_follows_the_main_sequence(amp):
    """The generated gaze steps by A -> one shift whose flight lasts 2.2·A + 21 ms (sampled at 1000 fps)."""
    fps = 1000.0
    data = still_motion(400)
    data[150:, [4, 6]] = amp
    cfg = GazeEventConfig(home_sd_deg=0.0, anchor_tau_s=0.0, follow_deg=1.0, min_interval_s=0.05, interval_mean_s=1e4, **STILL)
    stage = GazeEventStage(cfg, fps=fps)
    yaw = stage.process(data)[:, 4]
    moving = np.flatnonzero((yaw > 1e-5 * amp) & (yaw < (1 - 1e-5) * amp))
    dur_ms = (moving[-1] - moving[0] + 2) / fps * 1000
    assert stage.num_saccades == 1
    assert dur_ms == pytest.approx(2.2 * amp + 21.0, abs=3.0)
    assert yaw[-1] == pytest.approx(amp, abs=1e-3)


def test_eyes_stay_in_range():
    cfg = GazeEventConfig(eye_range_deg=20.0, avert_median_deg=30.0, avert_max_deg=40.0, **STILL)
    out = apply_gaze_events(still_motion(25 * 120, yaw=10.0), config=cfg, seed=6)
    assert np.abs(out[:, 3:]).max() <= 20.0 + 0.01


def test_chunked_processing_equals_one_call_and_seed_reproduces():
    rng = np.random.default_rng(0)
    data = np.cumsum(rng.standard_normal((400, 7)).astype(np.float32) * 0.4, axis=0)
    data[:, :3] *= 0.3
    speaking = (np.arange(400) % 90) < 60
    whole = GazeEventStage(seed=5).process_frames(data, speaking)
    st = GazeEventStage(seed=5)
    parts = [st.process_frames(data[a:b], speaking[a:b]) for a, b in ((0, 7), (7, 7), (7, 100), (100, 101), (101, 400))]
    assert np.array_equal(np.concatenate([p.motion for p in parts]), whole.motion)
    assert np.array_equal(np.concatenate([p.shift_deg for p in parts]), whole.shift_deg)
    assert not np.array_equal(GazeEventStage(seed=6).process(data, speaking), whole.motion)


def test_drift_and_microsaccades_are_small():
    cfg = GazeEventConfig(drift_deg=0.1, microsaccade_rate_hz=0.5, microsaccade_deg=0.5, home_sd_deg=0.0, follow_deg=100.0, **NEVER)
    out = apply_gaze_events(still_motion(2500), config=cfg)  # no shifts: only fixational motion
    dev = np.abs(out[:, 4])
    assert 0.02 < dev.std() and dev.max() < 3.0


def test_nan_frames_pass_through_and_restart_the_fixation():
    data = still_motion(60, yaw=3.0)
    data[20:25] = np.nan
    out = apply_gaze_events(data, config=GazeEventConfig(home_sd_deg=0.0, **STILL))
    assert np.isnan(out[20:25]).all() and np.isfinite(out[:20]).all() and np.isfinite(out[25:]).all()
    assert out[25, 4] == pytest.approx(3.0, abs=1e-4)  # a new fixation starts where the generator looks


def test_old_names_still_work():
    data = still_motion(50)
    assert np.array_equal(apply_saccade_stage(data, seed=3), apply_gaze_events(data, seed=3))
    assert SaccadeStage is GazeEventStage


def test_bad_config_and_shapes():
    with pytest.raises(ValueError, match="interval_mean_s"):
        GazeEventStage(GazeEventConfig(interval_mean_s=float("nan")))
    with pytest.raises(ValueError, match="vor_gain"):
        GazeEventStage(GazeEventConfig(vor_gain=1.5))
    with pytest.raises(ValueError, match="return_prob"):
        GazeEventStage(GazeEventConfig(return_prob=0.9, reavert_prob=0.3))
    with pytest.raises(ValueError, match=r"\(n, 7\)"):
        GazeEventStage().process(np.zeros((5, 6)))
    with pytest.raises(ValueError, match="one value per frame"):
        GazeEventStage().process(np.zeros((5, 7)), np.ones(4, bool))
    assert GazeEventStage().process(np.zeros((0, 7))).shape == (0, 7)
