"""Contrastive style encoder: a motion window (L, 7) -> style vector s (d_s,).

Linear projection of the normalised motion + sinusoidal positional encoding + Transformer
encoder (default d=128, 4 layers, 4 heads) + masked mean pooling + linear head -> d_s,
L2-normalised (so cosine similarity = dot product). Trained with NT-Xent (tau = 0.1) where
the positive of a window is another window of the same clip (StyGazeTalk §III-C,
DiffPoseTalk's style encoder), then frozen for the generator (two-stage scheme).

NaN frames (tracker loss) are masked out of attention and pooling. A clip longer than one
window is encoded window by window (``window`` frames, hop ``window // 2``) and the
normalised mean of the window vectors is its style (:meth:`StyleEncoder.encode_clip`).

``encoder_id`` (a hash of the config and the weights) tags every saved style vector so a
vector from another encoder is refused (:class:`~stygaze.errors.StyleError`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stygaze.config import DEPTH, DROPOUT, FRAMES, HEADS, POSITIVE, WIDTH, option
from stygaze.errors import StyleError
from stygaze.motion import NUM_CHANNELS
from stygaze.stygazetalk.style_match import FLOOR, HEAD_STATS, log_statistics


@dataclass
class StyleEncoderConfig:
    """Style encoder hyper-parameters. Windows are in motion frames at 25 fps."""

    style_dim: int = option(64, range=WIDTH)  # d_s
    d_model: int = option(128, range=WIDTH)
    num_layers: int = option(4, range=DEPTH)
    num_heads: int = option(4, range=HEADS)
    ff_dim: int = option(256, range=WIDTH)
    dropout: float = option(0.1, range=DROPOUT)
    window: int = option(100, range=FRAMES)  # frames per style window (4 s)
    min_frames: int = option(50, range=FRAMES)  # shortest clip a style can be extracted from (2 s)
    max_len: int = option(512, range=FRAMES)  # longest window the positional encoding covers
    temperature: float = option(0.1, range=POSITIVE)  # NT-Xent tau
    motion_dim: int = option(NUM_CHANNELS, choices=(NUM_CHANNELS,))


def sinusoidal_encoding(length: int, dim: int) -> torch.Tensor:
    """``(length, dim)`` sine/cosine positional encoding (Vaswani et al.)."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div[: dim // 2])
    return pe


class StyleEncoder(nn.Module):
    """Transformer style encoder. ``forward(motion (B, L, 7) degrees) -> (B, d_s)`` unit vectors."""

    def __init__(self, config: StyleEncoderConfig | None = None):
        super().__init__()
        self.config = c = config or StyleEncoderConfig()
        self.register_buffer("motion_mean", torch.zeros(c.motion_dim))
        self.register_buffer("motion_std", torch.ones(c.motion_dim))
        self.register_buffer("pos", sinusoidal_encoding(c.max_len, c.d_model), persistent=False)
        self.inp = nn.Linear(c.motion_dim, c.d_model)
        layer = nn.TransformerEncoderLayer(
            c.d_model, c.num_heads, c.ff_dim, c.dropout, batch_first=True, norm_first=True, activation="gelu"
        )
        self.encoder = nn.TransformerEncoder(layer, c.num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.style_dim)

    def set_normalization(self, mean: np.ndarray | torch.Tensor, std: np.ndarray | torch.Tensor) -> None:
        """Per-channel motion mean/std (degrees) used to normalise the input."""
        self.motion_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.motion_std.copy_(torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-3))

    def forward(self, motion: torch.Tensor) -> torch.Tensor:
        """``motion (B, L, 7)`` degrees (NaN = missing frame) -> ``(B, d_s)`` L2-normalised styles."""
        B, L, _ = motion.shape
        if L > self.config.max_len:
            raise StyleError(f"style window of {L} frames is longer than the encoder's maximum {self.config.max_len}")
        valid = torch.isfinite(motion).all(dim=-1)  # (B, L)
        x = torch.where(valid[..., None], (motion - self.motion_mean) / self.motion_std, torch.zeros_like(motion))
        h = self.inp(x) + self.pos[:L]
        all_missing = ~valid.any(dim=1)
        pad = ~valid
        pad[all_missing] = False  # avoid NaN attention rows; such windows are refused upstream
        h = self.encoder(h, src_key_padding_mask=pad)
        h = self.norm(h)
        w = (~pad).to(h.dtype)[..., None]
        pooled = (h * w).sum(dim=1) / w.sum(dim=1).clamp_min(1.0)  # masked mean pooling (B, d_model)
        return F.normalize(self.head(pooled), dim=-1)

    # --- clips -----------------------------------------------------------------------
    def clip_windows(self, motion: np.ndarray) -> np.ndarray:
        """Cut a clip ``(T, 7)`` into style windows ``(K, L, 7)`` (L = window, hop L/2).

        Clips between ``min_frames`` and ``window`` frames become one shorter window.

        Raises:
            StyleError: fewer than ``min_frames`` valid (non-NaN) frames.
        """
        c = self.config
        motion = np.asarray(motion, dtype=np.float32)
        valid = np.isfinite(motion).all(axis=1)
        if int(valid.sum()) < c.min_frames:
            raise StyleError(
                f"style clip has {int(valid.sum())} usable frames ({valid.sum() / 25:.1f} s at 25 fps); "
                f"at least {c.min_frames} ({c.min_frames / 25:.1f} s) are needed"
            )
        T = motion.shape[0]
        if T <= c.window:
            return motion[None]
        hop = max(1, c.window // 2)
        starts = list(range(0, T - c.window + 1, hop))
        if starts[-1] != T - c.window:
            starts.append(T - c.window)
        wins = np.stack([motion[s : s + c.window] for s in starts])
        keep = np.isfinite(wins).all(axis=2).mean(axis=1) >= 0.5  # windows mostly made of real frames
        if not keep.any():
            raise StyleError("style clip has no window with at least half of its frames valid (too many NaNs)")
        return wins[keep]

    def clip_statistics(self, motion: np.ndarray) -> np.ndarray:
        """A clip ``(T, 7)`` degrees -> the mean of its windows' :func:`window_statistics` ``(6,)``."""
        return window_statistics(self.clip_windows(motion)).mean(axis=0)

    @torch.no_grad()
    def encode_clip(self, motion: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """A clip ``(T, 7)`` degrees -> its style ``(d_s,)``: normalised mean of its window styles."""
        was_training = self.training
        self.eval()
        wins = torch.from_numpy(self.clip_windows(motion)).to(self.motion_mean.device)
        vecs = torch.cat([self(wins[i : i + batch_size]) for i in range(0, len(wins), batch_size)])
        self.train(was_training)
        return F.normalize(vecs.mean(dim=0), dim=0).cpu().numpy().astype(np.float32)

    @property
    def encoder_id(self) -> str:
        """``style-<16 hex>``: SHA-256 of the config JSON and every weight tensor."""
        h = hashlib.sha256(json.dumps(asdict(self.config), sort_keys=True).encode())
        for name, t in sorted(self.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
        return "style-" + h.hexdigest()[:16]


def nt_xent(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """NT-Xent loss (SimCLR) for positive pairs ``(a[i], b[i])``.

    Args:
        a, b: ``(N, d)`` embeddings of two views; row i of ``a`` and ``b`` come from the same clip.
        temperature: tau.

    Returns:
        Scalar: mean over the 2N anchors of ``-log softmax`` of the positive's similarity
        among all other 2N-1 embeddings (the paper's sum divided by 2N).
    """
    z = F.normalize(torch.cat([a, b], dim=0), dim=-1)  # (2N, d)
    n = a.shape[0]
    sim = z @ z.t() / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, target)


STYLE_STATS: tuple[str, ...] = HEAD_STATS
"""The explicit style statistics a generator with ``style_stats`` reads beside the learned style."""
STATS_FLOOR = FLOOR
"""Smallest standard deviation (degrees) / speed (degrees per second) before the log."""


def window_statistics(windows: np.ndarray, fps: float = 25.0) -> np.ndarray:
    """Explicit head statistics of style windows: ``(K, L, 7)`` degrees -> ``(K, 6)``.

    Per window: the natural log of the head's per-axis standard deviation around the window
    mean (degrees) and of its per-axis mean absolute velocity after a 5-frame moving average
    (degrees per second) — the amplitude and speed measures of :mod:`stygaze.eval.realism`,
    which mean the same thing on any recording, synthetic or real. NaN frames are skipped;
    values are floored at :data:`STATS_FLOOR` before the log.
    """
    w = np.asarray(windows, dtype=np.float64)
    return np.array([log_statistics(x, fps) for x in w], dtype=np.float32).reshape(len(w), len(STYLE_STATS))

