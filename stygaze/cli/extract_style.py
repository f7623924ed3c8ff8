"""``stygaze extract-style``: a reference motion clip -> a saved style vector (.npz)."""

from __future__ import annotations

from pathlib import Path

from stygaze.errors import StyleError
from stygaze.io import check_distinct_outputs
from stygaze.motion import Motion

DESCRIPTION = """\
Extract a style vector from a reference motion clip with a model's style encoder.

The output .npz holds 'style' (d_s,) and 'encoder_id'; `stygaze generate --style` accepts it
only with a model that has the same style encoder. The clip needs >= 2 s of valid frames.

example:
  stygaze extract-style --motion ref.npz -o style.npz
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("extract-style", help="motion clip -> style vector (.npz)", description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("--motion", required=True, help="reference motion .npz (T, 7)")
    p.add_argument("-o", "--out", required=True, help="output style vector .npz")
    p.add_argument("--model", default=None, help="checkpoint or run folder (default: the built-in model)")
    p.set_defaults(func=handle)


def handle(args) -> int:
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    out = Path(args.out)
    if out.suffix != ".npz":
        raise StyleError(f"output must be a .npz file, got {out}")
    check_distinct_outputs({"-o": out}, {"--motion": args.motion})
    motion = Motion.load(args.motion)
    style = StyGazeTalk.from_pretrained(args.model).extract_style(motion)
    style.save(out)
    print(out)
    return 0
