"""`stygaze data features DIR`: cached features per session, reruns skip, broken audio reported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stygaze.audio import SAMPLE_RATE, save_audio

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "stygaze", "data", "features", *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_features_command_caches_skips_and_reports(tmp_path):
    corpus = tmp_path / "corpus"
    for i in range(2):
        (corpus / f"s{i}").mkdir(parents=True)
        t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
        save_audio(corpus / f"s{i}" / "audio.wav", (0.3 * np.sin(2 * np.pi * (120 + 50 * i) * t)).astype(np.float32))
    (corpus / "bad").mkdir()
    (corpus / "bad" / "audio.wav").write_bytes(b"not audio at all")

    first = _cli(str(corpus), "--jobs", "2", "--no-progress")
    assert first.returncode == 1
    assert "stygaze: failed: bad: " in first.stderr
    assert "2 computed, 0 up to date, 1 failed" in first.stdout
    for i in range(2):
        npys = list((corpus / f"s{i}" / "features").glob("mel-v1-*.npy"))
        assert len(npys) == 1 and np.load(npys[0], mmap_mode="r").shape == (25, 44)
    assert not (corpus / "bad" / "features").exists() or not list((corpus / "bad" / "features").glob("*.npy"))

    (corpus / "bad" / "audio.wav").unlink()
    second = _cli(str(corpus), "--no-progress")
    assert second.returncode == 0, second.stderr
    assert "0 computed, 2 up to date, 0 failed" in second.stdout


@pytest.mark.parametrize(
    "args, message",
    [(["{d}/missing"], "not found"), (["{d}", "--jobs", "0"], "argument --jobs: expected an integer >= 1, got '0'"), (["{d}"], "no session folders")],
    ids=["missing_folder", "zero_jobs", "no_sessions"],
)
def test_features_usage_errors_exit_2(tmp_path, args, message):
    proc = _cli(*[a.format(d=tmp_path) for a in args])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stygaze: error: ") and message in lines[0]
