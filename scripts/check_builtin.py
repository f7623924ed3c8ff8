"""Check the built-in StyGazeTalk model against SynHAGE ground truth on held-out sessions.

    .venv/bin/python scripts/check_builtin.py [--data runs/synhage] [--splits test] [--seeds 3]
                                           [--model PATH] [--json out.json] [--md out.md]

For every session of the chosen splits (unseen speech and unseen speakers' styles) and
every seed it generates motion from the session's audio with

- ``neutral``: the model's neutral style (no reference),
- ``style``: the style extracted from the session's own first ``--ref-seconds`` of motion
  (a reference clip of that speaker; the metrics still cover the whole session),
- ``shuffled``: the neutral style but *another session's* audio (tiled to length), the
  control for "audio matters": its BAS is computed against the real audio,
- ``stream`` / ``stream, shuffled`` (models with a beat channel only): as ``neutral`` /
  ``shuffled`` but with the causal beat tracker a stream uses (``online_beats=True``, equal
  to :meth:`StyGazeTalk.stream` output),

each the model's own output (``raw=True``) and through the gaze-event stage (``+sacc``,
:mod:`stygaze.stygazetalk.saccades`, driven by the session's voice activity), plus
the ``procedural`` SynHAGE baseline (mid-range style) and the ground truth itself (``gt``;
``gt, other audio`` scores the ground-truth motion against another session's audio: the
chance level of BAS on this corpus).

**Audio dependence**, beyond BAS (whose margin is small even for the ground truth: compare
``gt`` with ``gt, other audio``), from the session's speech events (``events.json``):
the stress-locked head pitch (the mean over stressed syllables of the head pitch in
±0.6 s around each, every window minus its own mean; SynHAGE nods on stresses, and as they
come about every 0.45 s the ground truth's curve oscillates): its peak-to-peak (degrees)
and its correlation with the ground truth's curve of the same session; ``speak/listen`` =
mean head speed while the person speaks divided by that while they listen. With shuffled
audio they should fall towards the no-coupling level (small peak-to-peak, correlation ≈ 0,
ratio ≈ 1).

Pattern metrics (FixRatio, CompScore, Sim) are pooled per row, against the corpus ground
truth (with the simulated eye-tracker noise) and against the **noise-free** ground truth
(:func:`stygaze.data.corpus.noise_free_motion`: the same sessions re-synthesized without
tracker noise). MAE and BAS are pooled too; BAS also gets a standard error over the
(session, seed) runs, because differences of ±0.01 are within noise on a few sessions, and
the own-minus-other-audio BAS difference is reported paired over the same runs.
**Posture transfer**: over sessions, the correlation between the speaker's mean world-gaze
pitch / head roll / head pitch and the generated ones (style row, seed 0).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    import torch

    from stygaze.audio import SAMPLE_RATE, load_audio
    from stygaze.data.corpus import noise_free_motion
    from stygaze.data.procedural import procedural_generate
    from stygaze.eval import EvalAccumulator
    from stygaze.eval.beats import audio_beats, beat_alignment_score, motion_beats
    from stygaze.features.voice import voice_activity
    from stygaze.stygazetalk.saccades import apply_saccade_stage
    from stygaze.motion import Motion
    from stygaze.stygazetalk.pipeline import StyGazeTalk
    from stygaze.data.corpus import Corpus

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT / "runs" / "synhage"))
    ap.add_argument("--model", default=None, help="model folder (default: built-in)")
    ap.add_argument("--splits", default="test", help="comma-separated splits (default: test)")
    ap.add_argument("--seeds", type=int, default=3, help="generation seeds per session (default 3)")
    ap.add_argument("--ref-seconds", type=float, default=20.0)
    ap.add_argument("--limit", type=int, default=None, help="first N sessions only")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--temperature", type=float, default=None, help="latent sampling temperature (default: the model's)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--md", default=None, help="also write the table as markdown")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    pipe = StyGazeTalk.from_pretrained(args.model)
    splits = Corpus(args.data).splits()
    names = [n for s in args.splits.split(",") for n in splits[s.strip()]][: args.limit]
    data = Path(args.data)
    sessions = []
    for n in names:
        gt = Motion.load(data / n / "motion.npz")
        audio = np.resize(load_audio(data / n / "audio.wav"), len(gt) * 640)  # exact length
        sessions.append((n, audio, gt, noise_free_motion(data / n)))
    rows = ["neutral", "neutral+sacc", "style", "style+sacc", "shuffled", "shuffled+sacc", "procedural", "gt", "gt, other audio"]
    beat_model = pipe.model.generator.config.beat_feature
    if beat_model:  # what a stream gives: the causal beat tracker instead of the whole clip's beats
        rows[6:6] = ["stream", "stream, shuffled"]
    acc = {r: EvalAccumulator() for r in rows}
    clean = {r: EvalAccumulator() for r in rows}
    bas = {r: [] for r in rows}  # per run: (all, gaze, head)
    dep = {r: [] for r in rows}  # per run: (stress-locked pitch peak-to-peak, speak/listen head speed ratio, correlation with the GT curve)
    fast_clean = []
    fast = {r: [] for r in rows}  # per run: share of frames whose world gaze moves > 2°/frame (50 °/s: saccades)
    chans = (list(range(7)), [3, 4, 5, 6], [0, 1, 2])
    t0 = time.time()

    def saccadic_share(m):
        """Share of frame steps whose world gaze moves more than 2° (50 °/s at 25 fps: saccades)."""
        step = np.linalg.norm(np.diff(m.world_gaze_angles(), axis=0), axis=1)
        return float(np.mean(step[np.isfinite(step)] > 2.0))

    def stress_curve(m, ev):
        """Mean head pitch around stressed syllables (±0.6 s, each window minus its own mean)."""
        p = m.data[:, 0].astype(np.float64)
        w = np.arange(-15, 16)
        idx = np.round(np.asarray(ev["stress_s"]) * 25).astype(int)
        idx = idx[(idx + w[0] >= 0) & (idx + w[-1] < len(p))]
        if not len(idx):
            return np.full(len(w), np.nan)
        win = p[idx[:, None] + w[None, :]]
        return np.nanmean(win - np.nanmean(win, axis=1, keepdims=True), axis=0)

    def audio_dependence(m, ev, gt_curve):
        p = m.data[:, 0].astype(np.float64)
        curve = stress_curve(m, ev)
        nod = float(np.ptp(curve))
        corr = float(np.corrcoef(curve, gt_curve)[0, 1]) if np.isfinite(curve).all() and np.isfinite(gt_curve).all() else float("nan")
        speed = np.r_[0.0, np.linalg.norm(np.diff(m.data[:, :3], axis=0), axis=1)]
        t = np.arange(len(p)) / 25.0
        def mask(spans):
            out = np.zeros(len(p), bool)
            for a, b in spans:
                out |= (t >= a) & (t < b)
            return out
        speak, listen = mask(ev["utterances"]), mask(ev["listening"])
        ratio = float(speed[speak].mean() / speed[listen].mean()) if speak.any() and listen.any() else float("nan")
        return [nod, ratio, corr]

    def add(row, pred, gt, clean_gt, audio, beats, name, speech=None):
        """Score one prediction; ``speech`` = (the session's events, the GT's stress-locked curve) adds the audio-dependence measures."""
        acc[row].add(pred, gt, audio, name=name)
        clean[row].add(pred, clean_gt, name=name)
        bas[row].append([beat_alignment_score(beats, motion_beats(pred.data[:, c])) for c in chans])
        fast[row].append(saccadic_share(pred))
        if speech is not None:
            dep[row].append(audio_dependence(pred, *speech))

    posture = []  # per session (seed 0, style row): GT and generated means of world-gaze pitch, head roll, head pitch

    def posture_means(m):
        d = m.data.astype(np.float64)
        return [float(np.nanmean(m.world_gaze_angles()[:, 0])), float(np.nanmean(d[:, 2])), float(np.nanmean(d[:, 0]))]

    for i, (name, audio, gt, clean_gt) in enumerate(sessions):
        ev = json.loads((data / name / "events.json").read_text())
        speech = (ev, stress_curve(gt, ev))
        beats = audio_beats(audio, SAMPLE_RATE)
        other = np.resize(sessions[(i + 1) % len(sessions)][1], len(audio))
        ref_style = pipe.extract_style(gt.slice(0, min(len(gt), int(args.ref_seconds * 25))))
        speaking = voice_activity(audio, frames=len(gt)).speaking
        for seed in range(args.seeds):
            kw = dict(seed=seed, temperature=args.temperature, raw=True)
            for row, pred in (
                ("neutral", pipe.generate(audio, sr=SAMPLE_RATE, **kw)),
                ("style", pipe.generate(audio, sr=SAMPLE_RATE, style=ref_style, **kw)),
                ("shuffled", pipe.generate(other, sr=SAMPLE_RATE, **kw)),
            ):
                add(row, pred, gt, clean_gt, audio, beats, name, speech)
                if row == "style" and seed == 0:
                    posture.append(posture_means(gt) + posture_means(pred))
                add(row + "+sacc", Motion(apply_saccade_stage(pred.data, seed=seed, speaking=speaking)), gt, clean_gt, audio, beats, name)
            if beat_model:
                add("stream", pipe.generate(audio, sr=SAMPLE_RATE, online_beats=True, **kw), gt, clean_gt, audio, beats, name, speech)
                add("stream, shuffled", pipe.generate(other, sr=SAMPLE_RATE, online_beats=True, **kw), gt, clean_gt, audio, beats, name, speech)
            add("procedural", procedural_generate(audio, seed=seed), gt, clean_gt, audio, beats, name, speech)
        add("gt", gt, gt, clean_gt, audio, beats, name, speech)
        fast_clean.append(saccadic_share(clean_gt))
        other_beats = audio_beats(other, SAMPLE_RATE)
        bas["gt, other audio"].append([beat_alignment_score(other_beats, motion_beats(gt.data[:, c])) for c in chans])
    rows.remove("gt, other audio")
    results = {}
    for r in rows:
        res, cres = acc[r].result(), clean[r].result()
        b = np.asarray(bas[r])
        results[r] = {**res, "pattern_noise_free": cres["pattern"], "saccadic_frames": float(np.mean(fast[r])),
                      "bas_runs_mean": b.mean(0).tolist(),
                      "bas_runs_se": (b.std(0, ddof=1) / np.sqrt(len(b))).tolist() if len(b) > 1 else [0.0] * 3}
        if dep[r]:
            d = np.asarray(dep[r])
            se = np.nanstd(d, axis=0, ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.zeros(3)
            results[r]["audio_dependence"] = {"nod_p2p_deg": float(np.nanmean(d[:, 0])), "speak_listen_ratio": float(np.nanmean(d[:, 1])),
                                              "nod_corr_gt": float(np.nanmean(d[:, 2])), "nod_se": float(se[0]), "ratio_se": float(se[1]),
                                              "corr_se": float(se[2])}
    b = np.asarray(bas["gt, other audio"])
    results["gt, other audio"] = {"bas_runs_mean": b.mean(0).tolist(),
                                  "bas_runs_se": (b.std(0, ddof=1) / np.sqrt(len(b))).tolist() if len(b) > 1 else [0.0] * 3}
    minutes = sum(len(s[2]) for s in sessions) / 25 / 60
    head = (f"{len(sessions)} sessions ({args.splits}), {minutes:.1f} min, {args.seeds} seed(s), model {pipe.source}, "
            f"{time.time() - t0:.0f} s")
    print(head)
    lines = [
        "| row | FixRatio | CompScore | Sim | Sim vs noise-free GT | frames > 50 °/s | MAE all / gaze / head (°) | BAS all / gaze / head (± SE) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    f = lambda v, s=".3f": "–" if v is None else format(v, s)  # noqa: E731
    for r, res in results.items():
        m, se = res["bas_runs_mean"], res["bas_runs_se"]
        basc = f"{m[0]:.3f} / {m[1]:.3f} / {m[2]:.3f} (± {max(se):.3f})"
        if "pattern" not in res:
            lines.append(f"| {r} | | | | | | | {basc} |")
            continue
        p, c = res["pattern"], res["pattern_noise_free"]
        lines.append(
            f"| {r} | {f(p['fix_ratio_pred'])} | {f(p['comp_pred'])} | {f(p['sim'])} | {f(c['sim'])} | {res['saccadic_frames']:.3f} | "
            f"{f(res['all']['mae'], '.2f')} / {f(res['gaze']['mae'], '.2f')} / {f(res['head']['mae'], '.2f')} | {basc} |"
        )
    # audio matters: BAS with the session's own audio minus with another session's audio, paired over (session, seed) runs
    lines += ["", "| paired BAS difference (own − other audio) | all | gaze | head |", "|---|---|---|---|"]
    pairs = [("neutral", "shuffled"), ("stream", "stream, shuffled")] if beat_model else [("neutral", "shuffled")]
    for a, b in pairs:
        d = np.asarray(bas[a]) - np.asarray(bas[b])
        se = d.std(0, ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.zeros(3)
        results.setdefault("paired_bas_difference", {})[f"{a} - {b}"] = {"mean": d.mean(0).tolist(), "se": se.tolist()}
        lines.append(f"| {a} − {b} | " + " | ".join(f"{m:+.3f} ± {e:.3f}" for m, e in zip(d.mean(0), se)) + " |")
    if len(posture) >= 3:  # style transfer of posture: across sessions, does the generated pose follow the speaker's?
        P = np.asarray(posture)
        corr = {k: float(np.corrcoef(P[:, j], P[:, j + 3])[0, 1]) for j, k in enumerate(("gaze_pitch", "head_roll", "head_pitch"))}
        results["posture_corr_style"] = corr
        lines += ["", "Posture transfer (style row, seed 0; correlation over sessions between the speaker's and the generated mean): "
                  + ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in corr.items()) + "."]
    gtp, gtc = results["gt"]["pattern"], results["gt"]["pattern_noise_free"]
    lines.append("")
    lines.append(f"Ground truth: FixRatio {gtp['fix_ratio_gt']:.3f}, CompScore {gtp['comp_gt']:.3f} (with tracker noise); "
                 f"noise-free FixRatio {gtc['fix_ratio_gt']:.3f}, CompScore {gtc['comp_gt']:.3f}, frames > 50 °/s {np.mean(fast_clean):.3f}.")
    lines += ["", "| row | stress-locked head pitch: peak-to-peak (°) | its correlation with the GT's curve | head speed speaking / listening |",
              "|---|---|---|---|"]
    for r, res in results.items():
        d = res.get("audio_dependence") if isinstance(res, dict) else None
        if d:
            lines.append(f"| {r} | {d['nod_p2p_deg']:.3f} ± {d['nod_se']:.3f} | {d['nod_corr_gt']:.2f} ± {d['corr_se']:.2f} | "
                         f"{d['speak_listen_ratio']:.2f} ± {d['ratio_se']:.2f} |")
    table = "\n".join(lines)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": head, "results": results}, indent=1))
    if args.md:
        cmd = "python scripts/check_builtin.py " + " ".join(argv if argv is not None else sys.argv[1:])
        Path(args.md).write_text(f"# Built-in model check\n\nCommand: `{cmd.strip()}`\n\n{head}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
