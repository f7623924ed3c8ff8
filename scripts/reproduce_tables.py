"""Reproduce StyGazeTalk's evaluation (Tables II, III, IV) on a SynHAGE corpus.

One command trains (or reuses) the paper's ablation rows on the corpus's ``train`` split and
evaluates them on its ``test`` split::

    .venv/bin/python scripts/reproduce_tables.py --scale small --threads 1

Rows (``configs/<row>_mel.yaml``; ``--audio wav2vec2`` uses the ``*_wav2vec2`` configs, which
need the wav2vec2 weights in the local Hugging Face cache):

* **Base** (LSTM, no style), **SE-32**, **SE-64** (LSTM + 32/64-d contrastive style),
  **SE-64-VEL** (SE-64 with the velocity loss, lambda = 0.7), **TFM-SE-64** (Transformer
  generator of matched size). SE-64, SE-64-VEL and TFM-SE-64 share one stage-1 style encoder
  (their ``style_encoder`` sections are identical); SE-32 has its own.
* **SE-64-VEL+z** (not in the paper): SE-64-VEL plus the built-in model's per-step latent
  (``latent_dim: 8``, configs/default.yaml). Its sampling temperature is chosen on the **val**
  split (best Sim over :data:`TEMPERATURES`), then used once on the test split.
* **Built-in** (``--builtin``, default except at tiny scale): the shipped model
  (``stygaze/assets/stygazetalk``, trained by ``configs/default.yaml`` on the same corpus's train
  split: SE-64-VEL + latent, larger than the small-scale rows), evaluated only; its temperature
  is chosen on val like SE-64-VEL+z's.
* **Procedural**: the rule-based SynHAGE baseline (:func:`stygaze.data.procedural.procedural_generate`,
  the default mid-range style, not the session's).
* **Static gaze**: head of the best learned row (highest Sim), eye-in-head angles at zero — the
  paper's treatment of head-only baselines.
* **GT**: the ground truth against itself (BAS and the pattern statistics of real motion).
* Table III adds **Mean head**: the head held at the training mean pose.

Protocol. Each test session is cut into a *reference* part (the first ``ref_seconds``) and an
*evaluation* part (the rest, at most ``eval_seconds``). Style rows get the style extracted from
the reference part's ground truth (never from the frames they are scored on); every model
starts from the neutral pose (``seed=None``) and is rolled out over the evaluation part's
audio. Metrics (``stygaze.eval``) are pooled over the test sessions: MAE/Vel/MEE/BAS per
channel group, CE = 1 − cos of style embeddings of 4 s windows of prediction vs ground truth
with **one** evaluation encoder for all rows (the SE-64 stage-1 encoder), FixRatio/CompScore
(I-DT 1°, 100 ms on world gaze) and Sim against the ground truth.

Scales (``--scale``; any knob can be overridden, see ``--help``): ``tiny`` (≈ 1 min; a smoke
test, numbers meaningless), ``small`` (CPU, one thread: ≈ 14 min from scratch on a shared,
loaded 2-core machine for the 24×3 min corpus — 13.6 min training, 0.6 min evaluation;
≈ 1 min when the runs are reused),
``paper`` (the YAML configs as written; hours on CPU, meant for a GPU/large machine). Same
``--seed`` and scale → identical ``tables.json`` (timings live only in ``tables.md`` and
``meta.runtime_s``).

Outputs: ``OUT/tables.json`` (``{"table2": {row: {"all": {...}, "gaze": {...}, "head": {...}}},
"table3": {...}, "table4": {row: {"fix_ratio", "comp", "sim", ...}}, "findings": {...},
"style": {...}, "meta": {...}}``), ``OUT/tables.md``, and unless ``--no-style`` the style
analysis of :mod:`style_analysis` (``style_tsne.png``, ``style_transfer.png``).
Runs live in ``--runs`` (default ``runs/tables/<scale>-seed<seed>``): ``<row>/`` generator
runs, ``style32/``, ``style64/`` style-encoder runs, each with ``spec.json``; a finished run
whose spec matches is reused, a different spec is refused unless ``--fresh``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

ROWS = {  # table name -> (config stem, style encoder run or None, run folder, generator overrides)
    "Base": ("base", None, "base", {}),
    "SE-32": ("se32", "style32", "se32", {}),
    "SE-64": ("se64", "style64", "se64", {}),
    "SE-64-VEL": ("se64_vel", "style64", "se64_vel", {}),
    "TFM-SE-64": ("tfm_se64", "style64", "tfm_se64", {}),
    # not in the paper: SE-64-VEL with the built-in model's per-step latent (configs/default.yaml)
    "SE-64-VEL+z": ("se64_vel", "style64", "se64_vel_z", {"latent_dim": 8, "kl_weight": 0.01}),
}
PAPER_ROWS = ("Base", "SE-32", "SE-64", "SE-64-VEL", "TFM-SE-64")
BUILTIN_ROW = "Built-in"
BUILTIN_EVENTS_ROW = "Built-in +gaze events"  # the same generation through the gaze-event stage (raw=True, saccades=True)
"""The shipped model (stygaze/assets/stygazetalk, configs/default.yaml), evaluated, not trained here (--builtin)."""
STYLE_RUNS = {"style32": "se32", "style64": "se64"}  # style run -> config stem whose style sections it uses
EVAL_ENCODER = "style64"

SCALES: dict[str, dict] = {
    "tiny": {
        "generator": {"d": 8, "hidden": 16, "num_layers": 1, "num_heads": 2, "dropout": 0.0},
        "style_encoder": {"d_model": 16, "num_layers": 1, "num_heads": 2, "ff_dim": 32, "dropout": 0.0, "window": 50, "min_frames": 25},
        "style_train": {"batch_size": 4, "batches_per_epoch": 2, "val_pairs": 4, "max_epochs": 1, "patience": 1},
        "generator_train": {"batch_size": 8, "windows_per_epoch": 16, "val_windows": 8, "rollout_steps": 2, "max_epochs": 1, "patience": 1},
        "eval": {"ref_seconds": 4.0, "eval_seconds": 8.0, "probe_sessions": 3, "probe_seconds": 8.0, "transfer_targets": 1},
        "corpus": {"sessions": 6, "minutes": 0.3},
    },
    "small": {
        "generator": {"d": 32, "hidden": 64, "num_layers": 2, "num_heads": 4, "dropout": 0.1},
        "style_encoder": {"d_model": 64, "num_layers": 2, "num_heads": 4, "ff_dim": 128, "dropout": 0.1},
        "style_train": {"batch_size": 20, "batches_per_epoch": 25, "lr": 5.0e-4, "max_epochs": 8, "patience": 8},
        "generator_train": {"batch_size": 32, "windows_per_epoch": 2048, "val_windows": 256, "lr": 2.0e-3, "max_epochs": 10, "patience": 10},
        "eval": {"ref_seconds": 20.0, "eval_seconds": 0.0, "probe_sessions": 10, "probe_seconds": 60.0, "transfer_targets": 2},
        "corpus": {"sessions": 24, "minutes": 3.0},
    },
    "paper": {
        "generator": {}, "style_encoder": {}, "style_train": {}, "generator_train": {},
        "eval": {"ref_seconds": 20.0, "eval_seconds": 0.0, "probe_sessions": 10, "probe_seconds": 60.0, "transfer_targets": 3},
        "corpus": {"sessions": 24, "minutes": 3.0},
    },
}

KNOBS = {  # --flag -> (section, key, type)
    "hidden": ("generator", "hidden", int),
    "layers": ("generator", "num_layers", int),
    "style-d-model": ("style_encoder", "d_model", int),
    "style-epochs": ("style_train", "max_epochs", int),
    "style-batches": ("style_train", "batches_per_epoch", int),
    "gen-epochs": ("generator_train", "max_epochs", int),
    "gen-windows": ("generator_train", "windows_per_epoch", int),
    "ref-seconds": ("eval", "ref_seconds", float),
    "eval-seconds": ("eval", "eval_seconds", float),
    "probe-sessions": ("eval", "probe_sessions", int),
}


def fail(msg: str):
    """A user-fixable problem: one line on stderr, exit status 2, nothing written to --out."""
    print(f"reproduce_tables: error: {msg}", file=sys.stderr)
    raise SystemExit(2)


def write_text(path: Path, text: str) -> None:
    from stygaze.io import atomic_path

    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def log(msg: str) -> None:
    print(f"[tables {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------
def scale_settings(args) -> dict:
    s = copy.deepcopy(SCALES[args.scale])
    for flag, (sec, key, _) in KNOBS.items():
        v = getattr(args, flag.replace("-", "_"))
        if v is not None:
            s[sec][key] = v
    return s


def run_config(stem: str, audio: str, settings: dict, seed: int, threads: int, extra: dict | None = None):
    """The row's YAML config (``configs/<stem>_<audio>.yaml``) with the scale's and the row's overrides."""
    from stygaze.stygazetalk.train_generator import load_generator_run_config

    cfg = load_generator_run_config(REPO / "configs" / f"{stem}_{audio}.yaml")
    for sec in ("generator", "style_encoder", "style_train", "generator_train"):
        obj = getattr(cfg, sec)
        for k, v in settings[sec].items():
            setattr(obj, k, v)
    for k, v in (extra or {}).items():
        setattr(cfg.generator, k, v)
    if cfg.generator.num_layers == 1:
        cfg.generator.dropout = 0.0
    for tc in (cfg.style_train, cfg.generator_train):
        tc.seed, tc.threads, tc.max_minutes = seed, threads, 0.0  # wall-clock limits would break reproducibility
    return cfg


def without_new_defaults(spec: dict, old: dict) -> dict:
    """``spec`` without the generator-config fields that ``old`` lacks when they hold their defaults.

    A run made before a config field existed behaved as that field's default does (e.g.
    ``beat_feature: false``), so it is still a run of ``spec``.
    """
    from stygaze.stygazetalk.generator import GeneratorConfig

    defaults = {f.name: f.default for f in dataclasses.fields(GeneratorConfig) if f.default is not dataclasses.MISSING}
    new_gen = spec.get("config", {}).get("generator")
    old_gen = old.get("config", {}).get("generator")
    if not isinstance(new_gen, dict) or not isinstance(old_gen, dict):
        return spec
    gen = {k: v for k, v in new_gen.items() if k in old_gen or k not in defaults or v != defaults[k]}
    return {**spec, "config": {**spec["config"], "generator": gen}}


def spec_of(kind: str, config_dict: dict, data: Path) -> dict:
    return {"kind": kind, "config": config_dict, "data": str(data.resolve())}


def train_or_reuse(run_dir: Path, spec: dict, fresh: bool, name: str, label: str, train) -> None:
    """Reuse ``run_dir`` if it holds a finished run of ``spec``, else call ``train()``;
    records ``name`` in REUSED or TRAINED and logs what happened under ``label``."""
    t0 = time.monotonic()
    if prepare_run(run_dir, spec, fresh):
        log(f"reusing {run_dir}")
        REUSED.append(name)
        return
    TRAINED.append(name)
    log(f"training {label} -> {run_dir}")
    train()
    log(f"  {label} done in {time.monotonic() - t0:.0f} s")


def prepare_run(run_dir: Path, spec: dict, fresh: bool) -> bool:
    """True when ``run_dir`` holds a finished run of exactly ``spec`` (reuse it)."""
    spec_file = run_dir / "spec.json"
    if run_dir.exists():
        old = json.loads(spec_file.read_text()) if spec_file.exists() else None
        if old != spec and old is not None and without_new_defaults(spec, old) == old:
            spec = old  # only config fields added since (at their defaults, which keep the old behaviour) differ
        if old != spec:
            if not fresh:
                fail(f"{run_dir} holds a run with different settings; pass --fresh to retrain it or choose another --runs folder")
            shutil.rmtree(run_dir)
        else:
            state = run_dir / "last" / "state.json"
            if (run_dir / "best").exists() and state.exists():
                if json.loads(state.read_text()).get("counters", {}).get("done"):
                    return True
    run_dir.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n")
    return False


# --------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------
TRAINED: list[str] = []
REUSED: list[str] = []


def train_all(args, settings: dict, data: Path, runs: Path) -> dict[str, Path]:
    """Train the style encoders and generators that are missing; returns row -> RUN/best."""
    from stygaze.stygazetalk.train_generator import train_generator
    from stygaze.stygazetalk.train_style import StyleRunConfig, train_style

    rows = [r for r in ROWS if r in args.rows]
    needed_style = {ROWS[r][1] for r in rows if ROWS[r][1]} | {EVAL_ENCODER}
    style_best: dict[str, Path] = {}
    for srun in sorted(needed_style):
        cfg = run_config(STYLE_RUNS[srun], args.audio, settings, args.seed, args.threads)
        scfg = StyleRunConfig(cfg.style_encoder, cfg.style_train)
        run_dir = runs / srun
        spec = spec_of("style", dataclasses.asdict(scfg), data)
        train_or_reuse(run_dir, spec, args.fresh, srun, f"style encoder {srun}",
                       lambda: train_style(scfg, data, run_dir, progress=False))
        style_best[srun] = run_dir / "best"
    best: dict[str, Path] = {}
    for row in rows:
        stem, srun, folder, extra = ROWS[row]
        cfg = run_config(stem, args.audio, settings, args.seed, args.threads, extra)
        run_dir = runs / folder
        spec = spec_of("generator", dataclasses.asdict(cfg), data)
        spec["style_encoder_run"] = srun
        train_or_reuse(run_dir, spec, args.fresh, folder, row,
                       lambda: train_generator(cfg, data, run_dir, style_encoder=style_best[srun] if srun else None, progress=False))
        best[row] = run_dir / "best"
    best["_eval_encoder"] = style_best[EVAL_ENCODER]
    return best


# --------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------
@dataclasses.dataclass
class TestClip:
    """One test session split into a style reference and the evaluated part."""

    name: str
    ref: "object"  # Motion, the reference part's ground truth
    gt: "object"  # Motion, the evaluated part's ground truth
    audio: np.ndarray  # (S,) 16 kHz raw samples of the evaluated part


def load_test_clips(data: Path, settings: dict, split: str = "test") -> list:
    from stygaze.audio import HOP, load_audio
    from stygaze.motion import Motion
    from stygaze.data.corpus import Corpus

    ev = settings["eval"]
    clips = []
    for name in Corpus(data).splits().get(split, []):
        m = Motion.load(data / name / "motion.npz").resample(25)
        audio = load_audio(data / name / "audio.wav", normalize=False)
        r = int(round(ev["ref_seconds"] * 25))
        end = len(m) if not ev["eval_seconds"] else min(len(m), r + int(round(ev["eval_seconds"] * 25)))
        end = min(end, len(audio) // HOP)
        if end - r < 50:
            log(f"skipping test session {name}: too short for a {ev['ref_seconds']} s reference + evaluation part")
            continue
        clips.append(TestClip(name, m.slice(0, r), m.slice(r, end), audio[r * HOP : end * HOP].astype(np.float32)))
    if not clips:
        fail(f"no usable {split} session in {data} (splits.json '{split}')")
    return clips


def style_embedder(encoder):
    """numpy ``(N, W, 7)`` degrees -> ``(N, d)`` styles with a frozen style encoder."""
    import torch

    def embed(windows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(np.asarray(windows, dtype=np.float32))
            return torch.cat([encoder(x[i : i + 64]) for i in range(0, len(x), 64)]).numpy()

    return embed


def evaluate_rows(predictions: dict, clips: list, embed, window: int) -> dict:
    """``{row: EvalAccumulator.result() + {"all": {"ce"}}}`` pooled over the clips."""
    from stygaze.eval import EvalAccumulator
    from stygaze.eval.style import style_error

    out = {}
    for row, preds in predictions.items():
        acc = EvalAccumulator()
        ce_num, ce_den = 0.0, 0
        for clip, pred in zip(clips, preds):
            aligned = acc.add(pred, clip.gt, clip.audio, name=f"{row}/{clip.name}")
            n_win = max(1, len(aligned) // window)
            gt = clip.gt.slice(0, len(aligned)) if len(clip.gt) != len(aligned) else clip.gt
            ce_num += style_error(embed, aligned.data, gt.data, window=window) * n_win
            ce_den += n_win
        res = acc.result()
        res["all"]["ce"] = ce_num / ce_den
        out[row] = res
    return out


TEMPERATURES = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0)
"""Latent temperatures tried on the val split for rows with a latent (the best Sim is kept)."""


def _generate(model, clips: list, seed: int, temperature: float = 1.0, saccades: bool | None = None) -> list:
    out = []
    for clip in clips:
        style = clip.ref if model.config.style_dim > 0 else None
        # deterministic rows start from the neutral pose; a latent row samples (reproducibly) with the seed
        s = seed if model.config.latent_dim > 0 else None
        out.append(model.generate(clip.audio, sr=16000, style=style, seed=s, temperature=temperature, raw=True,
                                  saccades=saccades))  # the paper's output (+ only the gaze-event stage when asked)
    return out


def calibrate_temperature(model, val_clips: list, seed: int) -> tuple[float, dict]:
    """The latent temperature with the best Sim on the **val** split (never the test split)."""
    from stygaze.eval import EvalAccumulator

    sims = {}
    for t in TEMPERATURES:
        acc = EvalAccumulator()
        for clip, pred in zip(val_clips, _generate(model, val_clips, seed, t)):
            acc.add(pred, clip.gt)
        sims[t] = acc.result()["pattern"]["sim"]
    best = max(TEMPERATURES, key=lambda t: -1e9 if sims[t] is None else sims[t])
    return best, {str(t): _r(v) for t, v in sims.items()}


def generate_rows(best: dict, clips: list, rows: list[str], seed: int, val_clips: list, calibration: dict) -> dict:
    """Predictions ``{row: [Motion per clip]}`` for the learned rows and the procedural baseline.

    Rows with a latent get the temperature chosen on ``val_clips`` (recorded in ``calibration``).
    """
    from stygaze.data.procedural import procedural_generate
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    preds: dict[str, list] = {}
    for row in rows:
        model = StyGazeTalk.from_pretrained(best[row] if row != BUILTIN_ROW else None)
        temperature = 1.0
        if model.config.latent_dim > 0:
            temperature, sims = calibrate_temperature(model, val_clips, seed)
            calibration[row] = {"temperature": temperature, "val_sim": sims}
            log(f"  {row}: latent temperature {temperature} (val Sim {sims})")
        preds[row] = _generate(model, clips, seed, temperature)
        if row == BUILTIN_ROW:
            preds[BUILTIN_EVENTS_ROW] = _generate(model, clips, seed, temperature, saccades=True)
    preds["Procedural"] = [procedural_generate(c.audio, seed=seed + i) for i, c in enumerate(clips)]
    return preds


def static_gaze(preds: list) -> list:
    from stygaze.motion import GAZE_CHANNELS, Motion

    out = []
    for m in preds:
        d = m.data.copy()
        d[:, list(GAZE_CHANNELS)] = 0.0
        out.append(Motion(d))
    return out


def mean_head(best_path: Path, clips: list) -> list:
    from stygaze.motion import GAZE_CHANNELS, HEAD_CHANNELS, Motion
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    mean = StyGazeTalk.from_pretrained(best_path).model.generator.motion_mean.numpy()
    out = []
    for c in clips:
        d = np.zeros_like(c.gt.data)
        d[:, list(HEAD_CHANNELS)] = mean[list(HEAD_CHANNELS)]
        d[:, list(GAZE_CHANNELS)] = 0.0
        out.append(Motion(d))
    return out


def _r(v, nd=4):
    return None if v is None else round(float(v), nd) + 0.0  # + 0.0: no "-0.0"


def build_tables(results: dict, head_only: dict) -> dict:
    t2, t3, t4 = {}, {}, {}
    for row, res in results.items():
        t2[row] = {
            "all": {k: _r(res["all"][k]) for k in ("mae", "vel", "mee", "ce", "bas")},
            "gaze": {k: _r(res["gaze"][k]) for k in ("mae", "vel", "mee", "bas")},
            "head": {k: _r(res["head"][k]) for k in ("mae", "vel", "mee", "bas")},
        }
        p = res["pattern"]
        fix = p["fix_ratio_gt"] if row == "GT" else p["fix_ratio_pred"]
        comp = p["comp_gt"] if row == "GT" else p["comp_pred"]
        t4[row] = {"fix_ratio": _r(fix), "saccade_ratio": _r(1 - fix), "comp": _r(comp), "sim": _r(1.0 if row == "GT" else p["sim"])}
        side = "gt" if row == "GT" else "pred"  # the behaviour measures (stygaze.eval.events / compensation)
        ev, comp_b = res.get("events"), (res.get("compensation") or {}).get(side) or {}
        if ev:
            e = ev[side]
            t4[row]["behaviour"] = {
                "detected_saccade_share": _r(e["saccade_share"]), "fixation_median_ms": _r(e["fixation_median_ms"], 1),
                "shift_p90_deg": _r(e["shift_p90_deg"], 2), "large_shift_share": _r(e["large_shift_share"]),
                "shifts_per_min": _r(e["shifts_per_min"], 1), "event_sim": _r(1.0 if row == "GT" else ev["event_sim"]),
                "vor_gain": _r(comp_b.get("vor_gain"), 3),
            }
    for row, res in {**{r: results[r] for r in results if r in ROWS or r in ("Procedural", BUILTIN_ROW)}, **head_only}.items():
        t3[row] = {k: _r(res["head"][k]) for k in ("mae", "vel", "mee", "bas")}
    return {"table2": t2, "table3": t3, "table4": t4}


def findings(tables: dict) -> dict:
    """The paper's qualitative claims, checked on our numbers (None when a row is missing)."""
    t2, t4 = tables["table2"], tables["table4"]
    gt = t4.get("GT", {})

    def get(row, *keys):
        cur = t4 if keys[0] in ("fix_ratio", "saccade_ratio", "comp", "sim") else t2
        cur = cur.get(row)
        for k in keys:
            if cur is None:
                return None
            cur = cur.get(k)
        return cur

    out = {}
    base_sim = get("Base", "sim")
    for row in ("SE-32", "SE-64"):
        s = get(row, "sim")
        out[f"style_improves_sim_{row}"] = None if None in (s, base_sim) else bool(s > base_sim)
    base_ce = get("Base", "all", "ce")
    for row in ("SE-32", "SE-64"):
        c = get(row, "all", "ce")
        out[f"style_lowers_ce_{row}"] = None if None in (c, base_ce) else bool(c < base_ce)
    s64, v64 = get("SE-64", "saccade_ratio"), get("SE-64-VEL", "saccade_ratio")
    out["vel_loss_raises_saccades"] = None if None in (s64, v64) else bool(v64 > s64)
    gv64, gs64 = get("SE-64-VEL", "gaze", "vel"), get("SE-64", "gaze", "vel")
    out["vel_loss_lowers_gaze_vel_error"] = None if None in (gv64, gs64) else bool(gv64 < gs64)
    t, s = get("TFM-SE-64", "saccade_ratio"), get("SE-64", "saccade_ratio")
    out["tfm_fewer_saccades_than_se64"] = None if None in (t, s) else bool(t < s)
    ts, ss = get("TFM-SE-64", "sim"), get("SE-64", "sim")
    out["tfm_lower_sim_than_se64"] = None if None in (ts, ss) else bool(ts < ss)
    for key, names in (("", PAPER_ROWS), ("_any", (*ROWS, BUILTIN_ROW))):
        learned = {r: t4[r]["sim"] for r in names if r in t4 and t4[r]["sim"] is not None}
        if learned:
            best = max(learned, key=lambda r: learned[r])
            out[f"best_row{key}"] = best
            out[f"best_sim{key}"] = learned[best]
            out[f"best_sim{key}_target_0_95_met"] = bool(learned[best] >= 0.95)
    if "Procedural" in t4:
        out["procedural_sim"] = t4["Procedural"]["sim"]
    if gt and "Base" in t4:
        out["base_overpredicts_fixations"] = bool(t4["Base"]["fix_ratio"] > gt["fix_ratio"])
    return out


# --------------------------------------------------------------------------------------
# markdown
# --------------------------------------------------------------------------------------
def _f(v, spec=".3f"):
    return "—" if v is None else format(v, spec)


def markdown(tables: dict, meta: dict) -> str:
    t2, t3, t4 = tables["table2"], tables["table3"], tables["table4"]
    lines = [
        f"Scale `{meta['scale']}`, seed {meta['seed']}, audio features `{meta['audio']}`, corpus `{meta['data_name']}` "
        f"({meta['train_sessions']} train sessions; test: {meta['test_sessions']} sessions, "
        f"{meta['eval_frames']} evaluated frames = {meta['eval_frames'] / 25:.0f} s after a {meta['ref_seconds']:g} s style reference each).",
        "",
        "**Table II** — degrees; Vel deg/frame; MEE deg²/frame²; CE = 1 − cos of style embeddings (SE-64 stage-1 encoder); BAS σ = 3 frames.",
        "",
        "| Method | All MAE↓ | Vel↓ | MEE↓ | CE↓ | BAS↑ | Gaze MAE↓ | Vel↓ | MEE↓ | BAS↑ | Head MAE↓ | Vel↓ | MEE↓ | BAS↑ |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row, r in t2.items():
        cells = [_f(r["all"][k]) for k in ("mae", "vel", "mee", "ce", "bas")]
        cells += [_f(r["gaze"][k]) for k in ("mae", "vel", "mee", "bas")]
        cells += [_f(r["head"][k]) for k in ("mae", "vel", "mee", "bas")]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines += ["", "**Table III** — head only (pitch, yaw, roll).", "", "| Method | MAE↓ | Vel↓ | MEE↓ | BAS↑ |", "|---|---|---|---|---|"]
    for row, r in t3.items():
        lines.append(f"| {row} | " + " | ".join(_f(r[k]) for k in ("mae", "vel", "mee", "bas")) + " |")
    lines += [
        "",
        "**Table IV** — I-DT (1°, 100 ms) on world gaze; sample proportions; Sim = 1 − (|ΔFix| + |ΔComp|) against GT.",
        "",
        "| Method | saccades | fixation | compScore | simScore |",
        "|---|---|---|---|---|",
    ]
    for row, r in t4.items():
        lines.append(
            f"| {row} | {_f(None if r['saccade_ratio'] is None else 100 * r['saccade_ratio'], '.2f')}% | "
            f"{_f(None if r['fix_ratio'] is None else 100 * r['fix_ratio'], '.2f')}% | {_f(r['comp'], '.4f')} | {_f(r['sim'], '.4f')} |"
        )
    beh = {row: r["behaviour"] for row, r in t4.items() if r.get("behaviour")}
    if beh:
        lines += ["", "**Behaviour measures** beside Table IV (not the paper's; `stygaze.eval.events` with its noise-adaptive "
                  "detector, `stygaze.eval.compensation`): detected-saccade time share, fixation median, 90th-percentile "
                  "gaze shift, share of shifts > 6°, shifts ≥ 2° per minute, `event_sim` against GT (higher is better), "
                  "VOR gain during fixations (ideal −1). `Built-in +gaze events` = the built-in row through the "
                  "gaze-event stage.", "",
                  "| Method | detSacc | fix med (ms) | shift p90 (°) | > 6° | ≥ 2°/min | event_sim↑ | VOR gain |",
                  "|---|---|---|---|---|---|---|---|"]
        for row, b in beh.items():
            pct = _f(None if b["detected_saccade_share"] is None else 100 * b["detected_saccade_share"], ".2f")
            big = _f(None if b["large_shift_share"] is None else 100 * b["large_shift_share"], ".0f")
            lines.append(f"| {row} | {pct}% | {_f(b['fixation_median_ms'], '.0f')} | {_f(b['shift_p90_deg'], '.1f')} | {big}% | "
                         f"{_f(b['shifts_per_min'], '.0f')} | {_f(b['event_sim'], '.3f')} | {_f(b['vor_gain'], '.2f')} |")
    for row, c in tables.get("latent_calibration", {}).items():
        lines += ["", f"{row}: latent temperature {c['temperature']:g}, chosen on the val split (val Sim per temperature: "
                  + ", ".join(f"{t}: {_f(v, '.3f')}" for t, v in c["val_sim"].items()) + ")."]
    return "\n".join(lines) + "\n"


def findings_markdown(f: dict) -> str:
    def yn(v):
        return "n/a" if v is None else ("yes" if v else "**no**")

    lines = [
        "Paper claims checked on these numbers:",
        "",
        f"- style conditioning raises Sim over Base: SE-32 {yn(f.get('style_improves_sim_SE-32'))}, SE-64 {yn(f.get('style_improves_sim_SE-64'))}",
        f"- style conditioning lowers the style error CE below Base: SE-32 {yn(f.get('style_lowers_ce_SE-32'))}, SE-64 {yn(f.get('style_lowers_ce_SE-64'))}",
        f"- the velocity loss raises the saccade share (SE-64-VEL vs SE-64): {yn(f.get('vel_loss_raises_saccades'))}; lowers gaze Vel error: {yn(f.get('vel_loss_lowers_gaze_vel_error'))}",
        f"- TFM over-smooths gaze (fewer saccades than SE-64): {yn(f.get('tfm_fewer_saccades_than_se64'))}; lower Sim than SE-64: {yn(f.get('tfm_lower_sim_than_se64'))}",
        f"- Base over-predicts fixations: {yn(f.get('base_overpredicts_fixations'))}",
        f"- best paper row: {f.get('best_row')} with Sim {_f(f.get('best_sim'), '.4f')} (target ≥ 0.95: {yn(f.get('best_sim_target_0_95_met'))}); "
        f"best learned row including the latent variant: {f.get('best_row_any')} with Sim {_f(f.get('best_sim_any'), '.4f')} "
        f"(target: {yn(f.get('best_sim_any_target_0_95_met'))}); the rule-based generator that made the data: Sim {_f(f.get('procedural_sim'), '.4f')}",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] + " Trains/reuses the ablation rows and writes tables.json/tables.md (see the module docstring).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--scale", choices=sorted(SCALES), default="small", help="model/training/evaluation size preset")
    p.add_argument("--seed", type=int, default=0, help="seed of training, sampling and the procedural baseline")
    p.add_argument("--data", default=None, help="corpus folder (default: runs/synhage, or runs/synhage_tiny for --scale tiny; synthesised when missing)")
    p.add_argument("--out", default="scripts/results", help="results folder (relative paths: to the repository root)")
    p.add_argument("--runs", default=None, help="training runs folder (default: runs/tables/<scale>-seed<seed>)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--audio", choices=("mel", "wav2vec2"), default="mel", help="audio features (wav2vec2 needs cached weights)")
    p.add_argument("--rows", default=",".join(ROWS), help="learned rows to train and evaluate (comma-separated)")
    p.add_argument("--builtin", action=argparse.BooleanOptionalAction, default=None,
                   help="also evaluate the shipped built-in model as a row (default: on except at --scale tiny)")
    p.add_argument("--fresh", action="store_true", help="retrain runs whose settings changed instead of refusing")
    p.add_argument("--no-style", action="store_true", help="skip the style analysis (t-SNE, kNN, transfer)")
    p.add_argument("--style-row", default="SE-64-VEL+z", help="learned row whose generator the style analysis uses")
    for flag, (sec, key, typ) in KNOBS.items():
        p.add_argument(f"--{flag}", type=typ, default=None, help=f"override {sec}.{key} of the scale")
    args = p.parse_args(argv)
    if args.builtin is None:
        args.builtin = args.scale != "tiny"
    args.rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in args.rows if r not in ROWS]
    if unknown:
        p.error(f"unknown rows {unknown}; choose from {list(ROWS)}")
    return args


def ensure_corpus(args, settings: dict) -> Path:
    if args.data:
        data = Path(args.data)
        if not (data / "splits.json").exists():
            fail(f"{data} is not a corpus folder (no splits.json); make one with `stygaze data synth --out {data}`")
        return data
    data = REPO / "runs" / ("synhage_tiny" if args.scale == "tiny" else "synhage")
    if not (data / "splits.json").exists():
        from stygaze.data.corpus import synth_corpus

        c = settings["corpus"]
        log(f"synthesising {c['sessions']} sessions x {c['minutes']} min into {data}")
        if args.scale == "tiny":  # the shipped example speech instead of espeak-ng: fast
            make_tiny_corpus(data, c["sessions"], c["minutes"], seed=0)
        else:
            synth_corpus(data, sessions=c["sessions"], minutes=c["minutes"], seed=0, progress=False)
    return data


def make_tiny_corpus(path: Path, sessions: int, minutes: float, seed: int = 0) -> Path:
    """A smoke-test corpus on ``examples/audio`` speech with 2 val and 1 test sessions.

    (``make_splits`` gives small corpora a single val session; the style encoder's validation
    needs two.)
    """
    from stygaze.data.corpus import synth_corpus

    if sessions < 5:
        fail("a tiny corpus needs at least 5 sessions (2 train, 2 val, 1 test)")
    synth_corpus(path, sessions=sessions, minutes=minutes, seed=seed, progress=False, audio_dir=REPO / "examples" / "audio")
    names = sorted(json.loads((path / "splits.json").read_text()).values(), key=len)
    names = sorted(n for v in names for n in v)
    splits = {"train": names[:-3], "val": names[-3:-1], "test": names[-1:]}
    (path / "splits.json").write_text(json.dumps(splits, indent=1))
    return path


def main(argv=None) -> int:
    args = parse_args(argv)
    TRAINED.clear(), REUSED.clear()
    import torch

    torch.set_num_threads(max(1, args.threads))
    t_start = time.monotonic()
    settings = scale_settings(args)
    data = ensure_corpus(args, settings)
    runs = Path(args.runs) if args.runs else REPO / "runs" / "tables" / f"{args.scale}-seed{args.seed}"
    out = Path(args.out) if Path(args.out).is_absolute() else REPO / args.out

    if args.audio == "wav2vec2":  # fail before any training when the weights are not cached
        from stygaze.stygazetalk.audio_encoder import make_audio_encoder

        cfg = run_config("base", args.audio, settings, args.seed, args.threads)
        make_audio_encoder("wav2vec2", cfg.generator.d, **cfg.generator.audio_encoder_kwargs)
    best = train_all(args, settings, data, runs)
    t_train = time.monotonic() - t_start

    from stygaze.data.corpus import Corpus
    from stygaze.stygazetalk.train_style import load_style_encoder

    clips = load_test_clips(data, settings)
    encoder = load_style_encoder(best["_eval_encoder"])
    embed = style_embedder(encoder)
    rows = [r for r in ROWS if r in args.rows]
    if args.builtin:
        from stygaze.stygazetalk.pipeline import BUILTIN_DIR

        if not (BUILTIN_DIR / "config.json").exists():
            fail(f"--builtin: the built-in model is missing from {BUILTIN_DIR}")
        rows.append(BUILTIN_ROW)
    log(f"generating {len(rows)} rows + procedural on {len(clips)} test sessions")
    val_clips = load_test_clips(data, settings, split="val")
    calibration: dict = {}
    preds = generate_rows(best, clips, rows, args.seed, val_clips, calibration)
    results = evaluate_rows(preds, clips, embed, encoder.config.window)
    sims = {r: results[r]["pattern"]["sim"] for r in rows}
    best_row = max(sims, key=lambda r: -1e9 if sims[r] is None else sims[r])
    extra = {"Static gaze": static_gaze(preds[best_row]), "GT": [c.gt for c in clips]}
    results.update(evaluate_rows(extra, clips, embed, encoder.config.window))
    head_only = evaluate_rows({"Mean head": mean_head(best.get(best_row), clips)}, clips, embed, encoder.config.window)
    tables = build_tables(results, head_only)
    tables["findings"] = findings(tables)
    tables["findings"]["static_gaze_head_from"] = best_row
    tables["latent_calibration"] = calibration
    t_eval = time.monotonic() - t_start - t_train

    style_md = ""
    out.mkdir(parents=True, exist_ok=True)
    if not args.no_style:
        import style_analysis  # scripts/ is on sys.path when run as a script

        log("style analysis (t-SNE, kNN, transfer)")
        tables["style"] = style_analysis.run(
            data=data, encoder=encoder, model_path=best[args.style_row] if args.style_row in best else best[[r for r in rows if ROWS[r][1]][-1]],
            generate_seed=args.seed, temperature=calibration.get(args.style_row, {}).get("temperature", 1.0),
            out=out, settings=settings["eval"], seed=args.seed,
        )
        style_md = style_analysis.markdown(tables["style"])
    t_total = time.monotonic() - t_start
    splits = Corpus(data).splits()
    meta = {
        "scale": args.scale, "seed": args.seed, "audio": args.audio, "data_name": data.name,
        "train_sessions": len(splits.get("train", [])), "test_sessions": len(clips),
        "eval_frames": int(sum(len(c.gt) for c in clips)), "ref_seconds": settings["eval"]["ref_seconds"],
        "settings": settings, "rows": rows,
        "settings_hash": hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12],
    }
    tables["meta"] = meta
    runtime = {"train_s": round(t_train), "eval_s": round(t_eval), "total_s": round(t_total), "trained": TRAINED, "reused": REUSED}
    write_text(out / "tables.json", json.dumps({**tables, "meta": {**meta, "runtime_s": runtime}}, indent=1) + "\n")
    cmd = "python scripts/reproduce_tables.py " + " ".join(sys.argv[1:] if argv is None else argv)
    md = (
        "# StyGazeTalk Tables II–IV on SynHAGE\n\n"
        f"Command: `{cmd}` — wall time {t_total / 60:.1f} min "
        f"(training {t_train / 60:.1f} min, evaluation {t_eval / 60:.1f} min) with {args.threads} thread(s); "
        f"runs trained now: {len(TRAINED)}, reused from `{runs.name}`: {len(REUSED)}.\n\n"
        + markdown(tables, meta) + "\n" + findings_markdown(tables["findings"]) + ("\n" + style_md if style_md else "")
    )
    write_text(out / "tables.md", md)
    log(f"wrote {out / 'tables.json'} and {out / 'tables.md'} in {t_total / 60:.1f} min")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # a user-fixable problem (bad corpus, missing weights): one line, exit 2
        from stygaze.errors import StygazeError

        if isinstance(exc, StygazeError):
            print(f"reproduce_tables: error: {exc}", file=sys.stderr)
            sys.exit(2)
        raise
