"""Feature cache: computed once per session, memory-mapped, recomputed when stale."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from stygaze.audio import SAMPLE_RATE, load_audio, save_audio
from stygaze.stygazetalk.feature_cache import (
    cache_paths,
    cache_stem,
    find_sessions,
    is_up_to_date,
    load_cached,
    precompute_features,
    session_features,
)
from stygaze.errors import DataError
from stygaze.stygazetalk.audio_encoder import MelEncoder


def _tone(seconds: float, f0: float, seed: int) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    noise = np.random.default_rng(seed).standard_normal(t.size)
    return (0.3 * np.sin(2 * np.pi * f0 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.02 * noise).astype(np.float32)


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    for i, (sec, f0) in enumerate([(1.0, 150.0), (1.6, 220.0), (0.8, 110.0)]):
        (root / f"s{i}").mkdir(parents=True)
        save_audio(root / f"s{i}" / "audio.wav", _tone(sec, f0, i))
    (root / "notes").mkdir()  # a folder without audio is not a session
    return root


def test_cache_stem_is_a_safe_file_name():
    stem = cache_stem("mel-v1:n_mels=40,n_fft=1024,hop=640,f0=60-400")
    assert stem.startswith("mel-v1-") and len(stem) == len("mel-v1-") + 12
    assert all(c.isalnum() or c in "-_." for c in stem)
    assert cache_stem("mel-v1:n_mels=40") != cache_stem("mel-v1:n_mels=80")


def test_precompute_matches_encoder_and_skips_up_to_date(corpus):
    enc = MelEncoder(d=8)
    report = precompute_features(corpus, "mel")
    assert report.computed == ["s0", "s1", "s2"] and report.skipped == [] and report.ok
    for s in find_sessions(corpus):
        cached = load_cached(s, enc.encoder_id)
        assert isinstance(cached, np.memmap) and not cached.flags.writeable  # memory-mapped, read-only
        ref = enc.features(load_audio(s / "audio.wav")).numpy()
        assert cached.shape == ref.shape == (round(len(load_audio(s / "audio.wav")) / 640), enc.feature_dim)
        np.testing.assert_array_equal(np.asarray(cached), ref)
        meta = json.loads(cache_paths(s, enc.encoder_id)[1].read_text())
        assert meta["encoder_id"] == enc.encoder_id and meta["shape"] == list(ref.shape)
    again = precompute_features(corpus, "mel")
    assert again.computed == [] and again.skipped == ["s0", "s1", "s2"]
    assert "0 computed, 3 up to date, 0 failed" in again.summary()


def test_changed_audio_makes_the_entry_stale(corpus):
    enc = MelEncoder(d=8)
    precompute_features(corpus, "mel")
    s1 = corpus / "s1"
    save_audio(s1 / "audio.wav", _tone(2.0, 300.0, 9))
    st = os.stat(s1 / "audio.wav")
    os.utime(s1 / "audio.wav", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert not is_up_to_date(s1, enc.encoder_id) and load_cached(s1, enc.encoder_id) is None
    report = precompute_features(corpus, "mel")
    assert report.computed == ["s1"] and report.skipped == ["s0", "s2"]
    assert load_cached(s1, enc.encoder_id).shape[0] == 50


def test_other_encoder_settings_do_not_hit_the_cache(corpus):
    precompute_features(corpus, "mel")
    other = MelEncoder(d=8, config=type(MelEncoder(d=8).config)(n_mels=20))
    assert load_cached(corpus / "s0", other.encoder_id) is None


def test_session_features_uses_cache_or_computes(corpus):
    enc = MelEncoder(d=8)
    direct = session_features(corpus / "s0", enc)  # no cache yet: computed
    precompute_features(corpus, "mel")
    cached = session_features(corpus / "s0", enc)
    assert isinstance(cached, torch.Tensor) and cached.dtype == torch.float32
    torch.testing.assert_close(cached, direct)


def test_broken_audio_is_reported_and_the_rest_computed(corpus):
    (corpus / "s1" / "audio.wav").write_bytes(b"RIFF not really a wav")
    report = precompute_features(corpus, "mel", jobs=2)
    assert report.computed == ["s0", "s2"]
    assert [name for name, _ in report.failed] == ["s1"] and report.failed[0][1]
    assert not cache_paths(corpus / "s1", MelEncoder(d=8).encoder_id)[0].exists()  # no partial entry


def test_missing_or_empty_corpus_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        precompute_features(tmp_path / "nope")
    with pytest.raises(DataError, match="no session folders"):
        precompute_features(tmp_path)


def test_generator_training_reads_the_cache(tmp_path):
    """`stygaze train generator` takes up-to-date cached features (marked here) instead of recomputing."""
    from gen_fixtures import make_tiny_corpus, tiny_model
    from stygaze.stygazetalk.train_generator import prepare_sessions
    from stygaze.stygazetalk.train_style import load_split

    corpus = make_tiny_corpus(tmp_path / "c", n_sessions=5, seconds=2.0)  # 2 train sessions
    precompute_features(corpus, "mel")
    model = tiny_model(style_dim=0)
    sessions = load_split(corpus, "train", with_audio=True)
    npy, _ = cache_paths(corpus / sessions[0].name, model.generator.audio.encoder_id)
    marked = np.full_like(np.load(npy), 7.0)  # same shape and dtype: the entry stays "up to date"
    np.save(npy, marked)
    prepared = prepare_sessions(model, sessions, data_dir=corpus)
    assert torch.equal(prepared[0].feats, torch.from_numpy(marked[: len(prepared[0].feats)]))
    assert not (prepared[1].feats == 7.0).all()  # genuinely computed features elsewhere
    recomputed = prepare_sessions(model, sessions)  # without data_dir: computed from the audio
    assert not (recomputed[0].feats == 7.0).all()
