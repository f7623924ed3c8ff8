"""The numpy onset envelope / tempo / beat tracker against librosa (differential tests)."""

import numpy as np
import pytest

from stygaze.audio import HOP
from stygaze.features import rhythm
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


def _pulse_onset(rng, T=400, period=12):
    on = 0.05 * rng.random(T).astype(np.float32)
    on[np.arange(5, T, period)] += 1.0
    return on


def test_beat_channel_bumps():
    ch = rhythm.beat_channel(np.array([3, 20]), 10)
    assert ch.shape == (10,) and ch[3] == 1.0 and np.isclose(ch[4], np.exp(-0.5)) and np.isclose(ch[5], np.exp(-2.0))
    assert ch[6] == 0.0 and ch[0] == 0.0 + np.float32(0)
    part = rhythm.beat_channel(np.array([3]), 10, 4, 8)  # frames 4..7 only
    assert part.shape == (4,) and np.isclose(part[0], np.exp(-0.5)) and part[2] == 0.0


def test_online_beats_are_causal_and_independent_of_arrival(rng):
    on = _pulse_onset(rng)
    whole = rhythm.online_beat_channel(on, 20, 10, 150)
    assert whole.shape == on.shape
    # a regular pulse train is found: most channel peaks sit on the pulses
    peaks = np.flatnonzero(whole == 1.0)
    assert len(peaks) > 20 and np.mean((peaks - 5) % 12 == 0) > 0.8
    # arrival in uneven pieces gives the same values
    ob = rhythm.OnlineBeats(20, 10, 150)
    got, n = [], 0
    for step in rng.integers(1, 30, 100):
        got.append(ob.update(on[n : n + int(step)]))
        n = min(len(on), n + int(step))
    got.append(ob.update(on[n:], final=True))
    assert np.array_equal(np.concatenate(got), whole)
    assert len(ob._onset) <= 150 + 10  # bounded memory: only what a later block can need
    # causal: changing the future does not change frames decided before it (block ends 20, 30, ...)
    future = on.copy()
    future[200:] = rng.random(len(on) - 200).astype(np.float32)
    assert np.array_equal(rhythm.online_beat_channel(future, 20, 10, 150)[:200], whole[:200])
    with pytest.raises(ValueError):
        rhythm.OnlineBeats(20, 10, 15)


# --- no scipy.signal: the numpy window and FFTs give the same numbers as scipy did -----------
@pytest.mark.parametrize("n", [1, 2, 7, 200, 2048])
def test_periodic_hann_is_scipy_get_window_hann(n):
    from scipy.signal import get_window

    assert np.array_equal(rhythm.periodic_hann(n), get_window("hann", n, fftbins=True))


def _onset_strength_scipy(audio, n_fft=2048, n_mels=128):
    """The envelope as computed with scipy.signal's window (the previous implementation)."""
    import scipy.fft
    import scipy.signal
    from numpy.lib.stride_tricks import as_strided

    from stygaze.features.mel import cached_mel_filterbank

    y = np.pad(np.asarray(audio, np.float32).reshape(-1), (n_fft // 2, n_fft // 2))
    n = 1 + (len(y) - n_fft) // HOP
    frames = as_strided(y, shape=(n, n_fft), strides=(y.strides[0] * HOP, y.strides[0]), writeable=False)
    win = scipy.signal.get_window("hann", n_fft, fftbins=True).astype(np.float32)
    F = scipy.fft.rfft(frames * win, axis=1)
    S = (F.real * F.real + F.imag * F.imag) @ cached_mel_filterbank(16000, n_fft, n_mels, 0.0, 8000.0).T
    S = 10.0 * np.log10(np.maximum(S, 1e-10))
    S = np.maximum(S, S.max() - 80.0)
    flux = np.maximum(0.0, S[1:] - S[:-1]).mean(axis=1)
    return np.concatenate([np.zeros(1 + n_fft // (2 * HOP), np.float32), flux])[:n].astype(np.float32)


def _tempogram_scipy(onset, win=200, n_fft=512):
    import scipy.fft
    import scipy.signal

    padded = np.pad(np.asarray(onset, np.float64), (win // 2, win // 2), mode="linear_ramp", end_values=(0, 0))
    idx = np.arange(len(onset))[:, None] + np.arange(win)[None, :]
    spec = scipy.fft.rfft(padded[idx] * scipy.signal.get_window("hann", win, fftbins=True), n=n_fft, axis=1)
    return scipy.fft.irfft(spec.real**2 + spec.imag**2, n=n_fft, axis=1)[:, :win]


@pytest.mark.parametrize("name", ["speechlike", "clicks", "noise"])
def test_onset_and_tempo_are_bit_equal_to_the_scipy_signal_versions(clips, name):
    x = clips[name]
    onset = rhythm.onset_strength(x)
    assert np.array_equal(onset, _onset_strength_scipy(x))
    # the tempo autocorrelation: numpy's float64 FFT and the numpy window equal scipy's exactly
    o = onset.astype(np.float64)
    padded = np.pad(o, (100, 100), mode="linear_ramp", end_values=(0, 0))
    idx = np.arange(len(o))[:, None] + np.arange(200)[None, :]
    spec = np.fft.rfft(padded[idx] * rhythm.periodic_hann(200), n=512, axis=1)
    ours = np.fft.irfft(spec.real**2 + spec.imag**2, n=512, axis=1)[:, :200]
    assert np.array_equal(ours, _tempogram_scipy(o))
    tg = _tempogram_scipy(o)  # and the whole estimate, as the scipy version computed it
    tg = (tg / np.maximum(np.abs(tg).max(axis=1, keepdims=True), np.finfo(np.float64).tiny)).mean(axis=0)
    with np.errstate(divide="ignore"):
        bpms = np.concatenate([[np.inf], 60.0 * 16000 / (HOP * np.arange(1.0, 200))])
        prior = -0.5 * (np.log2(bpms) - np.log2(120.0)) ** 2
    prior[: int(np.argmax(bpms < 320.0))] = -np.inf
    assert rhythm.estimate_tempo(o) == bpms[int(np.argmax(np.log1p(1e6 * tg) + prior))]
