"""Windowed motion generator (StyGazeTalk §III-C): audio + past motion + style -> next N frames.

At step ``t`` (motion frames at 25 fps) the generator reads

- audio features for frames ``[t, t+M)`` -> projected to ``d`` by the audio encoder,
- the motion of frames ``[t-M, t)`` (normalised per channel) -> projected to ``d``,
- the style vector ``s`` (``d_s``; absent for the Base model, ``style_dim = 0``),

concatenates them to ``Z_t`` of shape ``(M, 2d + d_s)`` and runs a multi-layer LSTM with
learnable initial states ``(h0, c0)``. The last hidden state predicts frames ``[t, t+N)`` as
offsets from the last past frame. Rolled out autoregressively (step ``N``) it generates any
length; the first past window is the neutral pose (the training mean) unless given.

``kind="transformer"`` swaps the LSTM for a Transformer encoder of matched width and depth
(the TFM ablation): the same ``Z_t`` plus positional encoding, a learned summary token
(playing the role of ``h0``) whose output predicts the N frames.

**Latency.** To emit frame ``t`` the model needs audio up to frame ``t + M - 1`` and emits
N frames at a time, so a stream lags the audio by up to ``N + M - 1`` frames
(:attr:`GeneratorConfig.latency_frames`; defaults M = 20, N = 10 -> 29 frames = 1.16 s).

**Audio look-ahead decoupled from the past window (optional).** ``audio_lookahead = L`` (< M)
keeps the M-frame past window but shifts the audio window back: at step ``t`` the audio
features of frames ``[t + L - M, t + L)`` sit beside the past motion ``[t - M, t)`` (frames
before the clip start repeat frame 0, as frames past its end repeat the last one). A stream
then lags by ``N + L - 1`` frames. ``None`` (the default, and every checkpoint made before the
field existed) means ``L = M``: the paper's alignment, audio ``[t, t + M)``.

**Explicit style statistics (optional, ``style_stats = 6``; used by the built-in model).**
Beside the learned style (the contrastive encoder's ``d_s`` vector, which identifies a
speaker well inside the training corpus but says little that is calibrated about a clip
recorded elsewhere) the generator reads six numbers measured on the reference clip:
the log of the head's per-axis standard deviation and of its per-axis mean absolute speed
(:func:`~stygaze.stygazetalk.style_encoder.window_statistics`; the definitions of
:mod:`stygaze.eval.realism`). They mean the same on any recording, so a reference clip of a
real speaker moves the generated amplitude and speed towards that speaker. A style vector
of such a model is ``[learned style, raw statistics]`` (``d_s + 6``); the generator
standardises the statistics with the training windows' mean and std (buffers); the neutral
style carries the mean training session's statistics. In training each segment reads the
statistics of the few seconds around it (:func:`~stygaze.stygazetalk.train_generator.local_statistics`;
the learned style comes from a random window of the same session), so the generator learns to
follow them rather than only the amplitude of its own past frames.

**Beat-weighted head velocity (optional, ``beat_weight > 0``, with ``beat_feature``).** The
velocity loss of the head channels gets an extra weight on frames near a speech beat (the
beat channel's value times ``beat_weight``): people end and start head movements on stressed
syllables, and this is where a plain MSE cares least.

**Latent (optional, ``latent_dim > 0``; an addition to the paper used by the built-in
model).** A per-step latent z enters the output head: during training z comes from a
posterior ``q(z | Z_t, target)`` and a KL term (weight ``kl_weight``) ties it to a learned
conditional prior ``p(z | Z_t)``; at inference z is drawn from the prior with a seeded
:class:`NoiseSource` scaled by ``temperature``. A deterministic regressor averages the
unpredictable timing of saccades away and produces motion that is too still; the latent
lets the model commit to one plausible future. ``latent_dim = 0`` is the paper's model.

Loss: ``lambda * MSE + (1 - lambda) * velocity MSE`` on normalised channels
(:func:`generator_loss`; the velocity term includes the step from the last past frame).
Motion normalisation statistics (per-channel mean/std, degrees) are registered buffers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stygaze.checkpoint import (
    build_config,
    load_state_strict,
    read_checkpoint,
    save_checkpoint,
)
from stygaze.config import (
    DEPTH,
    DROPOUT,
    FRACTION,
    FRAMES,
    HEADS,
    LATENT,
    NON_NEGATIVE,
    WIDTH,
    option,
)
from stygaze.errors import CheckpointError
from stygaze.features import rhythm
from stygaze.motion import NUM_CHANNELS
from stygaze.stygazetalk.audio_encoder import make_audio_encoder
from stygaze.stygazetalk.style_encoder import (
    StyleEncoder,
    StyleEncoderConfig,
    sinusoidal_encoding,
)


@dataclass
class GeneratorConfig:
    """Generator hyper-parameters. ``M``/``N`` are motion frames at 25 fps."""

    kind: str = option("lstm", choices=("lstm", "transformer"))  # "lstm" (StyGazeTalk) or "transformer" (TFM ablation)
    audio_encoder: str = option("mel", choices=("mel", "wav2vec2"))
    audio_encoder_kwargs: dict = field(default_factory=dict)  # MelConfig fields / Wav2Vec2Encoder kwargs
    d: int = option(64, range=WIDTH)  # audio and motion projection size
    style_dim: int = option(64, range=LATENT)  # d_s; 0 = no style (Base)
    beat_weight: float = option(0.0, range=NON_NEGATIVE)  # extra weight of the head-velocity loss on beat frames (needs beat_feature)
    style_stats: int = option(0, choices=(0, 6))  # explicit head statistics beside the learned style (style_encoder.STYLE_STATS); 0 = none
    hidden: int = option(128, range=WIDTH)  # LSTM hidden size / Transformer width
    num_layers: int = option(2, range=DEPTH)
    num_heads: int = option(4, range=HEADS)  # Transformer only
    dropout: float = option(0.1, range=DROPOUT)
    M: int = option(20, range=(1, 1000))  # past-motion window = audio window length (frames); also the audio look-ahead unless audio_lookahead is set
    N: int = option(10, range=(1, 1000))  # frames predicted per step
    audio_lookahead: int | None = option(None, range=(1, 1000))  # L: audio frames ahead of the step (1..M); None = M (the paper's alignment)
    vel_lambda: float = option(1.0, range=FRACTION)  # lambda: weight of MSE; 1 - lambda weights the velocity loss
    latent_dim: int = option(0, range=LATENT)  # > 0: per-step latent z (conditional prior, posterior from the target); 0 = the paper's deterministic model
    kl_weight: float = option(0.01, range=NON_NEGATIVE)  # beta of the KL term when latent_dim > 0
    temperature: float = option(1.0, range=NON_NEGATIVE)  # default scale of the latent draws at inference (chosen on the val split)
    beat_feature: bool = False  # append the speech-beat channel (stygaze.features.rhythm) to the audio features (mel only)
    beat_context: int = option(150, range=FRAMES)  # onset frames the streaming (online) beat tracker sees
    motion_dim: int = option(NUM_CHANNELS, choices=(NUM_CHANNELS,))

    @property
    def lookahead(self) -> int:
        """L: audio frames ahead of a step's first predicted frame (``audio_lookahead``, default M)."""
        return self.M if self.audio_lookahead is None else int(self.audio_lookahead)

    @property
    def audio_offset(self) -> int:
        """``M - L`` ≥ 0: the audio window of step ``t`` starts this many frames before ``t``."""
        return self.M - self.lookahead

    @property
    def latency_frames(self) -> int:
        """Worst-case streaming delay in frames between an audio frame arriving and its motion frame."""
        return self.N + self.lookahead - 1


@dataclass
class GeneratorOutput:
    """One generator step or rollout.

    Attributes:
        motion: ``(B, N, 7)`` (step) or ``(B, T, 7)`` (rollout), **normalised** units unless
            a method says degrees.
        loss: scalar training loss when a target was given.
        mse: the MSE term; vel: the velocity term (both detached floats).
    """

    motion: torch.Tensor
    loss: torch.Tensor | None = None
    mse: float | None = None
    vel: float | None = None
    kl: float | None = None


def generator_loss(
    pred: torch.Tensor, target: torch.Tensor, last_past: torch.Tensor, vel_lambda: float, head_weights: torch.Tensor | None = None
) -> tuple:
    """``lambda * MSE + (1 - lambda) * velocity`` over ``(B, N, C)`` normalised motion.

    Velocities include the step from ``last_past`` ``(B, C)`` (ground truth) to the first
    predicted frame, so the loss also penalises jumps at window joins. ``head_weights``
    ``(B, N)``: an extra weight per predicted frame on the head channels' velocity error
    (the beat channel times ``beat_weight``: how the head moves on a speech beat, where people
    end their movements, counts more). Returns ``(loss, mse, vel)``.
    """
    mse = F.mse_loss(pred, target)
    p = torch.cat([last_past[:, None], pred], dim=1)
    g = torch.cat([last_past[:, None], target], dim=1)
    vel = F.mse_loss(p[:, 1:] - p[:, :-1], g[:, 1:] - g[:, :-1])
    if head_weights is not None:
        head_err = ((p[:, 1:, :3] - p[:, :-1, :3]) - (g[:, 1:, :3] - g[:, :-1, :3])) ** 2  # (B, N, 3)
        vel = vel + (head_weights[..., None] * head_err).mean()
    loss = vel_lambda * mse + (1.0 - vel_lambda) * vel if vel_lambda < 1.0 else mse
    return loss, float(mse.detach()), float(vel.detach())


class MotionGenerator(nn.Module):
    """Windowed LSTM (or Transformer) motion generator; see the module docstring."""

    def __init__(self, config: GeneratorConfig | None = None):
        super().__init__()
        self.config = c = config or GeneratorConfig()
        if c.kind not in ("lstm", "transformer"):
            raise ValueError(f"unknown generator kind {c.kind!r}")
        if c.beat_feature and c.audio_encoder != "mel":
            raise ValueError("beat_feature needs the mel audio encoder (its onset column drives the streaming beat tracker)")
        if c.beat_feature and c.beat_context < 2 * c.N:
            raise ValueError(f"beat_context must be at least 2·N = {2 * c.N} frames, got {c.beat_context}")
        if c.audio_lookahead is not None and not 1 <= int(c.audio_lookahead) <= c.M:
            raise ValueError(f"audio_lookahead must be between 1 and M = {c.M} frames, got {c.audio_lookahead}")
        self.audio = make_audio_encoder(c.audio_encoder, c.d, **c.audio_encoder_kwargs)
        if c.beat_feature:
            self.beat_proj = nn.Linear(1, c.d)
        self.register_buffer("motion_mean", torch.zeros(c.motion_dim))
        self.register_buffer("motion_std", torch.ones(c.motion_dim))
        self.register_buffer("default_style", torch.zeros(max(c.style_dim + c.style_stats, 1)))  # neutral style (mean training style)
        if c.style_stats:  # standardisation of the explicit statistics (set from the training windows)
            self.register_buffer("stats_mean", torch.zeros(c.style_stats))
            self.register_buffer("stats_std", torch.ones(c.style_stats))
        self.motion_proj = nn.Linear(c.motion_dim, c.d)
        in_dim = 2 * c.d + c.style_dim + c.style_stats
        if c.kind == "lstm":
            self.rnn = nn.LSTM(in_dim, c.hidden, c.num_layers, batch_first=True, dropout=c.dropout if c.num_layers > 1 else 0.0)
            self.h0 = nn.Parameter(torch.zeros(c.num_layers, 1, c.hidden))
            self.c0 = nn.Parameter(torch.zeros(c.num_layers, 1, c.hidden))
        else:
            self.inp = nn.Linear(in_dim, c.hidden)
            self.register_buffer("pos", sinusoidal_encoding(c.M + 1, c.hidden), persistent=False)
            self.summary = nn.Parameter(torch.zeros(1, 1, c.hidden))
            layer = nn.TransformerEncoderLayer(
                c.hidden, c.num_heads, 2 * c.hidden, c.dropout, batch_first=True, norm_first=True, activation="gelu"
            )
            self.tfm = nn.TransformerEncoder(layer, c.num_layers, enable_nested_tensor=False)
            self.tfm_norm = nn.LayerNorm(c.hidden)
        if c.latent_dim > 0:
            # conditional prior p(z | Z_t) and posterior q(z | Z_t, target), diagonal Gaussians
            self.prior = nn.Linear(c.hidden, 2 * c.latent_dim)
            self.posterior = nn.Sequential(
                nn.Linear(c.hidden + c.N * c.motion_dim, c.hidden), nn.GELU(), nn.Linear(c.hidden, 2 * c.latent_dim)
            )
        self.out = nn.Linear(c.hidden + c.latent_dim, c.N * c.motion_dim)
        nn.init.zeros_(self.out.bias)
        with torch.no_grad():
            self.out.weight.mul_(0.1)  # start close to "hold the last frame"

    # --- normalisation -----------------------------------------------------------------
    def set_normalization(self, mean, std) -> None:
        """Per-channel motion mean/std in degrees (buffers, saved with the weights)."""
        self.motion_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.motion_std.copy_(torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-3))

    def normalize(self, motion: torch.Tensor) -> torch.Tensor:
        return (motion - self.motion_mean) / self.motion_std

    def denormalize(self, motion: torch.Tensor) -> torch.Tensor:
        return motion * self.motion_std + self.motion_mean

    # --- one step ------------------------------------------------------------------------
    def forward(
        self,
        audio_features: torch.Tensor,
        past: torch.Tensor,
        style: torch.Tensor | None = None,
        target: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        """One window step.

        Args:
            audio_features: ``(B, M, F)`` raw audio features for frames ``[t, t+M)``.
            past: ``(B, M, 7)`` normalised motion of frames ``[t-M, t)``.
            style: ``(B, d_s + style_stats)`` style vectors (ignored when ``style_dim == 0``): the
                learned style, then the raw explicit statistics when the model reads them.
            target: optional ``(B, N, 7)`` normalised ground truth of ``[t, t+N)``; with a
                latent, z is then drawn from the posterior (training).
            noise: ``(B, latent_dim)`` standard-normal draws for z from the prior when no
                target is given (None = the prior mean). Ignored without a latent.

        Returns:
            :class:`GeneratorOutput` with ``motion (B, N, 7)`` normalised.
        """
        c = self.config
        B = past.shape[0]
        if c.beat_feature:  # last column: the beat channel
            a = self.audio(audio_features[..., :-1]) + self.beat_proj(audio_features[..., -1:])
        else:
            a = self.audio(audio_features)
        parts = [a, self.motion_proj(past)]  # (B, M, d) each
        if c.style_dim > 0:
            if style is None:
                style = self.default_style[None].expand(B, -1)
            if c.style_stats:  # [learned style (d_s), raw statistics] -> standardised statistics
                style = torch.cat([style[:, : c.style_dim], (style[:, c.style_dim :] - self.stats_mean) / self.stats_std], dim=-1)
            parts.append(style[:, None, :].expand(B, past.shape[1], style.shape[-1]))
        z = torch.cat(parts, dim=-1)  # Z_t: (B, M, 2d + d_s)
        if c.kind == "lstm":
            h0 = self.h0.expand(-1, B, -1).contiguous()
            c0 = self.c0.expand(-1, B, -1).contiguous()
            y, _ = self.rnn(z, (h0, c0))
            summary = y[:, -1]  # (B, hidden)
        else:
            h = torch.cat([self.summary.expand(B, -1, -1), self.inp(z)], dim=1) + self.pos[: z.shape[1] + 1]
            summary = self.tfm_norm(self.tfm(h)[:, 0])
        kl = None
        if c.latent_dim > 0:
            z, kl = self._latent(summary, past, target, noise)
            summary = torch.cat([summary, z], dim=-1)
        delta = self.out(summary).view(B, c.N, c.motion_dim)
        pred = past[:, -1:, :] + delta  # offsets from the last past frame
        if target is None:
            return GeneratorOutput(pred)
        weights = None
        if c.beat_weight > 0 and c.beat_feature:  # beat channel of the predicted frames [t, t+N)
            first = c.M - c.lookahead  # audio row of the first predicted frame
            weights = c.beat_weight * audio_features[:, first : first + c.N, -1]
        loss, mse, vel = generator_loss(pred, target, past[:, -1], c.vel_lambda, weights)
        if kl is not None:
            loss = loss + c.kl_weight * kl
        return GeneratorOutput(pred, loss, mse, vel, None if kl is None else float(kl.detach()))

    def _latent(self, summary, past, target, noise) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Draw z: from the posterior when ``target`` is given (returns the KL too), else from
        the prior (``noise``: standard-normal draws × temperature; None = the prior mean)."""
        B = summary.shape[0]
        p_mu, p_logvar = self.prior(summary).chunk(2, dim=-1)
        if target is None:
            return (p_mu if noise is None else p_mu + torch.exp(0.5 * p_logvar) * noise), None
        rel = (target - past[:, -1:, :]).reshape(B, -1)
        q_mu, q_logvar = self.posterior(torch.cat([summary, rel], dim=-1)).chunk(2, dim=-1)
        z = q_mu + torch.exp(0.5 * q_logvar) * torch.randn_like(q_mu)
        kl = 0.5 * (p_logvar - q_logvar + (q_logvar.exp() + (q_mu - p_mu) ** 2) / p_logvar.exp() - 1).sum(-1).mean()
        return z, kl

    # --- features ------------------------------------------------------------------------
    @torch.no_grad()
    def clip_features(self, samples: np.ndarray | torch.Tensor, online_beats: bool = False,
                      beats: np.ndarray | None = None) -> torch.Tensor:
        """``(S,)`` 16 kHz samples -> ``(T, F)`` generator input features at 25 fps: the audio
        encoder's features, plus the beat channel (:meth:`with_beat_channel`)."""
        return self.with_beat_channel(self.audio.features(samples), samples, online_beats, beats)

    def with_beat_channel(self, feats: torch.Tensor, samples: np.ndarray | torch.Tensor, online_beats: bool = False,
                          beats: np.ndarray | None = None) -> torch.Tensor:
        """The audio encoder's ``(T, F)`` features of ``samples`` with (``beat_feature``) the beat
        channel appended as the last column, else unchanged.

        The channel holds the global beat tracker's beats
        (:func:`stygaze.features.rhythm.clip_beat_channel`, the definition BAS uses), or with
        ``online_beats`` the causal approximation a stream computes
        (:class:`stygaze.features.rhythm.OnlineBeats` on the encoder's onset column).
        ``beats``: the global tracker's beats of ``samples`` when the caller already has them
        (:func:`stygaze.features.rhythm.rhythmic_beats`), so they are not tracked twice.
        """
        c = self.config
        if not c.beat_feature:
            return feats
        feats = torch.as_tensor(feats)
        if online_beats:
            ch = rhythm.online_beat_channel(feats[:, self.audio.onset_column].numpy(), c.lookahead, c.N, c.beat_context)
        elif beats is not None:
            ch = rhythm.beat_channel(beats, feats.shape[0])
        else:
            x = samples.detach().cpu().numpy() if isinstance(samples, torch.Tensor) else samples
            ch = rhythm.clip_beat_channel(np.asarray(x, dtype=np.float32).reshape(-1), feats.shape[0])  # no copy of float32 input
        return torch.cat([feats, torch.from_numpy(ch)[:, None].to(feats)], dim=1)

    # --- rollout -------------------------------------------------------------------------
    def rollout(
        self,
        audio_features: torch.Tensor,
        style: torch.Tensor | None = None,
        past: torch.Tensor | None = None,
        num_frames: int | None = None,
        noise: "NoiseSource | None" = None,
    ) -> torch.Tensor:
        """Autoregressive generation over a whole clip.

        Args:
            audio_features: ``(B, T, F)`` raw audio features at 25 fps (frame ``j`` = motion frame ``j``;
                step ``t`` reads frames ``[t + L - M, t + L)``, see :func:`pad_audio_features`).
            style: ``(B, d_s)`` or None (the stored neutral style).
            past: ``(B, M, 7)`` normalised initial past window; None = neutral (zeros).
            num_frames: frames to produce (default T).
            noise: latent draws per step (:class:`NoiseSource`); None = prior means.

        Returns:
            ``(B, num_frames, 7)`` normalised motion.
        """
        c = self.config
        B, T, Fdim = audio_features.shape
        num_frames = T if num_frames is None else num_frames
        steps = -(-num_frames // c.N)
        audio_features = pad_audio_features(audio_features, c.audio_offset, (steps - 1) * c.N + c.M)
        if past is None:
            past = torch.zeros(B, c.M, c.motion_dim, device=audio_features.device)
        outs = []
        for k in range(steps):
            t = k * c.N
            eps = noise.draw(k, B) if noise is not None else None
            pred = self(audio_features[:, t : t + c.M], past, style, noise=eps).motion  # (B, N, 7)
            outs.append(pred)
            past = torch.cat([past, pred], dim=1)[:, -c.M :]
        return torch.cat(outs, dim=1)[:, :num_frames]

    @property
    def audio_encoder_id(self) -> str:
        return self.audio.encoder_id


def pad_audio_features(feats: torch.Tensor, offset: int, length: int) -> torch.Tensor:
    """``(B, T, F)`` features -> ``(B, length, F)`` with ``offset`` copies of frame 0 in front and the
    last frame repeated past the end (cut to ``length``): row ``j`` is frame ``j - offset``, so the
    window of step ``t`` is rows ``[t, t + M)``. ``offset = M - L`` (0 for the paper's alignment)."""
    B, T, Fdim = feats.shape
    parts = [feats[:, :1].expand(B, offset, Fdim)] if offset > 0 else []
    parts.append(feats)
    if offset + T < length:
        parts.append(feats[:, -1:].expand(B, length - offset - T, Fdim))
    out = torch.cat(parts, dim=1) if len(parts) > 1 else feats
    return out[:, :max(length, 0)] if out.shape[1] > length else out


class NoiseSource:
    """Reproducible latent draws: step ``k`` always gets the same ``(B, latent_dim)`` noise.

    Step ``k``'s draw depends only on ``(seed, k)``, so offline rollout and streaming agree.
    ``temperature`` scales the draws (0 = prior means).
    """

    def __init__(self, seed: int, latent_dim: int, temperature: float = 1.0):
        self.seed, self.latent_dim, self.temperature = int(seed), int(latent_dim), float(temperature)

    def draw(self, step: int, batch: int = 1) -> torch.Tensor | None:
        if self.latent_dim == 0:
            return None
        rng = np.random.default_rng([self.seed, int(step)])
        return torch.from_numpy(rng.standard_normal((batch, self.latent_dim)).astype(np.float32) * self.temperature)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def motion_stats(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean/std (degrees) over the finite frames of a list of ``(T, 7)`` arrays."""
    cat = np.concatenate([a[np.isfinite(a).all(axis=1)] for a in arrays], axis=0).astype(np.float64)
    return cat.mean(axis=0).astype(np.float32), cat.std(axis=0).astype(np.float32)


# --------------------------------------------------------------------------------------
# the full model: generator + the frozen style encoder it was trained with
# --------------------------------------------------------------------------------------
@dataclass
class StyGazeTalkConfig:
    """A generator and (unless ``generator.style_dim == 0``) its frozen style encoder."""

    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    style_encoder: "StyleEncoderConfig | None" = None

    @classmethod
    def from_dict(cls, values: dict, where: str = "checkpoint") -> "StyGazeTalkConfig":
        if not isinstance(values.get("generator"), dict):
            raise CheckpointError(f"{where}: config has no 'generator' section")
        gen = build_config(GeneratorConfig, values["generator"], where=where)
        se = values.get("style_encoder")
        return cls(gen, build_config(StyleEncoderConfig, se, where=where) if se else None)


class StyGazeTalkModel(nn.Module):
    """Generator + frozen style encoder, saved together as one ``stygazetalk`` checkpoint."""

    MODEL_TYPE = "stygazetalk"

    def __init__(self, config: StyGazeTalkConfig):
        super().__init__()

        self.config = config
        self.generator = MotionGenerator(config.generator)
        self.style_encoder = StyleEncoder(config.style_encoder) if config.style_encoder is not None else None
        if config.generator.style_dim > 0:
            if self.style_encoder is None:
                raise ValueError("a generator with style_dim > 0 needs a style encoder config")
            if config.style_encoder.style_dim != config.generator.style_dim:
                raise ValueError(
                    f"style encoder makes {config.style_encoder.style_dim}-d styles, generator expects {config.generator.style_dim}"
                )
        if self.style_encoder is not None:
            for p in self.style_encoder.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True):  # the style encoder stays frozen (eval) in both modes
        super().train(mode)
        if self.style_encoder is not None:
            self.style_encoder.eval()
        return self

    def save(self, path, meta: dict | None = None):
        """Write one checkpoint folder (safetensors + JSON) with both parts."""
        meta = dict(meta or {})
        meta["audio_encoder_id"] = self.generator.audio_encoder_id
        if self.style_encoder is not None:
            meta["style_encoder_id"] = self.style_encoder.encoder_id
        return save_checkpoint(path, self, model_type=self.MODEL_TYPE, config=self.config, meta=meta)

    @classmethod
    def load(cls, path) -> tuple["StyGazeTalkModel", dict]:
        """Rebuild from a checkpoint folder; returns ``(model, meta)``. CheckpointError on any problem."""
        info = read_checkpoint(path, model_type=cls.MODEL_TYPE)
        config = StyGazeTalkConfig.from_dict(info.config, where=str(path))
        try:
            model = cls(config)
        except (ValueError, TypeError) as exc:
            raise CheckpointError(f"{path}: cannot build the model: {exc}") from exc
        load_state_strict(model, info.state_dict, where=str(path))
        model.eval()
        return model, info.meta
