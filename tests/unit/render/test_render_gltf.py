"""glTF export: a valid glTF 2.0 binary (read with pygltflib), whose animation decodes to our angles."""

import numpy as np
import pytest

from stygaze.motion import Motion, head_rotation_matrix
from stygaze.render.gltf import (
    JAW_FULL_OPEN_RAD,
    blink_weights,
    build_glb,
    head_glb_bytes,
    quat_xyzw,
)
from stygaze.render.heads import ProceduralHead

pygltflib = pytest.importorskip("pygltflib", reason="pygltflib is a dev dependency (pip install 'stygaze[dev]')")

_NP = {5126: np.float32, 5125: np.uint32, 5123: np.uint16}
_N = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def load(data: bytes):
    gl = pygltflib.GLTF2.load_from_bytes(data)
    return gl, gl.binary_blob()


def accessor(gl, blob, i) -> np.ndarray:
    a = gl.accessors[i]
    v = gl.bufferViews[a.bufferView]
    n = _N[a.type]
    start = v.byteOffset + (a.byteOffset or 0)
    arr = np.frombuffer(blob, dtype=_NP[a.componentType], count=a.count * n, offset=start)
    return arr.reshape(a.count, n) if n > 1 else arr


def check_valid(gl, blob) -> None:
    """Structural rules of the glTF 2.0 spec that a reader relies on."""
    assert gl.asset.version == "2.0"
    assert len(blob) == gl.buffers[0].byteLength and len(blob) % 4 == 0
    for v in gl.bufferViews:
        assert v.byteOffset % 4 == 0 and v.byteOffset + v.byteLength <= len(blob)
    for a in gl.accessors:
        v = gl.bufferViews[a.bufferView]
        size = np.dtype(_NP[a.componentType]).itemsize * _N[a.type] * a.count
        assert size <= v.byteLength
    for m in gl.meshes:
        counts = {len(p.targets or []) for p in m.primitives}
        assert len(counts) == 1, f"{m.name}: primitives with different numbers of morph targets"
        names = (m.extras or {}).get("targetNames", [])
        assert len(names) == counts.pop() and len(m.weights or []) == len(names)
        for p in m.primitives:
            pos = accessor(gl, blob, p.attributes.POSITION)
            a = gl.accessors[p.attributes.POSITION]
            np.testing.assert_allclose(a.min, pos.min(axis=0), atol=1e-6)
            np.testing.assert_allclose(a.max, pos.max(axis=0), atol=1e-6)
            idx = accessor(gl, blob, p.indices)
            assert idx.max() < len(pos) and len(idx) % 3 == 0
            nrm = accessor(gl, blob, p.attributes.NORMAL)
            np.testing.assert_allclose(np.linalg.norm(nrm, axis=1), 1.0, atol=1e-4)
            for t in p.targets or []:
                assert accessor(gl, blob, t["POSITION"]).shape == pos.shape
    for n in gl.nodes:
        for c in n.children or []:
            assert 0 <= c < len(gl.nodes)


@pytest.fixture
def motion(rng):
    T = 20
    d = rng.uniform(-30, 30, (T, 7)).astype(np.float32)
    jaw = np.zeros((T, 3), np.float32)
    jaw[:, 0] = np.linspace(0, 0.5, T)
    return Motion(d, blink=rng.uniform(0, 1, T).astype(np.float32), extras={"jaw": jaw})


def _channels(gl):
    anim = gl.animations[0]
    names = [n.name for n in gl.nodes]
    return {(names[c.target.node], c.target.path): anim.samplers[c.sampler] for c in anim.channels}


def test_animated_glb_is_valid_and_decodes_to_the_motion(motion):
    gl, blob = load(build_glb(motion))
    check_valid(gl, blob)
    ch = _channels(gl)
    T = len(motion)
    times = accessor(gl, blob, ch[("Head", "rotation")].input)
    np.testing.assert_allclose(times, np.arange(T) / 25.0, atol=1e-6)
    from scipy.spatial.transform import Rotation

    q = accessor(gl, blob, ch[("Head", "rotation")].output)
    assert q.shape == (T, 4)
    d = motion.data
    np.testing.assert_allclose(Rotation.from_quat(q).as_matrix(), head_rotation_matrix(d[:, 0], d[:, 1], d[:, 2]), atol=1e-5)
    qe = accessor(gl, blob, ch[("RightEye", "rotation")].output)
    np.testing.assert_allclose(Rotation.from_quat(qe).as_matrix(), head_rotation_matrix(d[:, 5], d[:, 6], 0 * d[:, 6]), atol=1e-5)
    w = accessor(gl, blob, ch[("LeftUpperLid", "weights")].output).reshape(T, 2)
    full, mid = blink_weights(motion.blink)
    np.testing.assert_allclose(w[:, 0], full, atol=1e-6)
    np.testing.assert_allclose(w[:, 1], mid, atol=1e-6)
    jw = accessor(gl, blob, ch[("Face", "weights")].output)
    np.testing.assert_allclose(jw, np.clip(motion.extras["jaw"][:, 0] / JAW_FULL_OPEN_RAD, 0, 1), atol=1e-6)
    face = gl.meshes[gl.nodes[[n.name for n in gl.nodes].index("Face")].mesh]
    assert face.extras["targetNames"] == ["jawOpen"]


def test_morph_targets_only_when_the_motion_has_them(motion):
    gl, blob = load(build_glb(Motion(motion.data)))
    check_valid(gl, blob)
    assert all(not (p.targets or []) for m in gl.meshes for p in m.primitives)
    assert not any(path == "weights" for _, path in _channels(gl))
    gl, _ = load(build_glb(Motion(motion.data, blink=motion.blink)))
    assert [path for _, path in _channels(gl)].count("weights") == 2


def test_viewer_head_has_every_morph_target_and_no_animation():
    gl, blob = load(head_glb_bytes())
    check_valid(gl, blob)
    assert not gl.animations
    names = {n for m in gl.meshes for n in (m.extras or {}).get("targetNames", [])}
    assert names == {"jawOpen", "eyeBlinkLeft", "eyeBlinkLeft_mid", "eyeBlinkRight", "eyeBlinkRight_mid"}


def test_blink_targets_close_the_lid_without_cutting_the_eye():
    """Open + b·full + 4b(1−b)·mid stays on the rotated lid shell (outside the eyeball) for every b."""
    from stygaze.geometry import rot_x
    from stygaze.render.gltf import _lid_targets

    head = ProceduralHead(detail=0.6)
    rest = {p.name: p for p in head.parts()}["upper_lid_left"].vertices.astype(np.float64)
    v_open, ((_, full), (_, mid)) = _lid_targets(head, rest)
    g = head.geo
    closed = g.lower_lid_deg + 2.0
    for b in np.linspace(0, 1, 21):
        exact = rest @ rot_x(np.deg2rad(-(g.upper_lid_open_deg + b * (closed - g.upper_lid_open_deg)))).T
        w1, w2 = blink_weights(b)
        approx = v_open + w1 * full + w2 * mid
        assert np.linalg.norm(approx - exact, axis=1).max() < 1e-4  # 0.1 mm
        assert np.linalg.norm(approx, axis=1).min() > g.eye_radius  # never inside the eyeball
    # without the corrective shape the half-closed lid would cut into the eye
    plain = v_open + 0.5 * full
    assert np.linalg.norm(plain, axis=1).min() < g.eye_radius


def test_quaternions_are_sign_continuous():
    yaw = np.linspace(-170, 170, 50)
    q = quat_xyzw(head_rotation_matrix(0 * yaw, yaw, 0 * yaw))
    assert (np.sum(q[1:] * q[:-1], axis=1) > 0).all()
