"""The package's layer order: the one list that ``tests/test_layers.py`` checks and ``docs/architecture.md`` shows.

A module may import modules of its own layer or of lower layers, never of a higher one,
and the module import graph (function-level imports included) has no cycle. The model
families (:data:`INDEPENDENT`) share a layer but never import each other. A name with a
leading underscore is private to the area (layer entry) that defines it.

Each entry is a module or a package prefix; a module belongs to the longest entry that is
its name or a dotted prefix of it (``stygaze.eval.perceptual`` sits above ``stygaze.eval``).
The package itself (``stygaze/__init__.py``, the lazy public facade) sits at the top.
"""

from __future__ import annotations

LAYERS: tuple[tuple[str, ...], ...] = (
    ("stygaze.version", "stygaze._layers", "stygaze.errors", "stygaze.io", "stygaze.limits", "stygaze.inputs", "stygaze.locking"),
    ("stygaze.config", "stygaze.geometry", "stygaze.audio", "stygaze.checkpoint"),
    ("stygaze.motion",),
    ("stygaze.features",),
    ("stygaze.data",),
    ("stygaze.training", "stygaze.batch"),
    ("stygaze.eval",),
    ("stygaze.render",),
    ("stygaze.stygazetalk", "stygaze.cvae", "stygaze.omnihead"),
    ("stygaze.eval.perceptual",),
    ("stygaze.serve",),
    ("stygaze.cli", "stygaze.__main__", "stygaze"),
)
"""Lowest first. ``stygaze`` alone means the package's ``__init__`` (matched exactly)."""

INDEPENDENT: tuple[str, ...] = ("stygaze.stygazetalk", "stygaze.cvae", "stygaze.omnihead")
"""Entries of one layer that never import each other (the model families)."""

EXEMPT: tuple[str, ...] = (
    "stygaze._compat",
    "stygaze.pipeline",
    "stygaze.pipeline_cvae",
    "stygaze.models",
    "stygaze.data.synth",
)
"""Deprecated import paths (thin aliases of the new modules, removed in 0.3): not checked."""

ROOT = "stygaze"


def _matches(module: str, entry: str) -> bool:
    if entry == ROOT:
        return module == ROOT
    return module == entry or module.startswith(entry + ".")


def area(module: str) -> str | None:
    """The layer entry ``module`` belongs to (the longest matching one), or None."""
    best = None
    for layer in LAYERS:
        for entry in layer:
            if _matches(module, entry) and (best is None or len(entry) > len(best)):
                best = entry
    return best


def layer_of(module: str) -> int | None:
    """Index in :data:`LAYERS` of ``module`` (0 = lowest), or None when no entry covers it."""
    entry = area(module)
    if entry is None:
        return None
    return next(i for i, layer in enumerate(LAYERS) if entry in layer)


def is_exempt(module: str) -> bool:
    """True for the deprecated alias modules (:data:`EXEMPT`)."""
    return any(_matches(module, entry) for entry in EXEMPT)


def describe() -> str:
    """The layer order as one line, lowest first: ``errors, io < config, … < cli`` (as in docs/architecture.md)."""
    def short(entry: str) -> str:
        return "stygaze" if entry == ROOT else entry.removeprefix(ROOT + ".")

    return " < ".join(", ".join(short(e) for e in layer) for layer in LAYERS)

HEAVY: tuple[str, ...] = (
    "torch", "scipy", "numba", "matplotlib", "librosa", "transformers", "soundfile",
    "pyrender", "trimesh", "smplx", "imageio_ffmpeg", "OpenGL", "sklearn", "pymovements",
)
"""Third-party packages that are slow to import or optional (an extra): the only reason to
import one of the package's own modules inside a function rather than at module level."""
