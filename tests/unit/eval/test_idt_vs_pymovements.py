"""Differential tests of our I-DT against ``pymovements.events.detection.idt`` (the peer).

The relation is documented in ``stygaze/eval/idt.py``. pymovements reports inclusive
offsets; ours are exclusive. In short: same onsets; ``pm_offset == our_offset`` (it keeps
the breaking sample) except for a fixation that runs to the end of the data
(``pm_offset == our_offset - 1``); pymovements resumes after the breaking sample, so after
back-to-back fixations its next onset is later (one later on a clean step); NaN is ignored by its dispersion.
"""

import warnings

import numpy as np
import pytest

pm_idt = pytest.importorskip("pymovements.events.detection.idt").idt

from stygaze.eval.idt import idt_fixations  # noqa: E402


def pm_events(x, y, m=3, thr=1.0):
    """pymovements' fixations as (K, 2) int64 [onset, offset] (offset inclusive)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # its nanmax on all-NaN windows
        frame = pm_idt(np.stack([x, y], axis=1), minimum_duration=m, dispersion_threshold=thr).frame
    return np.stack([frame["onset"].to_numpy(), frame["offset"].to_numpy()], axis=1).astype(np.int64).reshape(-1, 2)


def expected_pm_from_ours(ours, n):
    """The documented relation for NaN-free data without back-to-back fixations."""
    out = ours.copy()
    out[:, 1] = np.where(ours[:, 1] == n, n - 1, ours[:, 1])
    return out


def back_to_back(ours):
    """Index of the first fixation whose breaking sample starts the next fixation (or len)."""
    hits = np.flatnonzero(ours[1:, 0] == ours[:-1, 1])
    return int(hits[0]) if hits.size else len(ours)


def fixation_saccade_signal(rng, n, *, saccade_len=(2, 5), noise=0.08):
    """Fixations (noise well under the threshold) joined by saccades sampled in flight."""
    x, y = np.empty(n), np.empty(n)
    i, pos = 0, np.zeros(2)
    while i < n:
        fix = int(rng.integers(8, 40))
        x[i : i + fix] = pos[0] + rng.normal(0, noise, min(fix, n - i))
        y[i : i + fix] = pos[1] + rng.normal(0, noise, min(fix, n - i))
        i += fix
        target = pos + rng.choice([-1, 1], 2) * rng.uniform(4, 15, 2)
        k = int(rng.integers(*saccade_len))
        path = pos + np.outer(np.arange(1, k + 1) / (k + 1), target - pos)
        x[i : i + k], y[i : i + k] = path[: n - i, 0], path[: n - i, 1]
        i += k
        pos = target
    return x, y


def test_step_with_in_flight_sample_same_onsets_offset_keeps_breaking_sample():
    x = np.r_[np.zeros(50), 5.0, np.full(49, 10.0)]
    y = np.zeros(100)
    ours = idt_fixations(x, y)
    np.testing.assert_array_equal(ours, [[0, 50], [51, 100]])
    # pymovements: [0, 50] includes the breaking sample 50; the last fixation ends at T-1
    np.testing.assert_array_equal(pm_events(x, y), [[0, 50], [51, 99]])
    np.testing.assert_array_equal(pm_events(x, y), expected_pm_from_ours(ours, 100))


def test_docstring_example_of_pymovements_agrees():
    from pymovements.synthetic import step_function

    pos = step_function(length=200, steps=[2, 5, 9, 111, 150],
                        values=[(1.0, 2.0), (2.0, 3.0), (3.0, 4.0), (1.0, 1.0), (2.0, 2.0)], start_value=(0.0, 0.0))
    for m, thr in ((100, 1.0), (50, 0.5)):
        ours = idt_fixations(pos[:, 0], pos[:, 1], thr, m)
        np.testing.assert_array_equal(pm_events(pos[:, 0], pos[:, 1], m, thr), expected_pm_from_ours(ours, 200))


def test_instantaneous_step_back_to_back_pm_resumes_one_sample_later():
    x = np.r_[np.zeros(50), np.full(50, 10.0)]
    y = np.zeros(100)
    ours = idt_fixations(x, y)
    np.testing.assert_array_equal(ours, [[0, 50], [50, 100]])  # sample 50 breaks and starts the next
    np.testing.assert_array_equal(pm_events(x, y), [[0, 50], [51, 99]])  # pm starts after sample 50


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("m", [3, 5], ids=["min3", "min5"])
def test_noisy_fixations_with_sampled_saccades_match_relation_exactly(seed, m):
    rng = np.random.default_rng(seed)
    n = 1500
    x, y = fixation_saccade_signal(rng, n)
    ours = idt_fixations(x, y, 1.0, m)
    assert len(ours) > 20
    assert back_to_back(ours) == len(ours), "test signal should have no back-to-back fixations"
    np.testing.assert_array_equal(pm_events(x, y, m), expected_pm_from_ours(ours, n))


@pytest.mark.parametrize("seed", range(3))
def test_white_noise_agrees_up_to_first_back_to_back_fixation(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    x, y = rng.normal(0, 0.3, n), rng.normal(0, 0.3, n)
    ours = idt_fixations(x, y)
    pm = pm_events(x, y)
    k = back_to_back(ours)
    assert k < len(ours) - 1  # white noise does produce back-to-back fixations
    np.testing.assert_array_equal(pm[: k + 1], expected_pm_from_ours(ours[: k + 1], n))
    # ours starts the next fixation at the breaking sample; pm only searches after it
    assert pm[k + 1, 0] > ours[k + 1, 0] == ours[k, 1]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", ["white_noise", "fixation_saccade", "random_walk"])
def test_pm_variant_reproduces_pymovements_exactly(seed, kind):
    """Our kernel with pymovements' three choices (keep breaking sample, resume after it,
    grow while D < threshold) gives pymovements' events on any NaN-free signal: the kernel's
    window logic is the same algorithm."""
    rng = np.random.default_rng(seed)
    n = 1500
    if kind == "white_noise":
        x, y = rng.normal(0, 0.3, n), rng.normal(0, 0.3, n)
    elif kind == "fixation_saccade":
        x, y = fixation_saccade_signal(rng, n, saccade_len=(1, 3))
    else:
        x, y = np.cumsum(rng.normal(0, 0.2, n)), np.cumsum(rng.normal(0, 0.2, n))
    variant = idt_fixations(x, y, _pm_variant=True)
    variant[:, 1] -= 1  # to inclusive offsets
    np.testing.assert_array_equal(variant, pm_events(x, y))


def test_tie_at_threshold_pm_does_not_grow():
    x = 0.5 * np.arange(9)  # every 3-sample window has D == 1.0 exactly
    ours = idt_fixations(x, np.zeros(9))
    np.testing.assert_array_equal(ours, [[0, 3], [3, 6], [6, 9]])
    # pm accepts D <= thr but only grows while D < thr: the same 3-sample windows (inclusive ends)
    np.testing.assert_array_equal(pm_events(x, np.zeros(9)), [[0, 2], [3, 5], [6, 8]])
    x = np.r_[np.zeros(5), np.full(5, 1.0)]  # growing reaches D == 1.0 at sample 5
    np.testing.assert_array_equal(idt_fixations(x, np.zeros(10)), [[0, 10]])  # ours keeps growing
    np.testing.assert_array_equal(pm_events(x, np.zeros(10)), [[0, 5], [6, 9]])  # pm stops at the tie


def test_nan_gap_without_movement_pm_ends_at_last_valid_sample():
    x = np.zeros(100)
    x[40:45] = np.nan
    y = np.zeros(100)
    np.testing.assert_array_equal(idt_fixations(x, y), [[0, 40], [45, 100]])
    # pm grows across the gap (nanmax ignores NaN), then splits it out: offset 39 = ours - 1.
    # Inside such a window pm always drops the window's last sample, even at the end of the
    # data, so the last offset is 98 (T - 2), not 99.
    np.testing.assert_array_equal(pm_events(x, y), [[0, 39], [45, 98]])


def test_nan_gap_with_movement_pm_breaks_after_the_gap_and_resumes_later():
    x = np.zeros(100)
    x[40:45] = np.nan
    x[45:] = 10.0
    y = np.zeros(100)
    np.testing.assert_array_equal(idt_fixations(x, y), [[0, 40], [45, 100]])
    # pm: the first valid sample after the gap (45) breaks the window; next search from 46
    np.testing.assert_array_equal(pm_events(x, y), [[0, 39], [46, 99]])


def test_nan_ends_a_fixation_near_the_end():
    x = np.zeros(100)
    x[98] = np.nan
    y = np.zeros(100)
    np.testing.assert_array_equal(idt_fixations(x, y), [[0, 98]])
    np.testing.assert_array_equal(pm_events(x, y), [[0, 97]])  # pm_offset = ours - 1 at a NaN end
