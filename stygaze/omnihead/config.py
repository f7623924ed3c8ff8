"""OmniHead configuration: tasks, class names, the architecture dataclass and its presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stygaze.config import DEPTH, DROPOUT, HEADS, WIDTH, Range, option

# ---------------------------------------------------------------------------------------------
# configuration


TASKS: tuple[str, ...] = ("gesture", "blink", "saccade", "gaze", "expression", "va", "au")
"""Task names, in task-token order."""
GESTURE_CLASSES: tuple[str, ...] = ("none", "nod", "shake", "tilt", "turn", "up_down")
"""Head-gesture classes (index = label)."""
EXPRESSION_CLASSES: tuple[str, ...] = ("neutral", "anger", "disgust", "fear", "happiness", "sadness", "surprise", "other")
AU_NAMES: tuple[str, ...] = ("AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU15", "AU23", "AU24", "AU25", "AU26")
TASK_DIMS: dict[str, int] = {"gesture": 6, "blink": 2, "saccade": 2, "gaze": 3, "expression": 8, "va": 2, "au": 12}
"""Output width of each task head."""

DEFAULT_LOSS_WEIGHTS: dict[str, float] = {
    "gaze": 5.0,
    "blink": 5.0,
    "gesture": 2.0,
    "saccade": 1.0,
    "expression": 0.1,
    "va": 0.1,
    "au": 0.1,
}
"""Fine-tuning loss weights of OmniHead App. F.3."""
EXPRESSION_CLASS_WEIGHTS: tuple[float, ...] = (0.47, 2.34, 3.34, 3.74, 0.62, 1.41, 2.08, 0.46)
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass
class OmniHeadConfig:
    """Architecture of an :class:`OmniHead` (stored inside its checkpoint).

    Attributes:
        img_size: input frame side in pixels (square crops).
        num_frames: clip length ``L`` in frames (25 fps).
        patch_size: 3D patch (time, height, width).
        embed_dim: channels after patch embedding; doubles at each patch merging.
        depths: Swin blocks per stage.
        num_heads: attention heads per stage.
        window_size: 3D attention window (time, height, width) in tokens.
        mlp_ratio: hidden width of the Swin MLPs relative to the channels.
        drop_path: maximal stochastic-depth rate (linearly increasing over blocks).
        decoder_layers: ``K`` task-decoder layers.
        decoder_heads: heads of the decoder attentions.
        head_hidden: hidden width of the per-task 2-hidden-layer MLPs.
        tasks: task heads to build (subset of :data:`TASKS`).
        aux_probes: also build one linear *probe* per task on the spatially max-pooled per-frame
            encoder features (training aid, deep supervision; see :attr:`OmniHeadOutput.aux`).
            No prediction uses them (they only add a loss term). Without them a small encoder trained from scratch gives
            the decoder's cross-attention no localised cue to latch onto (blink stayed at chance
            for 600 steps; with the probes it is learned within 300).
        saccade_gaze_velocity: the saccade head also reads :func:`gaze_speed_features` of the
            model's own (detached) gaze over ``±saccade_gaze_context`` frames (an addition to
            the paper, see the module docstring); needs the ``gaze`` and ``saccade`` tasks.
            False = the paper's head (older checkpoints have no such field and load as False).
        saccade_gaze_context: ``k``, frames of gaze context on each side (``3k`` features).
        saccade_token: with ``saccade_gaze_velocity`` or ``saccade_motion_path``, whether the
            saccade head also reads the decoder's saccade token (True) or only those features
            (False; the token of a small model trained on few renders memorises its training clips).
        saccade_motion_path: the saccade head also reads a *frame-rate* motion feature of the
            pixels (:class:`FrameMotionStem`: a small CNN on each frame and its differences to
            the previous and next frame, pooled over space; an addition to the paper, see the
            module docstring). False = the paper's head (older checkpoints load as False).
        gesture_motion_path: the gesture head also reads its own :class:`FrameMotionStem`, with
            temporal convolutions over ±6 frames (a head gesture is a movement of 0.3–2 s).
        gesture_token: with ``gesture_motion_path``, whether the gesture head also reads the
            decoder's gesture token (True) or the motion path alone (False).
        motion_width: channels ``c`` of the motion CNNs (per frame ``4c`` features for the
            saccade path, ``2c`` after the gesture path's temporal convolutions).
    """

    img_size: int = option(64, range=(8, 1024))
    num_frames: int = option(16, range=(1, 512))
    patch_size: tuple[int, int, int] = option((2, 4, 4), range=(1, 64))
    embed_dim: int = option(32, range=WIDTH)
    depths: tuple[int, ...] = option((2, 2), range=DEPTH)
    num_heads: tuple[int, ...] = option((2, 4), range=HEADS)
    window_size: tuple[int, int, int] = option((4, 4, 4), range=(1, 64))
    mlp_ratio: float = option(2.0, range=Range(0, 64, lo_open=True))
    drop_path: float = option(0.0, range=DROPOUT)
    decoder_layers: int = option(2, range=DEPTH)
    decoder_heads: int = option(4, range=HEADS)
    head_hidden: int = option(64, range=WIDTH)
    tasks: tuple[str, ...] = option(TASKS, choices=TASKS)
    aux_probes: bool = False
    saccade_gaze_velocity: bool = False
    saccade_gaze_context: int = option(2, range=(1, 512))
    saccade_token: bool = True
    saccade_motion_path: bool = False
    gesture_motion_path: bool = False
    gesture_token: bool = True
    motion_width: int = option(32, range=WIDTH)

    def __post_init__(self) -> None:
        self.patch_size = tuple(int(v) for v in self.patch_size)  # JSON gives lists
        self.depths = tuple(int(v) for v in self.depths)
        self.num_heads = tuple(int(v) for v in self.num_heads)
        self.window_size = tuple(int(v) for v in self.window_size)
        self.tasks = tuple(str(t) for t in self.tasks)
        if len(self.depths) != len(self.num_heads):
            raise ValueError("depths and num_heads must have the same length")
        unknown = [t for t in self.tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"unknown OmniHead tasks {unknown}; choose from {TASKS}")
        if self.out_dim % 4:
            raise ValueError("encoder output channels must be divisible by 4 (2D sine-cosine embedding)")
        self.saccade_gaze_velocity = bool(self.saccade_gaze_velocity)
        self.saccade_token = bool(self.saccade_token)
        self.saccade_gaze_context = int(self.saccade_gaze_context)
        self.saccade_motion_path = bool(self.saccade_motion_path)
        self.gesture_motion_path = bool(self.gesture_motion_path)
        self.gesture_token = bool(self.gesture_token)
        self.motion_width = int(self.motion_width)
        if self.saccade_gaze_velocity:
            if "saccade" not in self.tasks or "gaze" not in self.tasks:
                raise ValueError("saccade_gaze_velocity needs both the 'saccade' and the 'gaze' task")
            if not 1 <= self.saccade_gaze_context < self.num_frames:
                raise ValueError(f"saccade_gaze_context must be in [1, num_frames), got {self.saccade_gaze_context}")
        for task in self.motion_tasks:
            if task not in self.tasks:
                raise ValueError(f"{task}_motion_path needs the '{task}' task")
        if self.motion_tasks and self.motion_width < 1:
            raise ValueError(f"motion_width must be ≥ 1, got {self.motion_width}")
        if not self.saccade_token and not (self.saccade_gaze_velocity or self.saccade_motion_path):
            raise ValueError("saccade_token=False needs saccade_gaze_velocity or saccade_motion_path (the head would have no input)")
        if not self.gesture_token and not self.gesture_motion_path:
            raise ValueError("gesture_token=False needs gesture_motion_path (the head would have no input)")

    @property
    def motion_tasks(self) -> tuple[str, ...]:
        """Tasks whose head reads a :class:`FrameMotionStem` of its own."""
        return tuple(t for t, on in (("saccade", self.saccade_motion_path), ("gesture", self.gesture_motion_path)) if on)

    def motion_dim(self, task: str) -> int:
        """Features per frame of ``task``'s motion path (0 without one)."""
        if task not in self.motion_tasks:
            return 0
        return (2 if MOTION_TEMPORAL[task] else 4) * self.motion_width

    @property
    def out_dim(self) -> int:
        """Channels of the encoder output (= decoder width)."""
        return self.embed_dim * 2 ** (len(self.depths) - 1)

    def head_in_dim(self, task: str) -> int:
        """Input width of ``task``'s MLP: the decoder width (the task token; the saccade and gesture
        heads may go without it), plus ``3·saccade_gaze_context`` gaze speeds for the saccade head
        with ``saccade_gaze_velocity``, plus :meth:`motion_dim` motion features."""
        return (self.out_dim if self.reads_token(task) else 0) + self.speed_dim(task) + self.motion_dim(task)

    def reads_token(self, task: str) -> bool:
        """Whether ``task``'s MLP reads its decoder token (only the saccade and gesture heads may not)."""
        return {"saccade": self.saccade_token, "gesture": self.gesture_token}.get(task, True)

    def speed_dim(self, task: str) -> int:
        """Gaze-speed features of ``task``'s MLP input (the saccade head with ``saccade_gaze_velocity``)."""
        return 3 * self.saccade_gaze_context if task == "saccade" and self.saccade_gaze_velocity else 0


def tiny_config(**overrides: Any) -> OmniHeadConfig:
    """A CPU-trainable OmniHead: 64 px, embed 32, depths (2, 2), window (4, 4, 4) (≈0.2 M params)."""
    return OmniHeadConfig(**overrides)


def swin_t_config(**overrides: Any) -> OmniHeadConfig:
    """Video Swin-T as in the Video Swin paper: patch (2,4,4), embed 96, depths (2,2,6,2), heads (3,6,12,24),
    window (8,7,7), 768-d, 16×224×224 input."""
    values: dict[str, Any] = dict(
        img_size=224,
        num_frames=16,
        patch_size=(2, 4, 4),
        embed_dim=96,
        depths=(2, 2, 6, 2),
        num_heads=(3, 6, 12, 24),
        window_size=(8, 7, 7),
        mlp_ratio=4.0,
        drop_path=0.1,
        decoder_layers=2,
        decoder_heads=8,
        head_hidden=256,
    )
    values.update(overrides)
    return OmniHeadConfig(**values)


CONFIGS = {"tiny": tiny_config, "swin_t": swin_t_config}


MOTION_TEMPORAL: dict[str, bool] = {"saccade": False, "gesture": True}
"""Whether a task's motion path mixes ±6 frames (gestures: movements of 0.3–2 s) or stays per frame (saccades: 1–2 frames)."""
