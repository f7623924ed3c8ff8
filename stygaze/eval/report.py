"""The accumulating layer over the metric functions: one result dict for many clip pairs.

:class:`EvalAccumulator` collects predicted/ground-truth :class:`~stygaze.motion.Motion`
pairs (and optionally each pair's audio) and produces::

    {"all":  {"mae", "vel", "mee", "bas"},
     "gaze": {"mae", "vel", "mee", "bas"},
     "head": {"mae", "vel", "mee", "bas"},
     "pattern": {"fix_ratio_gt", "fix_ratio_pred", "comp_gt", "comp_pred", "sim"},
     "events": {"detector", "gt", "pred", "event_sim", "distance", "similarity",
                "conversation": {"detector", "gt", "pred"}},
     "compensation": {"gt", "pred"}}

``bas`` is ``None`` when no pair had audio. ``pattern`` holds the paper's Table IV metrics
(FixRatio and CompScore mostly measure tracker noise and head speed at 25 fps, see
``docs/metrics.md``); ``events`` the behaviour measures of :mod:`stygaze.eval.events` (per
side :meth:`~stygaze.eval.events.EventStats.summary`, including the detected-saccade share,
and ``event_sim`` of :func:`~stygaze.eval.events.compare_events`, higher is better), with
the same measures under the ``"conversation"`` preset (Dembinsky et al. 2024's detector, to
compare with real video calls); ``compensation`` the eye–head measures of
:mod:`stygaze.eval.compensation` per side (VOR gain, head share per amplitude bin, latency). Over several pairs every metric is **pooled**:
MAE and Vel over all (frame, channel) entries, MEE over all frame steps (per-clip MEE
weighted by the clip's steps), BAS over all audio beats, FixRatio over all valid samples,
CompScore over all valid frame steps; Sim is computed from the pooled FixRatio and CompScore
(as the paper's Table IV); event distributions and compensation sums pool over all clips. Units: degrees, degrees/frame, degrees²/frame² at 25 fps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from stygaze.audio import FPS, SAMPLE_RATE
from stygaze.errors import AudioError, MotionFormatError
from stygaze.eval.beats import audio_beats, beat_alignment_score, motion_beats
from stygaze.eval.compensation import CompensationStats, compensation_stats
from stygaze.eval.events import (
    EventStats,
    compare_events,
    compare_tracks,
    event_stats,
    get_detector,
)
from stygaze.eval.frame import GROUPS, mae, motion_energy_error, vel_error
from stygaze.eval.patterns import comp_scores, fixation_stats, gaze_signal, sim_score
from stygaze.motion import Motion

MAX_LENGTH_DIFF: int = 1
"""Largest pred/gt length difference (frames) that is accepted; both are cut to the shorter."""

AUDIO_TOLERANCE_S: float = 0.5
"""Largest difference (seconds) between a pair's audio duration and its motion duration."""

METRICS = ("mae", "vel", "mee", "bas")
PATTERN_KEYS = ("fix_ratio_gt", "fix_ratio_pred", "comp_gt", "comp_pred", "sim")
EVENT_DETECTOR = "adaptive"
"""Default detector of the ``events`` block (a :data:`stygaze.eval.events.PRESETS` name)."""
CONVERSATION_DETECTOR = "conversation"
"""Detector of the ``events.conversation`` sub-block (Dembinsky et al. 2024's I-DT)."""


def align_pair(pred: Motion, gt: Motion, *, max_length_diff: int = MAX_LENGTH_DIFF, name: str = "pair") -> tuple[Motion, Motion]:
    """Check that ``pred`` and ``gt`` can be compared frame by frame and make them so.

    Both must have the same fps (a shared rate other than 25 is resampled to 25). Lengths
    may differ by at most ``max_length_diff`` frames (rounding of an audio duration to
    frames); both are then cut to the shorter.

    Raises:
        MotionFormatError: different fps, or lengths further apart than ``max_length_diff``.
    """
    if abs(pred.fps - gt.fps) > 1e-6:
        raise MotionFormatError(
            f"{name}: prediction is at {pred.fps:g} fps but ground truth at {gt.fps:g} fps; resample one of them (Motion.resample)"
        )
    if abs(pred.fps - FPS) > 1e-6:
        pred, gt = pred.resample(FPS), gt.resample(FPS)
    if abs(len(pred) - len(gt)) > max_length_diff:
        raise MotionFormatError(
            f"{name}: prediction has {len(pred)} frames but ground truth {len(gt)} "
            f"(at most {max_length_diff} frame apart is accepted)"
        )
    n = min(len(pred), len(gt))
    if n < 2:
        raise MotionFormatError(f"{name}: at least 2 frames are needed to evaluate, got {n}")
    if len(pred) != n:
        pred = pred.slice(0, n)
    if len(gt) != n:
        gt = gt.slice(0, n)
    return pred, gt


@dataclass
class _Pooled:
    """Weighted running mean."""

    total: float = 0.0
    weight: float = 0.0

    def add(self, value: float, weight: float) -> None:
        if weight > 0 and math.isfinite(value):
            self.total += value * weight
            self.weight += weight

    @property
    def value(self) -> float | None:
        return self.total / self.weight if self.weight > 0 else None


@dataclass
class EvalAccumulator:
    """Pools the Table II/IV metrics over many (pred, gt[, audio]) pairs.

    Attributes:
        signal: I-DT signal, ``"world"`` (head ∘ mean eye, default) or ``"eye"``.
        dispersion_deg: I-DT dispersion threshold (degrees, default 1.0).
        min_duration_s: I-DT minimum fixation duration (seconds, default 0.1).
        event_detector: detector of the ``events`` block (preset name, default ``"adaptive"``).
        beat_sigma: BAS tolerance in frames (default 3).
        speed_sigma: motion-beat smoothing in frames (default 5).
        max_length_diff: see :func:`align_pair`.
        audio_tolerance_s: see :data:`AUDIO_TOLERANCE_S`.
    """

    signal: str = "world"
    dispersion_deg: float = 1.0
    min_duration_s: float = 0.1
    event_detector: str = EVENT_DETECTOR
    beat_sigma: float = 3.0
    speed_sigma: float = 5.0
    max_length_diff: int = MAX_LENGTH_DIFF
    audio_tolerance_s: float = AUDIO_TOLERANCE_S
    num_pairs: int = field(default=0, init=False)
    num_frames: int = field(default=0, init=False)
    _frame: dict = field(default_factory=lambda: {g: {m: _Pooled() for m in METRICS} for g in GROUPS}, init=False, repr=False)
    _fix: dict = field(default_factory=lambda: {"gt": [0, 0], "pred": [0, 0]}, init=False, repr=False)
    _comp: dict = field(default_factory=lambda: {"gt": _Pooled(), "pred": _Pooled()}, init=False, repr=False)
    _events: dict = field(default_factory=lambda: {"gt": [], "pred": []}, init=False, repr=False)
    _conversation: dict = field(default_factory=lambda: {"gt": [], "pred": []}, init=False, repr=False)
    _compensation: dict = field(default_factory=lambda: {"gt": [], "pred": []}, init=False, repr=False)

    def __post_init__(self) -> None:
        get_detector(self.event_detector)  # ValueError for an unknown preset, before any work

    def add(
        self,
        pred: Motion,
        gt: Motion,
        audio: np.ndarray | None = None,
        sr: int = SAMPLE_RATE,
        *,
        name: str = "pair",
    ) -> Motion:
        """Add one pair; returns the aligned prediction. Raises :class:`StygazeError` subclasses on bad input."""
        pred, gt = align_pair(pred, gt, max_length_diff=self.max_length_diff, name=name)
        T = len(pred)
        a_beats = None
        if audio is not None:
            samples = np.asarray(audio, dtype=np.float32).reshape(-1)
            if not np.isfinite(samples).all():
                raise AudioError(f"{name}: audio contains NaN or infinite samples")
            seconds = samples.size / float(sr)
            if abs(seconds - T / FPS) > self.audio_tolerance_s:
                raise AudioError(
                    f"{name}: audio lasts {seconds:.2f} s but the motion {T / FPS:.2f} s "
                    f"(at most {self.audio_tolerance_s:g} s apart is accepted)"
                )
            a_beats = audio_beats(samples, sr, FPS)
            a_beats = a_beats[a_beats < T - 1]  # motion beats index the T-1 frame steps
        p, g = pred.data, gt.data
        for group, channels in GROUPS.items():
            acc = self._frame[group]
            pp, gg = p[:, channels].astype(np.float64), g[:, channels].astype(np.float64)
            acc["mae"].add(mae(pp, gg), int(np.isfinite(pp - gg).sum()))
            dv = np.diff(pp, axis=0) - np.diff(gg, axis=0)
            acc["vel"].add(vel_error(pp, gg), int(np.isfinite(dv).sum()))
            acc["mee"].add(motion_energy_error(pp, gg), T - 1)
            if a_beats is not None and len(a_beats):
                acc["bas"].add(beat_alignment_score(a_beats, motion_beats(pp, self.speed_sigma), self.beat_sigma), len(a_beats))
        for key, motion in (("gt", gt), ("pred", pred)):
            fs = fixation_stats(motion, signal=self.signal, dispersion_deg=self.dispersion_deg, min_duration_s=self.min_duration_s)
            self._fix[key][0] += fs.num_fixation
            self._fix[key][1] += fs.num_valid
            cs = comp_scores(motion)
            self._comp[key].add(cs.mean, cs.num_valid)
            xy = gaze_signal(motion, self.signal)
            self._conversation[key].append(event_stats(xy, motion.fps, CONVERSATION_DETECTOR))
            self._compensation[key].append(compensation_stats(motion))
        ev_pred, ev_gt = compare_tracks(gaze_signal(pred, self.signal), gaze_signal(gt, self.signal), pred.fps, self.event_detector)
        self._events["pred"].append(EventStats.from_events(ev_pred))
        self._events["gt"].append(EventStats.from_events(ev_gt))
        self.num_pairs += 1
        self.num_frames += T
        return pred

    def result(self) -> dict:
        """The result dict (see the module docstring); values are floats or ``None``."""
        out: dict = {}
        for group in GROUPS:
            out[group] = {m: _clean(self._frame[group][m].value) for m in METRICS}
        fix = {k: (n / d if d else None) for k, (n, d) in self._fix.items()}
        comp = {k: self._comp[k].value for k in ("gt", "pred")}
        sim = None
        if None not in (fix["gt"], fix["pred"], comp["gt"], comp["pred"]):
            sim = sim_score(fix["gt"], fix["pred"], comp["gt"], comp["pred"])
        out["pattern"] = {
            "fix_ratio_gt": _clean(fix["gt"]),
            "fix_ratio_pred": _clean(fix["pred"]),
            "comp_gt": _clean(comp["gt"]),
            "comp_pred": _clean(comp["pred"]),
            "sim": _clean(sim),
        }
        stats = {k: EventStats.pooled(self._events[k]) for k in ("gt", "pred")}
        conv = {k: EventStats.pooled(self._conversation[k]) for k in ("gt", "pred")}
        out["events"] = {
            "detector": self.event_detector,
            "gt": stats["gt"].summary(),
            "pred": stats["pred"].summary(),
            **compare_events(stats["pred"], stats["gt"]).to_dict(),
            "conversation": {"detector": CONVERSATION_DETECTOR, "gt": conv["gt"].summary(), "pred": conv["pred"].summary()},
        }
        out["compensation"] = {
            k: (CompensationStats.pooled(self._compensation[k]).summary() if self._compensation[k] else None) for k in ("gt", "pred")
        }
        return out


def _clean(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def evaluate_pair(
    pred: Motion,
    gt: Motion,
    audio: np.ndarray | None = None,
    sr: int = SAMPLE_RATE,
    **options,
) -> dict:
    """Table II/IV metrics of one predicted clip against its ground truth.

    Args:
        pred, gt: motions at the same fps, at most 1 frame apart in length.
        audio: optional ``(S,)`` waveform of the clip for BAS (any normalisation).
        sr: the audio's sample rate in Hz.
        **options: :class:`EvalAccumulator` settings (``signal``, ``dispersion_deg``, ...).

    Returns:
        The result dict of :meth:`EvalAccumulator.result` (``bas`` is ``None`` without audio).
    """
    acc = EvalAccumulator(**options)
    acc.add(pred, gt, audio, sr)
    return acc.result()


def _fmt(v: float | None, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def format_tables(result: dict, *, name: str = "pred", ascii_only: bool = False) -> str:
    """The result as two text tables shaped like the paper's Table II and Table IV."""
    dn, up, dash = ("(lo)", "(hi)", "-") if ascii_only else ("↓", "↑", "—")
    groups = (("all", "All"), ("gaze", "Gaze"), ("head", "Head"))
    cols = [f"MAE{dn}", f"Vel{dn}", f"MEE{dn}", f"BAS{up}"]
    cw = 9
    label_w = max(8, len(name) + 1)
    block = len(cols) * cw
    lines = ["Frame metrics (Table II): degrees; Vel in deg/frame, MEE in deg²/frame²" if not ascii_only
             else "Frame metrics (Table II): degrees; Vel in deg/frame, MEE in deg^2/frame^2"]
    lines.append(" " * label_w + "".join("|" + title.center(block + 1) for _, title in groups))
    lines.append("Method".ljust(label_w) + "".join("|" + "".join(c.rjust(cw) for c in cols) + " " for _ in groups))
    row = name.ljust(label_w)
    for key, _ in groups:
        vals = [result[key][m] for m in METRICS]
        row += "|" + "".join(_fmt(v, ".3f").replace("—", dash).rjust(cw) for v in vals) + " "
    lines.append(row)
    lines.append("")
    pat = result["pattern"]
    ev = result.get("events")
    lines.append("Gaze patterns (Table IV, the paper's metrics): I-DT on world gaze; CompScore per frame;")
    lines.append("  detSacc = detected-saccade time share (velocity detector, not the paper's)")
    hdr = ["saccades", "fixation", "compScore", "simScore"]
    lines.append("Method".ljust(label_w) + "|" + "".join(h.rjust(11) for h in hdr) + " |" + "detSacc".rjust(9))

    def pct(v: float | None) -> str:
        return dash if v is None else f"{100 * v:.2f}%"

    def sac(v: float | None) -> float | None:
        return None if v is None else 1.0 - v

    def num(v: float | None, spec: str) -> str:
        return dash if v is None else format(v, spec)

    for label, side, fix, comp, sim in (
        ("GT", "gt", pat["fix_ratio_gt"], pat["comp_gt"], None),
        (name, "pred", pat["fix_ratio_pred"], pat["comp_pred"], pat["sim"]),
    ):
        cells = [pct(sac(fix)), pct(fix), num(comp, ".4f"), num(sim, ".4f")]
        det = pct(ev[side]["saccade_share"]) if ev else dash
        lines.append(label.ljust(label_w) + "|" + "".join(c.rjust(11) for c in cells) + " |" + det.rjust(9))
    if ev:
        lines.append("")
        lines.append(f"Gaze events ({ev['detector']} detector on world gaze): fixation median (ms); shifts between")
        lines.append("  consecutive fixations (deg): median, 90th percentile, share > 6 deg, >= 2 deg per minute,")
        lines.append("  share of consecutive shifts > 2 deg in the same direction (< 45 deg apart)")
        ehdr = ["fix med", "shift med", "shift p90", "share >6", "n >=2/min", "same dir"]
        lines.append("Method".ljust(label_w) + "|" + "".join(h.rjust(12) for h in ehdr))
        for label, side in (("GT", "gt"), (name, "pred")):
            e = ev[side]
            cells = [num(e["fixation_median_ms"], ".0f"), num(e["shift_median_deg"], ".2f"), num(e["shift_p90_deg"], ".2f"),
                     pct(e["large_shift_share"]), num(e["shifts_per_min"], ".1f"), pct(e["same_direction_share"])]
            lines.append(label.ljust(label_w) + "|" + "".join(c.rjust(12) for c in cells))
        parts = ", ".join(f"{k} {num(v, '.3f')}" for k, v in ev["similarity"].items())
        lines.append(f"event_sim{up} {num(ev['event_sim'], '.4f')}  ({parts})")
    comp = result.get("compensation")
    if comp:
        lines.append("")
        lines.append("Eye-head compensation (world-gaze fixations): VOR gain ideal -1 (0 = eyes frozen in head);")
        lines.append("  head share of gaze shifts per amplitude; latency > 0 = head after gaze")
        chdr = ["VOR gain", "head <10", "head 10-20", "head >=20", "latency ms"]
        lines.append("Method".ljust(label_w) + "|" + "".join(h.rjust(11) for h in chdr))
        for label, side in (("GT", "gt"), (name, "pred")):
            c = comp[side] or {}
            cells = [num(c.get("vor_gain"), ".3f"), num(c.get("head_share_lt10"), ".2f"), num(c.get("head_share_10to20"), ".2f"),
                     num(c.get("head_share_ge20"), ".2f"), num(None if c.get("latency_ms") is None else round(c["latency_ms"]) + 0.0, ".0f")]
            lines.append(label.ljust(label_w) + "|" + "".join(x.rjust(11) for x in cells))
    return "\n".join(line.rstrip() for line in lines)
