"""Checkpoints: one folder per model, ``model.safetensors`` + ``config.json``. Never pickles.

``config.json`` holds::

    {"format": "stygaze-checkpoint", "format_version": 1,
     "model_type": "...",            # e.g. "generator", "style_encoder", "cvae", "omnihead"
     "config": {...},                # the model's config dataclass, asdict()
     "stygaze_version": "0.1.0",
     "meta": {...}}                  # anything else: audio encoder id, training summary

Normalisation statistics are registered buffers of the model, so they live in the weights
file and can never go missing. Models are rebuilt as ``Model(Config(**config))`` and loaded
with ``strict=True``; every problem is a :class:`~stygaze.errors.CheckpointError` with one line.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from stygaze.config import from_dict
from stygaze.errors import CheckpointError, ConfigError
from stygaze.io import atomic_dir
from stygaze.limits import MAX_CHECKPOINT_CONFIG_BYTES
from stygaze.version import __version__

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
FORMAT = "stygaze-checkpoint"
FORMAT_VERSION = 1

C = TypeVar("C")

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
"""The built-in checkpoints shipped inside the package, one folder per model family."""


def builtin_dir(family: str) -> Path:
    """Folder of the built-in ``family`` checkpoint (``stygazetalk``, ``cvae``, ``omnihead``).

    Raises:
        CheckpointError: the folder is missing (a broken install).
    """
    path = ASSETS_DIR / family
    if not (path / CONFIG_NAME).exists():
        raise CheckpointError(f"the built-in {family} model is missing from {path}: reinstall stygaze, or pass a checkpoint folder")
    return path


@dataclasses.dataclass
class CheckpointInfo:
    """What :func:`read_checkpoint` found: the model type, its config dict, meta and tensors."""

    path: Path
    model_type: str
    config: dict[str, Any]
    meta: dict[str, Any]
    state_dict: dict[str, Any]
    stygaze_version: str


def save_checkpoint(path: str | os.PathLike, model: Any, *, model_type: str, config: Any, meta: dict | None = None) -> Path:
    """Write ``model``'s weights and ``config`` to the folder ``path`` atomically.

    Args:
        path: output folder (replaced whole if it exists).
        model: a ``torch.nn.Module``; its ``state_dict()`` (parameters and buffers) is saved.
        model_type: a short name checked again on load.
        config: the model's config dataclass (or a plain dict).
        meta: JSON-serialisable extras (audio encoder id, training summary, ...).
    """
    from safetensors.torch import save_file

    cfg = asdict(config) if is_dataclass(config) else dict(config)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_type": model_type,
        "config": cfg,
        "stygaze_version": __version__,
        "meta": meta or {},
    }
    # safetensors refuses shared storage; contiguous clones are cheap for our model sizes
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    path = Path(path)
    with atomic_dir(path, overwrite=True) as tmp:
        save_file(state, str(tmp / WEIGHTS_NAME))
        (tmp / CONFIG_NAME).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def read_checkpoint(path: str | os.PathLike, *, model_type: str | None = None) -> CheckpointInfo:
    """Read a checkpoint folder without building a model.

    Raises:
        CheckpointError: missing folder/files, corrupt JSON or safetensors, wrong format or
            ``model_type``.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    if not path.is_dir():
        raise CheckpointError(f"checkpoint must be a folder with {CONFIG_NAME} and {WEIGHTS_NAME}: {path}")
    cfg_path, w_path = path / CONFIG_NAME, path / WEIGHTS_NAME
    for p in (cfg_path, w_path):
        if not p.exists():
            raise CheckpointError(f"checkpoint {path} is incomplete: {p.name} is missing")
    if not (cfg_path.is_file() and w_path.is_file()):
        raise CheckpointError(f"checkpoint {path}: {CONFIG_NAME} and {WEIGHTS_NAME} must be regular files")
    if cfg_path.stat().st_size > MAX_CHECKPOINT_CONFIG_BYTES:
        raise CheckpointError(f"checkpoint {path}: {CONFIG_NAME} is larger than {MAX_CHECKPOINT_CONFIG_BYTES // 1024**2} MiB")
    try:
        payload = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise CheckpointError(f"checkpoint {path}: {CONFIG_NAME} is corrupt ({exc.__class__.__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path}: {CONFIG_NAME} is not a stygaze checkpoint")
    version = payload.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CheckpointError(f"checkpoint {path}: {CONFIG_NAME} has format_version {version!r}, expected a positive integer")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {path} needs a newer stygaze (format {version})")
    found_type = payload.get("model_type")
    if not isinstance(found_type, str):
        raise CheckpointError(f"checkpoint {path}: {CONFIG_NAME} has model_type {found_type!r}, expected a string")
    if model_type is not None and found_type != model_type:
        raise CheckpointError(f"checkpoint {path} holds a {found_type!r} model, expected {model_type!r}")
    for key in ("config", "meta"):
        if not isinstance(payload.get(key, {}), dict):
            raise CheckpointError(f"checkpoint {path}: {CONFIG_NAME} field {key!r} must be a mapping, got {type(payload[key]).__name__}")
    try:
        state = load_file(str(w_path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint {path}: {WEIGHTS_NAME} is corrupt ({str(exc).splitlines()[0]})") from exc
    return CheckpointInfo(
        path=path,
        model_type=str(found_type),
        config=dict(payload.get("config") or {}),
        meta=dict(payload.get("meta") or {}),
        state_dict=state,
        stygaze_version=str(payload.get("stygaze_version", "unknown")),
    )


def build_config(config_cls: type[C], values: dict[str, Any], *, where: str = "checkpoint") -> C:
    """``config_cls`` from a checkpoint's config mapping, every field checked (:mod:`stygaze.config`).

    Raises:
        CheckpointError: unknown field (made by another stygaze version?), wrong type or a value
            out of the field's declared range (e.g. ``d: 3000000``, ``M: 0``): refused before
            any tensor is allocated.
    """

    try:
        return from_dict(config_cls, values, where=where)
    except ConfigError as exc:
        raise CheckpointError(f"{exc} (made by another stygaze version, or edited?)") from exc


def load_state_strict(model: Any, state_dict: dict[str, Any], *, where: str = "checkpoint") -> None:
    """``model.load_state_dict(state_dict, strict=True)``; mismatches (names, shapes, dtypes: an int8
    tensor where the model has float32 is refused, not cast) become one-line CheckpointErrors."""
    expected = model.state_dict()
    for name, tensor in state_dict.items():
        if name in expected and getattr(tensor, "dtype", None) != expected[name].dtype:
            raise CheckpointError(f"{where}: weights do not fit the model: {name} is {tensor.dtype}, "
                                  f"the model holds {expected[name].dtype}")
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise CheckpointError(f"{where}: weights do not fit the model: {detail[:300]}") from exc
