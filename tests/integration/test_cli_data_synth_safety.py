"""`stygaze data synth` never loses a corpus: one writer at a time, resume after a kill, Ctrl-C keeps sessions."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ARGS = ["--sessions", "24", "--minutes", "0.05", "--seed", "3", "--no-progress"]


def synth(out, *args):
    return [sys.executable, "-m", "stygaze", "data", "synth", "--out", str(out), *map(str, args)]


def wait_for(path: Path, proc, timeout=60.0):
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"finished before {path.name} appeared: {proc.communicate()}"
        assert time.monotonic() < end, f"{path} did not appear"
        time.sleep(0.01)


def hashes(root: Path) -> dict[str, str]:
    """Every file of a corpus (hidden ones included) by relative path -> sha1."""
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The corpus an uninterrupted run writes."""
    out = tmp_path_factory.mktemp("ref") / "corpus"
    p = subprocess.run(synth(out, *ARGS), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return hashes(out)


def test_second_writer_is_refused_and_the_first_finishes_intact(tmp_path, reference):
    out = tmp_path / "corpus"
    first = subprocess.Popen(synth(out, *ARGS), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(out / ".stygaze.lock", first)
        second = subprocess.run(synth(out, *ARGS), capture_output=True, text=True, timeout=120)
    finally:
        _, err = first.communicate(timeout=300)
    assert second.returncode == 2, second.stderr
    assert second.stderr.strip() == f"stygaze: error: {out} is being written by another stygaze process (pid {first.pid})"
    assert first.returncode == 0, err
    assert hashes(out) == reference


def test_rerun_after_sigkill_completes_the_same_corpus(tmp_path, reference):
    out = tmp_path / "corpus"
    proc = subprocess.Popen(synth(out, *ARGS), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(out / "s003", proc)
    proc.kill()
    proc.wait(timeout=30)
    assert not (out / "splits.json").exists()  # killed mid-way
    p = subprocess.run(synth(out, *ARGS), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "wrote 24 sessions" in p.stdout
    assert hashes(out) == reference  # no temporary folder or lock file left either


def test_sigint_keeps_finished_sessions_and_says_how_to_resume(tmp_path, reference):
    out = tmp_path / "corpus"
    proc = subprocess.Popen(synth(out, *ARGS), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(out / "s002", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "rerun the same command" in err and "of 24 sessions" in err
    kept = sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert "s002" in kept and not (out / "splits.json").exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    for name in kept:  # every kept session is a finished one
        assert {p.name for p in (out / name).iterdir()} == {"audio.wav", "motion.npz", "style.json", "events.json"}
    assert subprocess.run(synth(out, *ARGS), capture_output=True, timeout=300).returncode == 0
    assert hashes(out) == reference


def test_rerun_with_other_arguments_is_refused(tmp_path):
    out = tmp_path / "corpus"
    small = ["--sessions", "2", "--minutes", "0.05", "--no-progress"]
    assert subprocess.run(synth(out, *small, "--seed", "1"), capture_output=True).returncode == 0
    before = hashes(out)
    p = subprocess.run(synth(out, *small, "--seed", "2"), capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stderr.strip() == f"stygaze: error: {out} holds a corpus made with other arguments: --seed 1 (now 2); rerun with those to resume, or choose a new --out"
    assert hashes(out) == before


def test_lock_held_elsewhere_names_its_pid(tmp_path):
    from stygaze.locking import folder_lock

    out = tmp_path / "corpus"
    with folder_lock(out):
        p = subprocess.run(synth(out, "--sessions", "1", "--minutes", "0.05"), capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stderr.strip() == f"stygaze: error: {out} is being written by another stygaze process (pid {os.getpid()})"
    assert list(out.iterdir()) == []


def test_features_wait_for_no_writer(tmp_path):
    from stygaze.locking import folder_lock

    out = tmp_path / "corpus"
    assert subprocess.run(synth(out, "--sessions", "1", "--minutes", "0.05", "--no-progress"), capture_output=True).returncode == 0
    features = [sys.executable, "-m", "stygaze", "data", "features", str(out), "--no-progress"]
    with folder_lock(out):
        busy = subprocess.run(features, capture_output=True, text=True, timeout=120)
    assert busy.returncode == 2 and "is being written by another stygaze process" in busy.stderr
    assert not (out / "s000" / "features").exists()
    assert subprocess.run(features, capture_output=True, timeout=120).returncode == 0
    assert (out / "s000" / "features").is_dir() and not (out / ".stygaze.lock").exists()
