"""Jaw stage: a speaking mouth, the jaw opening with the speech loudness, causally.

The drive is the voice level of :mod:`stygaze.features.voice` (speech loudness relative to
the current speaking range, 0 in silence and between syllables, ≈ 1 on loud syllables). Per
frame ``t``:

* target ``o_t = level^gamma`` averaged over frames ``[t, t + lookahead]`` (``lookahead`` is 0
  or 1 frame: the mouth opens as the syllable's energy rises; the generator's own look-ahead
  covers it, so it adds no latency);
* smoothed by a one-pole filter with a fast attack (``attack_s``) and a slower release
  (``release_s``), the way a jaw opens quickly into a vowel and closes more slowly;
* jaw angle ``open_deg · o`` (degrees), returned in the FLAME convention: ``(T, 3)`` axis-angle
  in **radians**, a rotation about the head's ``x`` axis (the subject's left), positive =
  mouth opening (the chin moves down and back).

Conversational speech opens the jaw by roughly 5–10° (a few millimetres to a centimetre at the
incisors); ``open_deg`` sets the loudest syllables' opening.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class JawConfig:
    """Jaw stage parameters (degrees, seconds)."""

    open_deg: float = 8.0  # opening at level 1
    gamma: float = 1.5  # level -> opening curve (> 1: quiet speech opens the mouth less)
    attack_s: float = 0.03  # opening time constant
    release_s: float = 0.07  # closing time constant
    lookahead: int = 1  # frames of voice level ahead averaged into the target (0 or 1)

    def validate(self) -> JawConfig:
        for name in ("open_deg", "gamma", "attack_s", "release_s"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0):
                raise ValueError(f"jaw stage: {name} must be a finite number >= 0, got {v!r}")
        if self.lookahead not in (0, 1):
            raise ValueError(f"jaw stage: lookahead must be 0 or 1 frames, got {self.lookahead!r}")
        return self


def jaw_axis_angle(open_deg: np.ndarray) -> np.ndarray:
    """``(T,)`` jaw opening in degrees -> ``(T, 3)`` float32 FLAME ``jaw_pose`` (radians, about x)."""
    a = np.asarray(open_deg, np.float64).reshape(-1)
    out = np.zeros((len(a), 3), np.float32)
    out[:, 0] = np.radians(a)
    return out


def jaw_open_deg(jaw: np.ndarray) -> np.ndarray:
    """``(T, 3)`` jaw axis-angle (radians) -> ``(T,)`` opening in degrees (the x rotation)."""
    return np.degrees(np.asarray(jaw, np.float64).reshape(len(jaw), -1)[:, 0])


class JawStage:
    """Stateful, causal jaw drive; :meth:`process` chunks give the same result as one call."""

    def __init__(self, config: JawConfig | None = None, fps: float = 25.0):
        self.config = (config or JawConfig()).validate()
        self.fps = float(fps)
        self._o = 0.0

    def process(self, level: np.ndarray, level_next: np.ndarray | None = None) -> np.ndarray:
        """Jaw axis-angle of ``n`` frames.

        Args:
            level: ``(n,)`` voice level of the frames (0..1).
            level_next: ``(n,)`` voice level of the frame after each (needed when
                ``lookahead`` is 1; the frame after the end of the audio is silence, 0).

        Returns:
            ``(n, 3)`` float32 FLAME jaw pose (radians).
        """
        c, dt = self.config, 1.0 / self.fps
        lv = np.clip(np.asarray(level, np.float64).reshape(-1), 0.0, 1.0)
        if c.lookahead:
            if level_next is None or len(level_next) != len(lv):
                raise ValueError("jaw stage: lookahead 1 needs the next frame's level for every frame")
            lv = 0.5 * (lv + np.clip(np.asarray(level_next, np.float64).reshape(-1), 0.0, 1.0))
        target = lv ** c.gamma
        ka = 1.0 - math.exp(-dt / max(c.attack_s, 1e-6))
        kr = 1.0 - math.exp(-dt / max(c.release_s, 1e-6))
        out = np.empty(len(lv))
        o = self._o
        for i, x in enumerate(target):
            o += (ka if x > o else kr) * (x - o)
            out[i] = o
        self._o = o
        return jaw_axis_angle(c.open_deg * out)
