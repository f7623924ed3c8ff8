"""The gaze → head (cVAE) mode of ``stygaze generate`` (hooked into ``generate.py`` by two calls).

* ``stygaze generate --gaze gaze.npz [--samples K] [--seed n] -o OUT.npz``: head motion for an
  existing gaze track.
* ``stygaze generate --audio talk.wav --head cvae [--samples K]``: speech → gaze (StyGazeTalk,
  ``--model``/``--style`` as usual) → head from the cVAE conditioned on that gaze.

The output keeps the input's world gaze (eye-in-head is recomputed for the new head); ``motion``
(T, 7) is the first sample and ``samples`` (K, T, 7) holds all K. Library code:
:func:`stygaze.cvae.pipeline.generate_heads`.
"""

from __future__ import annotations

from pathlib import Path

from stygaze.cli.argtypes import int_in, non_negative_int
from stygaze.cvae.gaze import DEFAULT_MAX_GAP
from stygaze.errors import AudioError, MotionFormatError, StygazeError
from stygaze.io import check_distinct_outputs
from stygaze.limits import MAX_SAMPLES
from stygaze.motion import Motion

EPILOG = """\
gaze -> head (cVAE):
  stygaze generate --gaze gaze.npz --samples 5 --seed 1 -o out.npz   # 5 head tracks for this gaze
  stygaze generate --audio talk.wav --head cvae -o out.npz           # speech -> gaze -> cVAE head
NaN gaps in the gaze up to --max-gap frames are bridged by interpolation (the eyes stay NaN
there); longer gaps are refused: split the file or raise --max-gap.
"""


def add_options(parser) -> None:
    """Add the cVAE options to the ``generate`` parser."""
    g = parser.add_argument_group("gaze -> head (cVAE)")
    g.add_argument("--gaze", default=None, metavar="GAZE.npz", help="gaze motion .npz: generate head motion for this gaze with the cVAE (instead of --audio)")
    g.add_argument("--head", choices=("model", "cvae"), default="model", help="with --audio: the head from the speech model, or from the cVAE conditioned on the generated gaze")
    g.add_argument("--samples", type=int_in(1, MAX_SAMPLES), default=1, help="K cVAE head samples; 'motion' is the first, 'samples' (K, T, 7) all of them")
    g.add_argument("--cvae", default=None, metavar="CKPT", help="cVAE checkpoint folder (default: the built-in one)")
    g.add_argument("--max-gap", type=non_negative_int, default=DEFAULT_MAX_GAP, help="longest NaN gap in the gaze that is bridged, frames at 25 fps")
    parser.epilog = (parser.epilog + "\n" if parser.epilog else "") + EPILOG


def wanted(args) -> bool:
    """True when the command asks for the cVAE mode (or uses one of its options)."""
    return (
        getattr(args, "gaze", None) is not None
        or getattr(args, "head", "model") == "cvae"
        or getattr(args, "samples", 1) != 1
        or getattr(args, "cvae", None) is not None
        or getattr(args, "max_gap", DEFAULT_MAX_GAP) != DEFAULT_MAX_GAP
    )


def handle(args, make_generator=None) -> int:
    """Run the cVAE mode; ``make_generator`` is ``generate.make_generator`` (for ``--audio``)."""
    import sys

    from stygaze.cvae.model import HeadCVAE
    from stygaze.cvae.pipeline import generate_heads, save_head_samples

    if args.gaze is None and args.head != "cvae":
        raise StygazeError("--samples/--cvae/--max-gap belong to the cVAE head: add --head cvae (with --audio) or use --gaze GAZE.npz")
    if args.samples < 1:
        raise StygazeError(f"--samples must be at least 1, got {args.samples}")
    if args.gaze is not None and args.audio is not None:
        raise StygazeError("give either --gaze (head for an existing gaze track) or --audio (speech), not both")
    if args.gaze is not None:
        gaze_path = Path(args.gaze)
        if not gaze_path.exists():
            raise MotionFormatError(f"gaze file not found: {gaze_path}")
        for flag, value, default in (("--style", args.style, None), ("--model", args.model, None), ("--head-scale", args.head_scale, 1.0), ("--gaze-scale", args.gaze_scale, 1.0)):
            if value != default:
                raise StygazeError(f"{flag} belongs to speech generation (--audio) and is not used with --gaze: drop it")
        out = Path(args.out) if args.out else gaze_path.with_name(f"{gaze_path.stem}.head.npz")
    else:
        if args.audio is None:
            raise StygazeError("--head cvae needs --audio (speech -> gaze -> head) or use --gaze GAZE.npz")
        from stygaze.batch import is_batch_spec

        if is_batch_spec(args.audio):
            raise StygazeError("--head cvae generates one file at a time: give one --audio file (batch mode is not supported with the cVAE)")
        audio = Path(args.audio)
        if not audio.exists():
            raise AudioError(f"audio file not found: {audio}")
        out = Path(args.out) if args.out else audio.with_name(f"{audio.stem}.motion.npz")
    if out.suffix != ".npz":
        raise StygazeError(f"output must be a .npz file, got {out}")
    check_distinct_outputs({"-o": out, "--render": getattr(args, "render", None)},
                           {"--gaze": args.gaze, "--audio": args.audio, "--style": args.style, "--cvae": args.cvae})
    model = HeadCVAE.from_pretrained(args.cvae)  # checkpoint errors before any slow work
    if args.gaze is not None:
        gaze_motion = Motion.load(args.gaze)
    else:
        generate = make_generator(args.model)
        gaze_motion = generate(Path(args.audio), args.style, args.seed, args.head_scale, args.gaze_scale)
    seed = 0 if args.seed is None else args.seed
    result = generate_heads(gaze_motion, model=model, num_samples=args.samples, seed=seed, max_gap=args.max_gap)
    save_head_samples(out, result)
    if getattr(args, "render", None):
        try:
            from stygaze.render import render_video
        except ImportError as exc:
            raise StygazeError("--render needs the rendering extra: pip install 'stygaze[render]'") from exc
        render_video(result.motion, args.render, audio_path=args.audio)
    print(out, file=sys.stdout)
    return 0
