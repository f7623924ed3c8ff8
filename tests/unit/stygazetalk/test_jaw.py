"""The jaw stage: the mouth opens with the speech level, in sync, causal."""

import numpy as np
import pytest

from stygaze.stygazetalk.jaw import JawConfig, JawStage, jaw_axis_angle, jaw_open_deg


def syllables(n, rng):
    """A voice level with 4-5 Hz syllables and pauses (0..1)."""
    t = np.arange(n) / 25
    lv = np.clip(np.sin(2 * np.pi * 4.3 * t + 3 * np.sin(0.7 * t)), 0, 1) * (np.sin(2 * np.pi * 0.15 * t) > -0.3)
    return (lv * rng.uniform(0.6, 1.0, n)).astype(np.float32)


def process(level, config=None):
    nxt = np.r_[level[1:], 0.0]
    return JawStage(config).process(level, nxt)


def test_jaw_follows_the_speech_in_sync(rng):
    lv = syllables(25 * 60, rng)
    jaw = jaw_open_deg(process(lv))
    lags = np.arange(-3, 4)
    xc = [np.corrcoef(np.roll(jaw, -k)[5:-5], lv[5:-5])[0, 1] for k in lags]
    assert lags[int(np.argmax(xc))] in (-1, 0, 1)  # the jaw is within one frame of the sound
    assert max(xc) > 0.7


def test_silence_keeps_the_mouth_closed_and_speech_opens_it(rng):
    lv = np.zeros(100, np.float32)
    lv[40:60] = 1.0
    jaw = process(lv)
    assert jaw.shape == (100, 3) and np.all(jaw[:, 1:] == 0)
    deg = jaw_open_deg(jaw)
    assert np.all(deg[:38] == 0) and deg[45:59].min() > 0.9 * JawConfig().open_deg  # (frame 59 already sees the silence after it)
    assert deg[75:].max() < 0.05 * JawConfig().open_deg  # closes again within ~0.6 s
    assert deg.max() <= JawConfig().open_deg + 1e-4


def test_opening_is_faster_than_closing():
    lv = np.zeros(60, np.float32)
    lv[20:40] = 1.0
    deg = jaw_open_deg(JawStage(JawConfig(lookahead=0)).process(lv))
    top = JawConfig().open_deg
    up = np.argmax(deg >= 0.9 * top) - 20
    down = np.argmax(deg[40:] <= 0.1 * top)
    assert up < down


def test_axis_angle_convention():
    j = jaw_axis_angle([0.0, 10.0])
    assert j.dtype == np.float32 and np.allclose(j[1], [np.radians(10.0), 0, 0])
    assert np.allclose(jaw_open_deg(j), [0, 10])


def test_chunks_equal_one_call(rng):
    lv = syllables(300, rng)
    nxt = np.r_[lv[1:], 0.0]
    whole = JawStage().process(lv, nxt)
    st = JawStage()
    parts = [st.process(lv[a:b], nxt[a:b]) for a, b in ((0, 1), (1, 150), (150, 300))]
    assert np.array_equal(np.concatenate(parts), whole)


def test_bad_config():
    with pytest.raises(ValueError, match="lookahead"):
        JawStage(JawConfig(lookahead=2))
    with pytest.raises(ValueError, match="next frame"):
        JawStage().process(np.zeros(3))
