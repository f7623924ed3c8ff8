"""Shared training machinery: the training loop, resumable state, distributed helpers."""
