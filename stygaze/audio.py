"""Audio loading and the constants every part of stygaze shares.

``SAMPLE_RATE`` (16 kHz mono, the rate Wav2Vec2 and the mel encoder expect) and ``FPS``
(25 motion frames per second) are defined here and nowhere else. ``HOP`` is the number of
audio samples per motion frame.

:func:`load_audio` reads wav/flac/ogg/mp3 (libsndfile through ``soundfile``; anything it
cannot open is decoded by the system ``ffmpeg`` when present), mixes to mono, resamples to
``SAMPLE_RATE`` (libsoxr, :func:`resample`) and, by default, normalises the clip to zero mean and unit variance
(per-clip normalisation as in DiffPoseTalk / the Wav2Vec2 feature extractor).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np

from stygaze.errors import AudioError
from stygaze.inputs import require_regular_file
from stygaze.io import atomic_path, find_ffmpeg
from stygaze.limits import MAX_AUDIO_SECONDS

SAMPLE_RATE: int = 16_000
"""Audio sample rate (Hz) of every waveform inside stygaze."""

FPS: int = 25
"""Motion frame rate (frames per second) of every :class:`~stygaze.motion.Motion`."""

HOP: int = SAMPLE_RATE // FPS
"""Audio samples per motion frame (640)."""

SILENCE_RMS: float = 1e-4
"""RMS (full scale = 1.0) under which a clip counts as silent."""


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    info = sf.info(str(path))
    if info.samplerate > 0 and info.frames / info.samplerate > MAX_AUDIO_SECONDS:
        raise AudioError(f"{path}: audio is {info.frames / info.samplerate / 3600:.1f} h long, "
                         f"more than the limit of {MAX_AUDIO_SECONDS / 3600:g} h")
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (S, C)
    return data, int(sr)


def _read_ffmpeg(path: Path) -> tuple[np.ndarray, int]:
    """Decode anything ffmpeg understands to float32 at its native channel count and rate."""
    ffmpeg = find_ffmpeg()
    if ffmpeg is None:
        raise AudioError(f"cannot decode {path}: not a format libsndfile reads, and no ffmpeg found")
    cmd = [ffmpeg, "-v", "error", "-nostdin", "-i", str(path), "-ac", "1", "-ar", str(SAMPLE_RATE),
           "-t", str(MAX_AUDIO_SECONDS + 1), "-f", "f32le", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError(f"cannot decode {path}: {reason[-1] if reason else 'ffmpeg failed'}")
    data = np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)
    if data.size > MAX_AUDIO_SECONDS * SAMPLE_RATE:
        raise AudioError(f"{path}: audio is longer than the limit of {MAX_AUDIO_SECONDS / 3600:g} h")
    return data[:, None], SAMPLE_RATE


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read an audio file as it is stored.

    Returns:
        ``(samples, sr)`` with ``samples`` float32 ``(S, C)`` in [-1, 1] and ``sr`` in Hz.

    Raises:
        AudioError: missing, unreadable or corrupt file.
    """
    path = Path(path)
    if path.is_dir():
        raise AudioError(f"expected an audio file, got a directory: {path}")
    require_regular_file(path, "audio file", AudioError)  # a FIFO would block, a symlink loop is not "missing"
    if path.stat().st_size == 0:
        raise AudioError(f"audio file is empty (0 bytes): {path}")
    try:
        return _read_soundfile(path)
    except AudioError:
        raise
    except Exception as sf_exc:  # libsndfile does not know the format: try ffmpeg
        try:
            return _read_ffmpeg(path)
        except AudioError as ff_exc:
            raise AudioError(f"cannot read audio {path}: {sf_exc}".splitlines()[0]) from ff_exc


def prepare_audio(
    samples: np.ndarray,
    sr: int,
    *,
    normalize: bool = True,
    min_seconds: float = 0.0,
    name: str = "audio",
) -> np.ndarray:
    """Turn a waveform into stygaze's canonical form.

    Args:
        samples: ``(S,)`` mono or ``(S, C)`` multi-channel, any float/int dtype. Integer
            PCM is scaled to [-1, 1].
        sr: sample rate of ``samples`` in Hz.
        normalize: per-clip zero mean / unit variance (silent clips are left at zero
            rather than amplified).
        min_seconds: refuse clips shorter than this.
        name: how the error messages call the clip (usually its path).

    Returns:
        ``(S',)`` float32 at :data:`SAMPLE_RATE`.

    Raises:
        AudioError: zero length, non-finite samples, bad shape or rate, too short.
    """
    samples = np.asarray(samples)
    if samples.ndim == 2 and samples.shape[0] < samples.shape[1] and samples.shape[0] <= 8:
        samples = samples.T  # (C, S) -> (S, C): a channel-first array such as librosa's
    if samples.ndim not in (1, 2):
        raise AudioError(f"{name}: expected (samples,) or (samples, channels), got shape {samples.shape}")
    if not (isinstance(sr, (int, np.integer)) or float(sr).is_integer()) or sr <= 0:
        raise AudioError(f"{name}: sample rate must be a positive integer, got {sr!r}")
    sr = int(sr)
    if np.issubdtype(samples.dtype, np.integer):
        samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max)
    samples = samples.astype(np.float32, copy=False)
    if samples.size == 0:  # also (0, C) files, which the channel-first check above turns into (C, 0)
        raise AudioError(f"{name}: audio has zero length")
    if samples.shape[0] / sr > MAX_AUDIO_SECONDS:
        raise AudioError(f"{name}: audio is longer than the limit of {MAX_AUDIO_SECONDS / 3600:g} h")
    if not np.all(np.isfinite(samples)):
        raise AudioError(f"{name}: audio contains NaN or infinite samples")
    if samples.ndim == 2:
        samples = samples.mean(axis=1)  # mono mix
    if sr != SAMPLE_RATE:
        samples = resample(samples, sr, SAMPLE_RATE)
    seconds = samples.shape[0] / SAMPLE_RATE
    if seconds < min_seconds:
        raise AudioError(f"{name}: audio is {seconds:.2f} s long, at least {min_seconds:g} s is needed")
    if normalize:
        samples = normalize_audio(samples)
    return samples


def resample(samples: np.ndarray, sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling of a mono waveform with libsoxr ("HQ" quality).

    The same computation as ``librosa.resample(samples, orig_sr=sr, target_sr=target_sr,
    res_type="soxr_hq")`` (tested bit-equal), without importing librosa and scipy.signal
    (seconds at start-up): the output has ``ceil(S · target_sr / sr)`` samples.

    Args:
        samples: ``(S,)`` float waveform.
        sr: its rate in Hz.
        target_sr: the rate wanted in Hz.

    Returns:
        ``(ceil(S · target_sr / sr),)`` float32.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if sr == target_sr:
        return samples
    import soxr  # a light compiled extension, only needed off the 16 kHz path

    out = soxr.resample(samples, sr, target_sr, quality="soxr_hq")
    n = int(np.ceil(samples.shape[0] * float(target_sr) / sr))
    if out.shape[0] < n:
        out = np.pad(out, (0, n - out.shape[0]))
    return np.asarray(out[:n], dtype=np.float32)


def normalize_audio(samples: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance; a silent clip (RMS < :data:`SILENCE_RMS`) becomes zeros."""
    samples = samples - samples.mean()
    std = float(samples.std())
    if std < SILENCE_RMS:
        return np.zeros_like(samples, dtype=np.float32)
    return (samples / std).astype(np.float32)


def is_silent(samples: np.ndarray) -> bool:
    """True when the clip's RMS is under :data:`SILENCE_RMS` (after mean removal)."""
    samples = np.asarray(samples, dtype=np.float64)
    return samples.size == 0 or float(np.sqrt(np.mean((samples - samples.mean()) ** 2))) < SILENCE_RMS


def load_audio(path: str | os.PathLike, *, normalize: bool = True, min_seconds: float = 0.0) -> np.ndarray:
    """Load an audio file as 16 kHz mono float32.

    Args:
        path: wav, flac, ogg, mp3 (or anything the system ffmpeg decodes).
        normalize: per-clip zero mean / unit variance (see :func:`prepare_audio`).
        min_seconds: refuse clips shorter than this.

    Returns:
        ``(S,)`` float32 at :data:`SAMPLE_RATE`.

    Raises:
        AudioError: with a one-line reason for any unreadable or unusable file.
    """
    samples, sr = read_audio(path)
    return prepare_audio(samples, sr, normalize=normalize, min_seconds=min_seconds, name=str(path))


def num_frames(num_samples: int, sr: int = SAMPLE_RATE) -> int:
    """Motion frames (at :data:`FPS`) covering ``num_samples`` audio samples: ``round(S/sr*FPS)``."""
    return int(round(num_samples * FPS / sr))


def save_audio(path: str | os.PathLike, samples: np.ndarray, sr: int = SAMPLE_RATE) -> None:
    """Write a mono float waveform as 16-bit PCM wav, atomically."""
    import soundfile as sf

    samples = np.asarray(samples, dtype=np.float32)
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak > 1.0:
        samples = samples / peak
    with atomic_path(path) as tmp:
        sf.write(str(tmp), samples, sr, subtype="PCM_16", format="WAV")
