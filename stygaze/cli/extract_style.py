"""``stygaze extract-style``: reference motion clips -> a saved style vector (.npz)."""

from __future__ import annotations

from pathlib import Path

from stygaze.errors import StyleError
from stygaze.io import check_distinct_outputs
from stygaze.motion import Motion

DESCRIPTION = """\
Extract a style vector from a reference motion clip with a model's style encoder.

The output .npz holds 'style' (d_s,), 'encoder_id' and the clip's head statistics
('head_stats': per-axis amplitude and speed, which `generate` matches); `stygaze generate
--style` accepts it only with a model that has the same style encoder. Each clip needs >= 2 s
of valid frames.

Several clips of one speaker give the speaker's style: the learned styles are averaged by
length and the head statistics are the speaker's pooled figures. One clip conveys that clip's
manner, and a speaker's clips can differ a lot (one talk animated, another calm).

examples:
  stygaze extract-style --motion ref.npz -o style.npz
  stygaze extract-style --motion talk1.npz talk2.npz talk3.npz -o speaker.npz
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("extract-style", help="motion clip(s) -> style vector (.npz)", description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("--motion", required=True, nargs="+", metavar="MOTION",
                   help="reference motion .npz (T, 7); several clips of one speaker give the speaker's style")
    p.add_argument("-o", "--out", required=True, help="output style vector .npz")
    p.add_argument("--model", default=None, help="checkpoint or run folder (default: the built-in model)")
    p.set_defaults(func=handle)


def handle(args) -> int:
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    out = Path(args.out)
    if out.suffix != ".npz":
        raise StyleError(f"output must be a .npz file, got {out}")
    check_distinct_outputs({"-o": out}, {"--motion": args.motion})
    paths = [Path(p) for p in args.motion]
    motion = Motion.load(paths[0]) if len(paths) == 1 else paths  # several: each error names its file
    style = StyGazeTalk.from_pretrained(args.model).extract_style(motion)
    style.save(out)
    print(out)
    return 0
