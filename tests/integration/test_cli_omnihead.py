"""``stygaze train omnihead`` end to end (real renderer, micro model) and its input errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

MICRO_YAML = """\
model: tiny
model_overrides: {img_size: 32, num_frames: 8, embed_dim: 16, depths: [1, 1], num_heads: [2, 2], window_size: [2, 4, 4], decoder_heads: 2, head_hidden: 16}
segment_frames: 8
train_segments: 2
val_segments: 1
clips_per_segment: 1
supersample: 1
batch_size: 2
epochs: 1
num_threads: 1
"""


def _corpus(root):
    from stygaze.data.synhage import synthesize

    t = np.arange(8 * 16000) / 16000
    for i in range(3):
        audio = (np.random.default_rng(i).normal(0, 0.1, len(t)) * (np.sin(2 * np.pi * 3 * t) > -0.2)).astype(np.float32)
        (root / f"s{i}").mkdir(parents=True)
        synthesize(audio, seed=i).motion.save(root / f"s{i}" / "motion.npz")


def run(*args):
    return subprocess.run([sys.executable, "-m", "stygaze", *map(str, args)], capture_output=True, text=True, timeout=240)


@pytest.mark.slow
@pytest.mark.gl
def test_train_omnihead_cli(tmp_path):
    _corpus(tmp_path / "corpus")
    cfg = tmp_path / "micro.yaml"
    cfg.write_text(MICRO_YAML)
    out = tmp_path / "run"
    r = run("train", "omnihead", "--config", cfg, "--data", tmp_path / "corpus", "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "checkpoint" in r.stdout
    conf = json.loads((out / "best" / "config.json").read_text())
    assert conf["model_type"] == "omnihead" and conf["config"]["img_size"] == 32
    assert len((out / "log.jsonl").read_text().splitlines()) == 1


def test_train_omnihead_cli_errors(tmp_path):
    r = run("train", "omnihead", "--data", tmp_path / "missing", "--out", tmp_path / "run")
    assert r.returncode == 2 and r.stderr.startswith("stygaze: error:") and "Traceback" not in r.stderr
    assert not (tmp_path / "run").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: 1\nnot_an_option: 2\n")
    (tmp_path / "c").mkdir()
    r = run("train", "omnihead", "--config", bad, "--data", tmp_path / "c", "--out", tmp_path / "run")
    assert r.returncode == 2 and "not_an_option" in r.stderr
    r = run("train", "omnihead", "--data", tmp_path / "c", "--out", tmp_path / "run", "--max-epochs", "0")
    assert r.returncode == 2 and "--max-epochs" in r.stderr


@pytest.mark.slow
@pytest.mark.gl
def test_eval_perceptual_cli(tmp_path):
    from stygaze.motion import Motion

    gt = Motion.zeros(30)
    gt.data[:, 1] = 15 * np.sin(np.arange(30) / 3)  # head shakes
    gt.save(tmp_path / "gt.npz")
    Motion.zeros(30).save(tmp_path / "pred.npz")  # frozen
    out = tmp_path / "res.json"
    r = run("eval", "--pred", tmp_path / "pred.npz", "--gt", tmp_path / "gt.npz", "--perceptual", "--json", out)
    assert r.returncode == 0, r.stderr
    assert "Perceptual" in r.stdout
    res = json.loads(out.read_text())["perceptual"]
    assert res["frechet_distance"] > 0 and res["num_windows"] == [8, 8]
    bad = run("eval", "--pred", tmp_path / "pred.npz", "--gt", tmp_path / "gt.npz", "--perceptual", "--perceptual-stride", "0", "--json", tmp_path / "x.json")
    assert bad.returncode == 2 and "--perceptual-stride" in bad.stderr and not (tmp_path / "x.json").exists()
