"""``stygaze data features DIR``: precompute audio features for a corpus (hooked into ``stygaze data``)."""

from __future__ import annotations

import sys

from stygaze.cli.argtypes import positive_int
from stygaze.errors import DataError

DESCRIPTION = """\
Precompute the audio encoder's fixed features (no learned weights) for every session of a
corpus, once, into DIR/<session>/features/<encoder>-<hash>.npy (+ .json with the encoder id
and the audio file's size and time). Training then memory-maps them instead of recomputing
(`stygaze train generator` uses an entry when it is up to date). Up-to-date entries are
skipped, so rerunning after adding sessions only computes the new ones.

examples:
  stygaze data features runs/synhage                                  # mel features, 1 process
  stygaze data features runs/synhage --jobs 4
  stygaze data features runs/synhage --config configs/se64_wav2vec2.yaml   # the config's encoder

A session whose audio cannot be read is reported ('stygaze: failed: <session>: <reason>')
and the others go on; exit code 1 if any failed.
"""


def register(cmds, formatter) -> None:
    p = cmds.add_parser("features", help="precompute audio features for a corpus (cached, memory-mapped)",
                        description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("dir", help="corpus folder: DIR/<session>/audio.wav")
    p.add_argument("--encoder", default="mel", choices=("mel", "wav2vec2"), help="audio encoder whose fixed features are cached")
    p.add_argument("--wav2vec2-model", default=None, help="wav2vec2 weights: a local folder or an HF id in the local cache (default: the encoder's own choice, facebook/wav2vec2-base-960h)")
    p.add_argument("--config", default=None, help="take the encoder and its settings from this training YAML ('generator' section); overrides --encoder")
    p.add_argument("--jobs", type=positive_int, default=1, help="worker processes (each runs torch with 1 thread)")
    p.add_argument("--force", action="store_true", help="recompute up-to-date entries too")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=handle)


def handle(args) -> int:
    from stygaze.stygazetalk.feature_cache import precompute_features

    if args.jobs < 1:
        raise DataError(f"--jobs must be >= 1, got {args.jobs}")
    encoder, kwargs = args.encoder, {}
    if args.config:
        from stygaze.stygazetalk.train_generator import load_generator_run_config

        gen = load_generator_run_config(args.config).generator
        encoder, kwargs = gen.audio_encoder, dict(gen.audio_encoder_kwargs)
    if args.wav2vec2_model:
        if encoder != "wav2vec2":
            raise DataError("--wav2vec2-model needs --encoder wav2vec2")
        kwargs["model_name_or_path"] = args.wav2vec2_model

    def report_failure(name: str, error: str | None) -> None:
        if error:
            print(f"stygaze: failed: {name}: {error}", file=sys.stderr)

    import contextlib
    from pathlib import Path

    from stygaze.locking import folder_lock

    # not while another stygaze process (data synth, import-video) writes the corpus
    with folder_lock(args.dir) if Path(args.dir).is_dir() else contextlib.nullcontext():
        report = precompute_features(args.dir, encoder, jobs=args.jobs, force=args.force, encoder_kwargs=kwargs,
                                     progress=not args.no_progress and sys.stderr.isatty(), on_result=report_failure)
    print(f"{report.summary()} in {args.dir}")
    return 0 if report.ok else 1
