import numpy as np
import pytest
import torch

from gen_fixtures import tiny_model
from stygaze.checkpoint import read_checkpoint
from stygaze.errors import CheckpointError
from stygaze.stygazetalk.generator import GeneratorConfig, MotionGenerator, StyGazeTalkModel, generator_loss


def inputs(rng, B=3, M=6, F=44, d_s=8):
    a = torch.from_numpy(rng.standard_normal((B, M, F)).astype(np.float32))
    p = torch.from_numpy(rng.standard_normal((B, M, 7)).astype(np.float32))
    s = torch.nn.functional.normalize(torch.from_numpy(rng.standard_normal((B, d_s)).astype(np.float32)), dim=1)
    return a, p, s


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_step_shapes_loss_and_backward(kind, rng):
    model = tiny_model(kind=kind).generator.train()
    a, p, s = inputs(rng)
    target = torch.from_numpy(rng.standard_normal((3, 4, 7)).astype(np.float32))
    out = model(a, p, s, target)
    assert out.motion.shape == (3, 4, 7)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    grads = [q.grad for q in model.parameters() if q.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    if kind == "lstm":
        assert model.h0.grad is not None and model.h0.grad.abs().sum() > 0  # learnable initial state is used


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_batch_equals_single(kind, rng):
    model = tiny_model(kind=kind).generator.eval()
    a, p, s = inputs(rng)
    batch = model(a, p, s).motion
    single = torch.cat([model(a[i : i + 1], p[i : i + 1], s[i : i + 1]).motion for i in range(3)])
    assert torch.allclose(batch, single, atol=1e-5)


def test_style_changes_the_output(rng):
    model = tiny_model().generator
    a, p, s = inputs(rng, B=1)
    assert not torch.allclose(model(a, p, s).motion, model(a, p, -s).motion)


def test_loss_terms():
    pred = torch.zeros(1, 3, 7)
    target = torch.ones(1, 3, 7)
    last = torch.zeros(1, 7)
    loss, mse, vel = generator_loss(pred, target, last, 0.5)
    # mse = 1; velocities: target steps (1, 0, 0) vs 0 -> mean square = 1/3
    assert mse == pytest.approx(1.0) and vel == pytest.approx(1 / 3)
    assert float(loss) == pytest.approx(0.5 + 0.5 / 3)
    loss1, _, _ = generator_loss(pred, target, last, 1.0)
    assert float(loss1) == pytest.approx(1.0)


@pytest.mark.parametrize("T", [1, 5, 6, 23])
def test_rollout_any_length(T, rng):
    model = tiny_model().generator
    feats = torch.from_numpy(rng.standard_normal((2, T, 44)).astype(np.float32))
    out = model.rollout(feats)
    assert out.shape == (2, T, 7) and torch.isfinite(out).all()


def test_rollout_is_causal_in_audio_beyond_lookahead(rng):
    """Frame t only depends on audio up to t + N + M - 1 (the stated latency)."""
    model = tiny_model().generator
    c = model.config
    feats = torch.from_numpy(rng.standard_normal((1, 40, 44)).astype(np.float32))
    base = model.rollout(feats)
    changed = feats.clone()
    changed[:, 30:] += 5.0
    out = model.rollout(changed)
    # frames of steps whose audio window ends before 30 are unchanged: steps k with k*N + M <= 30
    safe = ((30 - c.M) // c.N + 1) * c.N
    assert torch.equal(out[:, :safe], base[:, :safe])
    assert not torch.equal(out, base)
    assert c.latency_frames == c.N + c.M - 1


def test_save_load_identical(tmp_path, rng):
    model = tiny_model()
    model.save(tmp_path / "ckpt")
    loaded, meta = StyGazeTalkModel.load(tmp_path / "ckpt")
    assert meta["audio_encoder_id"].startswith("mel-v1") and meta["style_encoder_id"].startswith("style-")
    feats = torch.from_numpy(rng.standard_normal((1, 20, 44)).astype(np.float32))
    assert torch.equal(model.generator.rollout(feats), loaded.generator.rollout(feats))
    assert torch.equal(model.generator.motion_std, loaded.generator.motion_std)  # stats travel as buffers
    info = read_checkpoint(tmp_path / "ckpt")
    assert info.model_type == "stygazetalk" and "generator.motion_mean" in info.state_dict


def test_base_model_without_style(tmp_path, rng):
    model = tiny_model(style_dim=0)
    assert model.style_encoder is None
    model.save(tmp_path / "b")
    loaded, _ = StyGazeTalkModel.load(tmp_path / "b")
    a, p, _ = inputs(rng, B=1)
    assert torch.equal(model.generator(a, p).motion, loaded.generator(a, p).motion)


def test_corrupt_checkpoint_is_a_checkpoint_error(tmp_path):
    tiny_model().save(tmp_path / "c")
    (tmp_path / "c" / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError):
        StyGazeTalkModel.load(tmp_path / "c")
    with pytest.raises(CheckpointError):
        StyGazeTalkModel.load(tmp_path / "missing")


def test_unknown_kind():
    with pytest.raises(ValueError):
        MotionGenerator(GeneratorConfig(kind="gru"))


def test_latent_generator_trains_and_samples(rng):
    from stygaze.stygazetalk.generator import GeneratorConfig, MotionGenerator, NoiseSource

    torch.manual_seed(0)
    gen = MotionGenerator(GeneratorConfig(d=8, style_dim=0, hidden=16, M=6, N=4, latent_dim=3, dropout=0.0))
    a, p, _ = inputs(rng, B=2)
    target = torch.from_numpy(rng.standard_normal((2, 4, 7)).astype(np.float32))
    out = gen(a, p, None, target)
    assert out.kl is not None and out.kl >= 0 and torch.isfinite(out.loss)
    out.loss.backward()
    assert gen.posterior[0].weight.grad is not None and gen.prior.weight.grad is not None
    feats = torch.from_numpy(rng.standard_normal((1, 17, 44)).astype(np.float32))
    with torch.no_grad():
        gen.out.weight.normal_(0, 0.5)
        a1 = gen.rollout(feats, noise=NoiseSource(1, 3))
        a2 = gen.rollout(feats, noise=NoiseSource(1, 3))
        b = gen.rollout(feats, noise=NoiseSource(2, 3))
        mean = gen.rollout(feats)
    assert torch.equal(a1, a2) and not torch.allclose(a1, b) and not torch.allclose(a1, mean)
    assert torch.allclose(gen.rollout(feats, noise=NoiseSource(1, 3, temperature=0.0)), mean)

