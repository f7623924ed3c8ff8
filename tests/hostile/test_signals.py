"""Signals and concurrency against real processes: Ctrl-C gives exit 130 and one line, a second
writer gives exit 2 and one line; never a traceback, a partial file or a changed input.

The cases wait for a file the command writes before they signal it, so the signal lands while
the command works (not during interpreter start-up).
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from stygaze.audio import save_audio

pytestmark = pytest.mark.integration


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "stygaze", *map(str, args)]


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _wait_for(predicate, proc, what: str, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"finished before {what}: {proc.communicate()}"
        assert time.monotonic() < end, f"no {what} after {timeout} s"
        time.sleep(0.01)


def _one_error_line(err: str, start: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith(start), err


def _no_partial_files(folder: Path) -> None:
    assert not [p.name for p in folder.rglob("*") if ".part" in p.name], sorted(p.name for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    """Eight 60 s speech-like files: a batch that runs for several seconds."""
    folder = tmp_path_factory.mktemp("speech")
    t = np.arange(60 * 16000) / 16000
    for k in range(8):
        noise = np.random.default_rng(k).standard_normal(t.size)
        save_audio(folder / f"talk{k}.wav", (0.2 * noise * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32), 16000)
    return folder


def test_ctrl_c_during_a_batch_exits_130_and_leaves_only_whole_files(speech, tmp_path):
    before = _hashes(speech)
    out = tmp_path / "motions"
    proc = subprocess.Popen(_cli("generate", "--audio", speech, "-o", out, "--jobs", "2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: out.is_dir() and any(not p.name.startswith(".") for p in out.iterdir()), proc, "a first output")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    _one_error_line(err, "stygaze: interrupted")
    _no_partial_files(out)
    for p in out.iterdir():  # what is there is complete
        with np.load(p) as z:
            assert z["motion"].shape[1] == 7
    assert _hashes(speech) == before


def test_ctrl_c_during_synth_exits_130_with_one_line(tmp_path):
    out = tmp_path / "corpus"
    proc = subprocess.Popen(_cli("data", "synth", "--out", out, "--sessions", "200", "--minutes", "0.05", "--seed", "5", "--no-progress"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: (out / "s001").is_dir(), proc, "a finished session")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    _one_error_line(err, "stygaze: interrupted")
    _no_partial_files(out)


def test_a_second_writer_on_one_corpus_gets_exit_2_and_the_first_finishes(tmp_path):
    out = tmp_path / "corpus"
    args = ("data", "synth", "--out", out, "--sessions", "40", "--minutes", "0.05", "--seed", "6", "--no-progress")
    first = subprocess.Popen(_cli(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: (out / "s000").is_dir(), first, "the first writer's first session")
    # the first writer is paused mid-corpus (its lock held), so the second always meets it however fast sessions are
    first.send_signal(signal.SIGSTOP)
    try:
        assert first.poll() is None, "the first writer finished before the second could start"
        second = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=120)
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 2, second.stderr
    _one_error_line(second.stderr, "stygaze: error:")
    assert "another stygaze process" in second.stderr
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert (out / "splits.json").exists() and len([p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]) == 40


def test_two_generates_to_one_output_never_leave_a_torn_file(speech, tmp_path):
    """Two processes writing the same output: each write is atomic, so the file is one of the two whole results."""
    out = tmp_path / "same.npz"
    cmd = _cli("generate", "--audio", speech / "talk0.wav", "-o", out, "--raw", "--seed", "1")
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    with np.load(out) as z:
        assert z["motion"].shape == (1500, 7) and np.isfinite(z["motion"]).all()
    _no_partial_files(tmp_path)
