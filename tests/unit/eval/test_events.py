"""Gaze events: I-DT per-axis/ms rules, velocity detectors, behaviour measures, event_sim.

Golden cases are built by hand; the noise-robustness check uses synthetic gaze rendered at
500 Hz (gamma fixation durations with drift, main-sequence saccades) and averaged to 25 fps.
"""

import math

import numpy as np
import pytest

from stygaze.eval.events import (
    FIXATION,
    OTHER,
    PRESETS,
    SACCADE,
    AdaptiveConfig,
    EventStats,
    IDTConfig,
    IVTConfig,
    adaptive_threshold,
    compare_events,
    compare_tracks,
    detect_events,
    event_sim,
    min_samples,
    step_velocity,
    wasserstein_1d,
)
from stygaze.eval.idt import fixation_mask, idt_fixations
from stygaze.motion import resample_frames


def track(x, y=None):
    x = np.asarray(x, np.float64)
    return np.stack([x, np.zeros_like(x) if y is None else np.asarray(y, np.float64)], axis=1)


def synthetic_gaze(seed, seconds=120.0, fix_ms=280.0, amp_deg=5.0, noise_deg=0.0, fps=25.0):
    """World gaze (T, 2) at ``fps``: rendered at 500 Hz, then box-averaged like a camera would.

    Fixations: gamma(4) durations with mean ``fix_ms`` and a random-walk drift (≈ 0.2° over
    300 ms); saccades: log-normal amplitudes with median ``amp_deg`` in random directions,
    main-sequence duration 2.2·A + 21 ms, cosine velocity profile; positions kept within
    ±15°. ``noise_deg``: white measurement noise per axis at ``fps``.
    """
    rng = np.random.default_rng(seed)
    hi = 500.0
    n = int(seconds * hi)
    xy = np.zeros((n, 2))
    t, pos = 0, np.zeros(2)
    while t < n:
        d = max(1, int(rng.gamma(4.0, fix_ms / 4.0) * hi / 1000))
        m = min(d, n - t)
        xy[t : t + m] = (pos + np.cumsum(rng.normal(0, 0.015, (d, 2)), axis=0))[:m]
        t += d
        ang = rng.uniform(0, 2 * np.pi)
        target = np.clip(pos + rng.lognormal(np.log(amp_deg), 0.6) * np.array([np.cos(ang), np.sin(ang)]), -15, 15)
        sd = max(1, int((2.2 * np.linalg.norm(target - pos) + 21) * hi / 1000))
        prof = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, sd + 2)[1:-1])
        m = min(sd, max(0, n - t))
        xy[t : t + m] = (pos + prof[:, None] * (target - pos))[:m]
        t += sd
        pos = target
    out = resample_frames(xy, hi, fps, "average").astype(np.float64)
    return out + rng.normal(0, noise_deg, out.shape) if noise_deg else out


# --- I-DT extensions --------------------------------------------------------------------
def test_per_axis_dispersion_accepts_what_the_sum_refuses():
    # a diagonal 0.6° x 0.6° drift in 20 samples (0.0316° per sample and axis): per axis it
    # stays within 0.72; summed, 12 samples reach 0.69 and the 13th breaks the window
    ramp = np.linspace(0, 0.6, 20)
    np.testing.assert_array_equal(idt_fixations(ramp, ramp, 0.72, 5), [[0, 12], [12, 20]])
    np.testing.assert_array_equal(idt_fixations(ramp, ramp, 0.72, 5, per_axis=True), [[0, 20]])


def test_per_axis_matches_a_plain_reference_on_random_data(rng):
    def reference(x, y, thr, m):
        n, s, out = len(x), 0, []

        def disp(a, b):
            return max(np.ptp(x[a:b]), np.ptp(y[a:b]))

        while s + m <= n:
            if disp(s, s + m) <= thr:
                e = s + m
                while e < n and disp(s, e + 1) <= thr:
                    e += 1
                out.append((s, e))
                s = e
            else:
                s += 1
        return np.array(out, np.int64).reshape(-1, 2)

    for _ in range(20):
        x, y = np.cumsum(rng.normal(0, 0.3, (2, 300)), axis=1)
        np.testing.assert_array_equal(idt_fixations(x, y, 0.8, 4, per_axis=True), reference(x, y, 0.8, 4))


@pytest.mark.parametrize(
    "ms, fps, rule, expected",
    [
        (100, 25, "samples", 3),  # 2.5 frames -> 3 frames = 120 ms
        (100, 90, "samples", 9),  # exactly 9 samples (no float creep to 10)
        (100, 90, "span", 10),  # (N - 1) / 90 >= 0.1 s
        (100, 25, "span", 4),
        (55, 500, "samples", 28),
        (55, 25, "samples", 2),
        (0, 25, "samples", 1),
    ],
    ids=["100ms_25fps", "100ms_90Hz", "100ms_90Hz_span", "100ms_25fps_span", "55ms_500Hz", "55ms_25fps", "zero"],
)
def test_min_samples_rounding_rule(ms, fps, rule, expected):
    assert min_samples(ms, fps, rule) == expected


def test_idt_config_in_ms_equals_the_sample_kernel():
    x = np.r_[np.zeros(7), np.full(2, 5.0), np.full(3, 9.0)]
    ev = detect_events(track(x), 25.0, IDTConfig(1.0, 100.0))
    np.testing.assert_array_equal(ev.fixations, [[0, 7], [9, 12]])  # 3 frames needed: the 2-frame piece is out
    np.testing.assert_array_equal(ev.labels, [FIXATION] * 7 + [OTHER] * 2 + [FIXATION] * 3)
    assert math.isnan(ev.saccade_share)  # I-DT detects no saccades


def test_conversation_preset_runs_at_90hz_on_upsampled_gaze():
    det = PRESETS["conversation"]
    assert det == IDTConfig(0.72, 100.0, per_axis=True, duration_rule="span", fps=90.0)
    x = np.r_[np.zeros(25), np.full(25, 3.0)]  # two 1 s fixations at 25 fps
    ev = detect_events(track(x, 0.5 * x), 25.0, "conversation")
    assert ev.fps == 90.0 and len(ev.xy) == 180
    assert len(ev.fixations) == 2
    dur = EventStats.from_events(ev).fixation_ms
    assert np.all(np.abs(dur - 1000.0) < 30)  # each ~1 s; the interpolated sample in between is out


def test_conversation_preset_needs_ten_samples_at_90hz():
    # 9 still samples at 90 Hz = 100 ms by count but 88.9 ms first-to-last: too short
    x = np.r_[np.zeros(9), np.full(12, 5.0), np.full(9, 10.0)]
    ev = detect_events(track(x), 90.0, "conversation")
    np.testing.assert_array_equal(ev.fixations, [[9, 21]])


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown detector preset"):
        detect_events(track(np.zeros(10)), 25.0, "bogus")


# --- velocity ---------------------------------------------------------------------------
@pytest.mark.parametrize("fps, n", [(25, 2), (90, 2), (500, 10), (1000, 20)])
def test_step_velocity_of_a_ramp_is_exact_away_from_the_ends(fps, n):
    T = int(fps)
    v = step_velocity(track(30.0 * np.arange(T) / fps), fps, window_ms=20.0)
    assert v.shape == (T - 1, 2)
    h = n // 2
    np.testing.assert_allclose(v[h : T - 1 - h, 0], 30.0, rtol=1e-9)
    np.testing.assert_allclose(v[:, 1], 0.0, atol=1e-12)


def test_step_velocity_at_25fps_is_the_frame_difference(rng):
    xy = rng.normal(size=(50, 2))
    np.testing.assert_allclose(step_velocity(xy, 25.0), np.diff(xy, axis=0) * 25.0)


def test_step_velocity_nan_spreads_over_its_window():
    x = np.zeros(100)
    x[50] = np.nan
    v = step_velocity(track(x), 500.0)  # 10-sample windows centred on each step
    assert np.flatnonzero(np.isnan(v[:, 0])).tolist() == list(range(45, 55))


# --- velocity detectors -----------------------------------------------------------------
def test_instant_jump_at_25fps_splits_fixations_at_the_jump():
    x = np.r_[np.zeros(10), np.full(10, 5.0)]
    ev = detect_events(track(x), 25.0, IVTConfig(30.0))
    np.testing.assert_array_equal(ev.fixations, [[0, 10], [10, 20]])  # no sample lost to the saccade
    np.testing.assert_array_equal(ev.saccades, [[9, 10]])
    assert (ev.labels == FIXATION).all()
    assert ev.saccade_share == pytest.approx(1 / 19)  # one of 19 frame steps


def test_in_flight_frame_is_a_saccade_sample():
    x = np.r_[np.zeros(10), [2.5], np.full(10, 5.0)]
    ev = detect_events(track(x), 25.0, IVTConfig(30.0))
    np.testing.assert_array_equal(ev.fixations, [[0, 10], [11, 21]])
    assert ev.labels[10] == SACCADE and ev.saccade_share == pytest.approx(2 / 20)


def test_saccade_touching_tracker_loss_is_a_blink_not_a_saccade():
    x = np.r_[np.zeros(10), [3.0, np.nan, np.nan, 3.0], np.full(10, 6.0), [9.0], np.full(10, 12.0)]
    ev = detect_events(track(x), 25.0, IVTConfig(30.0))
    assert len(ev.saccades) == 1 and tuple(ev.saccades[0]) == (23, 25)  # only the 6 -> 12 one
    assert (ev.labels[10:14] == OTHER).all()


def test_implausibly_fast_candidate_is_not_a_saccade():
    x = np.r_[np.zeros(10), [50.0], np.zeros(10)]  # 50° out and back in two frames: 1250 °/s
    ev = detect_events(track(x), 25.0, IVTConfig(30.0))
    assert len(ev.saccades) == 0 and ev.labels[10] == OTHER


def test_short_pieces_are_not_fixations():
    x = np.r_[np.zeros(10), [4.0], [8.0], np.full(10, 12.0)]  # pieces of 1 sample in flight
    ev = detect_events(track(x), 25.0, IVTConfig(30.0, min_fixation_ms=55.0))
    np.testing.assert_array_equal(ev.fixations, [[0, 10], [12, 22]])


def test_adaptive_threshold_follows_the_noise_and_has_a_floor(rng):
    clean = track(np.r_[np.zeros(200), np.full(200, 5.0)])
    cfg = AdaptiveConfig()
    np.testing.assert_allclose(adaptive_threshold(clean, 25.0, cfg), cfg.min_threshold_deg_s)
    noisy = clean + rng.normal(0, 0.2, clean.shape)
    eta = adaptive_threshold(noisy, 25.0, cfg)
    # frame-difference noise: std 0.2·√2·25 = 7.1 °/s; the median estimator gives 0.674 of it
    np.testing.assert_allclose(eta, cfg.vfac * 0.674 * 0.2 * math.sqrt(2) * 25, rtol=0.15)
    ev = detect_events(noisy, 25.0, cfg)
    assert len(ev.fixations) == 2 and len(ev.saccades) == 1


def test_merge_joins_noise_splits_but_not_real_shifts():
    base = np.r_[np.zeros(10), [0.6], np.full(10, 0.6), [3.0], np.full(10, 3.0)]
    ev_no = detect_events(track(base), 25.0, AdaptiveConfig(merge_deg=0.0, min_threshold_deg_s=5.0))
    ev_yes = detect_events(track(base), 25.0, AdaptiveConfig(merge_deg=1.0, min_threshold_deg_s=5.0))
    assert len(ev_no.fixations) == 3
    np.testing.assert_array_equal(ev_yes.fixations, [[0, 21], [21, 32]])
    assert len(ev_yes.saccades) == 1  # the 0.6° one merged away


# --- behaviour measures -----------------------------------------------------------------
def test_shift_and_direction_measures_by_hand():
    centres = np.array([[0, 0], [3, 0], [6, 1], [6, 5], [5.5, 5], [2.5, 5]], float)
    st = EventStats.from_fixations([100, 200, 300, 400, 500, 600], centres, minutes=0.1)
    np.testing.assert_allclose(st.shift_deg, [3, math.hypot(3, 1), 4, 0.5, 3])
    # pairs with both shifts > 2°: (3,0)->(3,1): 18.4°; (3,1)->(0,4): 71.6°; (0,4)->(-0.5,0) has a 0.5° shift
    np.testing.assert_allclose(st.turn_deg, [math.degrees(math.atan2(1, 3)), 90 - math.degrees(math.atan2(1, 3))])
    assert st.same_direction_share == 0.5
    assert st.shifts_per_min == pytest.approx(4 / 0.1)
    assert st.large_shift_share == 0.0
    assert st.fixation_median_ms == 350.0


def test_segments_are_never_joined_by_a_shift():
    centres = np.array([[0, 0], [10, 0], [0, 0], [3, 0]], float)
    st = EventStats.from_fixations(np.full(4, 200.0), centres, segment=[0, 0, 1, 1], minutes=1.0)
    np.testing.assert_allclose(st.shift_deg, [10, 3])
    assert st.large_shift_share == 0.5 and st.shifts_per_min == 2.0


def test_pooled_stats_add_up():
    a = EventStats(np.array([100.0]), np.array([3.0]), np.array([10.0]), 0.5, 2, 10)
    b = EventStats(np.array([300.0, 500.0]), np.array([1.0]), np.zeros(0), 1.5, 0, 30)
    p = EventStats.pooled([a, b])
    assert p.num_fixations == 3 and p.minutes == 2.0 and p.saccade_share == 2 / 40
    assert p.shifts_per_min == 0.5


def test_wasserstein_matches_scipy(rng):
    scipy_stats = pytest.importorskip("scipy.stats")
    for _ in range(10):
        a, b = rng.gamma(2, 100, rng.integers(1, 60)), rng.gamma(3, 80, rng.integers(1, 60))
        assert wasserstein_1d(a, b) == pytest.approx(scipy_stats.wasserstein_distance(a, b), rel=1e-12)
    assert wasserstein_1d([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert math.isnan(wasserstein_1d([], [1.0]))


def test_event_sim_is_one_for_identical_and_exp_minus_one_for_doubled_durations():
    st = EventStats(np.array([100.0, 200, 300]), np.array([2.0, 4, 6]), np.array([30.0, 120]), 1.0)
    assert compare_events(st, st).event_sim == 1.0
    doubled = EventStats(2 * st.fixation_ms, st.shift_deg, st.turn_deg, 1.0)
    cmp = compare_events(doubled, st)
    assert cmp.similarities["fixation_ms"] == pytest.approx(math.exp(-1.0))  # W1 = mean gt duration
    assert cmp.event_sim == pytest.approx((math.exp(-1.0) + 3) / 4)
    nothing = EventStats(np.zeros(0), np.zeros(0), np.zeros(0), 1.0)
    # no fixations and no shifts score 0; a shift rate of 0 against 3/min is off by one gt scale
    assert compare_events(nothing, st).event_sim == pytest.approx(math.exp(-1.0) / 4)
    assert math.isnan(compare_events(nothing, nothing).event_sim)


def test_event_sim_tells_behaviours_apart():
    gt = synthetic_gaze(1, seconds=60)
    same = synthetic_gaze(2, seconds=60)
    short = synthetic_gaze(3, seconds=60, fix_ms=140.0, amp_deg=2.0)
    assert event_sim(same, gt, 25.0) > 0.85
    assert event_sim(short, gt, 25.0) < event_sim(same, gt, 25.0) - 0.15


def test_noise_moves_event_sim_little_where_fixratio_collapses():
    """0.23° of white noise on both sides: FixRatio (Table IV I-DT) moves > 0.2, event_sim ≤ 0.05.

    Both tracks carry 0.12° of tracker-like noise to begin with; the prediction fixates
    shorter (200 vs 280 ms) with smaller shifts (median 3.5° vs 5°), so event_sim is well
    below 1 and has room to move either way.
    """
    rng = np.random.default_rng(7)
    gts = [synthetic_gaze(s, noise_deg=0.12) for s in (11, 12)]
    preds = [synthetic_gaze(s, fix_ms=200.0, amp_deg=3.5, noise_deg=0.12) for s in (21, 22)]

    def scores(noise):
        pred_stats, gt_stats, fix = [], [], {"gt": [0, 0], "pred": [0, 0]}
        for p, g in zip(preds, gts):
            p = p + rng.normal(0, noise, p.shape)
            g = g + rng.normal(0, noise, g.shape)
            pe, ge = compare_tracks(p, g, 25.0)
            pred_stats.append(EventStats.from_events(pe))
            gt_stats.append(EventStats.from_events(ge))
            for key, xy in (("gt", g), ("pred", p)):
                fix[key][0] += fixation_mask(xy[:, 0], xy[:, 1], 1.0, 3).sum()
                fix[key][1] += len(xy)
        sim = compare_events(EventStats.pooled(pred_stats), EventStats.pooled(gt_stats)).event_sim
        return sim, {k: n / d for k, (n, d) in fix.items()}

    sim0, fr0 = scores(0.0)
    sim1, fr1 = scores(0.23)
    assert 0.6 < sim0 < 0.95
    assert fr0["gt"] - fr1["gt"] > 0.2 and fr0["pred"] - fr1["pred"] > 0.2
    assert abs(sim1 - sim0) <= 0.05, (sim0, sim1)


def test_shared_threshold_segments_both_tracks_alike(rng):
    clean = synthetic_gaze(5, seconds=30)
    noisy = clean + rng.normal(0, 0.3, clean.shape)
    pe, ge = compare_tracks(clean, noisy, 25.0)
    np.testing.assert_array_equal(pe.threshold, ge.threshold)
    assert (pe.threshold > adaptive_threshold(clean, 25.0)).all()


def test_fixation_table_stats_keeps_segments_apart_and_counts_onset_intervals():
    from stygaze.eval.events import fixation_table_stats

    # two SPEAK segments of one participant and a LISTEN segment between them
    table = {
        "participant": np.array([1, 1, 1, 1, 1, 1]),
        "segment": np.array([0, 0, 0, 0, 1, 1]),
        "label": np.array(["SPEAK", "SPEAK", "LISTEN", "LISTEN", "SPEAK", "SPEAK"]),
        "fix_idx": np.array([0, 1, 0, 1, 0, 1]),
        "duration_ms": np.array([200.0, 300.0, 100.0, 100.0, 150.0, 250.0]),
        "onset_interval_ms": np.array([0.0, 400.0, 0.0, 500.0, 0.0, 600.0]),
        "center_x_deg": np.array([0.0, 3.0, 50.0, 50.0, 10.0, 10.0]),
        "center_y_deg": np.array([0.0, 4.0, 0.0, 1.0, 0.0, 8.0]),
    }
    st = fixation_table_stats(table, "SPEAK")
    np.testing.assert_allclose(st.fixation_ms, [200, 300, 150, 250])
    np.testing.assert_allclose(np.sort(st.shift_deg), [5.0, 8.0])  # never 3,4 -> 10,0 across segments
    assert st.minutes == (400.0 + 600.0) / 60000.0
    assert fixation_table_stats(table).num_fixations == 6
    table["fix_idx"] = np.array([0, 2, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="time order"):
        fixation_table_stats(table)
