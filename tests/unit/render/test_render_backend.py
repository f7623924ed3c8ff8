"""GL platform choice: EGL, the OSMesa fallback, and the error when neither exists."""

import subprocess
import sys

import numpy as np
import pytest

from stygaze.motion import Motion
from stygaze.render.backend import ensure_gl_platform, vertex_normals
from stygaze.geometry import look_at
from stygaze.render.heads import sphere_grid
from stygaze.render.video import render_frames

from render_helpers import flat_config


@pytest.mark.gl
def test_a_platform_is_available():
    assert ensure_gl_platform() in ("egl", "osmesa")


def test_no_platform_is_one_clear_error():
    code = (
        "import stygaze.render.backend as b\n"
        "b._PROBES = {'egl': lambda: False, 'osmesa': lambda: False}\n"
        "import os; os.environ.pop('PYOPENGL_PLATFORM', None)\n"
        "try:\n    b.ensure_gl_platform()\nexcept b.RenderError as e:\n    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("ERR no OpenGL platform") and "libegl1" in out and out.count("\n") == 1


@pytest.mark.gl
def test_osmesa_fallback_renders_like_egl(tmp_path):
    """Force OSMesa in a fresh process (the platform is fixed per process) and compare images."""
    code = (
        "import numpy as np, sys\n"
        "sys.path.insert(0, %r)\n"
        "from render_helpers import flat_config\n"
        "from stygaze.motion import Motion\n"
        "from stygaze.render.video import render_frames\n"
        "from stygaze.render.backend import ensure_gl_platform\n"
        "f = render_frames(Motion.zeros(1), size=64, config=flat_config(64))\n"
        "np.save(%r, f); print(ensure_gl_platform())\n"
    ) % (str(__import__("pathlib").Path(__file__).parent), str(tmp_path / "f.npy"))
    env = {**__import__("os").environ, "PYOPENGL_PLATFORM": "osmesa"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() in ("osmesa", "egl")  # egl only where OSMesa is missing
    other = np.load(tmp_path / "f.npy")
    here = render_frames(Motion.zeros(1), size=64, config=flat_config(64))
    diff = np.abs(other.astype(int) - here.astype(int)).max(-1)
    # EGL renders with multisampling, pyrender's OSMesa path without: only edges may differ
    assert np.mean(diff > 40) < 0.06 and diff.mean() < 6


@pytest.mark.gl
def test_msaa_off_renders_the_same_picture():
    m = Motion.zeros(1)
    on = render_frames(m, size=64, config=flat_config(64))
    cfg = flat_config(64)
    cfg.msaa = False
    off = render_frames(m, size=64, config=cfg)
    diff = np.abs(on.astype(int) - off.astype(int)).max(-1)
    assert np.mean(diff > 40) < 0.06  # only anti-aliased edges differ


@pytest.mark.gl
def test_set_view_equals_a_fresh_renderer():
    from stygaze.render.backend import SceneRenderer
    from stygaze.render.config import LightConfig, RenderConfig, camera_preset
    from stygaze.render.heads import ProceduralHead

    head = ProceduralHead(detail=0.5)
    geom = head.frame(Motion.zeros(1), 0)
    light = LightConfig(key_intensity=1.0, fill_intensity=0.0, ambient=0.5)
    with SceneRenderer(head, RenderConfig(size=48)) as r:
        front = r.render(geom)
        r.set_view(camera_preset("three-quarter"), light)
        moved = r.render(geom)
    with SceneRenderer(head, RenderConfig(size=48, camera="three-quarter", light=light)) as r:
        fresh = r.render(geom)
    np.testing.assert_array_equal(moved, fresh)
    assert np.abs(front.astype(int) - moved.astype(int)).mean() > 3


def test_normals_point_outwards():
    dirs, faces = sphere_grid(8, 12)
    n = vertex_normals(dirs, faces)
    assert np.all(np.sum(n * dirs, axis=1) > 0.9)


def test_look_at_points_minus_z_at_target():
    pose = look_at(np.array([0.0, 0.0, 2.0]), np.zeros(3))
    np.testing.assert_allclose(pose[:3, 2], [0, 0, 1])
    np.testing.assert_allclose(pose[:3, 0], [1, 0, 0])
