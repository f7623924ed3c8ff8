"""``stygaze export``: motion → FLAME pose parameters, ARKit CSV or BVH."""

from __future__ import annotations

from stygaze.motion import Motion

DESCRIPTION = """\
Export a motion file to a format avatar tools read:

  flame  .npz  per-frame FLAME axis-angle poses: global_pose, neck_pose, jaw_pose, eye_pose (left, right)
  arkit  .csv  eyeLook{Up,Down,In,Out}{Left,Right} + eyeBlink in 0..1, head pitch/yaw/roll in degrees
  bvh    .bvh  Head joint with LeftEye/RightEye children (Blender: File > Import > Motion Capture)

  stygaze export motion.npz --format bvh -o motion.bvh
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("export", help="export motion to FLAME parameters, ARKit CSV or BVH",
                       description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("motion", help="motion .npz file")
    p.add_argument("--format", required=True, help="flame | arkit | bvh")
    p.add_argument("-o", "--output", required=True, help="output file (.npz / .csv / .bvh, written atomically)")
    p.add_argument("--head-joint", default="global",
                   help="flame only: put the head rotation in global_pose (global) or neck_pose (neck)")
    p.set_defaults(func=run)


def run(args) -> int:
    from stygaze.render.config import RenderError
    from stygaze.render.exports import FORMATS, export_motion

    fmt = str(args.format).strip().lower()
    if fmt not in FORMATS:
        raise RenderError(f"unknown export format {args.format!r}: choose one of {', '.join(FORMATS)}")
    if fmt != "flame" and args.head_joint != "global":
        raise RenderError("--head-joint only applies to --format flame")
    motion = Motion.load(args.motion)
    kwargs = {"head_joint": args.head_joint} if fmt == "flame" else {}
    print(export_motion(motion, args.output, fmt, **kwargs))
    return 0
