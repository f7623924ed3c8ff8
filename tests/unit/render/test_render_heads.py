"""Procedural head geometry and posing, checked against the motion sign convention."""

import numpy as np
import pytest
import trimesh

from stygaze.motion import Motion
from stygaze.geometry import angles_to_vector
from stygaze.render.heads import ProceduralHead, fill_nan


@pytest.fixture(scope="module")
def head():
    return ProceduralHead(detail=0.5)


def test_parts_are_well_formed(head):
    names = [p.name for p in head.parts()]
    assert len(set(names)) == len(names)
    for required in ("head", "neck", "eye_left", "eye_right", "upper_lid_left", "upper_lid_right", "ear_left", "ear_right"):
        assert required in names
    for p in head.parts():
        assert p.vertices.ndim == 2 and p.vertices.shape[1] == 3 and np.isfinite(p.vertices).all()
        assert p.faces.min() >= 0 and p.faces.max() < len(p.vertices)
        assert p.colors.shape == (len(p.vertices), 3) and p.colors.min() >= 0 and p.colors.max() <= 1


@pytest.mark.parametrize("name", ["head", "eye_left", "ear_right", "neck"])
def test_closed_parts_are_outward_watertight(head, name):
    part = next(p for p in head.parts() if p.name == name)
    mesh = trimesh.Trimesh(part.vertices, part.faces, process=False)
    assert mesh.is_watertight
    assert mesh.volume > 0  # positive volume = faces wound outwards


def test_left_eye_is_on_the_subjects_left(head):
    geom = head.frame(Motion.zeros(1), 0)
    assert geom.poses["eye_left"][0, 3] > 0 > geom.poses["eye_right"][0, 3]


@pytest.mark.parametrize("row", [
    [0, 0, 0, 0, 20, 0, 20],
    [10, -25, 5, -8, 12, 3, -6],
    [-15, 30, -10, 20, -15, 20, -15],
])
def test_eye_pose_points_along_world_gaze(head, row):
    m = Motion(np.asarray([row], np.float32))
    geom = head.frame(m, 0)
    for side in ("left", "right"):
        forward = geom.poses[f"eye_{side}"][:3, :3] @ np.array([0.0, 0.0, 1.0])
        np.testing.assert_allclose(forward, m.world_gaze_vectors(side)[0], atol=1e-9)


def test_head_pose_is_the_head_rotation(head):
    m = Motion(np.asarray([[12, -20, 7, 0, 0, 0, 0]], np.float32))
    geom = head.frame(m, 0)
    np.testing.assert_allclose(geom.poses["head"][:3, :3], m.head_rotation_matrices()[0], atol=1e-12)
    np.testing.assert_allclose(geom.poses["torso"], np.eye(4))  # the body does not turn with the head


def test_blink_lowers_the_upper_lid(head):
    m = Motion(np.zeros((2, 7), np.float32), blink=np.array([0.0, 1.0], np.float32))
    edge = []
    for t in range(2):
        R = head.frame(m, t).poses["upper_lid_left"][:3, :3]
        edge.append(R @ np.array([0.0, 0.0, 1.0]))  # the lid margin's front point
    assert edge[0][1] > 0.3 and edge[1][1] < -0.3


def test_to_trimesh_has_coloured_meshes(head):
    scene = head.to_trimesh(Motion.zeros(1))
    assert len(scene.geometry) == len(head.parts())
    assert all(g.visual.vertex_colors.shape[1] == 4 for g in scene.geometry.values())


def test_fill_nan_interpolates_and_holds():
    d = np.zeros((5, 7), np.float32)
    d[:, 1] = [np.nan, 2, np.nan, 6, np.nan]
    d[:, 2] = np.nan
    out = fill_nan(Motion(d)).data
    np.testing.assert_allclose(out[:, 1], [2, 2, 4, 6, 6])
    np.testing.assert_allclose(out[:, 2], 0)


def test_angles_to_vector_sign_sanity():
    # guards the assumption the image tests rely on: yaw + points to +x (subject's left)
    assert angles_to_vector(0, 30)[0] > 0


def test_jaw_turns_the_chin_down_and_keeps_the_skull(head):
    from stygaze.stygazetalk.jaw import jaw_axis_angle

    m = Motion(np.zeros((2, 7), np.float32), extras={"jaw": jaw_axis_angle([0.0, 10.0])})
    rest = next(p for p in head.parts() if p.name == "head").vertices
    assert "head" not in head.frame(m, 0).vertices  # a closed jaw sends no new vertices
    moved = head.frame(m, 1).vertices["head"]
    my = head._mouth_y()
    cand = np.flatnonzero((np.abs(rest[:, 0]) < 0.01) & (rest[:, 1] < my - 0.02) & (rest[:, 1] > my - 0.04))
    chin = cand[np.argmax(rest[cand, 2])]  # the front of the chin
    assert moved[chin, 1] < rest[chin, 1] - 0.005  # the chin drops (≈ 1 cm at 10°)
    top = rest[:, 1] > head._mouth_y() + 0.01
    np.testing.assert_array_equal(moved[top], rest[top])  # nothing above the upper lip moves
    mouth = head.frame(m, 1).vertices["mouth"]
    k = len(mouth) // 2
    assert np.ptp(mouth[:k, 1] - mouth[k:, 1]) > 0.005  # the opening is widest in the middle
    mesh = trimesh.Trimesh(moved, next(p for p in head.parts() if p.name == "head").faces, process=False)
    assert mesh.is_watertight
