"""Speed and its minima: the movement ends the beat alignment and BAS share."""

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema

from stygaze.features.kinematics import frame_speed, speed_minima


def test_speed_minima_are_scipys_argrelextrema(rng):
    for k in range(200):
        x = np.cumsum(rng.normal(size=(int(rng.integers(2, 300)), 3)), axis=0)
        if k % 4 == 0:
            x = np.round(x)  # plateaus: equal neighbours are not minima
        speed = frame_speed(x)
        for sigma in (0.0, 5.0):
            smoothed = gaussian_filter1d(speed, sigma) if sigma else speed
            expected = argrelextrema(smoothed, np.less)[0] if len(speed) >= 3 else np.zeros(0, np.int64)
            assert np.array_equal(speed_minima(x, sigma), expected)


def test_a_nod_ends_where_it_turns():
    t = np.arange(200, dtype=np.float64)
    pitch = 3.0 * np.sin(2 * np.pi * t / 50.0)  # turning points at t = 12.5 + 25 k
    ends = speed_minima(pitch[:, None], sigma=2.0) + 0.5
    assert np.allclose(ends, 12.5 + 25 * np.arange(len(ends)) + (ends[0] - 12.5), atol=1.0)
    assert abs(ends[0] - 12.5) <= 1.0 and len(ends) >= 6


def test_frame_speed_fills_nan_steps():
    x = np.arange(10, dtype=np.float64)[:, None] * np.ones((1, 2))
    x[4] = np.nan
    assert np.allclose(frame_speed(x), np.sqrt(2))
    assert frame_speed(np.full((5, 2), np.nan)).size == 0
