"""The training loop of every stygaze trainer (style encoder, generator, cVAE, OmniHead).

A trainer builds its model, optimizer and data, then hands :func:`fit` a :class:`TrainSpec`
of the few things that differ between trainers: how to draw an epoch's batches, how one
batch becomes a loss (``step``), how to validate (``evaluate``) and how to write a complete
checkpoint (``save``). The loop does the rest, the same way for all:

* **Run folder** (written by rank 0 only): ``RUN/last/`` resumable state after every epoch
  (atomic), ``RUN/best/`` the checkpoint of the lowest validation loss (``keep="last"``: of
  the latest epoch), ``RUN/final/`` the last epoch once the run has finished (trainers that
  ask for it), ``RUN/log.jsonl`` one record per epoch, ``RUN/run_config.json`` the config,
  corpus and seed the run was trained with.
* **Resume**: when ``RUN/last`` exists the run continues from it — model, optimizer,
  scheduler, torch RNG, epoch and step counters, early-stopping state — so a resumed run
  ends with the same weights as an uninterrupted one. The run's *identity* (the config
  without its budget fields, the corpus :func:`~stygaze.data.corpus.fingerprint`, the seed)
  is stored with the state; resuming with another identity is refused with one line
  (:class:`~stygaze.errors.CheckpointError`) unless ``force_resume=True``
  (``--force-resume``), which continues and appends the old identity to the run's history
  (``run_history`` in the state, ``history`` in ``run_config.json``).
* **Budgets**: at most ``max_epochs`` epochs in total; early stopping after ``patience``
  epochs without a better validation loss; ``max_minutes`` of wall time per call. The time
  budget is checked at one point for every trainer: *after* an epoch has been validated and
  written. So every call makes at least one epoch of progress (rerunning a run that stopped
  for time continues it), nothing of a finished epoch is lost, and rank 0's decision is
  broadcast so every process stops after the same epoch.
* **Distributed** (``torchrun``, see :mod:`stygaze.training.distributed`): the step runs
  through DDP, training metrics are averaged over all processes' steps (weighted as the
  trainer says), validation metrics come from the trainer already reduced, and only rank 0
  writes files or shows progress.
* **Log records**: ``epoch``, ``step``, ``train_<metric>`` (the step metrics' weighted mean),
  ``val_<metric>``, ``best`` (a new best), ``seconds`` (training-loop wall time of the whole
  run, over all calls), ``world_size`` when distributed, plus the trainer's ``extra_record``.
  A validation loss that is not finite stops the run with a :class:`~stygaze.errors.DataError`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stygaze.errors import CheckpointError, DataError
from stygaze.io import atomic_path
from stygaze.training.state import (
    EarlyStopping,
    append_log,
    has_training_state,
    load_training_state,
    read_training_counters,
    save_training_state,
)

log = logging.getLogger(__name__)

RUN_CONFIG = "run_config.json"

BUDGET_FIELDS = ("max_epochs", "epochs", "max_minutes", "patience", "threads", "num_threads", "device")
"""Config fields that may change when a run is resumed: they bound how long it trains (or where),
not what it learns per epoch. Every other field must match the run's stored config."""


@dataclass
class TrainResult:
    """What :func:`fit` did.

    Attributes:
        run_dir: the run folder.
        best_dir: ``RUN/best``, the checkpoint to use.
        final_dir: ``RUN/final`` when the trainer writes one and the run has finished, else None.
        epochs: epochs trained in total (over every call of a resumed run).
        steps: optimizer steps in total.
        best_val_loss: lowest validation loss so far (the early-stopping monitor).
        stopped: why this call ended: ``"epochs"`` (epoch budget reached), ``"early_stopping"``
            or ``"time"`` (``max_minutes``).
        seconds: training-loop wall time of the whole run, over all calls.
        history: the log records of the epochs this call trained.
    """

    run_dir: Path
    best_dir: Path
    final_dir: Path | None
    epochs: int
    steps: int
    best_val_loss: float
    stopped: str
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def best_path(self) -> Path:
        """Same as :attr:`best_dir`."""
        return self.best_dir

    @property
    def best_val(self) -> float:
        """Same as :attr:`best_val_loss`."""
        return self.best_val_loss


@dataclass
class Budget:
    """How long :func:`fit` trains: ``max_epochs`` in total, early stopping after ``patience``
    epochs without improvement, ``max_minutes`` of wall time per call (0 = none), and the
    ``seed`` that gives processes other than rank 0 their own torch RNG stream."""

    max_epochs: int
    patience: int
    seed: int
    max_minutes: float = 0.0


@dataclass
class TrainSpec:
    """What a trainer tells :func:`fit`: its model, optimizer and the callbacks that differ.

    Attributes:
        name: shown in progress bars and messages (``"style"``, ``"generator"``, ...).
        model: the plain (unwrapped) model; ``RUN/last`` stores its state.
        optimizer: its optimizer; ``scheduler`` an optional LR scheduler stepped every step.
        loss: ``loss(model, *inputs, **kw)`` — the part of a step that runs through DDP
            (the forward pass). :func:`fit` wraps it once, after resuming, and passes the
            wrapped callable to ``step`` as ``forward``.
        step: ``step(forward, batch, step_index) -> (loss tensor, {metric: float}, weight)``;
            the loop then does ``zero_grad``, ``backward``, gradient clipping and the optimizer
            (and scheduler) step. Train metrics are the ``weight``-weighted means of the step
            metrics over all steps of all processes.
        batches: ``batches(epoch)`` → this process's batches of that epoch (drawn from an RNG
            seeded with the epoch, so a resumed run draws the same ones).
        evaluate: validation metrics (identical on every process; reduce inside when sharded);
            ``monitor`` names the one early stopping and ``RUN/best`` follow (lower is better).
        save: ``save(folder, epoch, step, val_metrics or None)`` writes a complete checkpoint
            (``RUN/best``, ``RUN/final``); called on rank 0 only.
        steps_per_epoch: for the progress bar.
        grad_clip: clip the gradient norm of ``clip_parameters`` (default: the model's) to
            this; 0 = no clipping.
        find_unused_parameters: DDP option for models whose steps skip some parameters.
        keep: ``"best"`` (``RUN/best`` = lowest validation loss) or ``"last"`` (the latest epoch).
        write_final: also write ``RUN/final`` (the last epoch) when the run finishes.
        extra_record: ``extra_record(step) -> dict`` of additional log fields.
    """

    name: str
    model: Any
    optimizer: Any
    loss: Callable[..., Any]
    step: Callable[[Callable[..., Any], Any, int], tuple[Any, dict[str, float], float]]
    batches: Callable[[int], Iterable[Any]]
    evaluate: Callable[[], dict[str, float]]
    save: Callable[[Path, int, int, dict[str, float] | None], None]
    monitor: str = "loss"
    steps_per_epoch: int | None = None
    scheduler: Any = None
    grad_clip: float = 0.0
    clip_parameters: Callable[[], Iterable[Any]] | None = None
    find_unused_parameters: bool = False
    keep: str = "best"
    write_final: bool = False
    extra_record: Callable[[int], dict[str, Any]] | None = None


# --------------------------------------------------------------------------------------
# run identity (what a resumed run must share with the stored one)
# --------------------------------------------------------------------------------------
def run_identity(config: dict[str, Any], corpus: str, *, free: tuple[str, ...] = BUDGET_FIELDS) -> dict[str, Any]:
    """The identity stored with a run: ``config`` (a JSON-able dict, nested sections allowed)
    without the ``free`` fields at any depth, and the corpus fingerprint."""

    def strip(d: Any) -> Any:
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if k not in free}
        return d

    return {"config": strip(json.loads(json.dumps(config))), "corpus": corpus}


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix[:-1]: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}{k}."))
    return out


def identity_difference(stored: dict[str, Any], current: dict[str, Any]) -> str:
    """One line saying how two run identities differ (empty when they are the same).

    ``batch_size`` is per process: a run resumed with another number of processes may pick
    another one (e.g. 2 processes × 4 → 1 process × 8 keeps the global batch), so it is only
    compared when both identities have the same ``world_size``.
    """
    parts = []
    a, b = _flatten(stored.get("config", {})), _flatten(current.get("config", {}))
    same_world = stored.get("world_size", 1) == current.get("world_size", 1)
    changed = [
        k for k in sorted(set(a) | set(b))
        if a.get(k, "<unset>") != b.get(k, "<unset>") and (same_world or k.rsplit(".", 1)[-1] != "batch_size")
    ]
    for k in changed[:4]:
        parts.append(f"{k}: {a.get(k, '<unset>')!r} → {b.get(k, '<unset>')!r}")
    if len(changed) > 4:
        parts.append(f"and {len(changed) - 4} more fields")
    what = ["config"] if changed else []
    if stored.get("corpus") != current.get("corpus"):
        parts.append("the corpus' sessions or motion files differ")
        what.append("corpus")
    return f"another {' and '.join(what)} ({'; '.join(parts)})" if what else ""


def _check_resume(run_dir: Path, counters: dict[str, Any], identity: dict[str, Any], force: bool) -> list[dict[str, Any]]:
    """The run's identity history after resuming; refuses another identity unless ``force``."""
    history = list(counters.get("run_history", []))
    stored = counters.get("run")
    if stored is None:  # RUN/last written before identities were stored: nothing to compare
        log.warning("%s/last has no stored config to compare with; resuming", run_dir)
        return history
    diff = identity_difference(stored, identity)
    if not diff:
        return history
    if not force:
        raise CheckpointError(
            f"{run_dir} was trained with {diff}: use a new --out folder, the same config and corpus, "
            "or --force-resume to continue it anyway"
        )
    log.warning("%s: resuming with %s (--force-resume)", run_dir, diff)
    return history + [{**stored, "until_epoch": int(counters.get("epoch", 0))}]


def _write_run_config(run_dir: Path, record: dict[str, Any], forced: bool) -> None:
    """``RUN/run_config.json``: this call's config; a forced resume appends the previous one to ``history``."""

    path = run_dir / RUN_CONFIG
    history: list[Any] = []
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            old = None
        if isinstance(old, dict) and "config" in old and "corpus" in old:
            history = list(old.get("history", []))
            old.pop("history", None)
        elif old is not None:
            old = {"config": old}  # written before run_config.json held more than the config
        if forced and old is not None:
            history.append(old)
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({**record, "history": history}, indent=2) + "\n")


# --------------------------------------------------------------------------------------
# the run folder
# --------------------------------------------------------------------------------------
@contextmanager
def run_folder(run_dir: str | os.PathLike, is_main: bool = True) -> Iterator[Path]:
    """Yield ``run_dir``; if it did not exist before and the body fails, remove what the failed
    call left that cannot be resumed (``run_config.json``, empty folders), so an error leaves no
    empty run folder behind. Resumable content (``RUN/last``, a render cache) is kept."""
    run_dir = Path(run_dir)
    existed = run_dir.exists()
    try:
        yield run_dir
    except BaseException:
        if is_main and not existed and run_dir.is_dir():

            if not has_training_state(run_dir):
                for name in (RUN_CONFIG, "log.jsonl"):
                    (run_dir / name).unlink(missing_ok=True)
            for d in sorted((p for p in run_dir.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                if not any(d.iterdir()):
                    d.rmdir()
            if not any(run_dir.iterdir()):
                run_dir.rmdir()
        raise


# --------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------
def fit(
    run_dir: str | os.PathLike,
    spec: TrainSpec,
    budget: Budget,
    *,
    config: dict[str, Any],
    corpus: str,
    compare: dict[str, Any] | None = None,
    force_resume: bool = False,
    progress: bool = True,
    dist: Any = None,
) -> TrainResult:
    """Train ``spec`` in ``run_dir`` until the budget is spent; resume from ``RUN/last`` if present.

    Args:
        run_dir: the run folder (created on first write).
        spec: the trainer's model, optimizer and callbacks.
        budget: epochs, patience, minutes and seed.
        config: the full config of this call (``asdict``), recorded in ``RUN/run_config.json``.
        corpus: the corpus :func:`~stygaze.data.corpus.fingerprint`.
        compare: the part of the config a resumed run must share (default: all of ``config``);
            :data:`BUDGET_FIELDS` are left out (:func:`run_identity`).
        force_resume: resume even when the identity differs (the old one is kept in the history).
        progress: progress bars and one line per epoch on stderr (rank 0).
        dist: a :class:`~stygaze.training.distributed.DistributedContext` (default: one process).

    Raises:
        CheckpointError: ``RUN/last`` belongs to another config or corpus (and not
            ``force_resume``), or is corrupt.
        DataError: the validation loss became NaN or infinite.
    """
    import torch
    from tqdm import tqdm

    from stygaze.training.distributed import DistributedContext

    ctx = dist or DistributedContext()
    run_dir = Path(run_dir)
    identity = {**run_identity(config if compare is None else compare, corpus), "world_size": ctx.world_size}
    model, optimizer = spec.model, spec.optimizer
    stopper = EarlyStopping(patience=budget.patience)
    epoch, step, seconds_before = 0, 0, 0.0
    run_history: list[dict[str, Any]] = []
    forced = False
    if has_training_state(run_dir):
        counters = read_training_counters(run_dir)
        run_history = _check_resume(run_dir, counters, identity, force_resume)
        forced = len(run_history) > len(counters.get("run_history", []))
        counters = load_training_state(run_dir, model, optimizer, spec.scheduler)
        epoch, step = int(counters["epoch"]), int(counters.get("step", 0))
        seconds_before = float(counters.get("seconds", 0.0))
        stopper.load(counters["early_stopping"])
        log.info("resuming %s at epoch %d", run_dir, epoch)
    if ctx.is_main:
        _write_run_config(run_dir, {"config": json.loads(json.dumps(config)), "corpus": corpus, "resumed_at_epoch": epoch}, forced)
    ctx.reseed_other_ranks(budget.seed, epoch)  # ranks > 0: own dropout/sampling RNG; rank 0 unchanged
    forward = ctx.wrap_loss(model, spec.loss, find_unused_parameters=spec.find_unused_parameters)
    clip = spec.clip_parameters or model.parameters
    show = progress and ctx.is_main
    t0 = time.monotonic()
    history: list[dict[str, Any]] = []
    stopped, done = "time", False
    while epoch < budget.max_epochs and not stopper.should_stop:
        model.train()
        sums: dict[str, float] = {}
        weight = 0.0
        bar = tqdm(spec.batches(epoch), total=spec.steps_per_epoch, desc=f"{spec.name} epoch {epoch + 1}", disable=not show, leave=False)
        for batch in bar:
            loss, metrics, w = spec.step(forward, batch, step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if spec.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(clip(), spec.grad_clip)
            optimizer.step()
            if spec.scheduler is not None:
                spec.scheduler.step()
            step += 1
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0.0) + v * w
            weight += w
            bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
        bar.close()
        total_weight, *totals = ctx.sum(weight, *sums.values())  # over all processes' steps
        train = {k: v / total_weight if total_weight > 0 else float("nan") for k, v in zip(sums, totals)}
        val = spec.evaluate()
        epoch += 1
        if not math.isfinite(val[spec.monitor]):
            raise DataError(
                f"{spec.name}: validation loss became {val[spec.monitor]} at epoch {epoch}; lower lr or check the corpus for outliers"
            )
        improved = stopper.step(val[spec.monitor])
        elapsed = time.monotonic() - t0
        timed_out = ctx.broadcast_flag(budget.max_minutes > 0 and elapsed / 60 >= budget.max_minutes)
        done = epoch >= budget.max_epochs or stopper.should_stop
        record = {
            "epoch": epoch,
            "step": step,
            **{f"train_{k}": v for k, v in train.items()},
            **{f"val_{k}": v for k, v in val.items()},
            "best": improved,
            "seconds": round(seconds_before + elapsed, 1),
            **(spec.extra_record(step) if spec.extra_record else {}),
        }
        if ctx.is_distributed:
            record["world_size"] = ctx.world_size
        history.append(record)
        if ctx.is_main:  # only rank 0 writes
            if improved or spec.keep == "last":
                spec.save(run_dir / "best", epoch, step, val)
            counters = {
                "epoch": epoch,
                "step": step,
                "early_stopping": stopper.state(),
                "done": bool(done),
                "seconds": seconds_before + elapsed,
                "run": identity,
                "run_history": run_history,
            }
            save_training_state(run_dir, model, optimizer, counters, spec.scheduler)
            append_log(run_dir, record)
            if show:
                tqdm.write(f"{spec.name} epoch {epoch}: train {train.get(spec.monitor, float('nan')):.4f} "
                           f"val {val[spec.monitor]:.4f}{' *' if improved else ''}")
        if timed_out:
            log.info("stopping after %.1f min (max_minutes)", elapsed / 60)
            stopped = "time"
            break
    else:
        stopped = "early_stopping" if stopper.should_stop else "epochs"
    final = None
    if spec.write_final and history and done:
        final = run_dir / "final"
        if ctx.is_main:
            spec.save(final, epoch, step, None)
    ctx.barrier()  # every rank returns after rank 0 has written RUN/best, RUN/last (and RUN/final)
    if ctx.is_main and not (run_dir / "best").exists():
        raise CheckpointError(f"{run_dir}: no epoch finished, so there is no best checkpoint")
    return TrainResult(
        run_dir=run_dir,
        best_dir=run_dir / "best",
        final_dir=final,
        epochs=epoch,
        steps=step,
        best_val_loss=stopper.best,
        stopped=stopped,
        seconds=seconds_before + time.monotonic() - t0,
        history=history,
    )

