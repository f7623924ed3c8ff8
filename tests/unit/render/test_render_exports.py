"""Exports: BVH parses back to the same angles, ARKit in 0..1 with the right sense, FLAME poses."""

import csv

import numpy as np
import pytest

from stygaze.motion import Motion
from stygaze.geometry import head_rotation_matrix, matrix_to_angles, vector_to_angles
from stygaze.render.config import RenderError
from stygaze.render.exports import ARKIT_COLUMNS, export_motion, flame_pose_params


@pytest.fixture
def m(rng):
    T = 40
    d = np.column_stack([
        rng.uniform(-25, 25, T), rng.uniform(-60, 60, T), rng.uniform(-20, 20, T),
        rng.uniform(-30, 30, T), rng.uniform(-40, 40, T), rng.uniform(-30, 30, T), rng.uniform(-40, 40, T),
    ]).astype(np.float32)
    return Motion(d, blink=rng.uniform(0, 1, T).astype(np.float32))


# --- a small, independent BVH reader -------------------------------------------------
def _axis_rot(axis, deg):
    a = np.deg2rad(deg)
    c, s = np.cos(a), np.sin(a)
    return {
        "X": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
        "Y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
        "Z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]),
    }[axis]


def parse_bvh(text):
    """Returns joints {name: (parent, offset, channels)}, joint order, frame time, (F, C) values."""
    tokens = text.split()
    joints, order, stack = {}, [], []
    i, current = 0, None
    assert tokens[0] == "HIERARCHY"
    i = 1
    while tokens[i] != "MOTION":
        tok = tokens[i]
        if tok in ("ROOT", "JOINT"):
            current = tokens[i + 1]
            joints[current] = [stack[-1] if stack else None, None, []]
            order.append(current)
            i += 2
        elif tok == "End":
            current = None  # End Site
            i += 2
        elif tok == "{":
            stack.append(current)
            i += 1
        elif tok == "}":
            stack.pop()
            i += 1
        elif tok == "OFFSET":
            if current is not None:
                joints[current][1] = np.array([float(x) for x in tokens[i + 1:i + 4]])
            i += 4
        elif tok == "CHANNELS":
            n = int(tokens[i + 1])
            joints[current][2] = tokens[i + 2:i + 2 + n]
            i += 2 + n
        else:
            raise AssertionError(f"unexpected token {tok}")
    assert tokens[i + 1] == "Frames:" and tokens[i + 3] == "Frame" and tokens[i + 4] == "Time:"
    frames, ftime = int(tokens[i + 2]), float(tokens[i + 5])
    values = np.array([float(x) for x in tokens[i + 6:]]).reshape(frames, -1)
    return joints, order, ftime, values


def bvh_rotations(joints, order, values):
    """Local rotation matrices per joint (F, 3, 3): product of channel rotations in listed order."""
    out, col = {}, 0
    for name in order:
        chans = joints[name][2]
        R = np.tile(np.eye(3), (len(values), 1, 1))
        for ch in chans:
            if ch.endswith("rotation"):
                R = R @ np.stack([_axis_rot(ch[0], v) for v in values[:, col]])
            col += 1
        out[name] = R
    return out


def test_bvh_round_trip(tmp_path, m):
    path = export_motion(m, tmp_path / "m.bvh", "bvh")
    joints, order, ftime, values = parse_bvh(path.read_text())
    assert order == ["Head", "LeftEye", "RightEye"]
    assert joints["LeftEye"][0] == "Head" and joints["LeftEye"][1][0] > 0 > joints["RightEye"][1][0]
    assert ftime == pytest.approx(1 / 25, abs=1e-6) and values.shape[0] == len(m)
    R = bvh_rotations(joints, order, values)
    np.testing.assert_allclose(R["Head"], m.head_rotation_matrices(), atol=1e-4)
    p, y, r = matrix_to_angles(R["Head"])
    np.testing.assert_allclose(np.stack([p, y, r], 1), m.head, atol=1e-3)
    for name, eye in (("LeftEye", m.left_eye), ("RightEye", m.right_eye)):
        ep, ey = vector_to_angles(R[name] @ np.array([0.0, 0.0, 1.0]))
        np.testing.assert_allclose(np.stack([ep, ey], 1), eye, atol=1e-3)
        # world gaze through the BVH hierarchy equals the motion's world gaze
        world = np.einsum("tij,tj->ti", R["Head"] @ R[name], np.tile([0.0, 0.0, 1.0], (len(m), 1)))
        np.testing.assert_allclose(world, m.world_gaze_vectors(name[:-3].lower()), atol=1e-5)


def test_bvh_carries_the_jaw_when_present(tmp_path, m, rng):
    from scipy.spatial.transform import Rotation

    jaw = np.column_stack([rng.uniform(0, 0.4, len(m)), rng.normal(0, 0.05, len(m)), rng.normal(0, 0.05, len(m))]).astype(np.float32)
    mj = Motion(m.data, blink=m.blink, extras={"jaw": jaw})
    joints, order, _, values = parse_bvh(export_motion(mj, tmp_path / "j.bvh", "bvh").read_text())
    assert order == ["Head", "LeftEye", "RightEye", "Jaw"] and joints["Jaw"][0] == "Head"
    R = bvh_rotations(joints, order, values)
    np.testing.assert_allclose(R["Jaw"], Rotation.from_rotvec(jaw.astype(np.float64)).as_matrix(), atol=1e-5)
    np.testing.assert_allclose(R["Head"], m.head_rotation_matrices(), atol=1e-4)  # the other joints unchanged


def _read_csv(path):
    with open(path) as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    cols = {h: [r[k] for r in body] for k, h in enumerate(header)}
    return header, {h: (np.array(v, dtype=float) if h != "Timecode" else v) for h, v in cols.items()}


def test_arkit_live_link_layout_and_ranges(tmp_path, m):
    header, cols = _read_csv(export_motion(m, tmp_path / "m.csv", "arkit"))
    assert tuple(header) == ARKIT_COLUMNS and len(header) == 63
    assert header[:4] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft", "EyeLookDownLeft"]
    assert header[-9:] == ["HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                           "RightEyeYaw", "RightEyePitch", "RightEyeRoll"]
    assert len(cols["Timecode"]) == len(m) and set(cols["BlendShapeCount"]) == {61.0}
    assert cols["Timecode"][:2] == ["00:00:00:00.000", "00:00:00:01.040"] and cols["Timecode"][25] == "00:00:01:00.000"
    for name in header[2:-9]:
        assert cols[name].min() >= 0.0 and cols[name].max() <= 1.0, name
    for name in header[-9:]:
        assert np.abs(cols[name]).max() <= 1.0, name
    # angle / 180, Unreal's signs: yaw and roll + = towards the subject's right
    np.testing.assert_allclose(cols["HeadYaw"], -m.data[:, 1] / 180, atol=1e-5)
    np.testing.assert_allclose(cols["HeadPitch"], m.data[:, 0] / 180, atol=1e-5)
    np.testing.assert_allclose(cols["HeadRoll"], -m.data[:, 2] / 180, atol=1e-5)
    np.testing.assert_allclose(cols["RightEyePitch"], m.data[:, 5] / 180, atol=1e-5)
    np.testing.assert_allclose(cols["EyeBlinkLeft"], m.blink, atol=1e-5)
    assert np.all(cols["JawOpen"] == 0) and np.all(cols["MouthSmileLeft"] == 0)


def test_arkit_jaw_and_resampling(tmp_path, m):
    jaw = np.zeros((len(m), 3), np.float32)
    jaw[:, 0] = np.linspace(0, 0.5, len(m))
    mj = Motion(m.data, blink=m.blink, extras={"jaw": jaw})
    _, cols = _read_csv(export_motion(mj, tmp_path / "j.csv", "arkit"))
    np.testing.assert_allclose(cols["JawOpen"], np.clip(jaw[:, 0] / 0.35, 0, 1), atol=1e-5)
    _, c60 = _read_csv(export_motion(mj, tmp_path / "j60.csv", "arkit", fps=60))
    assert len(c60["Timecode"]) == round(len(m) * 60 / 25)
    assert c60["Timecode"][61] == "00:00:01:01.017"  # frame 61 at 60 fps: 1 s + 1/60 s


@pytest.mark.parametrize("yaw, expect", [
    (20.0, {"EyeLookOutLeft": 2 / 3, "EyeLookInRight": 2 / 3, "EyeLookInLeft": 0, "EyeLookOutRight": 0}),
    (-45.0, {"EyeLookInLeft": 1.0, "EyeLookOutRight": 1.0, "EyeLookOutLeft": 0, "EyeLookInRight": 0}),
])
def test_arkit_in_out_sense(tmp_path, yaw, expect):
    # yaw + = towards the subject's left: out for the left eye, in (towards the nose) for the right
    d = np.zeros((1, 7), np.float32)
    d[0, [4, 6]] = yaw
    d[0, [3, 5]] = -15  # looking down: eyeLookDown = 15 / 30
    _, cols = _read_csv(export_motion(Motion(d), tmp_path / "m.csv", "arkit"))
    for k, v in expect.items():
        assert cols[k][0] == pytest.approx(v, abs=1e-4), k
    assert cols["EyeLookDownLeft"][0] == pytest.approx(0.5, abs=1e-4)
    assert cols["EyeLookUpLeft"][0] == 0


def test_flame_export_round_trip(tmp_path, m):
    from scipy.spatial.transform import Rotation

    path = export_motion(m, tmp_path / "m.npz", "flame")
    with np.load(path, allow_pickle=False) as z:
        assert z["global_pose"].shape == (len(m), 3) and z["eye_pose"].shape == (len(m), 6)
        np.testing.assert_allclose(z["neck_pose"], 0)
        np.testing.assert_allclose(Rotation.from_rotvec(z["global_pose"]).as_matrix(), m.head_rotation_matrices(), atol=1e-5)
        left = Rotation.from_rotvec(z["eye_pose"][:, :3]).as_matrix()
        np.testing.assert_allclose(left, head_rotation_matrix(m.data[:, 3], m.data[:, 4], 0 * m.data[:, 4]), atol=1e-5)
        assert float(z["fps"]) == 25
    neck = flame_pose_params(m, head_joint="neck")
    np.testing.assert_allclose(neck["global_pose"], 0)
    assert np.abs(neck["neck_pose"]).max() > 0.1


def test_exports_fill_nan(tmp_path):
    d = np.zeros((3, 7), np.float32)
    d[1] = np.nan
    d[2, 1] = 10
    _, cols = _read_csv(export_motion(Motion(d), tmp_path / "m.csv", "arkit"))
    assert cols["HeadYaw"][1] == pytest.approx(-5.0 / 180, abs=1e-5)


@pytest.mark.parametrize("fmt, name, match", [("fbx", "m.fbx", "unknown export format"), ("bvh", "m.csv", "writes a .bvh")])
def test_export_rejects_bad_format(tmp_path, m, fmt, name, match):
    with pytest.raises(RenderError, match=match):
        export_motion(m, tmp_path / name, fmt)
    assert list(tmp_path.iterdir()) == []


def test_blink_and_jaw_reach_arkit_and_flame(tmp_path):
    from stygaze.stygazetalk.jaw import jaw_axis_angle

    d = np.zeros((3, 7), np.float32)
    m = Motion(d, blink=np.array([0.0, 0.6, 1.0], np.float32), extras={"jaw": jaw_axis_angle([0.0, 10.0, 30.0])})
    _, cols = _read_csv(export_motion(m, tmp_path / "m.csv", "arkit"))
    np.testing.assert_allclose(cols["EyeBlinkLeft"], [0, 0.6, 1.0], atol=1e-4)
    np.testing.assert_allclose(cols["EyeBlinkRight"], [0, 0.6, 1.0], atol=1e-4)
    np.testing.assert_allclose(cols["JawOpen"], [0, np.radians(10) / 0.35, 1.0], atol=1e-4)  # saturates at 0.35 rad
    with np.load(export_motion(m, tmp_path / "m.npz", "flame"), allow_pickle=False) as z:
        np.testing.assert_allclose(z["jaw_pose"][:, 0], np.radians([0, 10, 30]), atol=1e-6)
        np.testing.assert_allclose(z["eyelid_params"], [[0, 0], [0.6, 0.6], [1, 1]], atol=1e-6)
    _, plain = _read_csv(export_motion(Motion(d), tmp_path / "p.csv", "arkit"))
    assert np.all(plain["JawOpen"] == 0) and np.all(plain["EyeBlinkLeft"] == 0)
    with np.load(export_motion(Motion(d), tmp_path / "p.npz", "flame"), allow_pickle=False) as z:
        assert "eyelid_params" not in z.files
