"""The motion contract: sign convention (via world-gaze vectors), rotation composition,
npz I/O and validation, resampling."""

import json

import numpy as np
import pytest

from stygaze.errors import MotionFormatError
from stygaze.motion import CHANNELS, Motion, resample_linear, validate_motion_array
from stygaze.geometry import angles_to_vector, head_rotation_matrix, matrix_to_angles, vector_to_angles


def one_frame(hp=0.0, hy=0.0, hr=0.0, ep=0.0, ey=0.0):
    return Motion(np.array([[hp, hy, hr, ep, ey, ep, ey]], np.float32))


# --- sign convention ------------------------------------------------------------------
@pytest.mark.parametrize(
    "frame, expected",
    [
        (dict(), (0, 0, 1)),
        (dict(hy=90), (1, 0, 0)),  # head yaw + turns towards the subject's left = +x
        (dict(ey=90), (1, 0, 0)),  # eye yaw + likewise
        (dict(hp=90), (0, 1, 0)),  # head pitch + = up = +y
        (dict(ep=90), (0, 1, 0)),
        (dict(hy=-90), (-1, 0, 0)),
        # roll + puts the top of the head towards the left shoulder, so the head's left
        # side points down: an eye looking to the head's left looks at the floor
        (dict(hr=90, ey=90), (0, -1, 0)),
        (dict(hr=-90, ey=90), (0, 1, 0)),
        (dict(hr=90, ep=90), (1, 0, 0)),  # and the head's up points to the subject's left
    ],
    ids=["neutral", "head_yaw_left", "eye_yaw_left", "head_pitch_up", "eye_pitch_up", "head_yaw_right",
         "roll_left_eye_left_looks_down", "roll_right_eye_left_looks_up", "roll_left_eye_up_looks_left"],
)
def test_sign_convention_through_world_gaze_vectors(frame, expected):
    np.testing.assert_allclose(one_frame(**frame).world_gaze_vectors()[0], expected, atol=1e-6)


def test_direction_formula():
    np.testing.assert_allclose(angles_to_vector(30.0, 40.0),
                               [np.cos(np.pi / 6) * np.sin(np.deg2rad(40)), 0.5, np.cos(np.pi / 6) * np.cos(np.deg2rad(40))])


def test_yaw_only_composition_adds_up():
    ang = one_frame(hy=20, ey=30).world_gaze_angles()[0]
    np.testing.assert_allclose(ang, [0.0, 50.0], atol=1e-5)


def test_rotation_composition_is_not_an_angle_sum():
    m = one_frame(hp=30, ey=40)
    pitch, yaw = m.world_gaze_angles()[0]
    # R_x(-30) d(0, 40): pitch = asin(sin 30 cos 40) = 22.52 deg, not 30; yaw = atan(tan 40 / cos 30)
    assert pitch == pytest.approx(np.rad2deg(np.arcsin(0.5 * np.cos(np.deg2rad(40)))), abs=1e-5)
    assert yaw == pytest.approx(np.rad2deg(np.arctan(np.tan(np.deg2rad(40)) / np.cos(np.pi / 6))), abs=1e-5)
    assert abs(pitch - 30) > 5 and abs(yaw - 40) > 3


def test_rotation_order_matters():
    a = head_rotation_matrix(30.0, 40.0, 0.0)
    b = head_rotation_matrix(0.0, 40.0, 0.0) @ head_rotation_matrix(30.0, 0.0, 0.0)
    c = head_rotation_matrix(30.0, 0.0, 0.0) @ head_rotation_matrix(0.0, 40.0, 0.0)
    np.testing.assert_allclose(a, b, atol=1e-12)  # yaw outermost
    assert np.abs(a - c).max() > 0.1


def test_mean_eye_vector_of_converging_eyes_looks_ahead():
    m = Motion(np.array([[0, 0, 0, 0, -2, 0, 2]], np.float32))  # vergence
    np.testing.assert_allclose(m.world_gaze_vectors("mean")[0], [0, 0, 1], atol=1e-7)
    assert m.world_gaze_vectors("left")[0][0] < 0 < m.world_gaze_vectors("right")[0][0]
    with pytest.raises(ValueError):
        m.world_gaze_vectors("cyclops")


def test_rotation_matrices_are_proper_and_round_trip(rng):
    p, y, r = rng.uniform(-80, 80, 200), rng.uniform(-179, 179, 200), rng.uniform(-80, 80, 200)
    R = head_rotation_matrix(p, y, r)
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)
    for got, want in zip(matrix_to_angles(R), (p, y, r)):
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_vector_angles_round_trip(rng):
    p, y = rng.uniform(-85, 85, 100), rng.uniform(-179, 179, 100)
    gp, gy = vector_to_angles(3.0 * angles_to_vector(p, y))  # length does not matter
    np.testing.assert_allclose(gp, p, atol=1e-9)
    np.testing.assert_allclose(gy, y, atol=1e-9)


def test_head_matrices_match_motion_head(rng):
    data = rng.uniform(-30, 30, (10, 7)).astype(np.float32)
    m = Motion(data)
    np.testing.assert_allclose(m.head_rotation_matrices(), head_rotation_matrix(data[:, 0], data[:, 1], data[:, 2]))


# --- views ----------------------------------------------------------------------------
def test_views_and_slice(rng):
    data = rng.normal(size=(20, 7)).astype(np.float32)
    m = Motion(data, blink=np.linspace(0, 1, 20))
    np.testing.assert_array_equal(m.head, data[:, :3])
    np.testing.assert_array_equal(m.gaze, data[:, 3:])
    np.testing.assert_allclose(m.mean_eye, 0.5 * (data[:, 3:5] + data[:, 5:7]))
    s = m.slice(5, 15)
    assert len(s) == 10 and s.blink.shape == (10,) and m.duration == pytest.approx(0.8)


# --- npz I/O --------------------------------------------------------------------------
def test_npz_round_trip_keeps_everything(tmp_path, rng):
    data = rng.normal(size=(30, 7)).astype(np.float32)
    data[3, 4] = np.nan  # tracker loss survives
    m = Motion(data, fps=25, blink=rng.uniform(0, 1, 30), extras={"jaw": rng.normal(size=(30, 3)), "shape": np.ones(10)},
               events={"saccades": [[1, 3]]})
    path = m.save(tmp_path / "clip.npz")
    back = Motion.load(path)
    np.testing.assert_array_equal(back.data, m.data)
    assert back.fps == 25 and back.events == {"saccades": [[1, 3]]}
    np.testing.assert_array_equal(back.blink, m.blink)
    np.testing.assert_array_equal(back.extras["jaw"], m.extras["jaw"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.npz"]  # no temp file left
    with np.load(path, allow_pickle=False) as npz:
        assert tuple(npz["channels"]) == CHANNELS and npz["motion"].dtype == np.float32


def test_load_refuses_nan_when_asked(tmp_path):
    data = np.zeros((5, 7), np.float32)
    data[2, 0] = np.nan
    Motion(data).save(tmp_path / "m.npz")
    with pytest.raises(MotionFormatError, match="NaN"):
        Motion.load(tmp_path / "m.npz", allow_nan=False)


def write_npz(path, **arrays):
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


@pytest.mark.parametrize(
    "arrays, match",
    [
        (dict(motion=np.zeros((10, 6), np.float32)), r"shape \(T, 7\)"),
        (dict(motion=np.zeros((10,), np.float32)), r"shape \(T, 7\)"),
        (dict(motion=np.zeros((0, 7), np.float32)), "zero frames"),
        (dict(motion=np.full((4, 7), np.inf, np.float32)), "infinite"),
        (dict(motion=np.array([["a"] * 7] * 3)), "numeric"),
        (dict(motion=np.zeros((4, 7), np.float32), fps=np.float32(0)), "fps"),
        (dict(motion=np.zeros((4, 7), np.float32), fps=np.float32(-25)), "fps"),
        (dict(motion=np.zeros((4, 7), np.float32), fps=np.float32(np.nan)), "fps"),
        (dict(motion=np.zeros((4, 7), np.float32), channels=np.array(list(reversed(CHANNELS)))), "channels"),
        (dict(pose=np.zeros((4, 7), np.float32)), "no 'motion' array"),
        (dict(motion=np.zeros((4, 7), np.float32), blink=np.zeros(3)), "blink"),
        (dict(motion=np.zeros((4, 7), np.float32), events=np.asarray("{not json")), "JSON"),
    ],
    ids=["six_channels", "one_dim", "zero_frames", "inf", "strings", "fps_zero", "fps_negative", "fps_nan",
         "wrong_channel_names", "missing_key", "blink_length", "bad_events"],
)
def test_load_validation_errors(tmp_path, arrays, match):
    path = write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(MotionFormatError, match=match) as info:
        Motion.load(path)
    assert "\n" not in str(info.value)


def test_corrupt_and_missing_files(tmp_path):
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(MotionFormatError, match="not a valid .npz"):
        Motion.load(bad)
    with pytest.raises(MotionFormatError, match="not found"):
        Motion.load(tmp_path / "missing.npz")


def test_pickled_object_arrays_are_never_loaded(tmp_path):
    path = write_npz(tmp_path / "obj.npz", motion=np.array([object()] * 7, dtype=object).reshape(1, 7))
    with pytest.raises(MotionFormatError):
        Motion.load(path)


def test_validate_motion_array_converts_to_float32():
    out = validate_motion_array(np.zeros((3, 7), np.int64))
    assert out.dtype == np.float32 and out.shape == (3, 7)


# --- resampling -----------------------------------------------------------------------
@pytest.mark.parametrize("fps", [60, 120, 1000])
def test_resample_linear_ramp_to_25(fps):
    T = int(4 * fps)  # 4 s
    t = np.arange(T) / fps
    data = np.repeat((10.0 * t)[:, None], 7, axis=1).astype(np.float32)  # 10 deg/s on every channel
    out = Motion(data, fps=fps).resample(25, mode="linear")
    assert out.fps == 25 and len(out) == 100
    np.testing.assert_allclose(out.data[:, 0], 10.0 * np.arange(100) / 25, atol=1e-4)


def test_resample_60hz_nan_propagates_only_to_neighbours():
    data = np.zeros((60, 7), np.float32)
    data[3] = np.nan  # output frame 1 sits at input 2.4: between 2 and 3 -> NaN
    out = Motion(data, fps=60).resample(25, mode="linear")
    nan_rows = np.flatnonzero(np.isnan(out.data).any(axis=1))
    assert nan_rows.tolist() == [1]


def test_resample_1000hz_nan_on_an_unused_sample_vanishes():
    data = np.zeros((1000, 7), np.float32)
    data[41] = np.nan  # output frames sit exactly on inputs 0, 40, 80: 41 has zero weight
    assert not Motion(data, fps=1000).resample(25, mode="linear").has_nan
    data[40] = np.nan
    out = Motion(data, fps=1000).resample(25, mode="linear")
    assert np.flatnonzero(np.isnan(out.data).any(axis=1)).tolist() == [1]


def test_resample_120hz_blink_and_same_rate_copy(rng):
    m = Motion(rng.normal(size=(240, 7)).astype(np.float32), fps=120, blink=np.linspace(0, 1, 240))
    out = m.resample(25)
    assert len(out) == 50 and out.blink.shape == (50,)
    same = out.resample(25)
    assert same is not out and np.array_equal(same.data, out.data)


@pytest.mark.parametrize("fps", [60, 120, 500, 1000])
def test_resample_average_keeps_a_ramp_in_time(fps):
    """A centred box average of a ramp is the ramp at the output time (no half-sample lag)."""
    T = int(4 * fps)
    data = np.repeat((10.0 * np.arange(T) / fps)[:, None], 7, axis=1).astype(np.float32)
    out = Motion(data, fps=fps).resample(25)  # averaging is the default when downsampling
    assert out.fps == 25 and len(out) == 100
    # interior frames: exact to a small fraction of one input step; frame 0 sees half a window
    np.testing.assert_allclose(out.data[1:-1, 0], 10.0 * np.arange(1, 99) / 25, atol=0.05 * 10 / fps + 1e-4)


def test_resample_average_removes_white_noise_that_picking_keeps(rng):
    noise = rng.normal(0, 1.0, (5000, 7)).astype(np.float32)  # 10 s at 500 Hz
    avg = Motion(noise, fps=500).resample(25)
    lin = Motion(noise, fps=500).resample(25, mode="linear")
    near = Motion(noise, fps=500).resample(25, mode="nearest")
    assert len(avg) == len(lin) == len(near) == 250
    assert np.std(avg.data[1:]) < 0.3  # 20 samples per frame: 1 / sqrt(20) = 0.22
    assert np.std(lin.data) > 0.8 and np.std(near.data) > 0.8  # sample picking keeps the noise
    np.testing.assert_array_equal(near.data, noise[::20])  # 500 / 25: output times sit on inputs


def test_resample_average_nan_needs_half_the_window_valid():
    # 500 Hz -> 25 fps: frame i averages input times [20 i - 10, 20 i + 10) (input-frame units);
    # input frame j stands for [j - 1/2, j + 1/2), so frames 20 i +- 10 count half
    data = np.zeros((200, 7), np.float32)
    data[30:50] = np.nan  # frame 2: 19.5 of 20 lost -> NaN
    data[55:62] = np.nan  # frame 3: 7 lost -> still averaged
    data[72:85] = 3.0
    data[85:90] = np.nan  # frame 4: 5 lost; of the 15 valid, 13 are 3.0
    data[100:110] = np.nan  # frame 5: 10 of 20 lost -> exactly half valid: averaged
    data[130:141] = np.nan  # frame 7: 10.5 lost -> NaN
    out = Motion(data, fps=500).resample(25)
    nan_rows = np.flatnonzero(np.isnan(out.data).any(axis=1)).tolist()
    assert nan_rows == [2, 7]
    assert out.data[4, 0] == pytest.approx(13 * 3.0 / 15, abs=1e-5)
    assert out.data[3, 0] == 0.0 and out.data[5, 0] == 0.0
    strict = Motion(data, fps=500).resample(25, min_valid=1.0)
    # every frame whose window touches a lost input (frames 1 and 6 touch inputs 30 and 130 by half)
    assert np.flatnonzero(np.isnan(strict.data).any(axis=1)).tolist() == [1, 2, 3, 4, 5, 6, 7]


def test_resample_average_upsamples_and_mild_ratios_linearly(rng):
    m = Motion(rng.normal(size=(60, 7)).astype(np.float32), fps=30)
    np.testing.assert_array_equal(m.resample(25).data, m.resample(25, mode="linear").data)  # ratio 1.2 < 2
    np.testing.assert_array_equal(m.resample(90).data, m.resample(90, mode="linear").data)


def test_resample_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        Motion.zeros(10, fps=50).resample(25, mode="cubic")


def test_resample_linear_holds_last_frame():
    x = np.array([[0.0], [1.0]])
    np.testing.assert_allclose(resample_linear(x, np.array([0.0, 0.5, 1.0, 3.0]))[:, 0], [0, 0.5, 1, 1])


@pytest.mark.parametrize("fps", [0, -25, float("nan"), "fast"])
def test_bad_fps_is_refused(fps):
    with pytest.raises(MotionFormatError, match="fps"):
        Motion(np.zeros((3, 7), np.float32), fps=fps)


def test_events_survive_json(tmp_path):
    m = Motion.zeros(4)
    m.events = {"a": [1, 2]}
    back = Motion.load(m.save(tmp_path / "e.npz"))
    assert json.dumps(back.events) == json.dumps({"a": [1, 2]})
