"""`stygaze generate --audio DIR_OR_GLOB -o OUTDIR --jobs N`: good and broken audio in one batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stygaze.audio import SAMPLE_RATE, load_audio, num_frames, save_audio
from stygaze.motion import Motion

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "stygaze", "generate", *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    import torch

    from stygaze.stygazetalk.generator import GeneratorConfig, StyGazeTalkConfig, StyGazeTalkModel

    torch.manual_seed(0)
    model = StyGazeTalkModel(StyGazeTalkConfig(GeneratorConfig(d=8, style_dim=0, hidden=16, num_layers=1, M=8, N=4)))
    path = tmp_path_factory.mktemp("model") / "tiny"
    model.save(path)
    return path


def _speechy(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.2 * np.sin(2 * np.pi * 140 * t) * (np.sin(2 * np.pi * 2.5 * t) > 0) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.mark.slow
def test_batch_with_good_and_broken_audio(tmp_path, tiny_model):
    talks, out = tmp_path / "talks", tmp_path / "motions"
    talks.mkdir()
    good = {"a.wav": 1.0, "b.flac": 2.2, "c.wav": 0.6}
    for name, sec in good.items():
        save_audio(talks / name, _speechy(sec, len(name) + int(10 * sec)))
    (talks / "broken.wav").write_bytes(b"RIFF....WAVEfmt nonsense")  # unreadable
    save_audio(talks / "blip.wav", np.zeros(160, np.float32))  # 10 ms: too short for one frame
    (talks / "notes.txt").write_text("not audio: ignored")

    first = _cli("--audio", str(talks), "-o", str(out), "--model", str(tiny_model), "--jobs", "2")
    assert first.returncode == 1, first.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == ["a.motion.npz", "b.motion.npz", "c.motion.npz"]  # one per good input, no temp files
    for name in good:
        motion = Motion.load(out / f"{Path(name).stem}.motion.npz")
        assert motion.data.shape == (num_frames(len(load_audio(talks / name))), 7)
        assert np.isfinite(motion.data).all() and motion.data.std(axis=0).max() > 0
    failed = [line for line in first.stderr.splitlines() if line.startswith("stygaze: failed: ")]
    assert len(failed) == 2
    assert any("broken.wav: " in line and "cannot read audio" in line for line in failed)
    assert any("blip.wav: " in line and "20 ms" in line for line in failed)
    assert "generate: 3 done, 0 skipped, 2 failed of 5 files" in first.stderr.splitlines()[-1]
    assert sorted(Path(p).name for p in first.stdout.split()) == written  # stdout lists the outputs

    # rerun: finished outputs are skipped (untouched), the broken ones are tried and reported again
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    second = _cli("--audio", str(talks / "*"), "-o", str(out), "--model", str(tiny_model))
    assert second.returncode == 1
    assert "generate: 0 done, 3 skipped, 2 failed of 5 files" in second.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps

    # without the broken files everything is done: exit code 0
    (talks / "broken.wav").unlink()
    (talks / "blip.wav").unlink()
    third = _cli("--audio", str(talks), "-o", str(out), "--model", str(tiny_model))
    assert third.returncode == 0, third.stderr
    assert "0 done, 3 skipped, 0 failed of 3 files" in third.stderr


@pytest.mark.parametrize(
    "make, args, message",
    [
        (lambda d: None, ["--audio", "{d}/empty"], "no audio files"),
        (lambda d: None, ["--audio", "{d}/talks/*.mp3"], "no audio files"),
        (lambda d: (d / "x.txt").write_text("x"), ["--audio", "{d}/talks", "-o", "{d}/x.txt"], "is an existing file"),
        (lambda d: None, ["--audio", "{d}/talks", "--jobs", "0"], "argument --jobs: expected an integer >= 1, got '0'"),
    ],
    ids=["empty_folder", "glob_matches_nothing", "outdir_is_a_file", "zero_jobs"],
)
def test_batch_usage_errors_exit_2_without_outputs(tmp_path, make, args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "talks").mkdir()
    save_audio(tmp_path / "talks" / "a.wav", _speechy(0.5, 0))
    make(tmp_path)
    proc = _cli(*[a.format(d=tmp_path) for a in args])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stygaze: error: ") and message in lines[0]
    assert not (tmp_path / "talks" / "a.motion.npz").exists()


def _worker_pids(parent: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"resource_tracker" not in cmdline:
            pids.append(int(entry))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the workers in /proc")
def test_batch_goes_on_when_a_worker_is_killed(tmp_path, tiny_model):
    import signal
    import time

    talks, out = tmp_path / "talks", tmp_path / "motions"
    talks.mkdir()
    for k in range(16):
        save_audio(talks / f"t{k:02d}.wav", _speechy(1.5, k))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "stygaze", "generate", "--audio", str(talks), "-o", str(out),
                             "--model", str(tiny_model), "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not (out.exists() and any(out.glob("*.motion.npz"))):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    workers = _worker_pids(proc.pid)
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=300)
    assert "Traceback" not in stderr and "KeyError" not in stderr
    assert proc.returncode == 0, stderr  # the files the dead worker held were run again
    assert sorted(p.name for p in out.iterdir()) == [f"t{k:02d}.motion.npz" for k in range(16)]
    assert stderr.strip().splitlines()[-1].startswith("generate: 16 done, 0 skipped, 0 failed of 16 files")
