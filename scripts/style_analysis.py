"""Style analysis of a trained StyGazeTalk model (the paper's §V-C: clustering and transfer).

Called by ``scripts/reproduce_tables.py`` (or on its own: ``python scripts/style_analysis.py --model
RUN/best --encoder STYLE_RUN/best --data CORPUS``). It needs *unseen* speakers, so it makes
``probe_sessions`` fresh SynHAGE sessions: each draws a new :class:`SynthStyle` (seeded) and is
synthesised on held-out speech (excerpts of the corpus's test-split audio), ``probe_seconds``
long. No probe style was seen in training.

* **Clustering (Fig. 5).** Each probe's ground truth is cut in halves: windows of the first
  half are the *gallery*, windows of the second half the *queries* (4 s windows, hop 2 s; the
  halves never overlap). The generator gets the style of the first half and speaks the second
  half's audio; its windows are the *prediction queries*. kNN (k = 5, cosine) session
  identification: a query is right when the majority of its nearest gallery windows come from
  its own probe session. Chance = 1 / probe_sessions. t-SNE of all windows: colour = session,
  solid = ground truth, transparent = prediction → ``style_tsne.png``.
  Clip level (how the pipeline uses styles): consecutive 10 s clips of the second half (GT and
  generated) → :meth:`StyleEncoder.encode_clip` → the nearest session style of the first halves.
* **Transfer (Fig. 6).** For ``transfer_targets`` target speeches (second-half audio of the
  first probes) and every reference style (first half of every probe), generate the target
  speech in the reference style and measure three interpretable statistics of the generated
  motion: FixRatio (I-DT on world gaze), saccade rate (onsets per second of world-gaze speed
  above ``SACCADE_DEG_PER_FRAME`` = 1.5°/frame = 37.5°/s: an I-VT count, robust to the tracker
  noise that fragments I-DT fixations) and head share (share of gaze excursion carried by the head: (std head pitch + std head yaw) /
  (that + std mean-eye pitch + std mean-eye yaw)) — the *dynamics* — and two *posture*
  statistics, mean world-gaze pitch and mean head roll (SynHAGE styles also set the partner's
  position and the resting head pose). Evidence of transfer: across references the
  generated statistic follows the reference's (Pearson r, and the share of reference pairs
  whose order the generations keep) → ``style_transfer.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import combinations
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

STATS = ("fix_ratio", "saccade_rate", "head_share", "gaze_pitch", "head_roll")
SACCADE_DEG_PER_FRAME = 1.5
STAT_LABELS = {
    "fix_ratio": "FixRatio",
    "saccade_rate": "saccades / s",
    "head_share": "head share",
    "gaze_pitch": "mean gaze pitch (deg)",
    "head_roll": "mean head roll (deg)",
}


def motion_stats(motion) -> dict[str, float]:
    """Dynamics (FixRatio, saccade rate 1/s, head share) and posture (mean world-gaze pitch, mean
    head roll, degrees) of a :class:`Motion` (see the module docstring)."""
    from stygaze.eval.patterns import fixation_stats

    fs = fixation_stats(motion)
    speed = np.linalg.norm(np.diff(motion.world_gaze_angles(), axis=0), axis=1)  # (T-1,) deg/frame
    fast = np.nan_to_num(speed) > SACCADE_DEG_PER_FRAME
    onsets = int(fast[0]) + int(np.sum(fast[1:] & ~fast[:-1])) if len(fast) else 0
    d = motion.data.astype(np.float64)
    head = np.nanstd(d[:, 0]) + np.nanstd(d[:, 1])
    eye = 0.5 * (d[:, 3] + d[:, 5]), 0.5 * (d[:, 4] + d[:, 6])
    eye_sd = np.nanstd(eye[0]) + np.nanstd(eye[1])
    return {
        "fix_ratio": float(fs.ratio),
        "saccade_rate": float(onsets / (len(motion) / motion.fps)),
        "head_share": float(head / (head + eye_sd)) if head + eye_sd > 0 else float("nan"),
        "gaze_pitch": float(np.nanmean(motion.world_gaze_angles()[:, 0])),
        "head_roll": float(np.nanmean(d[:, 2])),
    }


def make_probes(data: Path, n: int, seconds: float, seed: int):
    """``n`` unseen SynHAGE sessions on test-split speech: ``[(style, audio (S,), Motion)]``."""
    from stygaze.audio import HOP, load_audio
    from stygaze.data.corpus import Corpus
    from stygaze.data.synhage import SynthStyle, synthesize

    splits = Corpus(data).splits()
    names = splits.get("test") or splits.get("val")
    audios = [load_audio(data / nm / "audio.wav", normalize=False) for nm in names]
    L = int(round(seconds * 25)) * HOP
    probes = []
    for i in range(n):
        a = audios[i % len(audios)]
        slots = max(1, len(a) // L)
        k = (i // len(audios)) % slots
        audio = a[k * L : (k + 1) * L]
        if len(audio) < L:  # a short corpus: wrap around
            audio = np.resize(a, L)
        rng = np.random.default_rng([seed, 1000 + i])
        style = SynthStyle.sample(rng)
        motion = synthesize(audio, style=style, seed=np.random.SeedSequence([seed, 2000 + i])).motion
        probes.append((style, audio.astype(np.float32), motion))
    return probes


def embed_windows(encoder, motion) -> np.ndarray:
    import torch

    wins = torch.from_numpy(encoder.clip_windows(motion.data))
    with torch.no_grad():
        return torch.cat([encoder(wins[i : i + 64]) for i in range(0, len(wins), 64)]).numpy()


def knn_accuracy(gallery: np.ndarray, g_lab: np.ndarray, queries: np.ndarray, q_lab: np.ndarray, k: int = 5) -> float:
    """Majority vote of the ``k`` most cosine-similar gallery rows (ties: the nearest's label)."""
    k = max(1, min(k, len(gallery)))
    sim = queries @ gallery.T  # unit vectors
    right = 0
    for i in range(len(queries)):
        nn_idx = np.argsort(-sim[i], kind="stable")[:k]
        labels = g_lab[nn_idx]
        counts = np.bincount(labels, minlength=g_lab.max() + 1)
        top = np.flatnonzero(counts == counts.max())
        pred = labels[0] if len(top) > 1 and labels[0] in top else top[0]
        right += int(pred == q_lab[i])
    return right / len(queries)


CLIP_SECONDS = 10.0
"""Length of the query clips of the clip-level identification (how styles are used: from clips)."""


def clip_styles(encoder, motion, seconds: float = CLIP_SECONDS) -> np.ndarray:
    """``(K, d)`` clip styles (:meth:`StyleEncoder.encode_clip`) of consecutive ``seconds``-long clips."""
    n = max(int(round(seconds * 25)), encoder.config.min_frames)
    starts = range(0, max(1, len(motion) - n + 1), n)
    return np.stack([encoder.encode_clip(motion.data[s : s + n]) for s in starts])


def centroid_accuracy(centroids: np.ndarray, queries: np.ndarray, q_lab: np.ndarray) -> float:
    """Share of queries whose most cosine-similar centroid is their own session's."""
    return float(np.mean(np.argmax(queries @ centroids.T, axis=1) == q_lab))


def _pearson(x, y) -> float | None:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def run(
    *, data: Path, encoder, model_path: Path, out: Path, settings: dict, seed: int, generate_seed: int | None = 0, temperature: float = 1.0
) -> dict:
    """Everything above; writes the two PNGs into ``out`` and returns the numbers (JSON-able)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    from stygaze.audio import HOP
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    model = StyGazeTalk.from_pretrained(model_path)
    gseed = generate_seed if model.config.latent_dim > 0 else None  # deterministic models: neutral start
    n = int(settings["probe_sessions"])
    probes = make_probes(data, n, float(settings["probe_seconds"]), seed)
    half = [len(m) // 2 for _, _, m in probes]

    gal, gal_lab, qry, qry_lab, prd, prd_lab = [], [], [], [], [], []
    ref_stats, preds = [], {}
    cent, cq, cq_lab, cp, cp_lab = [], [], [], [], []
    for i, (_, audio, m) in enumerate(probes):
        first, second = m.slice(0, half[i]), m.slice(half[i], len(m))
        e1, e2 = embed_windows(encoder, first), embed_windows(encoder, second)
        cent.append(encoder.encode_clip(first.data))
        q = clip_styles(encoder, second)
        cq.append(q), cq_lab.append(np.full(len(q), i))
        gal.append(e1), gal_lab.append(np.full(len(e1), i)), qry.append(e2), qry_lab.append(np.full(len(e2), i))
        pred = model.generate(audio[half[i] * HOP :], sr=16000, style=first, seed=gseed, temperature=temperature)
        preds[(i, i)] = pred
        ep = embed_windows(encoder, pred)
        prd.append(ep), prd_lab.append(np.full(len(ep), i))
        q = clip_styles(encoder, pred)
        cp.append(q), cp_lab.append(np.full(len(q), i))
        ref_stats.append(motion_stats(first))
    gal, gal_lab = np.concatenate(gal), np.concatenate(gal_lab)
    qry, qry_lab = np.concatenate(qry), np.concatenate(qry_lab)
    prd, prd_lab = np.concatenate(prd), np.concatenate(prd_lab)
    acc_gt = knn_accuracy(gal, gal_lab, qry, qry_lab)
    acc_pred = knn_accuracy(gal, gal_lab, prd, prd_lab)
    cent = np.stack(cent)
    clip_gt = centroid_accuracy(cent, np.concatenate(cq), np.concatenate(cq_lab))
    clip_pred = centroid_accuracy(cent, np.concatenate(cp), np.concatenate(cp_lab))

    # t-SNE (Fig. 5)
    allv = np.concatenate([gal, qry, prd])
    perp = float(min(30.0, max(2.0, (len(allv) - 1) / 3.5)))
    xy = TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed, metric="cosine").fit_transform(allv)
    n_gt = len(gal) + len(qry)
    labels_gt = np.concatenate([gal_lab, qry_lab])
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    for i in range(n):
        c = cmap(i % cmap.N)
        g = xy[:n_gt][labels_gt == i]
        p = xy[n_gt:][prd_lab == i]
        ax.scatter(g[:, 0], g[:, 1], s=22, color=c, alpha=1.0, edgecolors="none", label=f"probe {i}")
        ax.scatter(p[:, 0], p[:, 1], s=22, color=c, alpha=0.3, edgecolors="none")
    ax.set_title(f"Style embeddings of 4 s windows, {n} unseen sessions (solid = GT, faint = generated)\n"
                 f"session id, windows (kNN): GT {acc_gt:.2f}, generated {acc_pred:.2f}; "
                 f"10 s clips: GT {clip_gt:.2f}, generated {clip_pred:.2f} (chance {1 / n:.2f})", fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
    ax.legend(fontsize=7, ncol=2, loc="best", markerscale=0.8, frameon=False)
    fig.tight_layout()
    _save(fig, out / "style_tsne.png")
    plt.close(fig)

    # transfer (Fig. 6)
    targets = list(range(min(int(settings["transfer_targets"]), n)))
    gen_stats: dict[int, list[dict]] = {}
    for t in targets:
        _, audio, m = probes[t]
        speech = audio[half[t] * HOP :]
        row = []
        for r in range(n):
            pred = preds.get((r, t))
            if pred is None:
                pred = model.generate(speech, sr=16000, style=probes[r][2].slice(0, half[r]), seed=gseed, temperature=temperature)
            row.append(motion_stats(pred))
        gen_stats[t] = row
    transfer = {"targets": targets, "per_stat": {}}
    fig, axes = plt.subplots(1, len(STATS), figsize=(17, 3.6))
    for ax, stat in zip(axes, STATS):
        xs_all, ys_all, agree, pairs, rs = [], [], 0, 0, []
        for t in targets:
            xs = [ref_stats[r][stat] for r in range(n)]
            ys = [gen_stats[t][r][stat] for r in range(n)]
            xs_all += xs
            ys_all += ys
            rv = _pearson(xs, ys)
            if rv is not None:
                rs.append(rv)
            for a, b in combinations(range(n), 2):
                if xs[a] != xs[b]:
                    pairs += 1
                    agree += int(np.sign(ys[a] - ys[b]) == np.sign(xs[a] - xs[b]))
            ax.scatter(xs, ys, s=28, label=f"target speech {t}")
        lo = min(xs_all + ys_all)
        hi = max(xs_all + ys_all)
        ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8, ls="--")
        slope = float(np.polyfit(xs_all, ys_all, 1)[0]) if len(set(xs_all)) > 1 else None
        res = {
            "pearson_r_mean": None if not rs else round(float(np.mean(rs)), 4),
            "pair_order_kept": None if not pairs else round(agree / pairs, 4),
            "slope": None if slope is None else round(slope, 4),
            "reference": [round(ref_stats[r][stat], 4) for r in range(n)],
            "generated": {str(t): [round(g[stat], 4) for g in gen_stats[t]] for t in targets},
        }
        transfer["per_stat"][stat] = res
        ax.set_xlabel(f"reference (GT) {STAT_LABELS[stat]}")
        ax.set_ylabel(f"generated {STAT_LABELS[stat]}")
        ax.set_title(f"{STAT_LABELS[stat]}\nr = {_f(res['pearson_r_mean'])}, order kept {_f(res['pair_order_kept'])}", fontsize=9)
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle("Style transfer: same target speech, reference styles of unseen sessions", fontsize=10)
    fig.tight_layout()
    _save(fig, out / "style_transfer.png")
    plt.close(fig)
    return {
        "probe_sessions": n,
        "probe_seconds": float(settings["probe_seconds"]),
        "windows": {"gallery": int(len(gal)), "gt_queries": int(len(qry)), "pred_queries": int(len(prd))},
        "knn_session_accuracy_gt": round(acc_gt, 4),
        "knn_session_accuracy_pred": round(acc_pred, 4),
        "knn_chance": round(1 / n, 4),
        "knn_target_0_9_met": bool(acc_gt >= 0.9),
        "clip_seconds": CLIP_SECONDS,
        "clip_session_accuracy_gt": round(clip_gt, 4),
        "clip_session_accuracy_pred": round(clip_pred, 4),
        "clip_queries": int(sum(len(q) for q in cq)),
        "model": str(model_path.parent.name if model_path.name == "best" else model_path.name),
        "temperature": temperature,
        "transfer": transfer,
    }


def _save(fig, path: Path) -> None:
    from stygaze.io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)


def _f(v) -> str:
    return "—" if v is None else f"{v:.2f}"


def markdown(s: dict) -> str:
    lines = [
        f"**Style analysis** ({s['probe_sessions']} unseen SynHAGE sessions of {s['probe_seconds']:g} s on held-out speech; "
        "`style_tsne.png`, `style_transfer.png`):",
        "",
        f"- kNN (k = 5) session identification of 4 s windows from the second half against the first half: "
        f"ground truth **{s['knn_session_accuracy_gt']:.2f}**, generated motion (style taken from the first half) "
        f"**{s['knn_session_accuracy_pred']:.2f}** (chance {s['knn_chance']:.2f}; target ≥ 0.9 for GT: "
        f"{'met' if s['knn_target_0_9_met'] else '**not met**'}).",
        f"- Clip-level identification (how styles are used: one style per clip): each {s['clip_seconds']:g} s clip of the second half "
        f"→ its style → nearest first-half session style: ground truth **{s['clip_session_accuracy_gt']:.2f}**, "
        f"generated **{s['clip_session_accuracy_pred']:.2f}** ({s['clip_queries']} GT clips).",
        "- Transfer (same target speech, every reference style): does the generated statistic follow the reference's?",
        "",
        "| statistic | Pearson r (ref vs generated) | reference pairs whose order is kept | slope |",
        "|---|---|---|---|",
    ]
    for stat, r in s["transfer"]["per_stat"].items():
        lines.append(f"| {STAT_LABELS[stat]} | {_f(r['pearson_r_mean'])} | {_f(r['pair_order_kept'])} | {_f(r['slope'])} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Style clustering + transfer analysis of a trained model.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", required=True, help="stygazetalk checkpoint or run folder with a style encoder")
    p.add_argument("--encoder", default=None, help="style encoder checkpoint for the embeddings (default: the model's own)")
    p.add_argument("--data", required=True, help="corpus folder (test-split audio is the probe speech)")
    p.add_argument("--out", default=str(REPO / "scripts" / "results"))
    p.add_argument("--probe-sessions", type=int, default=10)
    p.add_argument("--probe-seconds", type=float, default=60.0)
    p.add_argument("--transfer-targets", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.0, help="latent temperature (models with a latent)")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from stygaze.stygazetalk.pipeline import StyGazeTalk
    from stygaze.stygazetalk.train_style import load_style_encoder

    encoder = load_style_encoder(args.encoder) if args.encoder else StyGazeTalk.from_pretrained(args.model).model.style_encoder
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res = run(data=Path(args.data), encoder=encoder, model_path=Path(args.model), out=out,
              settings={"probe_sessions": args.probe_sessions, "probe_seconds": args.probe_seconds, "transfer_targets": args.transfer_targets},
              seed=args.seed, temperature=args.temperature)
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
