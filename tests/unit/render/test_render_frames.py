"""Rendered frames change where, and only where, the motion changes."""

import numpy as np
import pytest

from stygaze.motion import Motion
from stygaze.render.video import render_frames

from render_helpers import centroid, flat_config, mask_blue, mask_green

pytestmark = pytest.mark.gl  # every test renders

SIZE = 96


def _frames(rows, blink=None, camera="front", size=SIZE, flat=True):
    m = Motion(np.asarray(rows, np.float32), blink=None if blink is None else np.asarray(blink, np.float32))
    cfg = flat_config(size, camera)
    cfg.flat = flat
    return render_frames(m, size=size, config=cfg)


@pytest.fixture(scope="module")
def gaze_frames():
    rows = np.zeros((5, 7))
    rows[1, [4, 6]] = 25  # eyes to the subject's left
    rows[2, [4, 6]] = -25  # eyes to the subject's right
    rows[3, 1] = 30  # head to the subject's left
    rows[4, [3, 5]] = 20  # eyes up
    return _frames(rows)


def test_frames_shape_dtype(gaze_frames):
    assert gaze_frames.shape == (5, SIZE, SIZE, 3) and gaze_frames.dtype == np.uint8
    assert gaze_frames.std() > 10  # not a blank image


def test_iris_moves_with_eye_yaw_in_the_right_direction(gaze_frames):
    x0, y0 = centroid(mask_green(gaze_frames[0]))
    x_left, _ = centroid(mask_green(gaze_frames[1]))
    x_right, _ = centroid(mask_green(gaze_frames[2]))
    # front camera: the subject's left is the image's right
    assert x_left > x0 + 1.0
    assert x_right < x0 - 1.0


def test_eye_yaw_changes_only_the_eye_region(gaze_frames):
    diff = np.abs(gaze_frames[1].astype(int) - gaze_frames[0].astype(int)).sum(-1) > 30
    assert diff.sum() > 4
    ys, xs = np.nonzero(diff)
    eyes = mask_green(gaze_frames[0]) | mask_green(gaze_frames[1])
    ey, ex = np.nonzero(eyes)
    # every changed pixel lies within a few pixels of the eyes
    assert ys.min() >= ey.min() - 4 and ys.max() <= ey.max() + 4
    assert xs.min() >= ex.min() - 6 and xs.max() <= ex.max() + 6


def test_eye_pitch_moves_iris_up(gaze_frames):
    _, y0 = centroid(mask_green(gaze_frames[0]))
    _, y_up = centroid(mask_green(gaze_frames[4]))
    assert y_up < y0 - 0.5  # image rows grow downwards


def test_head_yaw_moves_head_not_body(gaze_frames):
    f0, f3 = gaze_frames[0], gaze_frames[3]
    x0, _ = centroid(mask_green(f0))
    x3, _ = centroid(mask_green(f3))
    assert x3 > x0 + 3  # the face turns to the image right
    hx0, _ = centroid(mask_blue(f0))
    hx3, _ = centroid(mask_blue(f3))
    assert hx3 < hx0 - 1  # the hair at the back of the head comes into view on the left
    # silhouette (not background) changes in the head rows, the bottom rows (torso) are identical
    bg = np.all(f0 == f0[0, 0], axis=-1)
    bg3 = np.all(f3 == f3[0, 0], axis=-1)
    assert (bg != bg3).sum() > 5
    np.testing.assert_array_equal(f0[-SIZE // 8:], f3[-SIZE // 8:])


def test_blink_closes_the_eyes():
    rows = np.zeros((3, 7))
    frames = _frames(rows, blink=[0.0, 0.5, 1.0])
    counts = [mask_green(f).sum() for f in frames]
    assert counts[0] > 10
    assert counts[1] < counts[0]
    assert counts[2] <= 0.05 * counts[0]
    # only the eye region changes
    diff = np.abs(frames[2].astype(int) - frames[0].astype(int)).sum(-1) > 30
    ys, xs = np.nonzero(diff)
    ey, ex = np.nonzero(mask_green(frames[0]))
    assert ys.min() >= ey.min() - 6 and ys.max() <= ey.max() + 6
    assert xs.min() >= ex.min() - 8 and xs.max() <= ex.max() + 8


def test_lit_render_three_quarter_and_nan_frames():
    rows = np.zeros((2, 7))
    rows[1, :] = np.nan  # tracker loss renders the nearest tracked pose
    frames = _frames(rows, camera="three-quarter", flat=False)
    assert frames.shape == (2, SIZE, SIZE, 3)
    np.testing.assert_array_equal(frames[0], frames[1])
    front = _frames(rows[:1], flat=False)
    assert np.abs(front[0].astype(int) - frames[0].astype(int)).mean() > 3  # the camera moved


def test_jaw_opens_the_mouth():
    """The 'jaw' extra (FLAME jaw_pose, radians) opens a dark mouth below the nose; the eyes stay."""
    from stygaze.stygazetalk.jaw import jaw_axis_angle

    m = Motion(np.zeros((3, 7), np.float32), extras={"jaw": jaw_axis_angle([0.0, 6.0, 14.0])})
    cfg = flat_config(SIZE, "front")
    frames = render_frames(m, size=SIZE, config=cfg)
    gray = frames.astype(int).sum(-1)
    diff = np.abs(gray[2] - gray[0]) > 40
    ys, xs = np.nonzero(diff)
    ey, ex = np.nonzero(mask_green(frames[0]))
    assert diff.sum() > 10 and ys.min() > ey.max() + 3  # only below the eyes changes
    assert abs(xs.mean() - ex.mean()) < 3  # around the face's midline
    region = [g[ys.min() - 2 : ys.max() + 3, xs.min() - 2 : xs.max() + 3] for g in gray]
    assert region[0].mean() > region[1].mean() > region[2].mean()  # the dark opening grows with the jaw angle
    assert region[2].min() < 0.5 * region[0].min()
    np.testing.assert_array_equal(mask_green(frames[0]), mask_green(frames[2]))
