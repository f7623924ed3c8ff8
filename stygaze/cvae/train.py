"""Training the gaze → head cVAE (:class:`~stygaze.cvae.model.HeadCVAE`).

Corpus layout (the SynHAGE / OpenFace-import layout; only ``motion.npz`` is read)::

    DIR/splits.json                  {"train": [session, ...], "val": [...], "test": [...]}
    DIR/<session>/motion.npz         Motion (T, 7), any fps (resampled to 25)

Training windows are ``context + rollout_chunks · chunk`` frames without NaN, drawn at random
(seeded per epoch) from the train sessions; validation windows are a fixed, evenly spaced set
from the val sessions. Chunks after the first are conditioned on the model's own previous
output (free-running context), a fraction ``p_start`` of windows treats their first chunk as
a sequence start, and the KL term is annealed linearly from 0 to ``beta`` over
``kl_warmup_steps`` optimizer steps.

The loop is :func:`stygaze.training.loop.fit` (the same for every stygaze model)::

    RUN/last/      resumable state after the latest epoch (atomic)
    RUN/best/      stygaze checkpoint with the lowest validation loss (normalisation stats inside)
    RUN/log.jsonl  one line per epoch

Model, optimizer and data loaders are built by :func:`build_model`, :func:`build_optimizer` and
:func:`build_dataloaders`; the windows come from :func:`stygaze.data.windows.sample_windows`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stygaze.audio import FPS
from stygaze.checkpoint import save_checkpoint
from stygaze.config import (
    COUNT,
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    SEED,
    from_dict,
    load_config,
    option,
)
from stygaze.cvae.model import MODEL_TYPE, CVAEConfig, HeadCVAE, kl_weight
from stygaze.cvae.pipeline import world_gaze_track
from stygaze.data import windows
from stygaze.data.corpus import Corpus
from stygaze.errors import DataError
from stygaze.training.distributed import init_distributed
from stygaze.training.loop import Budget, TrainSpec, fit, run_folder
from stygaze.training.state import set_seed

log = logging.getLogger(__name__)


@dataclass
class CVAETrainConfig:
    """Training hyper-parameters (YAML: these keys at top level, the model under ``model:``).

    Attributes:
        model: the :class:`CVAEConfig`.
        rollout_chunks: chunks per training window after the context (free-running rollout).
        batch_size, lr, weight_decay, grad_clip: AdamW settings.
        epochs: maximum epochs; ``windows_per_epoch`` random windows make one epoch.
        val_windows: fixed validation windows (evenly spaced over the val sessions).
        beta: final KL weight; ``kl_warmup_steps`` linear warm-up from 0.
        w_vel: weight of the velocity (first-difference) loss.
        p_start: share of windows whose first chunk is trained as a sequence start.
        patience: early-stopping patience in epochs.
        seed: seeds model init, window sampling and latent noise.
    """

    model: CVAEConfig = field(default_factory=CVAEConfig)
    rollout_chunks: int = option(2, range=(1, 1000))
    batch_size: int = option(64, range=COUNT)
    lr: float = option(2e-3, range=POSITIVE)
    weight_decay: float = option(1e-4, range=NON_NEGATIVE)
    grad_clip: float = option(1.0, range=NON_NEGATIVE)
    epochs: int = option(30, range=COUNT)
    windows_per_epoch: int = option(2048, range=COUNT)
    val_windows: int = option(256, range=COUNT)
    beta: float = option(0.05, range=NON_NEGATIVE)
    kl_warmup_steps: int = option(300, range=NON_NEGATIVE)
    w_vel: float = option(10.0, range=NON_NEGATIVE)
    p_start: float = option(0.2, range=FRACTION)
    patience: int = option(8, range=COUNT)
    seed: int = option(0, range=SEED)

    @property
    def window(self) -> int:
        """Training window length in frames: ``context + rollout_chunks · chunk``."""
        return self.model.context + self.rollout_chunks * self.model.chunk


def load_train_config(path: str | Path) -> CVAETrainConfig:
    """Read a YAML config (``model:`` mapping + training keys), validated (:mod:`stygaze.config`)."""
    return load_config(CVAETrainConfig, path)


def config_from_dict(raw: dict[str, Any], where: str = "config") -> CVAETrainConfig:
    """:class:`CVAETrainConfig` from a mapping, validated like a YAML file."""
    return from_dict(CVAETrainConfig, raw, where=where)


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
@dataclass
class Track:
    """One session: ``head`` (T, 3) and per-eye world ``gaze`` (T, 4), degrees at 25 fps."""

    name: str
    head: np.ndarray
    gaze: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """``(T,)`` frames where head and gaze are tracked."""
        return windows.valid_frames(np.concatenate([self.head, self.gaze], axis=1))


def load_tracks(data_dir: str | Path, split: str) -> list[Track]:
    """Head and world-gaze tracks of a split's sessions (resampled to 25 fps); a split that
    ``splits.json`` does not list has no tracks."""

    tracks = []
    for session in Corpus(data_dir).sessions(split, required=False):
        m = session.load_motion(FPS)
        head = m.head.astype(np.float32).copy()
        gaze = world_gaze_track(m)
        bad = np.isnan(gaze).any(1)
        head[bad] = np.nan
        tracks.append(Track(session.name, head, gaze))
    return tracks


def normalization_stats(tracks: list[Track]) -> dict[str, np.ndarray]:
    """Per-channel mean/std (degrees, NaN ignored) of head and world gaze over ``tracks``."""
    head = np.concatenate([t.head for t in tracks])
    gaze = np.concatenate([t.gaze for t in tracks])
    return {
        "head_mean": np.nanmean(head, 0),
        "head_std": np.nanstd(head, 0),
        "gaze_mean": np.nanmean(gaze, 0),
        "gaze_std": np.nanstd(gaze, 0),
    }


def valid_starts(track: Track, window: int) -> np.ndarray:
    """Start frames of every NaN-free window of ``window`` frames in ``track``."""
    return windows.nan_free_starts(track.valid, window)


def sample_windows(tracks: list[Track], window: int, n: int, rng: np.random.Generator | None) -> np.ndarray:
    """``(n, 2)`` (track, start) pairs: uniform over all valid windows (``rng=None`` → evenly
    spaced); see :func:`stygaze.data.windows.sample_windows`."""
    return windows.sample_windows([t.valid for t in tracks], window, n, rng)


class WindowDataset(torch.utils.data.Dataset):
    """Fixed list of ``(track index, start)`` windows → ``(head (W, 3), gaze (W, 4))`` float32 tensors."""

    def __init__(self, tracks: list[Track], window: int, index: np.ndarray) -> None:
        self.tracks, self.window, self.index = tracks, window, index

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        ti, s = self.index[i]
        t = self.tracks[ti]
        sl = slice(int(s), int(s) + self.window)
        return torch.from_numpy(t.head[sl].copy()), torch.from_numpy(t.gaze[sl].copy())


@dataclass
class CVAEData:
    """Train/val tracks and their normalisation statistics."""

    train: list[Track]
    val: list[Track]
    stats: dict[str, np.ndarray]


def load_data(data_dir: str | Path) -> CVAEData:
    """The train and val tracks of a corpus (val falls back to train when the corpus has none)."""
    train = load_tracks(data_dir, "train")
    if not train:
        raise DataError(f"{data_dir}/splits.json lists no train sessions")
    val = load_tracks(data_dir, "val")
    if not val:
        log.warning("no val sessions in %s: validating on the train sessions", data_dir)
        val = train
    return CVAEData(train, val, normalization_stats(train))


def build_dataloaders(cfg: CVAETrainConfig, data: CVAEData, epoch: int) -> tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
    """Loaders for one epoch: seeded random train windows, fixed val windows."""
    rng = np.random.default_rng([cfg.seed, epoch])
    train_idx = sample_windows(data.train, cfg.window, cfg.windows_per_epoch, rng)
    val_idx = sample_windows(data.val, cfg.window, cfg.val_windows, None)
    train = torch.utils.data.DataLoader(WindowDataset(data.train, cfg.window, train_idx), batch_size=cfg.batch_size, shuffle=False, drop_last=False)
    val = torch.utils.data.DataLoader(WindowDataset(data.val, cfg.window, val_idx), batch_size=cfg.batch_size, shuffle=False)
    return train, val


def build_model(cfg: CVAETrainConfig, data: CVAEData) -> HeadCVAE:
    model = HeadCVAE(cfg.model)
    model.set_normalization(**data.stats)
    return model


def build_optimizer(cfg: CVAETrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


# --------------------------------------------------------------------------------------
# loop
# --------------------------------------------------------------------------------------
def evaluate(model: HeadCVAE, loader, cfg: CVAETrainConfig) -> dict[str, float]:
    """Mean validation losses (posterior mean z, full KL weight)."""
    model.eval()
    sums = {"total": 0.0, "recon": 0.0, "vel": 0.0, "kl": 0.0}
    n = 0
    device = next(model.parameters()).device
    with torch.no_grad():
        for head, gaze in loader:
            head, gaze = head.to(device), gaze.to(device)
            out = model.loss(head, gaze, beta=cfg.beta, w_vel=cfg.w_vel)
            for k in sums:
                sums[k] += float(getattr(out, k)) * len(head)
            n += len(head)
    return {k: v / max(n, 1) for k, v in sums.items()}


def train_cvae(
    cfg: CVAETrainConfig,
    data_dir: str | Path,
    run_dir: str | Path,
    *,
    max_epochs: int | None = None,
    max_minutes: float | None = None,
    progress: bool = True,
    force_resume: bool = False,
):
    """Train (or resume, when ``RUN/last`` exists) a cVAE with :func:`stygaze.training.loop.fit`;
    ``RUN/best`` is the checkpoint to use.

    Args:
        cfg: training config.
        data_dir: corpus folder (see the module docstring).
        run_dir: run folder.
        max_epochs: stop after this many epochs in total (overrides ``cfg.epochs`` when smaller).
        max_minutes: stop after the first epoch that ends past this wall-clock budget.
        progress: tqdm bars on stderr.
        force_resume: resume ``RUN/last`` even if it was trained with another config or corpus.

    Returns:
        The :class:`~stygaze.training.loop.TrainResult`.

    Raises:
        DataError: bad corpus. CheckpointError: ``RUN/last`` made with another config or corpus.
    """

    ctx = init_distributed()  # torchrun -> DDP (see stygaze.training.distributed); else single process
    with run_folder(run_dir, ctx.is_main) as run_dir:
        set_seed(cfg.seed)
        data = load_data(data_dir)
        model = build_model(cfg, data).to(ctx.device)
        optimizer = build_optimizer(cfg, model)
        cfg_dict = json.loads(json.dumps(asdict(cfg)))
        _, val_loader = build_dataloaders(cfg, data, 0)  # fixed windows
        if ctx.is_distributed:  # same windows, sharded: batch_size per process, batch_size x N per step
            val_loader = torch.utils.data.DataLoader(val_loader.dataset, batch_size=cfg.batch_size, sampler=ctx.sampler(val_loader.dataset, shuffle=False))

        def batches(epoch: int):
            train_loader, _ = build_dataloaders(cfg, data, epoch)
            if ctx.is_distributed:
                train_loader = torch.utils.data.DataLoader(train_loader.dataset, batch_size=cfg.batch_size, sampler=ctx.sampler(train_loader.dataset, shuffle=False))
            # Each DataLoader iterator draws a base seed from torch's RNG. Earlier versions opened the
            # epoch's iterator twice (their progress bar did); one extra draw keeps that RNG stream,
            # so runs reproduce the weights of those versions bit for bit.
            iter(train_loader)
            return train_loader

        def step(loss_fn, batch, step_index: int):
            head, gaze = batch
            beta = kl_weight(step_index, beta=cfg.beta, warmup_steps=cfg.kl_warmup_steps)
            start = torch.rand(len(head)) < cfg.p_start
            head, gaze, start = head.to(ctx.device), gaze.to(ctx.device), start.to(ctx.device)
            out = loss_fn(head, gaze, beta=beta, w_vel=cfg.w_vel, start=start)
            return out.total, {k: float(getattr(out, k).detach()) for k in ("total", "recon", "vel", "kl")}, len(head)

        def validate() -> dict[str, float]:
            val = evaluate(model, val_loader, cfg)
            return ctx.mean_metrics(val, len(val_loader.sampler), tuple(val))  # same on every rank

        def save(path, epoch, step_index, val):
            meta = {"train": {"epoch": epoch, "step": step_index, "val": val, "data": str(data_dir), "config": cfg_dict}}
            save_checkpoint(path, model, model_type=MODEL_TYPE, config=cfg.model, meta=meta)

        spec = TrainSpec(
            name="cvae", model=model, optimizer=optimizer,
            loss=lambda m, head, gaze, **kw: m.loss(head, gaze, **kw),
            # DDP's unused-parameter search: some context/start branches are skipped per batch
            find_unused_parameters=True,
            step=step, batches=batches, evaluate=validate, save=save, monitor="total",
            steps_per_epoch=-(-cfg.windows_per_epoch // ctx.effective_batch_size(cfg.batch_size)), grad_clip=cfg.grad_clip,
            extra_record=lambda s: {"beta": kl_weight(s, beta=cfg.beta, warmup_steps=cfg.kl_warmup_steps)},
        )
        epochs = cfg.epochs if max_epochs is None else min(cfg.epochs, int(max_epochs))
        budget = Budget(max_epochs=epochs, patience=cfg.patience, seed=cfg.seed, max_minutes=max_minutes or 0.0)
        result = fit(run_dir, spec, budget, config=cfg_dict, corpus=Corpus(data_dir).fingerprint(), force_resume=force_resume,
                     progress=progress and ctx.is_main, dist=ctx)
    ctx.close()
    return result
