"""Style statistics matching: the head's amplitude and speed brought to a reference's."""

import numpy as np
import pytest

from stygaze.eval.realism import head_stats
from stygaze.stygazetalk.style_match import FLOOR, GAIN_LIMIT, HEAD_STATS, KNEE, MIN_FRAMES, SOFT_LIMIT, head_statistics, match_head


def _head(seconds: float = 20.0, seed: int = 0) -> np.ndarray:
    """Slow drift plus fast nods on every axis, degrees at 25 fps."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 25)) / 25.0
    slow = np.stack([np.sin(2 * np.pi * 0.08 * t + p) for p in rng.uniform(0, 6, 3)], axis=1) * [2.0, 3.0, 1.0]
    fast = np.stack([np.sin(2 * np.pi * 1.3 * t + p) for p in rng.uniform(0, 6, 3)], axis=1) * [0.8, 1.0, 0.5]
    return (slow + fast).astype(np.float32)


def test_head_statistics_are_the_realism_measures():
    h = _head()
    s = head_statistics(h)
    ref = head_stats(h)
    assert len(s) == len(HEAD_STATS) == 6
    np.testing.assert_allclose(np.exp(s[:3]), ref.std, rtol=1e-5)
    np.testing.assert_allclose(np.exp(s[3:]), ref.axis_speed, rtol=1e-5)
    assert head_statistics(np.zeros((50, 7)))[0] == pytest.approx(np.log(FLOOR))
    with pytest.raises(ValueError, match="valid frames"):
        head_statistics(np.zeros((MIN_FRAMES - 1, 3)))


def test_match_head_reaches_amplitude_and_speed_separately():
    h = _head()
    target = head_statistics(h) + np.log([1.8, 1.5, 2.0, 1.2, 0.8, 1.5])  # amplitude and speed change differently
    out, gains = match_head(h, target)
    np.testing.assert_allclose(head_statistics(out), target, atol=0.03)
    assert gains.shape == (2, 3) and not np.allclose(gains[0], gains[1])
    np.testing.assert_allclose(out.mean(axis=0), h.mean(axis=0), atol=1e-4)  # the mean pose stays
    same, g1 = match_head(h, head_statistics(h))  # already there: (almost) unchanged
    np.testing.assert_allclose(same, h, atol=0.05)


def test_match_head_limits_the_gains_and_leaves_short_clips_alone():
    h = _head()
    out, gains = match_head(h, head_statistics(h) + 5.0)
    assert gains.max() == pytest.approx(GAIN_LIMIT)
    short = h[: MIN_FRAMES - 1]
    same, g = match_head(short, head_statistics(h) + 1.0)
    np.testing.assert_array_equal(same, short)
    np.testing.assert_array_equal(g, 1.0)


def test_match_head_never_makes_a_turn_larger_than_the_soft_limit():
    h = _head() * 0.2
    h[200:230, 1] += 6.0  # one large turn in an otherwise calm clip
    target = head_statistics(h) + np.log(3.0)
    out, _ = match_head(h, target)
    dev = np.abs(out - out.mean(axis=0))
    assert (dev <= SOFT_LIMIT * np.exp(target[:3]) + 1e-3).all()
    assert dev[:, 1].max() > KNEE * np.exp(target[1])  # compressed, not cut
