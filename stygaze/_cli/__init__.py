"""Subcommand modules of the ``stygaze`` CLI; each exposes ``register(subparsers, formatter)``."""

from __future__ import annotations

import importlib
from types import ModuleType


def available_modules(names: tuple[str, ...]) -> list[ModuleType]:
    """Import ``stygaze._cli.<name>`` for each name, in order, skipping the ones not installed.

    A module that exists but fails to import (a missing dependency inside it) still raises.
    """
    modules = []
    for name in names:
        full = f"stygaze._cli.{name}"
        try:
            modules.append(importlib.import_module(full))
        except ModuleNotFoundError as exc:
            if exc.name != full:
                raise
    return modules
