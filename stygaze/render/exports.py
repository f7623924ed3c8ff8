"""Export motion to the formats avatar pipelines read: FLAME pose parameters, ARKit CSV, BVH, glTF.

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
* **ARKit** (``.csv``): the layout of Epic's Live Link Face app (Unreal, MetaHuman and
  the Blender/Maya/MotionBuilder importers read it): ``Timecode`` (``HH:MM:SS:FF.mmm``),
  ``BlendShapeCount`` (61), the 52 ARKit blendshapes in the app's column order (0..1;
  stygaze fills ``EyeLook*``, ``EyeBlink*`` from ``blink`` and ``JawOpen`` from ``jaw``,
  the rest are 0), then ``HeadYaw, HeadPitch, HeadRoll, LeftEyeYaw, LeftEyePitch,
  LeftEyeRoll, RightEyeYaw, RightEyePitch, RightEyeRoll`` as angle / 180° (−1..1, the
  normalisation of Unreal's ARKit face support). See :class:`ArkitMapping` and
  :func:`arkit_coefficients` for the mappings and signs.
* **glTF** (``.glb``): the procedural head with node animation of head, eyes and lids,
  blink and jaw as morph targets when the motion has them (:mod:`stygaze.render.gltf`).
* **BVH** (``.bvh``): a ``Head`` root with ``LeftEye`` and ``RightEye`` children (and a
  ``Jaw`` child rotated by the FLAME jaw pose when the motion has ``jaw``), offsets in
  centimetres, rotation channels ``Yrotation Xrotation Zrotation`` (so the BVH rotation
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
from stygaze.render.gltf import export_gltf
from stygaze.render.heads import fill_nan

FORMATS = ("flame", "arkit", "bvh", "gltf")
"""Export formats accepted by :func:`export_motion` and ``stygaze export --format``."""

_SUFFIX = {"flame": ".npz", "arkit": ".csv", "bvh": ".bvh", "gltf": ".glb"}


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
# ARKit (Live Link Face CSV)
# --------------------------------------------------------------------------------------
@dataclass
class ArkitMapping:
    """Angle → ARKit blendshape coefficient mapping.

    A coefficient is ``clip(angle / full_scale, 0, 1)`` of the eye-in-head angle in the
    coefficient's direction: ``EyeLookUp`` = pitch > 0, ``EyeLookDown`` = pitch < 0
    (``-pitch / down_deg``). *In* means towards the nose, *Out* towards the ear:

    * left eye (the subject's left, ``+x``): In = yaw < 0 (towards the subject's right),
      Out = yaw > 0;
    * right eye: In = yaw > 0, Out = yaw < 0.

    ``Left``/``Right`` in ARKit names are the subject's own eyes (ARKit's convention).
    ``EyeBlink*`` is the motion's ``blink`` (0 when absent); ``JawOpen`` is the ``jaw``
    opening (column 0, radians) over ``jaw_open_rad`` (0 when absent). Full-scale angles
    default to the eye's comfortable range (≈ 30° sideways, 25° up, 30° down); beyond them
    the coefficient saturates at 1.
    """

    inout_deg: float = 30.0
    up_deg: float = 25.0
    down_deg: float = 30.0
    jaw_open_rad: float = 0.35


ARKIT_BLENDSHAPES = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft", "EyeSquintLeft", "EyeWideLeft",
    "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight", "EyeSquintRight", "EyeWideRight",
    "JawForward", "JawRight", "JawLeft", "JawOpen",
    "MouthClose", "MouthFunnel", "MouthPucker", "MouthRight", "MouthLeft", "MouthSmileLeft", "MouthSmileRight",
    "MouthFrownLeft", "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft", "MouthPressRight",
    "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft", "MouthUpperUpRight",
    "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight",
    "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight", "TongueOut",
)
"""The 52 ARKit blendshapes in the column order of Live Link Face's CSV (PascalCase)."""

ARKIT_ROTATIONS = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                   "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
"""The 9 rotation columns after the blendshapes, normalised: degrees / 180 (±1 = ±180°)."""

ARKIT_COLUMNS = ("Timecode", "BlendShapeCount", *ARKIT_BLENDSHAPES, *ARKIT_ROTATIONS)
"""Header of the ARKit CSV: the Live Link Face layout (63 columns)."""

ARKIT_ROTATION_SCALE_DEG = 180.0
"""Rotation columns are ``angle / 180°`` (Unreal's ARKit face support maps −180..180° to −1..1)."""


def live_link_timecode(frame: int, fps: float) -> str:
    """``HH:MM:SS:FF.mmm`` of frame ``frame`` at ``fps``: ``FF`` the frame within the second,
    ``mmm`` the milliseconds within the second (Live Link Face's timecode)."""
    total = frame / float(fps)
    whole = int(np.floor(total + 1e-9))
    frac = max(total - whole, 0.0)
    mmm = int(round(frac * 1000.0))
    if mmm >= 1000:
        whole, frac, mmm = whole + 1, 0.0, 0
    ff = min(int(np.floor(frac * fps + 1e-6)), int(np.ceil(fps)) - 1)
    hh, rem = divmod(whole, 3600)
    mm, ss = divmod(rem, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}.{mmm:03d}"


def arkit_coefficients(motion: Motion, mapping: ArkitMapping | None = None) -> dict[str, np.ndarray]:
    """ARKit blendshape coefficients ``(T,)`` in 0..1 and normalised rotations ``(T,)`` by column name.

    Rotations are ``angle / 180°`` with Unreal's rotator signs on the avatar: pitch ``+`` =
    up (nose up), yaw ``+`` = towards the subject's *right*, roll ``+`` = top of the head
    towards the subject's *right* shoulder — so ``HeadYaw = -yaw / 180`` and ``HeadRoll =
    -roll / 180`` of stygaze's angles (yaw/roll ``+`` = left). Eye rolls are 0. Blendshapes
    stygaze does not produce are 0.
    """
    mp = mapping or ArkitMapping()
    m = fill_nan(motion)
    d = m.data.astype(np.float64)
    T = len(m)

    def c(x, scale):
        return np.clip(x / scale, 0.0, 1.0) + 0.0  # + 0.0 turns -0.0 into 0.0

    cols = {name: np.zeros(T) for name in ARKIT_BLENDSHAPES}
    blink = np.zeros(T) if m.blink is None else np.clip(m.blink.astype(np.float64), 0.0, 1.0)
    lp, ly, rp, ry = d[:, 3], d[:, 4], d[:, 5], d[:, 6]
    cols.update({
        "EyeBlinkLeft": blink,
        "EyeLookDownLeft": c(-lp, mp.down_deg),
        "EyeLookInLeft": c(-ly, mp.inout_deg),
        "EyeLookOutLeft": c(ly, mp.inout_deg),
        "EyeLookUpLeft": c(lp, mp.up_deg),
        "EyeBlinkRight": blink,
        "EyeLookDownRight": c(-rp, mp.down_deg),
        "EyeLookInRight": c(ry, mp.inout_deg),
        "EyeLookOutRight": c(-ry, mp.inout_deg),
        "EyeLookUpRight": c(rp, mp.up_deg),
    })
    if "jaw" in m.extras:
        cols["JawOpen"] = c(np.asarray(m.extras["jaw"], np.float64).reshape(T, -1)[:, 0], mp.jaw_open_rad)
    s = ARKIT_ROTATION_SCALE_DEG
    cols.update({
        "HeadYaw": -d[:, 1] / s + 0.0,
        "HeadPitch": d[:, 0] / s + 0.0,
        "HeadRoll": -d[:, 2] / s + 0.0,
        "LeftEyeYaw": -ly / s + 0.0,
        "LeftEyePitch": lp / s + 0.0,
        "LeftEyeRoll": np.zeros(T),
        "RightEyeYaw": -ry / s + 0.0,
        "RightEyePitch": rp / s + 0.0,
        "RightEyeRoll": np.zeros(T),
    })
    return cols


def export_arkit(motion: Motion, out_path: str | os.PathLike, mapping: ArkitMapping | None = None, *, fps: float | None = None) -> Path:
    """Write the ARKit CSV in the Live Link Face layout (:data:`ARKIT_COLUMNS`, one row per frame).

    ``fps`` resamples the motion first (Live Link Face records at 30 or 60 fps); default:
    the motion's own rate. ``BlendShapeCount`` is 61 (52 blendshapes + 9 rotations), as
    the app writes.
    """
    if fps is not None:
        motion = fill_nan(motion).resample(float(fps))
    cols = arkit_coefficients(motion, mapping)
    count = len(ARKIT_BLENDSHAPES) + len(ARKIT_ROTATIONS)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ARKIT_COLUMNS)
    for t in range(len(motion)):
        row = [live_link_timecode(t, motion.fps), str(count)]
        row += [f"{cols[k][t]:.6f}" for k in ARKIT_COLUMNS[2:]]
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

BVH_JAW_OFFSET_CM = (0.0, 7.5, -0.5)
"""Offset of the jaw hinge from the head joint, centimetres (the ``Jaw`` joint, only when the motion has ``jaw``)."""


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

    has_jaw = "jaw" in m.extras
    lines = [
        "HIERARCHY\nROOT Head\n{\n  OFFSET 0.0000 0.0000 0.0000\n",
        "  CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation\n",
        joint("LeftEye", (ex, ey, ez), 1),
        joint("RightEye", (-ex, ey, ez), 1),
        joint("Jaw", BVH_JAW_OFFSET_CM, 1) if has_jaw else "",
        "}\n",
        f"MOTION\nFrames: {len(m)}\nFrame Time: {1.0 / m.fps:.6f}\n",
    ]
    # BVH channel values: Y = yaw, X = -pitch, Z = -roll  (R = Ry(yaw) Rx(-pitch) Rz(-roll))
    cols = [np.zeros((len(m), 3)), d[:, 1], -d[:, 0], -d[:, 2], d[:, 4], -d[:, 3], np.zeros(len(m)), d[:, 6], -d[:, 5], np.zeros(len(m))]
    if has_jaw:
        # the FLAME jaw pose (axis-angle, radians, in the head frame = the BVH frame) as Y, X, Z
        # angles with R = Ry(Y) Rx(X) Rz(Z)
        from scipy.spatial.transform import Rotation

        jaw = np.asarray(m.extras["jaw"], np.float64).reshape(len(m), -1)[:, :3]
        cols.append(Rotation.from_rotvec(jaw).as_euler("YXZ", degrees=True))
    rows = np.column_stack(cols)
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
    """Export ``motion`` as ``fmt`` (``flame``, ``arkit``, ``bvh`` or ``gltf``) to ``out_path``.

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
    if fmt == "gltf":

        return export_gltf(motion, out, **kwargs)
    return export_bvh(motion, out)
