"""The task-token decoder (DETR style): task self-attention, task→frame cross-attention, FFN."""

from __future__ import annotations

import torch
from torch import nn

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
