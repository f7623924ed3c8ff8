"""OmniHead: a spatio-temporal recognizer of head gestures, blinks, saccades and 3D gaze.

Implements the architecture of OmniHead (``papers/omnihead.txt`` §4, App. F):

* **Video-Swin encoder** (written here in torch): 3D patch embedding (2×4×4 by default),
  stages of shifted 3D window attention with a relative position bias, patch merging
  (2×2 spatial) between stages. :func:`swin_t_config` is Video Swin-T exactly as in
  REFERENCE.md (≈28 M encoder parameters, 768-d, 16×224×224 input);
  :func:`tiny_config` trains on a CPU.
* **Temporal interpolation** of the encoder feature maps (``L/2`` time steps after the
  ``t=2`` patch split) back to ``L`` frame feature maps ``F_i`` (linear).
* **Task-token decoder** (DETR-style, ``K`` layers): one learnable token per task,
  duplicated per frame; each layer = task self-attention (skipped in the first layer),
  task→frame cross-attention with ``K = F_i + E_pos`` (fixed 2D sine-cosine spatial
  positional embedding) and ``V = F_i``, then a feed-forward block.
* **One MLP with 2 hidden layers per task** on its final token.

Addition to the paper (``OmniHeadConfig.saccade_gaze_velocity``, off by default): the saccade
head may also read the model's *own gaze track*. In the paper the task tokens exchange
information only through the decoder's self-attention; here, for a task whose visual signal is
sub-pixel (SynHAGE saccades last 1–2 frames at 25 fps, median 2.5°, ≈ 0.2 px of iris motion
at 64 px), that exchange is made explicit and cheap: per frame ``t`` the angular speeds of the
gaze head's unit vectors between neighbouring frames inside the clip (``t+j−1 → t+j`` for
``j = −k+1 … k``) and the spans ``t−j → t+j`` (``j = 1 … k``) (:func:`gaze_speed_features`)
are appended to (or, with ``saccade_token=False``, replace) the saccade token at the input of
the saccade MLP. The gaze is *detached*: the saccade loss does not move the gaze head. Works
in training and in :func:`sliding_window_predict` (the centre frame has ``k`` frames of context
on each side).

A second addition (``OmniHeadConfig.saccade_motion_path``, off by default) gives the saccade
head a *frame-rate* view of the pixels: :class:`FrameMotionStem`, a small CNN on every frame and
its differences to the previous and next frames, pooled over space. The encoder's 2-frame time
patches pair frames (0, 1), (2, 3), … and its output is interpolated back to ``L`` frames, so a
1–2-frame saccade that falls across a pair boundary is invisible to the decoder; the recognizer's
own gaze is too coarse (≈ 9° error) for its speed to separate saccades (AUC ≈ 0.6 on
validation renders). The stem's features go to the saccade MLP like the gaze speeds above.
``gesture_motion_path`` gives the gesture head a stem of its own followed by temporal
convolutions over ±6 frames (the shape of a nod or a shake); with ``gesture_token=False`` it
replaces the decoder's gesture token, which a small model trained on few renders memorises.
The shipped tiny recognizer uses both paths without the tokens (``configs/omnihead_tiny_*.yaml``).

Tasks (:data:`TASKS`): ``gesture`` (6 classes :data:`GESTURE_CLASSES`), ``blink`` (2),
``saccade`` (2), ``gaze`` (unit 3-vector in camera coordinates, ``x`` = image left as seen
from the subject, ``y`` = up, ``z`` = towards the camera), and the affective heads
``expression`` (8 Aff-Wild2 classes), ``va`` (valence/arousal in [-1, 1]) and ``au``
(12 action units). Losses (App. F): CE with label smoothing 0.15 (gesture), CE with class
weights [1, 10] and smoothing 0.1 (blink, saccade), weighted CE (expression), angular loss in
degrees (gaze), BCE (AU), 1−CCC per dimension (VA); fine-tune weights gaze 5, blink 5,
gesture 2, saccade 1, affective 0.1. Every label may be missing per sample *and* per frame
(``-1`` for classes, NaN for regression targets), so a batch that mixes datasets supervises
each sample only on the tasks it has labels for.

Input video: ``(B, L, H, W, 3)`` uint8 or ``(B, 3, L, H, W)`` float in [0, 1]; it is
normalised with the ImageNet mean/std stored as buffers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

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

    img_size: int = 64
    num_frames: int = 16
    patch_size: tuple[int, int, int] = (2, 4, 4)
    embed_dim: int = 32
    depths: tuple[int, ...] = (2, 2)
    num_heads: tuple[int, ...] = (2, 4)
    window_size: tuple[int, int, int] = (4, 4, 4)
    mlp_ratio: float = 2.0
    drop_path: float = 0.0
    decoder_layers: int = 2
    decoder_heads: int = 4
    head_hidden: int = 64
    tasks: tuple[str, ...] = TASKS
    aux_probes: bool = False
    saccade_gaze_velocity: bool = False
    saccade_gaze_context: int = 2
    saccade_token: bool = True
    saccade_motion_path: bool = False
    gesture_motion_path: bool = False
    gesture_token: bool = True
    motion_width: int = 32

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
    """Video Swin-T as in REFERENCE.md: patch (2,4,4), embed 96, depths (2,2,6,2), heads (3,6,12,24),
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


# ---------------------------------------------------------------------------------------------
# outputs


@dataclass
class OmniHeadOutput:
    """Per-frame predictions for a batch of clips (only the built tasks are set).

    Attributes:
        gesture: (B, L, 6) logits.  blink, saccade: (B, L, 2) logits.
        gaze: (B, L, 3) unit vectors.  expression: (B, L, 8) logits.
        va: (B, L, 2) valence/arousal in [-1, 1].  au: (B, L, 12) logits.
        clip_features: (B, C) encoder output pooled over time and space (appearance and content).
        clip_dynamics: (B, C) temporal standard deviation of ``frame_features``: how the
            representation moves within the clip (≈ 0 for a still video); the perceptual metric's
            default feature, robust to camera/lighting changes.
        frame_features: (B, L, C) encoder output pooled over space after temporal interpolation.
        aux: with ``config.aux_probes``, the probes' raw per-frame outputs {task: (B, L, D)} (gaze
            not normalised); the loss adds them with ``LossConfig.aux_weight``.
    """

    clip_features: torch.Tensor
    clip_dynamics: torch.Tensor
    frame_features: torch.Tensor
    gesture: torch.Tensor | None = None
    blink: torch.Tensor | None = None
    saccade: torch.Tensor | None = None
    gaze: torch.Tensor | None = None
    expression: torch.Tensor | None = None
    va: torch.Tensor | None = None
    au: torch.Tensor | None = None
    aux: dict[str, torch.Tensor] | None = None

    def task(self, name: str) -> torch.Tensor | None:
        return getattr(self, name)


@dataclass
class OmniHeadLoss:
    """``total`` = Σ weight·loss over the tasks that had at least one label; ``per_task`` holds the
    unweighted losses (floats) and ``counts`` the number of labelled frames per task."""

    total: torch.Tensor
    per_task: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Video-Swin encoder


def window_partition(x: torch.Tensor, window: tuple[int, int, int]) -> torch.Tensor:
    """(B, D, H, W, C) → (B·nW, wd·wh·ww, C); D, H, W must be multiples of the window."""
    b, d, h, w, c = x.shape
    x = x.view(b, d // window[0], window[0], h // window[1], window[1], w // window[2], window[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, window[0] * window[1] * window[2], c)


def window_reverse(windows: torch.Tensor, window: tuple[int, int, int], b: int, d: int, h: int, w: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`: (B·nW, wd, wh, ww, C) → (B, D, H, W, C)."""
    x = windows.reshape(b, d // window[0], h // window[1], w // window[2], window[0], window[1], window[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, w, -1)


def get_window_size(
    x_size: tuple[int, int, int], window: tuple[int, int, int], shift: tuple[int, int, int]
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Shrink the window to the input where the input is smaller, and drop the shift there."""
    use_w, use_s = list(window), list(shift)
    for i in range(3):
        if x_size[i] <= window[i]:
            use_w[i] = x_size[i]
            use_s[i] = 0
    return tuple(use_w), tuple(use_s)  # type: ignore[return-value]


def compute_shift_mask(
    dhw: tuple[int, int, int], window: tuple[int, int, int], shift: tuple[int, int, int], device: torch.device | None = None
) -> torch.Tensor:
    """Attention mask for shifted windows on a padded (D, H, W) grid.

    After the cyclic shift a window can hold tokens from up to 8 regions that were not
    neighbours in the image; attention between different regions gets −100 (≈ zero weight).

    Returns:
        (nW, N, N) float mask, 0 within a region, −100 across regions (N = wd·wh·ww).
    """
    d, h, w = dhw
    img_mask = torch.zeros((1, d, h, w, 1), device=device)
    cnt = 0
    slices = [
        (slice(None, -window[i]), slice(-window[i], -shift[i]), slice(-shift[i], None)) if shift[i] > 0 else (slice(None),)
        for i in range(3)
    ]
    for sd in slices[0]:
        for sh in slices[1]:
            for sw in slices[2]:
                img_mask[:, sd, sh, sw, :] = cnt
                cnt += 1
    mask_windows = window_partition(img_mask, window).squeeze(-1)  # (nW, N)
    attn_mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2)
    return attn_mask.masked_fill(attn_mask != 0, -100.0).masked_fill(attn_mask == 0, 0.0)


class DropPath(nn.Module):
    """Stochastic depth per sample."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class WindowAttention3D(nn.Module):
    """Multi-head self-attention inside 3D windows with a learned relative position bias.

    The bias table has ``(2wd−1)(2wh−1)(2ww−1)`` entries per head; when the effective window
    is smaller than the configured one (small inputs) the offsets still index the same table.
    """

    def __init__(self, dim: int, window: tuple[int, int, int], num_heads: int) -> None:
        super().__init__()
        self.dim, self.window, self.num_heads = dim, tuple(window), num_heads
        wd, wh, ww = self.window
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * wd - 1) * (2 * wh - 1) * (2 * ww - 1), num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self._index_cache: dict[tuple[int, int, int], torch.Tensor] = {}

    def relative_index(self, window: tuple[int, int, int]) -> torch.Tensor:
        """(N, N) indices into the bias table for an effective window ≤ the configured one."""
        if window not in self._index_cache:
            wd, wh, ww = self.window
            coords = torch.stack(torch.meshgrid(*(torch.arange(s) for s in window), indexing="ij")).flatten(1)  # (3, N)
            rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)  # (N, N, 3)
            rel = rel + torch.tensor([wd - 1, wh - 1, ww - 1])
            idx = rel[..., 0] * (2 * wh - 1) * (2 * ww - 1) + rel[..., 1] * (2 * ww - 1) + rel[..., 2]
            self._index_cache[window] = idx
        return self._index_cache[window]

    def forward(self, x: torch.Tensor, window: tuple[int, int, int], mask: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B·nW, N, C); mask: (nW, N, N) additive or None → (B·nW, N, C)."""
        bn, n, c = x.shape
        qkv = self.qkv(x).reshape(bn, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # (B·nW, heads, N, hd)
        idx = self.relative_index(tuple(window)).to(x.device)
        bias = self.relative_position_bias_table[idx.reshape(-1)].reshape(n, n, -1).permute(2, 0, 1).to(q.dtype)  # (heads, N, N)
        # explicit softmax(q·kᵀ/√hd + bias [+ mask]) with the bias/mask *broadcast* over batch and
        # windows: SDPA needs them expanded to (B·nW, heads, N, N) (a large copy per block, then its
        # math fallback); this is the same attention (tested) and ≈ 1.1–1.4× faster to train on CPU
        attn = (q * (q.shape[-1] ** -0.5)) @ k.transpose(-2, -1)  # (B·nW, heads, N, N)
        if mask is not None:
            nw = mask.shape[0]
            attn = (attn.view(bn // nw, nw, self.num_heads, n, n) + (bias.unsqueeze(0) + mask.to(q.dtype).unsqueeze(1))).view(bn, self.num_heads, n, n)
        else:
            attn = attn + bias
        out = attn.softmax(dim=-1) @ v  # (B·nW, heads, N, hd)
        return self.proj(out.transpose(1, 2).reshape(bn, n, c))


class SwinBlock3D(nn.Module):
    """Pre-norm (shifted-)window attention block + MLP, on (B, D, H, W, C)."""

    def __init__(self, dim: int, num_heads: int, window: tuple[int, int, int], shift: tuple[int, int, int], mlp_ratio: float, drop_path: float) -> None:
        super().__init__()
        self.window, self.shift = tuple(window), tuple(shift)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention3D(dim, self.window, num_heads)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, d, h, w, c = x.shape
        window, shift = get_window_size((d, h, w), self.window, self.shift)
        shortcut = x
        x = self.norm1(x)
        pd, ph, pw = ((-d) % window[0], (-h) % window[1], (-w) % window[2])
        x = F.pad(x, (0, 0, 0, pw, 0, ph, 0, pd))
        _, dp, hp, wp, _ = x.shape
        shifted = any(s > 0 for s in shift)
        if shifted:
            x = torch.roll(x, shifts=(-shift[0], -shift[1], -shift[2]), dims=(1, 2, 3))
        windows = window_partition(x, window)
        windows = self.attn(windows, window, mask if shifted else None)
        x = window_reverse(windows, window, b, dp, hp, wp)
        if shifted:
            x = torch.roll(x, shifts=shift, dims=(1, 2, 3))
        x = x[:, :d, :h, :w].contiguous()
        x = shortcut + self.drop_path(x)
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchMerging(nn.Module):
    """Merge 2×2 spatial neighbours: (B, D, H, W, C) → (B, D, ⌈H/2⌉, ⌈W/2⌉, 2C)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, h, w, _ = x.shape
        x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], dim=-1)
        return self.reduction(self.norm(x))


class SwinStage(nn.Module):
    """``depth`` blocks alternating regular and shifted windows, then optional patch merging."""

    def __init__(self, dim: int, depth: int, num_heads: int, window: tuple[int, int, int], mlp_ratio: float, drop_paths: list[float], downsample: bool) -> None:
        super().__init__()
        self.window = tuple(window)
        self.shift = tuple(s // 2 for s in window)
        self.blocks = nn.ModuleList(
            SwinBlock3D(dim, num_heads, window, (0, 0, 0) if i % 2 == 0 else self.shift, mlp_ratio, drop_paths[i]) for i in range(depth)
        )
        self.downsample = PatchMerging(dim) if downsample else None
        self._mask_cache: dict[tuple, torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, d, h, w, _ = x.shape
        window, shift = get_window_size((d, h, w), self.window, self.shift)
        padded = tuple(int(math.ceil(s / ws)) * ws for s, ws in zip((d, h, w), window))
        mask = None
        if any(s > 0 for s in shift):  # fixed for a given input size: built once per (size, device)
            key = (padded, window, shift, str(x.device))
            mask = self._mask_cache.get(key)
            if mask is None:
                mask = self._mask_cache[key] = compute_shift_mask(padded, window, shift, x.device)
        for block in self.blocks:
            x = block(x, mask)
        return self.downsample(x) if self.downsample is not None else x


class PatchEmbed3D(nn.Module):
    """Conv3d patchify (kernel = stride = patch) + LayerNorm: (B, 3, L, H, W) → (B, L/2, H/4, W/4, C)."""

    def __init__(self, patch: tuple[int, int, int], in_chans: int, dim: int) -> None:
        super().__init__()
        self.patch = tuple(patch)
        self.proj = nn.Conv3d(in_chans, dim, kernel_size=self.patch, stride=self.patch)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, d, h, w = x.shape
        p = self.patch
        x = F.pad(x, (0, (-w) % p[2], 0, (-h) % p[1], 0, (-d) % p[0]))
        x = self.proj(x).permute(0, 2, 3, 4, 1)
        return self.norm(x)


class VideoSwinEncoder(nn.Module):
    """Video Swin Transformer backbone: (B, 3, L, H, W) normalised video → (B, L', h, w, C_out)."""

    def __init__(self, cfg: OmniHeadConfig) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed3D(cfg.patch_size, 3, cfg.embed_dim)
        total = sum(cfg.depths)
        dpr = torch.linspace(0, cfg.drop_path, total).tolist() if total > 0 else []
        stages, start = [], 0
        for i, depth in enumerate(cfg.depths):
            dim = cfg.embed_dim * 2**i
            stages.append(
                SwinStage(dim, depth, cfg.num_heads[i], cfg.window_size, cfg.mlp_ratio, dpr[start : start + depth], downsample=i < len(cfg.depths) - 1)
            )
            start += depth
        self.stages = nn.ModuleList(stages)
        self.norm = nn.LayerNorm(cfg.out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        for stage in self.stages:
            x = stage(x)
        return self.norm(x)


# ---------------------------------------------------------------------------------------------
# task-token decoder


def sincos_2d(h: int, w: int, dim: int, device: torch.device | None = None, temperature: float = 10000.0) -> torch.Tensor:
    """Fixed 2D sine-cosine positional embedding, (h·w, dim); dim divisible by 4."""
    y, x = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32), torch.arange(w, device=device, dtype=torch.float32), indexing="ij")
    q = dim // 4
    omega = 1.0 / temperature ** (torch.arange(q, device=device, dtype=torch.float32) / max(q, 1))
    y = y.flatten()[:, None] * omega[None]
    x = x.flatten()[:, None] * omega[None]
    return torch.cat([x.sin(), x.cos(), y.sin(), y.cos()], dim=1)


class TaskDecoderLayer(nn.Module):
    """[task self-attention] → task→frame cross-attention → FFN (post-norm, DETR style)."""

    def __init__(self, dim: int, heads: int, self_attention: bool) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads, batch_first=True) if self_attention else None
        self.norm_sa = nn.LayerNorm(dim) if self_attention else None
        self.cross_attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm_ca = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.norm_ffn = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor, frame: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """tokens: (N_f, J, C) task tokens; frame: (N_f, h·w, C) frame tokens; pos: (h·w, C)."""
        if self.self_attn is not None:
            tokens = self.norm_sa(tokens + self.self_attn(tokens, tokens, tokens, need_weights=False)[0])
        tokens = self.norm_ca(tokens + self.cross_attn(tokens, frame + pos, frame, need_weights=False)[0])
        return self.norm_ffn(tokens + self.ffn(tokens))


class TaskDecoder(nn.Module):
    """K layers; the first has no task self-attention (OmniHead §4.1.2)."""

    def __init__(self, dim: int, heads: int, num_layers: int, num_tasks: int) -> None:
        super().__init__()
        self.task_tokens = nn.Parameter(torch.randn(num_tasks, dim) * 0.02)
        self.layers = nn.ModuleList(TaskDecoderLayer(dim, heads, self_attention=i > 0) for i in range(num_layers))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """frames: (B, L, h, w, C) → task tokens (B, L, J, C), decoded independently per frame."""
        b, l, h, w, c = frames.shape
        mem = frames.reshape(b * l, h * w, c)
        pos = sincos_2d(h, w, c, frames.device).to(frames.dtype)
        tokens = self.task_tokens.unsqueeze(0).expand(b * l, -1, -1)
        for layer in self.layers:
            tokens = layer(tokens, mem, pos)
        return tokens.reshape(b, l, -1, c)


def gaze_speed_features(gaze: torch.Tensor, context: int = 2) -> torch.Tensor:
    """Angular speeds of a gaze track around each frame (input of the saccade head's gaze branch).

    For frame ``t`` (``k`` = ``context``): the angles between ``g[t+j−1]`` and ``g[t+j]`` for
    ``j = −k+1 … k`` (the ``2k`` frame-to-frame speeds), then between ``g[t−j]`` and ``g[t+j]``
    for ``j = 1 … k`` (net displacement, which separates a directed shift from jitter). The track
    is padded by repeating its first/last vector, so speeds reaching past the clip are 0. Angles
    are in degrees, compressed with ``log1p`` (saccades: a few degrees per frame, drift: ≪ 1°).

    Args:
        gaze: (B, L, 3) gaze directions (normalised here).
        context: ``k`` ≥ 1.
    Returns:
        (B, L, 3k) features, ``log1p(angle in degrees)``.
    """
    if gaze.ndim != 3 or gaze.shape[-1] != 3:
        raise ValueError(f"gaze must be (B, L, 3), got {tuple(gaze.shape)}")
    k = int(context)
    if k < 1:
        raise ValueError(f"context must be ≥ 1, got {context}")
    length = gaze.shape[1]
    g = F.normalize(gaze, dim=-1, eps=1e-6)
    g = torch.cat([g[:, :1].expand(-1, k, -1), g, g[:, -1:].expand(-1, k, -1)], dim=1)  # (B, L+2k, 3)

    def at(j: int) -> torch.Tensor:  # g[t + j] for every t: (B, L, 3)
        return g[:, k + j : k + j + length]

    def angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # atan2(|a×b|, a·b): exact near 0
        return torch.atan2(torch.linalg.vector_norm(torch.cross(a, b, dim=-1), dim=-1), (a * b).sum(-1))

    pairs = [(j - 1, j) for j in range(-k + 1, k + 1)] + [(-j, j) for j in range(1, k + 1)]
    ang = torch.stack([angle(at(a), at(b)) for a, b in pairs], dim=-1)  # (B, L, 3k) radians
    return torch.log1p(ang * (180.0 / math.pi))


def task_mlp(dim: int, hidden: int, out: int) -> nn.Sequential:
    """MLP with 2 hidden layers."""
    return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, out))


MOTION_TEMPORAL: dict[str, bool] = {"saccade": False, "gesture": True}
"""Whether a task's motion path mixes ±6 frames (gestures: movements of 0.3–2 s) or stays per frame (saccades: 1–2 frames)."""


class FrameMotionStem(nn.Module):
    """Per-frame motion features at the full frame rate (the saccade and gesture heads' motion paths).

    For every frame ``t`` of a normalised clip the CNN sees 9 channels: the differences
    ``x[t] − x[t−1]`` and ``x[t+1] − x[t]`` (scaled by :attr:`DIFF_SCALE`; 0 past the clip's ends)
    and the frame ``x[t]`` itself (where the eyes are). Four 3×3 convolutions (stride 1, 2, 2, 2,
    GELU) keep the pixel grid at the first layer, so a sub-pixel iris shift that antialiasing turns
    into a few grey levels along the iris edge is still seen; max- and mean-pooling over space make
    the feature independent of where the eyes sit in the crop. The encoder's 2-frame time patches
    and the interpolation back to ``L`` frames cannot see such 1–2-frame events.

    With ``temporal``, two 1D convolutions over the frame axis (kernel 5, dilations 1 and 2, GELU;
    zero-padded at the clip's ends) follow the pooling: each output frame then sees ±6 frames
    (±7 of pixels), enough for the shape of a nod or a shake.

    Args:
        width: channels ``c`` of the first convolutions (output ``4c`` per frame, ``2c`` with ``temporal``).
        temporal: add the temporal convolutions.
    """

    DIFF_SCALE = 2.5
    """Frame differences of normalised pixels are a few hundredths; ×2.5 brings them nearer the frame's range."""

    def __init__(self, width: int = 32, temporal: bool = False) -> None:
        super().__init__()
        c = int(width)
        self.net = nn.Sequential(
            nn.Conv2d(9, c, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(c, c, 3, stride=2, padding=1),
            nn.GELU(),
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1),
            nn.GELU(),
            nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1),
            nn.GELU(),
        )
        self.temporal = (
            nn.Sequential(nn.Conv1d(4 * c, 2 * c, 5, padding=2), nn.GELU(), nn.Conv1d(2 * c, 2 * c, 5, padding=4, dilation=2), nn.GELU())
            if temporal
            else None
        )
        self.out_dim = 2 * c if temporal else 4 * c
        # frames on each side that one output frame depends on: 1 (frame differences) + the temporal convolutions' reach
        self.reach = 1 + sum(m.dilation[0] * (m.kernel_size[0] - 1) // 2 for m in (self.temporal or ()) if isinstance(m, nn.Conv1d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: normalised (B, 3, L, H, W) → (B, L, out_dim)."""
        b, _, length, h, w = x.shape
        x = x.transpose(1, 2)  # (B, L, 3, H, W)
        zero = torch.zeros_like(x[:, :1])
        d = (x[:, 1:] - x[:, :-1]) * self.DIFF_SCALE  # (B, L−1, 3, H, W): x[t+1] − x[t]
        before = torch.cat([zero, d], dim=1)  # x[t] − x[t−1]
        after = torch.cat([d, zero], dim=1)  # x[t+1] − x[t]
        z = self.net(torch.cat([before, after, x], dim=2).reshape(b * length, 9, h, w))
        z = torch.cat([z.amax(dim=(2, 3)), z.mean(dim=(2, 3))], dim=1).reshape(b, length, -1)  # (B, L, 4c)
        if self.temporal is not None:
            z = self.temporal(z.transpose(1, 2)).transpose(1, 2)  # (B, L, 2c)
        return z


# ---------------------------------------------------------------------------------------------
# the model


class OmniHead(nn.Module):
    """Video-Swin encoder + temporal interpolation + task-token decoder + per-task MLPs."""

    def __init__(self, config: OmniHeadConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or OmniHeadConfig()
        self.encoder = VideoSwinEncoder(cfg)
        self.decoder = TaskDecoder(cfg.out_dim, cfg.decoder_heads, cfg.decoder_layers, len(cfg.tasks))
        self.heads = nn.ModuleDict({t: task_mlp(cfg.head_in_dim(t), cfg.head_hidden, TASK_DIMS[t]) for t in cfg.tasks})
        self.aux_probes = nn.ModuleDict({t: nn.Linear(cfg.out_dim, TASK_DIMS[t]) for t in cfg.tasks}) if cfg.aux_probes else None
        # task-specific input paths outside the decoder (trained with their head: ``task_stems.<task>.``)
        stems = {t: FrameMotionStem(cfg.motion_width, temporal=MOTION_TEMPORAL[t]) for t in cfg.motion_tasks}
        self.task_stems = nn.ModuleDict(stems) if stems else None
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1, 1))
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1, 1))
        # decision thresholds on P(blink), P(saccade) used by sliding_window_predict; 0.5 = argmax,
        # set on validation data after training (class-weighted losses shift the probabilities)
        self.register_buffer("binary_thresholds", torch.tensor([0.5, 0.5]))
        self.apply(self._init_weights)
        # task tokens ~ N(0, 1) like DETR's query embeddings: with 0.02 the queries start ≈ 0, every
        # cross-attention is a uniform average over the frame tokens and the query gets ≈ no gradient
        nn.init.normal_(self.decoder.task_tokens, std=1.0)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def preprocess(self, video: torch.Tensor) -> torch.Tensor:
        """(B, L, H, W, 3) uint8 or (B, 3, L, H, W) float in [0, 1] → normalised (B, 3, L, H, W)."""
        if video.dtype == torch.uint8:
            if video.ndim != 5 or video.shape[-1] != 3:
                raise ValueError(f"uint8 video must be (B, L, H, W, 3), got {tuple(video.shape)}")
            video = video.permute(0, 4, 1, 2, 3).to(self.pixel_mean.dtype) / 255.0
        elif video.ndim != 5 or video.shape[1] != 3:
            raise ValueError(f"float video must be (B, 3, L, H, W), got {tuple(video.shape)}")
        return (video.to(self.pixel_mean.dtype) - self.pixel_mean) / self.pixel_std

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """Encoder feature maps interpolated back to L frames: (B, L, h, w, C)."""
        return self._encode_normalised(self.preprocess(video))

    def _encode_normalised(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[2]
        feats = self.encoder(x)  # (B, L', h, w, C)
        b, lp, h, w, c = feats.shape
        if lp != length:
            f = feats.permute(0, 2, 3, 4, 1).reshape(b, h * w * c, lp)
            f = F.interpolate(f, size=length, mode="linear", align_corners=False)
            feats = f.reshape(b, h, w, c, length).permute(0, 4, 1, 2, 3)
        return feats

    def motion_features(self, video: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-frame features of the motion paths (``task_stems``): ``{task: (B, L, motion_dim)}``
        (empty without motion paths). ``video`` as in :meth:`forward`, of any length."""
        if self.task_stems is None:
            return {}
        x = self.preprocess(video)
        return {task: stem(x) for task, stem in self.task_stems.items()}

    def forward(self, video: torch.Tensor, motion_features: dict[str, torch.Tensor] | None = None) -> OmniHeadOutput:
        """video: (B, L, H, W, 3) uint8 or (B, 3, L, H, W) float in [0, 1] → :class:`OmniHeadOutput`.

        ``motion_features``: the motion paths' per-frame features of these clips, precomputed
        over a longer video (:meth:`motion_features`; used by :func:`sliding_window_predict`, which
        then runs the stems once per frame instead of once per window). None = computed here.
        """
        x = self.preprocess(video)
        feats = self._encode_normalised(x)  # (B, L, h, w, C)
        tokens = self.decoder(feats)  # (B, L, J, C)
        frame_features = feats.mean(dim=(2, 3))
        out = OmniHeadOutput(
            clip_features=frame_features.mean(dim=1), clip_dynamics=frame_features.std(dim=1, unbiased=False), frame_features=frame_features
        )
        cfg = self.config
        gaze_first = cfg.saccade_gaze_velocity  # the saccade head then reads the gaze head's output
        order = sorted(range(len(cfg.tasks)), key=lambda j: gaze_first and cfg.tasks[j] == "saccade")
        for j in order:
            task = cfg.tasks[j]
            h = tokens[:, :, j]  # (B, L, C)
            if not cfg.reads_token(task) or cfg.speed_dim(task) or cfg.motion_dim(task):
                parts = [h] if cfg.reads_token(task) else []
                if cfg.speed_dim(task):
                    parts.append(gaze_speed_features(out.gaze.detach(), cfg.saccade_gaze_context).to(h.dtype))  # (B, L, 3k)
                if task in cfg.motion_tasks:
                    m = motion_features[task] if motion_features is not None else self.task_stems[task](x)
                    parts.append(m.to(h.dtype))  # (B, L, motion_dim)
                h = torch.cat(parts, dim=-1)
            y = self.heads[task](h)
            if task == "gaze":
                y = F.normalize(y, dim=-1, eps=1e-6)
            elif task == "va":
                y = torch.tanh(y)
            setattr(out, task, y)
        if self.aux_probes is not None:
            pooled = feats.amax(dim=(2, 3))  # (B, L, C): the strongest local response per channel
            out.aux = {t: probe(pooled) for t, probe in self.aux_probes.items()}
        return out

    def num_parameters(self, part: str | None = None) -> int:
        """Parameter count of the whole model or of ``"encoder"``, ``"decoder"``, ``"heads"``, ``"task_stems"``."""
        module = self if part is None else getattr(self, part)
        return sum(p.numel() for p in module.parameters())


# ---------------------------------------------------------------------------------------------
# losses (OmniHead App. F)


@dataclass
class LossConfig:
    """Per-task loss settings (App. F); ``weights`` default to the fine-tuning weights.

    ``gesture_class_weights``: optional CE weight per gesture class (none in App. F).
    ``aux_weight``: weight of the same task losses computed on the encoder probes' outputs
    (:attr:`OmniHeadOutput.aux`, when the model has them); 0 = ignore them.
    ``gaze_in_degrees``: the angular loss of Eq. S8 is in degrees; set False for radians
    (useful for short CPU runs where a degree-scaled loss swamps the classification terms).
    """

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LOSS_WEIGHTS))
    gesture_smoothing: float = 0.15
    binary_smoothing: float = 0.1
    binary_class_weights: tuple[float, float] = (1.0, 10.0)
    gaze_in_degrees: bool = True
    gesture_class_weights: tuple[float, ...] | None = None
    aux_weight: float = 0.0


def angular_error(pred: torch.Tensor, target: torch.Tensor, degrees: bool = True) -> torch.Tensor:
    """Angle between (…, 3) vectors (normalised here), elementwise; degrees or radians."""
    cos = (F.normalize(pred, dim=-1, eps=1e-6) * F.normalize(target, dim=-1, eps=1e-6)).sum(-1)
    ang = torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6))
    return ang * (180.0 / math.pi) if degrees else ang


def ccc_torch(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Concordance correlation coefficient of two 1-D tensors."""
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(unbiased=False), y.var(unbiased=False)
    cov = ((x - mx) * (y - my)).mean()
    return 2 * cov / (vx + vy + (mx - my) ** 2 + 1e-8)


def omnihead_loss(out: OmniHeadOutput, targets: dict[str, torch.Tensor], cfg: LossConfig | None = None) -> OmniHeadLoss:
    """Masked multi-task loss.

    Args:
        out: model output for (B, L) frames.
        targets: any subset of ``gesture``/``blink``/``saccade``/``expression`` (B, L) long
            with −1 = unlabelled; ``gaze`` (B, L, 3), ``va`` (B, L, 2), ``au`` (B, L, 12)
            float with NaN = unlabelled. Tasks without a single label add nothing.
    """
    cfg = cfg or LossConfig()
    ref = out.clip_features
    total = ref.new_zeros(())
    per_task: dict[str, float] = {}
    counts: dict[str, int] = {}
    for task, target in targets.items():
        pred = out.task(task)
        if pred is None or target is None:
            continue
        weight = float(cfg.weights.get(task, 0.0))
        if task in ("gesture", "blink", "saccade", "expression"):
            tgt = target.reshape(-1).long()
            valid = tgt >= 0
            n = int(valid.sum())
            if n == 0:
                continue
            logits = pred.reshape(-1, pred.shape[-1])[valid]
            tgt = tgt[valid]
            if task == "gesture":
                gw = None if cfg.gesture_class_weights is None else torch.tensor(cfg.gesture_class_weights, device=logits.device, dtype=logits.dtype)
                loss = F.cross_entropy(logits, tgt, weight=gw, label_smoothing=cfg.gesture_smoothing)
            elif task == "expression":
                loss = F.cross_entropy(logits, tgt, weight=torch.tensor(EXPRESSION_CLASS_WEIGHTS, device=logits.device, dtype=logits.dtype))
            else:
                w = torch.tensor(cfg.binary_class_weights, device=logits.device, dtype=logits.dtype)
                loss = F.cross_entropy(logits, tgt, weight=w, label_smoothing=cfg.binary_smoothing)
        else:
            d = pred.shape[-1]
            tgt = target.reshape(-1, d).to(pred.dtype)
            p = pred.reshape(-1, d)
            if task == "au":
                valid_e = ~torch.isnan(tgt)
                n = int(valid_e.any(-1).sum())
                if n == 0:
                    continue
                loss = F.binary_cross_entropy_with_logits(p[valid_e], tgt[valid_e])
            else:
                valid = ~torch.isnan(tgt).any(-1)
                n = int(valid.sum())
                if n == 0:
                    continue
                if task == "gaze":
                    loss = angular_error(p[valid], tgt[valid], degrees=cfg.gaze_in_degrees).mean()
                elif task == "va":
                    if n < 2:
                        continue
                    loss = sum(1.0 - ccc_torch(p[valid][:, k], tgt[valid][:, k]) for k in range(2))
                else:  # pragma: no cover - guarded by TASKS
                    raise KeyError(task)
        total = total + weight * loss
        per_task[task] = float(loss.detach())
        counts[task] = n
    if out.aux and cfg.aux_weight > 0:
        probe_out = OmniHeadOutput(clip_features=ref, clip_dynamics=ref, frame_features=ref, **out.aux)
        probe = omnihead_loss(probe_out, targets, replace(cfg, aux_weight=0.0))
        total = total + cfg.aux_weight * probe.total
        per_task.update({f"aux_{k}": v for k, v in probe.per_task.items()})
    return OmniHeadLoss(total=total, per_task=per_task, counts=counts)


# ---------------------------------------------------------------------------------------------
# inference


@dataclass
class FramePredictions:
    """Per-frame recognizer outputs for a whole video (numpy).

    Attributes:
        gesture: (T,) int class per frame (argmax); blink, saccade: (T,) 0/1, positive where the
            probability reaches the model's ``binary_thresholds`` (0.5 = argmax).
        gesture_prob: (T, 6), blink_prob, saccade_prob: (T,) probability of the positive class.
        gaze: (T, 3) unit vectors (camera coordinates).
        clip_features, clip_dynamics: (W, C) encoder features of every window that was run
            (see :class:`OmniHeadOutput`).
    """

    gesture: Any = None
    gesture_prob: Any = None
    blink: Any = None
    blink_prob: Any = None
    saccade: Any = None
    saccade_prob: Any = None
    gaze: Any = None
    clip_features: Any = None
    clip_dynamics: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@torch.no_grad()
def sliding_window_predict(model: OmniHead, frames: Any, batch_size: int = 16, stride: int = 1) -> FramePredictions:
    """Sliding-window inference keeping the centre frame (OmniHead protocol).

    Each frame ``t`` is predicted from the window ``[t − L//2, t − L//2 + L)`` (edges padded by
    repeating the first/last frame) and only the window's centre prediction is kept. With
    ``stride > 1`` a window keeps its ``stride`` central frames (faster, approximate). The motion
    paths (``task_stems``) run once over the whole video (in overlapping chunks) and each window
    reads its frames' features: at the centre frame identical to running them on the window,
    ≈ 5× faster at stride 1 than once per window.

    Args:
        frames: (T, H, W, 3) uint8 video at the model's resolution.
    Returns:
        :class:`FramePredictions` with T entries per task.
    """
    import numpy as np

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3), got {frames.shape}")
    t_total = frames.shape[0]
    length = model.config.num_frames
    centre = length // 2
    stride = max(1, min(int(stride), length))
    off = centre - stride // 2  # position of the first kept frame inside a window
    # window for targets [a, a+stride) starts at a - off; front padding of `centre` frames
    padded = np.concatenate([np.repeat(frames[:1], centre, 0), frames, np.repeat(frames[-1:], length, 0)], axis=0)
    starts = list(range(0, t_total, stride))
    device = model.pixel_mean.device
    keep: dict[str, list[np.ndarray]] = {}
    feats: list[np.ndarray] = []
    dyn: list[np.ndarray] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            # the motion paths depend on a few frames around each frame: run once over the whole video, not once per window
            motion = _video_motion_features(model, padded, device)
            for i in range(0, len(starts), batch_size):
                chunk = starts[i : i + batch_size]
                spans = [(a - off + centre, a - off + centre + length) for a in chunk]
                batch = np.stack([padded[s0:s1] for s0, s1 in spans])
                given = {task: torch.stack([f[s0:s1] for s0, s1 in spans]) for task, f in motion.items()} if motion else None
                out = model(torch.from_numpy(np.ascontiguousarray(batch)).to(device), motion_features=given)
                feats.append(out.clip_features.float().cpu().numpy())
                dyn.append(out.clip_dynamics.float().cpu().numpy())
                for task in ("gesture", "blink", "saccade", "gaze"):
                    y = out.task(task)
                    if y is None:
                        continue
                    if task != "gaze":
                        y = y.softmax(-1)
                    keep.setdefault(task, []).append(y[:, off : off + stride].float().cpu().numpy())
    finally:
        model.train(was_training)
    res = FramePredictions(clip_features=np.concatenate(feats, 0), clip_dynamics=np.concatenate(dyn, 0))
    for task, parts in keep.items():
        arr = np.concatenate(parts, 0)  # (nW, stride, D): window i keeps frames [i·stride, (i+1)·stride)
        arr = arr.reshape(-1, arr.shape[-1])[:t_total]
        if task == "gaze":
            res.gaze = arr
        elif task == "gesture":
            res.gesture_prob = arr
            res.gesture = arr.argmax(-1)
        else:
            thr = float(model.binary_thresholds[0 if task == "blink" else 1])
            setattr(res, f"{task}_prob", arr[:, 1])
            setattr(res, task, (arr[:, 1] >= thr).astype(np.int64))
    return res


def _video_motion_features(model: OmniHead, frames: Any, device: Any, chunk: int = 128) -> dict[str, torch.Tensor]:
    """:meth:`OmniHead.motion_features` of a whole (T, H, W, 3) uint8 video, in chunks of ``chunk``
    frames overlapping by the stems' :attr:`FrameMotionStem.reach` on each side (so the result
    equals one pass over the whole video): ``{task: (T, D)}``."""
    import numpy as np

    if model.task_stems is None:
        return {}
    reach = max(stem.reach for stem in model.task_stems.values())
    t_total = len(frames)
    parts: dict[str, list[torch.Tensor]] = {}
    for a in range(0, t_total, chunk):
        b = min(a + chunk, t_total)
        lo, hi = max(0, a - reach), min(t_total, b + reach)
        clip = torch.from_numpy(np.ascontiguousarray(frames[lo:hi]))[None].to(device)
        for task, f in model.motion_features(clip).items():
            parts.setdefault(task, []).append(f[0, a - lo : b - lo])
    return {task: torch.cat(p, 0) for task, p in parts.items()}


def load_omnihead(path: Any = None, map_location: str = "cpu") -> OmniHead:
    """Load an OmniHead checkpoint folder (default: the tiny recognizer shipped in the package)."""
    from pathlib import Path

    from stygaze.checkpoint import build_config, builtin_dir, load_state_strict, read_checkpoint
    from stygaze.errors import CheckpointError

    if path is None:
        path = builtin_dir("omnihead")
    info = read_checkpoint(path, model_type="omnihead")
    try:
        cfg = build_config(OmniHeadConfig, info.config, where=str(path))
    except ValueError as exc:
        raise CheckpointError(f"{path}: invalid OmniHead config: {exc}") from exc
    model = OmniHead(cfg)
    load_state_strict(model, info.state_dict, where=str(path))
    model.meta = info.meta  # type: ignore[attr-defined]
    return model.to(map_location).eval()
