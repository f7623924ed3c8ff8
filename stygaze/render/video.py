"""Frames and videos: motion → ``(T, H, W, 3)`` images → H.264 mp4 with the speech.

* :func:`render_frames` returns the frames as an array (tests, recogniser training data).
* :func:`render_video` streams frames through a pipe into ``ffmpeg`` (H.264, yuv420p) and
  muxes the audio re-encoded to AAC, cut or padded to the video's length so both stay in
  sync; the mp4 is written to a temporary file and renamed when complete.
* :func:`render_grid` renders several motions side by side with labels (ground truth vs
  models, as in StyGazeTalk's Fig. 4).

The system ``ffmpeg`` is used when present, otherwise the binary of ``imageio-ffmpeg``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from stygaze.audio import read_audio
from stygaze.errors import AudioError
from stygaze.io import atomic_path
from stygaze.io import find_ffmpeg as find_ffmpeg_binary
from stygaze.locking import held, remove_dead_temporaries
from stygaze.motion import Motion
from stygaze.render.backend import SceneRenderer
from stygaze.render.config import RenderConfig, RenderError, camera_preset
from stygaze.render.flame import FlameHead
from stygaze.render.heads import FrameGeometry, HeadModel, ProceduralHead

log = logging.getLogger(__name__)

HEADS = ("procedural", "flame")
"""Head model names accepted by ``head=`` and ``--head``."""

MotionLike = Motion | str | os.PathLike


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------
def as_motion(motion: MotionLike) -> Motion:
    """A :class:`Motion` from a Motion or a path to a motion ``.npz`` (validated)."""
    if isinstance(motion, Motion):
        return motion
    return Motion.load(motion)


def make_head(
    head: str | HeadModel = "procedural",
    *,
    flame_model: str | os.PathLike | None = None,
    config: RenderConfig | None = None,
) -> HeadModel:
    """Build a head model by name (``procedural`` or ``flame``), or pass one through.

    Raises:
        RenderError: unknown name.
        stygaze.render.flame.FlameModelError: ``flame`` without a usable model path.
    """
    if isinstance(head, HeadModel):
        return head
    name = str(head).strip().lower()
    config = config or RenderConfig()
    if name == "procedural":
        # fewer triangles for smaller images: no visible difference, and on a CPU
        # rasteriser the triangle count sets much of the cost (256²: 50k → 28k triangles)
        px = config.size * config.supersample
        detail = 1.0 if px >= 400 else 0.75 if px >= 160 else 0.6
        return ProceduralHead(colors=config.colors, detail=detail)
    if name == "flame":
        return FlameHead(flame_model, colors=config.colors)
    raise RenderError(f"unknown head {head!r}: choose one of {', '.join(HEADS)}")


def _config(size: int | None, camera, config: RenderConfig | None, default_size: int = 256) -> RenderConfig:
    """``config`` (copied) with ``size``/``camera`` applied when given; defaults otherwise."""
    cfg = replace(config) if config is not None else RenderConfig(size=default_size)
    if size is not None:
        cfg.size = size
    if camera is not None:
        cfg.camera = camera_preset(camera) if isinstance(camera, str) else camera
    cfg.__post_init__()
    return cfg


def _progress(total: int, enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="frame", file=sys.stderr, disable=not enabled or not sys.stderr.isatty())


# --------------------------------------------------------------------------------------
# frames
# --------------------------------------------------------------------------------------
def iter_frames(
    motion: MotionLike,
    *,
    size: int | None = None,
    head: str | HeadModel = "procedural",
    camera=None,
    flame_model=None,
    config: RenderConfig | None = None,
) -> Iterator[np.ndarray]:
    """Yield ``(size, size, 3)`` uint8 frames of ``motion`` one by one (one GL context)."""
    motion = as_motion(motion)
    cfg = _config(size, camera, config)
    model = make_head(head, flame_model=flame_model, config=cfg)
    with SceneRenderer(model, cfg) as renderer:
        for geom in model.frames(motion):
            yield renderer.render(geom)


def render_frames(
    motion: MotionLike,
    *,
    size: int | None = None,
    head: str | HeadModel = "procedural",
    camera=None,
    flame_model=None,
    config: RenderConfig | None = None,
) -> np.ndarray:
    """Render every frame of ``motion`` into memory.

    Args:
        motion: a :class:`Motion` or a path to a motion ``.npz``.
        size: image width = height in pixels (default: ``config.size``, else 256).
        head: ``"procedural"`` (default), ``"flame"`` or a :class:`HeadModel`.
        camera: preset name (``front``, ``three-quarter``) or a ``CameraConfig``;
            None keeps ``config.camera`` (front by default).
        flame_model: FLAME model path for ``head="flame"`` (else ``$STYGAZE_FLAME_MODEL``).
        config: camera / light / colour settings (:class:`RenderConfig`).

    Returns:
        ``(T, size, size, 3)`` uint8 RGB.
    """
    frames = list(iter_frames(motion, size=size, head=head, camera=camera, flame_model=flame_model, config=config))
    return np.stack(frames)


# --------------------------------------------------------------------------------------
# ffmpeg
# --------------------------------------------------------------------------------------
def find_ffmpeg() -> str:
    """Path of an ffmpeg binary: the system one, else imageio-ffmpeg's.

    Raises:
        RenderError: neither exists.
    """
    exe = find_ffmpeg_binary()
    if exe is None:
        raise RenderError("no ffmpeg found: install ffmpeg (apt-get install ffmpeg) or `pip install imageio-ffmpeg`")
    return exe


class FFmpegWriter:
    """Stream RGB frames into an H.264 yuv420p mp4, optionally muxing AAC audio.

    Args:
        path: output file (normally a temporary path, renamed by the caller).
        width, height: frame size in pixels (even numbers).
        fps: frames per second.
        audio_path: audio to mux (any format ffmpeg reads), re-encoded to AAC and cut or
            padded with silence to the video's duration ``num_frames / fps``.
        num_frames: the number of frames that will be written (sets the duration).
    """

    def __init__(self, path, width: int, height: int, fps: float, *, audio_path=None, num_frames: int | None = None, crf: int = 18):
        if width % 2 or height % 2:
            raise RenderError(f"H.264 yuv420p needs even frame sizes, got {width}x{height}")
        self.path = Path(path)
        self.size = (height, width)
        self._log = tempfile.TemporaryFile()
        cmd = [find_ffmpeg(), "-y", "-v", "error", "-nostdin"]
        cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", "pipe:0"]
        if audio_path is not None:
            cmd += ["-i", str(audio_path), "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "160k", "-af", "apad"]
            if num_frames is not None:
                cmd += ["-t", f"{num_frames / fps:.6f}"]
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p"]
        cmd += ["-movflags", "+faststart", "-f", "mp4", str(self.path)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)

    def write(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3)`` uint8 frame."""
        if frame.shape[:2] != self.size:
            raise ValueError(f"frame of shape {frame.shape} does not match the video size {self.size}")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        except BrokenPipeError:
            self._proc.wait()
            raise RenderError(f"ffmpeg stopped while encoding: {self._error()}") from None

    def _error(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {self._proc.returncode}"

    def close(self) -> None:
        """Finish the file; raises :class:`RenderError` when ffmpeg failed."""
        try:
            if self._proc.stdin and not self._proc.stdin.closed:
                self._proc.stdin.close()
        except BrokenPipeError:
            pass
        rc = self._proc.wait()
        try:
            if rc != 0:
                raise RenderError(f"ffmpeg failed: {self._error()}")
        finally:
            self._log.close()

    def abort(self) -> None:
        """Stop ffmpeg without finishing the file."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._log.close()


def _check_audio(audio_path) -> float:
    """Validate an audio file and return its duration in seconds (raises AudioError).

    Reads only the header when libsndfile knows the format (long files stay cheap);
    anything else is decoded once with :func:`stygaze.audio.read_audio`.
    """
    path = Path(audio_path)
    if path.is_file() and path.stat().st_size > 0:
        try:
            import soundfile

            info = soundfile.info(str(path))
            if info.frames > 0 and info.samplerate > 0:
                return info.frames / info.samplerate
        except Exception:  # not a libsndfile format (mp3 in old versions, m4a, ...): decode below
            pass
    samples, sr = read_audio(audio_path)
    if len(samples) == 0:
        raise AudioError(f"audio file has no samples: {audio_path}")
    return len(samples) / sr


def _check_out(out_path) -> Path:
    out = Path(out_path)
    if out.suffix.lower() != ".mp4":
        raise RenderError(f"output must be an .mp4 file, got {out}")
    if out.is_dir():
        raise RenderError(f"output path is a directory: {out}")
    return out


def _write_video(out: Path, frames: Iterable[np.ndarray], n: int, width: int, height: int, fps: float, audio_path, progress: bool, desc: str) -> Path:

    remove_dead_temporaries(out)  # a render killed mid-write (SIGKILL) left its .<name>.*.part.mp4
    with atomic_path(out) as tmp, held(tmp):
        writer = FFmpegWriter(tmp, width, height, fps, audio_path=audio_path, num_frames=n)
        try:
            with _progress(n, progress, desc) as bar:
                for frame in frames:
                    writer.write(frame)
                    bar.update(1)
        except BaseException:
            writer.abort()
            raise
        writer.close()
    return out


def render_video(
    motion: MotionLike,
    out_path: str | os.PathLike,
    *,
    audio_path: str | os.PathLike | None = None,
    size: int | None = None,
    head: str | HeadModel = "procedural",
    camera=None,
    flame_model: str | os.PathLike | None = None,
    progress: bool = True,
    config: RenderConfig | None = None,
) -> Path:
    """Render ``motion`` to an H.264 mp4 at the motion's frame rate, with audio if given.

    Args:
        motion: a :class:`Motion` or a path to a motion ``.npz``.
        out_path: the ``.mp4`` to write (atomically: a temporary file renamed at the end; the
            hidden ``.<name>.*.part.mp4`` of a render killed mid-write is removed by the next render
            to the same path).
        audio_path: speech to mux (re-encoded to AAC, cut/padded to the video length).
        size: frame width = height in pixels, even (default: ``config.size``, else 512).
        head: ``"procedural"`` (built in), ``"flame"`` or a :class:`HeadModel`.
        camera: ``"front"``, ``"three-quarter"`` or a ``CameraConfig`` (default:
            ``config.camera``, else front).
        flame_model: FLAME model path for ``head="flame"`` (else ``$STYGAZE_FLAME_MODEL``).
        progress: show a progress bar on stderr (when it is a terminal).
        config: full :class:`RenderConfig` (lights, colours); ``size``/``camera`` override it.

    Returns:
        the path written.

    Raises:
        MotionFormatError, AudioError, RenderError, FlameModelError: bad input; nothing
        is written then.
    """
    out = _check_out(out_path)
    motion = as_motion(motion)
    cfg = _config(size, camera, config, default_size=512)
    if cfg.size % 2:
        raise RenderError(f"video size must be even for H.264 yuv420p, got {cfg.size}")
    if audio_path is not None:
        audio_s = _check_audio(audio_path)
        if abs(audio_s - motion.duration) > 1.0 / motion.fps:
            log.warning("audio lasts %.2f s, motion %.2f s: the audio is cut/padded to the motion", audio_s, motion.duration)
    find_ffmpeg()
    model = make_head(head, flame_model=flame_model, config=cfg)
    with SceneRenderer(model, cfg) as renderer:
        frames = (renderer.render(g) for g in model.frames(motion))
        return _write_video(out, frames, len(motion), cfg.size, cfg.size, motion.fps, audio_path, progress, "render")


# --------------------------------------------------------------------------------------
# grid
# --------------------------------------------------------------------------------------
def _label_strip(labels: Sequence[str], cell: int, height: int, config: RenderConfig) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    bg = tuple(int(round(255 * c)) for c in config.colors.background)
    img = Image.new("RGB", (cell * len(labels), height), bg)
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.load_default(size=max(8, int(height * 0.6)))
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    for i, text in enumerate(labels):
        box = draw.textbbox((0, 0), text, font=font)
        w, h = box[2] - box[0], box[3] - box[1]
        draw.text((i * cell + (cell - w) / 2 - box[0], (height - h) / 2 - box[1]), text, fill=(30, 30, 35), font=font)
    return np.asarray(img, dtype=np.uint8)


def render_grid(
    motions: Sequence[MotionLike],
    out_path: str | os.PathLike,
    *,
    labels: Sequence[str] | None = None,
    audio_path: str | os.PathLike | None = None,
    size: int | None = None,
    head: str | HeadModel = "procedural",
    camera=None,
    flame_model: str | os.PathLike | None = None,
    progress: bool = True,
    config: RenderConfig | None = None,
) -> Path:
    """Render several motions side by side (one column each) with a label above each.

    All motions are brought to the first one's frame rate; the video lasts as long as the
    longest, shorter ones hold their last frame. Arguments as in :func:`render_video`
    (``size`` is per cell, default ``config.size``, else 384).

    Raises:
        RenderError: labels do not match the motions; plus those of :func:`render_video`.
    """
    out = _check_out(out_path)
    if not motions:
        raise RenderError("no motion files to render")
    loaded = [as_motion(m) for m in motions]
    if labels is None:
        labels = [Path(m).stem if not isinstance(m, Motion) else f"motion {i + 1}" for i, m in enumerate(motions)]
    labels = [str(x) for x in labels]
    if len(labels) != len(loaded):
        raise RenderError(f"got {len(labels)} labels for {len(loaded)} motions: give one label per motion")
    fps = loaded[0].fps
    loaded = [m if abs(m.fps - fps) < 1e-9 else m.resample(fps) for m in loaded]
    n = max(len(m) for m in loaded)
    if len({len(m) for m in loaded}) > 1:
        log.warning("motions have different lengths (%s frames): shorter ones hold their last frame", sorted({len(m) for m in loaded}))
    cfg = _config(size, camera, config, default_size=384)
    if cfg.size % 2:
        raise RenderError(f"video size must be even for H.264 yuv420p, got {cfg.size}")
    if audio_path is not None:
        _check_audio(audio_path)
    find_ffmpeg()
    model = make_head(head, flame_model=flame_model, config=cfg)
    strip_h = max(16, (cfg.size // 10) // 2 * 2)
    strip = _label_strip(labels, cfg.size, strip_h, cfg)

    def frames(renderer) -> Iterator[np.ndarray]:
        iters = [model.frames(m) for m in loaded]
        last: list[FrameGeometry | None] = [None] * len(iters)
        for _ in range(n):
            cells = []
            for k, it in enumerate(iters):
                geom = next(it, None)
                if geom is not None:
                    last[k] = geom
                cells.append(renderer.render(last[k]))
            yield np.concatenate([strip, np.concatenate(cells, axis=1)], axis=0)

    with SceneRenderer(model, cfg) as renderer:
        return _write_video(
            out, frames(renderer), n, cfg.size * len(loaded), cfg.size + strip_h, fps, audio_path, progress, "render grid"
        )
