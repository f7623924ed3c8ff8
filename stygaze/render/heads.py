"""Head models: a motion frame → a small scene of coloured meshes with transforms.

A :class:`HeadModel` declares its parts once (:meth:`HeadModel.parts`: vertices, faces,
per-vertex colours) and then, for every motion frame, says where each part is
(:meth:`HeadModel.frames`: a 4×4 pose per part, plus new vertices for parts whose shape
changes). The backend uploads static geometry once and only moves nodes per frame, which
is what makes CPU rendering fast.

:class:`ProceduralHead` is the built-in default (no licensed asset): a stylised head with
neck, shoulders, nose, ears, brows and hair, two eyeballs with iris and pupil rotated by
the eye-in-head channels (composed with the head rotation), upper eyelids that close
with ``blink``, and a jaw that opens with the motion's ``jaw`` extra (FLAME ``jaw_pose``,
axis-angle radians; the rotation about ``x`` opens the mouth: the lower face turns about a
jaw pivot in front of the ears, blended into the cheeks, and a dark mouth opening appears
between the lips). :class:`~stygaze.render.flame.FlameHead` puts the motion on the user's
own FLAME model.

Frames follow :mod:`stygaze.motion`: ``x`` = the subject's left, ``y`` = up, ``z`` =
forward; head rotation ``R = head_rotation_matrix(pitch, yaw, roll)`` about the neck pivot
(the origin), eye rotation ``head_rotation_matrix(eye_pitch, eye_yaw, 0)`` about each
eyeball's centre. Lengths in metres.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from stygaze.geometry import head_rotation_matrix, rot_x, rotation4, translation  # noqa: F401  (re-exported)
from stygaze.motion import Motion
from stygaze.render.config import HeadColors


@dataclass
class MeshPart:
    """One mesh of a head model.

    Attributes:
        name: unique part name.
        vertices: ``(V, 3)`` float32 metres in the part's own frame.
        faces: ``(F, 3)`` int32 vertex indices, counter-clockwise seen from outside.
        colors: ``(V, 3)`` float32 RGB in 0..1.
        roughness: PBR roughness (low = glossy; eyes use it for the catch-light).
        dynamic: True when the vertices change per frame (sent in :attr:`FrameGeometry.vertices`).
    """

    name: str
    vertices: np.ndarray
    faces: np.ndarray
    colors: np.ndarray
    roughness: float = 0.7
    dynamic: bool = False


@dataclass
class FrameGeometry:
    """Where every part is in one frame.

    Attributes:
        poses: part name → ``(4, 4)`` float64 part-to-world transform.
        vertices: part name → ``(V, 3)`` new vertices, for dynamic parts only.
    """

    poses: dict[str, np.ndarray] = field(default_factory=dict)
    vertices: dict[str, np.ndarray] = field(default_factory=dict)


class HeadModel(ABC):
    """Turns motion frames into posed meshes. Subclasses: :class:`ProceduralHead`, ``FlameHead``."""

    name: str = "head"

    @abstractmethod
    def parts(self) -> list[MeshPart]:
        """The meshes, in their rest shape (called once per renderer)."""

    @abstractmethod
    def frame(self, motion: Motion, t: int) -> FrameGeometry:
        """Poses (and dynamic vertices) for frame ``t`` of ``motion``."""

    def frames(self, motion: Motion) -> Iterator[FrameGeometry]:
        """Every frame of ``motion`` in order (subclasses may batch the work)."""
        motion = fill_nan(motion)
        for t in range(len(motion)):
            yield self.frame(motion, t)

    def to_trimesh(self, motion: Motion, t: int = 0):
        """Frame ``t`` as a ``trimesh.Scene`` of coloured meshes (for inspection and export)."""
        import trimesh

        geom = self.frame(fill_nan(motion), t)
        scene = trimesh.Scene()
        for part in self.parts():
            verts = geom.vertices.get(part.name, part.vertices)
            colors = (np.clip(part.colors, 0, 1) * 255).astype(np.uint8)
            mesh = trimesh.Trimesh(verts, part.faces, vertex_colors=colors, process=False)
            scene.add_geometry(mesh, node_name=part.name, transform=geom.poses.get(part.name, np.eye(4)))
        return scene


def fill_nan(motion: Motion) -> Motion:
    """Motion with NaN (tracker loss) replaced by linear interpolation over time.

    Leading/trailing NaN hold the nearest valid value; a channel with no valid sample is 0.
    Rendering and exports use this so a lost frame shows the nearest tracked pose.
    """
    if not motion.has_nan and (motion.blink is None or not np.isnan(motion.blink).any()):
        return motion
    out = motion.copy()
    out.data = _interp_nan(out.data)
    if out.blink is not None:
        out.blink = _interp_nan(out.blink[:, None])[:, 0]
    return out


def _interp_nan(x: np.ndarray) -> np.ndarray:
    x = np.array(x, dtype=np.float32)
    t = np.arange(x.shape[0])
    for c in range(x.shape[1]):
        bad = np.isnan(x[:, c])
        if bad.all():
            x[:, c] = 0.0
        elif bad.any():
            x[bad, c] = np.interp(t[bad], t[~bad], x[~bad, c])
    return x


# --------------------------------------------------------------------------------------
# small geometry helpers
# --------------------------------------------------------------------------------------


def sphere_grid(n_lat: int, n_lon: int) -> tuple[np.ndarray, np.ndarray]:
    """A closed UV sphere with its poles on ``±z``, no seam duplicates.

    Returns:
        ``dirs`` ``(V, 3)`` unit vectors (vertex 0 = ``+z`` pole, last = ``-z`` pole) and
        ``faces`` ``(F, 3)`` int32, counter-clockwise seen from outside.
    """
    theta = np.linspace(0, np.pi, n_lat + 1)[1:-1]  # polar angle from +z, rings
    phi = np.linspace(0, 2 * np.pi, n_lon, endpoint=False)
    th, ph = np.meshgrid(theta, phi, indexing="ij")  # (n_lat-1, n_lon)
    ring = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], -1).reshape(-1, 3)
    dirs = np.concatenate([[[0, 0, 1.0]], ring, [[0, 0, -1.0]]])
    faces = []
    nr = n_lat - 1

    def idx(i, j):
        return 1 + i * n_lon + (j % n_lon)

    for j in range(n_lon):
        faces.append((0, idx(0, j), idx(0, j + 1)))
        faces.append((len(dirs) - 1, idx(nr - 1, j + 1), idx(nr - 1, j)))
    for i in range(nr - 1):
        for j in range(n_lon):
            a, b, c, d = idx(i, j), idx(i, j + 1), idx(i + 1, j), idx(i + 1, j + 1)
            faces.append((a, c, b))
            faces.append((b, c, d))
    return dirs, np.asarray(faces, dtype=np.int32)


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _gauss(p: np.ndarray, c, s) -> np.ndarray:
    d = (p - np.asarray(c)) / np.asarray(s)
    return np.exp(-0.5 * np.sum(d * d, axis=-1))


def _mix(a, b, w) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64)[..., None]
    return np.asarray(a) * (1 - w) + np.asarray(b) * w


# --------------------------------------------------------------------------------------
# the built-in head
# --------------------------------------------------------------------------------------
@dataclass
class ProceduralGeometry:
    """Dimensions of the procedural head (metres, degrees), head frame, origin = neck pivot."""

    head_center: tuple[float, float, float] = (0.0, 0.10, -0.008)
    head_radii: tuple[float, float, float] = (0.076, 0.106, 0.095)
    eye_center_x: float = 0.031
    eye_center_y: float = 0.112
    eye_radius: float = 0.0122
    iris_deg: float = 33.0
    pupil_deg: float = 13.0
    upper_lid_open_deg: float = 24.0
    lower_lid_deg: float = -30.0
    lid_pitch_follow: float = 0.6
    neck_radius: float = 0.054
    jaw_pivot: tuple[float, float, float] = (0.0, 0.09, -0.01)  # the jaw's hinge (in front of the ears)
    mouth_half_width: float = 0.021  # half the width of the mouth opening
    jaw_max_deg: float = 30.0  # jaw rotations are clamped to [-2°, this]


class ProceduralHead(HeadModel):
    """The built-in stylised head (no licensed asset; see the module docstring).

    Args:
        colors: colours (defaults: :class:`~stygaze.render.config.HeadColors`).
        geometry: dimensions (defaults: :class:`ProceduralGeometry`).
        detail: mesh resolution multiplier (1 = default; 0.5 for tiny images).
    """

    name = "procedural"

    def __init__(self, colors: HeadColors | None = None, geometry: ProceduralGeometry | None = None, detail: float = 1.0):
        self.colors = colors or HeadColors()
        self.geo = geometry or ProceduralGeometry()
        self.detail = float(detail)
        self._eye_centers = {
            "left": self._eye_center(+1),
            "right": self._eye_center(-1),
        }
        self._parts: list[MeshPart] | None = None

    # --- geometry -----------------------------------------------------------------
    def _eye_center(self, side: int) -> np.ndarray:
        g = self.geo
        cx, cy, cz = g.head_center
        rx, ry, rz = g.head_radii
        x, y = side * g.eye_center_x, g.eye_center_y
        zs = cz + rz * np.sqrt(max(0.0, 1 - ((x - cx) / rx) ** 2 - ((y - cy) / ry) ** 2))
        # the eyeball sits in its socket, its front 4 mm proud of the (indented) face surface
        return np.array([x, y, zs - g.eye_radius + 0.0035])

    def _n(self, k: int) -> int:
        return max(8, int(round(k * self.detail)))

    def _surface(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Skin surface points ``(N, 3)`` and base normals for unit directions ``d`` (from the head centre)."""
        g = self.geo
        c = np.asarray(g.head_center)
        r = np.asarray(g.head_radii, dtype=np.float64)
        p = c + d * r
        y_rel = (p[:, 1] - c[1]) / r[1]  # -1 (chin) .. 1 (crown)
        front = np.clip(d[:, 2], 0, 1)
        # lower face: narrower jaw, a chin that comes forward
        jaw = _smoothstep(0.1, -0.9, y_rel)
        p[:, 0] *= 1 - 0.18 * jaw
        p[:, 2] = c[2] + (p[:, 2] - c[2]) * (1 - 0.12 * jaw * (1 - front))
        p[:, 2] += 0.010 * jaw * front**2
        # fuller cranium
        p[:, 0] *= 1 + 0.05 * _smoothstep(0.2, 0.8, y_rel)
        n = d / r
        n /= np.linalg.norm(n, axis=1, keepdims=True)
        ex, ey = g.eye_center_x, g.eye_center_y
        disp = np.zeros(len(p))
        # eye sockets, brow ridge, cheeks
        for s in (-1, 1):
            disp -= 0.0075 * _gauss(p, (s * ex, ey, 0.1), (0.015, 0.011, 1))
            disp += 0.004 * _gauss(p, (s * (ex + 0.004), ey + 0.02, 0.1), (0.02, 0.006, 1))
            disp += 0.004 * _gauss(p, (s * 0.038, ey - 0.04, 0.1), (0.018, 0.018, 1))
        # nose: bridge + tip + wings
        ny0, ny1 = ey - 0.004, ey - 0.045
        yy = np.clip((p[:, 1] - ny1) / (ny0 - ny1), 0, 1)  # 0 at tip, 1 at bridge
        bridge = np.exp(-0.5 * (p[:, 0] / (0.0055 + 0.005 * (1 - yy))) ** 2)
        in_nose = (p[:, 1] > ny1 - 0.012) & (p[:, 1] < ny0 + 0.004)
        prof = 0.005 + 0.009 * (1 - yy) ** 1.5
        fade = _smoothstep(ny1 - 0.012, ny1 + 0.004, p[:, 1]) * _smoothstep(ny0 + 0.006, ny0 - 0.004, p[:, 1])
        disp += np.where(in_nose, bridge * prof * fade, 0.0) * front
        disp += 0.006 * _gauss(p, (0, ny1 + 0.004, 0.1), (0.009, 0.008, 1)) * front
        for s in (-1, 1):
            disp += 0.0045 * _gauss(p, (s * 0.0115, ny1 + 0.003, 0.1), (0.006, 0.0055, 1)) * front
        # under the nose: a short concave step, so nose and upper lip read as two shapes
        disp -= 0.0035 * _gauss(p, (0, ny1 - 0.010, 0.1), (0.013, 0.0035, 1)) * front
        # lips and mouth
        my = self._mouth_y()
        disp += 0.0045 * _gauss(p, (0, my + 0.006, 0.1), (0.02, 0.0045, 1)) * front
        disp += 0.0040 * _gauss(p, (0, my - 0.007, 0.1), (0.018, 0.005, 1)) * front
        disp -= 0.0020 * _gauss(p, (0, my, 0.1), (0.022, 0.0012, 1)) * front
        # chin
        disp += 0.0065 * _gauss(p, (0, my - 0.033, 0.1), (0.017, 0.011, 1)) * front
        return p + n * disp[:, None], n

    def _mouth_y(self) -> float:
        return self.geo.eye_center_y - 0.07

    @staticmethod
    def _hairline_deg(phi: np.ndarray) -> np.ndarray:
        """Elevation (degrees, from the head centre) of the hairline at azimuth ``phi`` (radians, 0 = front).

        30° on the forehead, 4° at the ears, -35° at the nape.
        """
        return 0.75 + 32.5 * np.cos(phi) - 3.25 * np.cos(2 * phi)

    def _build_head(self) -> MeshPart:
        g, col = self.geo, self.colors
        dirs, faces = sphere_grid(self._n(96), self._n(128))
        d = dirs[:, [1, 2, 0]]  # poles on ±y: (x, y, z) ← (y', z', x'); keeps orientation
        p, _ = self._surface(d)
        front = np.clip(d[:, 2], 0, 1)
        ex, ey = g.eye_center_x, g.eye_center_y
        ny1, my = ey - 0.045, self._mouth_y()
        colors = np.tile(np.asarray(col.skin, dtype=np.float64), (len(p), 1))
        # a little warmth on cheeks and nose tip
        warm = 0.35 * sum(_gauss(p, (s * 0.04, ey - 0.038, 0.1), (0.016, 0.014, 1)) for s in (-1, 1))
        warm += 0.25 * _gauss(p, (0, ny1 + 0.004, 0.1), (0.01, 0.008, 1))
        colors = _mix(colors, np.asarray(col.lips) * 0.5 + np.asarray(col.skin) * 0.5, warm * front)
        nostrils = sum(_gauss(p, (s * 0.0075, ny1 - 0.004, 0.1), (0.0028, 0.0016, 1)) for s in (-1, 1)) * front
        colors = _mix(colors, np.asarray(col.lips) * 0.3, 0.8 * _smoothstep(0.2, 0.7, nostrils))
        lips = _gauss(p, (0, my, 0.1), (0.019, 0.0085, 1)) * front
        colors = _mix(colors, col.lips, _smoothstep(0.35, 0.6, lips))
        mouth_line = _gauss(p, (0, my, 0.1), (0.02, 0.0011, 1)) * front
        colors = _mix(colors, np.asarray(col.lips) * 0.35, _smoothstep(0.3, 0.8, mouth_line))
        # scalp under the hair shell: hair coloured, so no skin shows through at grazing angles
        elev = np.rad2deg(np.arcsin(np.clip(d[:, 1], -1, 1)))
        line = self._hairline_deg(np.arctan2(d[:, 0], d[:, 2]))
        colors = _mix(colors, np.asarray(col.hair) * 0.8, _smoothstep(line + 1.0, line + 4.0, elev))
        self._jaw_weights = self._jaw_weight(p, d)
        self._jaw_idx = np.flatnonzero(self._jaw_weights > 0)
        return MeshPart("head", p.astype(np.float32), faces, colors.astype(np.float32), roughness=0.65, dynamic=True)

    def _jaw_weight(self, p: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``(V,)`` share of the jaw rotation each skin point follows: 1 below the lips, fading out
        across the cheeks and towards the back of the head; 0 above the mouth line."""
        my = self._mouth_y()
        below = _smoothstep(my + 0.0012, my - 0.0012, p[:, 1])
        side = _smoothstep(0.06, 0.032, np.abs(p[:, 0]))
        front = _smoothstep(-0.1, 0.45, d[:, 2])
        return below * side * front

    def _jaw_rotate(self, pts: np.ndarray, angle_rad: float, weights: np.ndarray | None = None) -> np.ndarray:
        """``pts`` (K, 3) in the head frame turned by the jaw (blended by ``weights``, default 1)."""
        pivot = np.asarray(self.geo.jaw_pivot)
        moved = (pts - pivot) @ rot_x(angle_rad).T + pivot
        if weights is None:
            return moved
        return pts + weights[:, None] * (moved - pts)

    def _mouth_line(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points ``(K, 3)`` along the closed lips on the skin, their normals and the lens
        profile ``(K,)`` (1 in the middle, 0 at the corners) of the mouth opening."""
        g = self.geo
        c, r = np.asarray(g.head_center), np.asarray(g.head_radii, dtype=np.float64)
        u = np.linspace(-1.0, 1.0, self._n(17))
        x = u * g.mouth_half_width
        y = np.full_like(x, self._mouth_y())
        z = c[2] + r[2] * np.sqrt(np.clip(1 - ((x - c[0]) / r[0]) ** 2 - ((y - c[1]) / r[1]) ** 2, 0, 1))
        d = np.stack([(x - c[0]) / r[0], (y - c[1]) / r[1], (z - c[2]) / r[2]], -1)
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        pts, nrm = self._surface(d)
        return pts, nrm, 1.0 - u**2

    def _build_mouth(self) -> MeshPart:
        """The mouth opening: a dark strip between the lips, zero height while the jaw is closed."""
        pts, nrm, self._mouth_lens = self._mouth_line()
        k = len(pts)
        self._mouth_rest = (pts + nrm * 0.0009).astype(np.float64)
        verts = np.concatenate([self._mouth_rest, self._mouth_rest])  # upper edge, lower edge
        faces = []
        for j in range(k - 1):
            faces += [(j, k + j, j + 1), (j + 1, k + j, k + j + 1)]
        inside = np.asarray(self.colors.lips) * 0.18 + 0.02
        colors = np.tile(inside, (2 * k, 1))
        return MeshPart("mouth", verts.astype(np.float32), np.asarray(faces, np.int32), np.clip(colors, 0, 1).astype(np.float32),
                        roughness=0.9, dynamic=True)

    def _build_brows(self) -> MeshPart:
        """Two eyebrows: thin strips lying 1 mm above the skin along an arc over each eye."""
        g, col = self.geo, self.colors
        c = np.asarray(g.head_center)
        r = np.asarray(g.head_radii, dtype=np.float64)
        n_u = self._n(24)
        u = np.linspace(-1.0, 1.0, n_u)
        verts, faces, colors = [], [], []
        for side in (1, -1):
            # inner end (towards the nose) thicker, outer end tapering
            inner = np.clip(-side * u, 0, 1)
            half = 0.0025 * (1.0 - 0.55 * u**2) * (1.0 + 0.25 * inner)
            x = side * (g.eye_center_x + 0.003) + u * 0.0185
            y = g.eye_center_y + 0.0195 - 0.0055 * u**2 + 0.0015 * inner
            rows = []
            for dy in (-half, half):
                yy = y + dy
                zz = c[2] + r[2] * np.sqrt(np.clip(1 - ((x - c[0]) / r[0]) ** 2 - ((yy - c[1]) / r[1]) ** 2, 0, 1))
                d = np.stack([(x - c[0]) / r[0], (yy - c[1]) / r[1], (zz - c[2]) / r[2]], -1)
                d /= np.linalg.norm(d, axis=1, keepdims=True)
                pts, nrm = self._surface(d)
                rows.append(pts + nrm * 0.0011)
            base = sum(len(v) for v in verts)
            verts.append(np.concatenate(rows))
            for j in range(n_u - 1):
                a0, b0, c0, d0 = base + j, base + j + 1, base + n_u + j, base + n_u + j + 1
                faces += [(a0, b0, c0), (b0, d0, c0)]
            shade = 1.0 + 0.12 * np.sin(u * 40.0)
            colors.append(np.tile(np.asarray(col.brows), (2 * n_u, 1)) * np.tile(shade, 2)[:, None])
        return MeshPart("brows", np.concatenate(verts).astype(np.float32), np.asarray(faces, np.int32),
                        np.clip(np.concatenate(colors), 0, 1).astype(np.float32), roughness=0.65)

    def _build_hair(self) -> MeshPart:
        """A hair shell over the scalp whose lower edge follows a smooth hairline."""
        col = self.colors
        n_u, n_v = self._n(128), self._n(28)
        phi = np.linspace(-np.pi, np.pi, n_u, endpoint=False)
        v = np.linspace(0.0, 1.0, n_v, endpoint=False)
        V, PHI = np.meshgrid(v, phi, indexing="ij")  # (n_v, n_u)
        e0 = np.deg2rad(self._hairline_deg(PHI))
        elev = e0 + V * (np.pi / 2 - e0)
        d = np.stack([np.cos(elev) * np.sin(PHI), np.sin(elev), np.cos(elev) * np.cos(PHI)], -1).reshape(-1, 3)
        d = np.concatenate([d, [[0.0, 1.0, 0.0]]])
        p, n = self._surface(d)
        vv = np.concatenate([V.reshape(-1), [1.0]])
        top = _smoothstep(-0.2, 1.0, d[:, 1])  # more volume on the crown
        thick = 0.0012 + (0.004 + 0.007 * top) * _smoothstep(-0.05, 0.6, vv)
        p = p + n * thick[:, None]
        faces = []
        for i in range(n_v - 1):
            for j in range(n_u):
                a, b = i * n_u + j, i * n_u + (j + 1) % n_u
                c, e = (i + 1) * n_u + j, (i + 1) * n_u + (j + 1) % n_u
                faces += [(a, b, c), (b, e, c)]
        pole = n_v * n_u
        for j in range(n_u):
            faces.append(((n_v - 1) * n_u + j, (n_v - 1) * n_u + (j + 1) % n_u, pole))
        phis = np.concatenate([PHI.reshape(-1), [0.0]])
        strands = 1.0 + 0.07 * np.sin(phis * 57.0 + 4.0 * np.sin(vv * 6.0)) + 0.05 * np.sin(phis * 23.0 + 2.0)
        colors = np.asarray(col.hair)[None, :] * strands[:, None] * (0.9 + 0.2 * top)[:, None]
        return MeshPart("hair", p.astype(np.float32), np.asarray(faces, np.int32), np.clip(colors, 0, 1).astype(np.float32), roughness=0.5)

    def _build_ears(self) -> list[MeshPart]:
        col = self.colors
        dirs, faces = sphere_grid(self._n(16), self._n(24))
        parts = []
        c, r = np.asarray(self.geo.head_center), np.asarray(self.geo.head_radii)
        ear_col = np.asarray(col.skin) * 0.93
        for side, name in ((1, "ear_left"), (-1, "ear_right")):
            v = dirs * np.array([0.010, 0.029, 0.018])
            # curl: the rim bends outwards, the back flatter
            v[:, 0] += 0.004 * (v[:, 2] / 0.018) ** 2
            v[:, 0] *= side
            tilt = rot_x(np.deg2rad(-12))
            v = v @ tilt.T
            x = side * (r[0] * 0.93)
            v += np.array([x, c[1] - 0.008, c[2] - 0.006])
            colors = np.tile(ear_col, (len(v), 1))
            f = faces[:, ::-1] if side < 0 else faces  # mirroring x flips the winding
            parts.append(MeshPart(name, v.astype(np.float32), f.copy(), colors.astype(np.float32), roughness=0.65))
        return parts

    def _build_eye(self, name: str) -> MeshPart:
        g, col = self.geo, self.colors
        dirs, faces = sphere_grid(self._n(40), self._n(48))
        ang = np.rad2deg(np.arccos(np.clip(dirs[:, 2], -1, 1)))  # angle from the gaze axis (+z)
        colors = np.tile(np.asarray(col.sclera, dtype=np.float64), (len(dirs), 1))
        # faint vein-pink towards the corners
        colors = _mix(colors, (0.93, 0.80, 0.78), _smoothstep(50, 80, ang) * 0.5)
        iris_t = np.clip(ang / g.iris_deg, 0, 1)
        iris = np.asarray(col.iris) * (0.75 + 0.4 * (1 - iris_t))[:, None]  # lighter towards the pupil
        iris = _mix(iris, np.asarray(col.iris) * 0.35, _smoothstep(0.8, 1.0, iris_t))  # dark limbal ring
        colors = np.where((ang <= g.iris_deg)[:, None], iris, colors)
        colors = np.where((ang <= g.pupil_deg)[:, None], np.asarray(col.pupil, dtype=np.float64), colors)
        v = dirs * g.eye_radius
        # a slight corneal bulge over the iris
        v *= (1 + 0.06 * _smoothstep(g.iris_deg + 5, 0, ang))[:, None]
        return MeshPart(name, v.astype(np.float32), faces, np.clip(colors, 0, 1).astype(np.float32), roughness=0.15)

    def _build_lid(self, name: str, upper: bool) -> MeshPart:
        """A lid shell about the eyeball's horizontal axis.

        Built with its edge at elevation 0 (the front point), extending upwards (upper lid)
        or downwards (lower lid) over 150°; the pose rotates it about ``x`` to its opening.
        """
        g, col = self.geo, self.colors
        n_a, n_b = self._n(24), self._n(32)
        a = np.linspace(0, np.deg2rad(150), n_a)  # from the edge into the lid
        b = np.linspace(-np.deg2rad(88), np.deg2rad(88), n_b)  # across, corner to corner
        A, B = np.meshgrid(a, b, indexing="ij")
        sgn = 1.0 if upper else -1.0
        radius = g.eye_radius * 1.07
        # the front edge at elevation 0; +A goes up (upper) or down (lower) and over the top
        alpha = sgn * A
        v = np.stack([np.sin(B), np.cos(B) * np.sin(alpha), np.cos(B) * np.cos(alpha)], -1) * radius
        thick = 1 + 0.06 * np.exp(-A / 0.15)  # a rounded lid margin
        v = (v * thick[..., None]).reshape(-1, 3)
        faces = []
        for i in range(n_a - 1):
            for j in range(n_b - 1):
                p0, p1, p2, p3 = i * n_b + j, i * n_b + j + 1, (i + 1) * n_b + j, (i + 1) * n_b + j + 1
                if upper:
                    faces += [(p0, p1, p2), (p1, p3, p2)]
                else:
                    faces += [(p0, p2, p1), (p1, p2, p3)]
        faces = np.asarray(faces, dtype=np.int32)
        base = np.asarray(col.skin) * (0.92 if upper else 0.96)
        colors = np.tile(base, (len(v), 1))
        lash = np.exp(-(A.reshape(-1)) / (0.10 if upper else 0.06))
        colors = _mix(colors, np.asarray(col.hair) * 0.5, (0.85 if upper else 0.45) * lash)
        return MeshPart(name, v.astype(np.float32), faces, colors.astype(np.float32), roughness=0.65)

    def _build_body(self) -> list[MeshPart]:
        g, col = self.geo, self.colors
        # neck: a vertical tube from the shoulders into the head
        dirs, faces = sphere_grid(self._n(24), self._n(32))
        neck = dirs[:, [1, 2, 0]] * np.array([g.neck_radius, 0.085, g.neck_radius * 0.95])
        neck[:, 1] = np.clip(neck[:, 1] * 1.6, -0.085, 0.085)
        neck += np.array([0.0, -0.03, -0.014])
        neck_col = np.tile(np.asarray(col.skin) * 0.9, (len(neck), 1))
        # shoulders / upper torso
        dirs2, faces2 = sphere_grid(self._n(24), self._n(40))
        d2 = dirs2[:, [1, 2, 0]]
        torso = d2 * np.array([0.19, 0.095, 0.10])
        torso[:, 1] *= np.where(d2[:, 1] > 0, 0.55, 1.0)  # flatter on top: shoulders
        torso += np.array([0.0, -0.106, -0.03])
        tcol = np.tile(np.asarray(col.shirt, dtype=np.float64), (len(torso), 1))
        collar = _smoothstep(0.05, 0.0, np.abs(np.hypot(torso[:, 0], torso[:, 2] + 0.012) - 0.056)) * (torso[:, 1] > -0.17)
        tcol = _mix(tcol, np.asarray(col.shirt) * 0.7, collar)
        return [
            MeshPart("neck", neck.astype(np.float32), faces, neck_col.astype(np.float32), roughness=0.65),
            MeshPart("torso", torso.astype(np.float32), faces2, tcol.astype(np.float32), roughness=0.85),
        ]

    def parts(self) -> list[MeshPart]:
        if self._parts is None:
            parts = [self._build_head(), self._build_mouth(), self._build_hair(), self._build_brows(), *self._build_ears(), *self._build_body()]
            for side in ("left", "right"):
                parts.append(self._build_eye(f"eye_{side}"))
                parts.append(self._build_lid(f"upper_lid_{side}", upper=True))
                parts.append(self._build_lid(f"lower_lid_{side}", upper=False))
            self._parts = parts
        return self._parts

    # --- posing -------------------------------------------------------------------
    def jaw_angle(self, motion: Motion, t: int) -> float:
        """Jaw opening of frame ``t`` in radians (the x rotation of the ``jaw`` extra; 0 without one)."""
        jaw = motion.extras.get("jaw")
        if jaw is None:
            return 0.0
        a = float(np.asarray(jaw).reshape(len(motion), -1)[t, 0])
        if not np.isfinite(a):
            return 0.0
        return float(np.clip(a, np.deg2rad(-2.0), np.deg2rad(self.geo.jaw_max_deg)))

    def frame(self, motion: Motion, t: int) -> FrameGeometry:
        g = self.geo
        row = motion.data[t].astype(np.float64)
        blink = 0.0 if motion.blink is None else float(np.clip(motion.blink[t], 0.0, 1.0))
        H = rotation4(head_rotation_matrix(row[0], row[1], row[2]))
        poses = {name: H for name in ("head", "mouth", "hair", "brows", "ear_left", "ear_right")}
        vertices = {}
        jaw = self.jaw_angle(motion, t)
        if jaw != 0.0:
            parts = {p.name: p for p in self.parts()}
            head = parts["head"].vertices.astype(np.float64)
            idx, w = self._jaw_idx, self._jaw_weights[self._jaw_idx]
            head[idx] = self._jaw_rotate(head[idx], jaw, w)
            vertices["head"] = head.astype(np.float32)
            lower = self._jaw_rotate(self._mouth_rest, jaw)
            lower = self._mouth_rest + self._mouth_lens[:, None] * (lower - self._mouth_rest)
            vertices["mouth"] = np.concatenate([self._mouth_rest, lower]).astype(np.float32)
        poses["neck"] = np.eye(4)
        poses["torso"] = np.eye(4)
        for side, (ip, iy) in (("left", (3, 4)), ("right", (5, 6))):
            c = translation(self._eye_centers[side])
            eye = rotation4(head_rotation_matrix(row[ip], row[iy], 0.0))
            poses[f"eye_{side}"] = H @ c @ eye
            # upper lid: follows eye pitch while open, closes to the lower lid with blink
            open_deg = g.upper_lid_open_deg + g.lid_pitch_follow * float(np.clip(row[ip], -30, 30))
            closed_deg = g.lower_lid_deg + 2.0
            up = open_deg + blink * (closed_deg - open_deg)
            poses[f"upper_lid_{side}"] = H @ c @ rotation4(rot_x(np.deg2rad(-up)))
            low = g.lower_lid_deg + 0.25 * float(np.clip(row[ip], -30, 0)) + 4.0 * blink
            poses[f"lower_lid_{side}"] = H @ c @ rotation4(rot_x(np.deg2rad(-low)))
        return FrameGeometry(poses, vertices)
