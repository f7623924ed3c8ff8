"""FixRatio, CompScore and Sim: golden values derived by hand."""

import numpy as np
import pytest

from stygaze.eval import comp_score, fix_ratio, sim_score
from stygaze.eval.patterns import comp_scores, fixation_stats, gaze_signal
from stygaze.motion import Motion


def motion(head_yaw=None, eye_yaw=None, T=None, head_pitch=None, eye_pitch=None):
    T = T or len(next(a for a in (head_yaw, eye_yaw, head_pitch, eye_pitch) if a is not None))
    data = np.zeros((T, 7), np.float32)
    if head_pitch is not None:
        data[:, 0] = head_pitch
    if head_yaw is not None:
        data[:, 1] = head_yaw
    if eye_pitch is not None:
        data[:, 3] = data[:, 5] = eye_pitch
    if eye_yaw is not None:
        data[:, 4] = data[:, 6] = eye_yaw
    return Motion(data)


def test_constant_gaze_fix_ratio_is_one():
    assert fix_ratio(Motion.zeros(50)) == 1.0


def test_saccade_samples_are_the_non_fixation_share():
    eye = np.r_[np.zeros(20), [5.0, 10.0, 15.0], np.full(20, 20.0)]
    # fixations [0,20) and [23,43): 40 of 43 samples
    assert fix_ratio(motion(eye_yaw=eye)) == pytest.approx(40 / 43)


def test_nan_samples_count_as_neither():
    data = np.zeros((100, 7), np.float32)
    data[30:40] = np.nan
    stats = fixation_stats(Motion(data))
    assert stats.num_valid == 90 and stats.num_fixation == 90
    assert fix_ratio(Motion(data)) == 1.0


def test_all_nan_fix_ratio_is_nan():
    assert np.isnan(fix_ratio(Motion(np.full((10, 7), np.nan, np.float32))))


def test_pure_head_rotation_with_perfect_vor_is_a_world_fixation_but_eye_moves():
    t = np.arange(60)
    m = motion(head_yaw=0.6 * t, eye_yaw=-0.6 * t)
    # world gaze = R_y(head) d(0, eye) has yaw head + eye = 0: one long fixation
    np.testing.assert_allclose(gaze_signal(m, "world"), 0.0, atol=1e-5)
    assert fix_ratio(m) == 1.0
    # eye-in-head moves 0.6 deg/frame: any 3 samples span 1.2 > 1 deg
    assert fix_ratio(m, signal="eye") == 0.0
    # perfect VOR: gaze velocity 0 < 20, so Score_t = -|head velocity| = -0.6 deg/frame
    assert comp_score(m) == pytest.approx(-0.6, abs=1e-5)


def test_world_gaze_uses_rotation_composition():
    # head pitched up 30 deg and yawed 40 deg, eye-in-head yaw 20: not the angle sum 60
    m = motion(head_pitch=np.full(5, 30.0), head_yaw=np.full(5, 40.0), eye_yaw=np.full(5, 20.0))
    xy = gaze_signal(m, "world")
    v = m.world_gaze_vectors()[0]
    assert xy[0, 0] == pytest.approx(np.rad2deg(np.arctan2(v[0], v[2])))
    assert abs(xy[0, 0] - 60.0) > 0.5


def test_signal_must_be_known():
    with pytest.raises(ValueError, match="signal"):
        fix_ratio(Motion.zeros(5), signal="head")


def test_static_motion_comp_score_is_zero():
    assert comp_score(Motion.zeros(20)) == 0.0


@pytest.mark.parametrize(
    "head_step, eye_step, expected",
    [
        (10.0, 20.0, -1.0),  # |g| = 30 in [25, 90], head and eye aligned: -cos 0
        (-10.0, 40.0, 1.0),  # |g| = 30, head opposes the eye: -cos 180
        (0.0, 22.0, 0.0),  # 20 <= |g| < 25: neither branch
        (0.0, 100.0, 0.0),  # |g| > 90
        (0.0, 30.0, 0.0),  # large shift, head still: angle undefined -> 0
        (3.0, 4.0, -3.0),  # |g| = 7 < 20: -|head velocity|
    ],
    ids=["aligned_large_shift", "opposed_large_shift", "gap_band", "too_fast", "head_still", "small_gaze"],
)
def test_comp_score_branches(head_step, eye_step, expected):
    t = np.arange(6)
    m = motion(head_yaw=head_step * t, eye_yaw=eye_step * t)
    assert comp_score(m) == pytest.approx(expected, abs=1e-5)


def test_comp_score_uses_pitch_and_yaw_norms():
    t = np.arange(6)
    m = motion(head_pitch=3.0 * t, head_yaw=4.0 * t)  # |h| = 5, eye still, |g| = 5 < 20
    assert comp_score(m) == pytest.approx(-5.0, abs=1e-5)


def test_comp_score_leaves_out_steps_touching_nan():
    t = np.arange(11, dtype=np.float32)
    data = np.zeros((11, 7), np.float32)
    data[:, 1] = t  # head yaw 1 deg/frame -> score -1
    data[5] = np.nan
    cs = comp_scores(Motion(data))
    assert cs.num_valid == 8  # 10 steps, 2 touch frame 5
    assert cs.mean == pytest.approx(-1.0)


def test_sim_score_reproduces_the_papers_base_row():
    # Table IV: GT 61.13 % / -0.3366, Base 74.17 % / -0.2890 -> 0.8220
    assert sim_score(0.6113, 0.7417, -0.3366, -0.2890) == pytest.approx(0.8220, abs=1e-4)


def test_sim_score_identical_is_one():
    assert sim_score(0.5, 0.5, -0.3, -0.3) == 1.0
