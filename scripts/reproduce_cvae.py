"""Reproduce the gaze → head cVAE ablation (frame-wise vs GRU vs GRU + context) on a corpus.

Trains the three configs (``configs/cvae_framewise.yaml``, ``configs/cvae_gru_nocontext.yaml``,
``configs/cvae.yaml``) on the corpus's train split (runs are resumable; existing runs are
reused) and reports on its test split, each test session cut into clips of ``--clip-seconds``
that are generated from their first frame with K samples:

* pitch / yaw angular error, degrees (mean over samples, and best-of-K: the sample with the
  lowest mean of the two per clip); lower is better;
* Pearson correlation with the real head per axis (mean over samples and clips); higher is better;
* jerk: mean ‖third difference‖ of the head, deg/frame³ (real head for reference); lower = smoother;
* diversity: average pairwise distance of the K samples, degrees (0 = identical samples);
* chunk-border jump ratio: mean head speed on chunk-border steps / on the other steps (≈ 1 = no jumps);
* CompScore and FixRatio (``stygaze.eval``) of gaze + generated head vs the real clip;
* coordination: for world-gaze yaw shifts ≥ 20°, the correlation between the shift and the head
  yaw change over the next second (positive = the head turns with the gaze).

The same statistics are also computed on a held-out *probe*: fresh SynHAGE sessions made with
another seed (``--probe-seed``), because a corpus's test split may hold no large gaze shift.

Usage (CPU, one thread, a few minutes per model)::

    .venv/bin/python scripts/reproduce_cvae.py --data runs/synhage

Writes ``scripts/results/cvae.json`` and ``scripts/results/cvae.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {
    "framewise": "configs/cvae_framewise.yaml",
    "gru": "configs/cvae_gru_nocontext.yaml",
    "gru_context": "configs/cvae.yaml",
}
LABELS = {"framewise": "frame-wise", "gru": "GRU (no context)", "gru_context": "GRU + context"}


def logged_minutes(run: Path) -> float:
    """Wall-clock training minutes of a run: ``seconds`` of the last ``RUN/log.jsonl`` record
    (the training loop counts them over every resumed call)."""
    lines = (run / "log.jsonl").read_text().splitlines()
    return json.loads(lines[-1])["seconds"] / 60.0


def test_clips(data_dir: Path, clip_frames: int, max_clips: int):
    """Real test clips (Motion) of ``clip_frames`` frames without NaN, at most ``max_clips``."""
    from stygaze.data.corpus import Corpus

    clips = []
    for session in Corpus(data_dir).sessions("test", required=False):
        m = session.load_motion(25)
        for s in range(0, len(m) - clip_frames + 1, clip_frames):
            c = m.slice(s, s + clip_frames)
            if not c.has_nan:
                clips.append(c)
    if not clips:
        raise SystemExit(f"no NaN-free test clip of {clip_frames} frames in {data_dir}")
    if len(clips) > max_clips:
        keep = np.linspace(0, len(clips) - 1, max_clips).astype(int)
        clips = [clips[i] for i in keep]
    return clips


def probe_clips(runs: Path, sessions: int, seed: int, clip_frames: int):
    """Held-out coordination probe: fresh SynHAGE sessions (1 min, new seed), cut into clips.

    The corpus's test split may hold no gaze shift of ≥ 20° (its sessions' styles can be
    low-amplitude), so eye–head coordination is measured on sessions drawn fresh from the same
    generator with another seed (never seen in training). Written once to ``runs/probe``.
    """
    from stygaze.data.corpus import synth_corpus
    from stygaze.motion import Motion

    root = runs / f"probe_s{seed}_n{sessions}"
    if not (root / "splits.json").exists():
        synth_corpus(root, sessions=sessions, minutes=1.0, seed=seed, progress=False)
    clips = []
    for d in sorted(p for p in root.iterdir() if (p / "motion.npz").exists()):
        m = Motion.load(d / "motion.npz")
        clips += [m.slice(s, s + clip_frames) for s in range(0, len(m) - clip_frames + 1, clip_frames)]
    return [c for c in clips if not c.has_nan]


def border_ratio(samples: np.ndarray, starts: list[int]) -> float:
    """Mean |head acceleration| on chunk-border steps / on the other steps, ``samples`` (K, T, 3).

    A border step is the step into a chunk's first frame (``starts[1:]``); ≈ 1 means the
    velocity is as continuous at the borders as inside the chunks, ≫ 1 means jumps.
    """
    acc = np.linalg.norm(np.diff(samples, n=2, axis=1), axis=-1)  # (K, T-2): acc[i] = x[i+2] - 2x[i+1] + x[i]
    border = np.zeros(acc.shape[1], bool)
    for s in starts[1:]:
        if 1 <= s - 1 < acc.shape[1]:
            border[s - 2 : s] = True  # the two second differences that involve the step into frame s
    return float(acc[:, border].mean() / acc[:, ~border].mean())


def coordination(amps: list, resp: list) -> dict:
    a, r = np.concatenate(amps) if amps else np.zeros(0), np.concatenate(resp) if resp else np.zeros(0)
    if len(a) < 3:
        return {"shifts": int(len(a)), "r": float("nan"), "slope": float("nan"), "same_sign": float("nan")}
    return {
        "shifts": int(len(a)),
        "r": float(np.corrcoef(a, r)[0, 1]),
        "slope": float(np.polyfit(a, r, 1)[0]),
        "same_sign": float(np.mean(np.sign(a) == np.sign(r))),
    }


def evaluate(model, clips, K: int, seed: int, min_shift: float = 20.0) -> dict:
    from stygaze.eval import comp_score, fix_ratio
    from stygaze.motion import Motion
    from stygaze.cvae.pipeline import (
        gaze_shift_head_response,
        generate_heads,
        head_angular_errors,
        head_correlations,
        head_jerk,
        sample_diversity,
    )

    err, best, corr, jerk, div, border, comp, fix, fix_eye = [], [], [], [], [], [], [], [], []
    amps, resp = [], []
    t_gen = 0.0
    for i, clip in enumerate(clips):
        t0 = time.perf_counter()
        res = generate_heads(clip, model=model, num_samples=K, seed=seed + i)
        t_gen += time.perf_counter() - t0
        heads = res.samples[:, :, :3]
        e = head_angular_errors(heads, clip.head)  # (K, 2)
        err.append(e.mean(0))
        best.append(e[np.argmin(e.mean(1))])
        corr.append(np.nanmean(head_correlations(heads, clip.head), 0))
        jerk.append(head_jerk(heads))
        div.append(sample_diversity(heads))
        if model.config.temporal == "gru":
            border.append(border_ratio(heads, model.chunk_starts(len(clip))))
        for k in range(K):
            m = Motion(res.samples[k])
            comp.append(comp_score(m))
            fix.append(fix_ratio(m))
            fix_eye.append(fix_ratio(m, signal="eye"))
            a, r = gaze_shift_head_response(m.world_gaze_angles()[:, 1], m.head[:, 1], min_amplitude=min_shift)
            amps.append(a)
            resp.append(r)
    err, best, corr = np.array(err), np.array(best), np.array(corr)
    return {
        "pitch_err_mean": float(err[:, 0].mean()),
        "yaw_err_mean": float(err[:, 1].mean()),
        "pitch_err_best_of_k": float(best[:, 0].mean()),
        "yaw_err_best_of_k": float(best[:, 1].mean()),
        "corr_pitch": float(np.nanmean(corr[:, 0])),
        "corr_yaw": float(np.nanmean(corr[:, 1])),
        "corr_roll": float(np.nanmean(corr[:, 2])),
        "jerk": float(np.mean(jerk)),
        "diversity": float(np.mean(div)),
        "border_jump_ratio": float(np.mean(border)) if border else None,
        "comp_score": float(np.nanmean(comp)),
        "fix_ratio": float(np.nanmean(fix)),
        "fix_ratio_eye": float(np.nanmean(fix_eye)),
        "coordination": coordination(amps, resp),
        "generate_seconds_per_clip": t_gen / len(clips),
    }


def reference(clips, min_shift: float = 20.0) -> dict:
    """The same statistics for the real head (the targets)."""
    from stygaze.eval import comp_score, fix_ratio
    from stygaze.cvae.pipeline import gaze_shift_head_response, head_jerk

    amps, resp = [], []
    for c in clips:
        a, r = gaze_shift_head_response(c.world_gaze_angles()[:, 1], c.head[:, 1], min_amplitude=min_shift)
        amps.append(a)
        resp.append(r)
    return {
        "jerk": float(np.mean([head_jerk(c.head) for c in clips])),
        "comp_score": float(np.nanmean([comp_score(c) for c in clips])),
        "fix_ratio": float(np.nanmean([fix_ratio(c) for c in clips])),
        "fix_ratio_eye": float(np.nanmean([fix_ratio(c, signal="eye") for c in clips])),
        "coordination": coordination(amps, resp),
    }


def markdown(report: dict) -> str:
    r, ref = report["results"], report["real_head"]
    lines = [
        "| model | pitch err ° (mean / best-of-K) | yaw err ° (mean / best-of-K) | corr pitch / yaw / roll ↑ | jerk ↓ | diversity ° | border jump ratio | CompScore | FixRatio world / eye-in-head |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, v in r.items():
        br = "–" if v["border_jump_ratio"] is None else f"{v['border_jump_ratio']:.2f}"
        c = v["coordination"]
        lines.append(
            f"| {LABELS[name]} | {v['pitch_err_mean']:.2f} / {v['pitch_err_best_of_k']:.2f} | {v['yaw_err_mean']:.2f} / {v['yaw_err_best_of_k']:.2f} | "
            f"{v['corr_pitch']:.3f} / {v['corr_yaw']:.3f} / {v['corr_roll']:.3f} | {v['jerk']:.4f} | {v['diversity']:.2f} | {br} | "
            f"{v['comp_score']:.3f} | {v['fix_ratio']:.3f} / {v['fix_ratio_eye']:.3f} |"
        )
    c = ref["coordination"]
    lines.append(f"| real head | – | – | 1 / 1 / 1 | {ref['jerk']:.4f} | – | – | {ref['comp_score']:.3f} | {ref['fix_ratio']:.3f} / {ref['fix_ratio_eye']:.3f} |")
    if "probe" in report["setup"]:
        lines += [
            "",
            f"Held-out probe with large gaze shifts ({report['setup']['probe']}; the test split has {c['shifts']} "
            f"world-gaze yaw shifts ≥ {report['setup'].get('min_shift', 20.0):g}°): "
            "correlation with the real head, jerk, diversity, and eye–head coordination = Pearson r between the "
            "world-gaze yaw shift and the head yaw change over the next second (slope = head share of the shift; "
            "same sign = share of shifts the head follows).",
            "",
            "| model | corr pitch / yaw / roll ↑ | jerk ↓ | diversity ° | coord. r ↑ | slope | same sign | shifts |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, v in list(r.items()) + [("real", ref)]:
            pv = v.get("probe")
            if not pv:
                continue
            c = pv["coordination"]
            corr = "1 / 1 / 1" if name == "real" else f"{pv['corr_pitch']:.3f} / {pv['corr_yaw']:.3f} / {pv['corr_roll']:.3f}"
            div = "–" if name == "real" else f"{pv['diversity']:.2f}"
            lines.append(
                f"| {LABELS.get(name, 'real head')} | {corr} | {pv['jerk']:.4f} | {div} | {c['r']:.2f} | {c['slope']:.2f} | {c['same_sign']:.2f} | {c['shifts']} |"
            )
    s = report["setup"]
    head = (
        f"Test split of `{s['data']}`: {s['clips']} clips of {s['clip_seconds']} s, K = {s['samples']} samples each "
        f"(seeded). Training: {s['training']}.\n\n"
    )
    notes = (
        "\n\nJerk: mean ‖third difference‖ of the head (deg/frame³). Diversity: mean pairwise distance of the K "
        "samples (deg). Border jump ratio: mean |head acceleration| at chunk borders / elsewhere (1 = no jump). "
        "FixRatio on world gaze equals the input's by construction (the world gaze is kept); the eye-in-head "
        "FixRatio depends on the generated head. Coordination is pooled over clips and samples (JSON `coordination`).\n"
    )
    return head + "\n".join(lines) + notes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="runs/synhage", help="corpus folder (splits.json + sessions)")
    ap.add_argument("--runs", default="runs/cvae_repro", help="folder for the three training runs (reused when present)")
    ap.add_argument("--out", default="scripts/results", help="where cvae.json / cvae.md go")
    ap.add_argument("--max-minutes", type=float, default=None, help="optional wall-clock cap per model (minutes; makes the run depend on the machine speed)")
    ap.add_argument("--max-epochs", type=int, default=None, help="cap on epochs per model")
    ap.add_argument("--samples", type=int, default=10, help="K samples per clip")
    ap.add_argument("--clip-seconds", type=float, default=10.0)
    ap.add_argument("--max-clips", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--probe-sessions", type=int, default=6, help="fresh 1-min SynHAGE sessions for the coordination probe (0: skip)")
    ap.add_argument("--probe-seed", type=int, default=1000, help="corpus seed of the probe sessions (differs from the training corpus)")
    ap.add_argument("--min-shift", type=float, default=20.0, help="smallest world-gaze yaw shift (deg) counted for coordination")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ",".join(VARIANTS))
    args = ap.parse_args(argv)

    import torch

    from stygaze.cvae.model import HeadCVAE
    from stygaze.cvae.train import load_train_config, train_cvae

    torch.set_num_threads(args.threads)
    data = Path(args.data)
    clip_frames = int(round(args.clip_seconds * 25))
    clips = test_clips(data, clip_frames, args.max_clips)
    probe = probe_clips(Path(args.runs), args.probe_sessions, args.probe_seed, clip_frames) if args.probe_sessions > 0 else []
    results, training = {}, {}
    for name in args.variants.split(","):
        cfg = load_train_config(REPO / VARIANTS[name])
        run = Path(args.runs) / name
        res = train_cvae(cfg, data, run, max_epochs=args.max_epochs, max_minutes=args.max_minutes, progress=sys.stderr.isatty())
        training[name] = {"epochs": res.epochs, "stopped": res.stopped, "best_val": res.best_val, "train_minutes": logged_minutes(run)}
        print(f"[{name}] trained: {training[name]}", file=sys.stderr)
        model = HeadCVAE.from_pretrained(res.best_path)
        results[name] = evaluate(model, clips, args.samples, args.seed, args.min_shift)
        if probe:
            results[name]["probe"] = evaluate(model, probe, args.samples, args.seed, args.min_shift)
        print(f"[{name}] {json.dumps(results[name])}", file=sys.stderr)
    report = {
        "setup": {
            "data": str(args.data),
            "clips": len(clips),
            "clip_seconds": args.clip_seconds,
            "samples": args.samples,
            "seed": args.seed,
            "threads": args.threads,
            "training": f"configs as shipped (epochs from the YAML{', capped at ' + str(args.max_minutes) + ' min' if args.max_minutes else ''}) on {args.threads} CPU thread(s)",
            "command": "python scripts/reproduce_cvae.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        },
        "training": training,
        "results": results,
        "real_head": reference(clips, args.min_shift),
    }
    if probe:
        report["setup"]["probe"] = f"{len(probe)} clips from {args.probe_sessions} fresh SynHAGE sessions (seed {args.probe_seed}), shifts >= {args.min_shift} deg"
        report["real_head"]["probe"] = reference(probe, args.min_shift)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cvae.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "cvae.md").write_text("# Gaze → head cVAE ablation\n\n" + markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
