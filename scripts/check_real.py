"""Measure generated head motion against real talking people.

    python scripts/check_real.py --real ../shared/real [--model PATH|realtime] [--seeds 3]
                                 [--json scripts/results/real.json] [--plots docs/img]

For every real talking-head clip with its own audio (``head_gaze`` of the real-data folder:
head pose from the 3DMM fits shipped with the footage), it generates head motion for the
clip's speech and compares it with the real head:

- ``neutral``: the model's neutral style, ``--seeds`` seeds;
- ``style``: the style extracted from *another clip of the same speaker* (the real motion of
  that clip, 25 fps), same seeds, as ``generate`` gives it (head scaled to the reference's
  statistics); ``style, generator only``: the same without that matching;
- ``other audio``: the neutral style on another speaker's clip (tiled to length): the
  control for "audio matters" in BAS;
- ``style, speaker's other clips``: the style extracted from all the speaker's other clips
  together (``extract_style([...])``: the speaker's pooled figures), reported towards the
  speaker only (the same as ``style`` for a speaker with two clips);
- ``neutral, no beat alignment``: the neutral rows without the beat alignment stage
  (``beat_align=False``), for head BAS only;
- ``procedural``: the rule-based SynHAGE baseline (mid-range style);
- ``static``: a still head (the floor of every motion measure).

Head BAS is also measured on the real speech recordings without video (other speakers and
languages), own audio against another recording's, with and without the beat alignment.

Gaze: the events of the generated world gaze (neutral rows), detected as the authors of the
real conversation data detected theirs (:data:`stygaze.eval.events` preset ``conversation``:
x range and y range each ≤ 0.72°, ≥ 100 ms, at 90 Hz after upsampling), against the real
fixations of people speaking in video calls: fixation durations, shift amplitudes, shifts
≥ 2° per minute, consecutive shifts in the same direction, and their Wasserstein distances.

Figures (:mod:`stygaze.eval.realism`, the same definitions for every source): per-axis
head standard deviation after removing each clip's mean pose, head speed after a 5-frame
moving average, each the mean over clips; head BAS with the clip's own audio beats; the
Fréchet distance of 2-s window descriptors to the real clips, next to the real-vs-real floor
(alternate clips against each other, the same sample sizes). Checks, as the project states
them: neutral per-axis std within 0.6–1.6× real, speed ≥ 0.6× real, Fréchet ≤ 1.3× floor,
BAS(own audio) − BAS(other audio) ≥ 0.02, and style moving per-axis std and speed at least
half-way from neutral towards the speaker on ≥ 5 of 7 clips. "The speaker" is read three ways,
all reported: the speaker's figures pooled over all their clips, the clip's own figures, and
the reference clip's (the speaker as the style reference shows them). A speaker's single clips
vary (Obama's yaw std is 2.1° in one clip and 6.2° in the next), so beside each reading the
script gives its ceiling for any style taken from one clip: the count an ideal transfer would
reach, one that reproduced the reference clip's real figures exactly. Head BAS is also given
against the *same* control for real and generated heads (each head scored against another
clip's audio beats instead of its own), which shows how much real people's heads follow their
own speech by this measure.

The real data is read at run time from ``--real`` and never written anywhere; the output
holds only figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path

import numpy as np

from stygaze.eval import realism

ROOT = Path(__file__).resolve().parents[1]
FPS = 25.0
GENERATED_ROWS = ("neutral", "style", "style, generator only", "style, speaker's other clips", "other audio",
                  "neutral, no beat alignment", "other audio, no beat alignment")
"""The generated rows of every clip, ``--seeds`` seeds each (see the module docstring)."""


def load_real_module(real: Path):
    """The loader shipped beside the real data (``load_real.py``), imported from its path."""
    path = Path(real) / "load_real.py"
    if not path.exists():
        raise SystemExit(f"check_real: {path} not found (pass --real DIR, the folder with load_real.py)")
    spec = importlib.util.spec_from_file_location("load_real", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def speaker_of(name: str) -> str:
    """Speaker id of a clip name: the part before ``_clip`` (``Obama_clip1`` → ``Obama``)."""
    return name.split("_clip")[0]


def real_clips(R) -> list[dict]:
    """Clips with audio and a head pose: name, speaker, head (T, 3) at 25 fps, motion (T, 7), audio path."""
    out = []
    for c in R.head_gaze("best"):
        if c["audio"] is None:
            continue
        motion = R.to_25fps(c["motion"], c["fps"]).astype(np.float32)
        out.append({"name": c["name"], "speaker": speaker_of(c["name"]), "motion": motion, "head": motion[:, :3].astype(np.float64), "audio": Path(c["audio"])})
    return out


def partner(clips: list[dict], i: int, same_speaker: bool) -> int:
    """The next clip (cyclically) of the same speaker, or of another speaker."""
    n = len(clips)
    for k in range(1, n):
        j = (i + k) % n
        if (clips[j]["speaker"] == clips[i]["speaker"]) == same_speaker:
            return j
    raise SystemExit(f"check_real: no {'same' if same_speaker else 'other'}-speaker partner for {clips[i]['name']}")


def tile_to(x: np.ndarray, n: int) -> np.ndarray:
    return np.tile(x, int(np.ceil(n / len(x))))[:n]


def head_bas(head: np.ndarray, beats_audio: np.ndarray) -> float:
    from stygaze.eval.beats import beat_alignment_score, motion_beats

    return beat_alignment_score(beats_audio, motion_beats(head))


def progress_towards(neutral: float, style: float, real: float, tol: float = 0.1) -> bool:
    """Style closes at least half the gap between neutral and real (or ends within ``tol`` of real)."""
    return abs(style - real) <= 0.5 * abs(neutral - real) or abs(style - real) <= tol * abs(real)


def speech_bas(R, model, seeds: list[int], gen_kwargs: dict) -> dict:
    """Head BAS own − other audio on the real speech recordings (no real head there; other
    speakers and languages than the clips), with and without the beat alignment."""
    from stygaze.audio import SAMPLE_RATE, load_audio
    from stygaze.eval.beats import audio_beats

    files = R.speech_files()
    audio = [load_audio(f["path"]) for f in files]
    beats = [audio_beats(a, SAMPLE_RATE) for a in audio]
    diffs: dict[str, list[float]] = {"aligned": [], "no beat alignment": []}
    for i in range(len(files)):
        other = tile_to(audio[(i + 1) % len(files)], len(audio[i]))
        for s in seeds:
            for key, flag in (("aligned", True), ("no beat alignment", False)):
                own = model.generate(audio[i], seed=s, beat_align=flag, **gen_kwargs).head.astype(np.float64)
                oth = model.generate(other, seed=s, beat_align=flag, **gen_kwargs).head.astype(np.float64)
                diffs[key].append(head_bas(own, beats[i]) - head_bas(oth, beats[i]))
    out = {"recordings": len(files), "languages": sorted({str(f.get("language", "?")) for f in files})}
    for key, d in diffs.items():
        d = np.asarray(d)
        out[key] = {"own_minus_other": float(d.mean()), "standard_error": float(d.std() / np.sqrt(len(d)))}
    return out


def gaze_rows(R, generated: dict[str, list]) -> dict:
    """Event figures of the real speakers and of each generated row, with Wasserstein distances."""
    from stygaze.eval.events import EventStats, compare_events, event_stats, fixation_table_stats
    from stygaze.eval.patterns import gaze_signal

    real = fixation_table_stats(R.conversation_fixations(), "SPEAK")
    out = {"real speaking (video calls)": {**real.summary()}}
    for name, motions in generated.items():
        st = EventStats.pooled([event_stats(gaze_signal(m), FPS, "conversation") for m in motions])
        out[name] = {**st.summary(), "vs_real": compare_events(st, real).to_dict()}
    return out


def summarise(name: str, heads: list[np.ndarray], real_desc: list[np.ndarray]) -> dict:
    stats = realism.pooled_head_stats(heads, FPS)
    desc = [realism.window_descriptors(h, FPS) for h in heads]
    return {"row": name, **stats.to_dict(), "frechet": realism.split_distance(desc, real_desc)}


def run(args) -> dict:
    import torch

    from stygaze import StyGazeTalk
    from stygaze.audio import SAMPLE_RATE, load_audio
    from stygaze.data.procedural import procedural_generate
    from stygaze.eval.beats import audio_beats

    torch.set_num_threads(args.threads)
    R = load_real_module(args.real)
    clips = real_clips(R)
    if len(clips) < 2:
        raise SystemExit("check_real: fewer than 2 real clips with audio")
    model = StyGazeTalk.from_pretrained(args.model)
    gen_kwargs = {} if args.temperature is None else {"temperature": args.temperature}
    seeds = list(range(args.seeds))
    t0 = time.time()

    audio = [load_audio(c["audio"]) for c in clips]
    beats = [audio_beats(a, SAMPLE_RATE) for a in audio]
    real_heads = [c["head"] for c in clips]
    real_desc = [realism.window_descriptors(h, FPS) for h in real_heads]
    floor = realism.split_floor(real_desc)

    gen: dict[str, list[list[np.ndarray]]] = {k: [] for k in GENERATED_ROWS}
    procedural, static = [], []
    gaze_motions: dict[str, list] = {"generated, neutral": [], "procedural": []}
    per_clip = []
    for i, c in enumerate(clips):
        n = len(c["head"])
        j_same, j_other = partner(clips, i, True), partner(clips, i, False)
        style = model.extract_style(clips[j_same]["motion"])
        other = tile_to(audio[j_other], len(audio[i]))
        other_beats = audio_beats(other, SAMPLE_RATE)
        speaker_style = model.extract_style([d["motion"] for d in clips if d["speaker"] == c["speaker"] and d is not c])
        spec = {  # row -> (speech, generate's arguments)
            "neutral": (audio[i], {}),
            "style": (audio[i], {"style": style}),
            "style, generator only": (audio[i], {"style": style, "match_style": False}),
            "style, speaker's other clips": (audio[i], {"style": speaker_style}),
            "other audio": (other, {}),
            "neutral, no beat alignment": (audio[i], {"beat_align": False}),
            "other audio, no beat alignment": (other, {"beat_align": False}),
        }
        rows: dict[str, list[np.ndarray]] = {k: [] for k in GENERATED_ROWS}
        for s in seeds:
            for key, (speech, kwargs) in spec.items():
                motion = model.generate(speech, seed=s, **kwargs, **gen_kwargs)
                if key == "neutral":
                    gaze_motions["generated, neutral"].append(motion)
                rows[key].append(motion.head[:n].astype(np.float64))
        for k, v in rows.items():
            gen[k].append(v)
        proc = procedural_generate(audio[i], seed=0)
        gaze_motions["procedural"].append(proc)
        procedural.append(proc.head[:n].astype(np.float64))
        static.append(np.zeros((n, 3)))
        clip_real = realism.head_stats(c["head"], FPS)
        speaker_real = realism.pooled_head_stats([d["head"] for d in clips if d["speaker"] == c["speaker"]], FPS)
        ref_real = realism.head_stats(clips[j_same]["head"], FPS)
        clip_neutral = realism.pooled_head_stats(rows["neutral"], FPS)
        clip_style = realism.pooled_head_stats(rows["style"], FPS)
        clip_free = realism.pooled_head_stats(rows["style, generator only"], FPS)
        clip_pooled = realism.pooled_head_stats(rows["style, speaker's other clips"], FPS)

        def moves(st, target=speaker_real):
            return {
                **{f"std_{a}": progress_towards(clip_neutral.std[k], st.std[k], target.std[k]) for k, a in enumerate(realism.AXES)},
                "speed": progress_towards(clip_neutral.speed, st.speed, target.speed),
            }

        moved, moved_free = moves(clip_style), moves(clip_free)
        own, oth = ([head_bas(h, beats[i]) for h in rows[k]] for k in ("neutral", "other audio"))
        other_targets = {"clip": all(moves(clip_style, clip_real).values()), "reference": all(moves(clip_style, ref_real).values())}
        # the ceiling of any one-clip style: the output had exactly the reference clip's real figures
        ideal = {"speaker": all(moves(ref_real).values()), "clip": all(moves(ref_real, clip_real).values()),
                 "reference": all(moves(ref_real, ref_real).values())}
        per_clip.append({
            "clip": c["name"], "style_from": clips[j_same]["name"], "other_audio_from": clips[j_other]["name"],
            "real": clip_real.to_dict(), "real_speaker": speaker_real.to_dict(), "real_reference": ref_real.to_dict(),
            "style_ok_towards": {k: bool(v) for k, v in other_targets.items()}, "ideal_transfer_ok_towards": ideal, "neutral": clip_neutral.to_dict(), "style": clip_style.to_dict(),
            "style_moves_half_way": {k: bool(v) for k, v in moved.items()}, "style_ok": bool(all(moved.values())),
            "generator_only": {"style": clip_free.to_dict(), "style_ok": bool(all(moved_free.values()))},
            "speaker_other_clips": {"style": clip_pooled.to_dict(), "style_ok": bool(all(moves(clip_pooled).values()))},
            "bas": {
                "real": head_bas(c["head"], beats[i]),
                "neutral_own": float(np.mean(own)),
                "neutral_other": float(np.mean(oth)),
                "own_minus_other_per_seed": [float(a - b) for a, b in zip(own, oth)],
                "neutral_no_alignment_own": float(np.mean([head_bas(h, beats[i]) for h in rows["neutral, no beat alignment"]])),
                "neutral_no_alignment_other": float(np.mean([head_bas(h, beats[i]) for h in rows["other audio, no beat alignment"]])),
                # the same control for real and generated heads: the head against another clip's audio beats
                "real_vs_other_beats": head_bas(c["head"], other_beats),
                "neutral_vs_other_beats": float(np.mean([head_bas(h, other_beats) for h in rows["neutral"]])),
            },
        })
        print(f"  {c['name']}: done ({time.time() - t0:.0f} s)", flush=True)

    # seed-s rows of every clip form one generated "set"; figures are averaged over the seeds
    def seed_sets(key):
        return [[gen[key][i][s] for i in range(len(clips))] for s in seeds]

    table = [{"row": "real", **realism.pooled_head_stats(real_heads, FPS).to_dict(), "frechet": floor}]
    for key in ("neutral", "style", "style, generator only", "style, speaker's other clips", "other audio", "neutral, no beat alignment"):
        per_seed = [summarise(key, hs, real_desc) for hs in seed_sets(key)]
        row = per_seed[0]
        row["frechet"] = float(np.mean([r["frechet"] for r in per_seed]))
        row["frechet_seeds"] = [r["frechet"] for r in per_seed]
        pooled = realism.pooled_head_stats([h for hs in seed_sets(key) for h in hs], FPS)
        row.update(pooled.to_dict())
        table.append(row)
    table.append(summarise("procedural", procedural, real_desc))
    table.append({"row": "static", "std_deg": {a: 0.0 for a in realism.AXES}, "speed_deg_s": 0.0,
                  "frechet": realism.split_distance([realism.window_descriptors(h, FPS) for h in static], real_desc)})

    bas = {k: float(np.mean([p["bas"][k] for p in per_clip])) for k in per_clip[0]["bas"] if k != "own_minus_other_per_seed"}
    pairs = np.array([p["bas"]["own_minus_other_per_seed"] for p in per_clip])  # (clips, seeds)
    bas["own_minus_other_standard_error"] = float(pairs.std() / np.sqrt(pairs.size))
    bas["own_minus_other_per_seed"] = [float(x) for x in pairs.mean(axis=0)]
    bas["own_minus_other"] = bas["neutral_own"] - bas["neutral_other"]
    bas["no_alignment_own_minus_other"] = bas["neutral_no_alignment_own"] - bas["neutral_no_alignment_other"]
    bas["real_own_minus_other_beats"] = bas["real"] - bas["real_vs_other_beats"]
    bas["neutral_own_minus_other_beats"] = bas["neutral_own"] - bas["neutral_vs_other_beats"]
    real_row, neutral_row = table[0], table[1]
    ratios = {a: neutral_row["std_deg"][a] / real_row["std_deg"][a] for a in realism.AXES}
    checks = {
        "neutral_std_within_0.6_1.6x_real": {"value": ratios, "pass": bool(all(0.6 <= r <= 1.6 for r in ratios.values()))},
        "neutral_speed_at_least_0.6x_real": {"value": neutral_row["speed_deg_s"] / real_row["speed_deg_s"], "pass": bool(neutral_row["speed_deg_s"] >= 0.6 * real_row["speed_deg_s"])},
        "frechet_at_most_1.3x_floor": {"value": neutral_row["frechet"] / floor, "pass": bool(neutral_row["frechet"] <= 1.3 * floor)},
        "bas_own_minus_other_at_least_0.02": {"value": bas["own_minus_other"], "pass": bool(bas["own_minus_other"] >= 0.02)},
        "style_half_way_towards_the_speakers_pooled_figures_on_at_least_5_of_7": {"value": int(sum(p["style_ok"] for p in per_clip)), "pass": bool(sum(p["style_ok"] for p in per_clip) >= min(5, len(clips)))},
    }
    for target in ("clip", "reference"):
        n_ok = int(sum(p["style_ok_towards"][target] for p in per_clip))
        label = "reference_clips" if target == "reference" else "clips_own"
        checks[f"style_half_way_towards_the_{label}_figures_on_at_least_5_of_7"] = {"value": n_ok, "pass": bool(n_ok >= min(5, len(clips)))}
    for target in ("speaker", "clip", "reference"):
        n_ok = int(sum(p["ideal_transfer_ok_towards"][target] for p in per_clip))
        checks[f"ideal_one_clip_transfer_towards_the_{target} (ceiling; reported, not required)"] = {"value": n_ok, "pass": bool(n_ok >= min(5, len(clips)))}
    pooled_ok = int(sum(p["speaker_other_clips"]["style_ok"] for p in per_clip))
    checks["style_from_the_speakers_other_clips_half_way_towards_the_speaker (reported, not required)"] = {
        "value": pooled_ok, "pass": bool(pooled_ok >= min(5, len(clips)))}
    free_ok = int(sum(p["generator_only"]["style_ok"] for p in per_clip))
    checks["style_half_way_generator_only (no statistics matching; reported, not required)"] = {"value": free_ok, "pass": bool(free_ok >= min(5, len(clips)))}
    result = {
        "model": str(args.model or "built-in"), "seeds": seeds, "clips": [c["name"] for c in clips],
        "table": table, "bas": bas, "bas_real_speech": speech_bas(R, model, seeds, gen_kwargs), "gaze": gaze_rows(R, gaze_motions), "per_clip": per_clip, "checks": checks, "seconds": time.time() - t0,
        "definitions": "stygaze.eval.realism: per-axis std after removing each clip's mean pose; speed after a 5-frame moving average; "
        "each the mean over clips; Fréchet distance of 2-s window descriptors (per-axis std and mean |velocity|) at the "
        "real-vs-real floor's sample sizes (alternate clips)",
    }
    if args.plots:
        plot(args.plots, clips, gen, procedural, table)
    return result


def plot(out_dir: Path, clips, gen, procedural, table) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    i = 0
    t = np.arange(len(clips[i]["head"])) / FPS
    fig, axes = plt.subplots(3, 1, figsize=(10, 6.5), sharex=True)
    for k, (ax, name) in enumerate(zip(axes, realism.AXES)):
        ax.plot(t, realism.center(clips[i]["head"])[:, k], color="k", lw=1.4, label="real (3DMM pose)")
        ax.plot(t, realism.center(gen["neutral"][i][0])[:, k], color="tab:blue", lw=1.0, label="generated, neutral style")
        ax.plot(t, realism.center(gen["style"][i][0])[:, k], color="tab:orange", lw=1.0, label="generated, style of another clip")
        ax.plot(t, realism.center(procedural[i])[:, k], color="tab:green", lw=0.8, alpha=0.7, label="procedural baseline")
        ax.set_ylabel(f"head {name} (°)")
    axes[0].legend(loc="upper right", fontsize=8, ncol=2)
    axes[-1].set_xlabel(f"time (s) — real speech of clip {clips[i]['name']}")
    fig.tight_layout()
    fig.savefig(out_dir / "real_head_curves.png", dpi=110)
    plt.close(fig)

    def speeds(heads):
        return np.concatenate([np.linalg.norm(np.diff(realism.smooth(realism.center(h)), axis=0), axis=1) * FPS for h in heads])

    sources = {
        "real": [c["head"] for c in clips],
        "neutral": [h for per in gen["neutral"] for h in per],
        "style": [h for per in gen["style"] for h in per],
        "procedural": procedural,
    }
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
    bins = np.linspace(-15, 15, 61)
    for k, name in enumerate(realism.AXES):
        for label, heads in sources.items():
            x = np.concatenate([realism.center(h)[:, k] for h in heads])
            axes[k].hist(x[np.isfinite(x)], bins=bins, density=True, histtype="step", lw=1.3, label=label)
        axes[k].set_title(f"head {name} around the clip mean (°)", fontsize=9)
    for label, heads in sources.items():
        v = speeds(heads)
        axes[3].hist(v[np.isfinite(v)], bins=np.linspace(0, 60, 61), density=True, histtype="step", lw=1.3, label=label)
    axes[3].set_title("head speed, 5-frame smoothing (°/s)", fontsize=9)
    axes[3].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "real_head_distributions.png", dpi=110)
    plt.close(fig)


def print_table(result: dict) -> None:
    print(f"{'row':<28}{'std pitch':>10}{'yaw':>7}{'roll':>7}{'speed °/s':>11}{'Fréchet':>9}")
    for r in result["table"]:
        s = r["std_deg"]
        print(f"{r['row']:<28}{s['pitch']:>10.2f}{s['yaw']:>7.2f}{s['roll']:>7.2f}{r['speed_deg_s']:>11.2f}{r['frechet']:>9.1f}")
    b = result["bas"]
    print(f"head BAS: real {b['real']:.3f}; generated own audio {b['neutral_own']:.3f}, other audio {b['neutral_other']:.3f} "
          f"(diff {b['own_minus_other']:+.3f} ± {b['own_minus_other_standard_error']:.3f}; per seed "
          + " ".join(f"{x:+.3f}" for x in b["own_minus_other_per_seed"]) + "); "
          f"without beat alignment {b['neutral_no_alignment_own']:.3f} vs {b['neutral_no_alignment_other']:.3f} ({b['no_alignment_own_minus_other']:+.3f})")
    sp = result["bas_real_speech"]
    print(f"head BAS own - other audio on {sp['recordings']} real speech recordings ({', '.join(sp['languages'])}): "
          + ", ".join(f"{k} {v['own_minus_other']:+.3f} ± {v['standard_error']:.3f}" for k, v in sp.items() if isinstance(v, dict)))
    print(f"head BAS against another clip's beats (same control for both): real {b['real_vs_other_beats']:.3f} ({b['real_own_minus_other_beats']:+.3f}), "
          f"generated {b['neutral_vs_other_beats']:.3f} ({b['neutral_own_minus_other_beats']:+.3f})")
    print(f"{'gaze (conversation detector)':<30}{'fix ms':>8}{'shift °':>8}{'>6°':>6}{'p90 °':>7}{'≥2°/min':>9}{'same dir':>9}")
    for name, g in result["gaze"].items():
        f = lambda v, d=1: "—" if v is None else f"{v:.{d}f}"  # noqa: E731
        print(f"{name:<30}{f(g['fixation_median_ms'], 0):>8}{f(g['shift_median_deg'], 2):>8}{f(g['large_shift_share'], 2):>6}"
              f"{f(g['shift_p90_deg']):>7}{f(g['shifts_per_min'], 0):>9}{f(g['same_direction_share'], 2):>9}")
    for name, c in result["checks"].items():
        v = c["value"]
        v = {k: round(x, 2) for k, x in v.items()} if isinstance(v, dict) else round(v, 3)
        print(f"  [{'PASS' if c['pass'] else 'FAIL'}] {name}: {v}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--real", type=Path, required=True, help="the real-data folder (with load_real.py)")
    p.add_argument("--model", default=None, help="checkpoint folder or built-in name (default: the built-in model)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per generated row")
    p.add_argument("--temperature", type=float, default=None, help="latent temperature (default: the model's)")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--json", type=Path, default=ROOT / "scripts" / "results" / "real.json", help="output JSON (figures only)")
    p.add_argument("--plots", type=Path, default=None, help="folder for the two plots (e.g. docs/img)")
    args = p.parse_args(argv)
    result = run(args)
    print_table(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json} ({result['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
