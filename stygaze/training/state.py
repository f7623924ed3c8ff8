"""Conventions every training loop shares: seeding, atomic resumable training state, early stopping.

A run folder ``RUN/`` holds (the loop that writes it is :func:`stygaze.training.loop.fit`)::

    RUN/last/        training state after the latest epoch (model + optimizer + counters)
    RUN/best/        the model checkpoint with the best validation loss (stygaze checkpoint)
    RUN/log.jsonl    one JSON line per epoch

``RUN/last`` is written atomically (temp folder, then rename), so an interrupted run resumes
from the last complete epoch when the same command runs again (``RUN/last`` exists).
Optimizer state is stored as safetensors (tensors) + JSON (everything else); no pickles.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stygaze.checkpoint import load_state_strict
from stygaze.errors import CheckpointError
from stygaze.io import atomic_dir

STATE_WEIGHTS = "model.safetensors"
STATE_OPTIM = "optimizer.safetensors"
STATE_JSON = "state.json"


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) for reproducible runs."""
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _flatten_optimizer(state_dict: dict) -> tuple[dict[str, Any], dict]:
    """Split an optimizer state_dict into tensors (for safetensors) and a JSON skeleton."""
    import torch

    tensors: dict[str, Any] = {}
    skeleton: dict[str, Any] = {"param_groups": state_dict["param_groups"], "state": {}}
    for idx, entry in state_dict["state"].items():
        skel_entry = {}
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                name = f"state.{idx}.{key}"
                tensors[name] = value.detach().contiguous().clone()
                skel_entry[key] = {"tensor": name}
            else:
                skel_entry[key] = {"value": value}
        skeleton["state"][str(idx)] = skel_entry
    return tensors, skeleton


def _unflatten_optimizer(tensors: dict[str, Any], skeleton: dict) -> dict:
    state = {}
    for idx, entry in skeleton["state"].items():
        state[int(idx)] = {k: (tensors[v["tensor"]] if "tensor" in v else v["value"]) for k, v in entry.items()}
    return {"state": state, "param_groups": skeleton["param_groups"]}


def save_training_state(
    run_dir: str | os.PathLike,
    model: Any,
    optimizer: Any,
    counters: dict[str, Any],
    scheduler: Any | None = None,
) -> Path:
    """Atomically write ``RUN/last`` (model, optimizer, scheduler, JSON counters such as epoch/step/best)."""
    import torch
    from safetensors.torch import save_file

    run_dir = Path(run_dir)
    opt_tensors, opt_skeleton = _flatten_optimizer(optimizer.state_dict())
    model_state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    payload = {
        "counters": counters,
        "optimizer": opt_skeleton,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "torch_rng": torch.get_rng_state().tolist(),
    }
    with atomic_dir(run_dir / "last", overwrite=True) as tmp:
        save_file(model_state, str(tmp / STATE_WEIGHTS))
        save_file(opt_tensors, str(tmp / STATE_OPTIM))
        (tmp / STATE_JSON).write_text(json.dumps(payload))
    return run_dir / "last"


def load_training_state(run_dir: str | os.PathLike, model: Any, optimizer: Any, scheduler: Any | None = None) -> dict[str, Any]:
    """Restore ``RUN/last`` into ``model``/``optimizer``/``scheduler``; returns the counters."""
    import torch
    from safetensors.torch import load_file

    last = Path(run_dir) / "last"
    if not (last / STATE_JSON).exists():
        raise CheckpointError(f"no resumable training state in {run_dir} (expected {last}/{STATE_JSON})")
    try:
        payload = json.loads((last / STATE_JSON).read_text())
        model_state = load_file(str(last / STATE_WEIGHTS))
        opt_tensors = load_file(str(last / STATE_OPTIM))
    except Exception as exc:
        raise CheckpointError(f"training state in {last} is corrupt ({type(exc).__name__})") from exc
    load_state_strict(model, model_state, where=str(last))
    optimizer.load_state_dict(_unflatten_optimizer(opt_tensors, payload["optimizer"]))
    if scheduler is not None and payload.get("scheduler") is not None:
        scheduler.load_state_dict(payload["scheduler"])
    torch.set_rng_state(torch.tensor(payload["torch_rng"], dtype=torch.uint8))
    return dict(payload["counters"])


def read_training_counters(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The counters of ``RUN/last`` (epoch, step, early stopping, the run's identity) without
    loading any tensor, so a resume can be refused before the model is touched."""
    path = Path(run_dir) / "last" / STATE_JSON
    try:
        return dict(json.loads(path.read_text())["counters"])
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"training state in {path.parent} is corrupt ({type(exc).__name__})") from exc


def has_training_state(run_dir: str | os.PathLike) -> bool:
    return (Path(run_dir) / "last" / STATE_JSON).exists()


def append_log(run_dir: str | os.PathLike, record: dict[str, Any]) -> None:
    """Append one JSON line to ``RUN/log.jsonl``."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "log.jsonl", "a") as fh:
        fh.write(json.dumps(record) + "\n")


@dataclass
class EarlyStopping:
    """Stop when the validation loss has not improved by ``min_delta`` for ``patience`` epochs."""

    patience: int = 10
    min_delta: float = 0.0
    best: float = float("inf")
    bad_epochs: int = 0

    def step(self, value: float) -> bool:
        """Record a validation loss; returns True when it is a new best."""
        if value < self.best - self.min_delta:
            self.best = value
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad_epochs >= self.patience

    def state(self) -> dict[str, float]:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load(self, state: dict[str, float]) -> None:
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
