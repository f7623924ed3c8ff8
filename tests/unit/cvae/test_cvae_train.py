"""cVAE training: configs, data windows, a tiny run, resume, bad corpora."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from gen_fixtures import make_cvae_corpus as make_corpus
from gen_fixtures import tiny_cvae_config as tiny_config
from stygaze.errors import CheckpointError, DataError
from stygaze.cvae.model import HeadCVAE
from stygaze.cvae.train import (
    Track,
    config_from_dict,
    load_train_config,
    sample_windows,
    train_cvae,
    valid_starts,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", ["cvae.yaml", "cvae_framewise.yaml", "cvae_gru_nocontext.yaml"])
def test_shipped_configs_load(name):
    cfg = load_train_config(REPO / "configs" / name)
    assert cfg.window == cfg.model.context + cfg.rollout_chunks * cfg.model.chunk
    expected = {"cvae.yaml": ("gru", True), "cvae_framewise.yaml": ("framewise", False), "cvae_gru_nocontext.yaml": ("gru", False)}[name]
    assert (cfg.model.temporal, cfg.model.use_context) == expected


def test_config_errors(tmp_path):
    with pytest.raises(DataError, match="unknown keys"):
        config_from_dict({"lr": 1e-3, "learning_rate": 1})
    with pytest.raises(DataError, match=r"model\.width"):
        config_from_dict({"model": {"width": 3}})
    with pytest.raises(DataError, match="context"):
        config_from_dict({"model": {"chunk": 4, "context": 9}})
    with pytest.raises(DataError, match="not found"):
        load_train_config(tmp_path / "nope.yaml")


def test_windows_skip_nan_frames(rng):
    head = np.zeros((20, 3), np.float32)
    gaze = np.zeros((20, 4), np.float32)
    gaze[8] = np.nan
    t = Track("a", head, gaze)
    starts = valid_starts(t, 5)
    assert set(starts) == set(range(0, 4)) | set(range(9, 16))
    idx = sample_windows([t], 5, 50, np.random.default_rng(0))
    assert all(not (s <= 8 < s + 5) for _, s in idx)
    with pytest.raises(DataError, match="no NaN-free window"):
        sample_windows([t], 30, 5, None)


def test_tiny_run_trains_logs_and_saves_a_loadable_best(tmp_path, rng):
    data = make_corpus(tmp_path / "corpus", rng)
    res = train_cvae(tiny_config(), data, tmp_path / "run", progress=False)
    assert res.epochs == 2 and np.isfinite(res.best_val)
    lines = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    assert all(np.isfinite(r["train_total"]) and np.isfinite(r["val_total"]) for r in lines)
    assert lines[0]["beta"] < lines[1]["beta"] or lines[1]["beta"] == pytest.approx(0.05)  # KL annealing
    model = HeadCVAE.from_pretrained(tmp_path / "run" / "best")
    assert float(model.head_std[1]) > 1.0  # the normalisation stats came from the corpus
    assert model.meta["train"]["epoch"] in (1, 2)


def test_resume_continues_exactly(tmp_path, rng):
    data = make_corpus(tmp_path / "corpus", rng)
    cfg = tiny_config()
    train_cvae(cfg, data, tmp_path / "straight", progress=False)
    train_cvae(cfg, data, tmp_path / "split", max_epochs=1, progress=False)
    assert len((tmp_path / "split" / "log.jsonl").read_text().splitlines()) == 1
    res = train_cvae(cfg, data, tmp_path / "split", progress=False)
    assert res.epochs == 2
    from safetensors.numpy import load_file

    a = load_file(str(tmp_path / "straight" / "last" / "model.safetensors"))
    b = load_file(str(tmp_path / "split" / "last" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-6, err_msg=k)
    # a different config refuses to resume the run; a larger epoch budget continues it
    with pytest.raises(CheckpointError, match="another config"):
        train_cvae(replace(cfg, lr=0.5), data, tmp_path / "split", progress=False)
    assert train_cvae(replace(cfg, epochs=3), data, tmp_path / "split", progress=False).epochs == 3


@pytest.mark.parametrize("kw", [dict(temporal="framewise", use_context=False), dict(use_context=False)])
def test_ablations_train(tmp_path, rng, kw):
    data = make_corpus(tmp_path / "corpus", rng, sessions=(2, 1, 0))
    res = train_cvae(replace(tiny_config(**kw), epochs=1), data, tmp_path / "run", progress=False)
    assert HeadCVAE.from_pretrained(res.best_path).config.temporal == kw.get("temporal", "gru")


def test_bad_corpora(tmp_path, rng):
    with pytest.raises(DataError, match="not found"):
        train_cvae(tiny_config(), tmp_path / "missing", tmp_path / "run", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="splits.json"):
        train_cvae(tiny_config(), tmp_path / "empty", tmp_path / "run", progress=False)
    (tmp_path / "empty" / "splits.json").write_text(json.dumps({"train": ["ghost"]}))
    with pytest.raises(DataError, match="no motion file"):
        train_cvae(tiny_config(), tmp_path / "empty", tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "best").exists()
