import sys

import numpy as np
import pytest
import torch

from stygaze.audio import HOP, SAMPLE_RATE
from stygaze.errors import AudioError, CheckpointError
from stygaze.stygazetalk.audio_encoder import MelConfig, MelEncoder, Wav2Vec2Encoder, make_audio_encoder


def tone(seconds, f0=150.0):
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return np.sin(2 * np.pi * f0 * t).astype(np.float32)


@pytest.mark.parametrize("samples,frames", [(SAMPLE_RATE, 25), (SAMPLE_RATE + 319, 25), (SAMPLE_RATE + 321, 26), (321, 1)])
def test_mel_frame_count_is_25_fps(samples, frames, rng):
    enc = MelEncoder(8)
    feats = enc.features(rng.standard_normal(samples).astype(np.float32))
    assert feats.shape == (frames, enc.feature_dim)
    assert torch.isfinite(feats).all()


def test_mel_chunking_does_not_change_features(rng):
    x = rng.standard_normal(3 * SAMPLE_RATE + 77).astype(np.float32)
    full = MelEncoder(8).features(x)
    chunked = MelEncoder(8, MelConfig(chunk_frames=7)).features(x)
    assert torch.allclose(full, chunked, atol=1e-4)


def test_mel_pitch_and_voicing_follow_a_tone():
    enc = MelEncoder(8)
    x = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), tone(1.0, 200.0)])
    f = enc.features(x)
    voicing, logf0 = f[:, -2], f[:, -1]
    assert voicing[:20].max() < 0.1 and voicing[30:45].min() > 0.8
    f0 = 100 * 2 ** (logf0[30:45] / voicing[30:45])
    assert torch.allclose(f0, torch.full_like(f0, 200.0), rtol=0.03)
    # energy jumps and the onset feature peaks where the tone starts (frame 25)
    assert f[30, -4] > f[10, -4] + 5
    assert int(torch.argmax(f[:, -3])) in (24, 25, 26)


def test_mel_projection_shape_and_grad(rng):
    enc = make_audio_encoder("mel", 12)
    feats = enc.features(rng.standard_normal(SAMPLE_RATE).astype(np.float32))
    out = enc(feats[None])
    assert out.shape == (1, 25, 12)
    out.sum().backward()
    assert enc.proj.weight.grad is not None
    assert enc.encoder_id.startswith("mel-v1:")


@pytest.mark.parametrize("bad", [np.zeros(0, np.float32), np.array([np.nan] * 1000, np.float32), np.zeros((2, 2, 2), np.float32)])
def test_mel_rejects_bad_audio(bad):
    with pytest.raises(AudioError):
        MelEncoder(8).features(bad)


def test_unknown_encoder_name():
    with pytest.raises(CheckpointError, match="unknown audio encoder"):
        make_audio_encoder("hubert")


@pytest.fixture(scope="module")
def tiny_wav2vec2(tmp_path_factory):
    transformers = pytest.importorskip("transformers")  # the [wav2vec2] extra
    Wav2Vec2Config, Wav2Vec2Model = transformers.Wav2Vec2Config, transformers.Wav2Vec2Model

    torch.manual_seed(0)
    cfg = Wav2Vec2Config(
        hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        conv_dim=(8, 8, 8, 8, 8, 8, 8), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
    )
    path = tmp_path_factory.mktemp("w2v") / "tiny-wav2vec2"
    Wav2Vec2Model(cfg).eval().save_pretrained(path)
    return path


def test_wav2vec2_loads_through_from_pretrained_and_runs_at_25_fps(tiny_wav2vec2, rng):
    enc = make_audio_encoder("wav2vec2", 6, model_name_or_path=str(tiny_wav2vec2))
    assert isinstance(enc, Wav2Vec2Encoder)
    x = rng.standard_normal(2 * SAMPLE_RATE + 100).astype(np.float32)
    feats = enc.features(x)
    assert feats.shape == (50, 16) and torch.isfinite(feats).all()
    assert enc(feats).shape == (50, 6)
    # frozen backbone stays out of the state dict: checkpoints hold only the projection
    assert set(enc.state_dict()) == {"feat_mean", "feat_std", "proj.weight", "proj.bias"}
    assert all(not p.requires_grad for p in enc.net.parameters())
    assert enc.encoder_id.startswith("wav2vec2:tiny-wav2vec2:")


def test_wav2vec2_chunks_match_one_pass_in_the_middle(tiny_wav2vec2, rng):
    x = rng.standard_normal(4 * SAMPLE_RATE).astype(np.float32)
    one = make_audio_encoder("wav2vec2", 6, model_name_or_path=str(tiny_wav2vec2), chunk_seconds=60)
    many = make_audio_encoder("wav2vec2", 6, model_name_or_path=str(tiny_wav2vec2), chunk_seconds=1.0, context_seconds=1.0)
    a, b = one.features(x), many.features(x)
    assert a.shape == b.shape == (100, 16)
    # chunked encoding sees less context, so it is close rather than identical
    cos = torch.nn.functional.cosine_similarity(a, b, dim=1)
    assert cos.mean() > 0.9


def test_wav2vec2_unfrozen_transformer_is_trainable_and_saved(tiny_wav2vec2):
    enc = make_audio_encoder("wav2vec2", 6, model_name_or_path=str(tiny_wav2vec2), freeze=False)
    names = set(enc.state_dict())
    assert any(n.startswith("backbone.encoder") for n in names)
    cnn = [p.requires_grad for n, p in enc.named_parameters() if "feature_extractor" in n]
    assert cnn and not any(cnn)  # CNN feature encoder always frozen


def test_wav2vec2_without_transformers_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # as if the extra were not installed
    with pytest.raises(CheckpointError, match=r"pip install 'stygaze\[wav2vec2\]'") as info:
        make_audio_encoder("wav2vec2", model_name_or_path="facebook/wav2vec2-base")
    assert "\n" not in str(info.value)


def test_wav2vec2_missing_weights_names_the_fix(tmp_path):
    pytest.importorskip("transformers")
    with pytest.raises(CheckpointError, match="not available offline.*huggingface-cli download"):
        make_audio_encoder("wav2vec2", model_name_or_path="nobody/no-such-wav2vec2-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="config.json"):
        make_audio_encoder("wav2vec2", model_name_or_path=str(tmp_path / "empty"))


def test_mel_filterbank_matches_librosa():
    import librosa

    from stygaze.features.mel import mel_filterbank

    ours = mel_filterbank(16000, 1024, 40, 60.0, 7600.0)
    ref = librosa.filters.mel(sr=16000, n_fft=1024, n_mels=40, fmin=60.0, fmax=7600.0)
    assert np.allclose(ours, ref, atol=1e-6)
