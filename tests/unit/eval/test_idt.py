"""I-DT golden cases derived by hand from the algorithm in stygaze.eval.idt (Salvucci & Goldberg 2000), plus a check against a plain-Python
transcription of the same algorithm on random data."""

import numpy as np
import pytest

from stygaze.eval.idt import events_to_mask, fixation_mask, idt_fixations, min_samples_for


def reference_idt(x, y, thr, m):
    """The I-DT of stygaze.eval.idt, written as plainly as possible (slow, for comparison only)."""
    n, s, out = len(x), 0, []

    def disp(a, b):
        wx, wy = x[a:b], y[a:b]
        if np.isnan(wx).any() or np.isnan(wy).any():
            return np.inf
        return (wx.max() - wx.min()) + (wy.max() - wy.min())

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


def test_constant_gaze_is_one_fixation():
    x = np.zeros(50)
    np.testing.assert_array_equal(idt_fixations(x, x), [[0, 50]])


def test_clean_step_gives_two_fixations_split_at_the_step_sample():
    x = np.r_[np.zeros(30), np.full(30, 10.0)]
    # sample 30 breaks the first window and starts the next one
    np.testing.assert_array_equal(idt_fixations(x, np.zeros(60)), [[0, 30], [30, 60]])


def test_step_with_in_flight_samples_leaves_them_out():
    x = np.r_[np.zeros(20), [5.0, 10.0, 15.0], np.full(20, 20.0)]
    # windows starting at 20, 21, 22 all span > 1 deg; the next fixation starts at 23
    np.testing.assert_array_equal(idt_fixations(x, np.zeros(43)), [[0, 20], [23, 43]])


def test_slow_ramp_is_cut_into_four_sample_fixations():
    x = 0.3 * np.arange(20)  # D(3 samples) = 0.6, D(4) = 0.9, D(5) = 1.2 > 1
    np.testing.assert_array_equal(idt_fixations(x, np.zeros(20)), [[0, 4], [4, 8], [8, 12], [12, 16], [16, 20]])


def test_ramp_at_threshold_counts_ties_as_fixation():
    x = 0.5 * np.arange(9)  # D(3 samples) = 1.0 exactly: D <= threshold qualifies, D(4) = 1.5 breaks
    np.testing.assert_array_equal(idt_fixations(x, np.zeros(9)), [[0, 3], [3, 6], [6, 9]])


def test_fast_ramp_has_no_fixation():
    x = 0.6 * np.arange(30)
    assert idt_fixations(x, np.zeros(30)).shape == (0, 2)


def test_dispersion_sums_both_axes():
    # x and y each move 0.6 deg: each alone is under 1 deg, the sum (1.2) is not
    x = np.r_[np.zeros(10), np.full(10, 0.6)]
    assert idt_fixations(x, np.zeros(20)).tolist() == [[0, 20]]
    assert idt_fixations(x, x).tolist() == [[0, 10], [10, 20]]


def test_nan_gap_splits_a_fixation_and_is_never_inside_one():
    x = np.zeros(100)
    x[40:45] = np.nan
    ev = idt_fixations(x, np.zeros(100))
    np.testing.assert_array_equal(ev, [[0, 40], [45, 100]])
    mask = fixation_mask(x, np.zeros(100))
    assert not mask[40:45].any() and mask[:40].all() and mask[45:].all()


def test_nan_in_y_only_also_breaks():
    y = np.zeros(30)
    y[1] = np.nan
    np.testing.assert_array_equal(idt_fixations(np.zeros(30), y), [[2, 30]])


def test_all_nan_has_no_fixation():
    x = np.full(20, np.nan)
    assert idt_fixations(x, x).shape == (0, 2)


def test_plateau_shorter_than_min_samples_is_not_a_fixation():
    x = np.r_[0.0, 10.0, 10.0, 20.0, 30.0]  # two samples at 10, min 3
    assert idt_fixations(x, np.zeros(5), min_samples=3).shape == (0, 2)
    assert idt_fixations(x, np.zeros(5), min_samples=2).tolist() == [[1, 3]]


def test_data_shorter_than_min_samples_returns_empty_int64():
    ev = idt_fixations(np.zeros(2), np.zeros(2), min_samples=3)
    assert ev.shape == (0, 2) and ev.dtype == np.int64


def test_threshold_controls_the_split():
    x = np.r_[np.zeros(10), np.full(10, 2.0)]
    assert len(idt_fixations(x, np.zeros(20), dispersion_deg=1.0)) == 2
    assert idt_fixations(x, np.zeros(20), dispersion_deg=2.5).tolist() == [[0, 20]]


@pytest.mark.parametrize(
    "fps, seconds, expected",
    [(25, 0.1, 3), (30, 0.1, 3), (60, 0.1, 6), (1000, 0.1, 100), (25, 0.2, 5), (10, 0.05, 1)],
    ids=["25fps_is_3", "30fps_float_product_stays_3", "60fps", "1kHz", "200ms", "under_one_sample_is_1"],
)
def test_min_samples_for(fps, seconds, expected):
    assert min_samples_for(fps, seconds) == expected


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.zeros(5), np.zeros(4)), "equal length"),
        ((np.zeros((5, 2)), np.zeros((5, 2))), "1-D"),
        ((np.r_[0.0, np.inf, 0.0], np.zeros(3)), "infinite"),
    ],
    ids=["length_mismatch", "not_1d", "infinite"],
)
def test_bad_input_raises(args, match):
    with pytest.raises(ValueError, match=match):
        idt_fixations(*args)


def test_bad_parameters_raise():
    with pytest.raises(ValueError):
        idt_fixations(np.zeros(5), np.zeros(5), dispersion_deg=0)
    with pytest.raises(ValueError):
        idt_fixations(np.zeros(5), np.zeros(5), min_samples=0)


def test_events_to_mask_half_open():
    mask = events_to_mask(np.array([[1, 3], [5, 6]]), 7)
    assert mask.tolist() == [False, True, True, False, False, True, False]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_kernel_matches_plain_reference(seed):
    rng = np.random.default_rng(seed)
    n = 1500
    # random walk with jumps and NaN gaps: all branches of the algorithm
    x = np.cumsum(rng.normal(0, 0.25, n)) + 8 * (rng.random(n) < 0.03).cumsum()
    y = np.cumsum(rng.normal(0, 0.25, n))
    x[rng.random(n) < 0.01] = np.nan
    for m, thr in ((3, 1.0), (5, 1.5), (2, 0.5)):
        np.testing.assert_array_equal(idt_fixations(x, y, thr, m), reference_idt(x, y, thr, m))
