"""Benchmark: seconds to synthesise one hour of SynHAGE motion (excluding text-to-speech).

    .venv/bin/python scripts/bench_synth.py [--minutes 60] [--repeats 3] [--json out.json]
    .venv/bin/python scripts/bench_synth.py --stats runs/synhage     # human-likeness of a corpus

Speech: a 5-minute espeak-ng conversation (made once, not timed) tiled to the requested
length. Timed: everything ``stygaze.data.synhage.synth.synthesize`` does with that audio: speech
analysis (voice activity, onset envelope, tempo and beat tracking) and the motion simulation
at 250 Hz, down-sampling, eye-in-head composition and labels (one process, numpy/scipy
with their default threads). Reports the best of ``--repeats`` runs in wall-clock and CPU
seconds (CPU time is the fairer figure on a shared machine) and the analysis share.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np



def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0, help="length of motion to synthesise")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs (best is reported)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the numbers here")
    ap.add_argument("--stats", default=None, metavar="CORPUS", help="instead: measure a corpus with the foundation metrics")
    args = ap.parse_args()
    if args.stats:
        return corpus_stats(args.stats, args.json)

    from stygaze.features.rhythm import rhythmic_beats
    from stygaze.data.synhage.speech import synth_conversation
    from stygaze.data.synhage import synthesize

    conv = synth_conversation(300.0, np.random.default_rng(args.seed))
    n = int(args.minutes * 60 * 16000)
    audio = np.tile(conv.audio, int(np.ceil(n / len(conv.audio))))[:n]
    synthesize(audio[: 16000 * 10], seed=0)  # warm-up (imports)

    totals, cpus, analysis = [], [], []
    for r in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        res = synthesize(audio, seed=args.seed + r)
        totals.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        t0 = time.perf_counter()
        rhythmic_beats(audio)
        analysis.append(time.perf_counter() - t0)
    best = min(totals)
    out = {
        "minutes": args.minutes,
        "frames": len(res.motion),
        "seconds_best": round(best, 2),
        "seconds_all": [round(t, 2) for t in totals],
        "cpu_seconds_best": round(min(cpus), 2),
        "seconds_rhythm_analysis_best": round(min(analysis), 2),
        "seconds_per_hour": round(best * 60.0 / args.minutes, 2),
        "cpu": platform.processor() or platform.machine(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    print(
        f"SynHAGE: {args.minutes:g} min of motion ({out['frames']} frames) in {best:.2f} s "
        f"wall, {min(cpus):.2f} s CPU (best of {args.repeats}; beat/onset analysis {min(analysis):.2f} s wall of it) "
        f"-> {out['seconds_per_hour']:.2f} s per hour; load average {out['load_average']:.1f}"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


def corpus_stats(root: str, json_path: str | None) -> int:
    """FixRatio, CompScore, blink rate, head share by amplitude and BAS (own vs other
    sessions' audio) of a corpus, with stygaze.eval's functions."""
    from stygaze.data.corpus import Corpus
    from stygaze.features.rhythm import rhythmic_beats
    from stygaze.data.synhage import head_share_by_amplitude
    from stygaze.eval.beats import beat_alignment_score, motion_beats
    from stygaze.eval.patterns import comp_score, fix_ratio

    sessions = Corpus(root).sessions()
    fixes, comps, frames, blinks, beats, heads, pairs = [], [], [], [], [], [], []
    for s in sessions:
        m = s.load_motion()
        pairs.append((m, s.load_events() or {}))
        fixes.append(fix_ratio(m))
        comps.append(comp_score(m))
        frames.append(len(m))
        blinks.append(int((np.diff((m.blink > 0.5).astype(int)) == 1).sum()))
        beats.append(rhythmic_beats(s.load_audio(normalize=False))[0])  # = stygaze.eval.beats.audio_beats (tested)
        heads.append(motion_beats(m.head))
    n = len(sessions)
    gt = [beat_alignment_score(beats[i], heads[i]) for i in range(n)]
    ctrl = [np.mean([beat_alignment_score(beats[j], heads[i]) for j in range(n) if j != i]) for i in range(n)]
    minutes = sum(frames) / 25 / 60
    out = {
        "sessions": n,
        "minutes": round(minutes, 1),
        "fix_ratio_pooled": round(float(np.average(fixes, weights=frames)), 3),
        "fix_ratio_range": [round(min(fixes), 3), round(max(fixes), 3)],
        "comp_score_mean": round(float(np.mean(comps)), 3),
        "blinks_per_min": round(sum(blinks) / minutes, 1),
        "head_share_by_amplitude": {k: None if v is None else round(v, 3) for k, (v, _) in head_share_by_amplitude(pairs).items()},
        "bas_head_own_audio": round(float(np.mean(gt)), 3),
        "bas_head_other_audio": round(float(np.mean(ctrl)), 3),
        "bas_own_above_other_sessions": int(np.sum(np.array(gt) > np.array(ctrl))),
    }
    print(json.dumps(out, indent=1))
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
