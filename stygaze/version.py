"""The package version, in one place: ``stygaze.__version__``, the wheel's version (pyproject) and checkpoints' metadata."""

__version__ = "0.2.0"
