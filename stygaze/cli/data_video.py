"""``stygaze data import-video VIDEO|DIR --out CORPUS``: talking-head videos → corpus sessions (hooked into ``stygaze data``)."""

from __future__ import annotations

import sys

from stygaze.cli.data import _number
from stygaze.errors import DataError
from stygaze.limits import MAX_SEED

DESCRIPTION = """\
Turn talking-head videos into sessions of a stygaze corpus: CORPUS/<video name>/ with
audio.wav (16 kHz mono), motion.npz (head pitch/yaw/roll, eye-in-head angles of both eyes
and a blink channel at 25 fps; NaN where no face is seen) and import.json (settings and
quality figures). CORPUS/splits.json is drawn (or extended) so that `stygaze train`,
`stygaze eval` and `stygaze data check` take the corpus as it is.

Tracking: MediaPipe FaceMesh with iris refinement (pip install 'stygaze[video]'; its
models ship inside the wheel, nothing is downloaded). Head rotation: rigid landmarks
aligned to the clip's own mean face (Procrustes). Eyes: iris centre against the eye
corners in the head frame, calibrated per clip (--eye-calibration). With several faces
in view the largest, most central one is kept. See docs/data-video.md.

examples:
  stygaze data import-video talk.mp4 --out corpora/mine
  stygaze data import-video videos/ --out corpora/mine            # every video in the folder
  stygaze data import-video a.mp4 b.mov --out corpora/mine --eye-calibration camera
  stygaze data check corpora/mine

A single video that cannot be imported (no video stream, no audio track, unreadable file,
no face) is an error (exit 2) and nothing is written. With a folder or several videos a
failing video is reported ('stygaze: failed: <file>: <reason>'), the others go on, and the
exit code is 1 if any failed.
"""


def register(cmds, formatter) -> None:
    p = cmds.add_parser("import-video", help="import talking-head videos (MediaPipe face + iris tracking) as corpus sessions",
                        description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("inputs", nargs="+", metavar="VIDEO|DIR", help="video file(s), or folder(s) of videos (mp4, mov, mkv, webm, avi, ...)")
    p.add_argument("--out", required=True, metavar="CORPUS", help="corpus folder (created if missing; existing sessions are never overwritten)")
    p.add_argument("--audio", default=None, metavar="FILE", help="take the speech from this file (same start as the video) instead of the video's audio track; one VIDEO only")
    p.add_argument("--eye-calibration", default="center", choices=("center", "camera"),
                   help="per-clip eye zero: 'center' = median eye-in-head straight ahead; 'camera' = median gaze at the camera")
    p.add_argument("--max-faces", default="2", help="faces to look for per frame (≥ 2 picks the largest, most central; 1 is faster)")
    p.add_argument("--max-gap", default="0", help="interpolate gaps without a face up to this many seconds (0: they stay NaN)")
    p.add_argument("--blink-bridge", default="0.5", help="interpolate the eye angles across lid closures up to this many seconds")
    p.add_argument("--max-side", default="1280", help="scale frames down to at most this many pixels on the long side before tracking")
    p.add_argument("--min-detection-confidence", default="0.5", help="MediaPipe face-detection threshold (0..1)")
    p.add_argument("--seed", default="0", help="seed of the train/val/test split drawn into splits.json")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=handle)


def handle(args) -> int:
    from pathlib import Path

    from stygaze.data.video import (
        VideoImportConfig,
        find_videos,
        import_video,
        import_videos,
        update_splits,
    )

    config = VideoImportConfig(
        max_faces=_number(args.max_faces, "--max-faces", int),
        min_detection_confidence=_number(args.min_detection_confidence, "--min-detection-confidence", positive=False),
        eye_calibration=args.eye_calibration,
        max_gap_s=_number(args.max_gap, "--max-gap", positive=False),
        blink_bridge_s=_number(args.blink_bridge, "--blink-bridge", positive=False),
        max_side=_number(args.max_side, "--max-side", int),
    )
    seed = _number(args.seed, "--seed", int, positive=False, hi=MAX_SEED)
    progress = not args.no_progress and sys.stderr.isatty()

    def show(result) -> None:
        print(result.summary())
        for warning in result.warnings():
            print(f"stygaze: warning: {warning}", file=sys.stderr)

    def show_splits(splits, how) -> None:
        counts = ", ".join(f"{k} {len(v)}" for k, v in splits.items())
        print(f"{Path(args.out) / 'splits.json'}: {how} [{counts}]")

    single = len(args.inputs) == 1 and Path(args.inputs[0]).is_file()
    if args.audio is not None and not single:
        raise DataError("--audio goes with one VIDEO file, not a folder or several videos")
    if single:  # one video: its failure is the command's error (exit 2)
        find_videos(args.inputs)
        show(import_video(args.inputs[0], args.out, audio=args.audio, config=config, progress=progress))
        show_splits(*update_splits(args.out, seed))
        return 0

    def on_result(video, result, error) -> None:
        if error:
            print(f"stygaze: failed: {video}: {error}", file=sys.stderr)
        else:
            show(result)

    report = import_videos(args.inputs, args.out, config=config, seed=seed, progress=progress, on_result=on_result)
    if report.splits is not None:
        show_splits(report.splits, report.splits_how)
    print(f"imported {len(report.imported)} video(s), {len(report.failed)} failed", file=sys.stderr)
    return 0 if report.ok else 1
