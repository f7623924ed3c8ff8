"""Stage 2: the motion generator (``stygaze train generator``), style encoder frozen.

Data: the ``train``/``val`` sessions of a corpus folder (``audio.wav`` + ``motion.npz``).
Audio features are computed once per session by the (fixed) audio feature extractor, and
the frozen style encoder turns every session into window styles (``window`` frames, hop
``window/2``). A training sample is a segment starting at frame ``t``:

- past motion ``[t-M, t)`` (frames before 0 are the neutral pose, as at inference),
- audio features ``[t, t+(K-1)N+M)`` (shifted back by ``M - L`` frames for a model with a
  shorter audio look-ahead ``L``; frames outside the clip repeat its first/last frame, as at
  inference) and targets ``[t, t+KN)`` for ``K = rollout_steps``,
- the style of a random window of the same session (val: the session's mean style).

The generator is unrolled ``K`` steps feeding back its own predictions (with gradients),
so it learns to recover from its own errors as in the autoregressive rollout at inference;
the loss is the mean over steps of ``lambda*MSE + (1-lambda)*velocity``. Gaussian noise
(``past_noise`` in normalised units) on the ground-truth past adds robustness.

The loop is :func:`stygaze.training.loop.fit`. Run folder: ``RUN/last`` (resumable),
``RUN/best`` (a ``stygazetalk`` checkpoint with the generator *and* its style encoder, usable by
``StyGazeTalk.from_pretrained``; lowest validation loss), ``RUN/final`` (the same for the last
epoch, written when the run finishes), ``RUN/log.jsonl``, ``RUN/run_config.json`` (the full
config used). Window sampling (:mod:`stygaze.data.windows`) is seeded by ``(seed, epoch)`` and
torch's RNG is saved, so a resumed run continues exactly like an uninterrupted one.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stygaze.checkpoint import load_state_strict
from stygaze.config import (
    COUNT,
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    SEED,
    THREADS,
    load_config,
    option,
)
from stygaze.data.corpus import Corpus, LoadedSession, load_split
from stygaze.data.windows import even_segment_starts, random_segment_starts
from stygaze.errors import ConfigError, DataError, StyleError
from stygaze.stygazetalk.feature_cache import session_features
from stygaze.stygazetalk.generator import (
    GeneratorConfig,
    StyGazeTalkConfig,
    StyGazeTalkModel,
    motion_stats,
)
from stygaze.features.voice import voice_activity
from stygaze.stygazetalk.style_encoder import StyleEncoderConfig, window_statistics
from stygaze.stygazetalk.train_style import StyleTrainConfig, load_style_encoder
from stygaze.training.distributed import DistributedContext, init_distributed
from stygaze.training.loop import Budget, TrainSpec, fit, run_folder
from stygaze.training.state import set_seed

log = logging.getLogger(__name__)


@dataclass
class GeneratorTrainConfig:
    """Optimisation settings of stage 2."""

    batch_size: int = option(64, range=COUNT)
    windows_per_epoch: int = option(4096, range=COUNT)
    val_windows: int = option(512, range=COUNT)
    rollout_steps: int = option(3, range=(1, 1000))  # K: steps unrolled on the model's own predictions
    past_noise: float = option(0.05, range=NON_NEGATIVE)  # std of noise on the ground-truth past (normalised units)
    start_prob: float = option(0.1, range=FRACTION)  # share of segments that start at the clip start (neutral past)
    lr: float = option(1e-3, range=POSITIVE)
    weight_decay: float = option(1e-5, range=NON_NEGATIVE)
    max_epochs: int = option(40, range=COUNT)
    patience: int = option(6, range=COUNT)
    max_minutes: float = option(0.0, range=NON_NEGATIVE)  # 0 = no wall-clock limit
    grad_clip: float = option(1.0, range=NON_NEGATIVE)  # 0 = no clipping
    seed: int = option(0, range=SEED)
    threads: int | None = option(None, range=THREADS)  # torch threads; None = leave as is
    style_encoder: str = ""  # path to the stage-1 checkpoint (RUN/best); CLI --style-encoder wins
    # models with style_stats: where a training segment's explicit statistics come from ("segment": the
    # seconds around it; "window": the random style window its learned style comes from), and the
    # neutral statistics ("sessions": the mean window; "speaking": the mean window with speech, by the
    # audio's voice activity, since generation is for speech)
    stats_source: str = option("segment", choices=("segment", "window"))
    neutral_stats: str = option("sessions", choices=("sessions", "speaking"))


@dataclass
class GeneratorRunConfig:
    """Everything a YAML config holds for both stages."""

    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    style_encoder: StyleEncoderConfig = field(default_factory=StyleEncoderConfig)
    style_train: StyleTrainConfig = field(default_factory=StyleTrainConfig)
    generator_train: GeneratorTrainConfig = field(default_factory=GeneratorTrainConfig)


def load_generator_run_config(path: str | Path, overrides: dict[str, Any] | None = None) -> GeneratorRunConfig:
    """A StyGazeTalk YAML config (all four sections; ``name``/``description`` allowed), validated
    (:func:`stygaze.config.load_config`)."""

    cfg = load_config(GeneratorRunConfig, path, overrides=overrides, ignore=("name", "description"))
    if cfg.generator.style_dim and cfg.generator.style_dim != cfg.style_encoder.style_dim:
        raise ConfigError(f"{path}: generator.style_dim {cfg.generator.style_dim} != style_encoder.style_dim {cfg.style_encoder.style_dim}")
    return cfg


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    feats: torch.Tensor  # (T, F) raw audio features
    motion: torch.Tensor  # (T, 7) normalised; NaN kept
    valid: np.ndarray  # (T,) frame has no NaN
    styles: torch.Tensor  # (K, d_s [+ stats]) window styles (K >= 1) or (1, 0)
    style_mean: torch.Tensor  # (d_s [+ stats],)
    local_stats: torch.Tensor | None = None  # (G, stats) explicit statistics of the window around frame g·LOCAL_STATS_HOP
    neutral_stats: torch.Tensor | None = None  # (stats,) this corpus session's contribution to the neutral statistics


LOCAL_STATS_HOP = 10
"""Frames between the centres of the windows whose statistics a training segment reads."""


def local_statistics(motion: np.ndarray, window: int, hop: int = LOCAL_STATS_HOP) -> torch.Tensor:
    """Explicit statistics of the ``window`` frames around every ``hop``-th frame: ``(T, 7)`` degrees -> ``(G, 6)``.

    What a training segment reads as its style statistics: the amplitude and speed of the head
    in the seconds around it (the learned style comes from a random window of the session), so
    the generator learns to follow them; at generation they are a reference clip's.
    """
    T = len(motion)
    half = window // 2
    wins = [motion[max(0, c - half) : min(T, c + half)] for c in range(0, T, hop)]
    return torch.from_numpy(np.concatenate([window_statistics(w[None]) for w in wins]))


SPEAKING_SHARE = 0.8
"""Share of voiced (speaking) frames from which a local window counts as speech for the neutral statistics."""


def speaking_statistics(local: torch.Tensor, audio: np.ndarray, frames: int, window: int, hop: int = LOCAL_STATS_HOP) -> torch.Tensor:
    """Mean :func:`local_statistics` over the windows that are mostly speech (voice activity of ``audio``).

    Falls back to the mean over every window when none is (a session without speech).
    """

    speaking = voice_activity(audio, frames=frames).speaking.astype(np.float64)
    half = window // 2
    share = np.array([speaking[max(0, c - half) : min(frames, c + half)].mean() for c in range(0, frames, hop)])
    keep = torch.from_numpy(share[: len(local)] >= SPEAKING_SHARE)
    return local[keep].mean(dim=0) if bool(keep.any()) else local.mean(dim=0)


class SegmentSampler:
    """Training/validation segments for the K-step unrolled loss (starts from
    :func:`~stygaze.data.windows.random_segment_starts` / :func:`~stygaze.data.windows.even_segment_starts`).

    ``batch(starts)`` returns ``audio (B, (K-1)N+M, F)``, ``past (B, M, 7)``,
    ``target (B, KN, 7)`` (normalised) and ``style (B, d_s)``.
    """

    def __init__(self, prepared: list[_Prepared], M: int, N: int, K: int, audio_offset: int = 0):
        self.M, self.N, self.K = M, N, K
        self.audio_offset = int(audio_offset)  # M - L: the audio window starts this many frames before t
        self.span = K * N
        self.audio_len = (K - 1) * N + M
        self.data = [p for p in prepared if len(p.motion) >= self.span + 1]
        if not self.data:
            raise DataError(f"no session is long enough for training segments of {self.span + 1} frames")
        self.valid = [p.valid for p in self.data]

    def random_starts(self, n: int, rng: np.random.Generator, start_prob: float) -> list[tuple[int, int]]:
        return random_segment_starts(self.valid, n, rng, self.span, self.M, start_prob)

    def even_starts(self, n: int) -> list[tuple[int, int]]:
        """Deterministic, evenly spread segments (validation)."""
        return even_segment_starts(self.valid, n, self.span, self.M)

    def batch(self, starts, rng: np.random.Generator | None, noise: float = 0.0, style_mode: str = "window"):
        audio, past, target, style = [], [], [], []
        for i, t in starts:
            p = self.data[i]
            T = len(p.motion)
            if self.audio_offset == 0:
                a = p.feats[t : min(t + self.audio_len, T)]
                if a.shape[0] < self.audio_len:  # past the end: repeat the last frame (as rollout does)
                    a = torch.cat([a, a[-1:].expand(self.audio_len - a.shape[0], -1)])
            else:  # frames before the start repeat frame 0, past the end the last one (as rollout does)
                a = p.feats[np.clip(np.arange(t - self.audio_offset, t - self.audio_offset + self.audio_len), 0, T - 1)]
            audio.append(a)
            pm = torch.zeros(self.M, p.motion.shape[1])
            lo = max(0, t - self.M)
            pm[self.M - (t - lo) :] = p.motion[lo:t]
            past.append(pm)
            target.append(p.motion[t : t + self.span])
            if style_mode == "window" and rng is not None:
                s = p.styles[int(rng.integers(len(p.styles)))]
                if p.local_stats is not None:  # the statistics of the seconds around this segment
                    g = min(len(p.local_stats) - 1, (t + self.span // 2) // LOCAL_STATS_HOP)
                    s = torch.cat([s[: -p.local_stats.shape[1]], p.local_stats[g]])
                style.append(s)
            else:
                style.append(p.style_mean)
        past_t = torch.stack(past)
        if noise > 0 and rng is not None:
            past_t = past_t + noise * torch.from_numpy(rng.standard_normal(past_t.shape).astype(np.float32))
        return torch.stack(audio), past_t, torch.stack(target), torch.stack(style)


def unrolled_loss(model: StyGazeTalkModel, audio, past, target, style, K: int) -> tuple[torch.Tensor, float, float]:
    """Mean over K steps of the generator loss, feeding back its own predictions."""
    gen = model.generator
    M, N = gen.config.M, gen.config.N
    losses, mses, vels = [], 0.0, 0.0
    for k in range(K):
        out = gen(audio[:, k * N : k * N + M], past, style, target[:, k * N : (k + 1) * N])
        losses.append(out.loss)
        mses += out.mse
        vels += out.vel
        past = torch.cat([past, out.motion], dim=1)[:, -M:]
    return torch.stack(losses).mean(), mses / K, vels / K


# --------------------------------------------------------------------------------------
# builders (separate so a distributed wrapper can slot in between)
# --------------------------------------------------------------------------------------
def build_generator_model(config: GeneratorRunConfig, style_encoder_path: str | Path | None) -> StyGazeTalkModel:
    """The full model with the pretrained style encoder's weights (frozen) loaded in."""
    gc = config.generator
    if gc.audio_encoder == "wav2vec2" and not gc.audio_encoder_kwargs.get("freeze", True):
        raise DataError(
            "stygaze train computes audio features once per session, so it cannot fine-tune the wav2vec2 backbone: "
            "set generator.audio_encoder_kwargs.freeze: true"
        )
    se_config = None
    se = None
    if gc.style_dim > 0:
        if not style_encoder_path:
            raise DataError(
                "this config uses a style encoder: train it first (stygaze train style --config ... --out RUN_STYLE) "
                "and pass --style-encoder RUN_STYLE/best"
            )
        se = load_style_encoder(style_encoder_path)
        se_config = se.config
        if se_config.style_dim != gc.style_dim:
            raise DataError(f"style encoder {style_encoder_path} makes {se_config.style_dim}-d styles, the generator expects {gc.style_dim}")
    model = StyGazeTalkModel(StyGazeTalkConfig(gc, se_config))
    if se is not None:
        load_state_strict(model.style_encoder, se.state_dict(), where=str(style_encoder_path))
    return model


def prepare_sessions(
    model: StyGazeTalkModel, sessions: list[LoadedSession], progress: bool = False, data_dir: str | Path | None = None,
    stats_source: str = "segment", neutral_stats: str = "sessions",
) -> list[_Prepared]:
    """Audio features, normalised motion and window styles for every session.

    With ``data_dir`` the features precomputed by ``stygaze data features`` are used
    (memory-mapped) when they are up to date; otherwise they are computed here.
    ``stats_source`` and ``neutral_stats``: :class:`GeneratorTrainConfig` (models with ``style_stats``).
    """
    from tqdm import tqdm

    gen = model.generator
    out = []
    for s in tqdm(sessions, desc="features", disable=not progress, leave=False):
        feats = session_features(Path(data_dir) / s.name, gen.audio, s.audio) if data_dir else gen.audio.features(s.audio)
        feats = gen.with_beat_channel(feats, s.audio)  # the global tracker's beats, as generate() uses
        T = min(len(feats), len(s.motion))
        motion = torch.from_numpy(s.motion[:T].astype(np.float32))
        valid = np.isfinite(s.motion[:T]).all(axis=1)
        local = neutral = None
        if model.style_encoder is not None:
            try:
                with torch.no_grad():
                    wins_np = model.style_encoder.clip_windows(s.motion[:T])
                    wins = torch.from_numpy(wins_np)
                    styles = torch.cat([model.style_encoder(wins[i : i + 64]) for i in range(0, len(wins), 64)])
            except StyleError:
                continue  # too short or too many NaNs for a style: skip the session
            mean = torch.nn.functional.normalize(styles.mean(dim=0), dim=0)
            if gen.config.style_stats:  # each window's explicit statistics beside its learned style
                stats = torch.from_numpy(window_statistics(wins_np))
                styles = torch.cat([styles, stats], dim=1)
                mean = torch.cat([mean, stats.mean(dim=0)])
                window = model.style_encoder.config.window
                if stats_source == "segment" or neutral_stats == "speaking":
                    around = local_statistics(s.motion[:T], window)
                    if neutral_stats == "speaking":
                        neutral = speaking_statistics(around, s.audio, T, window)
                    if stats_source == "segment":
                        local = around
        else:
            styles, mean = torch.zeros(1, 0), torch.zeros(0)
        out.append(_Prepared(feats[:T], motion, valid, styles, mean, local, neutral))
    return out


def normalize_prepared(model: StyGazeTalkModel, prepared: list[_Prepared], train: bool) -> None:
    """Set the normalisation buffers from the training data (``train=True``) and apply them."""
    gen = model.generator
    if train:
        mean, std = motion_stats([p.motion.numpy() for p in prepared])
        gen.set_normalization(mean, std)
        feats = torch.cat([p.feats[:, : gen.audio.feature_dim] for p in prepared])  # not the beat channel
        gen.audio.feat_mean.copy_(feats.mean(dim=0))
        gen.audio.feat_std.copy_(feats.std(dim=0).clamp_min(1e-3))
        if model.style_encoder is not None:
            d = gen.config.style_dim
            styles = torch.stack([p.style_mean for p in prepared])
            neutral = torch.nn.functional.normalize(styles[:, :d].mean(dim=0), dim=0)
            if gen.config.style_stats:  # neutral statistics: the mean session; standardisation: all windows
                windows = torch.cat([p.styles[:, d:] for p in prepared])
                gen.stats_mean.copy_(windows.mean(dim=0))
                gen.stats_std.copy_(windows.std(dim=0).clamp_min(1e-3))
                if all(p.neutral_stats is not None for p in prepared):  # the speaking windows
                    neutral = torch.cat([neutral, torch.stack([p.neutral_stats for p in prepared]).mean(dim=0)])
                else:
                    neutral = torch.cat([neutral, styles[:, d:].mean(dim=0)])
            gen.default_style.copy_(neutral)
    for p in prepared:
        p.motion = gen.normalize(p.motion)


def build_generator_optimizer(model: StyGazeTalkModel, tc: GeneratorTrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.generator.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay)


@torch.no_grad()
def evaluate_generator(model: StyGazeTalkModel, sampler: SegmentSampler, starts, batch_size: int) -> dict[str, float]:
    model.eval()
    total, mse, vel, n = 0.0, 0.0, 0.0, 0
    for i in range(0, len(starts), batch_size):
        chunk = starts[i : i + batch_size]
        batch = sampler.batch(chunk, None, 0.0, style_mode="mean")
        audio, past, target, style = (t.to(model.generator.motion_mean.device) for t in batch)
        loss, m, v = unrolled_loss(model, audio, past, target, style, sampler.K)
        total += float(loss) * len(chunk)
        mse += m * len(chunk)
        vel += v * len(chunk)
        n += len(chunk)
    return {"loss": total / n, "mse": mse / n, "vel": vel / n}


# --------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------
def fit_generator(
    run_dir: Path,
    model: StyGazeTalkModel,
    optimizer: torch.optim.Optimizer,
    sampler: SegmentSampler,
    val_sampler: SegmentSampler,
    config: GeneratorRunConfig,
    *,
    corpus: str = "",
    force_resume: bool = False,
    progress: bool = True,
    meta: dict | None = None,
    dist: Any = None,
):
    """Train with :func:`stygaze.training.loop.fit` until ``max_epochs``, early stopping or
    ``max_minutes``; resumes from ``RUN/last``. Returns its :class:`~stygaze.training.loop.TrainResult`.

    ``corpus`` is the corpus fingerprint stored with the run (with the style encoder's id).
    ``dist`` (a :class:`~stygaze.training.distributed.DistributedContext`) runs data-parallel:
    every step draws the global batch (``batch_size × world_size`` segments) from the
    ``(seed, epoch)`` RNG on every process, each process trains on its slice, DDP averages
    the gradients, and only rank 0 writes; without it this is the single-process loop.
    """

    ctx = dist or DistributedContext()
    tc = config.generator_train
    K = sampler.K
    val_starts = val_sampler.even_starts(tc.val_windows)
    val_mine = val_starts[ctx.rank :: ctx.world_size]  # validation is sharded too, then reduced
    global_batch = ctx.effective_batch_size(tc.batch_size)
    steps = max(1, tc.windows_per_epoch // global_batch)

    def batches(epoch: int):
        rng = np.random.default_rng([tc.seed, epoch])
        for _ in range(steps):
            starts = sampler.random_starts(global_batch, rng, tc.start_prob)
            yield ctx.shard(*sampler.batch(starts, rng, tc.past_noise))

    def step(forward, batch, _step):
        loss, _, _ = forward(*batch)
        return loss, {"loss": loss.item()}, 1

    def evaluate() -> dict[str, float]:
        local = evaluate_generator(model, val_sampler, val_mine, tc.batch_size) if val_mine else {}
        return ctx.mean_metrics(local, len(val_mine), ("loss", "mse", "vel"))

    def save(path, epoch, _step, val):
        extra = {f"val_{k}": v for k, v in val.items()} if val is not None else {"final": True}
        # RUN/final is the last epoch as a complete model: for a latent model the validation loss
        # (posterior reconstruction) says little about sampled motion, so the built-in model ships it
        model.save(path, meta={**(meta or {}), "epoch": epoch, **extra})

    spec = TrainSpec(
        name="generator", model=model, optimizer=optimizer, loss=lambda m, a, p, t, s: unrolled_loss(m, a, p, t, s, K),
        step=step, batches=batches, evaluate=evaluate, save=save, steps_per_epoch=steps, grad_clip=tc.grad_clip,
        clip_parameters=model.generator.parameters, write_final=True,
    )
    budget = Budget(max_epochs=tc.max_epochs, patience=tc.patience, seed=tc.seed, max_minutes=tc.max_minutes)
    # stage 2 reads only its own sections; the style encoder is the one actually loaded
    trained = {"generator": asdict(config.generator), "generator_train": {k: v for k, v in asdict(tc).items() if k != "style_encoder"},
               "style_encoder_id": model.style_encoder.encoder_id if model.style_encoder is not None else None}
    return fit(run_dir, spec, budget, config=asdict(config), corpus=corpus, compare=trained, force_resume=force_resume,
               progress=progress, dist=ctx)


def train_generator(
    config: GeneratorRunConfig,
    data_dir: str | Path,
    run_dir: str | Path,
    *,
    style_encoder: str | Path | None = None,
    progress: bool = True,
    force_resume: bool = False,
) -> Path:
    """Stage 2 end to end. Returns ``RUN/best`` (a ``stygazetalk`` checkpoint)."""

    tc = config.generator_train
    if tc.threads:
        torch.set_num_threads(tc.threads)
    ctx = init_distributed()  # torchrun -> DDP (see stygaze.training.distributed); else single process
    progress = progress and ctx.is_main
    with run_folder(run_dir, ctx.is_main) as run_dir:
        set_seed(tc.seed)
        model = build_generator_model(config, style_encoder or tc.style_encoder or None)
        train = prepare_sessions(model, load_split(data_dir, "train", with_audio=True), progress, data_dir,
                                 stats_source=tc.stats_source, neutral_stats=tc.neutral_stats)
        # the neutral statistics come from the train split only
        val = prepare_sessions(model, load_split(data_dir, "val", with_audio=True), progress, data_dir, stats_source=tc.stats_source)
        if not train or not val:
            raise DataError(f"{data_dir}: no usable train/val sessions (too short for a style window?)")
        normalize_prepared(model, train, train=True)
        normalize_prepared(model, val, train=False)
        gc = config.generator
        sampler = SegmentSampler(train, gc.M, gc.N, tc.rollout_steps, gc.audio_offset)
        val_sampler = SegmentSampler(val, gc.M, gc.N, tc.rollout_steps, gc.audio_offset)
        model.to(ctx.device)
        optimizer = build_generator_optimizer(model, tc)
        meta = {"train_config": asdict(tc), "data": str(data_dir), "train_sessions": len(train)}
        fit_generator(run_dir, model, optimizer, sampler, val_sampler, config, progress=progress, meta=meta, dist=ctx,
                      corpus=Corpus(data_dir).fingerprint(), force_resume=force_resume)
    ctx.close()
    return run_dir / "best"
