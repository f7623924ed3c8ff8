"""`stygaze train ...`: resume refusal, --force-resume, config errors and failed runs through the real CLI."""

import json

import numpy as np

from stygaze.motion import Motion
from test_cli_cvae import TINY_YAML, _one_line_error, stygaze


def _corpus(root, T=80):
    rng = np.random.default_rng(1)
    for name in ("a", "b", "c"):
        (root / name).mkdir(parents=True)
        Motion(rng.normal(0, 5, (T, 7)).astype(np.float32)).save(root / name / "motion.npz")
    (root / "splits.json").write_text(json.dumps({"train": ["a", "b"], "val": ["c"], "test": []}))
    return root


def test_resume_with_another_config_needs_force_resume(tmp_path):
    data = _corpus(tmp_path / "corpus")
    cfg, other = tmp_path / "tiny.yaml", tmp_path / "other.yaml"
    cfg.write_text(TINY_YAML)
    other.write_text(TINY_YAML + "lr: 0.01\n")
    run = tmp_path / "run"
    assert stygaze("train", "cvae", "--config", cfg, "--data", data, "--out", run, "--max-epochs", 1, "--threads", 1).returncode == 0
    _one_line_error(stygaze("train", "cvae", "--config", other, "--data", data, "--out", run, "--max-epochs", 2, "--threads", 1),
                    "another config (lr: 0.002 → 0.01)", "--force-resume")
    _one_line_error(stygaze("train", "cvae", "--config", cfg, "--data", data, "--out", run, "--seed", 5, "--threads", 1), "seed: 0 → 5")
    assert len((run / "log.jsonl").read_text().splitlines()) == 1  # refused runs wrote nothing
    p = stygaze("train", "cvae", "--config", other, "--data", data, "--out", run, "--max-epochs", 2, "--threads", 1, "--force-resume")
    assert p.returncode == 0, p.stderr
    assert [json.loads(x)["epoch"] for x in (run / "log.jsonl").read_text().splitlines()] == [1, 2]
    rc = json.loads((run / "run_config.json").read_text())
    assert rc["config"]["lr"] == 0.01 and [h["config"]["lr"] for h in rc["history"]] == [0.002]
    assert "--force-resume" in stygaze("train", "cvae", "--help").stdout


def test_config_errors_and_failed_training_leave_no_run_folder(tmp_path):
    data = _corpus(tmp_path / "corpus")
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY_YAML + "batch_size: 0\n")
    _one_line_error(stygaze("train", "cvae", "--config", bad, "--data", data, "--out", tmp_path / "r"), str(bad), "batch_size must be ≥ 1, got 0")
    bad.write_text(TINY_YAML.replace("hidden: 8", "hidden: -5"))
    _one_line_error(stygaze("train", "cvae", "--config", bad, "--data", data, "--out", tmp_path / "r"), "model.hidden must be in [1, 4096], got -5")
    bad.write_text("- a list\n")
    _one_line_error(stygaze("train", "omnihead", "--config", bad, "--data", data, "--out", tmp_path / "r"), "must be a mapping")
    assert not (tmp_path / "r").exists()
    short = _corpus(tmp_path / "short", T=12)  # shorter than a training window: fails inside the first epoch
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY_YAML)
    _one_line_error(stygaze("train", "cvae", "--config", cfg, "--data", short, "--out", tmp_path / "r", "--threads", 1), "no NaN-free window")
    assert not (tmp_path / "r").exists()
    _one_line_error(stygaze("train", "style", "--config", cfg, "--data", data, "--out", tmp_path / "r"), "unknown keys")
    _one_line_error(stygaze("train", "generator", "--config", cfg, "--data", data, "--out", tmp_path / "r", "--max-epochs", 0), "--max-epochs")
    assert not (tmp_path / "r").exists()
