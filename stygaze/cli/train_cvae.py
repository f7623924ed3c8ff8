"""``stygaze train cvae``: train the gaze → head cVAE from a YAML config on a corpus folder."""

from __future__ import annotations

from stygaze.cli.argtypes import positive_float, positive_int, seed, threads
from stygaze.cli.train_style import FORCE_RESUME_HELP, check_budget_flags
from stygaze.errors import DataError
from stygaze.io import check_distinct_outputs


def register(sub, formatter) -> None:
    parser = sub.add_parser(
        "cvae",
        help="train the gaze-conditioned head cVAE",
        description="Train the gaze → head conditional VAE (GRU encoder/decoder, learned prior, KL annealing).\n"
        "DIR holds splits.json and DIR/<session>/motion.npz (SynHAGE / OpenFace-import layout).\n"
        "RUN/best is the checkpoint to use (stygaze generate --gaze ... --cvae RUN/best); rerunning the\n"
        "same command resumes from RUN/last (another config or corpus only with --force-resume).\n\n"
        "example: stygaze train cvae --config configs/cvae.yaml --data runs/synhage --out runs/cvae",
        formatter_class=formatter,
    )
    parser.add_argument("--config", required=True, help="YAML config (configs/cvae.yaml, cvae_framewise.yaml, cvae_gru_nocontext.yaml)")
    parser.add_argument("--data", required=True, metavar="DIR", help="corpus folder with splits.json")
    parser.add_argument("--out", required=True, metavar="RUN", help="run folder (created; resumed when RUN/last exists)")
    parser.add_argument("--max-epochs", type=positive_int, default=None, help="stop after this many epochs in total (default: the config's epochs)")
    parser.add_argument("--max-minutes", type=positive_float, default=None, help="stop after the epoch that ends past this many minutes")
    parser.add_argument("--seed", type=seed, default=None, help="override the config's seed")
    parser.add_argument("--threads", type=threads, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--force-resume", action="store_true", help=FORCE_RESUME_HELP)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    import sys

    import torch

    from stygaze.config import load_config
    from stygaze.cvae.train import CVAETrainConfig, train_cvae

    check_budget_flags(args)
    check_distinct_outputs({"--out": args.out}, {"--data": args.data, "--config": args.config})
    if args.threads is not None:
        if args.threads < 1:
            raise DataError(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    cfg = load_config(CVAETrainConfig, args.config, overrides={"seed": args.seed})
    result = train_cvae(
        cfg,
        args.data,
        args.out,
        max_epochs=args.max_epochs,
        max_minutes=args.max_minutes,
        progress=not args.no_progress and sys.stderr.isatty(),
        force_resume=args.force_resume,
    )
    from stygaze.training.distributed import is_rank_zero

    if is_rank_zero():  # under torchrun only rank 0 reports
        print(f"trained {result.epochs} epochs ({result.stopped}); best val loss {result.best_val_loss:.4f}; checkpoint: {result.best_dir}")
    return 0
