"""Shared argparse checkers and the one-line usage errors of the stygaze parser."""

import argparse

import pytest

from stygaze.cli import argtypes, main


@pytest.mark.parametrize(
    "checker, text, value",
    [
        (argtypes.seed, "0", 0),
        (argtypes.seed, "4294967295", 2**32 - 1),
        (argtypes.positive_int, "3", 3),
        (argtypes.positive_float, "0.5", 0.5),
        (argtypes.non_negative_float, "0", 0.0),
        (argtypes.fps, "60", 60.0),
        (argtypes.int_in(1, 1000), "1000", 1000),
    ],
)
def test_accepted_values(checker, text, value):
    assert checker(text) == value


@pytest.mark.parametrize(
    "checker, text",
    [
        (argtypes.seed, "-1"),
        (argtypes.seed, "4294967296"),
        (argtypes.seed, "1.5"),
        (argtypes.positive_int, "0"),
        (argtypes.positive_float, "0"),
        (argtypes.positive_float, "inf"),
        (argtypes.positive_float, "nan"),
        (argtypes.finite_float, "-inf"),
        (argtypes.non_negative_float, "-0.1"),
        (argtypes.fps, "0.5"),
        (argtypes.fps, "1001"),
        (argtypes.threads, "0"),
        (argtypes.port, "65536"),
        (argtypes.int_in(1, 1000), "abc"),
    ],
)
def test_refused_values(checker, text):
    with pytest.raises(argparse.ArgumentTypeError):
        checker(text)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["render", "m.npz", "-o", "x.mp4", "--size", "abc"], "stygaze: error: render: argument --size: expected an integer, got 'abc'"),
        (["generate", "--seed", "-1"], "stygaze: error: generate: argument --seed: expected an integer in [0, 4294967295], got '-1'"),
        (["generate", "--gaze", "g.npz", "--samples", "100000"], "stygaze: error: generate: argument --samples: expected an integer in [1, 1000], got '100000'"),
        (["eval", "--pred", "a", "--gt", "b", "--dispersion", "inf"], "stygaze: error: eval: argument --dispersion: expected a finite number, got 'inf'"),
        (["train", "style", "--config", "c", "--data", "d", "--out", "o", "--threads", "0"],
         "stygaze: error: train style: argument --threads: expected an integer in [1, 1024], got '0'"),
        (["bogus"], "stygaze: error: argument COMMAND: invalid choice: 'bogus'"),
    ],
)
def test_usage_errors_are_one_line_exit_2(argv, expected, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.count("\n") == 1 and "usage:" not in err
    assert err.startswith(expected)
