"""Subcommand modules of the ``stygaze`` CLI; each exposes ``register(subparsers, formatter)``."""
