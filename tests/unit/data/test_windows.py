"""Where training windows start (stygaze.data.windows): validity, distributions, seeded draws."""

import numpy as np
import pytest

from stygaze.data import windows as W
from stygaze.errors import DataError


def _valid(T, bad=()):
    v = np.ones(T, bool)
    v[list(bad)] = False
    return v


def test_valid_frames_and_nan_free_starts():
    x = np.zeros((20, 7), np.float32)
    x[8, 3] = np.nan
    v = W.valid_frames(x)
    assert v.sum() == 19 and not v[8]
    assert set(W.nan_free_starts(v, 5)) == set(range(0, 4)) | set(range(9, 16))
    assert list(W.nan_free_starts(v, 5, hop=3)) == [0, 3, 9, 12, 15]
    assert len(W.nan_free_starts(v, 21)) == 0
    brute = [s for s in range(20 - 5 + 1) if v[s : s + 5].all()]
    assert list(W.nan_free_starts(v, 5)) == brute


def test_random_window_start_prefers_valid_windows_and_is_seeded():
    v = _valid(100, range(20, 80))  # only starts 0…10 and 80…90 give a valid window of 10
    starts = [W.random_window_start(v, 10, np.random.default_rng(s), tries=200) for s in range(20)]
    assert set(starts) <= set(range(0, 11)) | set(range(80, 91))
    assert W.random_window_start(v, 10, np.random.default_rng(3)) == W.random_window_start(v, 10, np.random.default_rng(3))
    hopeless = _valid(30, range(30))
    assert 0 <= W.random_window_start(hopeless, 10, np.random.default_rng(0)) <= 20  # the last draw is kept


def test_random_segment_starts_respect_past_context_and_start_prob():
    valid = [_valid(60, [20]), _valid(40)]
    out = W.random_segment_starts(valid, 300, np.random.default_rng(0), span=10, before=5, start_prob=0.0)
    assert len(out) == 300 and {i for i, _ in out} == {0, 1}
    for i, t in out:
        assert 0 <= t <= len(valid[i]) - 10 and valid[i][max(0, t - 5) : t + 10].all()
        assert not (i == 0 and max(0, t - 5) <= 20 < t + 10)  # the past context is checked too
    early = W.random_segment_starts(valid, 200, np.random.default_rng(1), span=10, before=5, start_prob=1.0)
    assert max(t for _, t in early) < 5  # every draw is a clip start
    assert out == W.random_segment_starts(valid, 300, np.random.default_rng(0), span=10, before=5)
    with pytest.raises(DataError, match="no valid frames"):
        W.random_segment_starts([_valid(30, range(30))], 1, np.random.default_rng(0), span=10, before=5)


def test_even_segment_starts_spread_over_sessions():
    valid = [_valid(100), _valid(50, [0])]
    out = W.even_segment_starts(valid, 6, span=10, before=2)
    assert out == [(0, 0), (0, 45), (0, 90), (1, 20), (1, 40)]  # (1, 0) touches the invalid frame 0
    assert W.even_segment_starts(valid, 2, span=10, before=2) == [(0, 0)]  # one start per session; (1, 0) is invalid


def test_sample_windows_uniform_over_valid_windows_or_evenly_spaced():
    valid = [_valid(20, [8]), _valid(12)]
    idx = W.sample_windows(valid, 5, 2000, np.random.default_rng(0))
    assert idx.shape == (2000, 2) and idx.dtype == np.int64
    assert all(valid[i][s : s + 5].all() for i, s in idx)
    share = (idx[:, 0] == 1).mean()  # session 1 holds 8 of the 19 valid windows
    assert abs(share - 8 / 19) < 0.05
    even = W.sample_windows(valid, 5, 4, None)
    assert even.tolist() == [[0, 0], [0, 11], [1, 1], [1, 7]]  # flat indices 0, 6, 12, 18 of the 19 windows
    assert len(W.sample_windows(valid, 5, 100, None)) == 19
    with pytest.raises(DataError, match="no NaN-free window of 30 frames"):
        W.sample_windows(valid, 30, 5, None)


def test_focused_starts_centre_a_share_on_the_focus_frames():
    rng = np.random.default_rng(0)
    starts = W.focused_starts(1000, np.array([500]), 4000, 40, 0.5, rng)
    assert starts.min() >= 0 and starts.max() <= 960
    near = (starts >= 500 - 20 - 10) & (starts <= 500 - 20 + 10)  # centred ± length // 4
    assert 0.45 < near.mean() < 0.6
    assert (W.focused_starts(1000, np.array([], np.int64), 100, 40, 1.0, np.random.default_rng(1)) <= 960).all()
    assert len(W.focused_starts(30, np.array([5]), 10, 40, 0.5, rng)) == 0
    assert W.centred_start(3, 10, 0, 50) == 0 and W.centred_start(100, 10, 2, 50) == 50 and W.centred_start(30, 10, -1, 50) == 24
