"""One loader for every config: YAML (or a checkpoint's ``config.json``) → config dataclass, validated.

Config dataclasses declare each field's limits next to the field with :func:`option`::

    @dataclass
    class GeneratorTrainConfig:
        lr: float = option(1e-3, range=POSITIVE)          # > 0
        batch_size: int = option(64, range=(1, 65536))    # 1 … 65536
        kind: str = option("lstm", choices=("lstm", "transformer"))

:func:`from_dict` checks every value against the field's type (``int``, ``float``, ``bool``,
``str``, ``X | None``, ``tuple``/``list``/``dict`` of those, nested config dataclasses) and its
declared range or choices, and refuses unknown keys. A problem is one line that names the file
and the field (``configs/x.yaml: generator_train.lr must be > 0, got -1``) as a
:class:`~stygaze.errors.ConfigError`; checkpoints turn it into a
:class:`~stygaze.errors.CheckpointError` (:func:`stygaze.checkpoint.build_config`), so a bad
value in a ``config.json`` is refused before any tensor is allocated.

Values are validated, never converted (an ``int`` stays an ``int`` in a ``float`` field, a JSON
list stays a list in a ``tuple`` field): a config read back from a checkpoint is exactly the
one that was saved. :func:`limits` lists the declared limits of a config class for the docs.

YAML is read with YAML 1.2 number rules, so ``lr: 1e-3`` is a number (PyYAML's YAML 1.1
reads it as the string ``"1e-3"``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from stygaze.errors import ConfigError, StygazeError
from stygaze.limits import MAX_MODEL_DEPTH, MAX_MODEL_WIDTH, MAX_SEED, MAX_THREADS

C = TypeVar("C")


# --------------------------------------------------------------------------------------
# declaring limits
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Range:
    """Closed (or half-open) interval a number must lie in; ``None`` = unbounded on that side."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # True: ``value > lo``; False: ``value >= lo``
    hi_open: bool = False

    def __contains__(self, value: float) -> bool:
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        if self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi):
            return False
        return True

    def __str__(self) -> str:
        if self.hi is None and self.lo is not None:
            return f"{'>' if self.lo_open else '≥'} {_num(self.lo)}"
        if self.lo is None and self.hi is not None:
            return f"{'<' if self.hi_open else '≤'} {_num(self.hi)}"
        if self.lo is None:
            return "any number"
        return f"in {'(' if self.lo_open else '['}{_num(self.lo)}, {_num(self.hi)}{')' if self.hi_open else ']'}"


def _num(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


POSITIVE = Range(0, lo_open=True)
"""``> 0`` (learning rates, temperatures)."""
NON_NEGATIVE = Range(0)
"""``≥ 0`` (weights, noise levels, time budgets where 0 = none)."""
FRACTION = Range(0, 1)
"""``[0, 1]`` (shares and probabilities)."""
DROPOUT = Range(0, 1, hi_open=True)
"""``[0, 1)`` (dropout and smoothing rates)."""
SEED = Range(0, MAX_SEED)
"""Seeds: 0 … 2³² − 1."""
COUNT = Range(1)
"""``≥ 1`` (batch sizes, epochs, windows per epoch, patience)."""

# Sane maxima of model dimensions (stygaze.limits): far above every shipped and published
# configuration, low enough that a typo (``d: 3000000``) is refused before it tries to allocate terabytes.
WIDTH = Range(1, MAX_MODEL_WIDTH)
"""Layer widths (hidden sizes, embedding and feed-forward dimensions): 1 … 4096."""
LATENT = Range(0, MAX_MODEL_WIDTH)
"""Optional vector sizes where 0 = off (style and latent dimensions): 0 … 4096."""
DEPTH = Range(1, MAX_MODEL_DEPTH)
"""Stacked layers or blocks: 1 … 16."""
HEADS = Range(1, 256)
"""Attention heads: 1 … 256."""
FRAMES = Range(1, 100_000)
"""Lengths in frames at 25 fps (windows, chunks, context): 1 … 100000 (≈ 67 min)."""
THREADS = Range(1, MAX_THREADS)
"""torch CPU threads: 1 … 1024 (leave unset for torch's default)."""


def option(default: Any = dataclasses.MISSING, *, range: Range | tuple | None = None, choices: tuple | None = None,
           default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with its limits: ``range`` (a :class:`Range` or ``(lo, hi)``, both
    inclusive, ``None`` = open end) for numbers (applied to each element of a tuple/list/dict),
    ``choices`` for values from a fixed set."""
    meta: dict[str, Any] = {}
    if range is not None:
        meta["range"] = range if isinstance(range, Range) else Range(*range)
    if choices is not None:
        meta["choices"] = tuple(choices)
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


def limits(cls: type) -> list[tuple[str, str, str]]:
    """``(field, type, limit)`` for every field of config class ``cls`` that declares a limit
    (nested config dataclasses as ``section.field``), for documentation."""
    rows = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        inner = _dataclass_of(tp)
        if inner is not None:
            rows += [(f"{f.name}.{n}", t, lim) for n, t, lim in limits(inner)]
            continue
        if "range" in f.metadata:
            rows.append((f.name, _type_name(tp), str(f.metadata["range"])))
        elif "choices" in f.metadata:
            rows.append((f.name, _type_name(tp), "one of " + ", ".join(map(str, f.metadata["choices"]))))
    return rows


def limits_markdown(configs: dict[str, type]) -> str:
    """A Markdown table (``| config | field | type | limit |``) of the declared limits of the
    config classes in ``configs`` (title → class), for ``docs/training.md``."""
    lines = ["| config | field | type | limit |", "| --- | --- | --- | --- |"]
    for title, cls in configs.items():
        lines += [f"| {title} | `{name}` | {tp.replace('|', '∣')} | {lim} |" for name, tp, lim in limits(cls)]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------
_FLOAT_1_2 = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


def read_yaml(path: str | os.PathLike) -> Any:
    """Parse a YAML file (safe loader, YAML 1.2 floats such as ``1e-3``).

    Raises:
        ConfigError: the file is missing or is not valid YAML.
    """
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_1_2, list("-+0123456789."))
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {path} is not a text file ({type(exc).__name__})") from exc


def load_config(cls: type[C], path: str | os.PathLike | None, *, overrides: Mapping[str, Any] | None = None,
                ignore: tuple[str, ...] = ()) -> C:
    """Read the YAML file ``path`` (None: defaults only) into the config dataclass ``cls``.

    Args:
        cls: the config dataclass (its fields are the file's top-level keys; nested config
            dataclasses are sections).
        path: YAML file, or None for the defaults.
        overrides: values that win over the file's (merged into sections when both are
            mappings); ``None`` values are skipped, so unset command-line flags can be passed.
        ignore: top-level keys the file may hold for other readers (skipped, not validated).

    Raises:
        ConfigError: missing file, invalid YAML, not a mapping, unknown key, wrong type or
            out-of-range value; one line naming the file and the field.
    """
    values: Any = {}
    where = "config"
    if path is not None:
        where = str(path)
        values = read_yaml(path)
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            raise ConfigError(f"config {path} must be a mapping of keys to values, not a {type(values).__name__}")
    values = {k: v for k, v in values.items() if k not in ignore}
    values = _merge(values, overrides or {})
    return from_dict(cls, values, where=where)


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if v is None:
            continue
        if isinstance(v, Mapping):  # a section: merged key by key (its None values skipped too)
            out[k] = _merge(out[k] if isinstance(out.get(k), Mapping) else {}, v)
        else:
            out[k] = v
    return out


def from_dict(cls: type[C], values: Any, *, where: str = "config", prefix: str = "") -> C:
    """Build the config dataclass ``cls`` from a mapping after checking every value.

    ``where`` (a file name) and ``prefix`` (the section, e.g. ``"model."``) go into the error
    messages. A ``ValueError``/``TypeError``/:class:`StygazeError` raised by the class itself
    (cross-field checks in ``__post_init__``) also becomes a one-line :class:`ConfigError`.
    """
    if not isinstance(values, Mapping):
        what = f"'{prefix[:-1]}'" if prefix else "the config"
        raise ConfigError(f"{where}: {what} must be a mapping of keys to values, not a {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields), key=str)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {[prefix + str(k) for k in unknown]} (known: {', '.join(sorted(fields))})")
    hints = typing.get_type_hints(cls)
    kwargs = {name: _check(hints[name], value, fields[name], where, prefix + name) for name, value in values.items()}
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError, StygazeError) as exc:
        section = f"{prefix[:-1]}: " if prefix else ""
        raise ConfigError(f"{where}: {section}{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc


# --------------------------------------------------------------------------------------
# checking one value
# --------------------------------------------------------------------------------------
def _dataclass_of(tp: Any) -> type | None:
    """The config dataclass in ``tp`` (``X`` or ``X | None``), else None."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return tp
    args = [a for a in typing.get_args(tp) if a is not type(None)] if _is_union(tp) else []
    return args[0] if len(args) == 1 and dataclasses.is_dataclass(args[0]) else None


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _python_types(tp: Any) -> tuple[type, ...]:
    """The Python types a YAML/JSON value of annotation ``tp`` can have."""
    origin = typing.get_origin(tp) or tp
    if origin in (tuple, list):
        return (list, tuple)
    if origin is dict or dataclasses.is_dataclass(origin):
        return (Mapping,)
    if origin is float:
        return (int, float)
    return (origin,) if isinstance(origin, type) else (object,)


def _type_name(tp: Any) -> str:
    if _is_union(tp):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "None"
    origin = typing.get_origin(tp)
    if origin is None:
        return getattr(tp, "__name__", str(tp))
    args = ", ".join("..." if a is Ellipsis else _type_name(a) for a in typing.get_args(tp))
    return f"{origin.__name__}[{args}]"


def _fail(where: str, name: str, expected: str, value: Any) -> ConfigError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ConfigError(f"{where}: {name} must be {expected}, got {shown}")


def _check(tp: Any, value: Any, f: dataclasses.Field, where: str, name: str) -> Any:
    """``value`` checked against type ``tp`` and the limits in ``f.metadata``; returns it (nested
    config dataclasses built from their mappings)."""
    if tp is Any:
        return value
    if _is_union(tp):
        options = typing.get_args(tp)
        if value is None:
            if type(None) in options:
                return None
            raise _fail(where, name, _type_name(tp), value)
        rest = [a for a in options if a is not type(None)]
        fitting = [a for a in rest if isinstance(value, _python_types(a))]
        if len(fitting) == 1 or len(rest) == 1:  # the one option of the value's kind says what is wrong
            return _check((fitting or rest)[0], value, f, where, name)
        for a in fitting:
            try:
                return _check(a, value, f, where, name)
            except ConfigError:
                continue
        raise _fail(where, name, _type_name(tp), value)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, tp):
            return value
        return from_dict(tp, {} if value is None else value, where=where, prefix=name + ".")
    origin = typing.get_origin(tp)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise _fail(where, name, f"a list ({_type_name(tp)})", value)
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise _fail(where, name, f"a list of {len(args)} values", value)
            items = args
        else:
            items = (args[0] if args else Any,) * len(value)
        for i, (a, v) in enumerate(zip(items, value)):
            _check(a, v, f, where, f"{name}[{i}]")
        return value
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise _fail(where, name, "a mapping", value)
        args = typing.get_args(tp)
        if args:
            for k, v in value.items():
                _check(args[0], k, dataclasses.field(), where, f"{name} key")
                _check(args[1], v, f, where, f"{name}.{k}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(where, name, "true or false", value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(where, name, "an integer", value)
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(where, name, "a number", value)
        if not math.isfinite(value):
            raise _fail(where, name, "a finite number", value)
    elif tp is str:
        if not isinstance(value, str):
            raise _fail(where, name, "a string", value)
    choices = f.metadata.get("choices")
    if choices is not None and value not in choices:
        raise _fail(where, name, "one of " + ", ".join(map(repr, choices)), value)
    rng = f.metadata.get("range")
    if rng is not None and value not in rng:
        raise _fail(where, name, str(rng), value)
    return value
