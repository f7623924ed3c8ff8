"""Stage 1: contrastive pretraining of the style encoder (``stygaze train style``).

Data: the ``train``/``val`` sessions of a corpus folder (``DIR/<session>/motion.npz`` +
``DIR/splits.json``, see :func:`load_split`). A batch takes ``batch_size`` distinct
sessions and two random windows of ``window`` frames from each; the two windows of a
session are a positive pair, every other window a negative (NT-Xent, tau from the config).

Run folder (conventions of :mod:`stygaze.training.state`): ``RUN/last`` (resumable state,
after every epoch), ``RUN/best`` (a ``style_encoder`` stygaze checkpoint with the lowest
validation loss), ``RUN/log.jsonl``, ``RUN/run_config.json``. The loop is
:func:`fit_style`; model, optimizer and data are built by the ``build_*`` functions so a
distributed wrapper can slot in between.

Every random choice is drawn from generators seeded with ``(seed, epoch)``, and torch's
RNG is saved in ``RUN/last``, so a resumed run continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stygaze.audio import load_audio
from stygaze.checkpoint import build_config, load_state_strict, read_checkpoint, save_checkpoint
from stygaze.errors import DataError
from stygaze.motion import Motion
from stygaze.stygazetalk.generator import motion_stats
from stygaze.stygazetalk.style_encoder import StyleEncoder, StyleEncoderConfig, nt_xent
from stygaze.training.distributed import DistributedContext, init_distributed
from stygaze.training.state import (
    EarlyStopping,
    append_log,
    has_training_state,
    load_training_state,
    save_training_state,
    set_seed,
)

log = logging.getLogger(__name__)
SPLITS_FILE = "splits.json"


# --------------------------------------------------------------------------------------
# configs
# --------------------------------------------------------------------------------------
@dataclass
class StyleTrainConfig:
    """Optimisation settings of stage 1."""

    batch_size: int = 32  # sessions per batch (2 windows each)
    batches_per_epoch: int = 50
    val_pairs: int = 64  # fixed positive pairs drawn from the val split
    lr: float = 3e-4
    weight_decay: float = 1e-4
    max_epochs: int = 30
    patience: int = 6
    max_minutes: float = 0.0  # 0 = no wall-clock limit
    grad_clip: float = 1.0
    seed: int = 0
    threads: int = 0  # torch threads; 0 = leave as is


@dataclass
class StyleRunConfig:
    """Everything ``stygaze train style`` reads from YAML (``style_encoder:`` + ``style_train:``)."""

    style_encoder: StyleEncoderConfig = field(default_factory=StyleEncoderConfig)
    style_train: StyleTrainConfig = field(default_factory=StyleTrainConfig)


# --------------------------------------------------------------------------------------
# corpus reading (the on-disk layout is the contract)
# --------------------------------------------------------------------------------------
@dataclass
class Session:
    """One corpus session: ``motion (T, 7)`` degrees, optional ``audio (S,)`` 16 kHz."""

    name: str
    motion: np.ndarray
    audio: np.ndarray | None = None
    style: dict | None = None


def read_splits(data_dir: str | Path) -> dict[str, list[str]]:
    """``DIR/splits.json`` -> ``{"train": [...], "val": [...], "test": [...]}``."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"corpus folder not found: {data_dir}")
    path = data_dir / SPLITS_FILE
    if not path.exists():
        raise DataError(f"{data_dir} has no {SPLITS_FILE}: a corpus needs train/val/test session lists (stygaze data ...)")
    try:
        splits = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON") from exc
    if not isinstance(splits, dict) or not all(isinstance(v, list) for v in splits.values()):
        raise DataError(f"{path} must map split names to lists of session folders")
    return {k: [str(s) for s in v] for k, v in splits.items()}


def load_split(data_dir: str | Path, split: str, *, with_audio: bool = False, limit: int | None = None) -> list[Session]:
    """Read the sessions of one split (``motion.npz``, optionally ``audio.wav``, ``style.json``).

    Raises:
        DataError: missing split, missing or unreadable session files.
    """
    data_dir = Path(data_dir)
    names = read_splits(data_dir).get(split)
    if not names:
        raise DataError(f"{data_dir}/{SPLITS_FILE} has no sessions in split {split!r}")
    sessions = []
    for name in names[:limit]:
        sdir = data_dir / name
        if not (sdir / "motion.npz").exists():
            raise DataError(f"session {sdir} has no motion.npz")
        motion = Motion.load(sdir / "motion.npz").resample(25)
        audio = None
        if with_audio:
            if not (sdir / "audio.wav").exists():
                raise DataError(f"session {sdir} has no audio.wav")
            audio = load_audio(sdir / "audio.wav")
        style = None
        if (sdir / "style.json").exists():
            try:
                style = json.loads((sdir / "style.json").read_text())
            except json.JSONDecodeError:
                style = None
        sessions.append(Session(name, motion.data, audio, style))
    return sessions


def load_yaml_sections(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a dict (one level of sections)."""
    import yaml

    path = Path(path)
    if not path.exists():
        raise DataError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"config {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise DataError(f"config {path} must be a mapping of sections")
    return data


def section(data: dict[str, Any], name: str, cls: type, where: str):
    """Build dataclass ``cls`` from ``data[name]`` with a DataError for unknown keys."""
    import dataclasses

    values = data.get(name) or {}
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise DataError(f"{where}: unknown keys in '{name}': {unknown} (known: {sorted(names)})")
    return cls(**values)


def load_style_run_config(path: str | Path) -> StyleRunConfig:
    data = load_yaml_sections(path)
    return StyleRunConfig(
        style_encoder=section(data, "style_encoder", StyleEncoderConfig, str(path)),
        style_train=section(data, "style_train", StyleTrainConfig, str(path)),
    )


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
class StylePairSampler:
    """Draws NT-Xent batches: ``(2, B, L, 7)`` windows, two per session, degrees.

    Windows containing NaN are avoided where the session allows (up to 20 tries).
    """

    def __init__(self, sessions: list[Session], window: int):
        self.window = window
        self.sessions = [s for s in sessions if len(s.motion) >= window]
        if len(self.sessions) < 2:
            raise DataError(f"style training needs at least 2 sessions of >= {window} frames, found {len(self.sessions)}")

    def _window(self, motion: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for _ in range(20):
            s = int(rng.integers(0, len(motion) - self.window + 1))
            w = motion[s : s + self.window]
            if np.isfinite(w).all():
                return w
        return w

    def batch(self, batch_size: int, rng: np.random.Generator) -> torch.Tensor:
        idx = rng.choice(len(self.sessions), size=min(batch_size, len(self.sessions)), replace=False)
        a = [self._window(self.sessions[i].motion, rng) for i in idx]
        b = [self._window(self.sessions[i].motion, rng) for i in idx]
        return torch.from_numpy(np.stack([np.stack(a), np.stack(b)]).astype(np.float32))


# --------------------------------------------------------------------------------------
# builders (separate so a distributed wrapper can slot in between)
# --------------------------------------------------------------------------------------
def build_style_model(config: StyleRunConfig, train_sessions: list[Session]) -> StyleEncoder:
    model = StyleEncoder(config.style_encoder)
    mean, std = motion_stats([s.motion for s in train_sessions])
    model.set_normalization(mean, std)
    return model


def build_style_optimizer(model: torch.nn.Module, tc: StyleTrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=tc.lr, weight_decay=tc.weight_decay)


@torch.no_grad()
def evaluate_style(model: StyleEncoder, val_batch: torch.Tensor, temperature: float) -> dict[str, float]:
    """Val NT-Xent loss and top-1 retrieval accuracy of the positive window."""
    model.eval()
    a, b = model(val_batch[0]), model(val_batch[1])
    loss = float(nt_xent(a, b, temperature))
    acc = float(((a @ b.t()).argmax(dim=1) == torch.arange(len(a))).float().mean())
    return {"val_loss": loss, "val_top1": acc}


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
    progress: bool = True,
    dist: Any = None,
) -> dict[str, Any]:
    """Train until ``max_epochs``, early stopping or ``max_minutes``; resumes from ``RUN/last``.

    ``dist`` (a :class:`~stygaze.training.distributed.DistributedContext`) runs data-parallel:
    each step draws the global batch (``batch_size × world_size`` sessions) on every
    process, each embeds its slice, the embeddings are gathered (with gradients) so NT-Xent
    sees every negative of the global batch, DDP averages the gradients, and only rank 0
    writes. Without it this is the single-process loop.
    """
    from tqdm import tqdm

    ctx = dist or DistributedContext()
    tc = config.style_train
    stopper = EarlyStopping(patience=tc.patience)
    epoch = 0
    if has_training_state(run_dir):
        counters = load_training_state(run_dir, model, optimizer)
        epoch = int(counters["epoch"])
        stopper.load(counters["early_stopping"])
        log.info("resuming %s at epoch %d", run_dir, epoch)
    ctx.reseed_other_ranks(tc.seed, epoch)  # ranks > 0: own dropout/sampling RNG; rank 0 unchanged
    embed = ctx.wrap_loss(model, lambda m, a, b: (m(a), m(b)))
    global_batch = ctx.effective_batch_size(tc.batch_size)
    start = time.monotonic()
    counters: dict[str, Any] = {"epoch": epoch}
    while epoch < tc.max_epochs and not stopper.should_stop:
        model.train()
        rng = np.random.default_rng([tc.seed, epoch])
        total = 0.0
        bar = tqdm(range(tc.batches_per_epoch), desc=f"style epoch {epoch + 1}", disable=not (progress and ctx.is_main), leave=False)
        for _ in bar:
            batch = sampler.batch(global_batch, rng)  # (2, B, L, 7)
            batch = ctx.shard(batch[:, : batch.shape[1] // ctx.world_size * ctx.world_size], dim=1)
            za, zb = embed(batch[0], batch[1])
            loss = nt_xent(ctx.gather(za), ctx.gather(zb), config.style_encoder.temperature)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if tc.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
            optimizer.step()
            total += loss.item()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        metrics = evaluate_style(model, val_batch, config.style_encoder.temperature)
        epoch += 1
        improved = stopper.step(metrics["val_loss"])
        if improved and ctx.is_main:
            save_checkpoint(
                run_dir / "best", model, model_type="style_encoder", config=config.style_encoder,
                meta={"encoder_id": model.encoder_id, "epoch": epoch, **metrics, "train_config": asdict(tc)},
            )
        elapsed = time.monotonic() - start
        timed_out = ctx.broadcast_flag(tc.max_minutes > 0 and elapsed / 60 >= tc.max_minutes)
        done = epoch >= tc.max_epochs or stopper.should_stop or timed_out
        counters = {"epoch": epoch, "early_stopping": stopper.state(), "done": bool(done and not timed_out)}
        if not ctx.is_main:  # only rank 0 writes
            if timed_out:
                break
            continue
        save_training_state(run_dir, model, optimizer, counters)
        record = {"epoch": epoch, "train_loss": total / tc.batches_per_epoch, **metrics, "best": improved, "seconds": round(elapsed, 1)}
        append_log(run_dir, record)
        if progress:
            tqdm.write(f"style epoch {epoch}: train {record['train_loss']:.4f} val {metrics['val_loss']:.4f} top1 {metrics['val_top1']:.2f}")
        if timed_out:
            log.info("stopping after %.1f min (max_minutes)", elapsed / 60)
            break
    ctx.barrier()  # every rank returns after rank 0 has written RUN/best and RUN/last
    return counters


def train_style(
    config: StyleRunConfig,
    data_dir: str | Path,
    run_dir: str | Path,
    *,
    progress: bool = True,
) -> Path:
    """Stage 1 end to end. Returns ``RUN/best``."""
    tc = config.style_train
    if tc.threads > 0:
        torch.set_num_threads(tc.threads)
    ctx = init_distributed()  # torchrun -> DDP (see stygaze.training.distributed); else single process
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
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
    if ctx.is_main:
        (run_dir / "run_config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    fit_style(run_dir, model, optimizer, sampler, val_batch.to(ctx.device), config, progress=progress and ctx.is_main, dist=ctx)
    ctx.close()
    return run_dir / "best"


def load_style_encoder(path: str | Path) -> StyleEncoder:
    """Rebuild a style encoder from its checkpoint folder (``RUN/best``)."""
    info = read_checkpoint(path, model_type="style_encoder")
    model = StyleEncoder(build_config(StyleEncoderConfig, info.config, where=str(path)))
    load_state_strict(model, info.state_dict, where=str(path))
    model.eval()
    return model
