"""Voice activity and a speech-level envelope, one value per motion frame, computed causally.

The avatar stages (:mod:`stygaze.stygazetalk.avatar`) need to know, frame by frame, whether
the person is speaking (gaze shifts are larger and more frequent while speaking, blinks come
more often in pauses) and how loud the speech is (the jaw opens with it). Both come from the
audio energy, with no model and no look-ahead beyond the frame itself, so a stream computes
exactly what an offline call does.

Per motion frame ``t`` (samples ``[t·640, (t+1)·640)`` at 16 kHz; the last, partial frame is
zero-padded, as :func:`stygaze.audio.num_frames` counts it):

* ``energy_db``: ``10·log10(mean((x − mean x)²) + 1e-12)`` of the frame's samples (dB, full
  scale = 0 dB; digital silence is −120 dB).
* ``floor_db``: a noise-floor tracker. It drops at once to a quieter frame and rises by at
  most ``floor_rise_db_s`` per second, and it is kept within ``max_range_db`` of the peak.
* ``peak_db``: a speech-level tracker. It jumps up to a louder frame and decays by
  ``peak_decay_db_s`` per second.
* ``voiced``: the frame is above the floor by ``max(on_min_db, on_fraction·(peak − floor))``.
* ``speaking``: voiced within the last ``hangover_s`` (gaps between words and syllables stay
  "speaking"; a longer gap is a pause).
* ``level``: ``clip((energy − floor − on_min_db/2) / (peak − floor − on_min_db/2), 0, 1)``,
  the speech loudness relative to the current speaking range (0 in silence, ≈ 1 on the
  loudest syllables), the drive of the jaw.

Every threshold is relative to the trackers, which start at the first frame, so a constant
gain on the signal (e.g. per-clip normalisation) changes ``energy_db``/``floor_db``/``peak_db``
by a constant and nothing else (as long as the quiet frames stay above −120 dB).

:class:`OnlineVoice` takes samples in any chunks; :func:`voice_activity` is the offline call
(equal to one stream over the whole clip).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stygaze.audio import FPS, HOP, num_frames

SILENCE_DB: float = -120.0
"""Energy of an all-zero frame (dB): the ``1e-12`` power floor."""


@dataclass
class VoiceConfig:
    """Voice-activity settings (dB and seconds as named)."""

    floor_rise_db_s: float = 3.0  # the noise floor rises at most this fast (dB per second)
    peak_decay_db_s: float = 4.0  # the speech-level tracker decays this fast (dB per second)
    max_range_db: float = 50.0  # the floor is kept within this of the peak
    on_min_db: float = 8.0  # voiced: at least this far above the floor ...
    on_fraction: float = 0.3  # ... and this fraction of the current range (peak − floor)
    hangover_s: float = 0.3  # voiced within this long ago = still speaking; a longer gap is a pause

    def validate(self) -> VoiceConfig:
        for name in ("floor_rise_db_s", "peak_decay_db_s", "max_range_db", "on_min_db", "on_fraction", "hangover_s"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"voice activity: {name} must be a finite number >= 0, got {v!r}")
        return self


@dataclass
class VoiceFrames:
    """Per-frame voice measures of ``n`` consecutive motion frames (all ``(n,)``).

    Attributes:
        energy_db, floor_db, peak_db: frame energy and the two trackers (dB).
        voiced: the frame itself is voiced (bool).
        speaking: voiced within the last ``hangover_s`` (bool).
        level: speech loudness in 0..1 (0 when not voiced).
    """

    energy_db: np.ndarray
    floor_db: np.ndarray
    peak_db: np.ndarray
    voiced: np.ndarray
    speaking: np.ndarray
    level: np.ndarray

    def __len__(self) -> int:
        return int(len(self.energy_db))

    @classmethod
    def empty(cls) -> VoiceFrames:
        z = np.zeros(0, np.float32)
        return cls(z, z, z, np.zeros(0, bool), np.zeros(0, bool), z)

    @classmethod
    def concat(cls, parts: list[VoiceFrames]) -> VoiceFrames:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("energy_db", "floor_db", "peak_db", "voiced", "speaking", "level")))

    def slice(self, a: int, b: int) -> VoiceFrames:
        return VoiceFrames(self.energy_db[a:b], self.floor_db[a:b], self.peak_db[a:b], self.voiced[a:b], self.speaking[a:b], self.level[a:b])


def frame_energy_db(samples: np.ndarray, frames: int | None = None) -> np.ndarray:
    """``(T,)`` float64 energy (dB) of each motion frame of ``(S,)`` 16 kHz samples.

    ``frames`` defaults to :func:`~stygaze.audio.num_frames` ``(S)``; missing samples are zeros.
    """
    x = np.asarray(samples, np.float64).reshape(-1)
    T = num_frames(len(x)) if frames is None else int(frames)
    if T <= 0:
        return np.zeros(0)
    buf = np.zeros(T * HOP)
    n = min(len(x), T * HOP)
    buf[:n] = x[:n]
    f = buf.reshape(T, HOP)
    f = f - f.mean(axis=1, keepdims=True)
    return 10.0 * np.log10(np.mean(f * f, axis=1) + 1e-12)


class OnlineVoice:
    """Causal voice activity over a stream of samples (see the module docstring).

    ``push(samples)`` returns the :class:`VoiceFrames` of every frame completed by them;
    ``flush(total_frames)`` ends the stream (zero-pads the last partial frame) and returns
    the frames up to ``total_frames``. The result does not depend on how the samples are
    chunked.
    """

    def __init__(self, config: VoiceConfig | None = None, fps: float = FPS):
        self.config = (config or VoiceConfig()).validate()
        self.fps = float(fps)
        self._pending = np.zeros(0, np.float64)
        self._floor: float | None = None
        self._peak = SILENCE_DB
        self._since_voiced = math.inf  # seconds since the last voiced frame
        self.frames = 0  # frames emitted so far

    def _measure(self, energy: np.ndarray) -> VoiceFrames:
        c, dt = self.config, 1.0 / self.fps
        n = len(energy)
        floor, peak = np.empty(n), np.empty(n)
        voiced, speaking = np.zeros(n, bool), np.zeros(n, bool)
        level = np.zeros(n)
        for i, e in enumerate(energy):
            e = float(e)
            if self._floor is None:
                self._floor, self._peak = e, e
            self._peak = max(e, self._peak - c.peak_decay_db_s * dt)
            f = min(e, self._floor + c.floor_rise_db_s * dt)
            f = max(f, self._peak - c.max_range_db)
            self._floor = f
            rng = self._peak - f
            on = e > f + max(c.on_min_db, c.on_fraction * rng)
            self._since_voiced = 0.0 if on else self._since_voiced + dt
            floor[i], peak[i], voiced[i] = f, self._peak, on
            speaking[i] = self._since_voiced < c.hangover_s - 1e-9
            base = f + 0.5 * c.on_min_db
            if on and self._peak > base:
                level[i] = min(max((e - base) / (self._peak - base), 0.0), 1.0)
        self.frames += n
        return VoiceFrames(energy.astype(np.float32), floor.astype(np.float32), peak.astype(np.float32), voiced, speaking, level.astype(np.float32))

    def push(self, samples: np.ndarray) -> VoiceFrames:
        """Add ``(S,)`` samples (16 kHz, any gain); returns the frames they complete."""
        x = np.concatenate([self._pending, np.asarray(samples, np.float64).reshape(-1)])
        k = len(x) // HOP
        self._pending = x[k * HOP :]
        if k == 0:
            return VoiceFrames.empty()
        return self._measure(frame_energy_db(x[: k * HOP], k))

    def flush(self, total_frames: int) -> VoiceFrames:
        """End of audio: the frames up to ``total_frames`` (the partial last one zero-padded)."""
        need = int(total_frames) - self.frames
        if need <= 0:
            return VoiceFrames.empty()
        energy = frame_energy_db(self._pending, need)
        self._pending = np.zeros(0, np.float64)
        return self._measure(energy)


def voice_activity(samples: np.ndarray, config: VoiceConfig | None = None, frames: int | None = None) -> VoiceFrames:
    """:class:`VoiceFrames` of a whole clip ``(S,)`` at 16 kHz (``frames`` default ``num_frames(S)``).

    Equal to an :class:`OnlineVoice` stream over the same samples.
    """
    x = np.asarray(samples).reshape(-1)
    v = OnlineVoice(config)
    T = num_frames(len(x)) if frames is None else int(frames)
    return VoiceFrames.concat([v.push(x), v.flush(T)])
