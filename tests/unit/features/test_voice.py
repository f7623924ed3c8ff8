"""Causal voice activity: speaking vs pauses from the energy, chunk- and gain-invariant."""

import numpy as np
import pytest

from stygaze.audio import HOP, SAMPLE_RATE
from stygaze.features.voice import OnlineVoice, VoiceConfig, frame_energy_db, voice_activity


def bursts(spans, seconds, rng, noise=1e-3):
    """Noise-like speech in the (start, stop) second spans, faint noise elsewhere."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    env = np.zeros_like(t)
    for a, b in spans:
        env[(t >= a) & (t < b)] = 1.0
    syll = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)  # syllable-rate loudness
    return (rng.standard_normal(t.size) * (0.3 * env * syll + noise)).astype(np.float32)


def test_frame_energy_counts_frames_like_num_frames():
    x = np.zeros(HOP * 3 + HOP // 2 + 1)  # 3.5+ frames -> round = 4
    e = frame_energy_db(x)
    assert e.shape == (4,) and np.allclose(e, -120.0)
    y = np.ones(HOP * 2) * 0.5  # a constant is removed (mean) -> silence
    assert np.allclose(frame_energy_db(y), -120.0)


def test_speech_and_pauses_are_found(rng):
    x = bursts([(0.5, 2.0), (2.15, 3.5), (4.5, 6.0)], 7.0, rng)
    v = voice_activity(x)
    t = (np.arange(len(v)) + 0.5) / 25
    inside = ((t > 0.7) & (t < 1.8)) | ((t > 4.7) & (t < 5.8))
    assert v.speaking[inside].mean() > 0.95 and v.voiced[inside].mean() > 0.8
    assert v.speaking[(t > 2.05) & (t < 2.1)].all()  # a 150 ms gap between words stays "speaking"
    assert not v.speaking[(t > 3.9) & (t < 4.4)].any()  # a 1 s pause is a pause
    assert not v.speaking[t < 0.45].any()
    assert (v.level[~v.voiced] == 0).all() and 0.3 < v.level[v.voiced].mean() <= 1.0


def test_stream_equals_offline_for_any_chunking(rng):
    x = bursts([(0.3, 1.5), (2.0, 3.1)], 3.37, rng)
    whole = voice_activity(x)
    for chunk in (1, 333, 640, 5000):
        ov = OnlineVoice()
        parts = [ov.push(x[i : i + chunk]) for i in range(0, len(x), chunk)]
        from stygaze.audio import num_frames
        from stygaze.features.voice import VoiceFrames

        got = VoiceFrames.concat(parts + [ov.flush(num_frames(len(x)))])
        assert len(got) == len(whole)
        for k in ("energy_db", "floor_db", "peak_db", "voiced", "speaking", "level"):
            assert np.array_equal(getattr(got, k), getattr(whole, k)), k


def test_a_constant_gain_changes_nothing_but_the_levels(rng):
    x = bursts([(0.3, 1.5), (2.0, 3.1)], 4.0, rng, noise=3e-3)
    a, b = voice_activity(x), voice_activity(x * 0.05)
    assert np.array_equal(a.voiced, b.voiced) and np.array_equal(a.speaking, b.speaking)
    assert np.allclose(a.level, b.level, atol=1e-4)
    assert np.allclose(a.energy_db - b.energy_db, -20 * np.log10(0.05), atol=1e-3)


def test_silence_is_never_speech():
    v = voice_activity(np.zeros(SAMPLE_RATE, np.float32))
    assert not v.voiced.any() and not v.speaking.any() and (v.level == 0).all()


def test_bad_config():
    with pytest.raises(ValueError, match="hangover_s"):
        VoiceConfig(hangover_s=-1).validate()
