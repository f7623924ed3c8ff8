"""`stygaze data synth|check|import-openface` end to end through the real CLI."""

import subprocess
import sys

import numpy as np
import pytest

from stygaze.audio import save_audio


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "stygaze", "data", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def _one_error_line(proc):
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("stygaze: error:"), proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def wav_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("wavs")
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 12) / 16000
    for name in ("a.wav", "b.wav"):
        env = (np.sin(2 * np.pi * rng.uniform(3, 5) * t) > 0) * ((t % 6) < 4)
        save_audio(d / name, (0.3 * env * rng.standard_normal(t.size)).astype(np.float32))
    return d


def test_synth_is_deterministic_and_checks_clean(tmp_path):
    from stygaze.data.corpus import synth_corpus

    a = run("synth", "--out", tmp_path / "a", "--sessions", 2, "--minutes", 0.25, "--seed", 4)
    assert a.returncode == 0, a.stderr
    assert "wrote 2 sessions" in a.stdout
    # the same seed in another process (the library call behind the command) gives the same bytes
    synth_corpus(tmp_path / "b", sessions=2, minutes=0.25, seed=4, progress=False)
    for s in ("s000", "s001"):
        for f in ("motion.npz", "audio.wav", "events.json", "style.json"):
            assert (tmp_path / "a" / s / f).read_bytes() == (tmp_path / "b" / s / f).read_bytes(), (s, f)
    assert (tmp_path / "a" / "splits.json").read_text() == (tmp_path / "b" / "splits.json").read_text()
    c = run("check", tmp_path / "a")
    assert c.returncode == 0 and c.stdout == "" and "2 session(s)" in c.stderr and "ok" in c.stderr


def test_synth_from_audio_dir_and_check_finds_problems(tmp_path, wav_dir):
    p = run("synth", "--out", tmp_path / "c", "--sessions", 3, "--minutes", 0.1, "--seed", 1, "--audio-dir", wav_dir)
    assert p.returncode == 0, p.stderr
    import json

    names = sorted(json.loads((tmp_path / "c" / f"s00{i}" / "style.json").read_text())["speech"]["file"] for i in range(3))
    assert set(names) == {"a.wav", "b.wav"}
    (tmp_path / "c" / "s001" / "audio.wav").unlink()
    c = run("check", tmp_path / "c")
    assert c.returncode == 1
    assert c.stdout.strip().endswith("s001/audio.wav: missing audio file")


@pytest.mark.parametrize(
    "args, match",
    [
        (["--sessions", "0"], "argument --sessions: expected an integer in [1, 100000], got '0'"),
        (["--sessions", "2.5"], "argument --sessions: expected an integer, got '2.5'"),
        (["--minutes", "abc"], "argument --minutes: expected a number, got 'abc'"),
        (["--minutes", "nan"], "argument --minutes: expected a finite number, got 'nan'"),
        (["--audio-dir", "MISSING"], "audio directory not found"),
        (["--audio-dir", "EMPTY"], "no audio files"),
        (["--out", "EXISTING"], "already exists"),
    ],
    ids=["zero_sessions", "fractional_sessions", "minutes_not_a_number", "minutes_nan", "missing_audio_dir", "no_wavs", "existing_output"],
)
def test_synth_bad_input(tmp_path, args, match):
    (tmp_path / "empty").mkdir()
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing" / "x").write_text("x")
    repl = {"MISSING": tmp_path / "missing", "EMPTY": tmp_path / "empty", "EXISTING": tmp_path / "existing"}
    args = [str(repl.get(a, a)) for a in args]
    if "--out" not in args:
        args = ["--out", str(tmp_path / "out")] + args
    p = run("synth", "--minutes", "0.1", "--sessions", "1", *args) if "--minutes" not in args else run("synth", "--sessions", "1", *args)
    line = _one_error_line(p)
    assert match in line
    assert not (tmp_path / "out").exists()
    assert [f.name for f in (tmp_path / "existing").iterdir()] == ["x"]


def test_check_bad_usage(tmp_path):
    p = run("check", tmp_path / "nope")
    assert "corpus directory not found" in _one_error_line(p)


HEADER = ("frame, face_id, timestamp, confidence, success, gaze_0_x, gaze_0_y, gaze_0_z, gaze_1_x, gaze_1_y, "
          "gaze_1_z, pose_Tx, pose_Ty, pose_Tz, pose_Rx, pose_Ry, pose_Rz")  # fmt: skip


def _csv(path, n=60):
    rows = [HEADER] + [f"{i + 1}, 0, {i / 30:.6f}, 0.95, 1, 0, 0, -1, 0, 0, -1, 0, 0, 600, 0, 0, 0" for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_import_openface(tmp_path, wav_dir):
    out = tmp_path / "corpus" / "v1"
    p = run("import-openface", _csv(tmp_path / "v.csv"), "--audio", wav_dir / "a.wav", "--out", out)
    assert p.returncode == 0, p.stderr
    assert "wrote" in p.stdout and (out / "motion.npz").exists() and (out / "audio.wav").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("frame, timestamp\n1, 0\n")
    cases = [
        (["import-openface", bad, "--audio", wav_dir / "a.wav", "--out", tmp_path / "o1"], "missing column"),
        (["import-openface", tmp_path / "none.csv", "--audio", wav_dir / "a.wav", "--out", tmp_path / "o2"], "not found"),
        (["import-openface", _csv(tmp_path / "w.csv"), "--audio", tmp_path / "none.wav", "--out", tmp_path / "o3"], "not found"),
        (["import-openface", _csv(tmp_path / "w.csv"), "--audio", wav_dir / "a.wav", "--out", out], "already exists"),
        (["import-openface", _csv(tmp_path / "w.csv"), "--audio", wav_dir / "a.wav", "--out", tmp_path / "o4", "--min-confidence", "x"], "--min-confidence"),
        (["import-openface", _csv(tmp_path / "w.csv"), "--audio", wav_dir / "a.wav", "--out", tmp_path / "o5", "--max-gap", "-1"], "--max-gap"),
    ]
    for args, match in cases:
        line = _one_error_line(run(*args))
        assert match in line, line
    assert not any((tmp_path / f"o{i}").exists() for i in (1, 2, 3, 4, 5))


def test_generate_procedural_baseline(tmp_path, wav_dir):
    """`stygaze generate --model procedural` is the SynHAGE rule-based baseline."""
    from stygaze.audio import load_audio
    from stygaze.data.procedural import procedural_generate
    from stygaze.eval.patterns import fix_ratio
    from stygaze.motion import Motion

    out = tmp_path / "p.npz"
    p = subprocess.run(
        [sys.executable, "-m", "stygaze", "generate", "--audio", str(wav_dir / "a.wav"), "--model", "procedural", "-o", str(out), "--seed", "3"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    m = Motion.load(out)
    assert len(m) == 12 * 25 and m.blink is not None
    np.testing.assert_array_equal(m.data, procedural_generate(load_audio(wav_dir / "a.wav"), seed=3).data)
    assert 0.5 < fix_ratio(m) < 0.9


def test_synth_without_espeak_is_a_clear_error(tmp_path):
    import os

    env = dict(os.environ, PATH=str(tmp_path))  # no espeak-ng on the PATH
    p = subprocess.run([sys.executable, "-m", "stygaze", "data", "synth", "--out", str(tmp_path / "o"), "--sessions", "1", "--minutes", "0.1"],
                       capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert "espeak-ng not found" in _one_error_line(p)
    assert not (tmp_path / "o").exists()


def test_check_names_fifo_and_symlink_loop_without_hanging(tmp_path):
    import os

    out = tmp_path / "c"
    assert run("synth", "--out", out, "--sessions", 2, "--minutes", 0.05, "--no-progress").returncode == 0
    (out / "s000" / "audio.wav").unlink()
    os.mkfifo(out / "s000" / "audio.wav")  # opening it would block forever
    (out / "s001" / "motion.npz").unlink()
    os.symlink("motion.npz", out / "s001" / "motion.npz")  # points at itself
    c = run("check", out, timeout=60)
    assert c.returncode == 1
    assert c.stdout.splitlines() == [
        f"{out}/s000/audio.wav: is a FIFO (named pipe), not a regular file",
        f"{out}/s001/motion.npz: is a symlink loop, not a regular file",
    ]


def test_import_openface_refuses_a_fifo(tmp_path):
    import os

    os.mkfifo(tmp_path / "track.csv")
    p = run("import-openface", tmp_path / "track.csv", "--audio", tmp_path / "a.wav", "--out", tmp_path / "s", timeout=60)
    assert _one_error_line(p) == f"stygaze: error: OpenFace CSV {tmp_path}/track.csv is a FIFO (named pipe), not a regular file"
