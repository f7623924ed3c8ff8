"""Event planning for SynHAGE: when and where the eyes and the head move, and when the eyelids close.

:func:`plan_motion` turns the speech cues and a speaker's style into a :class:`MotionPlan`, a
list of discrete events in continuous time, in six steps that share one random stream (in
this order, so a seed gives the same plan):

1. :func:`plan_aversions` — gaze aversions at utterance starts and spontaneously;
2. :func:`plan_gaze_shifts` — the fixation / saccade sequence (gamma fixation durations,
   microsaccades, main-sequence saccades with undershoot and correction), each gaze shift's
   head part (eye–head coupling, head recentring), vergence changes, gaze-driven head turns;
3. :func:`plan_beat_nods` — beat nods centred on stressed syllables;
4. :func:`plan_speech_motion` — speech-driven head movement from stressed syllable to
   stressed syllable;
5. :func:`plan_gestures` — labelled head gestures (nod, shake, tilt, up/down);
6. :func:`plan_blinks` — spontaneous blinks as a renewal process, gaze-evoked blinks moved
   onto large shifts.

Nothing here is sampled on a time grid: :mod:`~stygaze.data.synhage.simulate` renders the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from stygaze.data.synhage.config import GESTURE_KINDS, SynthConfig
from stygaze.data.synhage.cues import SpeechCues
from stygaze.data.synhage.style import SynthStyle

LabelledEvent = tuple[str, float, float, float]
"""A labelled head event: ``(label, start_s, end_s, amplitude_deg)``."""


@dataclass
class Movements:
    """Step movements to superpose: ``onset_s`` (K,), ``duration_s`` (K,), ``delta`` K × (C,)."""

    onset_s: list[float] = field(default_factory=list)
    duration_s: list[float] = field(default_factory=list)
    delta: list[np.ndarray] = field(default_factory=list)

    def add(self, onset_s: float, duration_s: float, delta: np.ndarray) -> None:
        self.onset_s.append(onset_s)
        self.duration_s.append(duration_s)
        self.delta.append(delta)


@dataclass
class Saccades:
    """Planned saccades in planning order (columns of equal length).

    ``delta`` holds each (pitch, yaw) world-gaze displacement in degrees, ``kind`` is
    primary / corrective / micro, ``region`` face / averted, ``head_amplitude_deg`` the head
    part of the gaze shift the saccade starts.
    """

    onset_s: list[float] = field(default_factory=list)
    duration_s: list[float] = field(default_factory=list)
    amplitude_deg: list[float] = field(default_factory=list)
    head_amplitude_deg: list[float] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    delta: list[np.ndarray] = field(default_factory=list)


@dataclass
class Oscillation:
    """A head oscillation (nod or shake gesture) on ``channel`` (0 pitch, 1 yaw)."""

    channel: int
    start_s: float
    freq_hz: float
    cycles: float
    amplitude_deg: float


@dataclass
class Blinks:
    """Planned blinks, sorted by onset: arrays of equal length (B,)."""

    onset_s: np.ndarray
    evoked: np.ndarray
    close_s: np.ndarray
    hold_s: np.ndarray
    open_s: np.ndarray
    amplitude: np.ndarray


@dataclass
class MotionPlan:
    """Everything :func:`plan_motion` decided, in continuous time.

    Attributes:
        duration_s: clip length.
        initial_gaze: ``(2,)`` (pitch, yaw) world gaze at t = 0, degrees.
        saccades: :class:`Saccades`.
        gaze_head: the head part of gaze shifts (min-jerk steps), deltas ``(3,)`` (pitch, yaw,
            roll) degrees.
        head: the other head movements (beat nods, gesture excursions), the same form.
        head_rest: ``(2,)`` resting head (pitch, yaw); ``head_roll_rest`` the resting roll.
        oscillations: nod / shake gestures.
        vergence_deg: the per-eye inward rotation on the partner, degrees.
        vergence: vergence movements, deltas ``(1,)`` degrees.
        blinks: :class:`Blinks`.
        aversions: ``(A, 2)`` start/end seconds.
        beat_nods: ``(time_s, depth_deg)`` of every beat nod.
        gaze_head_events: turn / up_down labels of large gaze-driven head shifts.
        gestures: the explicit gestures (labelled after, and winning over, ``gaze_head_events``).
    """

    duration_s: float
    initial_gaze: np.ndarray
    saccades: Saccades
    gaze_head: Movements
    head: Movements
    head_rest: np.ndarray
    head_roll_rest: float
    oscillations: list[Oscillation]
    vergence_deg: float
    vergence: Movements
    blinks: Blinks
    aversions: np.ndarray
    beat_nods: list[tuple[float, float]]
    gaze_head_events: list[LabelledEvent]
    gestures: list[LabelledEvent]


@dataclass
class Aversions:
    """Planned gaze aversions: ``spans`` (A, 2) s, ``points`` (A, 2) (pitch, yaw) deg, ``distance_m`` (A,)."""

    spans: np.ndarray
    points: np.ndarray
    distance_m: np.ndarray

    def index_at(self, t: float) -> int:
        """The aversion under way at time ``t``, or -1."""
        if len(self.spans) == 0:
            return -1
        i = int(np.searchsorted(self.spans[:, 0], t, side="right")) - 1
        return i if i >= 0 and t < self.spans[i, 1] else -1


def gaze_centre(style: SynthStyle) -> np.ndarray:
    """``(2,)`` (pitch, yaw) of the partner's face: where gaze rests."""
    return np.array([style.gaze_centre_pitch, style.gaze_centre_yaw])


def plan_aversions(cues: SpeechCues, style: SynthStyle, cfg: SynthConfig, rng: np.random.Generator, duration_s: float) -> Aversions:
    """Gaze aversions: at utterance starts (style ``aversion_tendency``) and spontaneously
    (``aversion_rate_hz``, mostly while speaking); overlapping ones merge; one that belongs to
    an utterance ends by the utterance's end (the speaker looks back at the listener); each
    gets a point (von Mises direction, log-normal eccentricity, vertical extent reduced) and a
    distance."""
    av: list[list[float]] = []
    mean, sd = cfg.aversion_onset_s
    k = cfg.aversion_hold_shape
    for u0 in cues.utterances[:, 0]:
        if rng.random() < style.aversion_tendency:
            s = u0 + rng.normal(mean, sd)
            av.append([s, s + rng.gamma(k, style.aversion_hold_s / k)])
    n_sp = rng.poisson(style.aversion_rate_hz * duration_s)
    for s in np.sort(rng.uniform(0, duration_s, n_sp)):
        if cues.speaking_at(np.array([s]))[0] or rng.random() < cfg.aversion_listening_keep:
            av.append([s, s + rng.gamma(k, style.aversion_hold_s / k)])
    av.sort()
    merged: list[list[float]] = []
    for a, b in av:
        if merged and a <= merged[-1][1] + cfg.aversion_merge_gap_s:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    spans = np.asarray(merged, np.float64).reshape(-1, 2)
    # a speaker looks back at the listener by the end of the utterance
    utt = cues.utterances
    if len(utt) and len(spans):
        j = np.searchsorted(utt[:, 0], spans[:, 0] + cfg.aversion_utterance_window_s, side="right") - 1
        jj = np.clip(j, 0, None)
        inside = (j >= 0) & (spans[:, 0] < utt[jj, 1])
        spans[:, 1] = np.where(inside, np.minimum(spans[:, 1], utt[jj, 1] - cfg.aversion_return_lead_s), spans[:, 1])
        spans = spans[spans[:, 1] > spans[:, 0]]
    dirs = rng.vonmises(math.radians(style.aversion_direction_deg), style.aversion_focus, len(spans))
    amp = style.aversion_amplitude_deg * style.amplitude_scale * np.exp(rng.normal(0, cfg.aversion_amplitude_log_sd, len(spans)))
    # (pitch, yaw): vertical aversions are smaller than horizontal ones
    points = gaze_centre(style) + np.stack([cfg.aversion_vertical_ratio * amp * np.sin(dirs), amp * np.cos(dirs)], axis=1)
    lim_p, lim_y = cfg.aversion_limit_deg
    points[:, 0] = np.clip(points[:, 0], -lim_p, lim_p)
    points[:, 1] = np.clip(points[:, 1], -lim_y, lim_y)
    dist = np.exp(rng.uniform(*np.log(cfg.far_distance_m), len(spans)))
    return Aversions(spans, points, dist)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(v[0], v[1]))
    return v / n if n > 1e-9 else np.zeros(2)


def saccade_duration_s(amplitude_deg: float, cfg: SynthConfig, rng: np.random.Generator) -> float:
    """Main-sequence duration (s) of a saccade, with log-normal jitter."""
    d = (cfg.main_sequence_slope_ms * amplitude_deg + cfg.main_sequence_intercept_ms) / 1000.0
    return d * math.exp(rng.normal(0, cfg.saccade_duration_jitter))


def head_share(amplitude_deg: float, style: SynthStyle, cfg: SynthConfig) -> float:
    """Head share of a gaze shift: logistic in amplitude from ``head_share_small`` to style ``head_share``."""
    lo = cfg.head_share_small
    return lo + (style.head_share - lo) / (1 + math.exp(-(amplitude_deg - style.head_onset_deg) / cfg.head_share_slope_deg))


def align_to_stress(onset_s: float, duration_s: float, stress_s: np.ndarray, cfg: SynthConfig) -> float:
    """Duration of a head movement starting at ``onset_s``, stretched or shortened (within
    ``head_stress_stretch`` × its own ``duration_s``) so that it lands on a stressed syllable
    when one is near: speakers' head movements end on the stress (Hadar et al. 1983)."""
    lo, hi = cfg.head_stress_stretch
    i = int(np.searchsorted(stress_s, onset_s + lo * duration_s))
    if i < len(stress_s) and stress_s[i] - onset_s <= hi * duration_s:
        return float(stress_s[i] - onset_s)
    return duration_s


def head_part(
    delta: np.ndarray, target: np.ndarray, head: np.ndarray, head_rest: np.ndarray, to_face: bool, style: SynthStyle, cfg: SynthConfig
) -> np.ndarray:
    """``(2,)`` (pitch, yaw) head displacement of a gaze shift (eye–head coupling).

    The head's share of the shift ``delta`` (logistic in amplitude, :func:`head_share`); more
    when the eye would otherwise end beyond ``eye_comfort_deg`` in its orbit; and on shifts
    back onto the face (``to_face``) a pull of the current ``head`` towards ``head_rest``; the
    pitch part scaled by ``head_pitch_share_ratio`` (vertical shifts recruit less head).
    """
    dH = head_share(float(np.hypot(*delta)), style, cfg) * delta
    ecc = target - (head + dH)
    e = float(np.hypot(*ecc))
    if e > cfg.eye_comfort_deg:
        dH = dH + (e - cfg.eye_comfort_deg) * _unit(ecc)
    if to_face:
        dH = dH + cfg.head_recentre_gain * (head_rest - (head + dH))
    return dH * np.array([cfg.head_pitch_share_ratio, 1.0])


@dataclass
class _GazePlan:
    saccades: Saccades
    head: Movements
    vergence_deg: float
    vergence: Movements
    evoked_blinks: list[float]
    gaze_head_events: list[LabelledEvent]
    initial_gaze: np.ndarray
    head_rest: np.ndarray


def plan_gaze_shifts(
    cues: SpeechCues, style: SynthStyle, cfg: SynthConfig, rng: np.random.Generator, duration_s: float, aversions: Aversions
) -> _GazePlan:
    """The sequential fixation / saccade plan and the head part of every gaze shift."""
    st = style
    centre = gaze_centre(st)
    gp, gy = cfg.head_rest_gaze_gain
    head_rest = np.array([st.head_pitch_rest + gp * st.gaze_centre_pitch, gy * st.gaze_centre_yaw])
    G = centre + rng.normal(0, st.face_spread_deg * cfg.initial_gaze_spread, 2)  # current world gaze (pitch, yaw)
    H = head_rest.copy()  # current head target (pitch, yaw)
    verg = math.degrees(math.atan(cfg.interocular_m / 2 / st.partner_distance_m))
    verg_cur = verg
    sac = Saccades()
    head = Movements()
    vergence = Movements()
    evoked_blinks: list[float] = []
    turn_events: list[LabelledEvent] = []
    region, region_id = "face", -1

    def add_saccade(t0: float, delta: np.ndarray, kind: str, reg: str, head_amp: float) -> float:
        A = float(np.hypot(*delta))
        D = saccade_duration_s(A, cfg, rng)
        sac.onset_s.append(t0)
        sac.duration_s.append(D)
        sac.amplitude_deg.append(A)
        sac.head_amplitude_deg.append(head_amp)
        sac.kind.append(kind)
        sac.region.append(reg)
        sac.delta.append(delta)
        return D

    t = 0.0
    while True:
        ratio = 1.0 if cues.speaking_at(np.array([t]))[0] else cfg.listening_fixation_ratio
        f = max(cfg.min_fixation_s, rng.gamma(st.fixation_shape, st.fixation_mean_s / st.fixation_shape) * ratio)
        # microsaccades inside the fixation, each partly correcting the offset of the previous ones
        n_micro = rng.poisson(st.microsaccade_rate_hz * f)
        micro = np.zeros(2)
        for tm in np.sort(rng.uniform(t + cfg.micro_onset_delay_s, t + f, n_micro)):
            amp = rng.uniform(*cfg.micro_amplitude_deg)
            ang = rng.uniform(0, 2 * np.pi)
            d = np.array([amp * math.sin(ang), amp * math.cos(ang)]) - cfg.micro_drift_correction * micro
            add_saccade(float(tm), d, "micro", region, 0.0)
            micro += d
        t_s = t + f
        if t_s >= duration_s:
            break
        ai = aversions.index_at(t_s)
        if ai >= 0:
            point = aversions.points[ai]
            if ai == region_id:  # a further fixation of the same aversion: a step from the last one
                step = rng.normal(0, st.aversion_spread_deg * st.amplitude_scale, 2)
                target = point + cfg.aversion_walk_persistence * (G - point) + step
            else:
                target = point + rng.normal(0, cfg.aversion_entry_spread_deg, 2)
            lim_p, lim_y = cfg.aversion_limit_deg
            target = np.clip(target, [-lim_p, -lim_y], [lim_p, lim_y])
            new_region, dist = "averted", aversions.distance_m[ai]
        else:
            lim = cfg.face_target_limit_deg
            speaking = bool(cues.speaking_at(np.array([t_s]))[0])
            if region == "face" and rng.random() < cfg.face_refixation_prob[0 if speaking else 1]:
                target = G + rng.normal(0, cfg.face_refixation_deg, 2)  # a small step within the same facial feature
            else:
                spread = st.face_spread_deg * st.amplitude_scale * (1.0 if speaking else cfg.listening_face_spread)
                target = centre + np.clip(rng.normal(0, spread, 2), -lim, lim)
            new_region, dist = "face", st.partner_distance_m
        cur = G + micro
        delta = target - cur
        A = float(np.hypot(*delta))
        if A < cfg.min_saccade_deg:  # no saccade worth making: the fixation simply continues
            t = t_s
            G = cur
            continue
        dH = head_part(delta, target, H, head_rest, new_region == "face", st, cfg)
        hA = float(np.hypot(*dH))
        # primary saccade (with undershoot) and corrective saccade
        if A > cfg.undershoot_min_deg and rng.random() < cfg.undershoot_prob:
            under = rng.uniform(*cfg.undershoot_fraction)
            D1 = add_saccade(t_s, delta * (1 - under), "primary", new_region, hA)
            t_c = t_s + D1 + rng.uniform(*cfg.corrective_latency_s)
            D2 = add_saccade(t_c, delta * under, "corrective", new_region, 0.0)
            t_end = t_c + D2
        else:
            D1 = add_saccade(t_s, delta, "primary", new_region, hA)
            t_end = t_s + D1
        if hA > cfg.head_min_deg:
            lag = max(cfg.head_lag_min_s, st.head_lag_s + rng.normal(0, cfg.head_lag_jitter_s))
            hd = (cfg.head_duration_base_s + cfg.head_duration_per_deg_s * hA) / st.head_speed
            hd *= math.exp(rng.normal(0, cfg.head_duration_log_sd))
            hd = align_to_stress(t_s + lag, hd, cues.stress_s, cfg)
            head.add(t_s + lag, hd, np.array([dH[0], dH[1], 0.0]))
            if abs(dH[1]) >= cfg.turn_min_yaw_deg and abs(dH[1]) > abs(dH[0]):
                turn_events.append(("turn", t_s + lag, t_s + lag + hd, abs(dH[1])))
            elif abs(dH[0]) >= cfg.up_down_min_pitch_deg:
                turn_events.append(("up_down", t_s + lag, t_s + lag + hd, abs(dH[0])))
        new_verg = math.degrees(math.atan(cfg.interocular_m / 2 / dist))
        if abs(new_verg - verg_cur) > cfg.vergence_min_change_deg:
            vergence.add(t_s, cfg.vergence_duration_s, new_verg - verg_cur)
            verg_cur = new_verg
        if A > cfg.evoked_blink_min_deg and rng.random() < st.gaze_evoked_blink_prob:
            evoked_blinks.append(t_s - cfg.evoked_blink_lead_s)
        G = target
        H = H + dH
        region = new_region
        region_id = ai
        t = t_end

    # initial gaze = first planned position, reconstructed from the final position and the deltas
    d_all = np.asarray(sac.delta, np.float64).reshape(-1, 2)
    initial = (G - d_all.sum(0)) if len(d_all) else G
    return _GazePlan(sac, head, verg, vergence, evoked_blinks, turn_events, initial, head_rest)


def plan_beat_nods(
    cues: SpeechCues, style: SynthStyle, cfg: SynthConfig, rng: np.random.Generator, head: Movements
) -> list[tuple[float, float]]:
    """Beat nods at stressed syllables, appended to ``head``; returns ``(time_s, depth_deg)`` per nod.

    A beat nod is a down-stroke (with a smaller sideways turn and tilt of random sign,
    ``beat_lateral_ratio``), a hold at the bottom and a recovery of the same duration,
    centred on the stressed syllable so that the head's pitch extreme (a speed minimum)
    coincides with it; a syllable is skipped while the previous nod is still under way.
    """
    nods = []
    busy_until = -1.0
    off = cfg.nod_strength_offset
    for ts, s in zip(cues.stress_s, cues.stress_strength):
        d, hold = rng.uniform(*cfg.nod_stroke_s), rng.uniform(*cfg.nod_hold_s)
        tn = ts + rng.normal(0, cfg.nod_timing_jitter_s)
        start = tn - hold / 2 - d
        if start < busy_until:
            continue
        if rng.random() < style.nod_prob * (off + s):
            a = -cfg.nod_depth_deg * style.nod_gain * (off + s) * math.exp(rng.normal(0, cfg.nod_depth_log_sd))
            lat_yaw, lat_roll = rng.normal(0, 1, 2) * np.asarray(cfg.beat_lateral_ratio) * abs(a)
            vec = np.array([a, lat_yaw, lat_roll * style.head_roll_scale])
            nods.append((tn, a))
            head.add(start, d, vec)
            head.add(tn + hold / 2, d, -vec)
            busy_until = tn + hold / 2 + d
    return nods


def plan_speech_motion(cues: SpeechCues, style: SynthStyle, cfg: SynthConfig, rng: np.random.Generator, head: Movements) -> None:
    """Speech-driven head movement, appended to ``head``: the head moves from stressed syllable to
    stressed syllable.

    At every stressed syllable the head is at a pose (an offset on every axis, std style
    ``speech_motion_deg`` × ``speech_motion_axis_gain`` × (strength offset + stress strength),
    partly carried over from the previous pose); between two syllables it moves with a
    minimum-jerk profile and rests briefly on each (so its speed minima fall on the stresses).
    Across a pause longer than ``speech_motion_max_gap_s`` it returns to its rest.
    """
    gain = np.asarray(cfg.speech_motion_axis_gain) * np.array([1.0, 1.0, style.head_roll_scale]) * style.speech_motion_deg
    hold = cfg.speech_motion_hold_s
    cur = np.zeros(3)
    prev = None
    for ts, s in zip(cues.stress_s, cues.stress_strength):
        if prev is not None and ts - prev <= cfg.speech_motion_max_gap_s:
            target = cfg.speech_motion_persistence * cur + rng.normal(0, 1, 3) * gain * (cfg.nod_strength_offset + s)
            head.add(prev + hold / 2, max(ts - prev - hold, cfg.speech_motion_min_move_s), target - cur)
            cur = target
        elif prev is not None and np.any(cur):  # a pause: back to rest
            head.add(prev + hold / 2, cfg.speech_motion_return_s, -cur)
            cur = np.zeros(3)
        prev = ts
    if prev is not None and np.any(cur):
        head.add(prev + hold / 2, cfg.speech_motion_return_s, -cur)


def plan_gestures(
    cues: SpeechCues, style: SynthStyle, cfg: SynthConfig, rng: np.random.Generator, duration_s: float, head: Movements
) -> tuple[list[LabelledEvent], list[Oscillation]]:
    """Labelled head gestures at ``gesture_rate_per_min`` (Poisson): nods and shakes are
    oscillations, tilts and up/downs are excursions (appended to ``head``)."""
    gestures: list[LabelledEvent] = []
    osc: list[Oscillation] = []
    n_g = rng.poisson(style.gesture_rate_per_min / 60.0 * duration_s)
    g_last = -10.0
    first, last = cfg.gesture_window_s
    for tg in np.sort(rng.uniform(first, max(cfg.gesture_window_min_s, duration_s - last), n_g)):
        if tg < g_last + cfg.gesture_min_gap_s:
            continue
        lis = not cues.speaking_at(np.array([tg]))[0]
        probs = np.asarray(cfg.gesture_kind_probs_listening if lis else cfg.gesture_kind_probs_speaking)
        kind = GESTURE_KINDS[rng.choice(len(GESTURE_KINDS), p=probs)]
        if kind in ("nod", "shake"):
            fq, cyc, amp = (
                rng.uniform(*cfg.oscillation_freq_hz),
                rng.choice(cfg.oscillation_cycles),
                rng.uniform(*cfg.oscillation_amplitude_deg) * (cfg.shake_ratio if kind == "shake" else 1.0),
            )
            length = cyc / fq
            osc.append(Oscillation(0 if kind == "nod" else 1, tg, fq, cyc, amp))
        else:
            ch = 2 if kind == "tilt" else 0
            amp = rng.uniform(*cfg.tilt_amplitude_deg) if kind == "tilt" else rng.uniform(*cfg.up_down_amplitude_deg)
            sign = rng.choice([-1.0, 1.0]) if kind == "tilt" else (1.0 if rng.random() < cfg.up_down_up_prob else -1.0)
            rise, hold, fall = rng.uniform(*cfg.excursion_rise_s), rng.uniform(*cfg.excursion_hold_s), rng.uniform(*cfg.excursion_fall_s)
            vec = np.zeros(3)
            vec[ch] = sign * amp
            head.add(tg, rise, vec)
            head.add(tg + rise + hold, fall, -vec)
            length = rise + hold + fall
        gestures.append((kind, tg, tg + length, float(amp)))
        g_last = tg + length
    return gestures, osc


def plan_blinks(style: SynthStyle, cfg: SynthConfig, rng: np.random.Generator, duration_s: float, evoked: list[float]) -> Blinks:
    """Blinks: a renewal process (gamma intervals) at the style's rate; each gaze-evoked blink
    then takes over the nearest free spontaneous blink within ``evoked_blink_capture`` mean
    inter-blink intervals (or is added when there is none), so large gaze shifts carry blinks
    and the rate still holds."""
    dur = duration_s
    rate = style.blink_rate_per_min / 60.0
    factor, extra = cfg.blink_candidates
    k = cfg.blink_interval_shape
    n_b = int(rate * dur * factor) + extra
    b_on = np.cumsum(np.maximum(cfg.blink_min_interval_s, rng.gamma(k, 1.0 / (k * rate), n_b))) - rng.uniform(0, 1.0 / rate)
    end = dur - cfg.blink_end_margin_s
    b_on = b_on[(b_on >= 0) & (b_on < end)]
    b_ev = np.zeros(len(b_on), bool)
    for te in evoked:
        if te < 0 or te >= end:
            continue
        free = np.flatnonzero(~b_ev)
        j = free[np.argmin(np.abs(b_on[free] - te))] if len(free) else -1
        if j >= 0 and abs(b_on[j] - te) < cfg.evoked_blink_capture / rate:
            b_on[j] = te
            b_ev[j] = True
        else:
            b_on = np.append(b_on, te)
            b_ev = np.append(b_ev, True)
    order = np.argsort(b_on, kind="stable")
    b_on, b_ev = b_on[order], b_ev[order]
    keep = np.concatenate([[True], np.diff(b_on) >= cfg.blink_min_separation_s]) if len(b_on) else np.zeros(0, bool)
    b_on, b_ev = b_on[keep], b_ev[keep]
    nb = len(b_on)
    close = rng.uniform(*cfg.blink_close_s, nb)
    hold = rng.uniform(*cfg.blink_hold_s, nb)
    open_ = rng.uniform(*cfg.blink_open_s, nb)
    amp = np.where(rng.random(nb) < cfg.partial_blink_prob, rng.uniform(*cfg.partial_blink_amplitude, nb), 1.0)
    return Blinks(b_on, b_ev, close, hold, open_, amp)


def plan_motion(cues: SpeechCues, style: SynthStyle, cfg: SynthConfig, rng: np.random.Generator, duration_s: float) -> MotionPlan:
    """All events of a clip of ``duration_s`` seconds: the six planning steps in order."""
    av = plan_aversions(cues, style, cfg, rng, duration_s)
    gaze = plan_gaze_shifts(cues, style, cfg, rng, duration_s, av)
    head = Movements()
    nods = plan_beat_nods(cues, style, cfg, rng, head)
    plan_speech_motion(cues, style, cfg, rng, head)
    gestures, osc = plan_gestures(cues, style, cfg, rng, duration_s, head)
    blinks = plan_blinks(style, cfg, rng, duration_s, gaze.evoked_blinks)
    return MotionPlan(
        duration_s=duration_s,
        initial_gaze=gaze.initial_gaze,
        saccades=gaze.saccades,
        gaze_head=gaze.head,
        head=head,
        head_rest=gaze.head_rest,
        head_roll_rest=style.head_roll_rest,
        oscillations=osc,
        vergence_deg=gaze.vergence_deg,
        vergence=gaze.vergence,
        blinks=blinks,
        aversions=av.spans,
        beat_nods=nods,
        gaze_head_events=gaze.gaze_head_events,
        gestures=gestures,
    )
