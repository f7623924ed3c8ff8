"""Training the OmniHead recognizer on rendered SynHAGE clips (``stygaze train omnihead``).

Data: a SynHAGE corpus folder (``DIR/<session>/motion.npz`` with labelled ``events``), split by
its ``splits.json`` or, without one, by session (seeded; :meth:`stygaze.data.corpus.Corpus.split_sessions`). Clips of ``L`` = 16 frames are cut from the
motion (half of them centred on a labelled head gesture, the rest at random), rendered with
the procedural head under randomised camera, lighting and colours, and cached as uint8
``.npy`` under ``RUN/data/`` (chunked, so an interrupted render resumes). Labels per frame:
gesture (6 classes), blink (eyelid closure ≥ 0.5), saccade (SynHAGE ``events["gaze"]``) and
the 3D gaze direction in camera coordinates (``x`` = image right, ``y`` = up, ``z`` =
towards the camera). SynHAGE has no affective labels, so those heads receive no gradient
(multi-task masking, see :func:`stygaze.omnihead.loss.omnihead_loss`).

Optimisation follows OmniHead App. F: AdamW (weight decay 1e-3) with cosine decay, task
loss weights gaze 5 / blink 5 / gesture 2 / saccade 1 / affective 0.1, early stopping on the
validation loss. The loop is :func:`stygaze.training.loop.fit`: ``RUN/last`` is resumable,
``RUN/best`` is a stygaze checkpoint.

Two additions make a small model trained from scratch learn the class tasks:
``balance`` (:func:`sample_clips`: a share of the clips is centred on a blink or on one of the
five gestures, the class drawn uniformly) and ``aux_weight`` with the model's ``aux_probes``
(deep supervision of the encoder through linear probes on max-pooled frame features; the decoder
alone never found the eye region: blink stayed at chance).

Head-only fine-tuning: ``init_from`` starts from a trained checkpoint (its architecture, plus
``model_overrides``) and ``train_only`` lists the task heads that train; everything else is
frozen, the loss and the validation loss cover only those tasks, and only their decision
thresholds are re-calibrated. A head whose shape changed (e.g. the saccade head with
``saccade_gaze_velocity``) starts from a fresh initialisation; every other tensor must fit.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stygaze.checkpoint import (
    WEIGHTS_NAME,
    load_state_strict,
    read_checkpoint,
    save_checkpoint,
)
from stygaze.config import (
    COUNT,
    DROPOUT,
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    SEED,
    THREADS,
    from_dict,
    load_config,
    option,
)
from stygaze.data.corpus import Corpus, fingerprint
from stygaze.errors import CheckpointError, DataError
from stygaze.omnihead.clips import (
    ClipSet,
    Renderer,
    _data_key,
    build_segment_cache,
    sample_clips,
)
from stygaze.omnihead.config import CONFIGS, TASKS, OmniHeadConfig
from stygaze.render.clips import RandomizeConfig
from stygaze.training.loop import Budget, TrainSpec, fit, run_folder
from stygaze.training.state import (
    set_seed,
)

# ---------------------------------------------------------------------------------------------
# configuration


@dataclass
class OmniHeadTrainConfig:
    """Everything a training run needs besides the corpus and the run folder.

    Attributes:
        model: architecture preset (``tiny`` or ``swin_t``); ``model_overrides`` changes
            single :class:`~stygaze.omnihead.config.OmniHeadConfig` fields.
        segment_frames: frames per rendered segment; training clips of ``L`` frames are cut
            from segments at random offsets each epoch (several clips per render).
        train_segments, val_segments: rendered segments per split.
        clips_per_segment: training clips drawn per segment and epoch.
        val_sessions, test_sessions: fraction of sessions held out for validation / test
            when the corpus has no ``splits.json``.
        gesture_focus: fraction of clips centred on a labelled head gesture.
        supersample: render anti-aliasing factor (1–4).
        batch_size, epochs, lr, encoder_lr, weight_decay, warmup_steps: optimisation
            (AdamW, linear warm-up then cosine decay to 0).
        loss_weights: per-task loss weights (OmniHead App. F by default).
        gaze_in_degrees: angular loss in degrees (App. F) or radians.
        binary_class_weights, binary_smoothing, gesture_smoothing: classification loss
            settings (App. F: [1, 10], 0.1, 0.15). On a short CPU run from scratch the
            weighted + smoothed loss keeps blink/saccade/gesture at the majority class; the
            tiny preset uses [1, 1], 0, 0 (decision thresholds are calibrated on validation).
        gesture_class_weights: optional CE weight per gesture class (6 values; App. F uses none).
        balance: share of training clips drawn around a frame of a rare positive class (blink or
            one of the five gestures, the class picked uniformly) instead of uniformly; the other
            clips are uniform. 0 = the plain uniform sampling.
        aux_weight: weight of the encoder-probe losses (needs ``model_overrides: {aux_probes:
            true}``; see :class:`~stygaze.omnihead.config.OmniHeadConfig`); 0 = off.
        patience: early stopping on the validation loss (epochs).
        max_minutes: stop training after the epoch that passes this wall time of the training
            loop in this call (rendering the cache is not counted); 0 = no limit.
        num_threads: torch CPU threads; None = leave torch's default.
        seed: seeds the split, the clip sampling, the rendering randomisation and torch.
        init_from: checkpoint folder to start from (its config is the architecture; ``model``
            is then ignored and ``model_overrides`` change single fields). None = from scratch.
        train_only: task heads that train (e.g. ``[saccade]``), the rest of the model frozen;
            needs ``init_from`` and ``aux_weight: 0``. None = train everything.
        threshold_metric: how the blink/saccade decision thresholds are chosen on the validation
            clips: ``frame_f1`` (macro frame F1) or ``event_f1`` (event F1 at overlap 0.1,
            pooled over the clips).
        keep: which epoch ``RUN/best`` holds: ``best`` (lowest validation loss) or ``last`` (the
            final epoch; for a run whose epoch count was chosen on other validation data, e.g. when
            the corpus's own validation split lacks some classes).
    """

    model: str = option("tiny", choices=("tiny", "swin_t"))
    model_overrides: dict[str, Any] = field(default_factory=dict)
    segment_frames: int = option(48, range=(2, 100_000))
    train_segments: int = option(96, range=COUNT)
    val_segments: int = option(16, range=COUNT)
    clips_per_segment: int = option(4, range=COUNT)
    val_sessions: float = option(0.15, range=FRACTION)
    test_sessions: float = option(0.15, range=FRACTION)
    gesture_focus: float = option(0.5, range=FRACTION)
    supersample: int = option(2, range=(1, 4))
    randomize: RandomizeConfig = field(default_factory=RandomizeConfig)
    batch_size: int = option(8, range=COUNT)
    epochs: int = option(20, range=COUNT)
    lr: float = option(1e-4, range=POSITIVE)
    encoder_lr: float | None = option(None, range=POSITIVE)
    weight_decay: float = option(1e-3, range=NON_NEGATIVE)
    warmup_steps: int = option(50, range=NON_NEGATIVE)
    loss_weights: dict[str, float] = option(default_factory=dict, range=NON_NEGATIVE)
    gaze_in_degrees: bool = True
    binary_class_weights: tuple[float, float] = option((1.0, 10.0), range=POSITIVE)
    binary_smoothing: float = option(0.1, range=DROPOUT)
    gesture_smoothing: float = option(0.15, range=DROPOUT)
    gesture_class_weights: tuple[float, ...] | None = option(None, range=POSITIVE)
    balance: float = option(0.0, range=FRACTION)
    aux_weight: float = option(0.0, range=NON_NEGATIVE)
    patience: int = option(5, range=COUNT)
    max_minutes: float = option(0.0, range=NON_NEGATIVE)
    num_threads: int | None = option(None, range=THREADS)
    device: str = "auto"
    seed: int = option(0, range=SEED)
    init_from: str | None = None
    train_only: tuple[str, ...] | str | None = option(None, choices=TASKS)
    threshold_metric: str = option("frame_f1", choices=("frame_f1", "event_f1"))
    keep: str = option("best", choices=("best", "last"))

    def __post_init__(self) -> None:  # types and ranges: the declared limits (stygaze.config)
        if isinstance(self.randomize, dict):
            self.randomize = RandomizeConfig(**self.randomize)
        self.binary_class_weights = tuple(float(w) for w in self.binary_class_weights)
        if self.gesture_class_weights is not None:
            self.gesture_class_weights = tuple(float(w) for w in self.gesture_class_weights)
            if len(self.gesture_class_weights) != 6:
                raise DataError("gesture_class_weights must be six positive numbers (none, nod, shake, tilt, turn, up_down)")
        if float(self.aux_weight) > 0 and not self.model_overrides.get("aux_probes", False):
            raise DataError("aux_weight > 0 needs the encoder probes: add model_overrides: {aux_probes: true}")
        if self.train_only is not None:
            self.train_only = tuple(str(t) for t in ([self.train_only] if isinstance(self.train_only, str) else self.train_only))
            if not self.train_only:
                raise DataError(f"train_only must list OmniHead tasks from {TASKS}, got an empty list")
            if self.init_from is None:
                raise DataError("train_only needs init_from (a trained checkpoint to fine-tune)")
            if float(self.aux_weight) > 0:
                raise DataError("train_only keeps the encoder probes frozen: set aux_weight: 0")

    def model_config(self):
        """The :class:`~stygaze.omnihead.config.OmniHeadConfig` to build: the preset, or the
        ``init_from`` checkpoint's config, with ``model_overrides`` applied (validated)."""

        if self.init_from is None:
            base = asdict(CONFIGS[self.model]())
        else:

            base = read_checkpoint(self.init_from, model_type="omnihead").config
        where = "model_overrides" if self.init_from is None else f"init_from {self.init_from}: model_overrides"
        return from_dict(OmniHeadConfig, {**base, **self.model_overrides}, where=where)


def load_train_config(path: str | os.PathLike | None, **overrides: Any) -> OmniHeadTrainConfig:
    """Read a YAML training config (keys = :class:`OmniHeadTrainConfig` fields), validated
    (:mod:`stygaze.config`); ``overrides`` that are not None win."""
    return load_config(OmniHeadTrainConfig, path, overrides=overrides)


# ---------------------------------------------------------------------------------------------
# fine-tuning from a checkpoint


def _head_prefixes(tasks: tuple[str, ...] | None) -> tuple[str, ...]:
    """Parameter-name prefixes of the heads of ``tasks`` and of their own input paths (``task_stems``)."""
    return tuple(p for t in (tasks or ()) for p in (f"heads.{t}.", f"task_stems.{t}."))


def load_init_weights(model: Any, path: str | os.PathLike, train_only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Copy a checkpoint's tensors into ``model`` (parameters and buffers, e.g. the thresholds).

    Every tensor must exist with the same shape, except those of the ``train_only`` heads, which
    keep ``model``'s fresh initialisation when the checkpoint has none of that shape.

    Returns:
        ``{"path", "sha1" (of the weights file), "reinitialised": [tensor names]}`` for the run's meta.
    """
    info = read_checkpoint(path, model_type="omnihead")
    fresh = _head_prefixes(train_only)
    own = model.state_dict()
    state, reinit = {}, []
    for k, v in own.items():
        src = info.state_dict.get(k)
        if src is not None and tuple(src.shape) == tuple(v.shape):
            state[k] = src
        elif fresh and k.startswith(fresh):  # a trained head whose shape changed: keep the fresh init
            state[k] = v
            reinit.append(k)
        else:
            got = "missing" if src is None else f"of shape {tuple(src.shape)}"
            raise CheckpointError(f"{path}: {k} is {got}, the model needs {tuple(v.shape)} (only train_only heads may change)")
    extra = sorted(k for k in info.state_dict if k not in own and not (fresh and k.startswith(fresh)))
    if extra:
        raise CheckpointError(f"{path}: tensors the model does not have: {extra[:3]}")
    load_state_strict(model, state, where=str(path))
    sha = hashlib.sha1((Path(path) / WEIGHTS_NAME).read_bytes()).hexdigest()
    return {"path": str(path), "sha1": sha, "reinitialised": reinit}


def _task_targets(targets: dict[str, Any], tasks: tuple[str, ...] | None) -> dict[str, Any]:
    """The targets of ``tasks`` only (None = all): the loss then covers just the heads that train."""
    return targets if tasks is None else {k: v for k, v in targets.items() if k in tasks}


def freeze_except(model: Any, tasks: tuple[str, ...]) -> int:
    """Freeze every parameter outside the heads of ``tasks``; returns the trainable parameter count."""
    keep = _head_prefixes(tasks)
    n = 0
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(keep))
        n += p.numel() if p.requires_grad else 0
    if n == 0:
        raise DataError(f"train_only {list(tasks)}: the model has no such head")
    return n


# ---------------------------------------------------------------------------------------------
# the loop


def _evaluate(model: Any, data: ClipSet, loss_cfg: Any, batch_size: int, device: Any, tasks: tuple[str, ...] | None = None) -> dict[str, float]:
    """Mean validation loss (per task too; only ``tasks`` when given) and frame accuracies over
    fixed, non-overlapping clips."""
    import torch

    from stygaze.omnihead.loss import omnihead_loss

    model.eval()
    items = data.fixed_offsets()
    totals: dict[str, float] = {}
    correct = {"gesture": 0, "blink": 0, "saccade": 0}
    frames, n = 0, 0
    with torch.no_grad():
        for i in range(0, len(items), batch_size):
            chunk = items[i : i + batch_size]
            video, tgt = data.batch(chunk, device)
            out = model(video)
            loss = omnihead_loss(out, _task_targets(tgt, tasks), loss_cfg)
            totals["loss"] = totals.get("loss", 0.0) + float(loss.total) * len(chunk)
            for k, v in loss.per_task.items():
                totals[k] = totals.get(k, 0.0) + v * len(chunk)
            for k in correct:
                correct[k] += int((out.task(k).argmax(-1) == tgt[k]).sum())
            frames += tgt["gesture"].numel()
            n += len(chunk)
    res = {k: v / max(n, 1) for k, v in totals.items()}
    res.update({f"{k}_acc": v / max(frames, 1) for k, v in correct.items()})
    model.train()
    return res


def calibrate_binary_thresholds(
    model: Any, data: ClipSet, batch_size: int = 16, device: Any = "cpu", tasks: tuple[str, ...] = ("blink", "saccade"), metric: str = "frame_f1"
) -> dict[str, float]:
    """Per binary task in ``tasks``, the P(positive) threshold (grid 0.05…0.95) with the best
    validation score, written into ``model.binary_thresholds`` (blink, saccade; the others keep
    theirs). ``metric``: ``frame_f1`` (macro over both classes, so "always positive" is not
    rewarded) or ``event_f1`` (event F1 at overlap 0.1, matched and total counts pooled over the
    clips)."""
    import torch

    from stygaze.eval.recognition import frame_f1, pooled_event_f1

    model.eval()
    probs: dict[str, list] = {"blink": [], "saccade": []}
    labels: dict[str, list] = {"blink": [], "saccade": []}
    items = data.fixed_offsets()
    with torch.no_grad():
        for i in range(0, len(items), batch_size):
            video, tgt = data.batch(items[i : i + batch_size], device)
            out = model(video)
            for k in probs:
                probs[k].append(out.task(k).softmax(-1)[..., 1].cpu().numpy())  # (B, L)
                labels[k].append(tgt[k].cpu().numpy())
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
    chosen = {}
    for j, k in enumerate(("blink", "saccade")):
        if k not in tasks:
            continue
        p, y = np.concatenate(probs[k]), np.concatenate(labels[k])  # (N, L)
        ok = y >= 0
        if ok.sum() == 0 or y[ok].max() == 0:
            chosen[k] = 0.5
        elif metric == "event_f1" and ok.all(1).any():
            clips = ok.all(1)  # fully labelled clips (events need contiguous labels)
            chosen[k] = float(max(grid, key=lambda t: pooled_event_f1((p[clips] >= t).astype(int), y[clips], 0.1)))
        else:
            chosen[k] = float(max(grid, key=lambda t: frame_f1((p[ok] >= t).astype(int), y[ok], labels=[0, 1])))
        model.binary_thresholds[j] = chosen[k]
    return chosen


def finalize_best(
    best_dir: str | os.PathLike, val: ClipSet, batch_size: int = 16, device: Any = "cpu", tasks: tuple[str, ...] = ("blink", "saccade"), metric: str = "frame_f1"
) -> dict[str, float]:
    """Calibrate the decision thresholds (of ``tasks``; see :func:`calibrate_binary_thresholds`) of
    the checkpoint in ``best_dir`` on ``val`` and save it again; the meta keeps every threshold."""
    from stygaze.omnihead.model import load_omnihead

    info = read_checkpoint(best_dir, model_type="omnihead")
    model = load_omnihead(best_dir).to(device)
    chosen = calibrate_binary_thresholds(model, val, batch_size, device, tasks=tasks, metric=metric)
    thresholds = {k: round(float(model.binary_thresholds[j]), 4) for j, k in enumerate(("blink", "saccade"))}
    save_checkpoint(best_dir, model, model_type="omnihead", config=model.config, meta={**info.meta, "binary_thresholds": thresholds})
    return chosen


def train_omnihead(
    corpus: str | os.PathLike,
    run_dir: str | os.PathLike,
    cfg: OmniHeadTrainConfig,
    progress: bool = True,
    renderer: Renderer | None = None,
    force_resume: bool = False,
):
    """Train (or resume) an OmniHead on rendered SynHAGE clips with :func:`stygaze.training.loop.fit`.

    Args:
        corpus: SynHAGE-layout folder (``DIR/<session>/motion.npz`` with events).
        run_dir: run folder (``last/``, ``best/``, ``log.jsonl``, ``data/`` clip cache).
        cfg: :class:`OmniHeadTrainConfig`.
        renderer: ``(motion, RenderConfig) → frames`` (default: the procedural head).
        force_resume: resume ``RUN/last`` even if it was trained with another config or corpus.

    Returns:
        The :class:`~stygaze.training.loop.TrainResult` (``history``: this call's epochs).
    """
    import torch

    from stygaze.omnihead.loss import LossConfig, omnihead_loss
    from stygaze.omnihead.model import OmniHead
    from stygaze.training.distributed import init_distributed

    t0 = time.monotonic()
    mcfg = cfg.model_config()  # reads init_from: a missing or broken checkpoint fails before RUN is created
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    ctx = init_distributed(cfg.device)  # torchrun -> DDP (see stygaze.training.distributed); else single process
    device = ctx.device
    progress = progress and ctx.is_main
    with run_folder(run_dir, ctx.is_main) as run:
        set_seed(cfg.seed)
        splits = Corpus(corpus).split_sessions(cfg.val_sessions, cfg.test_sessions, cfg.seed)
        if cfg.segment_frames < mcfg.num_frames:
            raise DataError(f"segment_frames ({cfg.segment_frames}) must be ≥ the clip length {mcfg.num_frames}")
        data_dir = run / "data" / _data_key(cfg, splits["train"] + splits["val"], mcfg.img_size)
        kw = dict(cfg=cfg, img_size=mcfg.img_size, renderer=renderer, progress=progress)
        if not ctx.is_main:
            ctx.barrier()  # rank 0 renders the clip cache first; the other ranks then reuse its files
        train = ClipSet(build_segment_cache(data_dir / "train", splits["train"], cfg.train_segments, seed=cfg.seed, **kw), mcfg.num_frames)
        val = ClipSet(build_segment_cache(data_dir / "val", splits["val"] or splits["train"], cfg.val_segments, seed=cfg.seed + 1, **kw), mcfg.num_frames)
        if ctx.is_main:
            ctx.barrier()
            (run / "split.json").write_text(json.dumps({k: [p.name for p in v] for k, v in splits.items()}, indent=1))
        render_seconds = time.monotonic() - t0

        model = OmniHead(mcfg)
        init_meta = load_init_weights(model, cfg.init_from, cfg.train_only) if cfg.init_from is not None else None
        if cfg.train_only is not None:
            freeze_except(model, cfg.train_only)
        model = model.to(device)
        enc_params = [p for p in model.encoder.parameters() if p.requires_grad]
        enc_ids = {id(p) for p in model.encoder.parameters()}
        rest = [p for p in model.parameters() if id(p) not in enc_ids and p.requires_grad]
        groups = [{"params": enc_params, "lr": cfg.encoder_lr or cfg.lr}, {"params": rest, "lr": cfg.lr}]
        optimizer = torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=cfg.weight_decay)
        loss_tasks = cfg.train_only  # None = every task with labels
        clips_per_epoch = len(train) * cfg.clips_per_segment
        global_batch = ctx.effective_batch_size(cfg.batch_size)  # batch_size per process
        # single process: as before; N processes: whole global batches only (equal shards)
        steps_per_epoch = int(math.ceil(clips_per_epoch / cfg.batch_size)) if not ctx.is_distributed else max(1, clips_per_epoch // global_batch)
        total_steps = max(1, steps_per_epoch * cfg.epochs)

        def lr_lambda(step: int) -> float:
            if step < cfg.warmup_steps:
                return (step + 1) / cfg.warmup_steps
            prog = (step - cfg.warmup_steps) / max(1, total_steps - cfg.warmup_steps)
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, prog)))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
        weights = dict(cfg.loss_weights) if cfg.loss_weights else None
        loss_cfg = LossConfig(
            gaze_in_degrees=cfg.gaze_in_degrees,
            binary_class_weights=cfg.binary_class_weights,
            binary_smoothing=cfg.binary_smoothing,
            gesture_smoothing=cfg.gesture_smoothing,
            gesture_class_weights=cfg.gesture_class_weights,
            aux_weight=cfg.aux_weight,
            **({"weights": {**LossConfig().weights, **weights}} if weights else {}))
        jitter_rng = np.random.default_rng([cfg.seed, 7])  # brightness jitter: one stream per call

        def batches(epoch: int):
            erng = np.random.default_rng([cfg.seed, epoch])
            seg = np.tile(np.arange(len(train)), cfg.clips_per_segment)[erng.permutation(clips_per_epoch)]
            seg, offs = sample_clips(train, clips_per_epoch, cfg.balance, erng, segments=seg)
            for b in range(steps_per_epoch):
                sl = slice(b * global_batch, (b + 1) * global_batch)
                items = list(zip(seg[sl].tolist(), offs[sl].tolist()))
                if ctx.is_distributed:  # this process's contiguous share of the global batch
                    items = items[ctx.rank * cfg.batch_size : (ctx.rank + 1) * cfg.batch_size]
                video, tgt = train.batch(items, device)
                if jitter_rng.random() < 0.5:  # brightness jitter: a cheap photometric augmentation
                    video = (video.float() * float(jitter_rng.uniform(0.8, 1.2))).clamp(0, 255).to(torch.uint8)
                yield video, tgt

        def step(forward, batch, _step):
            loss = forward(*batch)
            return loss.total, {"loss": float(loss.total.detach()), **loss.per_task}, 1

        meta_base = {"train_config": json.loads(json.dumps(asdict(cfg))), "corpus": str(Path(corpus).name), "split": {k: [p.name for p in v] for k, v in splits.items()}}
        if init_meta is not None:
            meta_base["init_from"] = init_meta

        def save(path, epoch, _step, val_res):
            save_checkpoint(path, model, model_type="omnihead", config=mcfg, meta={**meta_base, "epoch": epoch, "val": val_res})

        spec = TrainSpec(
            name="omnihead", model=model, optimizer=optimizer, scheduler=scheduler,
            # DDP runs model + loss in one forward; unused-parameter search: task heads whose task
            # has no labels in a batch get no gradient
            loss=lambda m, video, tgt: omnihead_loss(m(video), _task_targets(tgt, loss_tasks), loss_cfg), find_unused_parameters=True,
            step=step, batches=batches, save=save, steps_per_epoch=steps_per_epoch, grad_clip=1.0, keep=cfg.keep,
            evaluate=lambda: _evaluate(model, val, loss_cfg, cfg.batch_size * 2, device, loss_tasks),  # whole val set on every rank
            extra_record=lambda _s: {"data_seconds": round(render_seconds, 1)},
        )
        budget = Budget(max_epochs=cfg.epochs, patience=cfg.patience, seed=cfg.seed, max_minutes=cfg.max_minutes)
        result = fit(run, spec, budget, config=meta_base["train_config"], corpus=fingerprint(splits), force_resume=force_resume,
                     progress=progress, dist=ctx)
        binary = tuple(t for t in ("blink", "saccade") if loss_tasks is None or t in loss_tasks)
        if binary and ctx.is_main:
            finalize_best(run / "best", val, cfg.batch_size * 2, device, tasks=binary, metric=cfg.threshold_metric)
        ctx.barrier()  # every rank returns after rank 0 has calibrated RUN/best
    ctx.close()
    return result
