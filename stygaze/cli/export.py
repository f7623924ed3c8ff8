"""``stygaze export``: motion → FLAME pose parameters, ARKit CSV, BVH or glTF."""

from __future__ import annotations

from stygaze.io import check_distinct_outputs
from stygaze.cli.argtypes import fps
from stygaze.motion import Motion

DESCRIPTION = """\
Export a motion file to a format avatar tools read:

  flame  .npz  per-frame FLAME axis-angle poses: global_pose, neck_pose, jaw_pose, eye_pose (left, right)
  arkit  .csv  Live Link Face layout: Timecode, BlendShapeCount, the 52 ARKit blendshapes (EyeLook*,
               EyeBlink*, JawOpen filled), HeadYaw..RightEyeRoll as angle/180 (Unreal, MetaHuman)
  bvh    .bvh  Head joint with LeftEye/RightEye children (Blender: File > Import > Motion Capture)
  gltf   .glb  the procedural head animated (head, eyes, lids; blink and jaw as morph targets when
               present): Blender, three.js, Unity (glTFast), Godot

  stygaze export motion.npz --format bvh -o motion.bvh
  stygaze export motion.npz --format arkit --fps 60 -o motion.csv
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("export", help="export motion to FLAME parameters, ARKit CSV (Live Link Face), BVH or glTF",
                       description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("motion", help="motion .npz file")
    p.add_argument("--format", required=True, help="flame | arkit | bvh | gltf")
    p.add_argument("-o", "--output", required=True, help="output file (.npz / .csv / .bvh / .glb, written atomically)")
    p.add_argument("--fps", type=fps, help="arkit only: resample to this frame rate (Live Link Face records at 30 or 60)")
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
    if args.fps is not None and (fmt != "arkit" or not 1 <= args.fps <= 240):
        raise RenderError("--fps applies to --format arkit only, between 1 and 240")
    check_distinct_outputs({"-o": args.output}, {"MOTION": args.motion})
    motion = Motion.load(args.motion)
    kwargs = {"head_joint": args.head_joint} if fmt == "flame" else {}
    if args.fps is not None:
        kwargs["fps"] = args.fps
    print(export_motion(motion, args.output, fmt, **kwargs))
    return 0
