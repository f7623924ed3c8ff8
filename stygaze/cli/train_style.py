"""``stygaze train style``: contrastive pretraining of the style encoder (stage 1)."""

from __future__ import annotations

DESCRIPTION = """\
Pretrain the style encoder with NT-Xent on a corpus (two windows of a session = positive pair).

Reads the 'style_encoder' and 'style_train' sections of the YAML config. Writes RUN/best
(the checkpoint for `stygaze train generator --style-encoder`), RUN/last (resumable state)
and RUN/log.jsonl. Rerunning the same command resumes an interrupted run.

example:
  stygaze train style --config configs/default.yaml --data runs/synhage --out runs/default_style
"""


def add_common(p) -> None:
    p.add_argument("--config", required=True, help="YAML config (see configs/)")
    p.add_argument("--data", required=True, help="corpus folder: <session>/{audio.wav,motion.npz} + splits.json")
    p.add_argument("--out", "-o", required=True, help="run folder (created; resumed when it has RUN/last)")
    p.add_argument("--max-epochs", type=int, default=None, help="override the config's max_epochs")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after the epoch that passes this wall time")
    p.add_argument("--seed", type=int, default=None, help="override the config's seed")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: config, else torch's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def apply_overrides(tc, args) -> None:
    for name in ("max_epochs", "max_minutes", "seed", "threads"):
        value = getattr(args, name)
        if value is not None:
            setattr(tc, name, value)


def register(sub, formatter) -> None:
    p = sub.add_parser("style", help="pretrain the contrastive style encoder", description=DESCRIPTION, formatter_class=formatter)
    add_common(p)
    p.set_defaults(func=handle)


def handle(args) -> int:
    import sys

    from stygaze.stygazetalk.train_style import load_style_run_config, train_style

    config = load_style_run_config(args.config)
    apply_overrides(config.style_train, args)
    best = train_style(config, args.data, args.out, progress=not args.no_progress and sys.stderr.isatty())
    from stygaze.training.distributed import is_rank_zero

    if is_rank_zero():  # under torchrun only rank 0 reports
        print(best)
    return 0
