"""SynHAGE labels: the planned events written out as per-frame labels and event tables.

:func:`make_events` builds the ``events`` dict of a session from the
:class:`~stygaze.data.synhage.plan.MotionPlan` (the exact ground truth) and the frame-averaged
eyelid. :func:`head_share_by_amplitude` reads motion and events back to measure eye–head coupling.
"""

from __future__ import annotations

import numpy as np

from stygaze.audio import FPS
from stygaze.data.synhage.config import SynthConfig
from stygaze.data.synhage.cues import SpeechCues, runs
from stygaze.data.synhage.plan import MotionPlan
from stygaze.data.synhage.simulate import peak_velocity

GAZE_LABELS: tuple[str, ...] = ("fixation", "saccade")
"""Per-frame gaze labels in ``events["gaze"]`` (index = label id)."""

GESTURE_LABELS: tuple[str, ...] = ("none", "nod", "shake", "tilt", "turn", "up_down")
"""Per-frame head-gesture labels in ``events["gesture"]`` (index = label id)."""

TIME_DECIMALS = 4
"""Decimals of times and durations (s) in the event tables (0.1 ms)."""
AMPLITUDE_DECIMALS = 3
"""Decimals of amplitudes (deg) and blink closures."""
VELOCITY_DECIMALS = 1
"""Decimals of peak velocities (deg/s)."""
STRESS_DECIMALS = 2
"""Decimals of the stressed-syllable times (s; the beats sit on 25 fps frames)."""

HEAD_SHARE_GAZE_FRAMES = 5
""":func:`head_share_by_amplitude`: frames (0.2 s) over which a gaze shift's amplitude is read."""
HEAD_SHARE_HEAD_FRAMES = 15
""":func:`head_share_by_amplitude`: frames (0.6 s) over which the head's part is read (the head ends later)."""
HEAD_SHARE_MIN_DEG = 1.0
""":func:`head_share_by_amplitude`: shifts smaller than this are skipped."""
HEAD_SHARE_BINS_DEG = (10.0, 20.0)
""":func:`head_share_by_amplitude`: amplitude bin edges."""


def _r(values, nd: int = TIME_DECIMALS) -> list[float]:
    return [round(float(v), nd) for v in values]


def _split_by_value(lab: np.ndarray, a: int, b: int) -> list[tuple[int, int]]:
    """Split [a, b) into runs of constant ``lab`` value."""
    seg = lab[a:b]
    cuts = np.flatnonzero(np.diff(seg)) + 1
    edges = np.concatenate([[0], cuts, [len(seg)]]) + a
    return [(int(edges[i]), int(edges[i + 1])) for i in range(len(edges) - 1)]


def gaze_frame_labels(onset_s: np.ndarray, duration_s: np.ndarray, T: int) -> np.ndarray:
    """``(T,)`` int64: 1 where a saccade overlaps the frame's ±half-frame sampling interval."""
    half = 0.5 / FPS
    lab = np.zeros(T + 1, np.int64)
    a0 = np.clip(np.ceil((onset_s - half) * FPS).astype(int), 0, T)
    a1 = np.clip(np.floor((onset_s + duration_s + half) * FPS).astype(int) + 1, 0, T)
    np.add.at(lab, a0, 1)
    np.add.at(lab, a1, -1)
    return (np.cumsum(lab)[:T] > 0).astype(np.int64)


def gesture_labels(events: list[tuple[str, float, float, float]], T: int) -> tuple[np.ndarray, dict]:
    """Per-frame gesture labels ``(T,)`` and the gesture table read back from the final frames.

    ``events`` are ``(label, start_s, end_s, amplitude_deg)``; later events overwrite earlier
    ones (explicit gestures are passed last, so they win over gaze-driven turns), and each
    frame remembers which event wrote it, so the table lists what the labels show.
    """
    lab = np.zeros(T, np.int64)
    src = np.full(T, -1, np.int64)
    for k, (name, s0, s1, _amp) in enumerate(events):
        f0, f1 = int(round(s0 * FPS)), min(T, int(round(s1 * FPS)) + 1)
        if f0 >= T or f1 <= f0:
            continue
        lab[f0:f1] = GESTURE_LABELS.index(name)
        src[f0:f1] = k
    tab = {"label": [], "start_frame": [], "end_frame": [], "amplitude_deg": []}
    for c0, c1 in runs(src >= 0):
        for d0, d1 in _split_by_value(src, int(c0), int(c1)):
            tab["label"].append(GESTURE_LABELS[lab[d0]])
            tab["start_frame"].append(d0)
            tab["end_frame"].append(d1)
            tab["amplitude_deg"].append(round(float(events[src[d0]][3]), AMPLITUDE_DECIMALS))
    return lab, tab


def make_events(plan: MotionPlan, cues: SpeechCues, blink_frames: np.ndarray, T: int, cfg: SynthConfig) -> dict:
    """The ``events`` dict of a session (see :func:`~stygaze.data.synhage.synth.synthesize`).

    Args:
        plan: the planned events.
        cues: the speech cues.
        blink_frames: ``(T,)`` eyelid closure averaged over each frame.
        T: number of 25 fps frames.
    """
    sac = plan.saccades
    s_on = np.asarray(sac.onset_s, np.float64)
    order = np.argsort(s_on, kind="stable")
    dur = np.asarray(sac.duration_s)
    kinds = np.asarray(sac.kind)
    amp = np.asarray(sac.amplitude_deg)
    real = kinds != "micro"  # microsaccades stay fixation
    gaze_lab = gaze_frame_labels(s_on[real], dur[real], T)
    gest_lab, gest_tab = gesture_labels(plan.gaze_head_events + plan.gestures, T)
    pv = [peak_velocity(a, d, cfg.saccade_skew) for a, d in zip(amp, dur)]
    b = plan.blinks
    return {
        "fps": FPS,
        "num_frames": T,
        "gaze_labels": list(GAZE_LABELS),
        "gesture_labels": list(GESTURE_LABELS),
        "gaze": gaze_lab.tolist(),
        "gesture": gest_lab.tolist(),
        "blink_frames": (blink_frames >= cfg.blink_label_threshold).astype(int).tolist(),
        "saccades": {
            "onset_s": _r(s_on[order]),
            "duration_s": _r(dur[order]),
            "amplitude_deg": _r(amp[order], AMPLITUDE_DECIMALS),
            "peak_velocity_deg_s": _r(np.asarray(pv)[order], VELOCITY_DECIMALS),
            "head_amplitude_deg": _r(np.asarray(sac.head_amplitude_deg)[order], AMPLITUDE_DECIMALS),
            "kind": [str(k) for k in kinds[order]],
            "region": [str(r) for r in np.asarray(sac.region)[order]],
        },
        "blinks": {
            "onset_s": _r(b.onset_s),
            "duration_s": _r(b.close_s + b.hold_s + b.open_s),
            "amplitude": _r(b.amplitude, AMPLITUDE_DECIMALS),
            "evoked": [bool(v) for v in b.evoked],
        },
        "gestures": gest_tab,
        "aversions": {"start_s": _r(plan.aversions[:, 0]), "end_s": _r(plan.aversions[:, 1])},
        "beat_nods_s": _r([n[0] for n in plan.beat_nods]),
        "utterances": [_r(u) for u in cues.utterances],
        "listening": [_r(u) for u in cues.listening],
        "stress_s": _r(cues.stress_s, STRESS_DECIMALS),
    }


def head_share_by_amplitude(sessions) -> dict[str, tuple[float | None, int]]:
    """How much of each primary gaze shift the head carries, pooled by shift amplitude.

    For every ``primary`` saccade in the events (onset frame f0 ≥ 1 with 15 frames after it),
    the world-gaze shift over 0.2 s (frames f0 → f0+5) gives the direction and amplitude A
    (shifts under 1° are skipped); the head's (pitch, yaw) displacement along that direction
    over 0.6 s (f0 → f0+15) is pooled per amplitude bin (< 10°, 10–20°, ≥ 20°) and divided by
    the pooled amplitudes.

    Args:
        sessions: iterable of ``(motion, events)`` pairs (25 fps :class:`Motion`, the
            ``events`` dict of :class:`SynthResult` / ``events.json``).

    Returns:
        ``{"<10" | "10-20" | ">=20": (share or None when the bin is empty, number of shifts)}``.
    """
    pooled = {"<10": [0.0, 0.0, 0], "10-20": [0.0, 0.0, 0], ">=20": [0.0, 0.0, 0]}  # along, amplitude, count
    g, h = HEAD_SHARE_GAZE_FRAMES, HEAD_SHARE_HEAD_FRAMES
    lo, hi = HEAD_SHARE_BINS_DEG
    for m, events in sessions:
        sac = (events or {}).get("saccades", {})
        wg, head = m.world_gaze_angles(), m.head[:, :2]
        for on, kind in zip(sac.get("onset_s", []), sac.get("kind", [])):
            f0 = int(np.floor(on * FPS))
            if kind != "primary" or f0 < 1 or f0 + h >= len(m):
                continue
            dg = wg[f0 + g] - wg[f0]
            amp = float(np.linalg.norm(dg))
            if amp < HEAD_SHARE_MIN_DEG:
                continue
            b = pooled["<10" if amp < lo else ("10-20" if amp < hi else ">=20")]
            b[0] += float((head[f0 + h] - head[f0]) @ (dg / amp))
            b[1] += amp
            b[2] += 1
    return {k: (along / amp if amp else None, n) for k, (along, amp, n) in pooled.items()}
