"""MAE, Vel, MEE on channel groups: golden values derived by hand."""

import numpy as np
import pytest

from stygaze.eval import ALL, GAZE, HEAD, mae, motion_energy_error, vel_error
from stygaze.eval.frame import motion_energy


def test_constant_offset_mae_by_group():
    gt = np.zeros((10, 7))
    pred = gt.copy()
    pred[:, list(HEAD)] = 2.0  # head off by 2 deg, gaze exact
    assert mae(pred, gt, HEAD) == 2.0
    assert mae(pred, gt, GAZE) == 0.0
    assert mae(pred, gt, ALL) == pytest.approx(6 / 7)
    assert mae(pred, gt) == pytest.approx(6 / 7)


def test_constant_offset_has_no_velocity_or_energy_error():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(20, 7))
    pred = gt + 3.0
    assert vel_error(pred, gt) == pytest.approx(0.0, abs=1e-12)
    assert motion_energy_error(pred, gt) == pytest.approx(0.0, abs=1e-12)


def test_ramp_against_static():
    t = np.arange(10, dtype=float)
    gt = np.zeros((10, 7))
    pred = np.zeros((10, 7))
    pred[:, 3] = pred[:, 4] = t  # two gaze channels move 1 deg/frame
    assert vel_error(pred, gt, GAZE) == pytest.approx(0.5)  # |1| on 2 of 4 channels
    assert vel_error(pred, gt, HEAD) == 0.0
    # E = mean_t ||dx||^2 = 1 + 1 = 2 deg^2/frame^2
    assert motion_energy(pred, GAZE) == pytest.approx(2.0)
    assert motion_energy_error(pred, gt, GAZE) == pytest.approx(2.0)
    assert motion_energy_error(gt, pred, ALL) == pytest.approx(2.0)  # symmetric
    assert mae(pred, gt, (3,)) == pytest.approx(4.5)  # mean of 0..9


def test_nan_entries_are_left_out():
    gt = np.zeros((4, 1))
    pred = np.array([[1.0], [np.nan], [3.0], [5.0]])
    assert mae(pred, gt) == pytest.approx(3.0)  # (1 + 3 + 5) / 3
    # steps: nan, nan, 2 -> only the last step counts
    assert vel_error(pred, gt) == pytest.approx(2.0)
    assert motion_energy(pred) == pytest.approx(4.0)


def test_all_nan_gives_nan():
    assert np.isnan(mae(np.full((3, 2), np.nan), np.zeros((3, 2))))


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="same shape"):
        mae(np.zeros((5, 7)), np.zeros((6, 7)))
