"""Tiny fabricated corpora and models for the generation tests (no SynHAGE needed).

The layout is the corpus contract: ``DIR/<session>/{audio.wav, motion.npz, style.json}`` and
``DIR/splits.json``. Motion follows the audio envelope (head pitch rises with loudness) and
each session has its own gaze amplitude and rhythm, so style and audio both carry signal.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from stygaze.audio import HOP, SAMPLE_RATE, save_audio
from stygaze.motion import Motion


def make_session_arrays(seconds: float, style: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    S = int(seconds * SAMPLE_RATE)
    t = np.arange(S) / SAMPLE_RATE
    env = (np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)) > 0.2).astype(np.float32)
    audio = (env * np.sin(2 * np.pi * (120 + 40 * style) * t) + 0.05 * rng.standard_normal(S)).astype(np.float32)
    T = int(round(S / HOP))
    frame_env = env[: T * HOP].reshape(T, HOP).mean(axis=1) if T * HOP <= S else np.resize(env, T)
    ft = np.arange(T) / 25.0
    motion = np.zeros((T, 7), np.float32)
    motion[:, 0] = 4 * frame_env + 0.3 * rng.standard_normal(T)
    motion[:, 1] = (2 + 6 * style) * np.sin(2 * np.pi * (0.3 + 0.5 * style) * ft)
    motion[:, 2] = 0.5 * np.sin(2 * np.pi * 0.2 * ft)
    steps = np.repeat(rng.uniform(-8, 8, size=T // 10 + 1) * (0.5 + style), 10)[:T]
    motion[:, 3] = motion[:, 5] = 0.3 * steps
    motion[:, 4] = steps + 1.5
    motion[:, 6] = steps - 1.5
    return audio, motion


def make_tiny_corpus(root: Path, n_sessions: int = 6, seconds: float = 8.0, seed: int = 0) -> Path:
    root = Path(root)
    names = []
    for i in range(n_sessions):
        style = (i % 3) / 2.0
        audio, motion = make_session_arrays(seconds, style, seed * 100 + i)
        d = root / f"s{i:02d}"
        d.mkdir(parents=True, exist_ok=True)
        save_audio(d / "audio.wav", audio)
        Motion(motion).save(d / "motion.npz")
        (d / "style.json").write_text(json.dumps({"style": style}))
        names.append(d.name)
    splits = {"train": names[: n_sessions - 3], "val": names[n_sessions - 3 : n_sessions - 1], "test": names[n_sessions - 1 :]}
    (root / "splits.json").write_text(json.dumps(splits))
    return root


TINY_YAML = """
generator: {kind: lstm, audio_encoder: mel, d: 8, style_dim: 8, hidden: 16, num_layers: 2, M: 6, N: 4, vel_lambda: 0.8, dropout: 0.0}
style_encoder: {style_dim: 8, d_model: 16, num_layers: 1, num_heads: 2, ff_dim: 16, window: 40, min_frames: 20, dropout: 0.0}
style_train: {batch_size: 4, batches_per_epoch: 3, val_pairs: 4, max_epochs: 2, patience: 5, seed: 0}
generator_train: {batch_size: 8, windows_per_epoch: 24, val_windows: 16, rollout_steps: 2, max_epochs: 2, patience: 5, seed: 0}
"""


def write_tiny_config(path: Path, **overrides) -> Path:
    text = TINY_YAML
    for key, value in overrides.items():
        text = text.replace(key, value)
    Path(path).write_text(text)
    return Path(path)


def tiny_model(seed: int = 0, style_dim: int = 8, kind: str = "lstm", latent_dim: int = 0, beat_feature: bool = False, style_stats: int = 0):
    """A randomly initialised tiny StyGazeTalkModel with non-trivial outputs."""
    import torch

    from stygaze.stygazetalk.generator import GeneratorConfig, StyGazeTalkConfig, StyGazeTalkModel
    from stygaze.stygazetalk.style_encoder import StyleEncoderConfig

    torch.manual_seed(seed)
    se = StyleEncoderConfig(style_dim=style_dim, d_model=16, num_layers=1, num_heads=2, ff_dim=16, window=40, min_frames=20, dropout=0.0) if style_dim else None
    gen = GeneratorConfig(kind=kind, d=8, style_dim=style_dim, hidden=16, num_layers=2, num_heads=2, M=6, N=4, dropout=0.0, latent_dim=latent_dim,
                          beat_feature=beat_feature, beat_context=20, style_stats=style_stats)
    model = StyGazeTalkModel(StyGazeTalkConfig(gen, se))
    with torch.no_grad():
        model.generator.out.weight.normal_(0, 0.3)
        if beat_feature:
            model.generator.beat_proj.weight.normal_(0, 3.0)
        model.generator.set_normalization(np.array([1, 2, 0, 0, 1, 0, -1], np.float32), np.full(7, 3.0, np.float32))
        if style_dim:
            neutral = torch.nn.functional.normalize(torch.randn(style_dim), dim=0)
            model.generator.default_style.copy_(torch.cat([neutral, torch.full((style_stats,), 0.5)]))
    return model.eval()


def save_tiny_model(path: Path, **kwargs) -> Path:
    tiny_model(**kwargs).save(path)
    return Path(path)


def make_cvae_corpus(root: Path, rng, sessions=(3, 1, 1), T=120) -> Path:
    """Tiny cVAE corpus in the SynHAGE layout (motion only): head follows large world-gaze yaw shifts."""
    splits, i = {"train": [], "val": [], "test": []}, 0
    for split, n in zip(splits, sessions):
        for _ in range(n):
            yaw = np.repeat(rng.normal(0, 20, T // 10 + 1), 10)[:T]
            head = np.zeros((T, 3))
            for t in range(1, T):
                head[t, 1] = head[t - 1, 1] + 0.2 * (0.5 * yaw[t] - head[t - 1, 1])
            head += rng.normal(0, 0.3, (T, 3))
            data = np.concatenate([head, np.stack([0 * yaw, yaw - head[:, 1]] * 2, 1)], 1)
            (root / f"s{i}").mkdir(parents=True)
            Motion(data.astype(np.float32)).save(root / f"s{i}" / "motion.npz")
            splits[split].append(f"s{i}")
            i += 1
    (root / "splits.json").write_text(json.dumps(splits))
    return root


def tiny_cvae_config(**kw):
    """A cVAE training config small enough for a test (a few seconds on 2 cores)."""
    from stygaze.cvae.model import CVAEConfig
    from stygaze.cvae.train import CVAETrainConfig

    model = CVAEConfig(hidden=8, z_dim=2, chunk=5, context=3, overlap=1, **kw)
    return CVAETrainConfig(model=model, rollout_chunks=2, batch_size=8, windows_per_epoch=16, val_windows=8, epochs=2, kl_warmup_steps=2)
