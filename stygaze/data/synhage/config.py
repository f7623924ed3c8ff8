"""Every fixed constant of the SynHAGE synthesizer, named once: :class:`SynthConfig`.

What a speaker may vary lives in :class:`~stygaze.data.synhage.style.SynthStyle`; what is the
same for every speaker (physiology, the speech-cue detector, gesture shapes, the simulation
grid, the measurement noise) lives here. Each field's metadata holds its ``unit``, a one-line
``doc`` and its ``source``: a paper (full references in ``docs/data-synhage.md``), a real-data
figure, or "design" for a choice of the model (with the reason in the doc).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

GESTURE_KINDS: tuple[str, ...] = ("nod", "shake", "tilt", "up_down")
"""The explicit head gestures :mod:`~stygaze.data.synhage.plan` draws (order of the ``gesture_kind_probs_*``)."""


def _c(default: Any, unit: str, doc: str, source: str) -> Any:
    return field(default=default, metadata={"unit": unit, "doc": doc, "source": source})


@dataclass(frozen=True)
class SynthConfig:
    """Fixed physiology, detector and rendering constants of SynHAGE (not part of a speaker's style).

    Ranges are ``(low, high)`` tuples drawn uniformly unless the doc says otherwise.
    ``SynthConfig.describe()`` lists every field with its unit, meaning and source.
    """

    # --- simulation grid and measurement -------------------------------------------------
    sim_rate: int = _c(250, "Hz", "internal simulation rate (a multiple of 25)", "design: 10 samples per frame resolve saccades")
    tremor_deg: float = _c(0.01, "deg", "white ocular tremor at the simulation rate (std)", "Martinez-Conde et al. 2004")
    drift_tau_s: float = _c(0.4, "s", "time constant of the Ornstein–Uhlenbeck fixational drift", "Engbert & Kliegl 2003")
    tracker_noise_deg: float = _c(
        0.06, "deg", "frame-level measurement noise added to each eye channel independently (std)", "Holmqvist, Nyström & Mulvey 2012"
    )
    tracker_noise_shared_deg: float = _c(
        0.23,
        "deg",
        "frame-level measurement noise common to both eyes (std): a wearable tracker's precision; it is why a 1° I-DT "
        "on 25 fps world gaze finds ≈ 0.7 fixation samples rather than the ≈ 0.95 of noise-free motion. "
        "Set both noises to 0 for clean motion",
        "Holmqvist, Nyström & Mulvey 2012; paper FixRatio 0.61",
    )

    # --- speech cues (cues.py) -----------------------------------------------------------
    envelope_rate_hz: int = _c(100, "Hz", "rate of the frame-energy envelope (a divisor of 16000)", "design")
    loud_percentile: float = _c(95.0, "%", "percentile of frame energy taken as the clip's loud level (0 dB)", "design")
    floor_percentile: float = _c(10.0, "%", "percentile of frame energy taken as the noise floor", "design")
    vad_threshold_db: float = _c(14.0, "dB", "speech is frame energy above noise floor + this", "design")
    vad_min_db: float = _c(-40.0, "dB", "speech is also at least this loud relative to the loud level", "design")
    vad_fill_gap_s: float = _c(0.12, "s", "silences shorter than this inside speech are filled", "design (stop closures)")
    vad_min_speech_s: float = _c(0.08, "s", "speech blips shorter than this are dropped", "design")
    utterance_gap_s: float = _c(0.35, "s", "silences at least this long separate utterances", "design (pause ≥ 350 ms)")
    listening_gap_s: float = _c(1.5, "s", "silences at least this long are listening, shorter ones are pauses", "design")
    stress_ref_percentile: float = _c(90.0, "%", "stress strength = onset strength / this percentile of the clip's beat onsets", "design")
    stress_strength_range: tuple[float, float] = _c((0.2, 1.0), "", "stress strength is clipped to this range", "design")

    # --- gaze aversion (plan.py) ---------------------------------------------------------
    aversion_onset_s: tuple[float, float] = _c(
        (-0.1, 0.15),
        "s",
        "(mean, std) of an utterance-start aversion's onset relative to the utterance start",
        "Kendon 1967; Ho et al. 2015",
    )
    aversion_hold_shape: float = _c(3.0, "", "gamma shape of aversion durations (mean = style aversion_hold_s)", "design")
    aversion_listening_keep: float = _c(
        0.03,
        "prob",
        "share of spontaneous aversions kept when they fall outside speech (listeners avert less)",
        "Argyle & Cook 1976; calibrated: Dembinsky et al. 2024 listening shifts",
    )
    aversion_merge_gap_s: float = _c(0.3, "s", "aversions closer than this merge into one", "design")
    aversion_utterance_window_s: float = _c(
        0.5, "s", "an aversion starting at most this long before an utterance (or inside it) belongs to it", "design"
    )
    aversion_return_lead_s: float = _c(
        0.1,
        "s",
        "such an aversion ends at least this long before the utterance ends (gaze back at the listener)",
        "Kendon 1967; Ho et al. 2015",
    )
    aversion_amplitude_log_sd: float = _c(0.3, "", "log-normal spread of an aversion's eccentricity", "design")
    aversion_vertical_ratio: float = _c(0.6, "×", "vertical extent of aversions relative to horizontal", "Andrist et al. 2014")
    aversion_limit_deg: tuple[float, float] = _c((25.0, 40.0), "deg", "(pitch, yaw) limit of averted gaze points", "Guitton & Volle 1987")
    aversion_entry_spread_deg: float = _c(0.5, "deg", "scatter of the first fixation of an aversion around its point (std)", "design")
    aversion_walk_persistence: float = _c(
        0.4,
        "×",
        "further fixations of one aversion step from the last one, pulled back towards the aversion point by 1 − this",
        "calibrated: Dembinsky et al. 2024 (90th percentile, same-direction share)",
    )
    far_distance_m: tuple[float, float] = _c((0.6, 4.0), "m", "fixation distance of averted gaze (log-uniform)", "design")

    # --- fixations and saccades (plan.py) ------------------------------------------------
    head_rest_gaze_gain: tuple[float, float] = _c(
        (0.5, 0.7), "×", "(pitch, yaw) share of the gaze centre that the resting head points at", "Stahl 1999"
    )
    initial_gaze_spread: float = _c(0.5, "×", "first gaze point's scatter on the face, × style face_spread_deg", "design")
    min_fixation_s: float = _c(0.1, "s", "shortest fixation between two saccades", "Salvucci & Goldberg 2000")
    listening_fixation_ratio: float = _c(
        0.9,
        "×",
        "planned fixation durations in pauses / listening relative to speaking (detected listening fixations come out "
        "longer anyway: the smaller shifts of a listener merge more often)",
        "Dembinsky et al. 2024 (211 vs 178 ms)",
    )
    micro_onset_delay_s: float = _c(0.05, "s", "no microsaccade in the first this of a fixation", "design")
    micro_amplitude_deg: tuple[float, float] = _c((0.1, 0.8), "deg", "microsaccade amplitude range", "Martinez-Conde et al. 2004")
    micro_drift_correction: float = _c(0.5, "×", "share of the accumulated microsaccade offset each one corrects", "Engbert & Kliegl 2003")
    listening_face_spread: float = _c(
        1.2,
        "×",
        "spread of fixations on the face while not speaking, relative to speaking",
        "calibrated: Dembinsky et al. 2024 listening shifts",
    )
    face_refixation_prob: tuple[float, float] = _c(
        (0.6, 0.7),
        "prob",
        "(speaking, listening) probability that a fixation on the face is followed by a small step within the same feature "
        "(else a new point on the face)",
        "calibrated: Dembinsky et al. 2024 (speaking and listening shift medians)",
    )
    face_refixation_deg: float = _c(0.5, "deg", "std per axis of such a step", "calibrated: Dembinsky et al. 2024 (40 % of shifts < 1°)")
    face_target_limit_deg: float = _c(7.0, "deg", "fixation points on the face stay within ± this of the gaze centre per axis", "design")
    min_saccade_deg: float = _c(
        0.35, "deg", "a planned shift smaller than this is skipped (the fixation continues)", "design (real shifts go down to 0.2°)"
    )
    main_sequence_slope_ms: float = _c(2.2, "ms/deg", "saccade duration slope", "Carpenter 1988; Bahill et al. 1975")
    main_sequence_intercept_ms: float = _c(21.0, "ms", "saccade duration intercept", "Carpenter 1988; Bahill et al. 1975")
    saccade_duration_jitter: float = _c(0.08, "", "log-normal std of saccade duration around the main sequence", "Collewijn et al. 1988")
    saccade_skew: float = _c(
        0.85, "", "exponent of the skewed raised-cosine saccade profile (< 1: faster acceleration)", "Collewijn et al. 1988"
    )
    undershoot_min_deg: float = _c(8.0, "deg", "primary saccades larger than this may undershoot", "Becker 1989")
    undershoot_prob: float = _c(0.7, "prob", "probability that such a saccade undershoots", "Becker 1989")
    undershoot_fraction: tuple[float, float] = _c((0.05, 0.12), "×", "undershoot as a share of the shift", "Becker 1989")
    corrective_latency_s: tuple[float, float] = _c((0.1, 0.16), "s", "corrective saccade onset after the primary lands", "Becker 1989")

    # --- eye–head coupling (plan.py, simulate.py) ----------------------------------------
    head_share_small: float = _c(0.06, "×", "head share of small (≲ 10°) gaze shifts", "Freedman & Sparks 1997; Stahl 1999")
    head_share_slope_deg: float = _c(3.5, "deg", "width of the logistic head share around style head_onset_deg", "Freedman & Sparks 1997")
    head_pitch_share_ratio: float = _c(
        0.7,
        "×",
        "head share of the vertical part of a gaze shift relative to the horizontal",
        "design; calibrated: real talking heads (pitch std < yaw std)",
    )
    eye_comfort_deg: float = _c(
        20.0, "deg", "eye-in-head eccentricity beyond which the head recentres", "Guitton & Volle 1987; Stahl 1999 (eye-only range)"
    )
    eye_range_deg: float = _c(35.0, "deg", "eye-in-head limit (oculomotor range)", "Guitton & Volle 1987")
    head_recentre_gain: float = _c(0.2, "×", "share of the head's offset from rest removed by each shift onto the face", "design")
    head_min_deg: float = _c(0.05, "deg", "gaze shifts whose head part is smaller move no head", "design")
    head_lag_jitter_s: float = _c(0.008, "s", "std of the head's onset lag around style head_lag_s", "Zangemeister & Stark 1982")
    head_lag_min_s: float = _c(0.01, "s", "shortest head lag after the eye's onset", "Zangemeister & Stark 1982")
    head_duration_base_s: float = _c(0.16, "s", "head movement duration intercept (before style head_speed)", "Zangemeister & Stark 1982")
    head_duration_per_deg_s: float = _c(0.011, "s/deg", "head movement duration slope", "Zangemeister & Stark 1982")
    head_duration_log_sd: float = _c(0.1, "", "log-normal spread of head movement durations", "design")
    head_stress_stretch: tuple[float, float] = _c(
        (0.7, 1.6),
        "×",
        "a gaze shift's head movement ends on a stressed syllable within this range of its own duration",
        "Hadar et al. 1983",
    )
    turn_min_yaw_deg: float = _c(
        10.0, "deg", "a gaze-driven head shift with at least this yaw (and more yaw than pitch) is labelled turn", "design"
    )
    up_down_min_pitch_deg: float = _c(8.0, "deg", "a gaze-driven head shift with at least this pitch is labelled up_down", "design")
    vor_gain: float = _c(
        0.95,
        "×",
        "vestibulo-ocular reflex gain (1 = world gaze perfectly still during head motion)",
        "Steinman & Collewijn 1980 (small retinal slip during active head rotation)",
    )
    vor_leak_tau_s: float = _c(
        0.25, "s", "head motion faster than this time constant leaks into world gaze by 1 − vor_gain", "Steinman & Collewijn 1980"
    )

    # --- vergence (plan.py) ---------------------------------------------------------------
    interocular_m: float = _c(0.063, "m", "interpupillary distance", "Dodgson 2004")
    vergence_min_change_deg: float = _c(0.05, "deg", "vergence changes smaller than this are not made", "design")
    vergence_duration_s: float = _c(0.2, "s", "duration of a vergence movement", "design")

    # --- beat nods (plan.py) ----------------------------------------------------------------
    nod_depth_deg: float = _c(
        1.8,
        "deg",
        "nominal beat-nod depth, × style nod_gain × (strength offset + stress strength)",
        "Hadar et al. 1983; calibrated: real talking heads (pitch speed)",
    )
    nod_strength_offset: float = _c(0.5, "", "added to the stress strength for nod probability and depth", "design")
    nod_depth_log_sd: float = _c(0.25, "", "log-normal spread of beat-nod depth", "design")
    nod_stroke_s: tuple[float, float] = _c(
        (0.24, 0.34), "s", "beat nod down-stroke (and recovery) duration", "Hadar et al. 1983; Graf et al. 2002"
    )
    nod_hold_s: tuple[float, float] = _c((0.28, 0.42), "s", "hold at the bottom, centred on the stressed syllable", "Graf et al. 2002")
    beat_lateral_ratio: tuple[float, float] = _c(
        (0.5, 0.5),
        "×",
        "(yaw, roll) std of a beat movement relative to its nod depth (random sign)",
        "Hadar et al. 1983; calibrated: real talking heads",
    )
    speech_motion_axis_gain: tuple[float, float, float] = _c(
        (0.4, 0.6, 2.5),
        "×",
        "(pitch, yaw, roll) of the speech-driven movement relative to style speech_motion_deg",
        "calibrated: real talking heads (per-axis std and speed)",
    )
    speech_motion_persistence: float = _c(0.85, "×", "share of the previous syllable's pose carried into the next", "design")
    speech_motion_hold_s: float = _c(0.1, "s", "rest of the speech-driven movement on each stressed syllable", "design")
    speech_motion_min_move_s: float = _c(0.15, "s", "shortest movement between two stressed syllables", "design")
    speech_motion_max_gap_s: float = _c(
        1.0, "s", "stressed syllables further apart than this are not joined: the head returns to rest", "design"
    )
    speech_motion_return_s: float = _c(0.5, "s", "duration of that return", "design")
    nod_timing_jitter_s: float = _c(0.02, "s", "std of a nod's centre around its stressed syllable", "Munhall et al. 2004")

    # --- labelled head gestures (plan.py) ----------------------------------------------------
    gesture_window_s: tuple[float, float] = _c(
        (0.5, 2.0), "s", "gestures start at least this long after the clip's start / before its end", "design"
    )
    gesture_window_min_s: float = _c(0.6, "s", "upper end of the gesture onset window on very short clips", "design")
    gesture_min_gap_s: float = _c(0.5, "s", "a gesture starts at least this long after the previous one ended", "design")
    gesture_kind_probs_listening: tuple[float, ...] = _c(
        (0.6, 0.1, 0.2, 0.1), "prob", "probabilities of nod / shake / tilt / up_down while listening (listeners nod more)", "McClave 2000"
    )
    gesture_kind_probs_speaking: tuple[float, ...] = _c(
        (0.35, 0.25, 0.25, 0.15), "prob", "probabilities of nod / shake / tilt / up_down while speaking", "McClave 2000"
    )
    oscillation_freq_hz: tuple[float, float] = _c((2.0, 3.0), "Hz", "nod and shake oscillation frequency", "McClave 2000")
    oscillation_cycles: tuple[float, ...] = _c((1.5, 2.0, 2.5, 3.0), "cycles", "nod and shake length (one drawn)", "McClave 2000")
    oscillation_amplitude_deg: tuple[float, float] = _c((5.0, 12.0), "deg", "nod amplitude (shake: × shake_ratio)", "McClave 2000")
    shake_ratio: float = _c(0.6, "×", "shake amplitude relative to a nod", "design")
    tilt_amplitude_deg: tuple[float, float] = _c((4.0, 10.0), "deg", "roll excursion of a tilt", "design")
    up_down_amplitude_deg: tuple[float, float] = _c((5.0, 10.0), "deg", "pitch excursion of an up/down gesture", "design")
    up_down_up_prob: float = _c(0.6, "prob", "probability that an up/down gesture goes up", "design")
    excursion_rise_s: tuple[float, float] = _c((0.25, 0.4), "s", "tilt / up-down: time to reach the excursion", "design")
    excursion_hold_s: tuple[float, float] = _c((0.4, 1.4), "s", "tilt / up-down: time held", "design")
    excursion_fall_s: tuple[float, float] = _c((0.3, 0.5), "s", "tilt / up-down: time to return", "design")

    # --- blinks (plan.py, simulate.py) ---------------------------------------------------
    blink_interval_shape: float = _c(2.0, "", "gamma shape of inter-blink intervals (mean = 1 / style rate)", "Bentivoglio et al. 1997")
    blink_min_interval_s: float = _c(0.5, "s", "shortest drawn inter-blink interval", "Bentivoglio et al. 1997")
    blink_candidates: tuple[float, int] = _c(
        (1.5, 4), "×, count", "intervals drawn: factor × expected count + extra (enough to cover the clip)", "design"
    )
    blink_end_margin_s: float = _c(0.3, "s", "no blink starts within this of the clip's end", "design")
    evoked_blink_min_deg: float = _c(
        20.0, "deg", "gaze shifts larger than this may carry a blink (style gaze_evoked_blink_prob)", "Evinger et al. 1994"
    )
    evoked_blink_lead_s: float = _c(0.02, "s", "a gaze-evoked blink starts this long before the saccade", "Evinger et al. 1994")
    evoked_blink_capture: float = _c(
        1.0,
        "intervals",
        "a gaze-evoked blink replaces the nearest spontaneous blink within this many mean inter-blink intervals",
        "design (keeps the style's blink rate when large gaze shifts are frequent)",
    )
    blink_min_separation_s: float = _c(0.4, "s", "blinks closer than this to the previous one are dropped", "Bentivoglio et al. 1997")
    blink_close_s: tuple[float, float] = _c((0.06, 0.09), "s", "eyelid closing duration", "Evinger et al. 1991")
    blink_hold_s: tuple[float, float] = _c((0.02, 0.06), "s", "eyelid closed duration", "Evinger et al. 1991")
    blink_open_s: tuple[float, float] = _c((0.12, 0.2), "s", "eyelid opening duration", "Evinger et al. 1991")
    partial_blink_prob: float = _c(0.15, "prob", "share of partial blinks", "Evinger et al. 1991")
    partial_blink_amplitude: tuple[float, float] = _c((0.5, 0.9), "closure", "closure of a partial blink", "Evinger et al. 1991")
    blink_eye_drop_deg: float = _c(3.0, "deg", "downward eye rotation during a full blink", "Collewijn, van der Steen & Steinman 1985")
    blink_label_threshold: float = _c(0.5, "closure", "frames with at least this mean eyelid closure are labelled blink", "design")

    # --- slow head motion (simulate.py) ------------------------------------------------------
    sway_cutoff_hz: tuple[float, float, float] = _c(
        (0.25, 0.25, 0.15),
        "Hz",
        "(pitch, yaw, roll) low-pass cutoff of postural sway (head tilts are the slowest)",
        "calibrated: real talking heads (roll std 3.8°, speed 4.4 °/s)",
    )
    sway_axis_gain: tuple[float, float, float] = _c(
        (0.3, 0.3, 1.3), "×", "(pitch, yaw, roll) sway relative to style sway_deg", "calibrated: real talking heads"
    )
    activity_smooth_frames: float = _c(12.0, "frames", "Gaussian std (25 fps frames) smoothing the speaking/silent activity", "design")
    loudness_range_db: float = _c(30.0, "dB", "loudness maps to 0..1 over the top this many dB below the loud level", "design")
    loudness_smooth_frames: float = _c(
        8.0, "frames", "Gaussian std (25 fps frames) smoothing the loudness that drives head pitch", "design"
    )
    speech_head_deg: float = _c(
        1.0, "deg", "head pitch per unit loudness, × style speech_head_gain", "Busso et al. 2007; calibrated: real talking heads"
    )

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """One ``{name, default, unit, doc, source}`` dict per field, in declaration order."""
        return [{"name": f.name, "default": f.default, **f.metadata} for f in fields(cls)]
