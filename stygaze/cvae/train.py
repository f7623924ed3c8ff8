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

Run folder (same conventions as every stygaze model, see :mod:`stygaze.training.state`)::

    RUN/last/      resumable state after the latest epoch (atomic)
    RUN/best/      stygaze checkpoint with the lowest validation loss (normalisation stats inside)
    RUN/log.jsonl  one line per epoch

Model, optimizer and data loaders are built by :func:`build_model`, :func:`build_optimizer` and
:func:`build_dataloaders`, separately from the loop in :func:`train_cvae`, so a distributed
sampler / DDP wrapper can be slotted in later.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stygaze.audio import FPS
from stygaze.checkpoint import save_checkpoint
from stygaze.errors import CheckpointError, DataError
from stygaze.cvae.model import MODEL_TYPE, CVAEConfig, HeadCVAE, kl_weight
from stygaze.cvae.gaze import world_gaze_track
from stygaze.motion import Motion
from stygaze.training.distributed import init_distributed
from stygaze.training.state import (
    EarlyStopping,
    append_log,
    has_training_state,
    load_training_state,
    save_training_state,
    set_seed,
)

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
    rollout_chunks: int = 2
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    epochs: int = 30
    windows_per_epoch: int = 2048
    val_windows: int = 256
    beta: float = 0.05
    kl_warmup_steps: int = 300
    w_vel: float = 10.0
    p_start: float = 0.2
    patience: int = 8
    seed: int = 0

    @property
    def window(self) -> int:
        """Training window length in frames: ``context + rollout_chunks · chunk``."""
        return self.model.context + self.rollout_chunks * self.model.chunk


def load_train_config(path: str | Path) -> CVAETrainConfig:
    """Read a YAML config (``model:`` mapping + training keys); unknown keys are errors."""
    import yaml

    path = Path(path)
    if not path.exists():
        raise DataError(f"config not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"config {path} is not valid YAML ({type(exc).__name__})") from exc
    if not isinstance(raw, dict):
        raise DataError(f"config {path} must be a mapping of keys to values")
    return config_from_dict(raw, where=str(path))


def config_from_dict(raw: dict[str, Any], where: str = "config") -> CVAETrainConfig:
    import dataclasses

    raw = dict(raw)
    model_raw = raw.pop("model", {}) or {}
    names = {f.name for f in dataclasses.fields(CVAETrainConfig)} - {"model"}
    mnames = {f.name for f in dataclasses.fields(CVAEConfig)}
    unknown = sorted(set(raw) - names) + [f"model.{k}" for k in sorted(set(model_raw) - mnames)]
    if unknown:
        raise DataError(f"{where}: unknown keys {unknown}")
    try:
        return CVAETrainConfig(model=CVAEConfig(**model_raw), **raw)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: {exc}") from exc


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
@dataclass
class Track:
    """One session: ``head`` (T, 3) and per-eye world ``gaze`` (T, 4), degrees at 25 fps."""

    name: str
    head: np.ndarray
    gaze: np.ndarray


def read_splits(data_dir: str | Path) -> dict[str, list[str]]:
    """``DIR/splits.json`` as {split: [session, ...]}."""
    path = Path(data_dir) / "splits.json"
    if not Path(data_dir).is_dir():
        raise DataError(f"corpus folder not found: {data_dir}")
    if not path.exists():
        raise DataError(f"{data_dir} has no splits.json (expected DIR/splits.json with train/val/test session lists)")
    try:
        splits = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON") from exc
    if not isinstance(splits, dict) or not isinstance(splits.get("train"), list):
        raise DataError(f"{path} must map 'train' (and 'val', 'test') to lists of session names")
    return {k: [str(s) for s in v] for k, v in splits.items() if isinstance(v, list)}


def load_tracks(data_dir: str | Path, split: str) -> list[Track]:
    """Head and world-gaze tracks of a split's sessions (resampled to 25 fps)."""
    data_dir = Path(data_dir)
    names = read_splits(data_dir).get(split, [])
    tracks = []
    for name in names:
        path = data_dir / name / "motion.npz"
        if not path.exists():
            raise DataError(f"session {name!r} of split {split!r} has no motion file: {path}")
        m = Motion.load(path)
        if abs(m.fps - FPS) > 1e-9:
            m = m.resample(FPS)
        head = m.head.astype(np.float32).copy()
        gaze = world_gaze_track(m)
        bad = np.isnan(gaze).any(1)
        head[bad] = np.nan
        tracks.append(Track(name, head, gaze))
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
    ok = ~(np.isnan(track.head).any(1) | np.isnan(track.gaze).any(1))
    if len(ok) < window:
        return np.zeros(0, dtype=np.int64)
    c = np.concatenate([[0], np.cumsum(~ok)])
    bad_in_window = c[window:] - c[:-window]
    return np.flatnonzero(bad_in_window == 0).astype(np.int64)


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


def sample_windows(tracks: list[Track], window: int, n: int, rng: np.random.Generator | None) -> np.ndarray:
    """``(n, 2)`` (track, start) pairs: uniform over all valid windows (``rng=None`` → evenly spaced)."""
    starts = [valid_starts(t, window) for t in tracks]
    counts = np.array([len(s) for s in starts])
    total = int(counts.sum())
    if total == 0:
        raise DataError(f"no NaN-free window of {window} frames ({window / FPS:.1f} s) in the sessions; use longer sessions")
    flat = rng.integers(0, total, size=n) if rng is not None else np.linspace(0, total - 1, num=min(n, total)).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    ti = np.searchsorted(offsets, flat, side="right") - 1
    return np.stack([ti, np.array([starts[a][f - offsets[a]] for a, f in zip(ti, flat)], dtype=np.int64)], 1)


@dataclass
class CVAEData:
    """Train/val tracks and their normalisation statistics."""

    train: list[Track]
    val: list[Track]
    stats: dict[str, np.ndarray]


def load_data(data_dir: str | Path) -> CVAEData:
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
@dataclass
class TrainResult:
    """Summary of a :func:`train_cvae` run."""

    run_dir: Path
    best_path: Path
    epochs: int
    best_val: float
    stopped: str  # "epochs", "early_stopping", "time", "max_epochs"


def _config_dict(cfg: CVAETrainConfig) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(cfg)))


def _resumable(cfg: dict | None) -> dict | None:
    """The config fields that must match to resume a run (all but the epoch budget)."""
    return None if cfg is None else {k: v for k, v in cfg.items() if k != "epochs"}


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
) -> TrainResult:
    """Train (or resume, when ``RUN/last`` exists) a cVAE; ``RUN/best`` is the checkpoint to use.

    Args:
        cfg: training config.
        data_dir: corpus folder (see the module docstring).
        run_dir: run folder.
        max_epochs: stop after this many epochs in total (overrides ``cfg.epochs`` when smaller).
        max_minutes: stop after the first epoch that ends past this wall-clock budget.
        progress: tqdm bars on stderr.

    Raises:
        DataError: bad corpus. CheckpointError: ``RUN/last`` made with another config.
    """
    from tqdm.auto import tqdm

    ctx = init_distributed()  # torchrun -> DDP (see stygaze.training.distributed); else single process
    progress = progress and ctx.is_main
    run_dir = Path(run_dir)
    set_seed(cfg.seed)
    data = load_data(data_dir)
    model = build_model(cfg, data).to(ctx.device)
    optimizer = build_optimizer(cfg, model)
    stopper = EarlyStopping(patience=cfg.patience)
    cfg_dict = _config_dict(cfg)
    epoch, step = 0, 0
    if has_training_state(run_dir):
        counters = load_training_state(run_dir, model, optimizer)
        if _resumable(counters.get("config")) != _resumable(cfg_dict):
            raise CheckpointError(f"{run_dir}/last was trained with another config; use a new --out folder or the same config (only 'epochs' may change)")
        epoch, step = int(counters["epoch"]), int(counters["step"])
        stopper.load(counters["early_stopping"])
        log.info("resuming %s at epoch %d", run_dir, epoch)
    ctx.reseed_other_ranks(cfg.seed, epoch)  # ranks > 0: own dropout/sampling RNG; rank 0 unchanged
    # DDP (identity single-process); unused-parameter search: some context/start branches are skipped per batch
    loss_fn = ctx.wrap_loss(model, lambda m, head, gaze, **kw: m.loss(head, gaze, **kw), find_unused_parameters=True)
    total_epochs = cfg.epochs if max_epochs is None else min(cfg.epochs, int(max_epochs))
    t0 = time.monotonic()
    stopped = "epochs"
    if stopper.should_stop:
        stopped = "early_stopping"
    while epoch < total_epochs and not stopper.should_stop:
        train_loader, val_loader = build_dataloaders(cfg, data, epoch)
        if ctx.is_distributed:  # same windows, sharded: batch_size per process, batch_size x N per step
            train_loader, val_loader = (
                torch.utils.data.DataLoader(dl.dataset, batch_size=cfg.batch_size, sampler=ctx.sampler(dl.dataset, shuffle=False))
                for dl in (train_loader, val_loader)
            )
        model.train()
        sums = {"total": 0.0, "recon": 0.0, "vel": 0.0, "kl": 0.0}
        n = 0
        bar = tqdm(train_loader, desc=f"cvae epoch {epoch + 1}/{total_epochs}", disable=not progress, leave=False)
        for head, gaze in bar:
            beta = kl_weight(step, beta=cfg.beta, warmup_steps=cfg.kl_warmup_steps)
            start = torch.rand(len(head)) < cfg.p_start
            head, gaze, start = head.to(ctx.device), gaze.to(ctx.device), start.to(ctx.device)
            out = loss_fn(head, gaze, beta=beta, w_vel=cfg.w_vel, start=start)
            optimizer.zero_grad(set_to_none=True)
            out.total.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            step += 1
            for k in sums:
                sums[k] += float(getattr(out, k).detach()) * len(head)
            n += len(head)
            bar.set_postfix(loss=f"{float(out.total.detach()):.4f}", beta=f"{beta:.3f}")
        bar.close()
        val = evaluate(model, val_loader, cfg)
        val = ctx.mean_metrics(val, len(val_loader.sampler), tuple(val))  # same on every rank
        n, *totals = ctx.sum(n, *sums.values())
        sums = dict(zip(sums, totals))
        epoch += 1
        if not math.isfinite(val["total"]):
            raise DataError(f"validation loss became {val['total']} at epoch {epoch}; lower lr or check the corpus for outliers")
        improved = stopper.step(val["total"])
        out_of_time = ctx.broadcast_flag(max_minutes is not None and (time.monotonic() - t0) / 60.0 >= max_minutes)
        if not ctx.is_main:  # only rank 0 writes
            if out_of_time:
                stopped = "time"
                break
            continue
        record = {
            "epoch": epoch,
            "step": step,
            "beta": kl_weight(step, beta=cfg.beta, warmup_steps=cfg.kl_warmup_steps),
            **{f"train_{k}": v / max(n, 1) for k, v in sums.items()},
            **{f"val_{k}": v for k, v in val.items()},
            "best": improved,
            "minutes": (time.monotonic() - t0) / 60.0,
        }
        append_log(run_dir, record)
        if improved:
            meta = {"train": {"epoch": epoch, "step": step, "val": val, "data": str(data_dir), "config": cfg_dict}}
            save_checkpoint(run_dir / "best", model, model_type=MODEL_TYPE, config=cfg.model, meta=meta)
        save_training_state(run_dir, model, optimizer, {"epoch": epoch, "step": step, "early_stopping": stopper.state(), "config": cfg_dict})
        if progress:
            tqdm.write(f"cvae epoch {epoch}: train {record['train_total']:.4f} val {val['total']:.4f}{' *' if improved else ''}")
        if out_of_time:
            stopped = "time"
            break
    else:
        if stopper.should_stop:
            stopped = "early_stopping"
        elif max_epochs is not None and total_epochs < cfg.epochs:
            stopped = "max_epochs"
    ctx.barrier()  # every rank returns after rank 0 has written RUN/best and RUN/last
    ctx.close()
    if not (run_dir / "best").exists():
        raise CheckpointError(f"{run_dir}: no epoch finished, so there is no best checkpoint")
    return TrainResult(run_dir, run_dir / "best", epoch, stopper.best, stopped)
