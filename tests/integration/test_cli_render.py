"""`stygaze render` and `stygaze export` end to end through the real CLI."""

import json
import os
import shutil
import subprocess
import sys

from pathlib import Path

import numpy as np
import pytest

from stygaze.audio import save_audio
from stygaze.motion import Motion

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffprobe")


def cli(*args, env=None):
    full_env = {**os.environ, **(env or {})}
    full_env.pop("STYGAZE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "stygaze", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=full_env)


def duration(path, stream):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "stream=duration",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["streams"][0]["duration"])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_render")
    T = 10
    data = np.zeros((T, 7), np.float32)
    data[:, 1] = np.linspace(-20, 20, T)
    data[:, [4, 6]] = np.linspace(15, -15, T)[:, None]
    Motion(data, blink=np.linspace(0, 1, T).astype(np.float32)).save(d / "gt.npz")
    Motion(data * 0.5).save(d / "a.npz")
    sr = 16000
    t = np.arange(int(sr * T / 25)) / sr
    save_audio(d / "talk.wav", (0.2 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), sr)
    with open(d / "bad_shape.npz", "wb") as fh:
        np.savez(fh, motion=np.zeros((10, 5), np.float32), fps=np.float32(25))
    return d


@pytest.mark.gl
def test_render_with_audio_in_sync(files, tmp_path):
    out = tmp_path / "out.mp4"
    r = cli("render", files / "gt.npz", "--audio", files / "talk.wav", "-o", out, "--size", 64)
    assert r.returncode == 0, r.stderr
    assert abs(duration(out, "v:0") - 0.4) <= 1 / 25
    assert abs(duration(out, "a:0") - duration(out, "v:0")) <= 1 / 25


@pytest.mark.gl
def test_render_grid_with_labels(files, tmp_path):
    out = tmp_path / "grid.mp4"
    r = cli("render", files / "gt.npz", files / "a.npz", "--labels", "GT,A", "-o", out, "--size", 64,
            "--camera", "three-quarter")
    assert r.returncode == 0, r.stderr
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width", "-of", "csv=p=0", str(out)],
                           capture_output=True, text=True, check=True).stdout
    assert int(probe.strip()) == 128


@pytest.mark.slow
@pytest.mark.gl
def test_render_flame_head_from_env(files, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "render"))
    from render_helpers import write_tiny_flame  # a tiny FLAME-format model the test writes

    model = write_tiny_flame(tmp_path / "flame")
    out = tmp_path / "flame.mp4"
    r = cli("render", files / "gt.npz", "--head", "flame", "-o", out, "--size", 64,
            env={"STYGAZE_FLAME_MODEL": str(model.parent)})
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 1000


@pytest.mark.parametrize("fmt, suffix", [("bvh", ".bvh"), ("arkit", ".csv"), ("flame", ".npz"), ("gltf", ".glb")])
def test_export_formats(files, tmp_path, fmt, suffix):
    out = tmp_path / f"m{suffix}"
    r = cli("export", files / "gt.npz", "--format", fmt, "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 100
    if fmt == "gltf":
        assert out.read_bytes()[:4] == b"glTF"


def test_export_arkit_fps_and_refusals(files, tmp_path):
    out = tmp_path / "m.csv"
    r = cli("export", files / "gt.npz", "--format", "arkit", "--fps", "60", "-o", out)
    assert r.returncode == 0, r.stderr
    rows = out.read_text().splitlines()
    assert rows[0].startswith("Timecode,BlendShapeCount,EyeBlinkLeft") and rows[2].startswith("00:00:00:01.017,61,")
    for args, match in (
        (["--format", "bvh", "--fps", "60", "-o", tmp_path / "m.bvh"], "--fps"),
        (["--format", "flame", "-o", files / "gt.npz"], "is one of the inputs"),
    ):
        r = cli("export", files / "gt.npz", *args)
        assert r.returncode == 2 and match in r.stderr and "Traceback" not in r.stderr


def _bad_cases(files, tmp_path):
    out = tmp_path / "o.mp4"
    return {
        "missing motion": ["render", tmp_path / "nope.npz", "-o", out],
        "unknown head": ["render", files / "gt.npz", "--head", "robot", "-o", out],
        "unknown camera": ["render", files / "gt.npz", "--camera", "overhead", "-o", out],
        "no flame model": ["render", files / "gt.npz", "--head", "flame", "-o", out],
        "missing flame model": ["render", files / "gt.npz", "--head", "flame", "--flame-model", tmp_path / "x", "-o", out],
        "wrong shape": ["render", files / "bad_shape.npz", "-o", out],
        "missing audio": ["render", files / "gt.npz", "--audio", tmp_path / "none.wav", "-o", out],
        "odd size": ["render", files / "gt.npz", "--size", 63, "-o", out],
        "label count": ["render", files / "gt.npz", files / "a.npz", "--labels", "GT", "-o", out],
        "export format": ["export", files / "gt.npz", "--format", "fbx", "-o", tmp_path / "o.fbx"],
        "export wrong shape": ["export", files / "bad_shape.npz", "--format", "bvh", "-o", tmp_path / "o.bvh"],
    }


@pytest.mark.parametrize("case", [
    "missing motion", "unknown head", "unknown camera", "no flame model", "missing flame model", "wrong shape",
    "missing audio", "odd size", "label count", "export format", "export wrong shape",
])
def test_bad_input_one_line_exit_2_no_output(files, tmp_path, case):
    args = _bad_cases(files, tmp_path)[case]
    r = cli(*args, env={"STYGAZE_FLAME_MODEL": ""})
    assert r.returncode == 2, (case, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stygaze: error:"), r.stderr
    assert list(tmp_path.iterdir()) == []  # no partial mp4, no temp file
