"""Stage 1: contrastive pretraining of the style encoder (``stygaze train style``).

Data: the ``train``/``val`` sessions of a corpus folder (``DIR/<session>/motion.npz`` +
``DIR/splits.json``, read by :func:`stygaze.data.corpus.load_split`). A batch takes
``batch_size`` distinct sessions and two random windows of ``window`` frames from each; the two
windows of a session are a positive pair, every other window a negative (NT-Xent, tau from the
config).

The loop is :func:`stygaze.training.loop.fit` (resume, early stopping, time budget, rank-0
writes): ``RUN/last`` (resumable state, after every epoch), ``RUN/best`` (a ``style_encoder``
stygaze checkpoint with the lowest validation loss), ``RUN/log.jsonl``, ``RUN/run_config.json``.
Every random choice is drawn from generators seeded with ``(seed, epoch)``, and torch's RNG is
saved in ``RUN/last``, so a resumed run continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stygaze.checkpoint import (
    build_config,
    load_state_strict,
    read_checkpoint,
    save_checkpoint,
)
from stygaze.config import (
    COUNT,
    NON_NEGATIVE,
    POSITIVE,
    SEED,
    THREADS,
    load_config,
    option,
)
from stygaze.data.corpus import Corpus, LoadedSession, load_split
from stygaze.data.windows import random_window_start, valid_frames
from stygaze.errors import DataError
from stygaze.stygazetalk.generator import motion_stats
from stygaze.stygazetalk.style_encoder import StyleEncoder, StyleEncoderConfig, nt_xent
from stygaze.training.distributed import DistributedContext, init_distributed
from stygaze.training.loop import Budget, TrainSpec, fit, run_folder
from stygaze.training.state import (
    set_seed,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------
# configs
# --------------------------------------------------------------------------------------
@dataclass
class StyleTrainConfig:
    """Optimisation settings of stage 1."""

    batch_size: int = option(32, range=COUNT)  # sessions per batch (2 windows each)
    batches_per_epoch: int = option(50, range=COUNT)
    val_pairs: int = option(64, range=COUNT)  # fixed positive pairs drawn from the val split
    lr: float = option(3e-4, range=POSITIVE)
    weight_decay: float = option(1e-4, range=NON_NEGATIVE)
    max_epochs: int = option(30, range=COUNT)
    patience: int = option(6, range=COUNT)
    max_minutes: float = option(0.0, range=NON_NEGATIVE)  # 0 = no wall-clock limit
    grad_clip: float = option(1.0, range=NON_NEGATIVE)  # 0 = no clipping
    seed: int = option(0, range=SEED)
    threads: int | None = option(None, range=THREADS)  # torch threads; None = leave as is


@dataclass
class StyleRunConfig:
    """Everything ``stygaze train style`` reads from YAML (``style_encoder:`` + ``style_train:``)."""

    style_encoder: StyleEncoderConfig = field(default_factory=StyleEncoderConfig)
    style_train: StyleTrainConfig = field(default_factory=StyleTrainConfig)


OTHER_SECTIONS = ("generator", "generator_train", "name", "description")
"""Sections of a shared StyGazeTalk config file that stage 1 does not read."""


def load_style_run_config(path: str | Path, overrides: dict[str, Any] | None = None) -> StyleRunConfig:
    """The ``style_encoder`` and ``style_train`` sections of a YAML config, validated
    (:func:`stygaze.config.load_config`); the generator sections are left to stage 2."""
    return load_config(StyleRunConfig, path, overrides=overrides, ignore=OTHER_SECTIONS)


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
class StylePairSampler:
    """Draws NT-Xent batches: ``(2, B, L, 7)`` windows, two per session, degrees.

    Windows containing NaN are avoided where the session allows
    (:func:`~stygaze.data.windows.random_window_start`).
    """

    def __init__(self, sessions: list[LoadedSession], window: int):
        self.window = window
        self.sessions = [s for s in sessions if len(s.motion) >= window]
        if len(self.sessions) < 2:
            raise DataError(f"style training needs at least 2 sessions of >= {window} frames, found {len(self.sessions)}")
        self.valid = [valid_frames(s.motion) for s in self.sessions]

    def _window(self, i: int, rng: np.random.Generator) -> np.ndarray:
        s = random_window_start(self.valid[i], self.window, rng)
        return self.sessions[i].motion[s : s + self.window]

    def batch(self, batch_size: int, rng: np.random.Generator) -> torch.Tensor:
        idx = rng.choice(len(self.sessions), size=min(batch_size, len(self.sessions)), replace=False)
        a = [self._window(i, rng) for i in idx]
        b = [self._window(i, rng) for i in idx]
        return torch.from_numpy(np.stack([np.stack(a), np.stack(b)]).astype(np.float32))


# --------------------------------------------------------------------------------------
# builders (separate so a distributed wrapper can slot in between)
# --------------------------------------------------------------------------------------
def build_style_model(config: StyleRunConfig, train_sessions: list[LoadedSession]) -> StyleEncoder:

    model = StyleEncoder(config.style_encoder)
    mean, std = motion_stats([s.motion for s in train_sessions])
    model.set_normalization(mean, std)
    return model


def build_style_optimizer(model: torch.nn.Module, tc: StyleTrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=tc.lr, weight_decay=tc.weight_decay)


@torch.no_grad()
def evaluate_style(model: StyleEncoder, val_batch: torch.Tensor, temperature: float) -> dict[str, float]:
    """Val NT-Xent ``loss`` and ``top1`` retrieval accuracy of the positive window."""
    model.eval()
    a, b = model(val_batch[0]), model(val_batch[1])
    loss = float(nt_xent(a, b, temperature))
    acc = float(((a @ b.t()).argmax(dim=1) == torch.arange(len(a))).float().mean())
    return {"loss": loss, "top1": acc}


# --------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------
def fit_style(
    run_dir: Path,
    model: StyleEncoder,
    optimizer: torch.optim.Optimizer,
    sampler: StylePairSampler,
    val_batch: torch.Tensor,
    config: StyleRunConfig,
    *,
    corpus: str = "",
    force_resume: bool = False,
    progress: bool = True,
    dist: Any = None,
):
    """Train with :func:`stygaze.training.loop.fit` until ``max_epochs``, early stopping or
    ``max_minutes``; resumes from ``RUN/last``. Returns its :class:`~stygaze.training.loop.TrainResult`.

    ``corpus`` is the corpus fingerprint (:func:`stygaze.data.corpus.fingerprint`) stored with the
    run. ``dist`` (a :class:`~stygaze.training.distributed.DistributedContext`) runs
    data-parallel: each step draws the global batch (``batch_size × world_size`` sessions) on
    every process, each embeds its slice, the embeddings are gathered (with gradients) so NT-Xent
    sees every negative of the global batch, DDP averages the gradients, and only rank 0 writes.
    """

    ctx = dist or DistributedContext()
    tc = config.style_train
    temperature = config.style_encoder.temperature
    global_batch = ctx.effective_batch_size(tc.batch_size)

    def batches(epoch: int):
        rng = np.random.default_rng([tc.seed, epoch])
        for _ in range(tc.batches_per_epoch):
            batch = sampler.batch(global_batch, rng)  # (2, B, L, 7)
            yield ctx.shard(batch[:, : batch.shape[1] // ctx.world_size * ctx.world_size], dim=1)

    def step(embed, batch, _step):
        za, zb = embed(batch[0], batch[1])
        loss = nt_xent(ctx.gather(za), ctx.gather(zb), temperature)
        return loss, {"loss": loss.item()}, 1

    def save(path, epoch, _step, val):
        meta = {"encoder_id": model.encoder_id, "epoch": epoch, **{f"val_{k}": v for k, v in (val or {}).items()}, "train_config": asdict(tc)}
        save_checkpoint(path, model, model_type="style_encoder", config=config.style_encoder, meta=meta)

    spec = TrainSpec(
        name="style", model=model, optimizer=optimizer, loss=lambda m, a, b: (m(a), m(b)), step=step, batches=batches,
        evaluate=lambda: evaluate_style(model, val_batch, temperature), save=save,
        steps_per_epoch=tc.batches_per_epoch, grad_clip=tc.grad_clip,
    )
    budget = Budget(max_epochs=tc.max_epochs, patience=tc.patience, seed=tc.seed, max_minutes=tc.max_minutes)
    return fit(run_dir, spec, budget, config=asdict(config), corpus=corpus, force_resume=force_resume, progress=progress, dist=ctx)


def train_style(
    config: StyleRunConfig,
    data_dir: str | Path,
    run_dir: str | Path,
    *,
    progress: bool = True,
    force_resume: bool = False,
) -> Path:
    """Stage 1 end to end. Returns ``RUN/best``."""

    tc = config.style_train
    if tc.threads:
        torch.set_num_threads(tc.threads)
    ctx = init_distributed()  # torchrun -> DDP (see stygaze.training.distributed); else single process
    with run_folder(run_dir, ctx.is_main) as run_dir:
        set_seed(tc.seed)
        train = load_split(data_dir, "train")
        val = load_split(data_dir, "val")
        window = config.style_encoder.window
        sampler = StylePairSampler(train, window)
        val_sampler = StylePairSampler(val, window)
        val_batch = val_sampler.batch(min(tc.val_pairs, len(val_sampler.sessions)), np.random.default_rng([tc.seed, 10**6]))
        model = build_style_model(config, train)
        model.to(ctx.device)
        optimizer = build_style_optimizer(model, tc)
        fit_style(run_dir, model, optimizer, sampler, val_batch.to(ctx.device), config, progress=progress and ctx.is_main, dist=ctx,
                  corpus=Corpus(data_dir).fingerprint(), force_resume=force_resume)
    ctx.close()
    return run_dir / "best"


def load_style_encoder(path: str | Path) -> StyleEncoder:
    """Rebuild a style encoder from its checkpoint folder (``RUN/best``)."""
    info = read_checkpoint(path, model_type="style_encoder")
    model = StyleEncoder(build_config(StyleEncoderConfig, info.config, where=str(path)))
    load_state_strict(model, info.state_dict, where=str(path))
    model.eval()
    return model
