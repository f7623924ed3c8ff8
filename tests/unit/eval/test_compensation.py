"""Eye–head measures on hand-built traces: VOR gain, head share per amplitude, latency.

Traces are yaw and pitch only without roll; with yaw-only gaze shifts world gaze is exactly
head yaw + eye yaw, so every expected value can be worked out by hand.
"""

import math

import numpy as np
import pytest

from stygaze.eval.compensation import CompensationStats, compensation_stats, vor_gain
from stygaze.eval.patterns import comp_score
from stygaze.motion import Motion

FPS = 25.0


def motion(head_pitch, head_yaw, eye_pitch, eye_yaw):
    T = len(head_yaw)
    d = np.zeros((T, 7), np.float32)
    d[:, 0], d[:, 1] = head_pitch, head_yaw
    d[:, 3] = d[:, 5] = eye_pitch
    d[:, 4] = d[:, 6] = eye_yaw
    return Motion(d, FPS)


def targets(rng, T, step_deg=6.0):
    """(T, 2) piecewise-constant world-gaze targets (yaw, pitch), new target every 8–19 frames."""
    out, cur, i = np.zeros((T, 2)), np.zeros(2), 0
    while i < T:
        d = int(rng.integers(8, 20))
        out[i : i + d] = cur
        i += d
        cur = cur + rng.normal(0, step_deg, 2)
    return out


def test_perfect_vor_vs_frozen_eyes_same_compscore():
    """The eyes cancel the head (world gaze on target) vs the eyes frozen in the head."""
    rng = np.random.default_rng(0)
    T = 500
    t = np.arange(T) / FPS
    head_yaw = 8 * np.sin(2 * np.pi * 0.4 * t)
    head_pitch = 3 * np.sin(2 * np.pi * 0.25 * t + 1)
    tgt = targets(rng, T)
    vor = motion(head_pitch, head_yaw, tgt[:, 1] - head_pitch, tgt[:, 0] - head_yaw)
    frozen = motion(head_pitch, head_yaw, np.full(T, 2.0), np.full(T, -3.0))
    g_vor, g_frozen = vor_gain(vor), vor_gain(frozen)
    assert g_vor == pytest.approx(-1.0, abs=0.05)
    assert g_frozen == pytest.approx(0.0, abs=0.05)
    # CompScore sees only the head at 25 fps: identical for both
    assert comp_score(vor) == comp_score(frozen)


def test_half_vor_gives_half_gain():
    T = 300
    t = np.arange(T) / FPS
    head_yaw = 10 * np.sin(2 * np.pi * 0.3 * t)
    m = motion(np.zeros(T), head_yaw, np.zeros(T), -0.5 * head_yaw)
    assert vor_gain(m) == pytest.approx(-0.5, abs=1e-6)


def test_still_head_leaves_the_vor_gain_undefined():
    T = 200
    rng = np.random.default_rng(1)
    tgt = targets(rng, T)
    m = motion(np.zeros(T), np.zeros(T), tgt[:, 1], tgt[:, 0])
    st = compensation_stats(m)
    assert st.vor_steps > 0 and st.head_rms_deg_s == 0.0
    assert math.isnan(st.vor_gain)


def shifts_trace(head_lags=(1, 2, 3), weights=(0.25, 0.5, 0.25), small=5.0, large=30.0, large_share=0.6):
    """Alternating yaw gaze shifts: small ones eye-only, large ones with the head carrying
    ``large_share`` of them, the head moving over the frame steps ``head_lags`` after the
    gaze jump with ``weights``; the eyes keep world gaze on target (VOR)."""
    seg = 15
    gaze, head = [], []
    g = h = 0.0
    sign = 1.0
    for k in range(16):
        amp = large if k % 2 else small
        g_new = g + sign * amp
        h_new = h + (sign * amp * large_share if amp == large else 0.0)
        gaze += [g] * 1 + [g_new] * (seg - 1)  # gaze jumps on the segment's first frame step
        # head: the increment of frame step ``lag`` after the gaze's step lands on frame lag + 1
        hs = [h] * seg
        cum = h
        for lag, w in zip(head_lags, weights):
            cum += w * (h_new - h)
            for i in range(lag + 1, seg):
                hs[i] = cum
        head += hs
        g, h = g_new, h_new
        sign = -sign if k % 4 == 3 else sign
    gaze, head = np.asarray(gaze), np.asarray(head)
    T = len(gaze)
    return motion(np.zeros(T), head, np.zeros(T), gaze - head)


def test_head_share_per_amplitude_bin():
    st = compensation_stats(shifts_trace())
    bins = st.head_share_by_bin()
    share_small, n_small = bins["lt10"]
    share_large, n_large = bins["ge20"]
    assert n_small >= 6 and n_large >= 6 and bins["10to20"][1] == 0
    assert share_small == pytest.approx(0.0, abs=0.02)
    assert share_large == pytest.approx(0.6, abs=0.02)
    assert st.vor_gain == pytest.approx(-1.0, abs=0.05)  # the eyes counter-rotate while the head lands


def test_latency_is_the_lag_of_the_head_velocity_peak():
    st = compensation_stats(shifts_trace(head_lags=(1, 2, 3), weights=(0.25, 0.5, 0.25)))
    assert st.latency_ms == pytest.approx(80.0, abs=10.0)  # peak two frames (80 ms) after gaze
    later = compensation_stats(shifts_trace(head_lags=(3, 4, 5), weights=(0.25, 0.5, 0.25)))
    assert later.latency_ms == pytest.approx(160.0, abs=10.0)
    assert st.latency_corr > 0


def test_pooling_adds_the_sums():
    a = compensation_stats(shifts_trace())
    b = compensation_stats(shifts_trace(head_lags=(2, 3, 4)))
    p = CompensationStats.pooled([a, b])
    assert p.eh == pytest.approx(a.eh + b.eh) and p.vor_steps == a.vor_steps + b.vor_steps
    np.testing.assert_allclose(p.xcorr, a.xcorr + b.xcorr)
    assert len(p.shift_deg) == len(a.shift_deg) + len(b.shift_deg)
    s = p.summary()
    assert set(s) >= {"vor_gain", "latency_ms", "head_share_lt10", "head_share_10to20", "head_share_ge20"}


def test_resampling_detector_is_refused():
    with pytest.raises(ValueError, match="own rate"):
        compensation_stats(shifts_trace(), detector="conversation")
