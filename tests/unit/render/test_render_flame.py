"""FlameHead through the real smplx loader, on a tiny FLAME-format model the test writes."""

import pickle

import numpy as np
import pytest

from stygaze.motion import Motion
from stygaze.render.flame import FlameHead, FlameModelError, resolve_flame_path
from stygaze.render.video import render_frames

from render_helpers import TEST_COLORS, centroid, flat_config, mask_iris, write_tiny_flame


def test_loads_through_smplx_and_poses_eyes(tiny_flame):
    head = FlameHead(tiny_flame, colors=TEST_COLORS)
    assert type(head.model).__name__ == "FLAME"
    d = np.zeros((2, 7), np.float32)
    d[1, [4, 6]] = 30
    v = head.vertices(Motion(d))
    w = head.model.lbs_weights.numpy()
    left = w[:, 3] > 0.5  # joint 3 sits at +x in the tiny model: the subject's left eye
    moved = np.linalg.norm(v[1] - v[0], axis=1)
    assert moved[left].max() > 0.003 and moved[w[:, 1] > 0.5].max() < 1e-6
    # the eye's front vertex turns towards +x (yaw + = subject's left)
    front = np.argmax(v[0][:, 2] * left - 1e3 * ~left)
    assert v[1][front, 0] > v[0][front, 0] + 0.004


def test_head_yaw_goes_to_global_pose(tiny_flame):
    head = FlameHead(tiny_flame)
    d = np.zeros((1, 7), np.float32)
    d[0, 1] = 30
    p = head.pose_params(Motion(d))
    np.testing.assert_allclose(p["global_orient"][0], [0, np.deg2rad(30), 0], atol=1e-6)
    np.testing.assert_allclose(p["neck_pose"], 0)
    neck = FlameHead(tiny_flame, head_joint="neck").pose_params(Motion(d))
    np.testing.assert_allclose(neck["neck_pose"][0], [0, np.deg2rad(30), 0], atol=1e-6)


@pytest.mark.gl
def test_render_flame_frames_gaze_moves_iris(tiny_flame):
    d = np.zeros((3, 7), np.float32)
    d[1, [4, 6]] = 30
    d[2, [4, 6]] = -30
    cfg = flat_config(96)
    cfg.camera.distance, cfg.camera.target = 0.3, (0.0, 0.112, 0.08)  # close-up on the eyes
    frames = render_frames(Motion(d), size=96, head="flame", flame_model=tiny_flame.parent, config=cfg)
    x0, x1, x2 = (centroid(mask_iris(f))[0] for f in frames)
    assert x1 > x0 + 0.5 and x2 < x0 - 0.5 and x1 - x2 > 1.5  # subject's left = image right


def test_expression_and_shape_are_fused(tiny_flame):
    head = FlameHead(tiny_flame)
    m = Motion(np.zeros((2, 7), np.float32), extras={"expression": np.ones((2, 50), np.float32) * 5, "shape": np.ones(3) * 5})
    base = head.vertices(Motion(np.zeros((2, 7), np.float32)))
    assert np.abs(head.vertices(m) - base).max() > 1e-4


def test_env_variable_and_file_without_embedding(tmp_path, monkeypatch):
    path = write_tiny_flame(tmp_path / "dl", with_embedding=False, name="generic_model.pkl")
    monkeypatch.setenv("STYGAZE_FLAME_MODEL", str(path))
    head = FlameHead(None)
    assert head.model_file == path


def test_missing_model_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("STYGAZE_FLAME_MODEL", raising=False)
    with pytest.raises(FlameModelError, match="--flame-model"):
        resolve_flame_path(None)
    with pytest.raises(FlameModelError, match="not found"):
        resolve_flame_path(tmp_path / "nope")
    with pytest.raises(FlameModelError, match="no FLAME model file"):
        resolve_flame_path(tmp_path)


def test_chumpy_pickle_gives_clear_error(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    # a pickle that references chumpy, as the original FLAME 2020 release does
    (folder / "FLAME_NEUTRAL.pkl").write_bytes(b"\x80\x02cchumpy.ch\nCh\nq\x00)\x81q\x01.")
    with pytest.raises(FlameModelError, match="chumpy"):
        FlameHead(folder)


def test_corrupt_model_errors(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    with open(folder / "FLAME_NEUTRAL.pkl", "wb") as fh:
        pickle.dump({"v_template": np.zeros((3, 3))}, fh)
    with pytest.raises(FlameModelError, match="cannot load"):
        FlameHead(folder)
