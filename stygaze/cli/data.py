"""``stygaze data synth|check|import-openface``: corpus generation, checking and import
(``features`` and ``import-video`` live in ``data_features.py`` / ``data_video.py``)."""

from __future__ import annotations

import sys

from stygaze.cli import available_modules
from stygaze.cli.argtypes import float_in, int_in, seed
from stygaze.errors import DataError
from stygaze.io import check_distinct_outputs
from stygaze.limits import MAX_AUDIO_SECONDS


def _number(text: str, flag: str, kind=float, positive: bool = True, hi: float | None = None):
    """Parse a flag's value: > 0 (``positive``) or ≥ 0, finite, at most ``hi``; bad values are a
    one-line DataError (exit 2), not argparse usage."""
    what = "integer" if kind is int else "number"
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise DataError(f"{flag} expects {'a positive' if positive else 'a non-negative'} {what}, got {text!r}") from None
    if kind is float and not (value == value and abs(value) != float("inf")):
        raise DataError(f"{flag} expects a finite number, got {text!r}")
    if (positive and not value > 0) or value < 0:
        raise DataError(f"{flag} expects {'a positive' if positive else 'a non-negative'} {what}, got {text!r}")
    if hi is not None and value > hi:
        raise DataError(f"{flag} expects a {what} of at most {hi:g}, got {text!r}")
    return value


def register(sub, formatter) -> None:
    parser = sub.add_parser(
        "data",
        help="make, check and import corpora (SynHAGE, your recordings, OpenFace, videos)",
        description="Corpus tools. Layout of a corpus: DIR/<session>/{audio.wav, motion.npz, "
        "style.json, events.json} + DIR/splits.json (see docs/data-own-recordings.md).",
        formatter_class=formatter,
    )
    cmds = parser.add_subparsers(dest="data_command", metavar="COMMAND")

    p = cmds.add_parser(
        "synth",
        help="generate a SynHAGE corpus (procedural, physiologically grounded)",
        description="Generate SynHAGE sessions: espeak-ng conversations (or your own audio with "
        "--audio-dir) and procedurally synthesised 25 fps gaze + head motion with labelled events. "
        "Each session draws its own style; the same --seed gives identical files. "
        "See docs/data-synhage.md.",
        formatter_class=formatter,
    )
    p.add_argument("--out", required=True, help="output corpus folder (new or empty; an interrupted one is resumed when the arguments are the same)")
    p.add_argument("--sessions", type=int_in(1, 100_000), default=8, help="number of sessions")
    p.add_argument("--minutes", type=float_in(0.0, MAX_AUDIO_SECONDS / 60, lo_open=True), default=2.0, help="length of each session in minutes")
    p.add_argument("--seed", type=seed, default=0, help="random seed (styles, speakers, motion)")
    p.add_argument("--audio-dir", default=None, help="use these audio files (wav/flac/ogg/mp3, one per session) instead of espeak-ng")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_synth)

    p = cmds.add_parser(
        "check",
        help="check a corpus folder against the layout",
        description="Check every session of a corpus folder (motion contract, 25 fps, NaN share, "
        "audio/motion length, JSON files, splits). Prints one line per problem. "
        "Exit 0: clean; 1: problems found; 2: bad usage (missing folder).",
        formatter_class=formatter,
    )
    p.add_argument("dir", help="corpus folder")
    p.set_defaults(func=_check)

    p = cmds.add_parser(
        "import-openface",
        help="import an OpenFace 2.x CSV (+ audio) as a corpus session",
        description="Convert OpenFace 2.x FeatureExtraction output (gaze_0_*, gaze_1_*, pose_R*) to "
        "a stygaze session: head-relative eye angles in stygaze's convention, frames with low "
        "confidence or failed tracking dropped, short gaps interpolated (longer ones stay NaN), "
        "resampled to 25 fps from the CSV timestamps. See docs/data-own-recordings.md.",
        formatter_class=formatter,
    )
    p.add_argument("csv", help="OpenFace CSV of one video")
    p.add_argument("--audio", required=True, help="the video's audio (wav/flac/ogg/mp3)")
    p.add_argument("--out", required=True, help="session folder to create (must not exist)")
    p.add_argument("--min-confidence", default="0.75", help="drop frames with OpenFace confidence below this (0..1)")
    p.add_argument("--max-gap", default="0.2", help="interpolate gaps up to this many seconds")
    p.set_defaults(func=_import_openface)

    # subcommands that live in their own modules (``stygaze/cli/data_<name>.py``)
    for module in available_modules(("data_features", "data_video")):
        module.register(cmds, formatter)

    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])


def _synth(args) -> int:
    from stygaze.data.corpus import SynthInterrupted, synth_corpus

    check_distinct_outputs({"--out": args.out}, {"--audio-dir": args.audio_dir})
    try:
        summary = synth_corpus(
            args.out,
            sessions=args.sessions,
            minutes=args.minutes,
            seed=args.seed,
            audio_dir=args.audio_dir,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
    except SynthInterrupted as exc:
        print(f"stygaze: interrupted: {exc}", file=sys.stderr)
        return 130
    sp = summary.splits
    print(
        f"wrote {len(summary.sessions)} sessions ({summary.seconds / 60:.1f} min) to {summary.root} "
        f"[train {len(sp['train'])}, val {len(sp['val'])}, test {len(sp['test'])}]; "
        f"motion synthesis {summary.motion_seconds:.2f} s"
    )
    return 0


def _check(args) -> int:
    from stygaze.data.corpus import check_corpus

    report = check_corpus(args.dir)
    for problem in report.problems:
        print(str(problem))
    status = "ok" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"{args.dir}: {report.sessions} session(s), {report.seconds / 60:.1f} min: {status}", file=sys.stderr)
    return 0 if report.ok else 1


def _import_openface(args) -> int:
    from stygaze.data.openface import import_openface

    check_distinct_outputs({"--out": args.out}, {"CSV": args.csv, "--audio": args.audio})
    result = import_openface(
        args.csv,
        args.audio,
        args.out,
        min_confidence=_number(args.min_confidence, "--min-confidence", positive=False),
        max_gap_s=_number(args.max_gap, "--max-gap", positive=False),
    )
    print(
        f"wrote {result.path}: {result.frames} frames at 25 fps, {100 * result.nan_fraction:.1f} % NaN "
        f"({result.dropped_rows} of {result.rows} CSV rows dropped)"
    )
    return 0
