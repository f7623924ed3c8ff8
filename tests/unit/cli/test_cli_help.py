"""``--help`` of every (sub)command: each option's default is shown exactly once."""

from __future__ import annotations

import argparse
import re

import pytest

from stygaze.cli import build_parser

DEFAULT = re.compile(r"\bdefault\b", re.IGNORECASE)


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("stygaze",)):
    yield " ".join(path), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


PARSERS = dict(_parsers(build_parser()))


def _entries(parser: argparse.ArgumentParser) -> list[tuple[argparse.Action, str]]:
    """Each option's entry as --help prints it (option strings + help text with the default)."""
    formatter = parser._get_formatter()
    return [(a, formatter._format_action(a)) for a in parser._actions if a.help not in (None, argparse.SUPPRESS)]


def test_every_subcommand_is_checked():
    assert {"stygaze", "stygaze generate", "stygaze train cvae", "stygaze data features", "stygaze eval"} <= set(PARSERS)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_each_default_is_shown_once(name):
    parser = PARSERS[name]
    text = re.sub(r"\s+", "", parser.format_help())
    bad = []
    for action, entry in _entries(parser):
        assert re.sub(r"\s+", "", entry) in text  # the entry is what --help prints (line breaks aside)
        n = len(DEFAULT.findall(entry))
        if n > 1:
            bad.append(f"{action.dest}: default shown {n} times: {' '.join(entry.split())}")
        informative = action.default is not None and action.default is not False and action.default != argparse.SUPPRESS
        if informative and not isinstance(action, argparse._SubParsersAction) and n == 0:
            bad.append(f"{action.dest}: default {action.default!r} not shown")
        if "(default: None)" in entry or "(default: False)" in entry:
            bad.append(f"{action.dest}: shows an empty default: {' '.join(entry.split())}")
    assert not bad, f"stygaze {name} --help:\n" + "\n".join(bad)


def test_the_check_catches_argparse_duplicating_a_written_default():
    p = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default="x", help="checkpoint (default: the built-in model)")
    (_, entry), = [(a, e) for a, e in _entries(p) if a.dest == "model"]
    assert len(DEFAULT.findall(entry)) == 2
