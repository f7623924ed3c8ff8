"""The ``stygaze`` command line: thin argparse subcommands over library functions.

Each subcommand lives in ``stygaze/cli/<name>.py`` and exposes ``register(subparsers)``;
that function adds its parser and sets ``func`` to a handler that imports what it needs
lazily (so ``stygaze --help`` stays fast) and calls one library function.

User errors (:class:`~stygaze.errors.StygazeError`) and the file system's errors (any
OSError: a missing file, a full disk, a read-only folder) print one line,
``stygaze: error: <message>``, on stderr and exit with code 2. ``STYGAZE_DEBUG=1`` shows
the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
import typing
from types import ModuleType

from stygaze.errors import StygazeError
from stygaze.version import __version__

# subcommand modules, in the order `stygaze --help` lists them
_COMMAND_MODULES = (
    "generate",
    "extract_style",
    "train",
    "eval",
    "render",
    "export",
    "serve",
    "data",
)

EXIT_USAGE = 2


def available_modules(names: tuple[str, ...]) -> list[ModuleType]:
    """Import ``stygaze.cli.<name>`` for each name, in order, skipping the ones not installed.

    A module that exists but fails to import (a missing dependency inside it) still raises.
    """
    modules = []
    for name in names:
        full = f"stygaze.cli.{name}"
        try:
            modules.append(importlib.import_module(full))
        except ModuleNotFoundError as exc:
            if exc.name != full:
                raise
    return modules


_DEFAULT_WORD = re.compile(r"\bdefault\b", re.IGNORECASE)


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show each option's default once in --help and keep the descriptions' line breaks.

    argparse's formatter appends ``(default: X)`` to every option; this one does not when the
    help text already states the default in words (``(default: the built-in model)``), and
    not for ``None`` or ``False`` (an unset option or a flag that is off: nothing to show).
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        unset = action.default is None or action.default is False or action.default == argparse.SUPPRESS
        if unset or _DEFAULT_WORD.search(text):
            return text
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, ``stygaze: error: ...``, exit code 2.

    Subcommand parsers are of the same class (argparse builds them with ``type(parent)``).
    """

    def error(self, message: str) -> typing.NoReturn:
        command = self.prog.removeprefix("stygaze").strip()
        _fail(f"{command}: {message}" if command else message)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="stygaze",
        description="Speech-driven, style-controllable gaze and head motion, and metrics for it.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"stygaze {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in available_modules(_COMMAND_MODULES):
        module.register(sub, _Formatter)
    return parser


def _fail(message: str) -> int:
    message = " ".join(str(message).split())  # always one line
    print(f"stygaze: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    debug = os.environ.get("STYGAZE_DEBUG") == "1"
    try:
        result = args.func(args)
    except StygazeError as exc:
        if debug:
            raise
        return _fail(str(exc))
    except OSError as exc:  # the file system's answer (missing file, disk full, ...), not a bug
        if debug:
            raise
        reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
        return _fail(f"{reason}: {exc.filename}" if exc.filename is not None else reason)
    except KeyboardInterrupt:
        print("stygaze: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
