"""Broken weights and malformed style files: one-line errors, never a NaN motion or a traceback."""

import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from stygaze.checkpoint import ASSETS_DIR
from stygaze.errors import ModelOutputError, StyleError
from stygaze.motion import Motion
from stygaze.stygazetalk.pipeline import StyGazeTalk, StyleVector


def _poisoned(tmp_path, family: str, value: float):
    ck = tmp_path / family
    shutil.copytree(ASSETS_DIR / family, ck)
    state = load_file(str(ck / "model.safetensors"))
    save_file({k: (torch.full_like(v, value) if v.is_floating_point() else v) for k, v in state.items()}, str(ck / "model.safetensors"))
    return ck


@pytest.mark.parametrize("value", [float("nan"), 1e30], ids=["nan_weights", "huge_weights"])
def test_broken_generator_weights_raise_instead_of_a_nan_motion(tmp_path, value):
    pipe = StyGazeTalk.from_pretrained(_poisoned(tmp_path, "stygazetalk", value))
    audio = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    with pytest.raises(ModelOutputError, match="NaN or infinite"):
        pipe.generate(audio, sr=16000, raw=True)
    with pytest.raises(ModelOutputError, match="style encoder produced NaN"):
        pipe.extract_style(Motion(np.zeros((100, 7), np.float32)))
    stream = pipe.stream()  # a stream stops at the first broken step instead of sending NaN frames
    with pytest.raises(ModelOutputError, match="NaN or infinite"):
        stream.push(np.concatenate([audio, audio]))
        stream.flush()


def test_broken_cvae_weights_raise_instead_of_nan_heads(tmp_path):
    from stygaze.cvae.model import HeadCVAE
    from stygaze.cvae.pipeline import generate_heads

    model = HeadCVAE.from_pretrained(_poisoned(tmp_path, "cvae", float("nan")))
    with pytest.raises(ModelOutputError, match="cVAE produced NaN"):
        generate_heads(Motion(np.zeros((50, 7), np.float32)), model=model)


def test_nan_in_a_ground_truth_motion_stays_allowed():
    data = np.zeros((10, 7), np.float32)
    data[3] = np.nan
    assert Motion(data).has_nan


@pytest.mark.parametrize(
    "arrays, match",
    [
        ({"style": np.ones(64, np.float32)}, "encoder_id"),
        ({"style": np.ones(64).astype(str), "encoder_id": np.asarray("x")}, "'style' must be a numeric vector"),
        ({"style": np.ones(64, np.float32), "encoder_id": np.asarray(3.0)}, "'encoder_id' must be one string"),
        ({"style": np.ones(64, np.float32), "encoder_id": np.asarray(["a", "b"])}, "'encoder_id' must be one string"),
    ],
    ids=["no_encoder_id", "string_style", "numeric_encoder_id", "two_encoder_ids"],
)
def test_malformed_style_files_are_style_errors(tmp_path, arrays, match):
    np.savez(tmp_path / "s.npz", **arrays)
    with pytest.raises(StyleError, match=match):
        StyleVector.load(tmp_path / "s.npz")
    with pytest.raises(StyleError, match=match):
        StyGazeTalk.from_pretrained().resolve_style(tmp_path / "s.npz")
