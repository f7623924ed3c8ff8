import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gen_fixtures import make_tiny_corpus, write_tiny_config
from stygaze.errors import DataError
from stygaze.stygazetalk.pipeline import StyGazeTalk
from stygaze.stygazetalk.train_generator import load_generator_run_config, train_generator
from stygaze.stygazetalk.train_style import load_split, load_style_encoder, load_style_run_config, train_style


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_tiny_corpus(tmp_path_factory.mktemp("corpus") / "c", n_sessions=6, seconds=6.0)


@pytest.fixture(scope="module")
def style_run(corpus, tmp_path_factory):
    d = tmp_path_factory.mktemp("style")
    cfg = load_style_run_config(write_tiny_config(d / "t.yaml"))
    return train_style(cfg, corpus, d / "run", progress=False)


def test_load_split_reads_the_layout(corpus):
    train = load_split(corpus, "train", with_audio=True)
    assert [s.name for s in train] == ["s00", "s01", "s02"]
    assert train[0].motion.shape == (150, 7) and train[0].audio.shape == (96000,)
    with pytest.raises(DataError, match="split"):
        load_split(corpus, "nope")
    with pytest.raises(DataError, match="splits.json"):
        load_split(corpus / "s00", "train")


def test_style_training_writes_a_loadable_best(style_run):
    enc = load_style_encoder(style_run)
    meta = json.loads((style_run / "config.json").read_text())["meta"]
    assert meta["encoder_id"] == enc.encoder_id
    log = [json.loads(line) for line in (style_run.parent / "log.jsonl").read_text().splitlines()]
    assert len(log) == 2 and all(np.isfinite(r["val_loss"]) for r in log)


def test_generator_training_resumes_identically(corpus, style_run, tmp_path):
    cfg_path = write_tiny_config(tmp_path / "t.yaml")
    full = load_generator_run_config(cfg_path)
    train_generator(full, corpus, tmp_path / "full", style_encoder=style_run, progress=False)
    # "interrupted" after one epoch, then the same command again
    first = load_generator_run_config(cfg_path)
    first.generator_train.max_epochs = 1
    train_generator(first, corpus, tmp_path / "resumed", style_encoder=style_run, progress=False)
    assert json.loads((tmp_path / "resumed" / "last" / "state.json").read_text())["counters"]["epoch"] == 1
    assert (tmp_path / "resumed" / "final").exists()  # max_epochs reached: the last epoch as a model
    train_generator(load_generator_run_config(cfg_path), corpus, tmp_path / "resumed", style_encoder=style_run, progress=False)
    a = load_file(str(tmp_path / "full" / "last" / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "last" / "model.safetensors"))
    assert a.keys() == b.keys()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    # a finished run also writes its last epoch as a complete model (RUN/final)
    for run in ("full", "resumed"):
        fin = load_file(str(tmp_path / run / "final" / "model.safetensors"))
        assert [k for k in fin if not torch.equal(fin[k], a[k])] == []
    # the best checkpoint is a complete model for the pipeline
    pipe = StyGazeTalk.from_pretrained(tmp_path / "full")
    assert pipe.style_encoder_id == load_style_encoder(style_run).encoder_id
    m = pipe.generate(np.random.default_rng(0).standard_normal(16000).astype(np.float32))
    assert m.data.shape == (25, 7) and np.isfinite(m.data).all()
    # the neutral style is the mean training style (a unit vector)
    assert np.isclose(np.linalg.norm(pipe.neutral_style.style), 1.0, atol=1e-5)


def test_generator_learns_on_tiny_corpus(corpus, style_run, tmp_path):
    cfg = load_generator_run_config(write_tiny_config(tmp_path / "t.yaml"))
    cfg.generator_train.max_epochs = 6
    train_generator(cfg, corpus, tmp_path / "run", style_encoder=style_run, progress=False)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert min(r["val_loss"] for r in log[1:]) < log[0]["val_loss"]


def test_base_config_needs_no_style_encoder_and_styled_config_does(corpus, tmp_path):
    base = load_generator_run_config(write_tiny_config(tmp_path / "b.yaml", **{"style_dim: 8, hidden": "style_dim: 0, hidden"}))
    assert base.generator.style_dim == 0
    best = train_generator(base, corpus, tmp_path / "base", progress=False)
    assert StyGazeTalk.from_pretrained(best).model.style_encoder is None
    styled = load_generator_run_config(write_tiny_config(tmp_path / "s.yaml"))
    with pytest.raises(DataError, match="train it first"):
        train_generator(styled, corpus, tmp_path / "s", progress=False)


def test_config_errors(tmp_path):
    (tmp_path / "bad.yaml").write_text("generator: {hiddn: 3}\n")
    with pytest.raises(DataError, match="unknown keys"):
        load_generator_run_config(tmp_path / "bad.yaml")
    (tmp_path / "bad2.yaml").write_text("generator: [1, 2\n")
    with pytest.raises(DataError, match="YAML"):
        load_generator_run_config(tmp_path / "bad2.yaml")
    with pytest.raises(DataError, match="not found"):
        load_generator_run_config(tmp_path / "missing.yaml")


def test_shipped_configs_parse():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "configs"
    names = ["default"] + [f"{r}_{e}" for r in ("base", "se32", "se64", "se64_vel", "tfm_se64") for e in ("mel", "wav2vec2")]
    for name in names:
        cfg = load_generator_run_config(root / f"{name}.yaml")
        assert cfg.generator.audio_encoder == ("wav2vec2" if name.endswith("wav2vec2") else "mel")
    assert load_generator_run_config(root / "tfm_se64_mel.yaml").generator.kind == "transformer"
    assert load_generator_run_config(root / "se64_vel_mel.yaml").generator.vel_lambda < 1.0


def test_wav2vec2_config_trains_with_a_local_tiny_model(corpus, style_run, tmp_path):
    transformers = pytest.importorskip("transformers")  # the [wav2vec2] extra
    Wav2Vec2Config, Wav2Vec2Model = transformers.Wav2Vec2Config, transformers.Wav2Vec2Model

    torch.manual_seed(0)
    cfg = Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
                         conv_dim=(8,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)
    Wav2Vec2Model(cfg).save_pretrained(tmp_path / "w2v")
    text = f"audio_encoder: wav2vec2, audio_encoder_kwargs: {{model_name_or_path: '{tmp_path / 'w2v'}'}}, d: 8"
    run = load_generator_run_config(write_tiny_config(tmp_path / "w.yaml", **{"audio_encoder: mel, d: 8": text}))
    run.generator_train.max_epochs = 1
    best = train_generator(run, corpus, tmp_path / "run", style_encoder=style_run, progress=False)
    pipe = StyGazeTalk.from_pretrained(best)
    assert pipe.model.generator.audio_encoder_id.startswith("wav2vec2:w2v:")
    assert pipe.generate(np.zeros(8000, np.float32) + 0.1).data.shape == (12, 7)
    run.generator.audio_encoder_kwargs["freeze"] = False
    with pytest.raises(DataError, match="freeze: true"):
        train_generator(run, corpus, tmp_path / "run2", style_encoder=style_run, progress=False)


def test_beat_feature_model_trains_and_generates(corpus, tmp_path):
    """beat_feature: the beat channel is an input column, excluded from the audio feature statistics."""
    cfg = load_generator_run_config(write_tiny_config(tmp_path / "b.yaml", **{"style_dim: 8, hidden": "style_dim: 0, beat_feature: true, hidden"}))
    assert cfg.generator.beat_feature
    cfg.generator_train.max_epochs = 1
    best = train_generator(cfg, corpus, tmp_path / "beat", progress=False)
    pipe = StyGazeTalk.from_pretrained(best)
    gen = pipe.model.generator
    assert gen.config.beat_feature and gen.audio.feat_mean.shape == (gen.audio.feature_dim,)
    audio = load_split(corpus, "val", with_audio=True)[0].audio
    m = pipe.generate(audio)
    assert m.data.shape == (150, 7) and np.isfinite(m.data).all()
    assert pipe.generate(audio, online_beats=True).data.shape == (150, 7)
