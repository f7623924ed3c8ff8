"""Style error hook with simple embedding functions."""

import numpy as np
import pytest

from stygaze.eval import style_error
from stygaze.eval.style import motion_windows


def mean_embed(windows):  # (N, W, 7) -> (N, 7)
    return windows.mean(axis=1)


def test_identical_motion_has_zero_style_error(rng):
    x = rng.normal(1.0, 1.0, (250, 7)).astype(np.float32)
    assert style_error(mean_embed, x, x) == pytest.approx(0.0, abs=1e-6)


def test_opposite_style_has_error_two():
    x = np.ones((200, 7), np.float32)
    assert style_error(mean_embed, -x, x) == pytest.approx(2.0)


def test_orthogonal_style_has_error_one():
    a = np.zeros((200, 7), np.float32)
    b = np.zeros((200, 7), np.float32)
    a[:, 0], b[:, 1] = 1.0, 1.0
    assert style_error(mean_embed, a, b) == pytest.approx(1.0)


def test_windows_are_averaged():
    gt = np.ones((200, 7), np.float32)
    pred = gt.copy()
    pred[100:] *= -1  # second window opposite: (0 + 2) / 2
    assert style_error(mean_embed, pred, gt, window=100) == pytest.approx(1.0)


def test_window_layout():
    x = np.arange(250)[:, None].repeat(7, 1)
    assert motion_windows(x, 100).shape == (2, 100, 7)
    assert motion_windows(x, 100, hop=50).shape == (4, 100, 7)
    assert motion_windows(x[:60], 100).shape == (1, 60, 7)  # short clip: one window


def test_nan_windows_are_skipped():
    gt = np.ones((200, 7), np.float32)
    pred = -gt.copy()
    pred[150] = np.nan  # second window dropped
    gt[:100] = -1  # first window identical -> 0
    assert style_error(mean_embed, pred, gt) == pytest.approx(0.0)


def test_bad_embed_output_raises():
    x = np.ones((200, 7), np.float32)
    with pytest.raises(ValueError, match="embed_fn"):
        style_error(lambda w: w.mean(axis=(1, 2)), x, x)
