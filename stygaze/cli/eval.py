"""``stygaze eval``: Table II/IV metrics of predicted motion against ground truth.

Thin: pairs the files (:func:`stygaze.eval.files.pair_paths`), pools the metrics
(:class:`stygaze.eval.report.EvalAccumulator`), prints the tables, and writes the JSON and
plot atomically after every input has been checked.

Extension point: further metric families (e.g. ``--perceptual``) add their flag in
:func:`register` and their dict under a new top-level key of ``result`` in :func:`run`,
before anything is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stygaze.cli.argtypes import positive_float, positive_int
from stygaze.errors import StygazeError
from stygaze.io import atomic_path, check_distinct_outputs
from stygaze.motion import Motion

PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")

DESCRIPTION = """\
Evaluate predicted gaze/head motion against ground truth with the metrics of StyGazeTalk.

--pred and --gt are .npz motion files or folders of them (paired by file name). With
--audio (a file, or a folder searched by clip name for .wav/.flac/.ogg/.mp3/...) the Beat
Alignment Score is computed too. Lengths may differ by at most 1 frame (both are cut to
the shorter); different frame rates are refused. Predictions must be finite; ground
truth may contain NaN (tracker loss), which every metric leaves out.

Frame metrics (Table II), for All (7 channels), Gaze (4 eye-in-head) and Head (3):
  MAE  mean |pred - gt| (degrees), lower is better
  Vel  mean |d pred - d gt| (degrees/frame), lower is better
  MEE  |E(pred) - E(gt)|, E = mean squared frame-to-frame step (deg^2/frame^2), lower is better
  BAS  beat alignment score over audio beats (0..1), higher is better
Gaze patterns (Table IV, the paper's metrics): I-DT fixation/saccade proportions of world
gaze, CompScore and Sim = 1 - (|dFix| + |dComp|), higher is better. At 25 fps FixRatio mostly
measures tracker noise and CompScore head speed (docs/metrics.md); beside them:
  detSacc    detected-saccade time share (velocity detector)
Gaze events (--event-detector, default: noise-adaptive velocity threshold): fixation
durations, shift amplitudes, shifts >= 2 deg per minute, same-direction share, and
  event_sim  1-D Wasserstein distances of pred vs gt distributions mapped to 0..1,
             higher is better
The same measures with the "conversation" preset (the I-DT of Dembinsky et al. 2024's
real video calls) are in the JSON under events.conversation.
Eye-head compensation: VOR gain during fixations (ideal -1), head share of gaze shifts
(<10, 10-20, >=20 deg), eye-head latency (cross-correlation lag, ms).
"""


def register(sub, formatter) -> None:
    parser = sub.add_parser(
        "eval",
        help="evaluate predicted motion against ground truth (Table II/IV metrics)",
        description=DESCRIPTION,
        formatter_class=formatter,
    )
    parser.add_argument("--pred", required=True, type=Path, help="predicted motion: .npz file or folder")
    parser.add_argument("--gt", required=True, type=Path, help="ground-truth motion: .npz file or folder")
    parser.add_argument("--audio", type=Path, default=None, help="audio file or folder (enables BAS)")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="write the results as JSON")
    parser.add_argument(
        "--plot", type=Path, default=None, metavar="OUT.png",
        help="draw the first clip's curves with fixation shading (png/pdf/svg/jpg)",
    )
    parser.add_argument("--signal", choices=("world", "eye"), default="world", help="I-DT signal: world gaze or eye-in-head")
    parser.add_argument("--dispersion", type=positive_float, default=1.0, metavar="DEG", help="I-DT dispersion threshold (degrees)")
    parser.add_argument("--min-duration", type=positive_float, default=0.1, metavar="S", help="I-DT minimum fixation duration (seconds)")
    parser.add_argument(
        "--event-detector", default="adaptive", metavar="NAME",
        help="detector of the gaze-event measures and event_sim: adaptive, ivt, andersson_ivt, table4, "
        "andersson_idt or conversation (stygaze.eval.events.PRESETS)",
    )
    # --- perceptual evaluation (OmniHead recognizer; stygaze/eval/perceptual.py) ---
    parser.add_argument(
        "--perceptual", action="store_true",
        help="also render pred and gt (procedural head), run the OmniHead recognizer and compare what it "
        "sees: saccade share, blink rate, gesture histogram, Fréchet distance of clip features",
    )
    parser.add_argument("--recognizer", type=Path, default=None, help="OmniHead checkpoint folder for --perceptual (default: the built-in tiny one)")
    parser.add_argument("--perceptual-stride", type=positive_int, default=4, metavar="N", help="frames kept per recognizer window (1 = exact centre-frame protocol)")
    parser.set_defaults(func=run)


def _check_output(path: Path | None, label: str) -> None:
    if path is None:
        return
    if path.is_dir():
        raise StygazeError(f"--{label} {path} is a folder; give a file name")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise StygazeError(f"--{label} {path}: {parent} is a file, not a folder")
            break
    if label == "plot" and path.suffix.lower() not in PLOT_SUFFIXES:
        raise StygazeError(f"--plot {path}: unsupported image type '{path.suffix}' (use one of {', '.join(PLOT_SUFFIXES)})")


def run(args: argparse.Namespace) -> int:
    import json

    from stygaze.eval.files import evaluate_pairs, pair_paths
    from stygaze.eval.report import format_tables

    if not args.dispersion > 0 or not args.min_duration > 0:
        raise StygazeError("--dispersion and --min-duration must be positive")
    from stygaze.eval.events import PRESETS

    if args.event_detector not in PRESETS:
        raise StygazeError(f"--event-detector {args.event_detector!r} is not one of: {', '.join(PRESETS)}")
    _check_output(args.json, "json")
    _check_output(args.plot, "plot")
    check_distinct_outputs({"--json": args.json, "--plot": args.plot}, {"--pred": args.pred, "--gt": args.gt, "--audio": args.audio})
    pairs = pair_paths(args.pred, args.gt, args.audio)
    options = {"signal": args.signal, "dispersion_deg": args.dispersion, "min_duration_s": args.min_duration,
               "event_detector": args.event_detector}
    result = evaluate_pairs(pairs, progress=_progress, **options)
    perceptual = None
    if getattr(args, "perceptual", False):  # --- perceptual evaluation (stygaze/eval/perceptual.py) ---
        from stygaze.eval.perceptual import perceptual_eval_pairs

        if args.perceptual_stride < 1:
            raise StygazeError("--perceptual-stride must be at least 1")
        perceptual = perceptual_eval_pairs(pairs, recognizer=args.recognizer, stride=args.perceptual_stride, progress=sys.stderr.isatty())
        result["perceptual"] = perceptual.to_dict()

    encoding = (getattr(sys.stdout, "encoding", None) or "ascii").lower()
    ascii_only = "utf" not in encoding
    print(f"{len(pairs)} clip pair{'s' if len(pairs) != 1 else ''}: {args.pred} vs {args.gt}")
    print(format_tables(result, ascii_only=ascii_only))
    if perceptual is not None:
        table = perceptual.table()
        print("\nPerceptual (OmniHead recognizer on rendered pred vs gt):\n" + (table.encode("ascii", "replace").decode() if ascii_only else table))

    if args.plot is not None:
        from stygaze.eval.plot import plot_pair
        from stygaze.eval.report import align_pair

        first = pairs[0]
        pred, gt = align_pair(Motion.load(first.pred), Motion.load(first.gt), name=first.name)
        plot_pair(pred, gt, args.plot, title=first.name, signal=args.signal,
                  dispersion_deg=args.dispersion, min_duration_s=args.min_duration)
        print(f"plot: {args.plot}")
    if args.json is not None:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
        print(f"json: {args.json}")
    return 0


def _progress(pairs):
    from tqdm import tqdm

    return tqdm(pairs, desc="eval", unit="clip", file=sys.stderr, disable=not sys.stderr.isatty() or len(pairs) < 2)
