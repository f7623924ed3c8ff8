"""Avatar-ready motion: gaze events, blinks and jaw of the built-in models against real figures.

    python scripts/check_avatar.py --real ../shared/real [--data runs/synhage] [--models default,realtime]
                                   [--perceptual-sessions 16 --perceptual-seconds 8] [--skip-perceptual]
                                   [--json scripts/results/avatar.json] [--plots docs/img]

Four parts, written to ``--json`` (and a markdown summary beside it):

1. **Real speech** (every recording of ``R.speech_files()`` in ``--real``; evaluation only, nothing
   is copied): each model generates with the default settings (seed = the file's index), and the
   world gaze is cut into events with the detector of the real conversation data (Dembinsky et
   al. 2024: I-DT, x range and y range each ≤ 0.72°, ≥ 100 ms first-to-last sample, on a 90 Hz
   track: the 25 fps gaze is linearly upsampled first; frames with the lid ≥ half closed count as
   tracker loss, as an eye tracker loses the pupil in a blink). Reported: fixation duration
   (median, IQR), shifts (distance between consecutive fixation centres) larger than 6°, their
   90th percentile, consecutive shifts > 2° in the same direction (< 45° apart), shifts ≥ 2° per
   minute, the gaze spread (std of the fixation centres), blinks per minute (the ``blink``
   channel's runs ≥ 0.5) and how blinks cluster at large shifts (share of shifts > 10° / < 2°
   with a blink starting between the end of the fixation before and 0.1 s after the start of the
   one after). The real rows come from the conversation data's own fixation table (speaking and
   listening; shifts per minute = shifts ≥ 2° over the summed onset intervals of the shifts, as the
   table's segments are short; gaze spread per participant). The raw model output (``raw=True``)
   is listed for comparison.
2. **SynHAGE** (the ``test`` and ``val`` sessions of ``--data``): the same figures against the
   corpus' ground truth, and the model's raw output scored as ``check_builtin.py`` does (MAE, Sim,
   BAS), for every model.
3. **OmniHead perceptual check** (as ``scripts/reproduce_omnihead.py``: SynHAGE sessions of seed
   4242, the first ``--perceptual-seconds`` of each rendered with the procedural head and a random
   camera per session, recognised with the shipped recognizer at stride 4): blinks per minute and
   saccade share of the ground-truth renders, of the raw generator and of the default generator.
4. **Plots** (``--plots``): a real speaker's gaze (MediaPipe iris + 3DMM head of a StyleTalk clip,
   3-frame median) next to the generated gaze for the same audio; the shift-amplitude
   distributions of real conversation and generated speech.

The detector is ``stygaze.eval.events``' ``"conversation"`` preset when that module is installed,
otherwise the equivalent below (:func:`conversation_fixations`); the JSON says which.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

FPS = 25.0
DET_FPS = 90.0  # the conversation data's sampling rate
DISPERSION_DEG = 0.72  # per axis (30 px at their geometry)
MIN_SPAN_MS = 100.0  # first-to-last sample
BLINK_CLOSED = 0.5  # lid closure that counts as a blink / tracker loss
BIG_SHIFT_DEG = 10.0
SMALL_SHIFT_DEG = 2.0


# --------------------------------------------------------------------------------------
# the conversation detector
# --------------------------------------------------------------------------------------
def _idt_per_axis(x: np.ndarray, y: np.ndarray, thr: float, nmin: int) -> np.ndarray:
    """I-DT with per-axis dispersion (x range ≤ thr and y range ≤ thr); ``(K, 2)`` half-open ranges."""
    n, out, s = len(x), [], 0
    while s + nmin <= n:
        wx, wy = x[s : s + nmin], y[s : s + nmin]
        if not (np.isfinite(wx).all() and np.isfinite(wy).all()) or np.ptp(wx) > thr or np.ptp(wy) > thr:
            s += 1
            continue
        xmin, xmax, ymin, ymax = wx.min(), wx.max(), wy.min(), wy.max()
        e = s + nmin
        while e < n and np.isfinite(x[e]) and np.isfinite(y[e]):
            a, b, c, d = min(xmin, x[e]), max(xmax, x[e]), min(ymin, y[e]), max(ymax, y[e])
            if b - a > thr or d - c > thr:
                break
            xmin, xmax, ymin, ymax = a, b, c, d
            e += 1
        out.append((s, e))
        s = e
    return np.asarray(out, np.int64).reshape(-1, 2)


def conversation_fixations(xy: np.ndarray, fps: float = FPS) -> tuple[np.ndarray, np.ndarray, float]:
    """Fixations of a ``(T, 2)`` (yaw, pitch) track by the conversation data's detector.

    Returns ``(ranges (K, 2) in samples of the 90 Hz track, centres (K, 2) degrees, rate)``.
    Uses ``stygaze.eval.events`` (preset ``"conversation"``) when it is installed.
    """
    try:
        from stygaze.eval.events import detect_events
    except ImportError:
        detect_events = None
    if detect_events is not None:
        ev = detect_events(xy, fps, "conversation")
        fix = ev.fixations
        centres = np.array([ev.xy[a:b].mean(axis=0) for a, b in fix]).reshape(-1, 2)
        return fix, centres, ev.fps
    from stygaze.motion import resample_linear

    n = len(xy)
    n_out = max(1, int(round(n * DET_FPS / fps)))
    z = resample_linear(np.asarray(xy, np.float64), np.arange(n_out) * fps / DET_FPS).astype(np.float64)
    nmin = int(np.ceil(MIN_SPAN_MS * DET_FPS / 1000.0 - 1e-9)) + 1  # "span" rule: (N − 1) / fps ≥ 100 ms
    fix = _idt_per_axis(z[:, 0], z[:, 1], DISPERSION_DEG, nmin)
    centres = np.array([z[a:b].mean(axis=0) for a, b in fix]).reshape(-1, 2)
    return fix, centres, DET_FPS


def detector_name() -> str:
    try:
        import stygaze.eval.events  # noqa: F401

        return "stygaze.eval.events preset 'conversation'"
    except ImportError:
        return "scripts/check_avatar.py conversation_fixations (per-axis I-DT 0.72°, 100 ms span, 90 Hz)"


# --------------------------------------------------------------------------------------
# measures
# --------------------------------------------------------------------------------------
def shift_measures(centres: np.ndarray, segment: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Shift amplitudes (M,) and turn angles (P,) between consecutive shifts both > 2° (degrees)."""
    centres = np.asarray(centres, np.float64).reshape(-1, 2)
    seg = np.zeros(len(centres), np.int64) if segment is None else np.asarray(segment)
    if len(centres) < 2:
        return np.zeros(0), np.zeros(0)
    vec = np.diff(centres, axis=0)
    same = seg[1:] == seg[:-1]
    amp = np.hypot(vec[:, 0], vec[:, 1])
    pair = same[:-1] & same[1:] & (amp[:-1] > 2) & (amp[1:] > 2)
    cos = np.einsum("ij,ij->i", vec[:-1][pair], vec[1:][pair]) / (amp[:-1][pair] * amp[1:][pair])
    return amp[same], np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


class Pool:
    """Pooled event measures of many clips."""

    def __init__(self):
        self.fix_ms, self.shift, self.turn, self.minutes = [], [], [], 0.0
        self.spread = []  # per clip: std of the fixation centres (yaw, pitch)
        self.blinks, self.blink_minutes = 0, 0.0
        self.big, self.big_blink, self.small, self.small_blink = 0, 0, 0, 0
        self.per_clip = []

    def add_track(self, xy: np.ndarray, minutes: float, blink: np.ndarray | None = None) -> None:
        """One 25 fps world-gaze track ``(T, 2)`` (yaw, pitch); ``blink`` (T,) closure or None."""
        xy = np.asarray(xy, np.float64).copy()
        onsets = np.zeros(0)
        if blink is not None:
            closed = np.asarray(blink) >= BLINK_CLOSED
            xy[closed] = np.nan  # an eye tracker loses the pupil while the lid is closed
            starts = np.flatnonzero(closed & ~np.r_[False, closed[:-1]])
            onsets = starts / FPS
            self.blinks += len(starts)
            self.blink_minutes += minutes
        fix, centres, rate = conversation_fixations(xy)
        dur = (fix[:, 1] - fix[:, 0]) / rate * 1000.0
        shift, turn = shift_measures(centres)
        self.fix_ms.append(dur)
        self.shift.append(shift)
        self.turn.append(turn)
        self.minutes += minutes
        if len(centres) > 2:
            self.spread.append(centres.std(axis=0))
        if blink is not None and len(fix) > 1:
            ends, begins = fix[:-1, 1] / rate, fix[1:, 0] / rate  # the gap of each shift
            for amp, a, b in zip(shift, ends, begins):
                hit = bool(np.any((onsets >= a - 0.1) & (onsets <= b + 0.1)))
                if amp > BIG_SHIFT_DEG:
                    self.big, self.big_blink = self.big + 1, self.big_blink + hit
                elif amp < SMALL_SHIFT_DEG:
                    self.small, self.small_blink = self.small + 1, self.small_blink + hit
        s = summary_of(dur, shift, turn, minutes)
        self.per_clip.append({k: s[k] for k in ("large_shift_share", "shift_p90_deg", "same_direction_share", "shifts_per_min", "fixation_median_ms")})

    def add_table(self, duration_ms, centres, segment, minutes: float, person) -> None:
        """A fixation table (real conversation data): ``minutes`` of observation the shifts
        come from, ``person`` (K,) ids for the gaze spread (std of a person's fixation centres)."""
        shift, turn = shift_measures(centres, segment)
        self.fix_ms.append(np.asarray(duration_ms, np.float64))
        self.shift.append(shift)
        self.turn.append(turn)
        self.minutes += minutes
        for p in np.unique(person):
            c = np.asarray(centres)[np.asarray(person) == p]
            if len(c) > 2:
                self.spread.append(c.std(axis=0))

    def result(self) -> dict:
        fix = np.concatenate(self.fix_ms) if self.fix_ms else np.zeros(0)
        out = summary_of(fix, np.concatenate(self.shift), np.concatenate(self.turn), self.minutes)
        if self.spread:
            sp = np.mean(self.spread, axis=0)
            out["spread_yaw_deg"], out["spread_pitch_deg"] = float(sp[0]), float(sp[1])
        if self.blink_minutes > 0:
            out["blinks_per_min"] = self.blinks / self.blink_minutes
            out["blink_at_shift_gt10"] = self.big_blink / self.big if self.big else None
            out["blink_at_shift_lt2"] = self.small_blink / self.small if self.small else None
            out["shifts_gt10"] = self.big
        if self.per_clip:
            out["per_clip_range"] = {k: [float(np.nanmin([c[k] for c in self.per_clip])), float(np.nanmax([c[k] for c in self.per_clip]))]
                                     for k in self.per_clip[0]}
        return out


def summary_of(fix_ms, shift, turn, minutes) -> dict:
    q = lambda x, p: float(np.quantile(x, p)) if len(x) else float("nan")  # noqa: E731
    return {
        "fixations": int(len(fix_ms)),
        "fixation_median_ms": q(fix_ms, 0.5),
        "fixation_iqr_ms": [q(fix_ms, 0.25), q(fix_ms, 0.75)],
        "shift_median_deg": q(shift, 0.5),
        "shift_p90_deg": q(shift, 0.9),
        "large_shift_share": float(np.mean(shift > 6)) if len(shift) else float("nan"),
        "same_direction_share": float(np.mean(turn < 45)) if len(turn) else float("nan"),
        "shifts_per_min": float(np.sum(shift >= 2) / minutes) if minutes > 0 else float("nan"),
        "minutes": float(minutes),
    }


def world_xy(motion) -> np.ndarray:
    """``(T, 2)`` world gaze (yaw, pitch) of a Motion (head ∘ mean eye)."""
    a = motion.world_gaze_angles()
    return np.stack([a[:, 1], a[:, 0]], axis=1)


MUST = {  # targets for the default generation on real speech (real conversation figures, docs/model-stygazetalk.md)
    "large_shift_share": (0.20, 0.40),
    "shift_p90_deg": (10.0, None),
    "same_direction_share": (None, 0.30),
    "shifts_per_min": (70.0, 150.0),
    "fixation_median_ms": (150.0, 300.0),
    "blinks_per_min": (10.0, 30.0),
}


def check(res: dict) -> dict:
    out = {}
    for k, (lo, hi) in MUST.items():
        v = res.get(k)
        out[k] = v is not None and np.isfinite(v) and (lo is None or v >= lo) and (hi is None or v <= hi)
    return out


# --------------------------------------------------------------------------------------
# parts
# --------------------------------------------------------------------------------------
def real_speech_part(R, models: dict) -> tuple[dict, dict]:
    """Generated rows on real speech (default and raw per model) and the real conversation rows."""
    from stygaze.audio import load_audio

    files = R.speech_files()
    rows, shifts = {}, {}
    for name, pipe in models.items():
        for mode in ("default", "raw"):
            pool = Pool()
            for i, f in enumerate(files):
                x = load_audio(f["path"], normalize=False)
                m = pipe.generate(x, seed=i, raw=(mode == "raw"))
                pool.add_track(world_xy(m), len(m) / FPS / 60.0, m.blink)
            rows[f"{name} {mode}"] = pool.result()
            shifts[f"{name} {mode}"] = np.concatenate(pool.shift)
            print(f"real speech, {name} {mode}: {len(files)} files", file=sys.stderr)
    cf = R.conversation_fixations()
    for label in ("SPEAK", "LISTEN"):
        k = cf["label"] == label
        pool = Pool()
        try:  # one definition of the table's measures for the whole project
            from stygaze.eval.events import fixation_table_stats
        except ImportError:
            fixation_table_stats = None
        if fixation_table_stats is not None:
            st = fixation_table_stats(cf, label)
            pool.fix_ms, pool.shift, pool.turn, pool.minutes = [st.fixation_ms], [st.shift_deg], [st.turn_deg], st.minutes
        else:
            seg = cf["participant"][k] * 1000 + cf["segment"][k]
            # the table's segments are short (median 0.5 s), so shifts between segments are missing: the time a
            # shift stands for is its onset interval (fixation onset to the next one), summed over the shifts
            later = cf["fix_idx"][k] > 0
            minutes = float(np.sum(cf["onset_interval_ms"][k][later])) / 60000.0
            centres = np.stack([cf["center_x_deg"][k], cf["center_y_deg"][k]], axis=1)
            pool.add_table(cf["duration_ms"][k], centres, seg, minutes, cf["participant"][k])
        for person in np.unique(cf["participant"][k]):  # gaze spread: std of a person's fixation centres
            kk = k & (cf["participant"] == person)
            c = np.stack([cf["center_x_deg"][kk], cf["center_y_deg"][kk]], axis=1)
            if len(c) > 2 and fixation_table_stats is not None:
                pool.spread.append(c.std(axis=0))
        rows[f"real conversation ({label.lower()})"] = pool.result()
        shifts[f"real conversation ({label.lower()})"] = np.concatenate(pool.shift)
    return rows, {"files": len(files), "seconds": float(sum(f["duration_s"] for f in files)), "shift_samples": shifts}


def synhage_part(data: Path, models: dict) -> dict:
    from stygaze.audio import SAMPLE_RATE, load_audio
    from stygaze.eval import EvalAccumulator
    from stygaze.eval.beats import audio_beats, beat_alignment_score, motion_beats
    from stygaze.motion import Motion
    splits = json.loads((data / "splits.json").read_text())
    names = list(splits.get("test", [])) + list(splits.get("val", []))
    out = {"sessions": names}
    gt_pool = Pool()
    sessions = []
    for n in names:
        gt = Motion.load(data / n / "motion.npz")
        audio = np.resize(load_audio(data / n / "audio.wav", normalize=False), len(gt) * 640)
        sessions.append((n, gt, audio))
        gt_pool.add_track(world_xy(gt), len(gt) / FPS / 60.0, gt.blink)
    out["gt"] = gt_pool.result()
    for name, pipe in models.items():
        acc, pool, bas = EvalAccumulator(), Pool(), []
        for i, (n, gt, audio) in enumerate(sessions):
            raw = pipe.generate(audio, sr=SAMPLE_RATE, seed=i, raw=True)
            acc.add(raw, gt, audio, name=n)
            beats = audio_beats(audio / max(float(audio.std()), 1e-8), SAMPLE_RATE)
            bas.append([beat_alignment_score(beats, motion_beats(raw.data[:, c])) for c in ([3, 4, 5, 6], [0, 1, 2])])
            m = pipe.generate(audio, sr=SAMPLE_RATE, seed=i)
            pool.add_track(world_xy(m), len(m) / FPS / 60.0, m.blink)
        r = acc.result()
        out[f"{name} raw"] = {"mae_all": r["all"]["mae"], "mae_gaze": r["gaze"]["mae"], "mae_head": r["head"]["mae"],
                              "sim": r["pattern"]["sim"], "bas_gaze": float(np.mean([b[0] for b in bas])),
                              "bas_head": float(np.mean([b[1] for b in bas]))}
        out[f"{name} default"] = pool.result()
        print(f"synhage, {name}: {len(sessions)} sessions", file=sys.stderr)
    return out


def perceptual_part(models: dict, sessions: int, seconds: float, work: Path) -> dict:
    """reproduce_omnihead.py's perceptual protocol, with the avatar stages."""
    from stygaze.audio import load_audio
    from stygaze.data.corpus import synth_corpus
    from stygaze.eval.perceptual import perceptual_report_from_recognized, recognise
    from stygaze.omnihead.clips import load_session_motion
    from stygaze.omnihead.model import load_omnihead
    from stygaze.render.clips import RandomizeConfig, render_clip_frames, sample_render_config

    seed = 4242
    model = load_omnihead()
    size = model.config.img_size
    corpus = work / f"corpus_{seed}_{sessions}x30s"
    if not (corpus / "splits.json").exists():
        import shutil

        shutil.rmtree(corpus, ignore_errors=True)
        synth_corpus(corpus, sessions=sessions, minutes=0.5, seed=seed, progress=False)
    dirs = sorted(p for p in corpus.iterdir() if (p / "motion.npz").exists())
    n = int(round(seconds * FPS))
    cache = work / f"renders_{size}"
    cache.mkdir(parents=True, exist_ok=True)

    def rendered(key: str, motion, rcfg) -> np.ndarray:
        path = cache / f"{key}.npy"
        if not path.exists():
            frames = render_clip_frames(motion, config=rcfg)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, frames)
            tmp.rename(path)
        return np.load(path)

    tags = {}
    for name, pipe in models.items():
        w = Path(pipe.source) / "model.safetensors"
        tags[name] = hashlib.sha1(w.read_bytes()).hexdigest()[:8] if w.exists() else name
    sets: dict[str, list] = {}
    for i, d in enumerate(dirs):
        full = load_session_motion(d)
        rcfg = sample_render_config(np.random.default_rng([seed, i]), size, RandomizeConfig(hflip=0.0), supersample=2)
        videos = {"gt": rendered(f"{corpus.name}_{d.name}_p{n}_gt", full.slice(0, n), rcfg)}
        audio = load_audio(d / "audio.wav", normalize=False)
        for name, pipe in models.items():
            for mode in ("raw", "default"):
                if mode == "raw" and name != "default":
                    continue
                m = pipe.generate(audio, style=full, seed=i, raw=(mode == "raw"))
                m = m.slice(0, min(n, len(m)))
                key = f"{corpus.name}_{d.name}_p{n}_{name}_{mode}_{tags[name]}_{stage_tag()}"
                videos[f"{name} {mode}"] = rendered(key, m, rcfg)
        for k, v in videos.items():
            sets.setdefault(k, []).append(recognise(model, v, stride=4))
        print(f"perceptual: [{d.name}] rendered and recognised", file=sys.stderr)
    out = {"sessions": len(dirs), "seconds_per_session": seconds, "recognizer": "shipped tiny OmniHead", "stride": 4}
    for k in sets:
        rep = perceptual_report_from_recognized(sets[k], sets["gt"])
        out[k] = {"blinks_per_min": rep.pred.blink_rate, "saccade_share": rep.pred.saccade_share,
                  "saccades_per_min": rep.pred.saccades_per_min, "gestures_per_min": rep.pred.gestures_per_min,
                  "frechet_dynamics": rep.frechet}
    return out


def stage_tag() -> str:
    """A short hash of the source of every stage after the generator, so cached renders follow changes to them."""
    h = hashlib.sha1()
    for mod in ("saccades", "blinks", "jaw", "avatar", "style_match", "beat_align", "pipeline"):
        h.update((ROOT / "stygaze" / "stygazetalk" / f"{mod}.py").read_bytes())
    h.update((ROOT / "stygaze" / "features" / "voice.py").read_bytes())
    h.update((ROOT / "stygaze" / "render" / "heads.py").read_bytes())
    return h.hexdigest()[:8]


# --------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------
def _rel(p: Path) -> str:
    p = Path(p).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def plots(R, models: dict, rows_meta: dict, out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.ndimage import median_filter

    from stygaze.audio import load_audio
    from stygaze.motion import Motion

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    clips = [c for c in R.head_gaze("best") if c["audio"] is not None and c["eye_source"] is not None]
    clip = max(clips, key=lambda c: c["eye_width_px"])  # the largest eyes in the image: the least noisy iris estimate
    real = Motion(R.to_25fps(clip["motion"], clip["fps"]).astype(np.float32))
    eyes = real.data[:, 3:].copy()
    ok = np.isfinite(eyes).all(axis=1)
    eyes[ok] = median_filter(eyes[ok], size=(3, 1))  # MediaPipe's eye-in-head jitters 1-3° per frame
    real.data[:, 3:] = eyes
    pipe = models["default"]
    x = load_audio(clip["audio"], normalize=False)
    gen = pipe.generate(x, seed=0)
    raw = pipe.generate(x, seed=0, raw=True)
    T = min(len(real), len(gen))
    t = np.arange(T) / FPS
    fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    for ax, k, lab in ((axes[0], 0, "world gaze yaw (°)"), (axes[1], 1, "world gaze pitch (°)")):
        ax.plot(t, world_xy(real)[:T, k], color="0.3", lw=1.0, label=f"real speaker ({clip['group']}/{clip['name']}; MediaPipe eyes, 3-frame median)")
        ax.plot(t, world_xy(raw)[:T, k], color="tab:orange", lw=0.9, alpha=0.8, label="generated, raw model output")
        ax.plot(t, world_xy(gen)[:T, k], color="tab:blue", lw=1.1, label="generated, default (gaze events)")
        if gen.blink is not None and k == 0:
            b = gen.blink[:T] >= BLINK_CLOSED
            for s in np.flatnonzero(b & ~np.r_[False, b[:-1]]):
                ax.axvline(s / FPS, color="tab:green", lw=0.6, alpha=0.6)
        ax.set_ylabel(lab)
    axes[0].legend(loc="upper right", fontsize=7)
    axes[0].set_title("The same speech: a real speaker's gaze and the generated gaze (green lines: generated blinks)", fontsize=9)
    axes[1].set_xlabel("time (s)")
    fig.tight_layout()
    p = out_dir / "avatar_gaze_trace.png"
    fig.savefig(p, dpi=90)
    plt.close(fig)
    written.append(_rel(p))

    shifts = rows_meta["shift_samples"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    bins = np.logspace(np.log10(0.1), np.log10(60), 36)
    grid = np.logspace(np.log10(0.1), np.log10(60), 200)
    styles = {"real conversation (speak)": ("0.15", "-"), "real conversation (listen)": ("0.55", "--"),
              "default default": ("tab:blue", "-"), "default raw": ("tab:orange", ":"), "realtime default": ("tab:purple", "-.")}
    names = {"default default": "generated, default model", "default raw": "generated, raw model output",
             "realtime default": "generated, realtime model"}
    for k, (col, ls) in styles.items():
        if k in shifts and len(shifts[k]):
            a = np.asarray(shifts[k])
            axes[0].hist(a, bins=bins, weights=np.full(len(a), 1.0 / len(a)), histtype="step", color=col, ls=ls, lw=1.4, label=names.get(k, k))
            axes[1].plot(grid, [np.mean(a > g) for g in grid], color=col, ls=ls, lw=1.4, label=names.get(k, k))
    for ax in axes:
        ax.set_xscale("log")
        for v in (2, 6):
            ax.axvline(v, color="0.75", lw=0.8)
        ax.set_xlabel("shift amplitude (°, between consecutive fixation centres)")
    axes[0].set_ylabel("share of shifts per bin")
    axes[1].set_ylabel("share of shifts larger than x")
    axes[1].set_yscale("log")
    axes[1].set_ylim(1e-3, 1.05)
    axes[0].legend(fontsize=7)
    fig.suptitle("Gaze shifts: real video calls (fixation table) vs generated on real speech (conversation detector)", fontsize=9)
    fig.tight_layout()
    p = out_dir / "avatar_shift_amplitudes.png"
    fig.savefig(p, dpi=90)
    plt.close(fig)
    written.append(_rel(p))
    return written


# --------------------------------------------------------------------------------------
def main(argv=None) -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", required=True, help="the real-data folder (../shared/real)")
    ap.add_argument("--data", default=str(ROOT / "runs" / "synhage"), help="SynHAGE corpus for part 2 (skipped if missing)")
    ap.add_argument("--models", default="default,realtime", help="built-in model names or checkpoint folders, comma-separated")
    ap.add_argument("--perceptual-sessions", type=int, default=16)
    ap.add_argument("--perceptual-seconds", type=float, default=8.0)
    ap.add_argument("--skip-perceptual", action="store_true")
    ap.add_argument("--work", default=str(ROOT / "runs" / "omnihead_eval"), help="cache for the perceptual corpus and renders")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=str(ROOT / "scripts" / "results" / "avatar.json"))
    ap.add_argument("--plots", default=str(ROOT / "docs" / "img"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    sys.path.insert(0, str(Path(args.real).resolve()))
    import load_real as R

    from stygaze.stygazetalk.pipeline import StyGazeTalk

    models = {}
    for name in args.models.split(","):
        name = name.strip()
        models[Path(name).name if Path(name).exists() else name] = StyGazeTalk.from_pretrained(None if name == "default" else name)
    given = list(argv if argv is not None else sys.argv[1:])
    given = [("DIR" if a == args.real else a) for a in given]  # the real-data folder's path stays out of the results
    res: dict = {"detector": detector_name(), "command": "python scripts/check_avatar.py " + " ".join(given)}
    rows, meta = real_speech_part(R, models)
    res["real_speech"] = {"files": meta["files"], "seconds": meta["seconds"], "rows": rows}
    res["real_speech"]["targets_default"] = check(rows["default default"])
    data = Path(args.data)
    if (data / "splits.json").exists():
        res["synhage"] = synhage_part(data, models)
    if not args.skip_perceptual:
        res["perceptual"] = perceptual_part(models, args.perceptual_sessions, args.perceptual_seconds, Path(args.work))
        p = res["perceptual"]
        gt_b = p["gt"]["blinks_per_min"]
        res["perceptual"]["targets"] = {
            "blinks_within_30pct_of_gt": bool(abs(p["default default"]["blinks_per_min"] - gt_b) <= 0.3 * gt_b),
            "saccade_share_closer_to_gt_than_raw": bool(abs(p["default default"]["saccade_share"] - p["gt"]["saccade_share"])
                                                        < abs(p["default raw"]["saccade_share"] - p["gt"]["saccade_share"])),
        }
    if args.plots:
        res["plots"] = plots(R, models, meta, Path(args.plots))
    res["seconds"] = round(time.time() - t0, 1)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=float) + "\n")
    md = markdown(res)
    out.with_suffix(".md").write_text(md)
    print(md)
    return 0


def markdown(res: dict) -> str:
    f = lambda v, s=".2f": "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, s)  # noqa: E731
    rs = res["real_speech"]
    lines = [f"# Avatar check\n\nCommand: `{res['command']}`  \nDetector: {res['detector']}\n",
             f"## Real speech ({rs['files']} recordings, {rs['seconds'] / 60:.1f} min; real rows: the conversation data's fixation table)\n",
             "| row | fixation median (ms) [IQR] | shifts > 6° | 90th pct shift (°) | same direction | shifts ≥ 2°/min | spread yaw / pitch (° std of fixation centres per clip; real: per person) | blinks/min | blink at shifts > 10° / < 2° |",
             "|---|---|---|---|---|---|---|---|---|"]
    for k, r in rs["rows"].items():
        iqr = r["fixation_iqr_ms"]
        bl = f"{f(r.get('blinks_per_min'), '.1f')}" if "blinks_per_min" in r else "–"
        ev = f"{f(r.get('blink_at_shift_gt10'))} / {f(r.get('blink_at_shift_lt2'))}" if "blinks_per_min" in r else "–"
        lines.append(f"| {k} | {f(r['fixation_median_ms'], '.0f')} [{f(iqr[0], '.0f')}–{f(iqr[1], '.0f')}] | {f(r['large_shift_share'])} | "
                     f"{f(r['shift_p90_deg'], '.1f')} | {f(r['same_direction_share'])} | {f(r['shifts_per_min'], '.0f')} | "
                     f"{f(r.get('spread_yaw_deg'), '.1f')} / {f(r.get('spread_pitch_deg'), '.1f')} | {bl} | {ev} |")
    lines.append("\nTargets (default model, default settings): " + ", ".join(f"{k} {'ok' if v else 'NOT MET'}" for k, v in rs["targets_default"].items()))
    rng = rs["rows"]["default default"].get("per_clip_range")
    if rng:
        lines.append("Per-recording range (default model): " + ", ".join(f"{k} {f(a)}–{f(b)}" for k, (a, b) in rng.items()))
    if "synhage" in res:
        s = res["synhage"]
        lines += [f"\n## SynHAGE ({len(s['sessions'])} sessions: test + val)\n",
                  "| row | fixation median (ms) | shifts > 6° | 90th pct (°) | same direction | shifts ≥ 2°/min | blinks/min |", "|---|---|---|---|---|---|---|"]
        for k, r in s.items():
            if isinstance(r, dict) and "fixation_median_ms" in r:
                lines.append(f"| {k} | {f(r['fixation_median_ms'], '.0f')} | {f(r['large_shift_share'])} | {f(r['shift_p90_deg'], '.1f')} | "
                             f"{f(r['same_direction_share'])} | {f(r['shifts_per_min'], '.0f')} | {f(r.get('blinks_per_min'), '.1f')} |")
        lines += ["", "| raw model output vs GT | MAE all / gaze / head (°) | Sim | BAS gaze / head |", "|---|---|---|---|"]
        for k, r in s.items():
            if isinstance(r, dict) and "mae_all" in r:
                lines.append(f"| {k} | {f(r['mae_all'])} / {f(r['mae_gaze'])} / {f(r['mae_head'])} | {f(r['sim'], '.3f')} | "
                             f"{f(r['bas_gaze'], '.3f')} / {f(r['bas_head'], '.3f')} |")
    if "perceptual" in res:
        p = res["perceptual"]
        lines += [f"\n## OmniHead perceptual check ({p['sessions']} SynHAGE sessions × {p['seconds_per_session']:g} s, {p['recognizer']}, stride {p['stride']})\n",
                  "| renders | blinks/min | saccade share | saccades/min | gestures/min | Fréchet (dynamics) vs GT |", "|---|---|---|---|---|---|"]
        for k, r in p.items():
            if isinstance(r, dict) and "blinks_per_min" in r:
                lines.append(f"| {k} | {f(r['blinks_per_min'], '.1f')} | {f(r['saccade_share'], '.3f')} | {f(r['saccades_per_min'], '.1f')} | "
                             f"{f(r['gestures_per_min'], '.1f')} | {f(r['frechet_dynamics'], '.4f')} |")
        lines.append("\nTargets: " + ", ".join(f"{k} {'ok' if v else 'NOT MET'}" for k, v in p["targets"].items()))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
