"""HeadCVAE: shapes, losses, KL annealing, seeded sampling, chunk continuity, save → load."""

import numpy as np
import pytest
import torch

from stygaze.errors import CheckpointError
from stygaze.cvae.model import CVAEConfig, HeadCVAE, builtin_checkpoint_path, kl_gaussians, kl_weight

TINY = dict(hidden=8, z_dim=3, chunk=6, context=3, overlap=2)
VARIANTS = {
    "gru_context": CVAEConfig(**TINY),
    "gru_nocontext": CVAEConfig(use_context=False, **TINY),
    "framewise": CVAEConfig(temporal="framewise", **TINY),
}


def _gaze(T, rng):
    """Smooth-ish world gaze (T, 4) degrees: piecewise-constant targets, both eyes alike."""
    yaw = np.repeat(rng.normal(0, 15, T // 10 + 1), 10)[:T]
    pitch = np.repeat(rng.normal(0, 5, T // 10 + 1), 10)[:T]
    return np.stack([pitch, yaw, pitch, yaw], 1).astype(np.float32)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_loss_is_finite_and_backpropagates(name, rng):
    torch.manual_seed(0)
    model = HeadCVAE(VARIANTS[name])
    head = torch.tensor(rng.normal(0, 5, (4, 3 + 2 * 6, 3)), dtype=torch.float32)
    gaze = torch.tensor(rng.normal(0, 10, (4, 3 + 2 * 6, 4)), dtype=torch.float32)
    out = model.loss(head, gaze, beta=0.5, start=torch.tensor([True, False, True, False]))
    assert out.head.shape == (4, 12, 3)
    assert torch.isfinite(out.total) and out.kl >= 0
    out.total.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_generate_shapes_for_lengths_not_multiple_of_chunk(name, rng):
    model = HeadCVAE(VARIANTS[name])
    for T in (1, 4, 6, 7, 23):
        out = model.generate(_gaze(T, rng), num_samples=3, seed=0)
        assert out.shape == (3, T, 3) and out.dtype == np.float32 and np.isfinite(out).all()


def test_window_length_is_checked():
    model = HeadCVAE(VARIANTS["gru_context"])
    with pytest.raises(ValueError, match="window length"):
        model.loss(torch.zeros(1, 10, 3), torch.zeros(1, 10, 4), beta=0.0)


def test_config_rejects_context_longer_than_chunk():
    with pytest.raises(ValueError):
        CVAEConfig(chunk=5, context=6)
    with pytest.raises(ValueError):
        CVAEConfig(chunk=10, context=6, overlap=5)
    with pytest.raises(ValueError):
        CVAEConfig(temporal="lstm")


def test_kl_annealing_schedule_is_linear_then_flat():
    assert kl_weight(0, beta=0.2, warmup_steps=100) == 0.0
    assert kl_weight(50, beta=0.2, warmup_steps=100) == pytest.approx(0.1)
    assert kl_weight(100, beta=0.2, warmup_steps=100) == pytest.approx(0.2)
    assert kl_weight(10_000, beta=0.2, warmup_steps=100) == pytest.approx(0.2)
    assert kl_weight(0, beta=0.2, warmup_steps=0) == pytest.approx(0.2)


def test_kl_of_gaussians_matches_closed_form():
    z = torch.zeros(1, 2)
    assert float(kl_gaussians(z, z, z, z)) == pytest.approx(0.0)
    # KL(N(1, 1) || N(0, 1)) = 0.5 per dimension
    assert float(kl_gaussians(torch.ones(1, 2), z, z, z)) == pytest.approx(1.0)
    # KL(N(0, e) || N(0, 1)) = 0.5 (e - 1 - 1) per dimension
    assert float(kl_gaussians(z[:, :1], torch.ones(1, 1), z[:, :1], z[:, :1])) == pytest.approx(0.5 * (np.e - 2))


@pytest.mark.parametrize("name", list(VARIANTS))
def test_seeded_sampling_is_reproducible_and_seeds_differ(name, rng):
    torch.manual_seed(1)
    model = HeadCVAE(VARIANTS[name])
    with torch.no_grad():  # untrained priors are near N(0, 1); make z matter for the decoder
        for p in model.parameters():
            p.mul_(3.0)
    g = _gaze(40, rng)
    a = model.generate(g, num_samples=4, seed=7)
    b = model.generate(g, num_samples=4, seed=7)
    c = model.generate(g, num_samples=4, seed=8)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    assert np.abs(a[0] - a[1]).max() > 1e-3  # K samples differ from each other
    # temperature 0 -> the prior mean: every sample identical
    d = model.generate(g, num_samples=3, seed=7, temperature=0.0)
    np.testing.assert_allclose(d[0], d[2], rtol=1e-5, atol=1e-5)


def test_global_rng_is_not_touched_by_sampling(rng):
    model = HeadCVAE(VARIANTS["gru_context"])
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    model.generate(_gaze(20, rng), num_samples=2, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_chunk_layout():
    model = HeadCVAE(VARIANTS["gru_context"])  # chunk 6, overlap 2 -> a chunk every 4 frames
    assert model.chunk_starts(6) == [0]
    assert model.chunk_starts(7) == [0, 4]
    assert model.chunk_starts(23) == [0, 4, 8, 12, 16, 20]
    assert HeadCVAE(VARIANTS["gru_nocontext"]).chunk_starts(13) == [0, 6, 12]


@pytest.mark.parametrize("overlap", [0, 2])
def test_chunks_continue_from_the_last_generated_frame(rng, overlap):
    """Context chunks integrate velocities from the last frame: with zero velocity output the
    track stops where the first chunk's velocity has been cross-faded out, without any jump."""
    model = HeadCVAE(CVAEConfig(**{**TINY, "overlap": overlap}))
    with torch.no_grad():
        model.out_vel.weight.zero_()
        model.out_vel.bias.zero_()
    out = model.generate(_gaze(23, rng), num_samples=2, seed=3)
    N = model.config.chunk
    np.testing.assert_allclose(out[:, N - 1 :], np.broadcast_to(out[:, N - 1 : N], out[:, N - 1 :].shape), atol=1e-5)
    if overlap:
        # over the overlap the first chunk's velocity is faded out linearly (new chunk velocity = 0)
        g = _gaze(23, rng)
        out = model.generate(g, num_samples=1, seed=0, temperature=0.0)
        first = model.generate(g[:N], num_samples=1, seed=0, temperature=0.0)  # the first chunk alone
        S = N - overlap
        np.testing.assert_allclose(out[:, :S], first[:, :S], atol=1e-6)
        for j in range(overlap):
            w = (j + 1) / (overlap + 1)
            np.testing.assert_allclose(out[:, S + j] - out[:, S + j - 1], (1 - w) * (first[:, S + j] - first[:, S + j - 1]), atol=1e-5)


def test_no_context_chunks_are_independent(rng):
    """The no-context ablation decodes each chunk alone: chunk 2 does not depend on chunk 1's gaze."""
    model = HeadCVAE(VARIANTS["gru_nocontext"])  # chunk 6
    g = _gaze(12, rng)
    g2 = g.copy()
    g2[:6] += 30.0
    a = model.generate(g, num_samples=1, seed=0, temperature=0.0)
    b = model.generate(g2, num_samples=1, seed=0, temperature=0.0)
    np.testing.assert_allclose(a[:, 6:], b[:, 6:], atol=1e-6)
    assert np.abs(a[:, :6] - b[:, :6]).max() > 1e-4


def test_context_model_depends_on_the_past(rng):
    model = HeadCVAE(VARIANTS["gru_context"])
    g = _gaze(12, rng)
    g2 = g.copy()
    g2[:4] += 30.0  # before the second chunk (which starts at frame 4)
    a = model.generate(g, num_samples=1, seed=0, temperature=0.0)
    b = model.generate(g2, num_samples=1, seed=0, temperature=0.0)
    assert np.abs(a[:, 6:] - b[:, 6:]).max() > 1e-5


@pytest.mark.parametrize("name", ["gru_context", "framewise"])
def test_save_load_gives_identical_outputs(name, tmp_path, rng):
    model = HeadCVAE(VARIANTS[name])
    model.set_normalization([1, 2, 3], [4, 5, 6], [0, 1, 0, 1], [7, 8, 7, 8])
    g = _gaze(17, rng)
    before = model.generate(g, num_samples=2, seed=5)
    model.save(tmp_path / "ckpt", meta={"note": "test"})
    loaded = HeadCVAE.from_pretrained(tmp_path / "ckpt")
    assert loaded.config == model.config
    torch.testing.assert_close(loaded.head_std, torch.tensor([4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(loaded.generate(g, num_samples=2, seed=5), before)


def test_from_pretrained_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        HeadCVAE.from_pretrained(tmp_path / "missing")
    from stygaze.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "other", torch.nn.Linear(2, 2), model_type="generator", config={"a": 1})
    with pytest.raises(CheckpointError, match="expected 'cvae'"):
        HeadCVAE.from_pretrained(tmp_path / "other")
    # weights that do not fit the stored config
    model = HeadCVAE(VARIANTS["gru_context"])
    model.save(tmp_path / "ok")
    import json

    cfg = json.loads((tmp_path / "ok" / "config.json").read_text())
    cfg["config"]["hidden"] = 12
    (tmp_path / "ok" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="do not fit"):
        HeadCVAE.from_pretrained(tmp_path / "ok")


def test_builtin_checkpoint_loads_and_is_small():
    path = builtin_checkpoint_path()
    model = HeadCVAE.from_pretrained()
    assert model.config.contextual
    assert sum(f.stat().st_size for f in path.iterdir()) < 2_000_000


def test_builtin_samples_are_diverse_smooth_and_continuous_at_chunk_borders(rng):
    """The shipped model: K samples differ clearly, each is smooth, and chunk borders do not jump."""
    from stygaze.cvae.pipeline import head_jerk, sample_diversity

    model = HeadCVAE.from_pretrained()
    T = 500
    yaw = np.repeat(rng.normal(0, 8, T // 15 + 1), 15)[:T]
    pitch = np.repeat(rng.normal(0, 4, T // 15 + 1), 15)[:T]
    g = np.stack([pitch, yaw, pitch, yaw], 1).astype(np.float32)
    heads = model.generate(g, num_samples=4, seed=0)
    assert sample_diversity(heads) > 0.5  # degrees
    assert head_jerk(heads) < 0.5  # deg/frame^3 (the frame-wise ablation: ~16)
    acc = np.linalg.norm(np.diff(heads, n=2, axis=1), axis=-1)  # (K, T-2)
    border = np.zeros(acc.shape[1], bool)
    for s in model.chunk_starts(T)[1:]:
        border[s - 2 : s] = True
    assert acc[:, border].mean() < 2.0 * acc[:, ~border].mean()


def test_generation_can_continue_from_a_given_head_pose(rng):
    model = HeadCVAE(VARIANTS["gru_context"])
    g = _gaze(20, rng)
    out = model.generate(g, num_samples=2, seed=0, start_head=np.array([10.0, 20.0, 5.0]))
    plain = model.generate(g, num_samples=2, seed=0)
    # the first frame is one integrated velocity step away from the given pose (untrained: < 3 deg)
    assert np.abs(out[:, 0] - [10.0, 20.0, 5.0]).max() < 3.0
    assert np.abs(plain[:, 0] - [10.0, 20.0, 5.0]).max() > 3.0
