"""``stygaze train MODEL ...``: one sub-subcommand per model.

Each model's options live in ``stygaze/cli/train_<model>.py`` with
``register(subparsers, formatter)``; the heavy training code is imported by its handler.
"""

from __future__ import annotations

from stygaze.cli import available_modules

_MODELS = ("style", "generator", "cvae", "omnihead")


def register(sub, formatter) -> None:
    parser = sub.add_parser(
        "train",
        help="train a model (style encoder, generator, cVAE, OmniHead)",
        description="Train a stygaze model from a YAML config on a corpus folder. Runs are resumable: "
        "rerunning the same command continues from RUN/last.",
        formatter_class=formatter,
    )
    models = parser.add_subparsers(dest="model", metavar="MODEL")
    for module in available_modules(tuple(f"train_{name}" for name in _MODELS)):
        module.register(models, formatter)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
