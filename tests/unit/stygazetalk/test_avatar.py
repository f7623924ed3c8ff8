"""The avatar stages together: voice-driven, chunk-invariant, each stage switchable."""

import numpy as np
import pytest

from stygaze.audio import SAMPLE_RATE
from stygaze.features.voice import voice_activity
from stygaze.stygazetalk.avatar import AvatarConfig, AvatarFrames, AvatarStages, apply_avatar_stages


@pytest.fixture
def clip(speechlike_audio):
    x = speechlike_audio
    v = voice_activity(x)
    rng = np.random.default_rng(1)
    data = np.cumsum(rng.standard_normal((len(v), 7)).astype(np.float32) * 0.3, axis=0)
    return data, v


def test_stages_fill_blink_and_jaw_and_follow_the_voice(clip):
    data, v = clip
    out = apply_avatar_stages(data, v, seed=2)
    assert out.motion.shape == data.shape and out.blink.shape == (len(data),) and out.jaw.shape == (len(data), 3)
    jaw = np.degrees(out.jaw[:, 0])
    assert jaw[v.speaking].mean() > 3 * jaw[~v.speaking].mean() + 0.5  # the mouth moves while speaking
    assert np.array_equal(out.motion[:, :3], data[:, :3])
    # a blink dips the eyes: where the lid is closed the eye pitch is lower than without the blink stage
    no_blink = apply_avatar_stages(data, v, AvatarConfig(blinks=None), seed=2)
    closed = out.blink > 0.5
    assert closed.any() and np.all(out.motion[closed, 3] < no_blink.motion[closed, 3])


def test_chunks_equal_one_call(clip):
    data, v = clip
    whole = apply_avatar_stages(data, v, seed=3)
    st = AvatarStages(seed=3)
    nxt = np.r_[v.level[1:], 0.0]
    parts = [st.process(data[a:b], v.slice(a, b), nxt[a:b]) for a, b in ((0, 5), (5, 5), (5, 200), (200, len(data)))]
    got = AvatarFrames.concat(parts, True, True)
    for k in ("motion", "blink", "jaw", "shift_deg"):
        assert np.array_equal(getattr(got, k), getattr(whole, k)), k


def test_raw_config_and_switches(clip):
    data, v = clip
    assert not AvatarConfig.raw().active
    out = AvatarStages(AvatarConfig(gaze=None, blinks=None), seed=0).process(data, v, np.r_[v.level[1:], 0.0])
    assert out.blink is None and np.array_equal(out.motion, data) and out.jaw is not None
    assert AvatarStages(max_lookahead=0).lookahead == 0 and AvatarStages(max_lookahead=5).lookahead == 1
    with pytest.raises(ValueError, match="voice frames"):
        AvatarStages().process(data[:10], v.slice(0, 9))
    with pytest.raises(ValueError, match="GazeEventConfig"):
        AvatarConfig(gaze=3).validate()


def test_silence_gives_no_jaw_and_few_shifts():
    x = np.zeros(SAMPLE_RATE * 20, np.float32)
    v = voice_activity(x)
    out = apply_avatar_stages(np.zeros((len(v), 7), np.float32), v, seed=4)
    assert np.all(out.jaw == 0)
    shifts = out.shift_deg[out.shift_deg > 0]
    assert len(shifts) > 20 and np.mean(shifts > 6) < 0.2  # the gaze still moves, with few look-aways
