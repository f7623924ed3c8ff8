"""The numpy onset envelope / tempo / beat tracker against librosa (differential tests)."""

import numpy as np
import pytest

from stygaze.audio import HOP
from stygaze.data import rhythm
from stygaze.eval.beats import audio_beats


@pytest.fixture(scope="module")
def clips(speechlike_audio):
    rng = np.random.default_rng(3)
    t = np.arange(16000 * 12) / 16000
    clicks = np.zeros(t.size, np.float32)
    clicks[(np.arange(0, 12, 0.45) * 16000).astype(int)] = 1.0  # 133 BPM click track
    clicks = np.convolve(clicks, np.hanning(200), mode="same").astype(np.float32) + rng.normal(0, 1e-3, t.size).astype(np.float32)
    return {"speechlike": speechlike_audio, "clicks": clicks, "noise": rng.standard_normal(16000 * 9).astype(np.float32)}


@pytest.mark.parametrize("name", ["speechlike", "clicks", "noise"])
def test_matches_librosa(clips, name):
    import librosa

    x = clips[name]
    ref_onset = librosa.onset.onset_strength(y=x, sr=16000, hop_length=HOP)
    ours = rhythm.onset_strength(x, chunk=37)  # odd chunk size: block seams must not matter
    assert ours.shape == ref_onset.shape
    np.testing.assert_allclose(ours, ref_onset, atol=1e-4 * float(ref_onset.max()))
    ref_tempo = librosa.feature.tempo(onset_envelope=ref_onset, sr=16000, hop_length=HOP)[0]
    assert rhythm.estimate_tempo(ref_onset) == pytest.approx(ref_tempo)
    _, ref_beats = librosa.beat.beat_track(onset_envelope=ref_onset, sr=16000, hop_length=HOP)
    np.testing.assert_array_equal(rhythm.beat_track(ref_onset), ref_beats)
    np.testing.assert_array_equal(rhythm.rhythmic_beats(x)[0], ref_beats)
    np.testing.assert_array_equal(rhythm.rhythmic_beats(x)[0], audio_beats(x, 16000))  # the BAS metric's beats


def test_click_track_tempo(clips):
    beats, _ = rhythm.rhythmic_beats(clips["clicks"])
    assert np.median(np.diff(beats)) == pytest.approx(0.45 * 25, abs=1)


def test_silence_has_no_beats():
    beats, onset = rhythm.rhythmic_beats(np.zeros(16000 * 3, np.float32))
    assert beats.size == 0 and onset.ndim == 1
    assert rhythm.beat_track(np.zeros(100, np.float32)).size == 0
