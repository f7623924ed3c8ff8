"""Export motion to the formats avatar pipelines read: FLAME pose parameters, ARKit CSV, BVH.

All exports use :mod:`stygaze.motion`'s frame (``x`` = subject's left, ``y`` = up, ``z`` =
forward; pitch + up, yaw + left, roll + top towards the left shoulder) and fill NaN
(tracker loss) by linear interpolation over time first, because avatar tools have no
notion of a missing frame.

* **FLAME** (``.npz``): per-frame axis-angle vectors in radians, the layout of
  ``smplx.FLAME``'s inputs: ``global_pose`` (T, 3), ``neck_pose`` (T, 3), ``jaw_pose``
  (T, 3), ``eye_pose`` (T, 6) = ``[leye_pose, reye_pose]`` (the subject's left eye
  first), plus ``fps`` and any ``expression``/``shape`` the motion carries. The head
  rotation goes to ``global_pose`` (EMOCA/DECA convention) or, with
  ``head_joint="neck"``, to ``neck_pose``. FLAME's model frame is stygaze's frame, so the
  rotation vectors are those of :func:`stygaze.motion.head_rotation_matrix`. ``jaw_pose`` is
  the motion's ``jaw`` extra (the generator's speaking mouth). FLAME has no eyelid joint:
  the ``blink`` channel goes to ``eyelid_params`` (T, 2) = closure of the [left, right] lid,
  0..1, the weights of the eyelid blendshapes some FLAME pipelines add (``l_eyelid.npy`` /
  ``r_eyelid.npy`` of metrical-tracker, used e.g. by SMIRK); plain FLAME ignores it.
* **ARKit** (``.csv``): ``eyeLook{Up,Down,In,Out}{Left,Right}``, ``eyeBlink{Left,Right}``
  (the ``blink`` channel) and ``jawOpen`` (the ``jaw`` opening) in 0..1 plus
  ``HeadPitch/HeadYaw/HeadRoll`` in degrees. See :class:`ArkitMapping` for the angle → 0..1
  mapping and the In/Out sense per eye.
* **BVH** (``.bvh``): a ``Head`` root with ``LeftEye`` and ``RightEye`` children, offsets
  in centimetres, rotation channels ``Yrotation Xrotation Zrotation`` (so the BVH rotation
  ``Ry(yaw) · Rx(−pitch) · Rz(−roll)`` equals the motion's head rotation exactly). Y is up
  and the face looks along +Z; Blender imports it with File → Import → Motion Capture
  (.bvh) (choose the importer's Forward axis to suit your rig).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stygaze.geometry import (
    head_rotation_matrix,
    rotvec,  # noqa: F401  (re-exported)
)
from stygaze.io import atomic_path
from stygaze.motion import Motion
from stygaze.render.config import RenderError
from stygaze.render.heads import fill_nan

FORMATS = ("flame", "arkit", "bvh")
"""Export formats accepted by :func:`export_motion` and ``stygaze export --format``."""

_SUFFIX = {"flame": ".npz", "arkit": ".csv", "bvh": ".bvh"}


# --------------------------------------------------------------------------------------
# FLAME
# --------------------------------------------------------------------------------------
def flame_pose_params(motion: Motion, *, head_joint: str = "global") -> dict[str, np.ndarray]:
    """FLAME pose parameters per frame (axis-angle, radians, float32).

    Args:
        motion: the motion (NaN filled by interpolation).
        head_joint: ``"global"`` (head rotation in ``global_pose``, ``neck_pose`` zero) or
            ``"neck"`` (the reverse).

    Returns:
        ``global_pose`` (T, 3), ``neck_pose`` (T, 3), ``jaw_pose`` (T, 3) (the motion's
        ``jaw`` when present, else zeros), ``eye_pose`` (T, 6) = left eye then right eye.
    """
    if head_joint not in ("global", "neck"):
        raise RenderError(f"head_joint must be 'global' or 'neck', got {head_joint!r}")
    m = fill_nan(motion)
    d = m.data.astype(np.float64)
    T = len(m)
    head = rotvec(head_rotation_matrix(d[:, 0], d[:, 1], d[:, 2]))
    zero = np.zeros((T, 3))
    left = rotvec(head_rotation_matrix(d[:, 3], d[:, 4], np.zeros(T)))
    right = rotvec(head_rotation_matrix(d[:, 5], d[:, 6], np.zeros(T)))
    jaw = np.asarray(m.extras["jaw"], np.float64).reshape(T, -1)[:, :3] if "jaw" in m.extras else zero
    out = {
        "global_pose": head if head_joint == "global" else zero,
        "neck_pose": head if head_joint == "neck" else zero,
        "jaw_pose": jaw,
        "eye_pose": np.concatenate([left, right], axis=1),
    }
    return {k: v.astype(np.float32) for k, v in out.items()}


def export_flame(motion: Motion, out_path: str | os.PathLike, *, head_joint: str = "global") -> Path:
    """Write :func:`flame_pose_params` (+ ``fps``, ``expression``, ``shape``, and ``eyelid_params``
    (T, 2) from ``blink``) to an ``.npz``."""
    arrays = flame_pose_params(motion, head_joint=head_joint)
    arrays["fps"] = np.asarray(motion.fps, np.float32)
    if motion.blink is not None:
        lid = np.clip(fill_nan(motion).blink.astype(np.float32), 0.0, 1.0)
        arrays["eyelid_params"] = np.stack([lid, lid], axis=1)
    arrays["head_joint"] = np.asarray(head_joint)
    for key in ("expression", "shape"):
        if key in motion.extras:
            arrays[key] = np.asarray(motion.extras[key], np.float32)
    out = Path(out_path)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    return out


# --------------------------------------------------------------------------------------
# ARKit
# --------------------------------------------------------------------------------------
@dataclass
class ArkitMapping:
    """Angle → ARKit blendshape coefficient mapping.

    A coefficient is ``clip(angle / full_scale, 0, 1)`` of the eye-in-head angle in the
    coefficient's direction: ``eyeLookUp`` = pitch > 0, ``eyeLookDown`` = pitch < 0
    (``-pitch / down_deg``). *In* means towards the nose, *Out* towards the ear:

    * left eye (the subject's left, ``+x``): In = yaw < 0 (towards the subject's right),
      Out = yaw > 0;
    * right eye: In = yaw > 0, Out = yaw < 0.

    ``Left``/``Right`` in ARKit names are the subject's own eyes (ARKit's convention).
    ``eyeBlink*`` is the motion's ``blink`` (0 when absent); ``jawOpen`` is the ``jaw``
    opening (its x rotation, radians) over ``jaw_open_rad`` (0 when absent). Full-scale
    angles default to the eye's comfortable range (≈ 30° sideways, 25° up, 30° down); beyond
    them the coefficient saturates at 1.
    """

    inout_deg: float = 30.0
    up_deg: float = 25.0
    down_deg: float = 30.0
    jaw_open_rad: float = 0.35


ARKIT_COLUMNS = (
    "frame",
    "time_s",
    "eyeBlinkLeft",
    "eyeLookDownLeft",
    "eyeLookInLeft",
    "eyeLookOutLeft",
    "eyeLookUpLeft",
    "eyeBlinkRight",
    "eyeLookDownRight",
    "eyeLookInRight",
    "eyeLookOutRight",
    "eyeLookUpRight",
    "jawOpen",
    "HeadPitch",
    "HeadYaw",
    "HeadRoll",
)
"""Column order of the ARKit CSV (head angles in degrees, stygaze signs)."""


def arkit_coefficients(motion: Motion, mapping: ArkitMapping | None = None) -> dict[str, np.ndarray]:
    """ARKit eye coefficients ``(T,)`` in 0..1 and head angles ``(T,)`` in degrees, by column name."""
    mp = mapping or ArkitMapping()
    m = fill_nan(motion)
    d = m.data.astype(np.float64)

    def c(x, scale):
        return np.clip(x / scale, 0.0, 1.0) + 0.0  # + 0.0 turns -0.0 into 0.0

    blink = np.zeros(len(m)) if m.blink is None else np.clip(m.blink.astype(np.float64), 0.0, 1.0)
    lp, ly, rp, ry = d[:, 3], d[:, 4], d[:, 5], d[:, 6]
    cols = {
        "frame": np.arange(len(m)),
        "time_s": np.arange(len(m)) / m.fps,
        "eyeBlinkLeft": blink,
        "eyeLookDownLeft": c(-lp, mp.down_deg),
        "eyeLookInLeft": c(-ly, mp.inout_deg),
        "eyeLookOutLeft": c(ly, mp.inout_deg),
        "eyeLookUpLeft": c(lp, mp.up_deg),
        "eyeBlinkRight": blink,
        "eyeLookDownRight": c(-rp, mp.down_deg),
        "eyeLookInRight": c(ry, mp.inout_deg),
        "eyeLookOutRight": c(-ry, mp.inout_deg),
        "eyeLookUpRight": c(rp, mp.up_deg),
        "jawOpen": c(np.asarray(m.extras["jaw"], np.float64).reshape(len(m), -1)[:, 0], mp.jaw_open_rad) if "jaw" in m.extras else np.zeros(len(m)),
        "HeadPitch": d[:, 0],
        "HeadYaw": d[:, 1],
        "HeadRoll": d[:, 2],
    }
    return cols


def export_arkit(motion: Motion, out_path: str | os.PathLike, mapping: ArkitMapping | None = None) -> Path:
    """Write the ARKit-style CSV (:data:`ARKIT_COLUMNS`, one row per frame)."""
    cols = arkit_coefficients(motion, mapping)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ARKIT_COLUMNS)
    for t in range(len(cols["frame"])):
        row = [str(int(cols["frame"][t])), f"{cols['time_s'][t]:.4f}"]
        row += [f"{cols[k][t]:.5f}" for k in ARKIT_COLUMNS[2:]]
        w.writerow(row)
    out = Path(out_path)
    with atomic_path(out) as tmp:
        tmp.write_text(buf.getvalue())
    return out


# --------------------------------------------------------------------------------------
# BVH
# --------------------------------------------------------------------------------------
BVH_EYE_OFFSET_CM = (3.1, 11.2, 8.0)
"""Offset of the left eye from the head joint (neck pivot), centimetres; the right eye mirrors x."""


def bvh_text(motion: Motion) -> str:
    """The BVH file content for ``motion`` (see the module docstring for the layout)."""
    m = fill_nan(motion)
    d = m.data.astype(np.float64)
    ex, ey, ez = BVH_EYE_OFFSET_CM

    def joint(name, off, indent):
        pad = "  " * indent
        return (
            f"{pad}JOINT {name}\n{pad}{{\n{pad}  OFFSET {off[0]:.4f} {off[1]:.4f} {off[2]:.4f}\n"
            f"{pad}  CHANNELS 3 Yrotation Xrotation Zrotation\n{pad}  End Site\n{pad}  {{\n"
            f"{pad}    OFFSET 0.0000 0.0000 2.0000\n{pad}  }}\n{pad}}}\n"
        )

    lines = [
        "HIERARCHY\nROOT Head\n{\n  OFFSET 0.0000 0.0000 0.0000\n",
        "  CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation\n",
        joint("LeftEye", (ex, ey, ez), 1),
        joint("RightEye", (-ex, ey, ez), 1),
        "}\n",
        f"MOTION\nFrames: {len(m)}\nFrame Time: {1.0 / m.fps:.6f}\n",
    ]
    # BVH channel values: Y = yaw, X = -pitch, Z = -roll  (R = Ry(yaw) Rx(-pitch) Rz(-roll))
    rows = np.column_stack(
        [np.zeros((len(m), 3)), d[:, 1], -d[:, 0], -d[:, 2], d[:, 4], -d[:, 3], np.zeros(len(m)), d[:, 6], -d[:, 5], np.zeros(len(m))]
    )
    rows = rows + 0.0  # no "-0.00000"
    lines += [" ".join(f"{v:.5f}" for v in r) + "\n" for r in rows]
    return "".join(lines)


def export_bvh(motion: Motion, out_path: str | os.PathLike) -> Path:
    """Write :func:`bvh_text` to ``out_path``."""
    out = Path(out_path)
    text = bvh_text(motion)
    with atomic_path(out) as tmp:
        tmp.write_text(text)
    return out


def export_motion(motion: Motion, out_path: str | os.PathLike, fmt: str, **kwargs) -> Path:
    """Export ``motion`` as ``fmt`` (``flame``, ``arkit`` or ``bvh``) to ``out_path``.

    Raises:
        RenderError: unknown format, or an output suffix that does not match it.
    """
    fmt = str(fmt).strip().lower()
    if fmt not in FORMATS:
        raise RenderError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    out = Path(out_path)
    if out.suffix.lower() != _SUFFIX[fmt]:
        raise RenderError(f"--format {fmt} writes a {_SUFFIX[fmt]} file, got {out.name}")
    if out.is_dir():
        raise RenderError(f"output path is a directory: {out}")
    if fmt == "flame":
        return export_flame(motion, out, **kwargs)
    if fmt == "arkit":
        return export_arkit(motion, out, **kwargs)
    return export_bvh(motion, out)
