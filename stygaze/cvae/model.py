"""Gaze-conditioned head motion: a GRU conditional VAE (gaze_head_cvae paper).

Given a gaze track, :class:`HeadCVAE` samples plausible, diverse head motion (pitch, yaw,
roll in degrees, 25 fps) that moves *with* the gaze.

**Conditioning signal: world gaze.** The model is conditioned on the *world* gaze of each
eye, ``(T, 4)`` = ``[l_pitch, l_yaw, r_pitch, r_yaw]`` of ``R_head · d(eye-in-head)`` in
degrees (see :func:`stygaze.cvae.gaze.world_gaze_track`), not on the eye-in-head angles
of the input. Reason: eye-in-head angles already contain the head they were recorded with
(eye-in-head = world gaze − head, as rotations); keeping them and adding a new head would move
the point the avatar looks at, and a head predicted from them is ill-posed (a still world gaze
with a turning head and a counter-rotating eye — the vestibulo-ocular reflex — looks like an
eye movement). World gaze is also what an eye tracker or gaze estimator reports relative to
the camera, and what the paper conditions on. The pipeline therefore keeps the input's world
gaze exactly and recomputes the eye-in-head channels for the generated head.

**Generation** is autoregressive in chunks of ``chunk`` frames. Each chunk gets one latent
``z`` (from the learned prior ``p(z | gaze chunk, context)`` when sampling, from the posterior
``q(z | head chunk, gaze chunk, context)`` when training); the context is the last ``context``
frames of (generated) head and gaze. The first chunk of a sequence has no past and uses a
learned start context and absolute head outputs; every later chunk predicts head *velocities*
that are integrated from the last context frame, so the generated track is continuous across
chunk borders by construction. Consecutive chunks overlap by ``overlap`` frames, over which the
head velocity is cross-faded linearly from the previous chunk to the new one, so a new chunk's
latent (new behaviour) does not show as a velocity jump either (see :meth:`HeadCVAE.generate`).

Ablations (select by config, see ``configs/cvae_*.yaml``):

* ``temporal="framewise"``: no temporal model; MLP encoder/prior/decoder on single frames
  with one ``z`` per frame.
* ``temporal="gru", use_context=False``: GRUs inside a chunk, but no past head/gaze context:
  every chunk is generated independently (absolute outputs), so chunk borders can jump.
* ``temporal="gru", use_context=True`` (default): the full model.

Shapes: ``B`` batch (or K samples), ``N`` chunk frames, ``C`` context frames, ``Z`` latent size.
Tensors inside the model are *normalised* (``(x − mean) / std`` with the registered buffers
``head_mean/head_std`` (3,) and ``gaze_mean/gaze_std`` (4,)); the public ``generate`` takes and
returns degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from stygaze.checkpoint import (
    build_config,
    builtin_dir,
    load_state_strict,
    read_checkpoint,
    save_checkpoint,
)
from stygaze.config import DEPTH, FRAMES, WIDTH, Range, option
from stygaze.cvae.gaze import heads_for_gaze
from stygaze.errors import CheckpointError

MODEL_TYPE = "cvae"
HEAD_DIM = 3
GAZE_DIM = 4


@dataclass
class CVAEConfig:
    """Architecture of :class:`HeadCVAE` (stored in its checkpoint).

    Attributes:
        temporal: ``"gru"`` (temporal model) or ``"framewise"`` (no temporal model, ablation).
        use_context: condition each chunk on the past ``context`` frames of head and gaze
            (only for ``temporal="gru"``); without it chunks are independent (ablation).
        hidden: GRU / MLP width.
        z_dim: latent size per chunk (per frame for ``framewise``).
        chunk: frames generated per autoregressive step (32 = 1.28 s at 25 fps).
        context: past frames the context encoder sees (``≤ chunk``).
        layers: GRU layers.
        overlap: frames by which consecutive chunks overlap when generating with context; over
            the overlap the head velocity is cross-faded linearly from the previous chunk to the
            new one (``context + overlap <= chunk``). A new chunk's latent starts new behaviour;
            the cross-fade keeps that from showing as a velocity jump at the border.
        noise_correlation: correlation ρ of the prior noise of consecutive chunks when sampling
            (AR(1): ``ε_k = ρ ε_{k−1} + √(1−ρ²) ξ_k``, so every chunk's noise is still N(0, 1)).
            0 (default) = independent chunks, as in training; larger values make the sampled
            behaviour persist over several chunks.
        logvar_min, logvar_max: clamp of the Gaussian log-variances (numerical safety).
    """

    temporal: str = option("gru", choices=("gru", "framewise"))
    use_context: bool = True
    hidden: int = option(64, range=WIDTH)
    z_dim: int = option(8, range=(1, 4096))
    chunk: int = option(32, range=FRAMES)
    context: int = option(10, range=FRAMES)
    layers: int = option(1, range=DEPTH)
    overlap: int = option(8, range=(0, FRAMES.hi))
    noise_correlation: float = option(0.0, range=Range(0, 1, hi_open=True))
    logvar_min: float = -8.0
    logvar_max: float = 4.0

    def __post_init__(self) -> None:
        if self.temporal not in ("gru", "framewise"):
            raise ValueError(f"temporal must be 'gru' or 'framewise', got {self.temporal!r}")
        if not 0.0 <= self.noise_correlation < 1.0:
            raise ValueError(f"noise_correlation must be in [0, 1), got {self.noise_correlation}")
        if self.chunk < 1 or self.context < 1 or self.overlap < 0 or self.context + self.overlap > self.chunk:
            raise ValueError(f"need context >= 1, overlap >= 0 and context + overlap <= chunk, got context={self.context}, overlap={self.overlap}, chunk={self.chunk}")

    @property
    def contextual(self) -> bool:
        """True when chunks are conditioned on the past (GRU + context)."""
        return self.temporal == "gru" and self.use_context


@dataclass
class ChunkOutput:
    """One decoded chunk (normalised units).

    Attributes:
        head: ``(B, N, 3)`` normalised head angles.
        mu_q, logvar_q: ``(B, Z)`` posterior (``(B, N, Z)`` for framewise); None when sampling.
        mu_p, logvar_p: same shapes, the learned prior.
    """

    head: torch.Tensor
    mu_q: torch.Tensor | None
    logvar_q: torch.Tensor | None
    mu_p: torch.Tensor
    logvar_p: torch.Tensor


@dataclass
class CVAELoss:
    """Training losses (scalars). ``total = recon + w_vel · vel + beta · kl``."""

    total: torch.Tensor
    recon: torch.Tensor
    vel: torch.Tensor
    kl: torch.Tensor
    head: torch.Tensor  # (B, T, 3) normalised prediction, for inspection


def kl_gaussians(mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor) -> torch.Tensor:
    """KL(q ‖ p) of diagonal Gaussians, summed over the last axis: ``(...,)``."""
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1.0).sum(-1)


def kl_weight(step: int, *, beta: float, warmup_steps: int) -> float:
    """KL annealing: ``beta · min(1, step / warmup_steps)`` (linear warm-up from 0; ``beta`` when no warm-up)."""
    if warmup_steps <= 0:
        return float(beta)
    return float(beta) * min(1.0, max(0, step) / float(warmup_steps))


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, d_out))


class HeadCVAE(nn.Module):
    """Conditional VAE: gaze (+ past head/gaze) → K diverse head tracks. See the module docstring."""

    def __init__(self, config: CVAEConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or CVAEConfig()
        H, Z = cfg.hidden, cfg.z_dim
        self.register_buffer("head_mean", torch.zeros(HEAD_DIM))
        self.register_buffer("head_std", torch.ones(HEAD_DIM))
        self.register_buffer("gaze_mean", torch.zeros(GAZE_DIM))
        self.register_buffer("gaze_std", torch.ones(GAZE_DIM))
        if cfg.temporal == "framewise":
            self.gaze_enc = _mlp(GAZE_DIM, H, H)
            self.post = _mlp(H + HEAD_DIM, H, 2 * Z)
            self.prior = _mlp(H, H, 2 * Z)
            self.dec = _mlp(H + Z, H, HEAD_DIM)
            return
        # gaze encoder: bidirectional GRU over the chunk's gaze → (B, N, H)
        self.gaze_gru = nn.GRU(GAZE_DIM, H, cfg.layers, batch_first=True, bidirectional=True)
        self.gaze_proj = nn.Linear(2 * H, H)
        # context encoder: GRU over the past C frames of [head, gaze] → (B, H)
        if cfg.use_context:
            self.ctx_gru = nn.GRU(HEAD_DIM + GAZE_DIM, H, cfg.layers, batch_first=True)
        self.start_ctx = nn.Parameter(torch.zeros(H))  # the "no past" context (first chunk / no-context)
        # posterior q(z | head chunk, gaze chunk, context)
        self.post_gru = nn.GRU(H + 2 * HEAD_DIM, H, cfg.layers, batch_first=True)
        self.post_out = _mlp(2 * H, H, 2 * Z)
        # learned conditional prior p(z | gaze chunk, context)
        self.prior_out = _mlp(3 * H, H, 2 * Z)
        # decoder GRU over [gaze feature, z] with hidden initialised from (context, z)
        self.dec_init = nn.Linear(H + Z, cfg.layers * H)
        self.dec_gru = nn.GRU(H + Z, H, cfg.layers, batch_first=True)
        self.out_abs = nn.Linear(H, HEAD_DIM)  # absolute head (start / no-context chunks)
        self.out_vel = nn.Linear(H, HEAD_DIM)  # head velocity (context chunks), integrated

    # ----------------------------------------------------------------------------------
    # normalisation
    # ----------------------------------------------------------------------------------
    @torch.no_grad()
    def set_normalization(self, head_mean, head_std, gaze_mean, gaze_std) -> None:
        """Store the training-set statistics (degrees) as buffers; stds are floored at 1e-3°."""
        for name, value in (("head_mean", head_mean), ("head_std", head_std), ("gaze_mean", gaze_mean), ("gaze_std", gaze_std)):
            t = torch.as_tensor(np.asarray(value, dtype=np.float32))
            if name.endswith("std"):
                t = t.clamp_min(1e-3)
            getattr(self, name).copy_(t)

    def norm_head(self, head: torch.Tensor) -> torch.Tensor:
        return (head - self.head_mean) / self.head_std

    def denorm_head(self, head: torch.Tensor) -> torch.Tensor:
        return head * self.head_std + self.head_mean

    def norm_gaze(self, gaze: torch.Tensor) -> torch.Tensor:
        return (gaze - self.gaze_mean) / self.gaze_std

    # ----------------------------------------------------------------------------------
    # building blocks
    # ----------------------------------------------------------------------------------
    def _split(self, stats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = stats.chunk(2, dim=-1)
        return mu, logvar.clamp(self.config.logvar_min, self.config.logvar_max)

    def encode_context(self, ctx_head: torch.Tensor | None, ctx_gaze: torch.Tensor | None, start: torch.Tensor | None = None) -> torch.Tensor:
        """Context vector ``(B, H)`` from normalised past head ``(B, C, 3)`` and gaze ``(B, C, 4)``.

        ``start`` ``(B,)`` bool marks sequences without a past (they get the learned start
        context); with ``ctx_head=None`` (or no context in the config) every row is a start.
        """
        B = ctx_head.shape[0] if ctx_head is not None else (start.shape[0] if start is not None else 1)
        start_vec = self.start_ctx.expand(B, -1)
        if not self.config.contextual or ctx_head is None:
            return start_vec
        _, h = self.ctx_gru(torch.cat([ctx_head, ctx_gaze], dim=-1))
        h = h[-1]
        if start is None:
            return h
        return torch.where(start[:, None], start_vec, h)

    def gaze_features(self, gaze: torch.Tensor) -> torch.Tensor:
        """Chunk-local gaze features: normalised gaze ``(B, N, 4)`` → ``(B, N, H)`` (bidirectional GRU).

        They depend on the gaze only, so generation computes them for all chunks in one call.
        """
        g, _ = self.gaze_gru(gaze)
        return self.gaze_proj(g)

    def decode_chunk(
        self,
        g: torch.Tensor,
        ctx: torch.Tensor,
        last_head: torch.Tensor | None,
        start: torch.Tensor,
        *,
        head: torch.Tensor | None = None,
        z: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
    ) -> ChunkOutput:
        """Decode one chunk (GRU variants).

        Args:
            g: ``(B, N, H)`` gaze features of the chunk (:meth:`gaze_features`).
            ctx: ``(B, H)`` from :meth:`encode_context`.
            last_head: ``(B, 3)`` normalised last context head frame (integration base), or None.
            start: ``(B,)`` bool; True rows output absolute head (no past).
            head: ``(B, N, 3)`` normalised true head → z from the posterior (training).
            z: ``(B, Z)`` latent to use as is (overrides sampling).
            noise: ``(B, Z)`` standard normal noise for the prior sample (None → prior mean).
        """
        mu_p, logvar_p = self._split(self.prior_out(torch.cat([g.mean(1), g[:, -1], ctx], dim=-1)))
        mu_q = logvar_q = None
        if z is None:
            if head is not None:
                base = last_head if last_head is not None else head[:, :1].squeeze(1)
                rel = head - torch.where(start[:, None], head[:, 0], base)[:, None]
                _, hq = self.post_gru(torch.cat([g, head, rel], dim=-1))
                mu_q, logvar_q = self._split(self.post_out(torch.cat([hq[-1], ctx], dim=-1)))
                eps = torch.randn_like(mu_q) if self.training else torch.zeros_like(mu_q)
                z = mu_q + eps * (0.5 * logvar_q).exp()
            else:
                z = mu_p if noise is None else mu_p + noise * (0.5 * logvar_p).exp()
        B, N = g.shape[:2]
        L, H = self.config.layers, self.config.hidden
        h0 = torch.tanh(self.dec_init(torch.cat([ctx, z], dim=-1))).view(B, L, H).transpose(0, 1).contiguous()
        y, _ = self.dec_gru(torch.cat([g, z[:, None].expand(B, N, -1)], dim=-1), h0)
        absolute = self.out_abs(y)
        if last_head is None:
            out = absolute
        else:
            integrated = last_head[:, None] + torch.cumsum(self.out_vel(y), dim=1)
            out = torch.where(start[:, None, None], absolute, integrated)
        return ChunkOutput(out, mu_q, logvar_q, mu_p, logvar_p)

    def decode_frames(self, gaze: torch.Tensor, *, head: torch.Tensor | None = None, noise: torch.Tensor | None = None) -> ChunkOutput:
        """Frame-wise variant: ``gaze`` ``(B, T, 4)`` → ``(B, T, 3)`` with one z per frame."""
        g = self.gaze_enc(gaze)
        mu_p, logvar_p = self._split(self.prior(g))
        mu_q = logvar_q = None
        if head is not None:
            mu_q, logvar_q = self._split(self.post(torch.cat([g, head], dim=-1)))
            eps = torch.randn_like(mu_q) if self.training else torch.zeros_like(mu_q)
            z = mu_q + eps * (0.5 * logvar_q).exp()
        else:
            z = mu_p if noise is None else mu_p + noise * (0.5 * logvar_p).exp()
        return ChunkOutput(self.dec(torch.cat([g, z], dim=-1)), mu_q, logvar_q, mu_p, logvar_p)

    # ----------------------------------------------------------------------------------
    # training
    # ----------------------------------------------------------------------------------
    def loss(
        self,
        head: torch.Tensor,
        gaze: torch.Tensor,
        *,
        beta: float,
        w_vel: float = 1.0,
        start: torch.Tensor | None = None,
    ) -> CVAELoss:
        """Negative ELBO on training windows (degrees in, normalised losses out).

        Args:
            head: ``(B, C + R·N, 3)`` true head in degrees (``C`` context frames, then ``R``
                chunks; for ``framewise``/no-context models the first ``C`` frames are unused).
            gaze: ``(B, C + R·N, 4)`` world gaze in degrees.
            beta: KL weight (from :func:`kl_weight`).
            w_vel: weight of the velocity (first difference) loss.
            start: ``(B,)`` bool; True rows treat chunk 0 as a sequence start (no past), so the
                model learns the first chunk too. Default: all False.

        Chunks after the first are conditioned on the model's *own* previous output (free-running
        context), so training sees what generation sees.
        """
        cfg = self.config
        C, N = cfg.context, cfg.chunk
        h = self.norm_head(head)
        g = self.norm_gaze(gaze)
        B, T = h.shape[:2]
        if (T - C) <= 0 or (T - C) % N:
            raise ValueError(f"window length {T} must be context {C} + a multiple of chunk {N}")
        R = (T - C) // N
        target = h[:, C:]
        if cfg.temporal == "framewise":
            out = self.decode_frames(g[:, C:], head=target)
            pred = out.head
            kl = kl_gaussians(out.mu_q, out.logvar_q, out.mu_p, out.logvar_p).mean()
        else:
            if start is None:
                start = torch.zeros(B, dtype=torch.bool, device=h.device)
            past = h[:, :C]
            gfeat = self.gaze_features(g[:, C:].reshape(B * R, N, GAZE_DIM)).view(B, R, N, -1)
            preds, kls = [], []
            for r in range(R):
                sl = slice(C + r * N, C + (r + 1) * N)
                is_start = start if r == 0 else torch.zeros_like(start)
                if cfg.contextual:
                    ctx = self.encode_context(past[:, -C:], g[:, sl.start - C : sl.start], is_start)
                    last = past[:, -1]
                else:
                    ctx = self.encode_context(None, None, is_start)
                    last = None
                out = self.decode_chunk(gfeat[:, r], ctx, last, is_start, head=h[:, sl])
                preds.append(out.head)
                kls.append(kl_gaussians(out.mu_q, out.logvar_q, out.mu_p, out.logvar_p))
                past = out.head
            pred = torch.cat(preds, dim=1)
            kl = torch.stack(kls, 1).mean() / N  # per frame, comparable with framewise
        recon = F.mse_loss(pred, target)
        if cfg.contextual:
            # include the step from the last context frame into the first chunk (the chunk
            # border generation sees), except for rows that start a sequence (no past)
            keep = (~start).to(pred.dtype)[:, None, None]
            first = (pred[:, :1] - h[:, C - 1 : C]) - (target[:, :1] - h[:, C - 1 : C])
            sq = torch.cat([first.pow(2) * keep, (pred.diff(dim=1) - target.diff(dim=1)).pow(2)], dim=1)
            vel = sq.sum() / (keep.sum() * HEAD_DIM + pred.diff(dim=1).numel())
        else:
            vel = F.mse_loss(pred.diff(dim=1), target.diff(dim=1))
        total = recon + w_vel * vel + beta * kl
        return CVAELoss(total, recon, vel, kl, pred)

    # ----------------------------------------------------------------------------------
    # generation
    # ----------------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(
        self,
        gaze: np.ndarray | torch.Tensor,
        *,
        num_samples: int = 1,
        seed: int | None = 0,
        temperature: float = 1.0,
        start_head: np.ndarray | None = None,
    ) -> np.ndarray:
        """Sample head tracks for one world-gaze sequence.

        Chunks of ``chunk`` frames start every ``chunk − overlap`` frames (:meth:`chunk_starts`);
        each gets its own latent (noise seeded once for all chunks), is conditioned on the last
        ``context`` generated frames, and over its first ``overlap`` frames its head velocity is
        cross-faded from the previous chunk's. All K samples run as one batch.

        Args:
            gaze: ``(T, 4)`` world gaze ``[l_pitch, l_yaw, r_pitch, r_yaw]`` degrees at 25 fps,
                finite (bridge NaN gaps first, see :mod:`stygaze.cvae.pipeline`).
            num_samples: K independent samples (batched).
            seed: seed of the latent noise (a private generator; global RNG untouched).
                ``None`` → nondeterministic.
            temperature: scale of the prior noise (0 → the prior mean, one deterministic track).
            start_head: optional ``(3,)`` degrees to continue from (the first chunk is then a
                context chunk whose past is this pose held still); default: a sequence start.

        Returns:
            ``(K, T, 3)`` float32 head pitch, yaw, roll in degrees.
        """
        self.eval()
        p = next(self.parameters())
        device, dtype = p.device, p.dtype
        g_all = torch.as_tensor(np.asarray(gaze, dtype=np.float32) if not torch.is_tensor(gaze) else gaze, device=device, dtype=dtype)
        if g_all.ndim != 2 or g_all.shape[1] != GAZE_DIM:
            raise ValueError(f"gaze must be (T, {GAZE_DIM}), got {tuple(g_all.shape)}")
        T, K = g_all.shape[0], int(num_samples)
        gen = torch.Generator(device="cpu")
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(int(seed))
        g_all = self.norm_gaze(g_all)[None].expand(K, T, GAZE_DIM)
        cfg = self.config
        Z = cfg.z_dim
        if cfg.temporal == "framewise":
            noise = (torch.randn(K, T, Z, generator=gen) * temperature).to(device, dtype)
            head = self.decode_frames(g_all, noise=noise).head
            return self.denorm_head(head).float().cpu().numpy()
        N, C = cfg.chunk, cfg.context
        O = self.generation_overlap
        starts = self.chunk_starts(T)
        n_chunks = len(starts)
        # gaze features of every chunk at once (they do not depend on the samples): (n, N, H);
        # a last, shorter chunk is encoded on its own so padding never leaks in
        g_one = g_all[0]
        full = [s for s in starts if s + N <= T]
        feats = list(self.gaze_features(torch.stack([g_one[s : s + N] for s in full]))) if full else []
        if len(full) < n_chunks:
            feats.append(self.gaze_features(g_one[None, starts[-1] :])[0])
        noise_all = torch.randn(n_chunks, K, Z, generator=gen)
        rho = float(cfg.noise_correlation)
        for k in range(1, n_chunks):  # AR(1) across chunks: each chunk's noise stays N(0, 1)
            noise_all[k] = rho * noise_all[k - 1] + math.sqrt(1.0 - rho * rho) * noise_all[k]
        noise_all = (noise_all * temperature).to(device, dtype)
        # buffers of head (normalised) and gaze, with P held frames in front when start_head is given
        P = C if (start_head is not None and cfg.contextual) else 0
        buf = torch.zeros(K, P + T, HEAD_DIM, device=device, dtype=dtype)
        gbuf = torch.cat([g_all[:, :1].expand(K, P, GAZE_DIM), g_all], 1)
        if P:
            sh = self.norm_head(torch.as_tensor(np.asarray(start_head, np.float32), device=device, dtype=dtype))
            buf[:, :P] = sh.view(1, 1, HEAD_DIM)
        done = 0  # frames [0, done) of the sequence are generated
        for k, s in enumerate(starts):
            e = min(T, s + N)
            b = s + P  # chunk start in the buffers
            if cfg.contextual and b >= C:
                start = torch.zeros(K, dtype=torch.bool, device=device)
                ctx = self.encode_context(buf[:, b - C : b], gbuf[:, b - C : b], None)
                last = buf[:, b - 1]
            else:
                start = torch.ones(K, dtype=torch.bool, device=device)
                ctx = self.encode_context(None, None, start)
                last = None
            new = self.decode_chunk(feats[k][None].expand(K, -1, -1), ctx, last, start, noise=noise_all[k]).head
            ov = min(O, e - s, done - s) if last is not None else 0
            if ov > 0:
                # cross-fade the velocities of the previous chunk's tail into the new chunk's
                # over the overlap, then integrate from the last frame before it
                v_old = buf[:, b - 1 : b + ov].diff(dim=1)  # (K, ov, 3)
                v_new = torch.cat([buf[:, b - 1 : b], new], 1).diff(dim=1)  # (K, L, 3)
                w = torch.arange(1, ov + 1, device=device, dtype=dtype).view(1, ov, 1) / (ov + 1)
                v = torch.cat([(1 - w) * v_old + w * v_new[:, :ov], v_new[:, ov:]], 1)
                new = buf[:, b - 1 : b] + torch.cumsum(v, dim=1)
            buf[:, b : e + P] = new
            done = e
        return self.denorm_head(buf[:, P:]).float().cpu().numpy()

    @property
    def generation_overlap(self) -> int:
        """Frames by which consecutive chunks overlap when generating (contextual models only)."""
        return self.config.overlap if self.config.contextual else 0

    def chunk_starts(self, num_frames: int) -> list[int]:
        """First frame of every generated chunk for a sequence of ``num_frames`` (frame-wise: ``[0]``).

        Chunks are ``chunk`` frames long and start every ``chunk − overlap`` frames.
        """
        if self.config.temporal == "framewise":
            return [0]
        stride = self.config.chunk - self.generation_overlap
        starts = [0]
        while starts[-1] + self.config.chunk < num_frames:
            starts.append(starts[-1] + stride)
        return starts

    # ----------------------------------------------------------------------------------
    # checkpoints
    # ----------------------------------------------------------------------------------
    def save(self, path: str | Path, meta: dict | None = None) -> Path:
        """Write a stygaze checkpoint folder (safetensors + JSON; stats are buffers)."""
        return save_checkpoint(path, self, model_type=MODEL_TYPE, config=self.config, meta=meta)

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, *, device: str | torch.device = "cpu") -> HeadCVAE:
        """Load a checkpoint folder; ``None`` → the built-in model in ``stygaze/assets/cvae``.

        Raises:
            CheckpointError: missing/corrupt folder, another model type, or weights that do not
                fit the stored config.
        """
        path = Path(path) if path is not None else builtin_checkpoint_path()
        info = read_checkpoint(path, model_type=MODEL_TYPE)
        try:
            config = build_config(CVAEConfig, info.config, where=str(path))
        except ValueError as exc:
            raise CheckpointError(f"{path}: invalid cVAE config: {exc}") from exc
        model = cls(config)
        load_state_strict(model, info.state_dict, where=str(path))
        model.meta = info.meta
        return model.to(device).eval()

    def sample_heads(self, gaze_motion, num_samples: int = 1, seed: int | None = 0, **kwargs):
        """Gaze :class:`~stygaze.motion.Motion` → :class:`~stygaze.cvae.gaze.HeadSamples`.

        Same as :func:`stygaze.cvae.pipeline.generate_heads` with this model (NaN bridging, world
        gaze, eye-in-head recomputation, :func:`~stygaze.cvae.gaze.heads_for_gaze`);
        ``.motion`` is the first sample, ``.samples`` all K.
        """
        return heads_for_gaze(self, gaze_motion, num_samples=num_samples, seed=seed, **kwargs)


def builtin_checkpoint_path() -> Path:
    """Folder of the built-in cVAE checkpoint shipped in the package."""
    return builtin_dir("cvae")
