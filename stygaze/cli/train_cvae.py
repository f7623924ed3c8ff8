"""``stygaze train cvae``: train the gaze → head cVAE from a YAML config on a corpus folder."""

from __future__ import annotations

from stygaze.errors import DataError


def register(sub, formatter) -> None:
    parser = sub.add_parser(
        "cvae",
        help="train the gaze-conditioned head cVAE",
        description="Train the gaze → head conditional VAE (GRU encoder/decoder, learned prior, KL annealing).\n"
        "DIR holds splits.json and DIR/<session>/motion.npz (SynHAGE / OpenFace-import layout).\n"
        "RUN/best is the checkpoint to use (stygaze generate --gaze ... --cvae RUN/best); rerunning the\n"
        "same command resumes from RUN/last.\n\n"
        "example: stygaze train cvae --config configs/cvae.yaml --data runs/synhage --out runs/cvae",
        formatter_class=formatter,
    )
    parser.add_argument("--config", required=True, help="YAML config (configs/cvae.yaml, cvae_framewise.yaml, cvae_gru_nocontext.yaml)")
    parser.add_argument("--data", required=True, metavar="DIR", help="corpus folder with splits.json")
    parser.add_argument("--out", required=True, metavar="RUN", help="run folder (created; resumed when RUN/last exists)")
    parser.add_argument("--max-epochs", type=int, default=None, help="stop after this many epochs in total (default: the config's epochs)")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop after the epoch that ends past this many minutes")
    parser.add_argument("--seed", type=int, default=None, help="override the config's seed")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    import dataclasses
    import sys

    import torch

    from stygaze.cvae.train import load_train_config, train_cvae

    if args.max_epochs is not None and args.max_epochs < 1:
        raise DataError(f"--max-epochs must be at least 1, got {args.max_epochs}")
    if args.max_minutes is not None and args.max_minutes <= 0:
        raise DataError(f"--max-minutes must be positive, got {args.max_minutes}")
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_train_config(args.config)
    if args.seed is not None:
        cfg = dataclasses.replace(cfg, seed=args.seed)
    result = train_cvae(
        cfg,
        args.data,
        args.out,
        max_epochs=args.max_epochs,
        max_minutes=args.max_minutes,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    from stygaze.training.distributed import is_rank_zero

    if is_rank_zero():  # under torchrun only rank 0 reports
        print(f"trained {result.epochs} epochs ({result.stopped}); best val loss {result.best_val:.4f}; checkpoint: {result.best_path}")
    return 0
