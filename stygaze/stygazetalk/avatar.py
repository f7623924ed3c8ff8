"""Avatar stages: what turns the generator's gaze and head into motion an avatar can show.

The generator regresses where the eyes and head *should point*; an avatar also needs the eyes
to fixate and jump like eyes, the lids to blink and the mouth to speak. Three causal stages run
on the generated frames, one frame after another, driven by the audio's voice activity
(:mod:`stygaze.features.voice`):

1. :class:`~stygaze.stygazetalk.saccades.GazeEventStage` — when the gaze shifts and where to
   (heavy-tailed shifts, look-aways while speaking, fixations held in the world with VOR,
   drift and microsaccades), anchored on the generated gaze;
2. :class:`~stygaze.stygazetalk.blinks.BlinkStage` — blinks into the Motion's ``blink``
   channel (spontaneous, at pauses, with large gaze shifts), plus the small downward eye
   rotation of a blink;
3. :class:`~stygaze.stygazetalk.jaw.JawStage` — the jaw opening with the speech, the Motion's
   ``jaw`` extra (FLAME ``jaw_pose``: ``(T, 3)`` axis-angle, radians).

:class:`AvatarConfig` switches each stage on or off (``None``) and holds its settings;
:meth:`AvatarConfig.raw` is all off (the paper's model output). :class:`AvatarStages` keeps
their state, so a stream fed in any chunks gives exactly the offline result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stygaze.features.voice import VoiceConfig, VoiceFrames
from stygaze.stygazetalk.blinks import BlinkConfig, BlinkStage
from stygaze.stygazetalk.jaw import JawConfig, JawStage
from stygaze.stygazetalk.saccades import GazeEventConfig, GazeEventStage


@dataclass
class AvatarConfig:
    """Which avatar stages run, and their settings (``None`` = the stage is off)."""

    gaze: GazeEventConfig | None = field(default_factory=GazeEventConfig)
    blinks: BlinkConfig | None = field(default_factory=BlinkConfig)
    jaw: JawConfig | None = field(default_factory=JawConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)

    @classmethod
    def raw(cls) -> AvatarConfig:
        """Every stage off: the generator's output as it is."""
        return cls(gaze=None, blinks=None, jaw=None)

    @property
    def active(self) -> bool:
        return self.gaze is not None or self.blinks is not None or self.jaw is not None

    def validate(self) -> AvatarConfig:
        for part, kind in ((self.gaze, GazeEventConfig), (self.blinks, BlinkConfig), (self.jaw, JawConfig)):
            if part is not None:
                if not isinstance(part, kind):
                    raise ValueError(f"avatar stages: expected a {kind.__name__} or None, got {type(part).__name__}")
                part.validate()
        if not isinstance(self.voice, VoiceConfig):
            raise ValueError(f"avatar stages: voice must be a VoiceConfig, got {type(self.voice).__name__}")
        self.voice.validate()
        return self


@dataclass
class AvatarFrames:
    """Frames through the avatar stages.

    Attributes:
        motion: ``(n, 7)`` float32 degrees.
        blink: ``(n,)`` float32 closure 0..1, or None (blink stage off).
        jaw: ``(n, 3)`` float32 FLAME jaw pose (radians), or None (jaw stage off).
        shift_deg: ``(n,)`` float32 amplitude of the gaze shift that started before each frame
            (0 = none; all 0 when the gaze stage is off).
    """

    motion: np.ndarray
    blink: np.ndarray | None = None
    jaw: np.ndarray | None = None
    shift_deg: np.ndarray | None = None

    def __len__(self) -> int:
        return int(len(self.motion))

    @classmethod
    def concat(cls, parts: list[AvatarFrames], has_blink: bool, has_jaw: bool) -> AvatarFrames:
        """One :class:`AvatarFrames` of ``parts`` in order (also for an empty list)."""
        def cat(key, shape):
            arrs = [getattr(p, key) for p in parts]
            return np.concatenate(arrs) if arrs else np.zeros(shape, np.float32)

        return cls(
            cat("motion", (0, 7)),
            cat("blink", (0,)) if has_blink else None,
            cat("jaw", (0, 3)) if has_jaw else None,
            cat("shift_deg", (0,)),
        )


class AvatarStages:
    """The stages of an :class:`AvatarConfig`, stateful and causal.

    Args:
        config: which stages and their settings.
        fps: frame rate.
        seed: seeds the gaze and blink draws (None counts as 0).
        max_lookahead: voice frames beyond the current one the caller can provide (the jaw's
            look-ahead is cut to this; a stream of a model with ``L`` frames of audio look-ahead
            and ``N`` frames per step has ``L - N``).
    """

    def __init__(self, config: AvatarConfig | None = None, fps: float = 25.0, seed: int | None = 0, max_lookahead: int = 1):
        from dataclasses import replace

        self.config = (config or AvatarConfig()).validate()
        c = self.config
        self.gaze = GazeEventStage(c.gaze, fps, seed) if c.gaze is not None else None
        self.blinks = BlinkStage(c.blinks, fps, seed) if c.blinks is not None else None
        self.lookahead = 0 if c.jaw is None else min(c.jaw.lookahead, max(int(max_lookahead), 0))
        self.jaw = JawStage(replace(c.jaw, lookahead=self.lookahead), fps) if c.jaw is not None else None
        self.frames = 0

    def process(self, data: np.ndarray, voice: VoiceFrames, level_next: np.ndarray | None = None) -> AvatarFrames:
        """Run the stages on the next ``n`` generated frames.

        Args:
            data: ``(n, 7)`` generated motion (degrees).
            voice: the :class:`VoiceFrames` of the same ``n`` frames.
            level_next: ``(n,)`` voice level of the frame after each (used when the jaw has a
                look-ahead, :attr:`lookahead` = 1; 0 past the end of the audio).

        Returns:
            :class:`AvatarFrames`.
        """
        data = np.asarray(data, np.float32)
        n = len(data)
        if len(voice) != n:
            raise ValueError(f"avatar stages: {n} motion frames but {len(voice)} voice frames")
        speaking = voice.speaking
        shift, lead = np.zeros(n, np.float32), np.zeros(n, np.float32)
        motion = data
        if self.gaze is not None:
            g = self.gaze.process_frames(data, speaking)
            motion, shift, lead = g.motion, g.shift_deg, g.shift_lead_s
        blink = None
        if self.blinks is not None:
            blink = self.blinks.process(n, speaking, shift, lead).blink
            drop = self.blinks.config.eye_drop_deg * blink
            if drop.any():
                motion = motion.copy()
                motion[:, 3] -= drop
                motion[:, 5] -= drop
        jaw = None
        if self.jaw is not None:
            nxt = None
            if self.lookahead:
                if level_next is None or len(level_next) != n:
                    raise ValueError("avatar stages: the jaw look-ahead needs level_next for every frame")
                nxt = level_next
            jaw = self.jaw.process(voice.level, nxt)
        self.frames += n
        return AvatarFrames(motion.astype(np.float32, copy=False), blink, jaw, shift)


def apply_avatar_stages(
    data: np.ndarray,
    voice: VoiceFrames,
    config: AvatarConfig | None = None,
    fps: float = 25.0,
    seed: int | None = 0,
    max_lookahead: int = 1,
) -> AvatarFrames:
    """One-shot :class:`AvatarStages` over a whole clip: ``data (T, 7)`` degrees and its ``voice``
    (``T`` frames); the frame after the end counts as silence."""
    stages = AvatarStages(config, fps, seed, max_lookahead)
    nxt = np.concatenate([np.asarray(voice.level[1:], np.float32), np.zeros(1, np.float32)]) if len(voice) else np.zeros(0, np.float32)
    return stages.process(data, voice, nxt if stages.lookahead else None)
