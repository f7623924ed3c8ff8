"""``stygaze train omnihead``: the OmniHead recognizer on rendered SynHAGE clips."""

from __future__ import annotations

DESCRIPTION = """\
Train the OmniHead behaviour recognizer (Video-Swin encoder + task-token decoder) on
16-frame clips rendered from a SynHAGE corpus with randomised camera, lighting and colours.

DIR holds DIR/<session>/motion.npz with labelled events (gesture, saccade) and the blink
channel; DIR/splits.json is used when present, else sessions are split by --seed. Rendered
segments are cached under RUN/data/ (reused by reruns). Writes RUN/best (a checkpoint for
`stygaze eval --perceptual --recognizer RUN/best`), RUN/last (resumable; another config or
corpus only with --force-resume) and RUN/log.jsonl.

examples:
  stygaze train omnihead --config configs/omnihead_tiny.yaml --data runs/synhage --out runs/omnihead_tiny
  stygaze train omnihead --config configs/omnihead_swin_t.yaml --data runs/synhage --out runs/swin_t --device cuda
"""


from stygaze.cli.argtypes import positive_float, positive_int, seed, threads
from stygaze.cli.train_style import FORCE_RESUME_HELP, check_budget_flags
from stygaze.io import check_distinct_outputs


def register(sub, formatter) -> None:
    p = sub.add_parser("omnihead", help="train the OmniHead recognizer on rendered clips", description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("--config", default=None, help="YAML config (configs/omnihead_tiny.yaml, configs/omnihead_swin_t.yaml) (default: the tiny preset)")
    p.add_argument("--data", required=True, metavar="DIR", help="SynHAGE-layout corpus folder")
    p.add_argument("--out", "-o", required=True, metavar="RUN", help="run folder (created; resumed when RUN/last exists)")
    p.add_argument("--max-epochs", type=positive_int, default=None, help="override the config's epochs")
    p.add_argument("--max-minutes", type=positive_float, default=None, help="stop after the epoch that passes this wall time")
    p.add_argument("--seed", type=seed, default=None, help="override the config's seed")
    p.add_argument("--threads", type=threads, default=None, help="torch CPU threads (default: config, else torch's)")
    p.add_argument("--device", default=None, help="cpu, cuda or auto (default: the config's, auto)")
    p.add_argument("--force-resume", action="store_true", help=FORCE_RESUME_HELP)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=handle)


def handle(args) -> int:
    import sys

    from stygaze.data.corpus import list_sessions
    from stygaze.omnihead.train import load_train_config, train_omnihead

    check_budget_flags(args)
    check_distinct_outputs({"--out": args.out}, {"--data": args.data, "--config": args.config})
    cfg = load_train_config(
        args.config, epochs=args.max_epochs, max_minutes=args.max_minutes, seed=args.seed, num_threads=args.threads, device=args.device
    )
    list_sessions(args.data)  # fail early on a bad corpus folder
    result = train_omnihead(args.data, args.out, cfg, progress=not args.no_progress and sys.stderr.isatty(), force_resume=args.force_resume)
    from stygaze.training.distributed import is_rank_zero

    if is_rank_zero():  # under torchrun only rank 0 reports
        held = f"the final epoch (keep: last; best val loss {result.best_val_loss:.4f})" if cfg.keep == "last" else f"best val loss {result.best_val_loss:.4f}"
        print(f"trained {result.epochs} epochs in {result.seconds / 60:.1f} min; checkpoint: {result.best_dir} = {held}")
    return 0
