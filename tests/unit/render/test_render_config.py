"""Render settings: presets, validation, and the lazy package surface."""

import subprocess
import sys

import pytest

from stygaze.render.config import CAMERA_PRESETS, RenderConfig, RenderError, camera_preset


def test_presets_are_copies():
    cam = camera_preset("front")
    cam.distance = 99
    assert CAMERA_PRESETS["front"].distance != 99
    assert camera_preset("three-quarter").azimuth_deg > 0
    assert camera_preset("3/4").azimuth_deg == camera_preset("three_quarter").azimuth_deg


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 8}, "between 16 and 4096"),
    ({"supersample": 0}, "supersample"),
    ({"camera": "overhead"}, "unknown camera"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(RenderError, match=match):
        RenderConfig(**kwargs)


def test_camera_name_in_config():
    assert RenderConfig(camera="three-quarter").camera.azimuth_deg == camera_preset("three-quarter").azimuth_deg


def test_importing_render_is_light():
    code = "import sys, stygaze.render as r; r.RenderConfig(); print(sorted(m for m in ('pyrender', 'torch', 'smplx', 'OpenGL') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip() == "[]"
