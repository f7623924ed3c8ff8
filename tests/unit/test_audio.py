"""Audio loading: formats, channel mixing, resampling, normalisation and every error."""

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from stygaze.audio import (
    FPS,
    HOP,
    SAMPLE_RATE,
    is_silent,
    load_audio,
    normalize_audio,
    num_frames,
    prepare_audio,
    read_audio,
    resample,
    save_audio,
)
from stygaze.errors import AudioError


def sine(sr, seconds=1.0, freq=440.0, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(x, sr=SAMPLE_RATE):
    spec = np.abs(np.fft.rfft(x))
    return np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spec)]


def test_constants_live_together():
    assert (SAMPLE_RATE, FPS, HOP) == (16000, 25, 640)
    assert num_frames(16000) == 25 and num_frames(44100, 44100) == 25


@pytest.mark.parametrize("fmt, subtype", [("wav", "PCM_16"), ("flac", "PCM_16"), ("ogg", "VORBIS")])
def test_soundfile_formats(tmp_path, fmt, subtype):
    path = tmp_path / f"tone.{fmt}"
    sf.write(str(path), sine(16000), 16000, subtype=subtype)
    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 16000) <= 1  # ogg may pad a little
    assert peak_hz(y) == pytest.approx(440, abs=2)
    assert abs(y.mean()) < 1e-3 and y.std() == pytest.approx(1.0, abs=1e-3)  # per-clip normalisation


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_mp3_decodes(tmp_path):
    wav, mp3 = tmp_path / "tone.wav", tmp_path / "tone.mp3"
    sf.write(str(wav), sine(44100), 44100)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(mp3)], check=True)
    y = load_audio(mp3)
    assert abs(len(y) / SAMPLE_RATE - 1.0) < 0.1  # mp3 encoder padding
    assert peak_hz(y) == pytest.approx(440, abs=3)


def test_stereo_is_mixed_to_mono(tmp_path):
    left, right = sine(16000, amp=0.4), sine(16000, freq=1000, amp=0.2)
    path = tmp_path / "stereo.wav"
    sf.write(str(path), np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    y = load_audio(path, normalize=False)
    np.testing.assert_allclose(y, 0.5 * (left + right), atol=1e-6)
    assert read_audio(path)[0].shape == (16000, 2)


def test_channel_first_arrays_are_transposed():
    x = np.stack([sine(16000), sine(16000)])  # (2, S) as librosa gives it
    assert prepare_audio(x, 16000, normalize=False).shape == (16000,)


@pytest.mark.parametrize("sr", [8000, 44100])
def test_resampled_to_16k(tmp_path, sr):
    path = tmp_path / f"tone_{sr}.wav"
    sf.write(str(path), sine(sr, seconds=2.0), sr, subtype="FLOAT")
    y = load_audio(path, normalize=False)
    assert len(y) == 32000
    assert peak_hz(y) == pytest.approx(440, abs=1)
    assert np.abs(y).max() == pytest.approx(0.5, abs=0.02)  # amplitude kept


def test_integer_pcm_is_scaled():
    x = (sine(16000) * 32767).astype(np.int16)
    y = prepare_audio(x, 16000, normalize=False)
    assert np.abs(y).max() == pytest.approx(0.5, abs=1e-3)


def test_silence_normalises_to_zeros_not_nan(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(str(path), np.zeros(16000, np.float32), 16000)
    y = load_audio(path)
    assert np.all(y == 0.0) and is_silent(y)
    assert not is_silent(sine(16000))
    quiet = normalize_audio(np.full(100, 0.3, np.float32))  # DC only: silent after mean removal
    assert np.all(quiet == 0.0)


def test_zero_length_file_is_refused(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(str(path), np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match="zero length"):
        load_audio(path)


def test_zero_byte_file_is_refused(tmp_path):
    path = tmp_path / "nothing.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        load_audio(path)


def test_corrupt_file_is_one_line_error(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x00garbage" * 50)
    with pytest.raises(AudioError) as info:
        load_audio(path)
    assert "corrupt.wav" in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(AudioError, match="not found"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="directory"):
        load_audio(tmp_path)


def test_nan_samples_are_refused(tmp_path):
    x = sine(16000)
    x[100] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        prepare_audio(x, 16000)
    path = tmp_path / "nan.wav"
    sf.write(str(path), x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        load_audio(path)


@pytest.mark.parametrize(
    "samples, sr, match",
    [(np.zeros((2, 3, 4)), 16000, "shape"), (np.zeros(100), 0, "sample rate"), (np.zeros(100), 1.5, "sample rate")],
    ids=["3d", "zero_rate", "fractional_rate"],
)
def test_prepare_audio_argument_errors(samples, sr, match):
    with pytest.raises(AudioError, match=match):
        prepare_audio(samples, sr)


def test_min_seconds(tmp_path):
    with pytest.raises(AudioError, match="at least 2 s"):
        prepare_audio(sine(16000), 16000, min_seconds=2)


def test_save_audio_round_trip_and_peak_limit(tmp_path):
    path = tmp_path / "out.wav"
    save_audio(path, 2.0 * sine(16000))  # peak 1.0 after scaling, not clipped
    y, sr = read_audio(path)
    assert sr == 16000 and y.shape == (16000, 1)
    assert np.abs(y).max() == pytest.approx(1.0, abs=1e-3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]


@pytest.mark.parametrize("sr", [8000, 11025, 22050, 24000, 32000, 44100, 48000])
def test_resample_is_librosa_soxr_hq_without_librosa(sr):
    """The same numbers as before (librosa's soxr_hq path), bit for bit, and the same length."""
    import librosa

    x = np.random.default_rng(sr).standard_normal(int(sr * 1.3) + 7).astype(np.float32)
    ours = resample(x, sr, SAMPLE_RATE)
    ref = librosa.resample(x, orig_sr=sr, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    assert ours.dtype == np.float32 and ours.shape == ref.shape == (int(np.ceil(len(x) * SAMPLE_RATE / sr)),)
    assert np.array_equal(ours, ref)


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000])
def test_resample_agrees_with_scipy_resample_poly_in_band(sr):
    """Two different anti-aliasing filters agree on band-limited audio: away from the clip
    edges (50 ms) and below 0.35 of the lower Nyquist-limited band, within 2e-3 of full scale."""
    from scipy.signal import resample_poly

    t = np.arange(int(sr * 2.0)) / sr
    top = 0.35 * min(sr, SAMPLE_RATE)
    x = sum(a * np.sin(2 * np.pi * f * t + p) for a, f, p in [(0.4, 180.0, 0.0), (0.3, 1234.5, 1.0), (0.2, top, 2.0)])
    x = x.astype(np.float32)
    g = np.gcd(sr, SAMPLE_RATE)
    ref = resample_poly(x, SAMPLE_RATE // g, sr // g)
    ours = resample(x, sr, SAMPLE_RATE)
    assert len(ours) == len(ref)
    edge = SAMPLE_RATE // 20
    err = np.abs(ours[edge:-edge] - ref[edge:-edge]).max()
    assert err < 2e-3, err


def test_resample_same_rate_is_identity():
    x = np.arange(10, dtype=np.float32)
    assert np.array_equal(resample(x, SAMPLE_RATE, SAMPLE_RATE), x)
