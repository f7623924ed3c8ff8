"""Input limits (stygaze.limits) are enforced before allocation, with one-line errors."""

import io
import json
import shutil
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy

from stygaze import limits
from stygaze.errors import CheckpointError, MotionFormatError, StyleError
from stygaze.motion import Motion


def _member_claiming(path, shape, payload=b""):
    buf = io.BytesIO()
    npy.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    buf.write(payload)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("motion.npy", buf.getvalue())


def test_npz_header_claiming_gigabytes_is_refused_before_np_load(tmp_path):
    path = tmp_path / "bomb.npz"
    _member_claiming(path, (400_000_000, 7))
    assert path.stat().st_size < 1000
    with pytest.raises(MotionFormatError, match="unpacks to .* MiB, more than the limit"):
        Motion.load(path)


def test_npz_member_whose_file_size_is_over_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_NPZ_MEMBER_BYTES", 1000)
    path = tmp_path / "big.npz"
    np.savez_compressed(path, motion=np.zeros((1000, 7), np.float32))  # 28 kB unpacked, < 1 kB packed
    with pytest.raises(StyleError, match="'motion.npy' unpacks to"):
        limits.check_npz_members(path, StyleError)


def test_npz_under_the_limits_and_non_zip_files_pass_the_check(tmp_path):
    Motion(np.zeros((10, 7), np.float32)).save(tmp_path / "ok.npz")
    limits.check_npz_members(tmp_path / "ok.npz", MotionFormatError)
    (tmp_path / "text.npz").write_text("hello")
    limits.check_npz_members(tmp_path / "text.npz", MotionFormatError)  # np.load reports it


@pytest.mark.parametrize("fps", [1e-4, 0.0, -25.0, np.inf, np.nan, 1e6])
def test_fps_outside_1_to_1000_is_refused(tmp_path, fps):
    np.savez(tmp_path / "m.npz", motion=np.zeros((10, 7), np.float32), fps=np.float32(fps))
    with pytest.raises(MotionFormatError, match="fps must be a number in \\[1, 1000\\]"):
        Motion.load(tmp_path / "m.npz")


def test_fps_that_is_not_one_number_is_refused(tmp_path):
    np.savez(tmp_path / "m.npz", motion=np.zeros((10, 7), np.float32), fps=np.asarray("25"))
    with pytest.raises(MotionFormatError, match="fps must be one number"):
        Motion.load(tmp_path / "m.npz")


def test_more_than_max_frames_is_refused(monkeypatch):
    monkeypatch.setattr("stygaze.motion.MAX_FRAMES", 50)
    Motion(np.zeros((50, 7), np.float32))
    with pytest.raises(MotionFormatError, match="51 frames, more than the limit of 50"):
        Motion(np.zeros((51, 7), np.float32))


def test_resampling_past_max_frames_is_refused():
    m = Motion(np.zeros((limits.MAX_FRAMES // 10, 7), np.float32), fps=1.0)
    with pytest.raises(MotionFormatError, match="would become more than"):
        m.resample(1000.0)


@pytest.mark.parametrize(
    "extra",
    [
        {"blink": np.asarray(["open"] * 10)},
        {"blink": np.zeros(10).astype(str)},  # numeric strings are refused, not parsed
        {"shape": np.asarray(["a", "b"])},
        {"jaw": np.zeros((10, 3)).astype(str)},
        {"expression": np.zeros((10, 3), np.complex64)},
    ],
    ids=["blink_words", "blink_numeric_strings", "shape_strings", "jaw_strings", "expression_complex"],
)
def test_non_numeric_optional_arrays_are_refused(tmp_path, extra):
    np.savez(tmp_path / "m.npz", motion=np.zeros((10, 7), np.float32), **extra)
    with pytest.raises(MotionFormatError, match="expected a numeric array"):
        Motion.load(tmp_path / "m.npz")


def test_integer_and_bool_arrays_are_cast():
    m = Motion(np.zeros((4, 7), np.int8), blink=np.array([0, 1, 1, 0], np.bool_), extras={"jaw": np.zeros((4, 3), np.int16)})
    assert m.data.dtype == m.blink.dtype == m.extras["jaw"].dtype == np.float32


@pytest.mark.parametrize("key, value", [("shape", np.zeros((3, 3), np.float32)), ("jaw", np.zeros(10, np.float32))])
def test_extras_of_the_wrong_rank_are_refused(key, value):
    with pytest.raises(MotionFormatError, match=f"{key}: expected"):
        Motion(np.zeros((10, 7), np.float32), extras={key: value})


def test_events_must_be_a_json_object(tmp_path):
    np.savez(tmp_path / "m.npz", motion=np.zeros((10, 7), np.float32), events=np.asarray("[1, 2]"))
    with pytest.raises(MotionFormatError, match="'events' must be a JSON object"):
        Motion.load(tmp_path / "m.npz")


def test_a_fifo_is_not_read_as_motion(tmp_path):
    import os

    os.mkfifo(tmp_path / "m.npz")
    with pytest.raises(MotionFormatError, match="must be a regular .npz file"):
        Motion.load(tmp_path / "m.npz")


def test_audio_header_longer_than_the_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    import soundfile as sf

    from stygaze.audio import read_audio
    from stygaze.errors import AudioError

    sf.write(str(tmp_path / "a.wav"), np.zeros(16000, np.float32), 16000)
    monkeypatch.setattr("stygaze.audio.MAX_AUDIO_SECONDS", 0.5)
    with pytest.raises(AudioError, match="more than the limit"):
        read_audio(tmp_path / "a.wav")


# --- checkpoints ------------------------------------------------------------------------
def _checkpoint(tmp_path, **changes):
    from stygaze.checkpoint import ASSETS_DIR

    ck = tmp_path / "ck"
    shutil.copytree(ASSETS_DIR / "cvae", ck)
    payload = json.loads((ck / "config.json").read_text())
    payload.update(changes)
    (ck / "config.json").write_text(json.dumps(payload))
    return ck


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"format_version": None}, "format_version None, expected a positive integer"),
        ({"format_version": "abc"}, "format_version 'abc'"),
        ({"format_version": True}, "format_version True"),
        ({"format_version": 99}, "needs a newer stygaze"),
        ({"config": "generator"}, "field 'config' must be a mapping, got str"),
        ({"meta": 5}, "field 'meta' must be a mapping, got int"),
        ({"model_type": 7}, "model_type 7, expected a string"),
    ],
)
def test_checkpoint_json_fields_are_type_checked(tmp_path, changes, match):
    from stygaze.checkpoint import read_checkpoint

    with pytest.raises(CheckpointError, match=match):
        read_checkpoint(_checkpoint(tmp_path, **changes))


def test_weights_of_another_dtype_are_refused_not_cast(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from stygaze.cvae.model import HeadCVAE

    ck = _checkpoint(tmp_path)
    state = load_file(str(ck / "model.safetensors"))
    save_file({k: (v.to(torch.int8) if v.is_floating_point() else v) for k, v in state.items()}, str(ck / "model.safetensors"))
    with pytest.raises(CheckpointError, match="is torch.int8, the model holds torch.float32"):
        HeadCVAE.from_pretrained(ck)


def test_model_widths_and_depths_use_the_limits():
    from stygaze.config import DEPTH, WIDTH

    assert limits.MAX_MODEL_WIDTH in WIDTH and limits.MAX_MODEL_WIDTH + 1 not in WIDTH
    assert limits.MAX_MODEL_DEPTH in DEPTH and limits.MAX_MODEL_DEPTH + 1 not in DEPTH
