"""Headless OpenGL rendering with pyrender: EGL first, OSMesa as the fallback.

:func:`ensure_gl_platform` picks the platform before pyrender / PyOpenGL are imported
(PyOpenGL fixes its platform at import time): it honours ``PYOPENGL_PLATFORM`` when that
platform works, otherwise probes EGL (a GPU, or Mesa's llvmpipe software rasteriser on a
CPU-only machine) and then OSMesa, each with a tiny ctypes context creation that mirrors
what pyrender will do. When neither works it raises one clear :class:`RenderError`.

:class:`SceneRenderer` uploads a head model's meshes once and then, per frame, only moves
scene nodes (and re-uploads the few dynamic meshes), so one renderer is reused across all
frames of a clip.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

import numpy as np

from stygaze.geometry import angles_to_vector, look_at  # noqa: F401  (look_at re-exported)
from stygaze.render.config import CameraConfig, LightConfig, RenderConfig, RenderError
from stygaze.render.heads import FrameGeometry, HeadModel, MeshPart

log = logging.getLogger(__name__)

_NO_GL = (
    "no OpenGL platform for headless rendering: install libegl1 and libgl1-mesa-dri (EGL) "
    "or libosmesa6 (OSMesa), e.g. `apt-get install libegl1 libgl1-mesa-dri libosmesa6`"
)
_platform_cache: str | None = None


# --------------------------------------------------------------------------------------
# platform probing (ctypes only: nothing from PyOpenGL may be imported before the choice)
# --------------------------------------------------------------------------------------
def _load(names: tuple[str, ...]):
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def _probe_egl() -> bool:
    """True when an EGL device display can be initialised (as pyrender's EGL platform does)."""
    lib = _load((ctypes.util.find_library("EGL") or "libEGL.so.1", "libEGL.so.1", "libEGL.so"))
    if lib is None:
        return False
    try:
        lib.eglGetProcAddress.restype = ctypes.c_void_p
        lib.eglGetProcAddress.argtypes = [ctypes.c_char_p]
        q = lib.eglGetProcAddress(b"eglQueryDevicesEXT")
        g = lib.eglGetProcAddress(b"eglGetPlatformDisplayEXT")
        if not q or not g:
            return False
        query = ctypes.CFUNCTYPE(ctypes.c_uint, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int))(q)
        get_display = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p)(g)
        devices = (ctypes.c_void_p * 8)()
        n = ctypes.c_int(0)
        if not query(8, devices, ctypes.byref(n)) or n.value < 1:
            return False
        dpy = get_display(0x313F, devices[0], None)  # EGL_PLATFORM_DEVICE_EXT
        if not dpy:
            return False
        lib.eglInitialize.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
        major, minor = ctypes.c_int(0), ctypes.c_int(0)
        ok = bool(lib.eglInitialize(ctypes.c_void_p(dpy), ctypes.byref(major), ctypes.byref(minor)))
        if ok:
            lib.eglTerminate.argtypes = [ctypes.c_void_p]
            lib.eglTerminate(ctypes.c_void_p(dpy))
        return ok
    except Exception:  # pragma: no cover - depends on the driver
        return False


# OSMesa constants from GL/osmesa.h
_OSMESA_ATTRS = (0x22, 0x1908, 0x30, 24, 0x33, 0x34, 0x36, 3, 0x37, 3, 0)
# FORMAT=RGBA, DEPTH_BITS=24, PROFILE=CORE, CONTEXT_MAJOR=3, CONTEXT_MINOR=3


def _osmesa_create(lib, attrs=_OSMESA_ATTRS):
    fn = lib.OSMesaCreateContextAttribs
    fn.restype = ctypes.c_void_p
    fn.argtypes = [ctypes.POINTER(ctypes.c_int), ctypes.c_void_p]
    return fn((ctypes.c_int * len(attrs))(*attrs), None)


def _probe_osmesa() -> bool:
    lib = _load((ctypes.util.find_library("OSMesa") or "libOSMesa.so.8", "libOSMesa.so.8", "libOSMesa.so"))
    if lib is None or not hasattr(lib, "OSMesaCreateContextAttribs"):
        return False
    try:
        ctx = _osmesa_create(lib)
        if not ctx:
            return False
        lib.OSMesaDestroyContext.argtypes = [ctypes.c_void_p]
        lib.OSMesaDestroyContext(ctypes.c_void_p(ctx))
        return True
    except Exception:  # pragma: no cover
        return False


_PROBES = {"egl": _probe_egl, "osmesa": _probe_osmesa}


def ensure_gl_platform() -> str:
    """Choose and set ``PYOPENGL_PLATFORM`` (``"egl"`` or ``"osmesa"``) before PyOpenGL loads.

    Returns:
        the platform name in use.

    Raises:
        RenderError: no headless OpenGL platform works (names the packages to install), or
            PyOpenGL was already imported for another platform.
    """
    global _platform_cache
    if _platform_cache is not None:
        return _platform_cache
    requested = os.environ.get("PYOPENGL_PLATFORM", "").strip().lower()
    if "OpenGL" in sys.modules or "OpenGL.platform" in sys.modules:
        # PyOpenGL is already loaded: its platform is fixed for this process.
        if requested not in _PROBES:
            raise RenderError(
                "PyOpenGL was imported before stygaze.render chose a headless platform: "
                "set PYOPENGL_PLATFORM=egl (or osmesa) before importing OpenGL/pyrender"
            )
        _platform_cache = requested
        return requested
    order = [requested] if requested in _PROBES else []
    order += [p for p in ("egl", "osmesa") if p not in order]
    for name in order:
        if _PROBES[name]():
            if requested and name != requested:
                log.warning("PYOPENGL_PLATFORM=%s does not work here; using %s", requested, name)
            os.environ["PYOPENGL_PLATFORM"] = name
            _platform_cache = name
            return name
    raise RenderError(_NO_GL)


def _single_sample_framebuffer(renderer) -> None:
    """Make a pyrender ``Renderer`` draw without multisampling (pyrender hard-codes 4x MSAA).

    Its main framebuffer is created on the first render; we create it first, with
    1-sample renderbuffers in the "multisample" slots, so pyrender's resolve blit becomes a
    plain copy. Halves the fragment work on Mesa's CPU rasteriser.
    """
    from OpenGL import GL as gl

    w, h = renderer.viewport_width, renderer.viewport_height
    renderer._main_cb, renderer._main_db, renderer._main_cb_ms, renderer._main_db_ms = gl.glGenRenderbuffers(4)
    renderer._main_fb, renderer._main_fb_ms = gl.glGenFramebuffers(2)
    for fb, cb, db in ((renderer._main_fb, renderer._main_cb, renderer._main_db),
                       (renderer._main_fb_ms, renderer._main_cb_ms, renderer._main_db_ms)):
        gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, cb)
        gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, gl.GL_RGBA, w, h)
        gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, db)
        gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, gl.GL_DEPTH_COMPONENT24, w, h)
        gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, fb)
        gl.glFramebufferRenderbuffer(gl.GL_DRAW_FRAMEBUFFER, gl.GL_COLOR_ATTACHMENT0, gl.GL_RENDERBUFFER, cb)
        gl.glFramebufferRenderbuffer(gl.GL_DRAW_FRAMEBUFFER, gl.GL_DEPTH_ATTACHMENT, gl.GL_RENDERBUFFER, db)
    renderer._main_fb_dims = (w, h)


def _make_offscreen(width: int, height: int, platform: str, msaa: bool = True):
    """A pyrender ``OffscreenRenderer`` for ``platform`` (OSMesa through our own context setup).

    pyrender's OSMesa platform needs PyOpenGL ≥ 3.1.5 names; this creates the core-profile
    context with ctypes instead and patches PyOpenGL 3.1.0's unhashable context handle.
    OSMesa renders without framebuffer objects, hence without multisampling.
    """
    import pyrender

    if platform != "osmesa":
        offscreen = pyrender.OffscreenRenderer(width, height)
        if not msaa:
            _single_sample_framebuffer(offscreen._renderer)
        return offscreen

    from pyrender.platforms.osmesa import OSMesaPlatform

    class _OSMesa(OSMesaPlatform):
        def init_context(self):
            import OpenGL.platform as glp
            from OpenGL import arrays
            from OpenGL.raw.osmesa._types import OSMesaContext

            lib = glp.PLATFORM.GL
            ctx = _osmesa_create(lib)
            if not ctx:
                raise RenderError(_NO_GL)
            current = lib.OSMesaGetCurrentContext
            current.restype = ctypes.c_void_p
            glp.GetCurrentContext = current  # hashable handles (PyOpenGL 3.1.0 returns a pointer)
            glp.PLATFORM.GetCurrentContext = current
            self._context = ctypes.cast(ctx, OSMesaContext)
            self._buffer = arrays.GLubyteArray.zeros((self.viewport_height, self.viewport_width, 4))

    class _Offscreen(pyrender.OffscreenRenderer):
        def _create(self):
            from pyrender.renderer import Renderer

            self._platform = _OSMesa(self.viewport_width, self.viewport_height)
            self._platform.init_context()
            self._platform.make_current()
            self._renderer = Renderer(self.viewport_width, self.viewport_height)

    return _Offscreen(width, height)


# --------------------------------------------------------------------------------------
# shaders: a light Lambert + Blinn-Phong pair replacing pyrender's PBR mesh shaders
# --------------------------------------------------------------------------------------
# pyrender's PBR fragment shader is ~5x slower than flat shading on Mesa's CPU rasteriser,
# and it treats vertex colours as linear (washed-out skin). These shaders keep pyrender's
# uniform interface (lights, material, camera), decode sRGB vertex colours to linear,
# light them (diffuse / pi as in pyrender, plus a Blinn-Phong highlight whose sharpness
# follows the roughness, per vertex in texcoord_0.x) and encode back to sRGB. Normals use the rotation part
# of the model matrix: every transform here is rigid.
_MESH_VERT = """#version 330 core
layout(location = 0) in vec3 position;
#ifdef NORMAL_LOC
layout(location = NORMAL_LOC) in vec3 normal;
#endif
#ifdef TEXCOORD_0_LOC
layout(location = TEXCOORD_0_LOC) in vec2 texcoord_0;
#endif
#ifdef COLOR_0_LOC
layout(location = COLOR_0_LOC) in vec4 color_0;
#endif
layout(location = INST_M_LOC) in mat4 inst_m;
uniform mat4 M;
uniform mat4 V;
uniform mat4 P;
out vec3 frag_position;
out vec3 frag_normal;
out vec4 color_multiplier;
out float frag_roughness;
void main()
{
    mat4 MI = M * inst_m;
    vec4 world = MI * vec4(position, 1.0);
    gl_Position = P * V * world;
    frag_position = world.xyz;
#ifdef NORMAL_LOC
    frag_normal = mat3(MI) * normal;
#else
    frag_normal = vec3(0.0, 0.0, 1.0);
#endif
#ifdef COLOR_0_LOC
    color_multiplier = color_0;
#else
    color_multiplier = vec4(1.0);
#endif
#ifdef TEXCOORD_0_LOC
    frag_roughness = texcoord_0.x;  // per-vertex roughness (stygaze packs it here)
#else
    frag_roughness = -1.0;
#endif
}
"""

_MESH_FRAG = """#version 330 core
struct DirectionalLight {
    vec3 color;
    float intensity;
    vec3 direction;
};
struct Material {
    vec3 emissive_factor;
    vec4 base_color_factor;
    float metallic_factor;
    float roughness_factor;
};
uniform Material material;
uniform DirectionalLight directional_lights[MAX_DIRECTIONAL_LIGHTS];
uniform int n_directional_lights;
uniform vec3 cam_pos;
uniform vec3 ambient_light;
in vec3 frag_position;
in vec3 frag_normal;
in vec4 color_multiplier;
in float frag_roughness;
out vec4 frag_color;
const float PI = 3.141592653589793;
void main()
{
    vec4 base = material.base_color_factor * color_multiplier;
    vec3 albedo = pow(base.rgb, vec3(2.2));
    vec3 n = normalize(frag_normal);
    vec3 v = normalize(cam_pos - frag_position);
    float r = clamp(frag_roughness >= 0.0 ? frag_roughness : material.roughness_factor, 0.05, 1.0);
    float shininess = 2.0 / (r * r * r * r) - 2.0;
    float ks = 0.35 * (1.0 - r) * (1.0 - r);
    vec3 color = albedo * ambient_light;
    for (int i = 0; i < n_directional_lights; i++) {
        vec3 l = normalize(-directional_lights[i].direction);
        vec3 radiance = directional_lights[i].intensity * directional_lights[i].color;
        float nl = max(dot(n, l), 0.0);
        vec3 h = normalize(l + v);
        float spec = nl > 0.0 ? ks * pow(max(dot(n, h), 0.0), shininess) : 0.0;
        color += radiance * (albedo / PI * nl + vec3(spec) * nl);
    }
    frag_color = clamp(vec4(pow(color, vec3(1.0 / 2.2)), base.a), 0.0, 1.0);
}
"""


def _install_shaders(offscreen) -> str:
    """Point ``offscreen``'s shader cache at a folder with our mesh shaders; returns the folder."""
    import shutil
    import tempfile

    import pyrender
    from pyrender.shader_program import ShaderProgramCache

    folder = tempfile.mkdtemp(prefix="stygaze_shaders_")
    src = os.path.join(os.path.dirname(pyrender.__file__), "shaders")
    for name in os.listdir(src):
        shutil.copy(os.path.join(src, name), folder)
    with open(os.path.join(folder, "mesh.vert"), "w") as fh:
        fh.write(_MESH_VERT)
    with open(os.path.join(folder, "mesh.frag"), "w") as fh:
        fh.write(_MESH_FRAG)
    offscreen._renderer._program_cache = ShaderProgramCache(shader_dir=folder)
    return folder


# --------------------------------------------------------------------------------------
# the scene
# --------------------------------------------------------------------------------------
def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals ``(V, 3)`` float32 for ``vertices`` (V, 3), ``faces`` (F, 3)."""
    v = np.asarray(vertices, dtype=np.float64)
    tri = v[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, faces[:, k], fn)
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    n = np.divide(n, norm, out=np.zeros_like(n), where=norm > 0)
    return n.astype(np.float32)


class _Group:
    """Parts drawn as one primitive: vertices posed on the CPU, roughness per vertex."""

    def __init__(self, parts: list[MeshPart]):
        self.parts = parts
        sizes = [len(p.vertices) for p in parts]
        self.slices = []
        start = 0
        for n in sizes:
            self.slices.append(slice(start, start + n))
            start += n
        self.n = start
        self.faces = np.concatenate([p.faces + sl.start for p, sl in zip(parts, self.slices)]).astype(np.uint32)
        colors = np.concatenate([np.clip(p.colors, 0, 1) for p in parts]).astype(np.float32)
        self.colors = np.concatenate([colors, np.ones((self.n, 1), np.float32)], 1)
        self.roughness = np.zeros((self.n, 2), np.float32)
        for p, sl in zip(parts, self.slices):
            self.roughness[sl, 0] = p.roughness
        self.normals = [vertex_normals(p.vertices, p.faces) for p in parts]
        self.positions = np.empty((self.n, 3), np.float32)
        self.normal_buf = np.empty((self.n, 3), np.float32)
        self.node = None

    def pose(self, geometry: FrameGeometry) -> None:
        """Fill :attr:`positions` / :attr:`normal_buf` with the parts posed in the world."""
        for part, sl, n0 in zip(self.parts, self.slices, self.normals):
            verts = geometry.vertices.get(part.name)
            normals = n0
            if verts is None:
                verts = part.vertices
            else:
                normals = vertex_normals(verts, part.faces)
            P = geometry.poses.get(part.name)
            if P is None:
                self.positions[sl] = verts
                self.normal_buf[sl] = normals
            else:
                R = P[:3, :3].astype(np.float32)
                self.positions[sl] = verts @ R.T + P[:3, 3].astype(np.float32)
                self.normal_buf[sl] = normals @ R.T


class SceneRenderer:
    """Renders :class:`FrameGeometry` of one head model; reuse it for every frame.

    All parts are drawn as one primitive whose vertices are posed with numpy per frame
    (roughness travels per vertex): with Mesa's CPU rasteriser pyrender's per-primitive
    Python overhead costs more than re-sending ~40k vertices, so one primitive is fastest.

    Args:
        head: the head model.
        config: image size, camera, lights, background (copied; see :meth:`set_view`).

    Use as a context manager or call :meth:`close` (frees the GL context). To render many
    clips, keep one renderer and feed it each clip's geometry::

        with SceneRenderer(head, cfg) as r:
            for clip in clips:
                r.set_view(CameraConfig(azimuth_deg=rng.uniform(-30, 30)))
                frames = np.stack([r.render(g) for g in head.frames(clip)])
    """

    def __init__(self, head: HeadModel, config: RenderConfig | None = None):
        from dataclasses import replace

        self.config = replace(config) if config is not None else RenderConfig()
        self.platform = ensure_gl_platform()
        import pyrender

        self._pyrender = pyrender
        cfg = self.config
        self.head = head
        px = cfg.size * cfg.supersample
        bg = list(cfg.colors.background) + [1.0]
        self.scene = pyrender.Scene(bg_color=bg, ambient_light=[cfg.light.ambient] * 3)
        self._group = _Group(list(head.parts()))
        self._material = pyrender.MetallicRoughnessMaterial(
            baseColorFactor=[1.0, 1.0, 1.0, 1.0], metallicFactor=0.0, roughnessFactor=0.6
        )
        self._camera_node = self.scene.add(pyrender.PerspectiveCamera(yfov=0.5, znear=0.05, zfar=10.0, aspectRatio=1.0))
        self._light_nodes = [self.scene.add(pyrender.DirectionalLight()) for _ in range(3)]
        self.set_view(cfg.camera, cfg.light)
        try:
            self._renderer = _make_offscreen(px, px, self.platform, msaa=cfg.msaa)
        except RenderError:
            raise
        except Exception as exc:
            raise RenderError(f"{_NO_GL} ({type(exc).__name__}: {exc})".splitlines()[0]) from exc
        self._shader_dir = _install_shaders(self._renderer)
        self._flags = pyrender.RenderFlags.FLAT if cfg.flat else pyrender.RenderFlags.NONE

    def set_view(self, camera: CameraConfig | None = None, light: LightConfig | None = None) -> None:
        """Move the camera and/or change the lights without a new GL context.

        Lights ride with the camera (their azimuths are relative to it), so a three-quarter
        view keeps the same portrait lighting. Use this to randomise views per clip.
        """
        cfg = self.config
        if camera is not None:
            cfg.camera = camera
        if light is not None:
            cfg.light = light
        cam, li = cfg.camera, cfg.light
        target = np.asarray(cam.target, dtype=float)
        self._camera_node.camera.yfov = float(np.deg2rad(cam.yfov_deg))
        eye = target + cam.distance * angles_to_vector(cam.elevation_deg, cam.azimuth_deg)
        self.scene.set_pose(self._camera_node, look_at(eye, target))
        specs = (
            (li.key_intensity, li.key_azimuth_deg, li.key_elevation_deg),
            (li.fill_intensity, li.fill_azimuth_deg, li.fill_elevation_deg),
            (li.rim_intensity, li.rim_azimuth_deg, li.rim_elevation_deg),
        )
        for node, (intensity, az, el) in zip(self._light_nodes, specs):
            node.light.intensity = float(max(intensity, 0.0))
            node.light.color = np.asarray(li.color, dtype=np.float64)
            src = target + angles_to_vector(el, az + cam.azimuth_deg)
            self.scene.set_pose(node, look_at(src, target))
        self.scene.ambient_light = np.full(3, float(li.ambient))

    def render(self, geometry: FrameGeometry) -> np.ndarray:
        """One frame: ``(size, size, 3)`` uint8 RGB."""
        pr = self._pyrender
        group = self._group
        group.pose(geometry)
        prim = pr.Primitive(
            positions=group.positions,
            normals=group.normal_buf,
            texcoord_0=group.roughness,
            color_0=group.colors,
            indices=group.faces,
            material=self._material,
            mode=4,  # GL_TRIANGLES
        )
        if group.node is not None:
            self.scene.remove_node(group.node)
        group.node = self.scene.add(pr.Mesh([prim]))
        color, _ = self._renderer.render(self.scene, flags=self._flags)
        img = np.asarray(color[..., :3])
        ss = self.config.supersample
        if ss > 1:
            s = self.config.size
            img = img.reshape(s, ss, s, ss, 3).mean(axis=(1, 3)).round().astype(np.uint8)
        return np.ascontiguousarray(img, dtype=np.uint8)

    def close(self) -> None:
        if getattr(self, "_renderer", None) is not None:
            try:
                self._renderer.delete()
            finally:
                self._renderer = None
        if getattr(self, "_shader_dir", None):
            import shutil

            shutil.rmtree(self._shader_dir, ignore_errors=True)
            self._shader_dir = None

    def __enter__(self) -> SceneRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # pragma: no cover
        try:
            self.close()
        except Exception:
            pass
