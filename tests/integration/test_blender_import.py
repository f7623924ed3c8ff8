"""Blender imports our BVH and glTF exports, and the rotations it reads back are ours.

Runs Debian's ``blender`` (3.4) headless; CI installs it (apt: ``blender python3-numpy``).
Two shims make Debian's Blender 3.4 add-ons run on its Python 3.11 / numpy 1.24 (they
were written for Python 3.10 and older numpy): the BVH importer's ``open(path, 'rU')``
mode and the glTF importer's ``np.bool``. They change how the add-ons open files and
name a dtype, nothing about what they compute.
"""

import json
import shutil
import subprocess

import numpy as np
import pytest

from stygaze.motion import Motion, matrix_to_angles
from stygaze.render.exports import export_motion

BLENDER = shutil.which("blender")
pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(BLENDER is None, reason="blender not installed (apt-get install blender python3-numpy)"),
]

SHIMS = """
import builtins, numpy
if "bool" not in numpy.__dict__:
    numpy.bool = bool
import io_anim_bvh.import_bvh as _ib
_ib.open = lambda f, mode="r", *a, **k: builtins.open(f, mode.replace("U", ""), *a, **k)
"""

BVH_SCRIPT = SHIMS + """
import bpy, json, sys
from bpy_extras.io_utils import axis_conversion
src, dst, T = sys.argv[-3], sys.argv[-2], int(sys.argv[-1])
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_anim.bvh(filepath=src, axis_forward="-Z", axis_up="Y", update_scene_fps=True)
arm = [o for o in bpy.data.objects if o.type == "ARMATURE"][0]
sc = bpy.context.scene
G = axis_conversion(from_forward="-Z", from_up="Y").to_3x3()
frames = []
for f in range(1, T + 1):  # the BVH importer starts at frame 1
    sc.frame_set(f)
    row = {}
    for pb in arm.pose.bones:  # world-space rotation the animation applies to each bone
        pose = (arm.matrix_world @ pb.matrix).to_3x3()
        rest = (arm.matrix_world @ pb.bone.matrix_local).to_3x3()
        row[pb.name] = [list(r) for r in pose @ rest.inverted()]
    frames.append(row)
json.dump({"G": [list(r) for r in G], "fps": sc.render.fps / sc.render.fps_base, "frames": frames}, open(dst, "w"))
"""

GLTF_SCRIPT = SHIMS + """
import bpy, json, sys
src, dst, T = sys.argv[-3], sys.argv[-2], int(sys.argv[-1])
bpy.ops.wm.read_factory_settings(use_empty=True)
sc = bpy.context.scene
sc.render.fps = 25
bpy.ops.import_scene.gltf(filepath=src)
objs = bpy.data.objects
keys = {o.name: [k.name for k in o.data.shape_keys.key_blocks] for o in objs if o.type == "MESH" and o.data.shape_keys}
frames = []
for f in range(T):  # the glTF importer puts time t at frame t * fps
    sc.frame_set(f)
    row = {n: [list(r) for r in objs[n].matrix_world.to_3x3().normalized()] for n in ("Head", "LeftEye", "RightEye")}
    for obj, name in (("Face", "jawOpen"), ("LeftUpperLid", "eyeBlinkLeft"), ("RightUpperLid", "eyeBlinkRight")):
        kb = objs[obj].data.shape_keys
        row[name] = kb.key_blocks[name].value if kb is not None and name in kb.key_blocks else None
    frames.append(row)
json.dump({"objects": sorted(o.name for o in objs), "keys": keys, "frames": frames}, open(dst, "w"))
"""


def run_blender(script: str, tmp_path, *args) -> dict:
    path = tmp_path / "script.py"
    path.write_text(script)
    out = tmp_path / "out.json"
    r = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-exit-code", "3", "--python", str(path), "--",
                        *map(str, args[:1]), str(out), *map(str, args[1:])],
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0 and out.exists(), f"blender failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return json.loads(out.read_text())


@pytest.fixture
def motion(rng):
    T = 30
    d = np.column_stack([
        rng.uniform(-25, 25, T), rng.uniform(-60, 60, T), rng.uniform(-20, 20, T),
        rng.uniform(-30, 30, T), rng.uniform(-40, 40, T), rng.uniform(-30, 30, T), rng.uniform(-40, 40, T),
    ]).astype(np.float32)
    jaw = np.zeros((T, 3), np.float32)
    jaw[:, 0] = np.linspace(0.0, 0.4, T)
    return Motion(d, blink=rng.uniform(0, 1, T).astype(np.float32), extras={"jaw": jaw})


def _angles_error(motion: Motion, head_R, left_R, right_R) -> np.ndarray:
    """|ours − read back| in degrees per frame and channel: head (pitch, yaw, roll), eyes in head."""
    d = motion.data.astype(np.float64)
    err = []
    for t in range(len(motion)):
        Rh, Rl, Rr = head_R[t], left_R[t], right_R[t]
        got = np.concatenate([matrix_to_angles(Rh), np.array(matrix_to_angles(Rh.T @ Rl))[:2], np.array(matrix_to_angles(Rh.T @ Rr))[:2]])
        err.append(np.abs(got - d[t]))
    return np.array(err)


def test_blender_reads_our_bvh_rotations(tmp_path, motion):
    src = export_motion(motion, tmp_path / "m.bvh", "bvh")
    out = run_blender(BVH_SCRIPT, tmp_path, src, len(motion))
    assert out["fps"] == pytest.approx(25.0)
    assert set(out["frames"][0]) == {"Head", "LeftEye", "RightEye", "Jaw"}
    G = np.array(out["G"])  # BVH axes -> Blender axes, as the importer applied them

    def back(name):
        return [G.T @ np.array(f[name]) @ G for f in out["frames"]]

    err = _angles_error(motion, back("Head"), back("LeftEye"), back("RightEye"))
    assert err.max() < 0.1, f"max error {err.max():.4f} deg"
    # the jaw joint: Blender's jaw rotation relative to the head is the FLAME jaw pose
    from scipy.spatial.transform import Rotation

    jaw_R = [h.T @ j for h, j in zip(back("Head"), back("Jaw"))]
    want = Rotation.from_rotvec(motion.extras["jaw"].astype(np.float64)).as_matrix()
    jaw_err = np.rad2deg(Rotation.from_matrix(np.array(jaw_R) @ want.transpose(0, 2, 1)).magnitude())
    assert jaw_err.max() < 0.1, f"jaw max error {jaw_err.max():.4f} deg"
    # and the test can fail: a different motion does not match
    other = Motion(motion.data[::-1].copy())
    assert _angles_error(other, back("Head"), back("LeftEye"), back("RightEye")).max() > 1.0


def test_blender_imports_our_gltf(tmp_path, motion):
    from stygaze.render.gltf import jaw_weight

    src = export_motion(motion, tmp_path / "m.glb", "gltf")
    out = run_blender(GLTF_SCRIPT, tmp_path, src, len(motion))
    for name in ("Head", "Face", "LeftEye", "RightEye", "LeftUpperLid", "RightUpperLid", "Body"):
        assert name in out["objects"]
    assert out["keys"]["Face"] == ["Basis", "jawOpen"]
    assert out["keys"]["LeftUpperLid"] == ["Basis", "eyeBlinkLeft", "eyeBlinkLeft_mid"]
    C = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # glTF (y up) -> Blender (z up)

    def back(name):
        return [C.T @ np.array(f[name]) @ C for f in out["frames"]]

    err = _angles_error(motion, back("Head"), back("LeftEye"), back("RightEye"))
    assert err.max() < 0.1, f"max error {err.max():.4f} deg"
    np.testing.assert_allclose([f["jawOpen"] for f in out["frames"]], jaw_weight(motion.extras["jaw"]), atol=1e-4)
    np.testing.assert_allclose([f["eyeBlinkRight"] for f in out["frames"]], motion.blink, atol=1e-4)


def test_blender_gltf_without_blink_or_jaw_has_no_morph_targets(tmp_path, motion):
    plain = Motion(motion.data)
    src = export_motion(plain, tmp_path / "p.glb", "gltf")
    out = run_blender(GLTF_SCRIPT, tmp_path, src, 2)
    assert out["keys"] == {}
