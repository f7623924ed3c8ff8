"""Speech for the SynHAGE corpus: espeak-ng conversations, or the user's own recordings.

:func:`synth_conversation` builds one session's audio with a turn structure: speaking turns
(1–4 sentences from :mod:`stygaze.data.synhage.textbank`, with sentence pauses) alternate with
listening turns (silence over a low room-noise floor). One :class:`Speaker` (language,
voice, variant, speed, pitch, loudness) is drawn per session, so the voice stays the same
within a session. :func:`load_session_audio` instead cuts a session from a directory of the
user's own audio files (one file per session, so the speaker stays the same too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from stygaze.audio import SAMPLE_RATE, is_silent, load_audio
from stygaze.data.synhage.textbank import LANGUAGE_WEIGHTS, TEXTS, VOICES
from stygaze.errors import AudioError, DataError

ESPEAK_RATE = 22050
"""espeak-ng's output sample rate (Hz)."""

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
"""Files ``--audio-dir`` picks up."""

_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")


@dataclass(frozen=True)
class Speaker:
    """One session's synthetic voice (espeak-ng settings).

    Attributes:
        language: text-bank language code.
        voice: espeak-ng voice (e.g. ``en-gb``).
        variant: espeak-ng variant (``m1``…``m7``, ``f1``…``f5``).
        words_per_minute: speaking rate (``-s``), 130–185.
        pitch: base pitch 0–99 (``-p``), 30–70.
        amplitude: loudness (``-a``), 90–170.
        word_gap: extra pause between words in 10 ms units (``-g``), 0–2.
        speaking_fraction: target share of the session spent speaking (0.55–0.8).
    """

    language: str
    voice: str
    variant: str
    words_per_minute: int
    pitch: int
    amplitude: int
    word_gap: int
    speaking_fraction: float

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Speaker:
        langs = sorted(LANGUAGE_WEIGHTS)
        p = np.array([LANGUAGE_WEIGHTS[k] for k in langs])
        lang = langs[int(rng.choice(len(langs), p=p / p.sum()))]
        voices = VOICES[lang]
        return cls(
            language=lang,
            voice=voices[int(rng.integers(len(voices)))],
            variant=_VARIANTS[int(rng.integers(len(_VARIANTS)))],
            words_per_minute=int(rng.integers(130, 186)),
            pitch=int(rng.integers(30, 71)),
            amplitude=int(rng.integers(90, 171)),
            word_gap=int(rng.integers(0, 3)),
            speaking_fraction=float(rng.uniform(0.55, 0.8)),
        )

    def to_dict(self) -> dict:
        return asdict(self)


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def tts(text: str, speaker: Speaker) -> np.ndarray:
    """Speak ``text`` with espeak-ng; returns ``(S,)`` float32 at 16 kHz in [-1, 1].

    Raises:
        DataError: espeak-ng is not installed or fails.
    """
    from scipy.signal import resample_poly

    exe = shutil.which("espeak-ng")
    if exe is None:
        raise DataError("espeak-ng not found: install it (apt-get install espeak-ng) or pass --audio-dir with your own wav files")
    cmd = [
        exe, "--stdout", "-v", f"{speaker.voice}+{speaker.variant}", "-s", str(speaker.words_per_minute),
        "-p", str(speaker.pitch), "-a", str(speaker.amplitude), "-g", str(speaker.word_gap), text,
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0 or len(proc.stdout) < 44:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise DataError(f"espeak-ng failed for voice {speaker.voice}: {msg[-1] if msg else 'no output'}")
    raw = proc.stdout
    # espeak-ng writes a RIFF header whose sizes are unset when streaming: skip to 'data'
    pos = raw.find(b"data")
    pcm = np.frombuffer(raw[pos + 8 :] if pos >= 0 else raw[44:], dtype="<i2")
    x = pcm.astype(np.float32) / 32768.0
    return resample_poly(x, 320, 441).astype(np.float32)  # 22050 -> 16000 Hz


@dataclass
class Conversation:
    """A synthesized session's audio and its turn structure.

    Attributes:
        audio: ``(S,)`` float32 16 kHz in [-1, 1].
        speaker: the session's :class:`Speaker`.
        turns: ``[(kind, start_s, end_s)]`` with kind ``"speaking"`` or ``"listening"``.
        sentences: ``[(start_s, end_s, text)]``.
    """

    audio: np.ndarray
    speaker: Speaker
    turns: list[tuple[str, float, float]]
    sentences: list[tuple[float, float, str]]


def synth_conversation(seconds: float, rng: np.random.Generator, speaker: Speaker | None = None) -> Conversation:
    """One session of espeak-ng speech with speaking and listening turns, ``seconds`` long.

    Speaking turns hold 1–4 sentences separated by 0.15–0.9 s pauses; listening turns
    (1.5–8 s, sized so that about ``speaking_fraction`` of the time is speech) are room noise (≈ −60 dBFS). The session starts with a short silence.
    """
    if seconds <= 0:
        raise DataError(f"session length must be positive, got {seconds} s")
    speaker = speaker or Speaker.sample(rng)
    bank = TEXTS[speaker.language]
    total = int(round(seconds * SAMPLE_RATE))
    parts: list[np.ndarray] = []
    turns: list[tuple[str, float, float]] = []
    sentences: list[tuple[float, float, str]] = []
    pos = 0

    def silence(sec: float) -> None:
        nonlocal pos
        n = int(sec * SAMPLE_RATE)
        parts.append(np.zeros(n, np.float32))
        pos += n

    silence(rng.uniform(0.3, 1.0))
    last_turn = 0.0
    speak = False
    while pos < total:
        speak = not speak  # turns alternate: speaking, listening, speaking, ...
        start = pos / SAMPLE_RATE
        if speak:
            for j in range(int(rng.integers(1, 5))):
                if j:
                    silence(rng.uniform(0.15, 0.9))
                text = bank[int(rng.integers(len(bank)))]
                x = tts(text, speaker)
                a = pos / SAMPLE_RATE
                parts.append(x)
                pos += len(x)
                sentences.append((round(a, 3), round(pos / SAMPLE_RATE, 3), text))
                if pos >= total:
                    break
            turns.append(("speaking", round(start, 3), round(min(pos, total) / SAMPLE_RATE, 3)))
            last_turn = pos / SAMPLE_RATE - start
        else:
            f = speaker.speaking_fraction
            silence(float(np.clip(last_turn * (1 - f) / f * rng.uniform(0.6, 1.4), 1.5, 8.0)))
            turns.append(("listening", round(start, 3), round(min(pos, total) / SAMPLE_RATE, 3)))
    audio = np.concatenate(parts)[:total]
    if len(audio) < total:
        audio = np.pad(audio, (0, total - len(audio)))
    audio = audio + rng.standard_normal(total).astype(np.float32) * 1e-3  # room noise floor
    return Conversation(np.clip(audio, -1, 1).astype(np.float32), speaker, turns, sentences)


def list_audio_files(audio_dir: str | os.PathLike) -> list[Path]:
    """Audio files (``.wav .flac .ogg .mp3``) directly inside ``audio_dir``, sorted.

    Raises:
        DataError: the directory is missing or holds no audio file.
    """
    d = Path(audio_dir)
    if not d.exists():
        raise DataError(f"audio directory not found: {d}")
    if not d.is_dir():
        raise DataError(f"--audio-dir must be a directory: {d}")
    files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise DataError(f"no audio files ({' '.join(AUDIO_SUFFIXES)}) in {d}")
    return files


def load_session_audio(path: Path, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A session's audio from one user file: 16 kHz mono (unnormalised), a random ``seconds``
    long excerpt when the file is longer, the whole file otherwise.

    Raises:
        AudioError: unreadable, silent or too short (< 2 s) file.
    """

    x = load_audio(path, normalize=False, min_seconds=2.0)
    if is_silent(x):
        raise AudioError(f"{path}: audio is silent")
    n = int(round(seconds * SAMPLE_RATE))
    if len(x) > n:
        start = int(rng.integers(0, len(x) - n + 1))
        x = x[start : start + n]
    peak = float(np.max(np.abs(x)))
    return (x / peak * 0.9 if peak > 1.0 else x).astype(np.float32)
