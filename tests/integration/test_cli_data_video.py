"""`stygaze data import-video` end to end through the real CLI, on videos the tests make.

The procedural head is rendered with known head and eye motion (EGL/OSMesa, headless) and
muxed with a tone; MediaPipe finds that stylised face, so the recovered head angles are
compared with the ones it was rendered with. A second video shows two heads (a near one
and a far one) to check that the larger face is kept and that the output says so.
"""

import importlib.util
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from stygaze.audio import save_audio
from stygaze.motion import Motion

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None or shutil.which("ffmpeg") is None, reason="needs ffmpeg")
needs_mediapipe = pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None, reason="needs mediapipe (pip install 'stygaze[video]')")

FPS = 25


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "stygaze", "data", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def one_error_line(proc):
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("stygaze: error:"), proc.stderr
    return lines[0]


def corr(a, b):
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def tone(path, seconds, sr=16000):
    t = np.arange(int(round(seconds * sr))) / sr
    save_audio(path, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    return path


def known_motion(T, sign=1.0):
    t = np.arange(T) / FPS
    d = np.zeros((T, 7), np.float32)
    d[:, 0] = 7 * np.sin(2 * np.pi * 0.6 * t)
    d[:, 1] = sign * 15 * np.sin(2 * np.pi * 0.45 * t + 1)
    d[:, 2] = 8 * np.sin(2 * np.pi * 0.35 * t + 2)
    d[:, [4, 6]] = (12 * np.sin(2 * np.pi * 0.8 * t))[:, None]
    return Motion(d)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    from stygaze.render.config import CameraConfig, RenderConfig
    from stygaze.render.video import FFmpegWriter, render_frames, render_video

    d = tmp_path_factory.mktemp("video_import")
    talk = known_motion(75)
    fast = {"size": 256, "msaa": False}  # no anti-aliasing: twice as fast on a CPU rasteriser
    render_video(talk, d / "talk.mp4", audio_path=tone(d / "talk.wav", 3.0), config=RenderConfig(**fast), progress=False)
    # two people: a far one (left) and a near one (right) that turns the other way
    T = 30
    near, far = known_motion(T), known_motion(T, sign=-1.0)
    a = render_frames(near, config=RenderConfig(**fast, camera=CameraConfig(distance=0.5)))
    b = render_frames(far, config=RenderConfig(**fast, camera=CameraConfig(distance=0.9)))
    writer = FFmpegWriter(d / "two.mp4", 512, 256, FPS, audio_path=tone(d / "two.wav", T / FPS), num_frames=T)
    for frame in np.concatenate([b, a], axis=2):
        writer.write(frame)
    writer.close()
    return {"dir": d, "talk": talk, "near": near, "far": far}


@needs_mediapipe
def test_import_recovers_the_rendered_head_motion(videos, tmp_path):
    corpus = tmp_path / "corpus"
    proc = run("import-video", videos["dir"] / "talk.mp4", "--out", corpus)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and "face in 100.0 %" in proc.stdout and "splits.json: drawn" in proc.stdout
    # no MediaPipe/TFLite chatter: only our own warnings (these rendered eyes are small)
    assert all(ln.startswith("stygaze: warning:") for ln in proc.stderr.splitlines() if ln.strip()), proc.stderr
    session = corpus / "talk"
    assert sorted(p.name for p in session.iterdir()) == ["audio.wav", "import.json", "motion.npz"]
    meta = json.loads((session / "import.json").read_text())
    assert meta["quality"]["face_share"] == 1.0 and meta["quality"]["video_frames"] == 75
    assert 10 < meta["quality"]["eye_width_px"] < 40
    m = Motion.load(session / "motion.npz")
    truth = videos["talk"].data
    assert m.fps == FPS and abs(len(m) - len(truth)) <= 1 and m.blink is not None
    # the rendered head motion comes back (stylised face: amplitudes are not exact, shape is)
    assert corr(m.data[:, 1], truth[:, 1]) > 0.95  # yaw
    assert corr(m.data[:, 2], truth[:, 2]) > 0.95  # roll
    assert corr(m.data[:, 0], truth[:, 0]) > 0.9  # pitch
    assert corr(m.data[:, 4], truth[:, 4]) > 0.6 and corr(m.data[:, 6], truth[:, 6]) > 0.6  # eye yaw
    rms = np.sqrt(np.nanmean((m.data[: len(truth), 1:3] - truth[: len(m), 1:3]) ** 2, axis=0))
    assert np.all(rms < 4.0), rms  # yaw and roll within a few degrees
    check = run("check", corpus)
    assert check.returncode == 0, check.stdout + check.stderr
    # importing the same video again would overwrite the session: refused, nothing changed
    again = run("import-video", videos["dir"] / "talk.mp4", "--out", corpus)
    assert "already exists" in one_error_line(again)


@needs_mediapipe
def test_folder_import_keeps_the_largest_face_and_reports_failures(videos, tmp_path):
    src = tmp_path / "videos"
    src.mkdir()
    shutil.copy(videos["dir"] / "two.mp4", src / "two.mp4")
    shutil.copy(videos["dir"] / "two.wav", src / "broken.mp4")  # an audio file named like a video
    corpus = tmp_path / "corpus"
    proc = run("import-video", src, "--out", corpus)
    assert proc.returncode == 1, proc.stderr
    assert "stygaze: failed:" in proc.stderr and "broken.mp4" in proc.stderr and "no video stream" in proc.stderr
    assert "several faces in 30 frames: kept the largest, most central one" in proc.stdout
    assert [p.name for p in corpus.iterdir() if p.is_dir()] == ["two"]
    assert json.loads((corpus / "splits.json").read_text())["train"] == ["two"]
    m = Motion.load(corpus / "two" / "motion.npz")
    assert corr(m.data[:, 1], videos["near"].data[:, 1]) > 0.9  # the near head, which turns one way ...
    assert corr(m.data[:, 1], videos["far"].data[:, 1]) < -0.9  # ... not the far one, which turns the other


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_videos")

    def ff(*args):
        subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True)

    ff("-f", "lavfi", "-i", "color=c=gray:size=96x64:rate=25", "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=16000",
       "-t", "1.0", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", d / "noface.mp4")
    ff("-i", d / "noface.mp4", "-an", "-c", "copy", d / "silent.mp4")
    ff("-i", d / "noface.mp4", "-vn", "-ac", "1", d / "speech.wav")
    shutil.copy(d / "speech.wav", d / "renamed.mp4")
    (d / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    return d


@pytest.mark.parametrize("name, message", [
    ("renamed.mp4", "no video stream"),
    ("silent.mp4", "no audio track"),
    ("corrupt.mp4", "cannot read"),
    pytest.param("noface.mp4", "no face found", marks=needs_mediapipe),
])
def test_bad_video_is_one_error_line_and_writes_nothing(bad, tmp_path, name, message):
    corpus = tmp_path / "corpus"
    line = one_error_line(run("import-video", bad / name, "--out", corpus))
    assert message in line and name in line
    assert not corpus.exists()


def test_usage_errors(bad, tmp_path):
    assert "--audio goes with one VIDEO" in one_error_line(run("import-video", bad, "--audio", bad / "speech.wav", "--out", tmp_path / "c"))
    assert "--max-faces" in one_error_line(run("import-video", bad / "noface.mp4", "--max-faces", "0", "--out", tmp_path / "c"))
    assert "one of the inputs" in one_error_line(run("import-video", bad, "--out", bad))
    assert not (tmp_path / "c").exists()
