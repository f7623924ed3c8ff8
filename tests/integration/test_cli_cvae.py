"""`stygaze train cvae` and `stygaze generate --gaze` end to end through the real CLI."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stygaze.motion import Motion

TINY_YAML = """\
model: {hidden: 8, z_dim: 2, chunk: 5, context: 3, overlap: 1}
rollout_chunks: 2
batch_size: 8
windows_per_epoch: 16
val_windows: 8
epochs: 3
kl_warmup_steps: 2
"""


def stygaze(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "stygaze", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def _one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stygaze: error: "), proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def _gaze_file(path: Path, T=100, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    data = np.zeros((T, 7), np.float32)
    data[:, 3:7] = np.repeat(rng.normal(0, 12, (T // 10 + 1, 4)), 10, axis=0)[:T]
    return Motion(data).save(path)


def _corpus(root: Path) -> Path:
    rng = np.random.default_rng(1)
    splits = {"train": ["a", "b"], "val": ["c"], "test": []}
    for name in ("a", "b", "c"):
        data = rng.normal(0, 5, (80, 7)).astype(np.float32)
        (root / name).mkdir(parents=True)
        Motion(data).save(root / name / "motion.npz")
    (root / "splits.json").write_text(json.dumps(splits))
    return root


@pytest.mark.slow
def test_train_cvae_cli_trains_resumes_and_generates(tmp_path):
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY_YAML)
    data = _corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    p = stygaze("train", "cvae", "--config", cfg, "--data", data, "--out", run, "--max-epochs", 1, "--threads", 1)
    assert p.returncode == 0, p.stderr
    assert (run / "best" / "model.safetensors").exists() and "best val loss" in p.stdout
    p = stygaze("train", "cvae", "--config", cfg, "--data", data, "--out", run, "--max-epochs", 2, "--threads", 1)
    assert p.returncode == 0, p.stderr
    assert [json.loads(x)["epoch"] for x in (run / "log.jsonl").read_text().splitlines()] == [1, 2]  # resumed, not restarted
    # the trained run is usable by generate
    gaze = _gaze_file(tmp_path / "g.npz")
    p = stygaze("generate", "--gaze", gaze, "--cvae", run / "best", "--samples", 2, "-o", tmp_path / "o.npz")
    assert p.returncode == 0, p.stderr
    assert Motion.load(tmp_path / "o.npz").data.shape == (100, 7)


@pytest.mark.slow
def test_train_cvae_cli_errors(tmp_path):
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY_YAML)
    _one_line_error(stygaze("train", "cvae", "--config", cfg, "--data", tmp_path / "none", "--out", tmp_path / "r"), "corpus folder not found")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {hiden: 3}\n")
    _one_line_error(stygaze("train", "cvae", "--config", bad, "--data", tmp_path, "--out", tmp_path / "r"), "model.hiden")
    assert not (tmp_path / "r").exists()
    h = stygaze("train", "cvae", "--help")
    assert h.returncode == 0 and "--max-minutes" in h.stdout and "--config" in h.stdout


@pytest.mark.slow
def test_generate_gaze_writes_k_samples_and_keeps_world_gaze(tmp_path):
    gaze = _gaze_file(tmp_path / "gaze.npz", T=120)
    out = tmp_path / "out.npz"
    p = stygaze("generate", "--gaze", gaze, "--samples", 3, "--seed", 4, "-o", out)
    assert p.returncode == 0, p.stderr
    m = Motion.load(out)
    with np.load(out) as npz:
        samples = npz["samples"]
    assert samples.shape == (3, 120, 7)
    np.testing.assert_array_equal(samples[0], m.data)
    g = Motion.load(gaze)
    np.testing.assert_allclose(m.world_gaze_vectors(), g.world_gaze_vectors(), atol=1e-5)
    assert np.abs(samples[0, :, :3] - samples[1, :, :3]).max() > 1e-3  # diverse
    # the seed reaches the sampler (same seed -> identical samples is a unit test)
    p = stygaze("generate", "--gaze", gaze, "--samples", 3, "--seed", 5, "-o", tmp_path / "other.npz")
    assert p.returncode == 0, p.stderr
    with np.load(tmp_path / "other.npz") as npz:
        assert np.abs(npz["samples"] - samples).max() > 1e-3


@pytest.mark.parametrize(
    "case, needle",
    [
        ("wrong_channels", "expected shape (T, 7)"),
        ("too_short", "too short"),
        ("long_nan_gap", "NaN gap of 40 frames"),
        ("bad_samples", "argument --samples: expected an integer in [1, 1000], got '0'"),
    ],
)
def test_generate_gaze_bad_input(tmp_path, case, needle):
    gaze = tmp_path / "gaze.npz"
    args = []
    if case == "wrong_channels":
        np.savez(gaze, motion=np.zeros((100, 4), np.float32), fps=np.float32(25))
    elif case == "too_short":
        _gaze_file(gaze, T=10)
    elif case == "long_nan_gap":
        _gaze_file(gaze, T=150)
        m = Motion.load(gaze)
        m.data[50:90, 3:7] = np.nan
        m.save(gaze)
    elif case == "bad_samples":
        _gaze_file(gaze)
        args = ["--samples", "0"]
    out = tmp_path / "out.npz"
    _one_line_error(stygaze("generate", "--gaze", gaze, "-o", out, *args), needle)
    assert not out.exists() and not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_generate_gaze_bridges_short_gaps(tmp_path):
    gaze = _gaze_file(tmp_path / "gaze.npz", T=150)
    m = Motion.load(gaze)
    m.data[50:60, 3:7] = np.nan
    m.save(gaze)
    p = stygaze("generate", "--gaze", gaze, "-o", tmp_path / "out.npz")
    assert p.returncode == 0, p.stderr
    out = Motion.load(tmp_path / "out.npz")
    assert np.isfinite(out.head).all() and np.isnan(out.gaze[50:60]).all()


@pytest.mark.slow
def test_generate_audio_with_cvae_head(tmp_path):
    """speech -> gaze (here the procedural SynHAGE generator) -> cVAE head; the gaze is kept."""
    from stygaze.audio import save_audio

    sr = 16000
    t = np.arange(4 * sr) / sr
    audio = (0.3 * np.sin(2 * np.pi * 170 * t) * (np.sin(2 * np.pi * 0.7 * t) > 0)).astype(np.float32)
    wav = tmp_path / "talk.wav"
    save_audio(wav, audio, sr)
    p = stygaze("generate", "--audio", wav, "--model", "procedural", "--seed", 1, "-o", tmp_path / "plain.npz")
    assert p.returncode == 0, p.stderr
    p = stygaze("generate", "--audio", wav, "--model", "procedural", "--seed", 1, "--head", "cvae", "--samples", 2, "-o", tmp_path / "cvae.npz")
    assert p.returncode == 0, p.stderr
    plain, out = Motion.load(tmp_path / "plain.npz"), Motion.load(tmp_path / "cvae.npz")
    with np.load(tmp_path / "cvae.npz") as npz:
        assert npz["samples"].shape == (2, len(plain), 7)
    np.testing.assert_allclose(out.world_gaze_vectors(), plain.world_gaze_vectors(), atol=1e-5)
    assert np.abs(out.head - plain.head).max() > 1e-3


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--audio", "{wav}", "--samples", "3"], "add --head cvae"),
        (["--audio", "{dir}", "--head", "cvae"], "batch mode is not supported"),
        (["--gaze", "{gaze}", "--audio", "{wav}"], "not both"),
        (["--gaze", "{gaze}", "--style", "{gaze}"], "--style belongs to speech generation"),
        (["--head", "cvae"], "--head cvae needs --audio"),
    ],
)
def test_generate_cvae_option_errors_in_process(tmp_path, capsys, extra, needle):
    """Option mistakes are refused before any work (in-process: the same main() the console script runs)."""
    from stygaze.cli import main

    gaze = _gaze_file(tmp_path / "gaze.npz")
    (tmp_path / "talk.wav").write_bytes(b"")
    (tmp_path / "dir").mkdir()
    args = [a.format(wav=tmp_path / "talk.wav", dir=tmp_path / "dir", gaze=gaze) for a in extra]
    assert main(["generate", *args, "-o", str(tmp_path / "out.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "out.npz").exists()
