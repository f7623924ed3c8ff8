"""Check the built-in StyGazeTalk model against SynHAGE ground truth on the corpus test split.

    .venv/bin/python eval/check_builtin.py [--data runs/synhage] [--model PATH] [--json out.json]

For every test session (unseen speech and unseen speakers' styles) it generates motion
from the session's audio with

- ``neutral``: the model's neutral style (no reference),
- ``style``: the style extracted from the session's own first ``--ref-seconds`` of motion
  (a reference clip of that speaker; the metrics still cover the whole session),
- ``shuffled``: the neutral style but *another session's* audio (cropped/tiled to length),
  the control for "audio matters": its BAS is computed against the real audio,

plus the ``procedural`` SynHAGE baseline (mid-range style, seed 0). It prints pooled
FixRatio / CompScore / Sim vs the ground truth (stygaze.eval.EvalAccumulator), MAE / Vel /
MEE / BAS for All, Gaze and Head, and the ground truth's own BAS.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    import torch

    from stygaze.audio import SAMPLE_RATE, load_audio
    from stygaze.eval import EvalAccumulator
    from stygaze.motion import Motion
    from stygaze.pipeline import StyGazeTalk
    from stygaze.train.style import read_splits

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT / "runs" / "synhage"))
    ap.add_argument("--model", default=None, help="model folder (default: built-in)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--ref-seconds", type=float, default=20.0)
    ap.add_argument("--limit", type=int, default=None, help="first N sessions only")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-procedural", action="store_true")
    ap.add_argument("--temperature", type=float, default=None, help="latent sampling temperature (default: the model's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    pipe = StyGazeTalk.from_pretrained(args.model)
    names = read_splits(args.data)[args.split][: args.limit]
    data = Path(args.data)
    sessions = [(n, load_audio(data / n / "audio.wav"), Motion.load(data / n / "motion.npz")) for n in names]
    rows = ["neutral", "style", "shuffled", "procedural", "gt"]
    if args.no_procedural:
        rows.remove("procedural")
    acc = {r: EvalAccumulator() for r in rows}
    t0 = time.time()
    for i, (name, audio, gt) in enumerate(sessions):
        T = len(gt)
        S = T * 640
        audio = np.resize(audio, S) if len(audio) < S else audio[:S]  # exact length
        kw = dict(seed=args.seed, temperature=args.temperature)
        pred = pipe.generate(audio, sr=SAMPLE_RATE, **kw)
        acc["neutral"].add(pred, gt, audio, name=name)
        ref = gt.slice(0, min(T, int(args.ref_seconds * 25)))
        acc["style"].add(pipe.generate(audio, style=pipe.extract_style(ref), **kw), gt, audio, name=name)
        other = sessions[(i + 1) % len(sessions)][1]
        other = np.resize(other, S)
        acc["shuffled"].add(pipe.generate(other, **kw), gt, audio, name=name)
        if "procedural" in acc:
            from stygaze.data.synth import procedural_generate

            acc["procedural"].add(procedural_generate(audio, seed=0), gt, audio, name=name)
        acc["gt"].add(gt, gt, audio, name=name)
    results = {r: a.result() for r, a in acc.items()}
    print(f"{len(sessions)} {args.split} sessions, {sum(len(s[2]) for s in sessions) / 25 / 60:.1f} min, model {pipe.source}, {time.time() - t0:.0f} s")
    head = f"{'row':<11}{'FixRatio':>9}{'(GT)':>7}{'Comp':>8}{'(GT)':>8}{'Sim':>7}{'MAE all':>9}{'gaze':>7}{'head':>7}{'Vel all':>9}{'MEE all':>9}{'BAS all':>9}{'gaze':>7}{'head':>7}"
    print(head)
    for r, res in results.items():
        p = res["pattern"]
        f = lambda v, s=".3f": "-" if v is None else format(v, s)  # noqa: E731
        print(
            f"{r:<11}{f(p['fix_ratio_pred']):>9}{f(p['fix_ratio_gt']):>7}{f(p['comp_pred']):>8}{f(p['comp_gt']):>8}{f(p['sim']):>7}"
            f"{f(res['all']['mae'], '.2f'):>9}{f(res['gaze']['mae'], '.2f'):>7}{f(res['head']['mae'], '.2f'):>7}"
            f"{f(res['all']['vel']):>9}{f(res['all']['mee']):>9}{f(res['all']['bas']):>9}{f(res['gaze']['bas']):>7}{f(res['head']['bas']):>7}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
