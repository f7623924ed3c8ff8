"""``stygaze train generator``: the windowed motion generator (stage 2, style encoder frozen)."""

from __future__ import annotations

from stygaze.cli.train_style import add_common, overrides
from stygaze.io import check_distinct_outputs

DESCRIPTION = """\
Train the motion generator on a corpus with a frozen, pretrained style encoder.

Reads the 'generator' and 'generator_train' sections of the YAML config. Writes RUN/best
(a complete model, lowest validation loss: `stygaze generate --model RUN/best`), RUN/final
(the last epoch as a complete model, once the run has finished), RUN/last (resumable state)
and RUN/log.jsonl. Rerunning the same command resumes an interrupted run; resuming with another
config, corpus or style encoder is refused unless --force-resume.

example (the built-in model):
  stygaze train style --config configs/default.yaml --data runs/synhage --out runs/default_style
  stygaze train generator --config configs/default.yaml --data runs/synhage --out runs/default \\
      --style-encoder runs/default_style/best
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("generator", help="train the motion generator", description=DESCRIPTION, formatter_class=formatter)
    add_common(p)
    p.add_argument("--style-encoder", default=None, help="stage-1 checkpoint (RUN_STYLE/best); not needed for Base configs")
    p.set_defaults(func=handle)


def handle(args) -> int:
    import sys

    from stygaze.stygazetalk.train_generator import (
        load_generator_run_config,
        train_generator,
    )

    check_distinct_outputs({"--out": args.out}, {"--data": args.data, "--config": args.config, "--style-encoder": args.style_encoder})
    config = load_generator_run_config(args.config, overrides={"generator_train": overrides(args)})
    best = train_generator(
        config, args.data, args.out, style_encoder=args.style_encoder, progress=not args.no_progress and sys.stderr.isatty(),
        force_resume=args.force_resume,
    )
    from stygaze.training.distributed import is_rank_zero

    if is_rank_zero():  # under torchrun only rank 0 reports
        print(best)
    return 0
