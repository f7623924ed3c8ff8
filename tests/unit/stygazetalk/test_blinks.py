"""The blink stage: rates, gaze-evoked and pause blinks, the lid profile, causal and seeded."""

import numpy as np
import pytest

from stygaze.stygazetalk.blinks import BlinkConfig, BlinkStage, lid_profile


def onsets_per_min(frames, n):
    return frames.onsets.sum() / (n / 25 / 60)


def test_spontaneous_rates_follow_the_speaking_state():
    n = 25 * 1200  # 20 min each
    speak = BlinkStage(seed=1).process(n, np.ones(n, bool))
    quiet = BlinkStage(seed=1).process(n, np.zeros(n, bool))
    c = BlinkConfig()
    assert onsets_per_min(speak, n) == pytest.approx(c.rate_speaking_per_min, rel=0.15)
    assert onsets_per_min(quiet, n) == pytest.approx(c.rate_pause_per_min, rel=0.15)
    gaps = np.diff(np.flatnonzero(speak.onsets)) / 25
    assert gaps.min() >= c.refractory_s - 0.04 - 1e-9


def test_large_gaze_shifts_evoke_blinks_small_ones_do_not():
    n = 25 * 600
    amp = np.zeros(n, np.float32)
    amp[::50] = 30.0  # a 30° shift every 2 s
    big = BlinkStage(BlinkConfig(rate_speaking_per_min=0.0), seed=2).process(n, None, amp, np.zeros(n))
    assert big.onsets[::50].mean() > 0.7  # ≈ 0.97 · (30 − 10) / 23, minus the refractory period
    assert not big.onsets[np.setdiff1d(np.arange(n), np.arange(0, n, 50))].any()
    small = BlinkStage(BlinkConfig(rate_speaking_per_min=0.0), seed=2).process(n, None, np.where(amp > 0, 5.0, 0.0), np.zeros(n))
    assert not small.onsets.any()
    c = BlinkConfig()
    assert c.evoked_prob(5.0) == 0 and c.evoked_prob(33.0) == pytest.approx(0.97) and c.evoked_prob(50.0) == pytest.approx(0.97)


def test_blinks_cluster_at_the_ends_of_utterances():
    n = 25 * 1200
    speaking = (np.arange(n) % 100) < 70  # 2.8 s speech, 1.2 s pause
    b = BlinkStage(seed=3).process(n, speaking)
    ends = np.flatnonzero(~speaking[1:] & speaking[:-1]) + 1
    at_end = np.mean([b.onsets[i : i + 2].any() for i in ends])
    mid = np.mean([b.onsets[i : i + 2].any() for i in ends - 35])  # 1.4 s before the end
    assert at_end > mid + 0.1


def test_lid_profile_closes_fast_and_opens_slowly():
    t = np.arange(0, 0.5, 0.0005)
    v = lid_profile(t, close_s=0.07, hold_s=0.02, open_s=0.15)
    assert v.max() == pytest.approx(1.0) and v[0] == 0 and v[-1] == 0
    top = np.flatnonzero(v >= 0.999)
    rise = t[top[0]] - t[np.flatnonzero(v > 0.001)[0]]
    fall = t[np.flatnonzero(v > 0.001)[-1]] - t[top[-1]]
    assert fall > 1.8 * rise  # the up phase is about twice as slow as the down phase
    c = BlinkConfig()
    total = (sum(c.close_s) + sum(c.hold_s) + sum(c.open_s)) / 2
    assert 0.1 <= c.close_s[0] + c.hold_s[0] + c.open_s[0] and c.close_s[1] + c.hold_s[1] + c.open_s[1] <= 0.31
    assert 0.15 < total < 0.3


def test_frames_show_full_blinks_and_partial_ones():
    n = 25 * 600
    b = BlinkStage(seed=4).process(n)
    assert 0 <= b.blink.min() and b.blink.max() <= 1
    starts = np.flatnonzero(b.onsets)
    peaks = np.array([b.blink[i : i + 8].max() for i in starts])
    assert np.mean(peaks >= 0.5) > 0.8  # most blinks close the eye on at least one frame
    assert np.mean((peaks > 0.05) & (peaks < 0.8)) > 0.02  # some are partial
    assert (b.blink[b.blink > 0].size / n) < 0.15  # the eyes are open most of the time


def test_chunks_equal_one_call_and_seeds_matter():
    n = 1000
    sp = (np.arange(n) % 90) < 60
    amp = np.where(np.arange(n) % 37 == 0, 20.0, 0.0).astype(np.float32)
    lead = np.full(n, 0.01, np.float32)
    whole = BlinkStage(seed=5).process(n, sp, amp, lead)
    st = BlinkStage(seed=5)
    parts = [st.process(b - a, sp[a:b], amp[a:b], lead[a:b]) for a, b in ((0, 1), (1, 333), (333, 333), (333, 1000))]
    assert np.array_equal(np.concatenate([p.blink for p in parts]), whole.blink)
    assert not np.array_equal(BlinkStage(seed=6).process(n, sp, amp, lead).blink, whole.blink)


def test_bad_config():
    with pytest.raises(ValueError, match="evoked_max_prob"):
        BlinkStage(BlinkConfig(evoked_max_prob=1.5))
    with pytest.raises(ValueError, match="open_s"):
        BlinkStage(BlinkConfig(open_s=(0.2, 0.1)))
    with pytest.raises(ValueError, match="one value per frame"):
        BlinkStage().process(3, np.ones(2, bool))
