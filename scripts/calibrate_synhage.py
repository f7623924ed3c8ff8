"""Calibrate SynHAGE against real people: the same figures on real recordings and on a SynHAGE corpus.

    python scripts/calibrate_synhage.py --real ../shared/real [--corpus DIR | --sessions 24 --minutes 3 --seed 0]
        [--json scripts/results/synhage_calibration.json] [--plot docs/img/synhage_calibration.png]

Real side (read at run time from ``--real`` with its loader; only figures are written):

* **head while speaking** — the real talking-head clips (``head_gaze("best")``: head pose from
  the 3DMM fits shipped with the footage, resampled to 25 fps): per-axis standard deviation
  after removing each clip's mean pose, and speed after a 5-frame moving average
  (:mod:`stygaze.eval.realism`), each the mean over clips;
* **gaze** — the conversation fixations (``conversation_fixations()``, Dembinsky et al. 2024,
  video calls, SPEAK / LISTEN): fixation durations, distances between consecutive fixation
  centres of a segment (shift amplitudes), the share above 6°, the 90th percentile, the share
  of consecutive shift pairs (both > 2°) within 45° of the same direction, and shifts ≥ 2° per
  minute of time between consecutive fixation onsets.

SynHAGE side: every session of the corpus is synthesized again from its stored audio and
seeds **without tracker noise** (as :func:`stygaze.data.corpus.noise_free_motion` does: the
head is the corpus' own, the world gaze is what a perfect tracker would see). Speaking and
listening are the conversation's turns (``style.json``). Head figures are measured per turn
of at least 8 s (listening: 4 s; each turn a clip: its mean pose removed, the same
smoothing). Gaze events are detected on the 25 fps world gaze with the conversation data's
detector (``stygaze.eval.events`` preset ``"conversation"``: linear upsampling to 90 Hz, I-DT
with x range and y range each ≤ 0.72°, ≥ 100 ms from first to last sample); blink frames
count as tracker loss (an eye tracker loses the pupil); consecutive fixations are paired only
inside a segment, as in the real table: a segment ends at a turn's end, at tracker loss or
after more than 250 ms without fixation. Also measured: the default style (the procedural
baseline) on the same corpus audio and on the real clips' own speech, the whole-session
CompScore (the HAGE conversation anchor, paper GT −0.337 ≈ 8.4 °/s of head), and the spread
of sessions next to the spread of real speakers.

Each target has a tolerance; the table says whether the corpus meets it.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stygaze.eval import realism
from stygaze.eval.events import LARGE_SHIFT_DEG, EventStats, detect_events, fixation_table_stats

ROOT = Path(__file__).resolve().parents[1]
FPS = 25.0

SEGMENT_GAP_MS = 250.0
"""Consecutive fixations further apart than this are not paired (the real table's segments are
separated by ≥ 277 ms without fixation in 95 % of cases, while 97.4 % of the gaps inside a
segment are ≤ 250 ms: its segments end where the tracker had no fixation for a while)."""
BLINK_LOSS = 0.5
"""Frames whose eyelid closure is at least this are tracker loss (an eye tracker loses the pupil)."""
HAGE_COMP_SCORE = -0.3366
"""StyGazeTalk's HAGE ground truth CompScore (≈ −mean head speed in °/frame: ≈ 8.4 °/s), the calm-conversation anchor."""
DEFAULT_JSON = ROOT / "scripts" / "results" / "synhage_calibration.json"

MIN_TURN_S = {"speaking": 8.0, "listening": 4.0}
"""Shortest turns whose head motion is measured: speaking turns comparable with the real
talking-head clips (10–30 s; a clip's std grows with its length), listening turns (the
conversation's are 1.5–8 s) long enough for a speed."""


# --------------------------------------------------------------------------------------
# gaze: the conversation data's detector and behaviour measures (stygaze.eval.events)
# --------------------------------------------------------------------------------------
GAZE_KEYS = (
    "fixation_median_ms", "fixation_q1_ms", "fixation_q3_ms", "shift_median_deg", "shift_p90_deg",
    "large_shift_share", "same_direction_share", "shifts_per_min",
)  # fmt: skip


def gaze_figures(stats: EventStats) -> dict:
    """The conversation figures of an :class:`~stygaze.eval.events.EventStats` (plus its arrays for the plot)."""
    out = {k: v for k, v in stats.summary().items() if k in GAZE_KEYS}
    out["fixations"] = stats.num_fixations
    out["shift_q1_deg"] = float(np.quantile(stats.shift_deg, 0.25)) if len(stats.shift_deg) else None
    out["shift_q3_deg"] = float(np.quantile(stats.shift_deg, 0.75)) if len(stats.shift_deg) else None
    out["_shifts"], out["_durations"] = stats.shift_deg, stats.fixation_ms
    return out


def real_gaze_stats(R) -> dict[str, EventStats]:
    """The conversation data's fixations per label (``SPEAK``, ``LISTEN``), as its authors detected them."""
    table = R.conversation_fixations()
    return {label: fixation_table_stats(table, label) for label in ("SPEAK", "LISTEN")}


def real_participants(R) -> list[dict]:
    """Per participant: the speaking gaze figures (the spread of real speakers)."""
    table = R.conversation_fixations()
    out = []
    for p in np.unique(table["participant"]):
        keep = table["participant"] == p
        rows = {k: v[keep] for k, v in table.items() if isinstance(v, np.ndarray) and v.shape == keep.shape}
        stats = fixation_table_stats(rows, "SPEAK")
        if stats.num_fixations >= 50:
            out.append({"participant": int(p), **{k: v for k, v in gaze_figures(stats).items() if not k.startswith("_")}})
    return out


def turn_events(xy: np.ndarray) -> EventStats | None:
    """:class:`EventStats` of one turn's 25 fps (x, y) gaze with the ``conversation`` detector.

    Fixations are paired into shifts only inside a segment: a new segment starts after tracker
    loss or after more than :data:`SEGMENT_GAP_MS` without fixation. Observed time is the sum
    of onset-to-onset intervals inside segments, as for the real table.
    """
    ev = detect_events(xy, FPS, "conversation")
    fix = ev.fixations
    if len(fix) == 0:
        return None
    ms = 1000.0 / ev.fps
    loss = np.concatenate([[0], np.cumsum(~ev.valid)])
    gap = (fix[1:, 0] - fix[:-1, 1]) * ms
    new = np.concatenate([[True], (loss[fix[1:, 0]] != loss[fix[:-1, 1]]) | (gap > SEGMENT_GAP_MS)])
    seg = np.cumsum(new)
    onset = fix[:, 0] * ms
    minutes = float(np.sum(np.diff(onset)[~new[1:]])) / 60000.0
    centre = np.array([ev.xy[a:b].mean(axis=0) for a, b in fix])
    return EventStats.from_fixations((fix[:, 1] - fix[:, 0]) * ms, centre, seg, minutes)


def synhage_gaze(world_gaze: np.ndarray, blink: np.ndarray, turns: list[tuple[str, float, float]]) -> dict[str, list[EventStats]]:
    """Per turn kind (``speaking`` → SPEAK, ``listening`` → LISTEN): the events of each turn.

    Args:
        world_gaze: ``(T, 2)`` (pitch, yaw) degrees at 25 fps, noise-free.
        blink: ``(T,)`` eyelid closure; frames ≥ :data:`BLINK_LOSS` are tracker loss.
        turns: ``[(kind, start_s, end_s)]``.
    """
    xy = np.stack([world_gaze[:, 1], world_gaze[:, 0]], axis=1).astype(np.float64)  # (x, y) = (yaw, pitch)
    xy[np.asarray(blink) >= BLINK_LOSS] = np.nan
    out: dict[str, list[EventStats]] = {"SPEAK": [], "LISTEN": []}
    for kind, a, b in turns:
        seg = xy[int(math.ceil(a * FPS)) : int(math.floor(b * FPS)) + 1]
        stats = turn_events(seg) if len(seg) >= 4 else None
        if stats is not None:
            out["SPEAK" if kind == "speaking" else "LISTEN"].append(stats)
    return out


# --------------------------------------------------------------------------------------
# head
# --------------------------------------------------------------------------------------
def turn_heads(
    head: np.ndarray, turns: list[tuple[str, float, float]], min_turn_s: dict[str, float] = MIN_TURN_S
) -> dict[str, list[np.ndarray]]:
    """``(T, 3)`` head cut into its speaking / listening turns of at least ``min_turn_s[kind]`` seconds."""
    out: dict[str, list[np.ndarray]] = {"speaking": [], "listening": []}
    for kind, a, b in turns:
        seg = head[int(math.ceil(a * FPS)) : int(math.floor(b * FPS))]
        if len(seg) >= int(round(min_turn_s[kind] * FPS)):
            out[kind].append(np.asarray(seg, np.float64))
    return out


def head_figures(clips: list[np.ndarray]) -> dict:
    """Pooled (mean over clips) head figures and the per-clip spread of the speed."""
    stats = [realism.head_stats(c, FPS) for c in clips]
    pooled = realism.pooled_head_stats(clips, FPS).to_dict()
    speeds = np.array([s.speed for s in stats])
    stds = np.array([s.std for s in stats])
    pooled["clips"] = len(clips)
    pooled["speed_p10_p90"] = [float(np.percentile(speeds, 10)), float(np.percentile(speeds, 90))]
    pooled["speed_min_max"] = [float(speeds.min()), float(speeds.max())]
    pooled["std_min_max"] = {a: [float(stds[:, k].min()), float(stds[:, k].max())] for k, a in enumerate(realism.AXES)}
    pooled["_speeds"] = speeds
    pooled["_stds"] = stds
    return pooled


def window_speeds(clips: list[np.ndarray], window_s: float = realism.WINDOW_S) -> np.ndarray:
    """Mean smoothed head speed (°/s, norm of the three axes) of every 2-s window (hop 1 s)."""
    out = []
    n = int(window_s * FPS)
    for c in clips:
        v = np.linalg.norm(np.diff(realism.smooth(realism.center(c)), axis=0), axis=1) * FPS
        for a in range(0, len(v) - n + 1, n // 2):
            w = v[a : a + n]
            if np.isfinite(w).all():
                out.append(float(w.mean()))
    return np.asarray(out)


# --------------------------------------------------------------------------------------
# corpus
# --------------------------------------------------------------------------------------
def session_turns(style_doc: dict, cues) -> list[tuple[str, float, float]]:
    """The session's turns: the conversation's own (espeak-ng), else speech / silence from the cues."""
    turns = (style_doc.get("speech") or {}).get("turns")
    if turns:
        return [(str(k), float(a), float(b)) for k, a, b in turns]
    out, last = [], 0.0
    for a, b in cues.utterances:
        if a > last:
            out.append(("listening", last, float(a)))
        out.append(("speaking", float(a), float(b)))
        last = float(b)
    out.append(("listening", last, cues.duration_s))
    return out


def measure_corpus(corpus: Path, min_turn_s: dict[str, float] = MIN_TURN_S, style=None) -> dict:
    """Head and gaze figures of every session of a SynHAGE corpus, re-synthesized without tracker noise.

    ``style``: synthesize every session with this :class:`SynthStyle` instead of its own.
    """
    from stygaze.audio import load_audio
    from stygaze.data.corpus import Corpus, session_seeds
    from stygaze.data.synhage import SynthConfig, synthesize
    from stygaze.eval.patterns import comp_score

    clean = SynthConfig(tracker_noise_deg=0.0, tracker_noise_shared_deg=0.0)
    heads = {"speaking": [], "listening": []}
    events: dict[str, list[EventStats]] = {"SPEAK": [], "LISTEN": []}
    sessions = []
    minutes = 0.0
    for s in Corpus(corpus).sessions():
        doc = json.loads(s.style_path.read_text(encoding="utf-8"))
        audio = load_audio(s.audio_path, normalize=False)
        _, motion_ss = session_seeds(doc["corpus_seed"], doc["session_index"])
        r = synthesize(audio, seed=motion_ss, config=clean, style=style)
        m = r.motion
        minutes += m.duration / 60.0
        turns = session_turns(doc, r.cues)
        th = turn_heads(m.head.astype(np.float64), turns, min_turn_s)
        ev = synhage_gaze(m.world_gaze_angles(), m.blink, turns)
        for k in heads:
            heads[k] += th[k]
        for k in events:
            events[k] += ev[k]
        row = {"session": s.name, "comp_score": float(comp_score(m))}
        for k, v in th.items():
            if v:
                row[f"{k}_head_speed"] = float(np.mean([realism.head_stats(h, FPS).speed for h in v]))
        g = gaze_figures(EventStats.pooled(ev["SPEAK"]))
        row.update({f"speak_{k}": g[k] for k in ("shift_median_deg", "large_shift_share", "fixation_median_ms")})
        row["style"] = r.style.to_dict()
        sessions.append(row)
    seeds = sorted({json.loads(s.style_path.read_text(encoding="utf-8")).get("corpus_seed") for s in Corpus(corpus).sessions()})
    made_by = f"stygaze data synth --sessions {len(sessions)} --minutes {minutes / len(sessions):g} --seed {','.join(map(str, seeds))}"
    return {"heads": heads, "events": {k: EventStats.pooled(v) for k, v in events.items()}, "sessions": sessions, "made_by": made_by}


def make_corpus(out: Path, sessions: int, minutes: float, seed: int) -> Path:
    from stygaze.data.corpus import synth_corpus

    synth_corpus(out, sessions=sessions, minutes=minutes, seed=seed, progress=True)
    return out


# --------------------------------------------------------------------------------------
# targets
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One calibration target: the figure, where the real value comes from, and the accepted band."""

    key: str
    what: str
    source: str
    rel_tol: float | None = None  # accepted |measured / real − 1|
    abs_tol: float | None = None  # accepted |measured − real|
    at_most: bool = False  # a one-sided target: measured ≤ real value (+ tolerance)


TALKING = "real talking heads (3DMM pose of 7 public-speech clips, 3 speakers)"
CONV_S = "Dembinsky et al. 2024 video calls, SPEAK (19 people, 15,209 fixations)"
CONV_L = "Dembinsky et al. 2024 video calls, LISTEN (19 people, 17,717 fixations)"

TARGETS: tuple[Target, ...] = (
    Target("head_std_pitch", "head pitch std while speaking (°)", TALKING, rel_tol=0.25),
    Target("head_std_yaw", "head yaw std while speaking (°)", TALKING, rel_tol=0.25),
    Target("head_std_roll", "head roll std while speaking (°)", TALKING, rel_tol=0.25),
    Target("head_speed", "head speed while speaking, 5-frame smoothing (°/s)", TALKING, rel_tol=0.15),
    Target("head_speed_pitch", "head pitch speed while speaking (°/s)", TALKING, rel_tol=0.25),
    Target("head_speed_yaw", "head yaw speed while speaking (°/s)", TALKING, rel_tol=0.25),
    Target("head_speed_roll", "head roll speed while speaking (°/s)", TALKING, rel_tol=0.25),
    Target("speak_fixation_median_ms", "fixation duration median, speaking (ms)", CONV_S, rel_tol=0.15),
    Target("speak_shift_median_deg", "distance between consecutive fixations, median, speaking (°)", CONV_S, rel_tol=0.3),
    Target("speak_large_shift_share", "share of shifts > 6°, speaking", CONV_S, abs_tol=0.06),
    Target("speak_shift_p90_deg", "shift amplitude 90th percentile, speaking (°)", CONV_S, rel_tol=0.2),
    Target("speak_same_direction_share", "consecutive shifts > 2° within 45° of the same direction, speaking", CONV_S, abs_tol=0.07),
    Target("speak_shifts_per_min", "shifts ≥ 2° per minute, speaking", CONV_S, rel_tol=0.2),
    Target("listen_fixation_median_ms", "fixation duration median, listening (ms)", CONV_L, rel_tol=0.15),
    Target("listen_shift_median_deg", "distance between consecutive fixations, median, listening (°)", CONV_L, rel_tol=0.3),
    Target("listen_large_shift_share", "share of shifts > 6°, listening", CONV_L, abs_tol=0.05),
    Target("listen_shift_p90_deg", "shift amplitude 90th percentile, listening (°)", CONV_L, rel_tol=0.25),
    Target("listen_shifts_per_min", "shifts ≥ 2° per minute, listening", CONV_L, rel_tol=0.25),
)


def check(target: Target, real: float, measured: float) -> bool:
    if not (np.isfinite(real) and np.isfinite(measured)):
        return False
    if target.abs_tol is not None:
        return abs(measured - real) <= target.abs_tol
    return abs(measured / real - 1.0) <= target.rel_tol


def flat(head: dict, speak: dict, listen: dict) -> dict:
    """The figures under the target keys."""
    out = {f"head_std_{a}": head["std_deg"][a] for a in realism.AXES}
    out["head_speed"] = head["speed_deg_s"]
    out.update({f"head_speed_{a}": head["axis_speed_deg_s"][a] for a in realism.AXES})
    for prefix, g in (("speak", speak), ("listen", listen)):
        if g:
            out.update({f"{prefix}_{k}": v for k, v in g.items() if not k.startswith("_") and k != "fixations"})
    return out


# --------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------
def load_real_module(real: Path):
    """The loader shipped beside the real data (``load_real.py``), imported from its path."""
    import importlib.util

    path = Path(real) / "load_real.py"
    if not path.exists():
        raise SystemExit(f"calibrate_synhage: {path} not found (pass --real DIR, the folder with load_real.py)")
    spec = importlib.util.spec_from_file_location("load_real", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _public(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def _min_max(values) -> list[float]:
    v = [float(x) for x in values if x is not None and np.isfinite(x)]
    return [min(v), max(v)] if v else [float("nan"), float("nan")]


def run(args) -> dict:
    from stygaze.audio import load_audio
    from stygaze.data.synhage import SynthStyle, synthesize

    t0 = time.time()
    R = load_real_module(args.real)
    # --- real
    clips = [c for c in R.head_gaze("best") if c["audio"] is not None]
    real_clips = [R.to_25fps(c["motion"], c["fps"])[:, :3].astype(np.float64) for c in clips]
    real_head = head_figures(real_clips)
    real_gaze = {k: gaze_figures(v) for k, v in real_gaze_stats(R).items()}
    real = flat(real_head, real_gaze["SPEAK"], real_gaze["LISTEN"])
    participants = real_participants(R)
    print(f"real figures measured ({time.time() - t0:.0f} s)", flush=True)

    # --- SynHAGE corpus (each session's own style) and the default style on the same audio
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus or make_corpus(Path(tmp) / "corpus", args.sessions, args.minutes, args.seed)
        syn = measure_corpus(corpus)
        print(f"corpus measured ({time.time() - t0:.0f} s)", flush=True)
        neutral = measure_corpus(corpus, style=SynthStyle())
        print(f"default style measured ({time.time() - t0:.0f} s)", flush=True)
    syn_head = head_figures(syn["heads"]["speaking"])
    syn_listen_head = head_figures(syn["heads"]["listening"])
    syn_gaze = {k: gaze_figures(v) for k, v in syn["events"].items()}
    measured = flat(syn_head, syn_gaze["SPEAK"], syn_gaze["LISTEN"])
    neutral_head = head_figures(neutral["heads"]["speaking"])
    neutral_gaze = {k: gaze_figures(v) for k, v in neutral["events"].items()}
    neutral_flat = flat(neutral_head, neutral_gaze["SPEAK"], neutral_gaze["LISTEN"])

    # --- SynHAGE on the real clips' own speech: the default style (the procedural baseline,
    # as scripts/check_real.py runs it) and styles drawn from the prior
    base_clips, prior_clips = [], []
    rng = np.random.default_rng(args.seed)
    for k, (c, clip) in enumerate(zip(clips, real_clips)):
        a = load_audio(c["audio"])
        n = len(clip)
        base_clips.append(synthesize(a, style=SynthStyle(), seed=0).motion.head[:n].astype(np.float64))
        for j in range(args.styles):
            prior_clips.append(synthesize(a, style=SynthStyle.sample(rng), seed=1000 * k + j).motion.head[:n].astype(np.float64))
    print(f"real speech measured ({time.time() - t0:.0f} s)", flush=True)

    table = []
    for t in TARGETS:
        rv, mv = real[t.key], measured[t.key]
        tol = f"±{t.abs_tol:g}" if t.abs_tol is not None else f"±{100 * t.rel_tol:.0f} %"
        table.append({
            "key": t.key, "what": t.what, "source": t.source, "real": rv, "synhage": mv,
            "default_style": neutral_flat[t.key], "tolerance": tol, "pass": check(t, rv, mv),
        })  # fmt: skip

    sessions = syn["sessions"]
    speak_speed = np.array([s.get("speaking_head_speed", np.nan) for s in sessions])
    listen_speed = np.array([s.get("listening_head_speed", np.nan) for s in sessions])
    comp = np.array([s["comp_score"] for s in sessions])
    speak_parts = participants
    spread = {
        "speaking_head_speed_sessions_p10_p50_p90": np.nanpercentile(speak_speed, [10, 50, 90]).tolist(),
        "speaking_head_speed_turns_min_max": syn_head["speed_min_max"],
        "real_clip_speed_min_max": real_head["speed_min_max"],
        "speaking_head_std_turns_min_max": syn_head["std_min_max"],
        "real_clip_std_min_max": real_head["std_min_max"],
        "listening_over_speaking_speed_sessions_median": float(np.nanmedian(listen_speed / speak_speed)),
        "comp_score_sessions_p10_p50_p90": np.percentile(comp, [10, 50, 90]).tolist(),
        "comp_score_hage_gt": HAGE_COMP_SCORE,
        "speak_shift_median_sessions_min_max": _min_max(s["speak_shift_median_deg"] for s in sessions),
        "real_participant_shift_median_min_max": _min_max(p["shift_median_deg"] for p in speak_parts),
        "speak_large_share_sessions_min_max": _min_max(s["speak_large_shift_share"] for s in sessions),
        "real_participant_large_share_min_max": _min_max(p["large_shift_share"] for p in speak_parts),
    }
    result = {
        "corpus": syn["made_by"],
        "table": table,
        "passed": int(sum(r["pass"] for r in table)),
        "targets": len(table),
        "head": {
            "real_talking_heads": _public(real_head),
            "synhage_speaking_turns": _public(syn_head),
            "synhage_listening_turns": _public(syn_listen_head),
            "default_style_speaking_turns": _public(neutral_head),
            "default_style_on_real_speech": _public(head_figures(base_clips)),
            "style_prior_on_real_speech": _public(head_figures(prior_clips)),
        },
        "gaze": {
            "real": {k: _public(v) for k, v in real_gaze.items()},
            "synhage": {k: _public(v) for k, v in syn_gaze.items()},
            "default_style": {k: _public(v) for k, v in neutral_gaze.items()},
        },
        "spread": spread,
        "sessions": sessions,
        "seconds": time.time() - t0,
    }
    if args.plot:
        plot(args.plot, real_clips, syn["heads"], real_gaze, syn_gaze, real_head, syn_head)
    return result


def plot(path: Path, real_clips, syn_heads, real_gaze, syn_gaze, real_head, syn_head) -> None:
    """Real vs SynHAGE: head speed of 2-s windows, per-axis head std per clip, shift amplitudes, fixation durations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    bins = np.linspace(0, 40, 41)
    hist = {"bins": bins, "density": True, "histtype": "step"}
    axes[0].hist(window_speeds(real_clips), lw=1.8, color="k", label="real talking heads", **hist)
    axes[0].hist(window_speeds(syn_heads["speaking"]), lw=1.3, color="tab:blue", label="SynHAGE speaking", **hist)
    axes[0].hist(window_speeds(syn_heads["listening"]), lw=1.3, color="tab:cyan", label="SynHAGE listening", **hist)
    axes[0].set_xlabel("head speed of 2-s windows (°/s, 5-frame smoothing)")
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=7)
    x = np.arange(3)
    axes[1].boxplot([syn_head["_stds"][:, k] for k in range(3)], positions=x, widths=0.5, showfliers=False)
    for k in range(3):
        label = "real clips" if k == 0 else None
        axes[1].scatter(np.full(len(real_head["_stds"]), k) + 0.35, real_head["_stds"][:, k], color="k", s=12, zorder=3, label=label)
    axes[1].set_xticks(x, list(realism.AXES))
    axes[1].set_ylabel("head std per clip (°)")
    axes[1].set_title("boxes: SynHAGE speaking turns ≥ 8 s", fontsize=8)
    axes[1].legend(fontsize=7)
    for label, color in (("SPEAK", "tab:red"), ("LISTEN", "tab:green")):
        for src, g, ls in (("real", real_gaze, "-"), ("SynHAGE", syn_gaze, "--")):
            for ax, key in ((axes[2], "_shifts"), (axes[3], "_durations")):
                v = np.sort(g[label][key])
                ax.plot(v, np.arange(1, len(v) + 1) / len(v), ls=ls, color=color, lw=1.3, label=f"{src} {label.lower()}")
    axes[2].set_xscale("log")
    axes[2].set_xlim(0.05, 50)
    axes[2].axvline(LARGE_SHIFT_DEG, color="grey", lw=0.6)
    axes[2].set_xlabel("gaze shift: distance between consecutive fixations (°)")
    axes[2].set_ylabel("cumulative share")
    axes[2].legend(fontsize=7)
    axes[3].set_xscale("log")
    axes[3].set_xlim(100, 2000)
    axes[3].set_xlabel("fixation duration (ms)")
    axes[3].legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fmt(v) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    return f"{v:.3f}" if abs(v) < 1 else f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"


def print_table(result: dict) -> None:
    print(f"{'target':<66}{'real':>8}{'SynHAGE':>9}{'default':>9}{'tol':>8}")
    for r in result["table"]:
        status = "ok" if r["pass"] else "MISS"
        print(f"{r['what']:<66}{fmt(r['real']):>8}{fmt(r['synhage']):>9}{fmt(r['default_style']):>9}{r['tolerance']:>8}  {status}")
    print(f"{result['passed']} of {result['targets']} targets within tolerance")
    h = result["head"]
    for k in ("real_talking_heads", "default_style_on_real_speech", "style_prior_on_real_speech", "synhage_listening_turns"):
        s = h[k]["std_deg"]
        print(f"  {k}: std {s['pitch']:.2f}/{s['yaw']:.2f}/{s['roll']:.2f}°, speed {h[k]['speed_deg_s']:.2f} °/s")
    for k, v in result["spread"].items():
        v = {a: np.round(x, 2).tolist() for a, x in v.items()} if isinstance(v, dict) else np.round(v, 3).tolist()
        print(f"  {k}: {v}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--real", type=Path, required=True, help="the real-data folder (with load_real.py)")
    p.add_argument("--corpus", type=Path, default=None, help="a corpus made by `stygaze data synth` (without it: a fresh one is made)")
    p.add_argument("--sessions", type=int, default=24, help="sessions of that fresh corpus (default: 24)")
    p.add_argument("--minutes", type=float, default=3.0, help="minutes per session of that fresh corpus (default: 3)")
    p.add_argument("--seed", type=int, default=0, help="its seed, also of the styles drawn for the real speech (default: 0)")
    p.add_argument("--styles", type=int, default=6, help="styles from the prior per real clip's speech (default: 6)")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, help="output JSON, figures only (default: scripts/results/synhage_calibration.json)")
    p.add_argument("--plot", type=Path, default=None, help="output plot, e.g. docs/img/synhage_calibration.png (default: none)")
    args = p.parse_args(argv)
    if args.corpus is not None and not (args.corpus / "splits.json").exists():
        raise SystemExit(f"calibrate_synhage: {args.corpus} is not a corpus made by `stygaze data synth` (no splits.json)")
    result = run(args)
    print_table(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=float) + "\n", encoding="utf-8")
    print(f"wrote {args.json} ({result['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
