"""``stygaze generate``: speech -> gaze + head motion (.npz), optionally rendered to video.

Structure (so new modes slot in without a rewrite): :func:`register` declares the options,
:func:`handle` validates them and builds a :class:`GenerateJob` per input, :func:`make_generator`
picks the model (built-in, a checkpoint folder, or ``procedural``), :func:`run_job` generates
one motion and writes it atomically, then renders it when asked. Other modes live in their
own modules listed in :func:`_extra_modes` (the gaze -> head cVAE mode: ``generate_cvae``),
each with ``add_options(parser)``, ``wanted(args)`` and ``handle(args, make_generator)``.
A batch mode over a folder builds several jobs and maps :func:`run_job` over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from stygaze.cli.argtypes import float_in, non_negative_float, positive_int, seed
from stygaze.audio import load_audio, normalize_audio
from stygaze.cli import available_modules
from stygaze.errors import AudioError, StygazeError, StyleError
from stygaze.io import check_distinct_outputs

DESCRIPTION = """\
Generate coordinated gaze and head motion (7 channels, degrees, 25 fps) from speech.

By default the motion is ready for an avatar: the generated gaze fixates and shifts like real
gaze in conversation (fixations held in the world, heavy-tailed shifts, look-aways while
speaking), the lids blink (the motion's 'blink' channel) and the jaw opens with the speech
(the 'jaw' extra, FLAME jaw_pose in radians). --raw gives the model's own output instead (the
paper's StyGazeTalk: regressed gaze and head, no blinks, no jaw).

examples:
  stygaze generate --audio talk.wav                       # -> talk.motion.npz, built-in model, neutral style
  stygaze generate --audio talk.wav --style ref.npz -o out.npz --head-scale 1.2
  stygaze generate --audio talk.wav --model realtime      # the built-in low-latency model (0.21 s streaming)
  stygaze generate --audio talk.wav --raw                 # the paper's model output, no avatar stages
  stygaze generate --audio talk.wav --model runs/se64/best --seed 3
  stygaze generate --audio talk.wav --model procedural    # the SynHAGE procedural baseline
  stygaze generate --audio talks/ -o motions/ --jobs 2    # batch: every audio file in talks/
  stygaze generate --audio 'talks/**/*.wav' -o motions/   # batch: a glob (quote it)

--style takes a motion clip (.npz with 'motion', >= 2 s) or a style vector saved by
`stygaze extract-style` with the same model.

batch mode (--audio is a folder or a glob): the model is loaded once per process, one
<stem>.motion.npz per input is written to OUTDIR (default: next to each input), outputs
that already exist are skipped (rerun to finish an interrupted batch), a file that fails
is reported on stderr as 'stygaze: failed: <file>: <reason>' and the batch goes on; a
summary line ends the run; the exit code is 1 if any file failed. stdout lists the
outputs written. --jobs N runs N worker processes (torch single-threaded each: use about one per core).
"""


@dataclass
class GenerateJob:
    """One input -> one output."""

    audio: Path
    out: Path
    render: Path | None = None


def register(sub, formatter) -> None:
    p = sub.add_parser("generate", help="speech -> gaze and head motion (.npz)", description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("--audio", default=None, help="speech file (wav/flac/mp3/ogg, any rate, mono or stereo), or a folder / quoted glob for a batch; required except with --gaze")
    p.add_argument("--style", default=None, help="style: a motion clip .npz or a saved style vector .npz (default: the model's neutral style)")
    p.add_argument("-o", "--out", default=None, help="output motion .npz, or the output folder in batch mode (default: <audio stem>.motion.npz next to the audio)")
    p.add_argument("--model", default=None, help="checkpoint folder, a training run folder, 'realtime' (the built-in low-latency model) "
                   "or 'procedural' (default: the built-in model)")
    p.add_argument("--head-scale", type=non_negative_float, default=1.0, help="head motion amplitude around the mean pose")
    p.add_argument("--gaze-scale", type=non_negative_float, default=1.0, help="eye motion amplitude around the mean pose")
    p.add_argument("--raw", action="store_true", help="the model's output without avatar stages: no gaze events, blinks or jaw (the paper's StyGazeTalk)")
    p.add_argument("--no-blinks", action="store_true", help="no blink stage (no 'blink' channel)")
    p.add_argument("--no-jaw", action="store_true", help="no jaw stage (no 'jaw' extra: the mouth stays closed)")
    p.add_argument("--no-gaze-events", action="store_true", help="no gaze-event stage: the model's regressed gaze (blinks and jaw stay on)")
    p.add_argument("--no-style-match", action="store_true",
                   help="with --style: keep the generator's head as it is instead of scaling it to the reference's amplitude and speed")
    p.add_argument("--no-beat-align", action="store_true",
                   help="keep the generator's timing instead of retiming head movements to end on the speech beats "
                   "(off anyway with --raw)")
    p.add_argument(
        "--saccades",
        action="store_true",
        help="the gaze-event stage (on by default; with --raw: the model's output plus gaze events only; "
        "docs/model-stygazetalk.md)",
    )
    p.add_argument("--seed", type=seed, default=None, help="seed for the starting pose (default: neutral start, deterministic)")
    p.add_argument("--temperature", type=float_in(0.0, 10.0), default=None,
                   help="scale of the latent draws (default: the model's; lower = calmer head and steadier raw gaze)")
    p.add_argument("--render", default=None, metavar="OUT.mp4", help="also render a video with the audio (needs the render extra)")
    p.add_argument("--jobs", type=positive_int, default=1, help="batch mode: worker processes, each running torch single-threaded (about one per core is fastest)")
    p.add_argument("--overwrite", action="store_true", help="batch mode: regenerate outputs that already exist (default: skip them)")
    for mode in _extra_modes():
        mode.add_options(p)
    p.set_defaults(func=handle)


def _extra_modes() -> list:
    """Optional generation modes living in their own modules (``add_options``, ``wanted``, ``handle``)."""
    return available_modules(("generate_cvae",))


def default_output(audio: Path) -> Path:
    """``talk.wav`` -> ``talk.motion.npz`` next to it."""
    return audio.with_name(f"{audio.stem}.motion.npz")


def avatar_options(args) -> dict:
    """The CLI's stage flags as keyword arguments of :meth:`StyGazeTalk.generate`."""
    raw = bool(getattr(args, "raw", False))
    no_gaze, no_blinks, no_jaw = (bool(getattr(args, k, False)) for k in ("no_gaze_events", "no_blinks", "no_jaw"))
    saccades = bool(getattr(args, "saccades", False))
    if saccades and no_gaze:
        raise StygazeError("--saccades and --no-gaze-events contradict each other: keep one")
    if raw and (no_blinks or no_jaw or no_gaze):
        raise StygazeError("--raw already switches every avatar stage off: drop --no-blinks/--no-jaw/--no-gaze-events")
    return {"raw": raw, "saccades": True if saccades else (False if no_gaze else None), "blinks": not no_blinks, "jaw": not no_jaw,
            "match_style": not bool(getattr(args, "no_style_match", False)), "temperature": getattr(args, "temperature", None),
            "beat_align": False if getattr(args, "no_beat_align", False) else None}


def make_generator(model: str | None, saccades: bool = False, options: dict | None = None) -> Callable:
    """Return ``fn(audio_path, style, seed, head_scale, gaze_scale) -> Motion``.

    ``options``: :func:`avatar_options` (default: every avatar stage on); ``saccades=True``
    is the older spelling of ``options["saccades"] = True``.
    """
    opts = dict(options or {"raw": False, "saccades": None, "blinks": True, "jaw": True})
    if saccades:
        opts["saccades"] = True
    if model == "procedural":
        def procedural(audio_path, style, seed, head_scale, gaze_scale):
            try:
                from stygaze.data.procedural import procedural_generate
            except ImportError as exc:
                raise StygazeError("the procedural model (stygaze.data.procedural) is not available in this installation") from exc
            if style is not None:
                raise StygazeError("--style is not used by --model procedural: drop it")
            if head_scale != 1.0 or gaze_scale != 1.0:
                raise StygazeError("--head-scale/--gaze-scale are not supported with --model procedural")
            if opts.get("temperature") is not None:
                raise StygazeError("--temperature is not used by --model procedural: drop it")
            if opts.get("beat_align") is False:
                raise StygazeError("--no-beat-align is not used by --model procedural (its timing comes from the simulation): drop it")
            if opts["saccades"] is not None or opts["raw"] or not opts["blinks"]:
                raise StygazeError("--saccades/--no-gaze-events/--raw/--no-blinks are not used by --model procedural "
                                   "(its gaze and blinks come from the simulation): drop them")
            samples = load_audio(audio_path, normalize=False)
            motion = procedural_generate(normalize_audio(samples), style=None, seed=seed)
            if opts["jaw"]:  # the same speaking mouth as the learned models
                from stygaze.features.voice import voice_activity
                from stygaze.stygazetalk.avatar import AvatarConfig, apply_avatar_stages

                jaw_only = AvatarConfig(gaze=None, blinks=None)
                motion.extras["jaw"] = apply_avatar_stages(motion.data, voice_activity(samples, frames=len(motion)), jaw_only).jaw
            return motion

        return procedural

    from stygaze.stygazetalk.pipeline import StyGazeTalk

    pipe = StyGazeTalk.from_pretrained(model)
    kwargs = {"raw": opts["raw"], "saccades": opts["saccades"], "match_style": opts.get("match_style", True),
              "temperature": opts.get("temperature"), "beat_align": opts.get("beat_align")}
    if not opts["raw"] and not (opts["blinks"] and opts["jaw"]):
        from stygaze.stygazetalk.avatar import AvatarConfig

        cfg = AvatarConfig()
        cfg.blinks = cfg.blinks if opts["blinks"] else None
        cfg.jaw = cfg.jaw if opts["jaw"] else None
        kwargs["avatar"] = cfg

    def learned(audio_path, style, seed, head_scale, gaze_scale):
        return pipe.generate(audio_path, style=style, seed=seed, head_scale=head_scale, gaze_scale=gaze_scale, **kwargs)

    return learned


def run_job(job: GenerateJob, generate: Callable, args) -> Path:
    motion = generate(job.audio, args.style, args.seed, args.head_scale, args.gaze_scale)
    motion.save(job.out)  # atomic
    if job.render is not None:
        try:
            from stygaze.render import render_video
        except ImportError as exc:
            raise StygazeError("--render needs the rendering extra: pip install 'stygaze[render]'") from exc
        render_video(motion, job.render, audio_path=job.audio)
    return job.out


def handle(args) -> int:
    import sys

    from stygaze.batch import is_batch_spec

    for mode in _extra_modes():
        if mode.wanted(args):
            return mode.handle(args, make_generator)
    if args.audio is None:
        raise AudioError("--audio is required: the speech file (or folder/glob) to generate motion for")
    if is_batch_spec(args.audio):
        return handle_batch(args)
    audio = Path(args.audio)
    if not audio.exists():
        raise AudioError(f"audio file not found: {audio}")
    if audio.is_dir():
        raise AudioError(f"--audio must be a file (got a directory: {audio})")
    if args.style is not None and not Path(args.style).exists():
        raise StyleError(f"style file not found: {args.style}")
    out = Path(args.out) if args.out else default_output(audio)
    if out.suffix != ".npz":
        raise AudioError(f"output must be a .npz file, got {out}")
    check_distinct_outputs({"-o": out, "--render": args.render}, {"--audio": audio, "--style": args.style})
    job = GenerateJob(audio, out, Path(args.render) if args.render else None)
    generate = make_generator(args.model, options=avatar_options(args))
    path = run_job(job, generate, args)
    print(path, file=sys.stdout)
    return 0


# --- batch mode: many files, one model load per process (logic in stygaze/batch.py) -----
def batch_worker(model, style, seed, head_scale, gaze_scale, saccades: bool = False, options: dict | None = None) -> Callable:
    """Load the generator once; return ``work(item)`` that writes ``item.out`` (atomic)."""
    generate = make_generator(model, saccades=saccades, options=options)

    def work(item) -> None:
        generate(item.audio, style, seed, head_scale, gaze_scale).save(item.out)

    return work


def handle_batch(args) -> int:
    from functools import partial

    from stygaze.batch import run_cli_batch

    if args.render:
        raise StygazeError("--render renders one file: drop it in batch mode and render the outputs with stygaze render")
    if args.style is not None and not Path(args.style).exists():
        raise StyleError(f"style file not found: {args.style}")
    if args.jobs < 1:
        raise StygazeError(f"--jobs must be >= 1, got {args.jobs}")
    factory = partial(batch_worker, args.model, args.style, args.seed, args.head_scale, args.gaze_scale, False, avatar_options(args))
    return run_cli_batch(args.audio, args.out, factory, jobs=args.jobs, overwrite=args.overwrite)
