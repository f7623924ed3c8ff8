import numpy as np
import pytest
import torch

from stygaze.errors import StyleError
from stygaze.stygazetalk.style_encoder import StyleEncoder, StyleEncoderConfig, nt_xent


def tiny(**kw):
    torch.manual_seed(0)
    cfg = dict(style_dim=8, d_model=16, num_layers=1, num_heads=2, ff_dim=16, window=40, min_frames=20, dropout=0.0)
    cfg.update(kw)
    return StyleEncoder(StyleEncoderConfig(**cfg)).eval()


def test_shapes_and_unit_norm(rng):
    enc = tiny()
    s = enc(torch.from_numpy(rng.standard_normal((3, 40, 7)).astype(np.float32)))
    assert s.shape == (3, 8)
    assert torch.allclose(s.norm(dim=1), torch.ones(3), atol=1e-5)


def test_batch_equals_single(rng):
    enc = tiny()
    x = torch.from_numpy(rng.standard_normal((4, 40, 7)).astype(np.float32))
    batch = enc(x)
    single = torch.cat([enc(x[i : i + 1]) for i in range(4)])
    assert torch.allclose(batch, single, atol=1e-5)


def test_nan_frames_are_masked_not_propagated(rng):
    enc = tiny()
    x = rng.standard_normal((1, 40, 7)).astype(np.float32)
    y = x.copy()
    y[0, 10:15] = np.nan
    s = enc(torch.from_numpy(y))
    assert torch.isfinite(s).all()
    # a masked frame's value does not matter
    z = y.copy()
    z[0, 10:15] = 0.0
    z[0, 10:15] = np.nan
    assert torch.allclose(s, enc(torch.from_numpy(z)))


def test_nt_xent_prefers_matching_pairs():
    torch.manual_seed(0)
    a = torch.nn.functional.normalize(torch.randn(8, 16), dim=1)
    good = nt_xent(a, a + 0.01 * torch.randn(8, 16), 0.1)
    bad = nt_xent(a, a[torch.randperm(8)], 0.1)
    assert good < 0.05 < bad
    # with identical pairs and orthogonal negatives: -log(e^10 / (e^10 + 2N-2)) for N = 2
    e = torch.eye(2)
    expected = -np.log(np.exp(10) / (np.exp(10) + 2))
    assert float(nt_xent(e, e, 0.1)) == pytest.approx(expected, rel=1e-3)


def test_finite_loss_and_backward(rng):
    enc = tiny()
    enc.train()
    a = enc(torch.from_numpy(rng.standard_normal((4, 40, 7)).astype(np.float32)))
    b = enc(torch.from_numpy(rng.standard_normal((4, 40, 7)).astype(np.float32)))
    loss = nt_xent(a, b)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in enc.parameters() if p.requires_grad)


def test_encode_clip_windows_and_errors(rng):
    enc = tiny()
    long = rng.standard_normal((130, 7)).astype(np.float32)
    assert enc.clip_windows(long).shape == (6, 40, 7)  # starts 0, 20, 40, 60, 80 and 90 (aligned to the end)
    s = enc.encode_clip(long)
    assert s.shape == (8,) and np.isclose(np.linalg.norm(s), 1.0, atol=1e-5)
    assert enc.encode_clip(long[:30]).shape == (8,)  # shorter than a window but >= min_frames
    with pytest.raises(StyleError, match="at least 20"):
        enc.encode_clip(long[:10])
    nan = long.copy()
    nan[np.arange(130) % 3 != 0] = np.nan  # 44 valid frames, but every window is 2/3 NaN
    with pytest.raises(StyleError):
        enc.encode_clip(nan)


def test_encoder_id_depends_on_weights():
    a, b = tiny(), tiny()
    assert a.encoder_id == b.encoder_id
    with torch.no_grad():
        b.head.bias.add_(1e-3)
    assert a.encoder_id != b.encoder_id
