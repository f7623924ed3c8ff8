"""``stygaze train style``: contrastive pretraining of the style encoder (stage 1)."""

from __future__ import annotations

from stygaze.cli.argtypes import positive_float, positive_int, seed, threads
from stygaze.errors import DataError
from stygaze.io import check_distinct_outputs

DESCRIPTION = """\
Pretrain the style encoder with NT-Xent on a corpus (two windows of a session = positive pair).

Reads the 'style_encoder' and 'style_train' sections of the YAML config. Writes RUN/best
(the checkpoint for `stygaze train generator --style-encoder`), RUN/last (resumable state)
and RUN/log.jsonl. Rerunning the same command resumes an interrupted run; resuming with another
config or corpus is refused unless --force-resume.

example:
  stygaze train style --config configs/default.yaml --data runs/synhage --out runs/default_style
"""


FORCE_RESUME_HELP = ("resume RUN/last even though it was trained with another config or corpus "
                     "(the old config is kept in RUN/run_config.json's history)")


def add_common(p) -> None:
    p.add_argument("--config", required=True, help="YAML config (see configs/)")
    p.add_argument("--data", required=True, help="corpus folder: <session>/{audio.wav,motion.npz} + splits.json")
    p.add_argument("--out", "-o", required=True, help="run folder (created; resumed when it has RUN/last)")
    p.add_argument("--max-epochs", type=positive_int, default=None, help="override the config's max_epochs")
    p.add_argument("--max-minutes", type=positive_float, default=None, help="stop after the epoch that passes this wall time")
    p.add_argument("--seed", type=seed, default=None, help="override the config's seed")
    p.add_argument("--threads", type=threads, default=None, help="torch CPU threads (default: config, else torch's)")
    p.add_argument("--force-resume", action="store_true", help=FORCE_RESUME_HELP)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def check_budget_flags(args) -> None:
    """``--max-epochs`` ≥ 1 and ``--max-minutes`` > 0 when given (one-line errors naming the flag)."""

    if args.max_epochs is not None and args.max_epochs < 1:
        raise DataError(f"--max-epochs must be at least 1, got {args.max_epochs}")
    if args.max_minutes is not None and args.max_minutes <= 0:
        raise DataError(f"--max-minutes must be positive, got {args.max_minutes}")


def overrides(args) -> dict:
    """The training-section values the command line sets (validated with the config)."""
    check_budget_flags(args)
    return {"max_epochs": args.max_epochs, "max_minutes": args.max_minutes, "seed": args.seed, "threads": args.threads}


def register(sub, formatter) -> None:
    p = sub.add_parser("style", help="pretrain the contrastive style encoder", description=DESCRIPTION, formatter_class=formatter)
    add_common(p)
    p.set_defaults(func=handle)


def handle(args) -> int:
    import sys

    from stygaze.stygazetalk.train_style import load_style_run_config, train_style

    check_distinct_outputs({"--out": args.out}, {"--data": args.data, "--config": args.config})
    config = load_style_run_config(args.config, overrides={"style_train": overrides(args)})
    best = train_style(config, args.data, args.out, progress=not args.no_progress and sys.stderr.isatty(), force_resume=args.force_resume)
    from stygaze.training.distributed import is_rank_zero

    if is_rank_zero():  # under torchrun only rank 0 reports
        print(best)
    return 0
