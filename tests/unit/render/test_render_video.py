"""mp4 output: codec, duration in sync with the audio, grid layout, atomic writes."""

import json
import shutil
import subprocess

import numpy as np
import pytest

from stygaze.audio import save_audio
from stygaze.errors import AudioError
from stygaze.motion import Motion
from stygaze.render.config import RenderError
from stygaze.render.video import render_grid, render_video

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffprobe")

FPS = 25


def probe(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,pix_fmt,width,height,duration,nb_frames",
         "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


def tone(path, seconds, sr=16000):
    t = np.arange(int(round(seconds * sr))) / sr
    save_audio(path, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    return path


def motion(T):
    d = np.zeros((T, 7), np.float32)
    d[:, 4] = d[:, 6] = np.linspace(-20, 20, T)
    return Motion(d)


@pytest.mark.gl
@pytest.mark.parametrize("audio_s", [0.6, 0.5])  # equal to, and shorter than, the motion (padded)
def test_video_with_audio_matches_audio_duration(tmp_path, audio_s):
    m = motion(15)  # 0.6 s
    audio = tone(tmp_path / "a.wav", audio_s)
    out = render_video(m, tmp_path / "o.mp4", audio_path=audio, size=64, progress=False)
    s = probe(out)
    assert s["video"]["codec_name"] == "h264" and s["video"]["pix_fmt"] == "yuv420p"
    assert (s["video"]["width"], s["video"]["height"]) == (64, 64)
    assert int(s["video"]["nb_frames"]) == 15
    assert s["audio"]["codec_name"] == "aac"
    assert abs(float(s["audio"]["duration"]) - 0.6) <= 1.0 / FPS
    assert abs(float(s["video"]["duration"]) - 0.6) <= 1.0 / FPS
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


@pytest.mark.gl
def test_video_without_audio(tmp_path):
    out = render_video(motion(5), tmp_path / "o.mp4", size=64, progress=False)
    s = probe(out)
    assert "audio" not in s and int(s["video"]["nb_frames"]) == 5


@pytest.mark.gl
def test_grid_side_by_side_with_labels(tmp_path):
    a, b = motion(6), motion(4)  # the shorter one holds its last frame
    out = render_grid([a, b], tmp_path / "g.mp4", labels=["GT", "model"], size=64, progress=False)
    s = probe(out)
    assert s["video"]["width"] == 128 and s["video"]["height"] > 64
    assert int(s["video"]["nb_frames"]) == 6
    with pytest.raises(RenderError, match="labels"):
        render_grid([a, b], tmp_path / "h.mp4", labels=["only one"], size=64, progress=False)
    assert not (tmp_path / "h.mp4").exists()


def test_bad_audio_writes_nothing(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all" * 10)
    with pytest.raises(AudioError):
        render_video(motion(3), tmp_path / "o.mp4", audio_path=bad, size=64, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.wav"]


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 63}, "even"),
    ({"camera": "top-down"}, "unknown camera"),
    ({"head": "robot"}, "unknown head"),
])
def test_bad_settings_raise_before_writing(tmp_path, kwargs, match):
    with pytest.raises(RenderError, match=match):
        render_video(motion(3), tmp_path / "o.mp4", progress=False, **{"size": 64, **kwargs})
    assert list(tmp_path.iterdir()) == []


def test_output_must_be_mp4(tmp_path):
    with pytest.raises(RenderError, match="mp4"):
        render_video(motion(3), tmp_path / "o.avi", size=64, progress=False)
