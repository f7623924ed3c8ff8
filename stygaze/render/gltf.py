"""glTF 2.0 binary (``.glb``) export of the procedural head, optionally animated by a motion.

The scene uses glTF's frame, which is stygaze's (:mod:`stygaze.motion`): ``+y`` up, ``+z``
forward (out of the face), ``+x`` the subject's left; metres. Node tree::

    stygaze_head
    ├── Body                (neck + shoulders, static)
    └── Head                rotation = head pitch/yaw/roll, about the neck pivot (origin)
        ├── Face            skin mesh; morph target ``jawOpen``
        ├── HeadParts       hair, brows, ears
        ├── LeftEyeSocket   translation = eyeball centre
        │   ├── LeftEye         rotation = eye-in-head pitch/yaw
        │   ├── LeftUpperLid    rotation = lid following the eye; morph targets
        │   │                   ``eyeBlinkLeft`` + ``eyeBlinkLeft_mid`` (corrective)
        │   └── LeftLowerLid    rotation = lid following the eye (and the blink)
        └── RightEyeSocket  (the same for the right eye)

With a motion, one animation ``motion`` holds LINEAR rotation channels (quaternions) for
``Head``, the eyes and the lids at the motion's frame times, and — only when the motion has
them — morph-target weights: ``eyeBlink*`` from ``blink``, ``jawOpen`` from ``jaw``
(column 0, the FLAME jaw opening in radians, over :data:`JAW_FULL_OPEN_RAD`). Without a
motion (:func:`head_glb_bytes`, the viewer's head) every morph target is present.

Blink as morph targets: the upper lid is a shell that rotates ≈ 50° to close, and a plain
linear blend between the open and the closed shell would cut through the eyeball halfway.
``eyeBlink*`` is the full closure (closed − open) and ``eyeBlink*_mid`` a corrective shape
(the shell at half closure minus the average of open and closed); weights ``b`` and
``4·b·(1 − b)`` reproduce the rotated lid at ``b`` = 0, ½ and 1 and stay within 0.1 mm
of it in between. Tools that only know ``eyeBlinkLeft`` still get a usable blink.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stygaze.geometry import rot_x
from stygaze.io import atomic_path
from stygaze.motion import Motion, head_rotation_matrix
from stygaze.render.heads import ProceduralHead, _smoothstep, fill_nan

JAW_FULL_OPEN_RAD = 0.35
"""Jaw opening (FLAME jaw pose, rotation about ``x``, radians) that gives ``jawOpen`` = 1 (≈ 20°)."""

LOWER_LID_FOLLOW = 0.25
"""Lower lid rotation per degree of downward eye pitch (as :class:`ProceduralHead`)."""
LOWER_LID_BLINK_DEG = 4.0
"""Lower lid rise at a full blink, degrees (as :class:`ProceduralHead`)."""

JAW_PIVOT = (0.0, 0.075, -0.005)
"""Jaw hinge (temporomandibular joint) in the head frame, metres."""

_FLOAT, _UINT, _USHORT = 5126, 5125, 5123
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_NCOMP = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.clip(np.asarray(c, np.float64), 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals ``(V, 3)`` of a triangle mesh."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, f[:, k], fn)
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    n = np.where(norm > 1e-12, n / np.maximum(norm, 1e-12), np.array([0.0, 0.0, 1.0]))
    return n.astype(np.float32)


def quat_xyzw(R: np.ndarray) -> np.ndarray:
    """Unit quaternions ``(..., 4)`` (x, y, z, w; glTF order) of rotation matrices ``(..., 3, 3)``,
    sign-continuous along the first axis (so LINEAR interpolation takes the short way)."""
    from scipy.spatial.transform import Rotation

    R = np.asarray(R, np.float64)
    q = Rotation.from_matrix(R.reshape(-1, 3, 3)).as_quat()  # scipy: x, y, z, w
    for i in range(1, len(q)):
        if np.dot(q[i], q[i - 1]) < 0:
            q[i] = -q[i]
    return q.reshape(R.shape[:-2] + (4,))


class _GlbBuilder:
    """Collects binary buffer views and accessors for one ``.glb``."""

    def __init__(self):
        self.blob = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, array: np.ndarray, kind: str, *, target: int | None = None, minmax: bool = False) -> int:
        arr = np.ascontiguousarray(array)
        ctype = {np.dtype("float32"): _FLOAT, np.dtype("uint32"): _UINT, np.dtype("uint16"): _USHORT}[arr.dtype]
        while len(self.blob) % 4:
            self.blob.append(0)
        view = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": arr.nbytes}
        if target is not None:
            view["target"] = target
        self.blob += arr.tobytes()
        self.views.append(view)
        count = arr.shape[0] if kind != "SCALAR" or arr.ndim == 1 else arr.size
        acc = {"bufferView": len(self.views) - 1, "componentType": ctype, "count": int(count), "type": kind}
        if minmax:
            flat = arr.reshape(int(count), _NCOMP[kind])
            acc["min"] = [float(x) for x in flat.min(axis=0)]
            acc["max"] = [float(x) for x in flat.max(axis=0)]
        self.accessors.append(acc)
        return len(self.accessors) - 1

    def glb(self, doc: dict) -> bytes:
        while len(self.blob) % 4:
            self.blob.append(0)
        doc["buffers"] = [{"byteLength": len(self.blob)}]
        doc["bufferViews"] = self.views
        doc["accessors"] = self.accessors
        js = json.dumps(doc, separators=(",", ":")).encode()
        js += b" " * (-len(js) % 4)
        total = 12 + 8 + len(js) + 8 + len(self.blob)
        return b"".join([
            struct.pack("<4sII", b"glTF", 2, total),
            struct.pack("<I4s", len(js), b"JSON"), js,
            struct.pack("<I4s", len(self.blob), b"BIN\x00"), bytes(self.blob),
        ])


@dataclass
class _Prim:
    vertices: np.ndarray
    faces: np.ndarray
    colors: np.ndarray
    roughness: float
    targets: list[tuple[str, np.ndarray]]  # (name, (V, 3) displacement)


def _jaw_displacement(head: ProceduralHead, verts: np.ndarray) -> np.ndarray:
    """Per-vertex displacement of the skin when the jaw opens by :data:`JAW_FULL_OPEN_RAD`."""

    my = head._mouth_y()
    p = np.asarray(JAW_PIVOT)
    w = _smoothstep(my + 0.001, my - 0.007, verts[:, 1]) * _smoothstep(-0.045, -0.005, verts[:, 2])
    R = rot_x(JAW_FULL_OPEN_RAD)  # + turns +z down: the chin drops
    moved = (verts - p) @ R.T + p
    return ((moved - verts) * w[:, None]).astype(np.float32)


def _lid_targets(head: ProceduralHead, lid_rest: np.ndarray) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """Open upper-lid vertices (in the socket frame) and its blink targets (full, corrective)."""
    g = head.geo
    closed = g.lower_lid_deg + 2.0

    def at(deg):
        return lid_rest @ rot_x(np.deg2rad(-deg)).T

    v_open, v_closed, v_mid = at(g.upper_lid_open_deg), at(closed), at(0.5 * (g.upper_lid_open_deg + closed))
    full = (v_closed - v_open).astype(np.float32)
    mid = (v_mid - 0.5 * (v_open + v_closed)).astype(np.float32)
    return v_open.astype(np.float32), [("full", full), ("mid", mid)]


def blink_weights(blink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blink ``b`` (0..1) → weights of ``eyeBlink*`` (``b``) and ``eyeBlink*_mid`` (``4·b·(1 − b)``)."""
    b = np.clip(np.asarray(blink, np.float64), 0.0, 1.0)
    return b, 4.0 * b * (1.0 - b)


def jaw_weight(jaw: np.ndarray) -> np.ndarray:
    """FLAME jaw pose ``(T, J)`` (radians; column 0 = opening) → ``jawOpen`` weight in 0..1."""
    j = np.asarray(jaw, np.float64).reshape(len(jaw), -1)[:, 0]
    return np.clip(j / JAW_FULL_OPEN_RAD, 0.0, 1.0)


def lid_angles(motion: Motion, head: ProceduralHead) -> dict[str, np.ndarray]:
    """Per-frame lid node rotations about ``x`` (degrees, the ``rot_x(radians(-angle))`` convention).

    Upper lid: ``(1 − b) · follow · clip(eye_pitch, ±30°)`` on top of the blink morph;
    lower lid: ``0.25 · clip(eye_pitch, −30°, 0) + 4° · b`` (as :class:`ProceduralHead`).
    """
    g = head.geo
    d = motion.data.astype(np.float64)
    b = np.zeros(len(motion)) if motion.blink is None else np.clip(motion.blink.astype(np.float64), 0, 1)
    out = {}
    for side, ip in (("left", 3), ("right", 5)):
        p = d[:, ip]
        out[f"upper_{side}"] = (1.0 - b) * g.lid_pitch_follow * np.clip(p, -30, 30)
        out[f"lower_{side}"] = LOWER_LID_FOLLOW * np.clip(p, -30, 0) + LOWER_LID_BLINK_DEG * b
    return out


def rig_constants(head: ProceduralHead) -> dict:
    """How motion drives the nodes and morph targets (stored in the scene's ``extras.stygaze``,
    so a player — the browser viewer — needs no copy of these numbers)."""
    return {
        "fps": 25.0,
        "upper_lid_follow": head.geo.lid_pitch_follow,
        "lower_lid_follow": LOWER_LID_FOLLOW,
        "lower_lid_blink_deg": LOWER_LID_BLINK_DEG,
        "jaw_full_open_rad": JAW_FULL_OPEN_RAD,
        "eye_pitch_clip_deg": 30.0,
    }


def build_glb(motion: Motion | None = None, *, head: ProceduralHead | None = None, blink: bool | None = None,
              jaw: bool | None = None) -> bytes:
    """The ``.glb`` bytes of the procedural head, animated by ``motion`` when given.

    Args:
        motion: the animation (NaN filled by interpolation); None = the head at rest.
        head: the head (default :class:`ProceduralHead` at detail 0.6, ≈ 1 MB).
        blink, jaw: include the blink / jaw morph targets. Default: with a motion, only when
            it has ``blink`` / ``jaw``; without one, both.
    """
    head = head or ProceduralHead(detail=0.6)
    if motion is not None:
        motion = fill_nan(motion)
    if blink is None:
        blink = motion is None or motion.blink is not None
    if jaw is None:
        jaw = motion is None or "jaw" in motion.extras
    parts = {p.name: p for p in head.parts()}
    b = _GlbBuilder()
    materials: list[dict] = []
    meshes: list[dict] = []

    def mesh(name: str, prims: list[_Prim], target_names: list[str]) -> int:
        out = []
        for pr in prims:
            pos = pr.vertices.astype(np.float32)
            attrs = {
                "POSITION": b.add(pos, "VEC3", target=_ARRAY_BUFFER, minmax=True),
                "NORMAL": b.add(vertex_normals(pos, pr.faces), "VEC3", target=_ARRAY_BUFFER),
                "COLOR_0": b.add(_srgb_to_linear(pr.colors).astype(np.float32), "VEC3", target=_ARRAY_BUFFER),
            }
            idx = pr.faces.astype(np.uint32 if len(pos) > 65535 else np.uint16).reshape(-1)
            materials.append({"name": f"{name}_mat{len(materials)}", "doubleSided": True,
                              "pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 1], "metallicFactor": 0.0,
                                                       "roughnessFactor": float(pr.roughness)}})
            prim = {"attributes": attrs, "indices": b.add(idx, "SCALAR", target=_ELEMENT_ARRAY_BUFFER),
                    "material": len(materials) - 1, "mode": 4}
            if pr.targets:
                prim["targets"] = [{"POSITION": b.add(t.astype(np.float32), "VEC3", minmax=True)} for _, t in pr.targets]
            out.append(prim)
        m = {"name": name, "primitives": out}
        if target_names:
            m["weights"] = [0.0] * len(target_names)
            m["extras"] = {"targetNames": target_names}
        meshes.append(m)
        return len(meshes) - 1

    def prim(name: str, verts=None, targets=()) -> _Prim:
        p = parts[name]
        return _Prim(p.vertices if verts is None else verts, p.faces, p.colors, p.roughness, list(targets))

    nodes: list[dict] = []

    def node(name: str, **kw) -> int:
        nodes.append({"name": name, **kw})
        return len(nodes) - 1

    face_targets = [("jawOpen", _jaw_displacement(head, parts["head"].vertices))] if jaw else []
    face = node("Face", mesh=mesh("Face", [prim("head", targets=[t for t in face_targets])], [n for n, _ in face_targets]))
    rigid = node("HeadParts", mesh=mesh("HeadParts", [prim(n) for n in ("hair", "brows", "ear_left", "ear_right")], []))
    g = head.geo
    sockets = []
    for side, Side in (("left", "Left"), ("right", "Right")):
        eye = node(f"{Side}Eye", mesh=mesh(f"{Side}EyeBall", [prim(f"eye_{side}")], []))
        v_open, lid_t = _lid_targets(head, parts[f"upper_lid_{side}"].vertices.astype(np.float64))
        names = [f"eyeBlink{Side}", f"eyeBlink{Side}_mid"] if blink else []
        up = node(f"{Side}UpperLid", mesh=mesh(f"{Side}UpperLid", [prim(f"upper_lid_{side}", v_open, lid_t if blink else [])], names))
        low_v = (parts[f"lower_lid_{side}"].vertices.astype(np.float64) @ rot_x(np.deg2rad(-g.lower_lid_deg)).T).astype(np.float32)
        low = node(f"{Side}LowerLid", mesh=mesh(f"{Side}LowerLid", [prim(f"lower_lid_{side}", low_v)], []))
        c = head._eye_centers[side]
        sockets.append(node(f"{Side}EyeSocket", translation=[float(x) for x in c], children=[eye, up, low]))
    head_node = node("Head", children=[face, rigid, *sockets])
    body = node("Body", mesh=mesh("Body", [prim("neck"), prim("torso")], []))
    root = node("stygaze_head", children=[body, head_node])

    doc: dict = {
        "asset": {"version": "2.0", "generator": "stygaze"},
        "scene": 0,
        "scenes": [{"name": "stygaze", "nodes": [root], "extras": {"stygaze": rig_constants(head)}}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": materials,
    }
    if motion is not None:
        doc["animations"] = [_animation(b, motion, head, nodes, blink=blink, jaw=jaw)]
    return b.glb(doc)


def _animation(b: _GlbBuilder, motion: Motion, head: ProceduralHead, nodes: list[dict], *, blink: bool, jaw: bool) -> dict:
    d = motion.data.astype(np.float64)
    T = len(motion)
    index = {n["name"]: i for i, n in enumerate(nodes)}
    times = b.add((np.arange(T) / motion.fps).astype(np.float32), "SCALAR", minmax=True)
    samplers, channels = [], []

    def channel(node_name: str, path: str, values: np.ndarray, kind: str) -> None:
        out = b.add(np.ascontiguousarray(values, dtype=np.float32), kind)
        samplers.append({"input": times, "output": out, "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": index[node_name], "path": path}})

    channel("Head", "rotation", quat_xyzw(head_rotation_matrix(d[:, 0], d[:, 1], d[:, 2])), "VEC4")
    zeros = np.zeros(T)
    channel("LeftEye", "rotation", quat_xyzw(head_rotation_matrix(d[:, 3], d[:, 4], zeros)), "VEC4")
    channel("RightEye", "rotation", quat_xyzw(head_rotation_matrix(d[:, 5], d[:, 6], zeros)), "VEC4")
    lids = lid_angles(motion, head)
    for side, Side in (("left", "Left"), ("right", "Right")):
        for which, Which in (("upper", "Upper"), ("lower", "Lower")):
            R = np.stack([rot_x(np.deg2rad(-a)) for a in lids[f"{which}_{side}"]])
            channel(f"{Side}{Which}Lid", "rotation", quat_xyzw(R), "VEC4")
    if blink and motion.blink is not None:
        full, mid = blink_weights(motion.blink)
        for Side in ("Left", "Right"):
            channel(f"{Side}UpperLid", "weights", np.stack([full, mid], axis=1).reshape(-1), "SCALAR")
    if jaw and "jaw" in motion.extras:
        channel("Face", "weights", jaw_weight(motion.extras["jaw"]), "SCALAR")
    return {"name": "motion", "samplers": samplers, "channels": channels}


def head_glb_bytes() -> bytes:
    """The viewer's head: the procedural head at rest with every morph target."""
    return build_glb(None)


def export_gltf(motion: Motion, out_path: str | os.PathLike, **kwargs) -> Path:
    """Write :func:`build_glb` of ``motion`` to ``out_path`` (``.glb``) atomically."""
    out = Path(out_path)
    data = build_glb(motion, **kwargs)
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    return out
