"""Rendering and avatar exports.

* Head models (:mod:`stygaze.render.heads`, :mod:`stygaze.render.flame`): the built-in
  :class:`ProceduralHead` and :class:`FlameHead` on the user's own FLAME model.
* Backend (:mod:`stygaze.render.backend`): pyrender offscreen on EGL, OSMesa fallback.
* Video (:mod:`stygaze.render.video`): :func:`render_frames`, :func:`render_video`,
  :func:`render_grid` (H.264 mp4 with AAC audio).
* Exports (:mod:`stygaze.render.exports`): FLAME pose parameters, ARKit CSV, BVH.

Importing this package is cheap: pyrender, smplx and torch load only when used.
"""

from __future__ import annotations

import importlib

from stygaze.render.config import (
    CAMERA_PRESETS,
    CameraConfig,
    HeadColors,
    LightConfig,
    RenderConfig,
    RenderError,
    camera_preset,
)
from stygaze.render.heads import FrameGeometry, HeadModel, MeshPart, ProceduralHead

_LAZY = {
    "render_frames": "stygaze.render.video",
    "render_video": "stygaze.render.video",
    "render_grid": "stygaze.render.video",
    "iter_frames": "stygaze.render.video",
    "make_head": "stygaze.render.video",
    "SceneRenderer": "stygaze.render.backend",
    "ensure_gl_platform": "stygaze.render.backend",
    "FlameHead": "stygaze.render.flame",
    "FlameModelError": "stygaze.render.flame",
    "export_motion": "stygaze.render.exports",
    "export_flame": "stygaze.render.exports",
    "export_arkit": "stygaze.render.exports",
    "export_bvh": "stygaze.render.exports",
    "flame_pose_params": "stygaze.render.exports",
    "arkit_coefficients": "stygaze.render.exports",
    "ArkitMapping": "stygaze.render.exports",
}

__all__ = [
    "CAMERA_PRESETS",
    "CameraConfig",
    "FrameGeometry",
    "HeadColors",
    "HeadModel",
    "LightConfig",
    "MeshPart",
    "ProceduralHead",
    "RenderConfig",
    "RenderError",
    "camera_preset",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stygaze.render' has no attribute {name!r}")
