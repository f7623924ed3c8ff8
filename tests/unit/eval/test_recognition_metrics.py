"""Frame/event F1 (CCDb-HG protocol), angular error and CCC."""

import numpy as np
import pytest

from stygaze.eval import angular_error_deg, ccc, event_f1, frame_f1
from stygaze.eval.recognition import drop_short_events, event_scores, label_events, smooth_labels


def test_frame_f1_hand_example():
    gt = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    # class 0: 2*1/(2+1+1) = 0.5; class 1: 4/5; class 2: 2/3
    assert frame_f1(pred, gt, average="macro") == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert frame_f1(pred, gt, average="micro") == pytest.approx(4 / 6)  # = accuracy over all classes
    assert frame_f1(pred, gt, labels=[1, 2]) == pytest.approx((0.8 + 2 / 3) / 2)
    assert frame_f1(gt, gt) == 1.0


def test_frame_f1_rejects_bad_average():
    with pytest.raises(ValueError):
        frame_f1([0, 1], [0, 1], average="weighted")


def test_label_events_are_half_open_runs():
    ev = label_events(np.array([0, 1, 1, 0, 2, 2, 2]))
    np.testing.assert_array_equal(ev, [[1, 3, 1], [4, 7, 2]])


def gesture(T, on, off, label=1):
    x = np.zeros(T, np.int64)
    x[on:off] = label
    return x


@pytest.mark.parametrize(
    "threshold, expected", [(0.1, 1.0), (0.25, 1.0), (0.5, 1.0), (0.51, 0.0)],
    ids=["t0.1", "t0.25", "t0.5", "just_above_overlap"],
)
def test_event_f1_overlap_threshold(threshold, expected):
    gt, pred = gesture(40, 10, 20), gesture(40, 15, 25)  # overlap F1 = 2*5/(10+10) = 0.5
    assert event_f1(pred, gt, threshold) == expected


def test_event_f1_needs_the_same_label():
    assert event_f1(gesture(40, 10, 20, 2), gesture(40, 10, 20, 1)) == 0.0


def test_event_precision_and_recall():
    gt = gesture(100, 10, 20) + gesture(100, 50, 60)
    pred = gesture(100, 12, 20) + gesture(100, 80, 90)  # one hit, one false alarm, one miss
    s = event_scores(pred, gt, 0.1)
    assert (s.precision, s.recall, s.f1) == (0.5, 0.5, 0.5)
    assert (s.num_pred, s.num_gt) == (2, 2)


def test_no_events_anywhere_is_nan():
    assert np.isnan(event_f1(np.zeros(10), np.zeros(10)))


def test_majority_smoothing_removes_blips():
    x = gesture(40, 10, 30)
    x[20] = 0  # a one-frame dropout inside the event
    x[3] = 1  # a one-frame false alarm
    np.testing.assert_array_equal(smooth_labels(x, 11), gesture(40, 10, 30))


def test_smoothing_clips_window_at_the_ends():
    x = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    assert smooth_labels(x, 11).tolist() == [0] * 8


def test_short_events_are_dropped_five_frames_or_less():
    x = gesture(40, 5, 10) + gesture(40, 20, 26)
    np.testing.assert_array_equal(drop_short_events(x, 5), gesture(40, 20, 26))


def test_event_f1_with_protocol_options():
    gt = gesture(60, 20, 40)
    pred = gesture(60, 20, 40)
    pred[30] = 0  # splits the event in two without smoothing
    pred[50:53] = 1  # 3-frame false alarm
    assert event_f1(pred, gt, 0.5) < 1.0
    assert event_f1(pred, gt, 0.5, smooth=11, drop_short=5) == 1.0


def test_angular_error():
    assert angular_error_deg(np.array([0, 0, 1.0]), np.array([1.0, 0, 0])) == pytest.approx(90.0)
    assert angular_error_deg(np.array([[0, 0, 2.0]]), np.array([[0, 0, 1.0]])) == pytest.approx(0.0)
    a = np.deg2rad(1e-4)
    tiny = angular_error_deg(np.array([0, np.sin(a), np.cos(a)]), np.array([0, 0, 1.0]))
    assert tiny == pytest.approx(1e-4, rel=1e-6)  # accurate for tiny angles
    per = angular_error_deg(np.array([[0, 0, 1.0], [0, 0, -1.0]]), np.array([[0, 0, 1.0]] * 2), reduction="none")
    np.testing.assert_allclose(per, [0.0, 180.0])
    both = angular_error_deg(np.array([[0, 0, 1.0], [np.nan, 0, 1]]), np.array([[1.0, 0, 0]] * 2))
    assert both == pytest.approx(90.0)  # NaN row left out


def test_ccc_values():
    x = np.array([-1.5, -0.5, 0.5, 1.5])
    assert ccc(x, x) == pytest.approx(1.0)
    assert ccc(-x, x) == pytest.approx(-1.0)  # zero mean: perfect negative concordance
    assert ccc(x + 10.0, x) == pytest.approx(2 * 1.25 / (2 * 1.25 + 100))  # bias is penalised
    y = np.array([-1.0, 1.0, -1.0, 1.0])  # var 1, mean 0
    # shifted copy: 2*1 / (1 + 1 + 1^2) = 2/3
    assert ccc(y + 1.0, y) == pytest.approx(2 / 3)
    assert np.isnan(ccc(np.ones(5), np.ones(5)))
    assert ccc(np.r_[x, np.nan], np.r_[x, 5.0]) == pytest.approx(1.0)


def test_pooled_event_f1_pools_counts_over_clips():
    from stygaze.eval.recognition import pooled_event_f1, pooled_event_scores

    a_pred, a_gt = np.array([0, 1, 1, 0, 0, 0]), np.array([0, 1, 1, 0, 0, 0])  # 1 pred, 1 gt, matched
    b_pred, b_gt = np.array([1, 0, 1, 0, 1, 0]), np.array([0, 0, 0, 0, 1, 0])  # 3 pred (1 hit), 1 gt (hit)
    # pooled: precision 2/4, recall 2/2 -> F1 2/3 (the mean of per-clip F1s would be (1 + 0.5) / 2)
    assert np.isclose(pooled_event_f1([a_pred, b_pred], [a_gt, b_gt]), 2 / 3)
    assert np.allclose(pooled_event_scores([a_pred, b_pred], [a_gt, b_gt]), (0.5, 1.0, 2 / 3))
    assert pooled_event_f1([np.zeros(5, int)], [np.zeros(5, int)]) == 0.0  # no events anywhere
    assert pooled_event_f1([np.zeros(5, int)], [np.array([0, 1, 0, 0, 0])]) == 0.0  # nothing found
