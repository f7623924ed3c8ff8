"""espeak-ng conversations and the user's own audio directory."""

import numpy as np
import pytest

from stygaze.audio import save_audio
from stygaze.data.synhage.speech import Speaker, list_audio_files, load_session_audio, synth_conversation, tts
from stygaze.data.synhage import analyze_speech
from stygaze.errors import AudioError, DataError


def test_conversation_has_turns_and_a_fixed_speaker():
    conv = synth_conversation(20.0, np.random.default_rng(2))
    assert conv.audio.shape == (20 * 16000,) and conv.audio.dtype == np.float32
    assert np.abs(conv.audio).max() <= 1.0
    kinds = [k for k, _, _ in conv.turns]
    assert kinds[0] == "speaking" and "listening" in kinds
    assert all(a != b for a, b in zip(kinds, kinds[1:]))  # turns alternate
    # listening turns are silent (room noise only), speaking turns are not
    for kind, a, b in conv.turns:
        seg = conv.audio[int(a * 16000) : int(b * 16000)]
        rms = float(np.sqrt(np.mean(seg**2))) if seg.size else 0.0
        assert (rms < 5e-3) if kind == "listening" else (rms > 1e-2)
    # the synthesizer's voice activity finds the listening stretches
    cues = analyze_speech(conv.audio)
    for kind, a, b in conv.turns:
        if kind == "listening" and b - a > 2.0:
            mid = int((a + b) / 2 * 100)
            assert not cues.speech[mid - 20 : mid + 20].any()


def test_conversation_is_deterministic():
    a = synth_conversation(6.0, np.random.default_rng(9))
    b = synth_conversation(6.0, np.random.default_rng(9))
    np.testing.assert_array_equal(a.audio, b.audio)
    assert a.speaker == b.speaker and a.sentences == b.sentences


def test_speakers_vary():
    rng = np.random.default_rng(0)
    speakers = [Speaker.sample(rng) for _ in range(30)]
    assert len({s.voice for s in speakers}) >= 4 and len({s.language for s in speakers}) >= 2
    assert len({s.pitch for s in speakers}) >= 10
    x = tts("Hello there.", speakers[0])
    assert x.ndim == 1 and 0.3 * 16000 < len(x) < 3 * 16000


def test_audio_dir_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        list_audio_files(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DataError, match="no audio files"):
        list_audio_files(tmp_path)


def test_load_session_audio_crops_and_refuses_silence(tmp_path):
    t = np.arange(16000 * 10) / 16000
    save_audio(tmp_path / "b.wav", 0.3 * np.sin(2 * np.pi * 220 * t).astype(np.float32))
    save_audio(tmp_path / "a.wav", np.zeros(16000 * 3, np.float32))
    files = list_audio_files(tmp_path)
    assert [f.name for f in files] == ["a.wav", "b.wav"]
    x = load_session_audio(files[1], 4.0, np.random.default_rng(0))
    assert x.shape == (4 * 16000,)
    whole = load_session_audio(files[1], 60.0, np.random.default_rng(0))
    assert whole.shape == (10 * 16000,)
    with pytest.raises(AudioError, match="silent"):
        load_session_audio(files[0], 4.0, np.random.default_rng(0))
