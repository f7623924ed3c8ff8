"""OmniHead: a spatio-temporal recognizer of head gestures, blinks, saccades and 3D gaze.

Implements the architecture of the OmniHead paper (§4, App. F; see docs/model-omnihead.md):

* **Video-Swin encoder** (written here in torch): 3D patch embedding (2×4×4 by default),
  stages of shifted 3D window attention with a relative position bias, patch merging
  (2×2 spatial) between stages. :func:`swin_t_config` is Video Swin-T exactly as in
  the paper (≈28 M encoder parameters, 768-d, 16×224×224 input);
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
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from stygaze.checkpoint import (
    build_config,
    builtin_dir,
    load_state_strict,
    read_checkpoint,
)
from stygaze.errors import CheckpointError
from stygaze.omnihead.config import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    MOTION_TEMPORAL,
    TASK_DIMS,
    OmniHeadConfig,
)
from stygaze.omnihead.decoder import TaskDecoder
from stygaze.omnihead.video_swin import VideoSwinEncoder

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




def load_omnihead(path: Any = None, map_location: str = "cpu") -> OmniHead:
    """Load an OmniHead checkpoint folder (default: the tiny recognizer shipped in the package)."""

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
