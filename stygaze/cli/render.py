"""``stygaze render``: motion file(s) → mp4 on a 3D head, with the speech."""

from __future__ import annotations

import os

from stygaze.cli.argtypes import int_in
from stygaze.io import check_distinct_outputs

DESCRIPTION = """\
Render motion on a 3D head to an H.264 mp4 (headless: EGL, or OSMesa as a fallback).

One motion file gives one video; several give a side-by-side grid with a label above
each (ground truth vs models):

  stygaze render motion.npz --audio talk.wav -o out.mp4
  stygaze render gt.npz a.npz b.npz --labels GT,A,B --audio talk.wav -o grid.mp4

The built-in procedural head needs no asset. --head flame uses your own FLAME model
(a folder with FLAME_NEUTRAL.pkl, or the .pkl itself), from --flame-model or the
STYGAZE_FLAME_MODEL environment variable; see docs/rendering.md for the licence.
The FLAME file is read without running code from it (docs/security.md).

Convert a FLAME model (.pkl, also with chumpy arrays) to a plain .npz once:

  stygaze render convert-flame generic_model.pkl -o FLAME_NEUTRAL.npz
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("render", help="render motion on a 3D head to an mp4 (optionally a labelled grid)",
                       description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("motions", nargs="+", metavar="MOTION", help="motion .npz file(s); several make a grid")
    p.add_argument("-o", "--output", required=True, help="output .mp4 path (written atomically)")
    p.add_argument("--audio", default=None, help="speech to mux (re-encoded to AAC, cut/padded to the video length)")
    p.add_argument("--size", type=int_in(16, 4096), default=512, help="frame width = height in pixels per motion (even)")
    p.add_argument("--head", default="procedural", help="head model: procedural | flame")
    p.add_argument("--flame-model", default=None,
                   help="FLAME model folder or .pkl/.npz (default: $STYGAZE_FLAME_MODEL) for --head flame")
    p.add_argument("--camera", default="front", help="camera preset: front | three-quarter")
    p.add_argument("--labels", default=None, help="comma-separated grid labels, one per motion (default: file names)")
    p.add_argument("--supersample", type=int_in(1, 4), default=1, help="render at N times the size and downscale (anti-aliasing, slower)")
    p.add_argument("--no-msaa", action="store_true", help="turn off 4x multisampling (about 2x faster on a CPU, jagged edges)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from stygaze.render.config import RenderConfig, RenderError, camera_preset
    from stygaze.render.video import HEADS, render_grid, render_video

    if args.motions[0] == "convert-flame":
        return convert_flame(args)
    head = str(args.head).strip().lower()
    if head not in HEADS:
        raise RenderError(f"unknown head {args.head!r}: choose one of {', '.join(HEADS)}")
    camera = camera_preset(args.camera)
    config = RenderConfig(size=args.size, camera=camera, supersample=args.supersample, msaa=not args.no_msaa)
    flame = args.flame_model or os.environ.get("STYGAZE_FLAME_MODEL") or None
    check_distinct_outputs({"-o": args.output}, {"MOTION": args.motions, "--audio": args.audio, "--flame-model": flame})
    common = dict(audio_path=args.audio, size=args.size, head=head, camera=camera, flame_model=flame,
                  progress=not args.no_progress, config=config)
    if len(args.motions) == 1 and args.labels is None:
        out = render_video(args.motions[0], args.output, **common)
    else:
        labels = None if args.labels is None else [s.strip() for s in args.labels.split(",")]
        out = render_grid(args.motions, args.output, labels=labels, **common)
    print(out)
    return 0


def convert_flame(args) -> int:
    """``stygaze render convert-flame IN -o OUT.npz``: a FLAME model as a plain .npz (restricted loader)."""
    from stygaze.render.config import RenderError
    from stygaze.render.flame_file import convert_flame as convert

    if len(args.motions) != 2:
        raise RenderError("usage: stygaze render convert-flame IN.pkl -o OUT.npz (one FLAME model file)")
    print(convert(args.motions[1], args.output))
    return 0
