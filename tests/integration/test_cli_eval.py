"""`stygaze eval` end to end: real files, real subprocess."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from stygaze.motion import Motion

KEYS = {
    "all": ["mae", "vel", "mee", "bas"],
    "gaze": ["mae", "vel", "mee", "bas"],
    "head": ["mae", "vel", "mee", "bas"],
    "pattern": ["fix_ratio_gt", "fix_ratio_pred", "comp_gt", "comp_pred", "sim"],
    "events": ["detector", "gt", "pred", "event_sim", "distance", "similarity", "conversation"],
    "compensation": ["gt", "pred"],
}


def stygaze(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "stygaze", "eval", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=240)


def walk(seed, T=200, fps=25):
    rng = np.random.default_rng(seed)
    return Motion(np.cumsum(rng.normal(0, 0.3, (T, 7)), axis=0).astype(np.float32), fps=fps)


def speechy(seconds, sr):
    """Amplitude-modulated noise bursts at 2 Hz (something for the beat tracker)."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    env = np.clip(np.sin(2 * np.pi * 2 * t), 0, None) ** 4
    return (0.3 * env * rng.normal(size=t.size)).astype(np.float32)


@pytest.fixture
def clips(tmp_path):
    for d in ("pred", "gt", "audio"):
        (tmp_path / d).mkdir()
    for i, name in enumerate(("a", "b")):
        walk(i).save(tmp_path / "pred" / f"{name}.npz")
        gt = walk(10 + i)
        if name == "a":
            gt.data[50:60] = np.nan  # tracker loss is allowed in ground truth
        gt.save(tmp_path / "gt" / f"{name}.npz")
    sf.write(str(tmp_path / "audio" / "a.wav"), speechy(8.0, 16000), 16000)
    sf.write(str(tmp_path / "audio" / "b.flac"), speechy(8.0, 44100), 44100)
    return tmp_path


def test_folders_with_audio_json_and_plot(clips):
    out = clips / "out"
    res = stygaze("--pred", clips / "pred", "--gt", clips / "gt", "--audio", clips / "audio",
                  "--json", out / "eval.json", "--plot", out / "fig.png")
    assert res.returncode == 0, res.stderr
    for word in ("2 clip pairs", "All", "Gaze", "Head", "MAE", "BAS", "saccades", "fixation", "compScore", "simScore"):
        assert word in res.stdout
    data = json.loads((out / "eval.json").read_text())
    assert {k: sorted(v) for k, v in data.items()} == {k: sorted(v) for k, v in KEYS.items()}
    for group in ("all", "gaze", "head"):
        assert all(isinstance(data[group][k], float) for k in KEYS[group])
        assert 0 <= data[group]["bas"] <= 1
    assert 0 <= data["events"]["event_sim"] <= 1
    assert 0 < data["pattern"]["fix_ratio_gt"] <= 1
    assert (out / "fig.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.iterdir()) == ["eval.json", "fig.png"]  # no temp files


def test_single_files_without_audio_give_null_bas(clips):
    out = clips / "single.json"
    res = stygaze("--pred", clips / "pred" / "a.npz", "--gt", clips / "gt" / "a.npz", "--json", out)
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    assert data["all"]["bas"] is None and isinstance(data["pattern"]["sim"], float)


def test_event_detector_option_and_new_tables(clips):
    out = clips / "conv.json"
    res = stygaze("--pred", clips / "pred", "--gt", clips / "gt", "--event-detector", "conversation", "--json", out)
    assert res.returncode == 0, res.stderr
    for word in ("detSacc", "Gaze events (conversation detector", "event_sim", "VOR gain"):
        assert word in res.stdout
    data = json.loads(out.read_text())
    assert data["events"]["detector"] == "conversation"
    assert data["events"]["gt"]["saccade_share"] is None  # I-DT detects no saccades
    assert set(data["compensation"]["gt"]) >= {"vor_gain", "head_share_lt10", "latency_ms"}


def test_unknown_event_detector_exits_2(clips):
    res = stygaze("--pred", clips / "pred", "--gt", clips / "gt", "--event-detector", "bogus", "--json", clips / "x.json")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stygaze: error:") and "bogus" in lines[0]
    assert not (clips / "x.json").exists()


def test_help_lists_options_and_defaults():
    res = stygaze("--help")
    assert res.returncode == 0
    for word in ("--pred", "--gt", "--audio", "--json", "--plot", "--dispersion", "default: 1.0", "--event-detector", "event_sim"):
        assert word in res.stdout


def _bad_motion(kind, path):
    if kind == "wrong_shape":
        with open(path, "wb") as fh:
            np.savez(fh, motion=np.zeros((200, 5), np.float32), fps=np.float32(25))
    elif kind == "inf":
        data = walk(3).data
        data[7, 2] = np.inf
        with open(path, "wb") as fh:
            np.savez(fh, motion=data, fps=np.float32(25))
    elif kind == "nan_in_prediction":
        data = walk(3).data
        data[7, 2] = np.nan
        Motion(data).save(path)
    elif kind == "too_short":
        walk(3, T=190).save(path)
    elif kind == "other_fps":
        walk(3, fps=30).save(path)
    elif kind == "corrupt":
        path.write_bytes(b"not an npz at all")


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "not found"),
        ("wrong_shape", "expected shape (T, 7)"),
        ("inf", "infinite"),
        ("nan_in_prediction", "NaN"),
        ("too_short", "190 frames but ground truth 200"),
        ("other_fps", "30 fps but ground truth at 25 fps"),
        ("corrupt", "not a valid .npz"),
        ("unreadable_audio", "cannot"),
        ("short_audio", "audio lasts 2.00 s but the motion 8.00 s"),
        ("missing_gt", "no ground truth"),
        ("bad_plot_type", "unsupported image type"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_output(clips, kind, message):
    pred_dir = clips / "pred"
    audio_dir = clips / "audio"
    extra = ["--plot", clips / "out" / "fig.png"]
    if kind == "missing":
        pred_dir = clips / "nothing_here"
    elif kind in ("unreadable_audio", "short_audio"):
        (audio_dir / "b.flac").unlink()
        if kind == "unreadable_audio":
            (audio_dir / "b.wav").write_bytes(b"RIFF....WAVEfmt garbage" * 20)
        else:
            sf.write(str(audio_dir / "b.wav"), speechy(2.0, 16000), 16000)
    elif kind == "missing_gt":
        walk(5).save(pred_dir / "c.npz")
    elif kind == "bad_plot_type":
        extra = ["--plot", clips / "out" / "fig.xyz"]
    else:
        _bad_motion(kind, pred_dir / "b.npz")
    res = stygaze("--pred", pred_dir, "--gt", clips / "gt", "--audio", audio_dir, "--json", clips / "out" / "eval.json", *extra)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stygaze: error:"), res.stderr
    assert message in lines[0]
    assert "Traceback" not in res.stderr
    assert not (clips / "out").exists() or not any((clips / "out").iterdir())
