"""The browser viewer as static files (``stygaze serve --write-viewer DIR``).

The folder holds ``index.html``, ``viewer.js``, ``viewer.css``, the vendored three.js and
``head.glb``; any static web server can host it. Played from such a folder, the viewer
plays a motion ``.npz`` with its speech; for live streaming it connects to
``?server=ws://HOST:PORT`` (default: the page's own host, or ``ws://127.0.0.1:8765``
for a ``file://`` page).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from stygaze.io import atomic_dir
from stygaze.render.gltf import head_glb_bytes
from stygaze.serve.server import STATIC_DIR, ServeError


def write_viewer(out_dir: str | os.PathLike, overwrite: bool = False) -> Path:
    """Copy the viewer and write ``head.glb`` into ``out_dir`` (created atomically).

    Raises:
        ServeError: ``out_dir`` exists and ``overwrite`` is False.
    """

    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise ServeError(f"{out} already exists: choose a new folder for the viewer")
    with atomic_dir(out, overwrite=overwrite) as tmp:
        shutil.copytree(STATIC_DIR, tmp, dirs_exist_ok=True)
        (tmp / "head.glb").write_bytes(head_glb_bytes())
    return out
