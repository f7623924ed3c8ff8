"""Data-parallel training with PyTorch's own engine (``torchrun`` + DistributedDataParallel).

Every ``stygaze train ...`` command runs unchanged as one process or under ``torchrun``::

    stygaze train generator --config C.yaml --data CORPUS --out RUN
    torchrun --standalone --nproc-per-node 4 -m stygaze train generator --config C.yaml --data CORPUS --out RUN

How a loop uses this module (style, generator, cVAE and OmniHead loops all do):

1. ``ctx = init_distributed(device)`` reads the ``torchrun`` environment (``RANK``,
   ``WORLD_SIZE``, ``LOCAL_RANK``). Without it this is a plain single process: no process
   group, and every helper below is a no-op, so single-process results are unchanged.
   Under ``torchrun`` the process joins the group with **NCCL** when it gets a CUDA device
   (``cuda:LOCAL_RANK``) and **gloo** on CPU.
2. The data is sharded. Index-based loops (a ``DataLoader``) use ``ctx.sampler(dataset)``,
   a :class:`~torch.utils.data.DistributedSampler` (call ``set_epoch`` each epoch).
   Loops that draw random windows draw the *global* batch from an RNG seeded with
   ``(seed, epoch)`` — identical on every process — and keep their slice with
   :meth:`DistributedContext.shard`. Either way the processes see disjoint parts of the
   same global batch a single process would see with ``batch_size × WORLD_SIZE``.
3. The training step goes through ``ctx.wrap(model)`` or ``ctx.wrap_loss(model, fn)``
   (DistributedDataParallel; gradients are averaged over processes during ``backward``).
   Losses that couple the samples of a batch (the style encoder's NT-Xent) gather the
   embeddings with gradients (:meth:`DistributedContext.gather`) so every negative of the
   global batch is used.
4. Validation losses are combined over processes (:meth:`DistributedContext.mean_metrics`),
   so every process takes the same early-stopping decision, and wall-clock limits are
   decided by rank 0 (:meth:`DistributedContext.broadcast_flag`); no process waits forever.
   Only rank 0 (``ctx.is_main``) writes ``RUN/best``, ``RUN/last``, ``log.jsonl`` and shows
   progress bars; the others wait at a barrier before returning.

Batch size and learning rate
----------------------------
``batch_size`` in a config is **per process**. The effective (global) batch is
``batch_size × WORLD_SIZE`` windows per optimizer step; an epoch (a fixed number of
windows) therefore has ``WORLD_SIZE`` times fewer steps. The learning rate is **kept as
configured** (no automatic scaling). To reproduce a single-process run, divide
``batch_size`` by the number of processes: 2 processes × batch 4 take the same steps as
1 process × batch 8 (tested on the generator and style loops: same losses, same weights
up to float rounding). Schedules counted in optimizer steps (cVAE ``kl_warmup_steps``,
OmniHead ``warmup_steps``) then also match. For your own loops, :func:`scaled_lr` applies
the ``linear`` (× N, Goyal et al. 2017) or ``sqrt`` (× √N) rule when you grow the global
batch instead.

Checkpoints and ``RUN/last`` are written from the unwrapped model (no ``module.`` prefix),
so a run started with N processes resumes with M processes or with one, and vice versa.
The cVAE's DataLoader path pads the last shard by repeating a few windows when the
window count is not a multiple of ``WORLD_SIZE`` (``DistributedSampler``'s default).

Seeding: every process builds the model from the same ``seed`` (DDP also broadcasts rank
0's weights and buffers when it wraps the model). Rank 0 keeps the single-process RNG
stream; ranks > 0 reseed torch from ``(seed, rank, epoch)`` so their dropout masks and
latent samples differ.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch
import torch.distributed as dist

from stygaze.errors import StygazeError

LR_SCALING_RULES = ("none", "linear", "sqrt")


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in the job.

    rank: global index of this process (0 … world_size−1); local_rank: index on its node
    (selects the GPU); device: the torch device the model and batches go to; backend:
    ``"nccl"``/``"gloo"`` when a process group is active, ``None`` single-process.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    backend: str | None = None
    owns_group: bool = False  # this context created the process group (and close() ends it)

    # --- who does what -------------------------------------------------------------
    @property
    def is_distributed(self) -> bool:
        """True when a process group with more than one process is active."""
        return self.backend is not None and self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process (rank 0) writes checkpoints, logs and progress bars."""
        return self.rank == 0

    def effective_batch_size(self, per_process_batch: int) -> int:
        """Windows per optimizer step over all processes: ``per_process_batch × world_size``."""
        return int(per_process_batch) * self.world_size

    # --- seeding ---------------------------------------------------------------------
    def reseed_other_ranks(self, seed: int, epoch: int = 0) -> None:
        """Give ranks > 0 their own torch RNG stream (dropout, latent samples); rank 0 is untouched.

        Call after the model is built and after resuming, so rank 0 — and a single process —
        keeps exactly the RNG stream it would have without distribution.
        """
        if self.rank > 0:
            torch.manual_seed(int(seed) * 1_000_003 + self.rank * 7919 + int(epoch))

    # --- data ------------------------------------------------------------------------
    def sampler(self, dataset: Any, *, shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        """A :class:`~torch.utils.data.DistributedSampler` over ``dataset`` for this process.

        Used in single-process mode too (``num_replicas=1``) so the global sample order
        of epoch ``e`` is ``randperm(len(dataset), seed + e)`` whatever the world size.
        Call ``sampler.set_epoch(epoch)`` before each epoch. Use it with
        ``DataLoader(dataset, batch_size=per_process_batch, sampler=sampler)``.
        """
        from torch.utils.data import DistributedSampler

        return DistributedSampler(
            dataset,
            num_replicas=self.world_size,
            rank=self.rank,
            shuffle=shuffle,
            seed=int(seed),
            drop_last=drop_last,
        )

    # --- model -----------------------------------------------------------------------
    def wrap(self, model: Any, *, find_unused_parameters: bool = False) -> Any:
        """Wrap ``model`` (already on ``self.device``) in DistributedDataParallel; identity single-process.

        Gradients are averaged over processes during ``backward()`` of a loss computed
        through the wrapper's ``forward``. Save checkpoints from :func:`unwrap` (or the
        original model object, which shares its parameters).
        """
        if not self.is_distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if getattr(self.device, "type", "cpu") == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=find_unused_parameters)

    def wrap_loss(self, model: Any, loss_fn: Callable[..., Any], *, find_unused_parameters: bool = False) -> Callable[..., Any]:
        """Return ``step(*args, **kw) -> loss_fn(model, *args, **kw)`` run through DDP.

        For loops whose training step calls a method (``model.loss(batch)``) rather than
        ``model(batch)``: DDP only synchronises gradients of computations that go through
        its ``forward``, so the step is packed in a small module whose ``forward`` calls
        ``loss_fn``. ``loss_fn`` may return a tensor or any structure of tensors (e.g. a
        typed output). Single-process this is just ``functools.partial(loss_fn, model)``.
        """
        if not self.is_distributed:
            return lambda *args, **kw: loss_fn(model, *args, **kw)
        return self.wrap(_LossModule(model, loss_fn), find_unused_parameters=find_unused_parameters)

    def shard(self, *tensors: torch.Tensor, dim: int = 0) -> tuple[torch.Tensor, ...] | torch.Tensor:
        """This process's contiguous slice of a *global* batch (same on every process) along ``dim``.

        Loops that draw random windows instead of indexing a dataset draw the global batch
        (``effective_batch_size`` items) from an RNG seeded identically on every process
        and keep their slice: disjoint shards, and the same global batch a single process
        would draw — what :meth:`sampler` gives index-based loops. The batch size along
        ``dim`` must be a multiple of ``world_size`` (equal shards keep DDP's gradient
        average equal to the global mean). Tensors are moved to :attr:`device`.
        """
        out = []
        for t in tensors:
            n = t.shape[dim]
            if n % self.world_size:
                raise ValueError(f"global batch of {n} does not split evenly over {self.world_size} processes")
            per = n // self.world_size
            out.append(t.narrow(dim, self.rank * per, per).to(self.device))
        return out[0] if len(out) == 1 else tuple(out)

    def gather(self, t: torch.Tensor) -> torch.Tensor:
        """Concatenate ``t`` (equal shapes) from all processes along dim 0, keeping gradients.

        For losses that couple the samples of a batch (NT-Xent: every other window is a
        negative): compute the embeddings of this process's shard, ``gather`` them, and
        compute the loss over the whole global batch on every process. The backward pass
        sends each process the gradient for its own shard, and DDP's average then equals
        the single-process gradient of the global-batch loss.
        """
        if not self.is_distributed:
            return t
        return _GatherWithGrad.apply(t)

    # --- collectives -----------------------------------------------------------------
    def barrier(self) -> None:
        """Wait until every process reaches this point (no-op single-process)."""
        if self.is_distributed:
            if self.backend == "nccl":
                dist.barrier(device_ids=[self.device.index])
            else:
                dist.barrier()

    def sum(self, *values: float) -> list[float]:
        """Sum each float over all processes (float64); single-process returns them unchanged."""
        if not self.is_distributed:
            return [float(v) for v in values]
        t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return [float(v) for v in t.cpu().tolist()]

    def mean(self, total: float, count: float) -> float:
        """Global mean from per-process ``total`` (sum of losses) and ``count`` (number of items).

        ``ctx.mean(sum_of_val_losses, n_val_windows)`` gives every process the same
        validation loss, weighted by how many windows each process saw.
        """
        total, count = self.sum(total, count)
        return total / count if count > 0 else float("nan")

    def mean_metrics(self, metrics: Mapping[str, float], count: int, keys: tuple[str, ...]) -> dict[str, float]:
        """Global, count-weighted means of per-process mean ``metrics`` over ``count`` items.

        ``keys`` names the metrics explicitly because a process with ``count == 0`` (more
        processes than validation windows) has none but must join the reduction.
        """
        if not self.is_distributed:
            return {k: float(metrics.get(k, float("nan"))) for k in keys}
        sums = self.sum(count, *(float(metrics[k]) * count if count else 0.0 for k in keys))
        return {k: (v / sums[0] if sums[0] > 0 else float("nan")) for k, v in zip(keys, sums[1:])}

    def broadcast_flag(self, flag: bool) -> bool:
        """Rank 0's value of ``flag`` on every process (e.g. "stop now")."""
        if not self.is_distributed:
            return bool(flag)
        t = torch.tensor([1 if flag else 0], dtype=torch.int64, device=self.device)
        dist.broadcast(t, src=0)
        return bool(t.item())

    def close(self) -> None:
        """Leave the process group if this context created it (no-op otherwise). Safe to call twice."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()

    def __enter__(self) -> "DistributedContext":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _LossModule(torch.nn.Module):
    """``forward(*a, **kw) = loss_fn(model, *a, **kw)``; holds ``model`` as its only child."""

    def __init__(self, model: torch.nn.Module, loss_fn: Callable[..., Any]):
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.loss_fn(self.model, *args, **kwargs)


class _GatherWithGrad(torch.autograd.Function):
    """all_gather along dim 0 whose backward hands each process the summed gradient of its slice."""

    @staticmethod
    def forward(ctx: Any, t: torch.Tensor) -> torch.Tensor:
        parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, t.contiguous())
        ctx.rows = t.shape[0]
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)  # every process's loss depends on every slice
        start = dist.get_rank() * ctx.rows
        return grad[start : start + ctx.rows]


# --------------------------------------------------------------------------------------
# Module-level helpers
# --------------------------------------------------------------------------------------
def env_ranks(environ: Mapping[str, str] | None = None) -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from the ``torchrun`` environment; ``(0, 1, 0)`` without it."""
    env = os.environ if environ is None else environ
    try:
        world = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local = int(env.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise StygazeError(f"bad torchrun environment (RANK/WORLD_SIZE/LOCAL_RANK must be integers): {exc}") from None
    if world < 1 or not 0 <= rank < world or local < 0:
        raise StygazeError(f"bad torchrun environment: RANK={rank} WORLD_SIZE={world} LOCAL_RANK={local}")
    return rank, world, local


def is_rank_zero(environ: Mapping[str, str] | None = None) -> bool:
    """True in a plain process and in rank 0 of a ``torchrun`` job (the one that reports)."""
    return env_ranks(environ)[0] == 0


def init_distributed(
    device: str | None = None, *, environ: Mapping[str, str] | None = None, timeout_minutes: float = 60.0
) -> DistributedContext:
    """Join the ``torchrun`` job described by the environment, or return a single-process context.

    device: ``None``/``"auto"`` → ``cuda:LOCAL_RANK`` when CUDA is available, else CPU;
    ``"cpu"`` forces CPU (gloo); ``"cuda"`` → ``cuda:LOCAL_RANK``; ``"cuda:K"`` and other
    torch devices (``"mps"``) are honoured single-process only. The backend is NCCL for CUDA
    devices and gloo for CPU.
    ``timeout_minutes`` bounds how long a collective waits for the other processes (e.g.
    while rank 0 renders OmniHead's clip cache and the others wait at a barrier).
    Call :meth:`DistributedContext.close` (or use it as a context manager) when done.
    """
    from datetime import timedelta

    rank, world, local = env_ranks(environ)
    want = (device or "auto").lower()
    if want == "auto":
        want = "cuda" if torch.cuda.is_available() else "cpu"
    if want.startswith("cuda"):
        if not torch.cuda.is_available():
            raise StygazeError(f"device {device!r} requested but CUDA is not available; use the cpu device")
        if world > 1 or want == "cuda":
            if local >= torch.cuda.device_count():
                raise StygazeError(
                    f"LOCAL_RANK={local} but only {torch.cuda.device_count()} CUDA device(s); "
                    "use --nproc-per-node <= number of GPUs"
                )
            dev = torch.device("cuda", local)
        else:
            dev = torch.device(want)
        torch.cuda.set_device(dev)
    else:
        try:
            dev = torch.device(want)  # cpu, or another single-process device (mps, xpu, ...)
        except RuntimeError:
            raise StygazeError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:K") from None
        if world > 1 and dev.type != "cpu":
            raise StygazeError(f"torchrun training runs on cpu (gloo) or cuda (nccl), not {device!r}")
    if world == 1:
        return DistributedContext(rank=0, world_size=1, local_rank=0, device=dev, backend=None)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_available():
        raise StygazeError("this torch build has no torch.distributed; install a build with distributed support")
    owns = not dist.is_initialized()
    if owns:
        kwargs = {"device_id": dev} if dev.type == "cuda" else {}
        dist.init_process_group(backend=backend, rank=rank, world_size=world, timeout=timedelta(minutes=timeout_minutes), **kwargs)
    else:
        backend = dist.get_backend()
    return DistributedContext(rank=rank, world_size=world, local_rank=local, device=dev, backend=backend, owns_group=owns)


def unwrap(model: Any) -> Any:
    """The plain model inside a DistributedDataParallel (or :meth:`DistributedContext.wrap_loss`) wrapper."""
    inner = getattr(model, "module", model)
    return inner.model if isinstance(inner, _LossModule) else inner


def scaled_lr(base_lr: float, world_size: int, rule: str = "none") -> float:
    """Learning rate for ``world_size`` processes: ``none`` keeps it, ``linear`` × N, ``sqrt`` × √N."""
    if rule == "none":
        return float(base_lr)
    if rule == "linear":
        return float(base_lr) * world_size
    if rule == "sqrt":
        return float(base_lr) * math.sqrt(world_size)
    raise StygazeError(f"unknown lr_scaling {rule!r}; use one of {', '.join(LR_SCALING_RULES)}")
