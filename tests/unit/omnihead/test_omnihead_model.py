"""OmniHead: shapes, shifted-window masking, Swin-T size, decoder layout, losses, save/load, inference."""

import numpy as np
import pytest
import torch

from stygaze.checkpoint import save_checkpoint
from stygaze.errors import CheckpointError
from stygaze.omnihead.config import TASK_DIMS, OmniHeadConfig, swin_t_config
from stygaze.omnihead.loss import LossConfig, omnihead_loss
from stygaze.omnihead.model import OmniHead, load_omnihead
from stygaze.omnihead.video_swin import SwinBlock3D, WindowAttention3D, compute_shift_mask, window_partition, window_reverse
from stygaze.omnihead.inference import sliding_window_predict


def micro_config(**kw):
    base = dict(img_size=32, num_frames=8, embed_dim=16, depths=(1, 1), num_heads=(2, 2), window_size=(2, 4, 4), decoder_layers=2, decoder_heads=2, head_hidden=16)
    base.update(kw)
    return OmniHeadConfig(**base)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return OmniHead(micro_config()).eval()


def test_output_shapes_per_task(model):
    video = torch.randint(0, 256, (2, 8, 32, 32, 3), dtype=torch.uint8)
    out = model(video)
    for task, dim in TASK_DIMS.items():
        assert out.task(task).shape == (2, 8, dim), task
    assert out.clip_features.shape == out.clip_dynamics.shape == (2, model.config.out_dim)
    assert out.frame_features.shape == (2, 8, model.config.out_dim)
    assert torch.allclose(out.gaze.norm(dim=-1), torch.ones(2, 8), atol=1e-4)
    assert out.va.abs().max() <= 1.0


def test_float_and_uint8_inputs_agree(model):
    video = torch.randint(0, 256, (1, 8, 32, 32, 3), dtype=torch.uint8)
    a = model(video).gesture
    b = model(video.permute(0, 4, 1, 2, 3).float() / 255.0).gesture
    assert torch.allclose(a, b, atol=1e-5)


def test_batch_equals_single(model):
    video = torch.randint(0, 256, (3, 8, 32, 32, 3), dtype=torch.uint8)
    full = model(video).saccade
    one = model(video[1:2]).saccade
    assert torch.allclose(full[1:2], one, atol=1e-5)


def test_window_partition_roundtrip():
    x = torch.randn(2, 4, 8, 8, 5)
    w = window_partition(x, (2, 4, 4))
    assert w.shape == (2 * 2 * 2 * 2, 32, 5)
    assert torch.equal(window_reverse(w, (2, 4, 4), 2, 4, 8, 8), x)


def test_shift_mask_blocks_cross_region_pairs():
    mask = compute_shift_mask((4, 8, 8), (2, 4, 4), (1, 2, 2))
    assert mask.shape == (8, 32, 32)
    # the first window is not wrapped: nothing masked; the last window mixes 8 regions
    assert (mask[0] == 0).all()
    last = mask[-1]
    assert (last == -100).sum() > 0
    # tokens in the last window: (d, h, w) local coords; regions split at the half of each axis
    coords = torch.stack(torch.meshgrid(torch.arange(2), torch.arange(4), torch.arange(4), indexing="ij")).flatten(1).T
    region = (coords[:, 0] >= 1) * 4 + (coords[:, 1] >= 2) * 2 + (coords[:, 2] >= 2)
    same = region[:, None] == region[None, :]
    assert torch.equal(last == 0, same)


def test_shifted_attention_ignores_other_regions():
    torch.manual_seed(0)
    attn = WindowAttention3D(8, (2, 4, 4), 2)
    mask = compute_shift_mask((4, 8, 8), (2, 4, 4), (1, 2, 2))
    x = torch.randn(8, 32, 8)
    base = attn(x, (2, 4, 4), mask)
    changed = x.clone()
    # token 31 of the last window is in another region than token 0 there
    assert mask[-1, 0, 31] == -100
    changed[-1, 31] += 5.0
    out = attn(changed, (2, 4, 4), mask)
    assert torch.allclose(out[-1, 0], base[-1, 0], atol=1e-5)
    same_region = torch.nonzero(mask[-1, 0] == 0).flatten()[-1]
    changed2 = x.clone()
    changed2[-1, same_region] += 5.0
    assert not torch.allclose(attn(changed2, (2, 4, 4), mask)[-1, 0], base[-1, 0], atol=1e-4)


def test_window_attention_equals_sdpa_with_expanded_mask():
    """The broadcast bias/mask softmax is the same attention as SDPA with the mask expanded per window."""
    import torch.nn.functional as F

    torch.manual_seed(0)
    attn = WindowAttention3D(8, (2, 4, 4), 2)
    mask = compute_shift_mask((4, 8, 8), (2, 4, 4), (1, 2, 2))  # (8 windows, 32, 32)
    x = torch.randn(16, 32, 8)  # batch 2 × 8 windows
    n, heads, hd = 32, 2, 4
    qkv = attn.qkv(x).reshape(16, n, 3, heads, hd).permute(2, 0, 3, 1, 4)
    bias = attn.relative_position_bias_table[attn.relative_index((2, 4, 4)).reshape(-1)].reshape(n, n, heads).permute(2, 0, 1)
    for m in (mask, None):
        full = bias.expand(16, heads, n, n) if m is None else (bias[None, None] + m[None, :, None]).expand(2, 8, heads, n, n).reshape(16, heads, n, n)
        ref = attn.proj(F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=full).transpose(1, 2).reshape(16, n, 8))
        assert torch.allclose(attn(x, (2, 4, 4), m), ref, atol=1e-6)


def test_shift_mask_is_built_once_per_input_size():
    torch.manual_seed(0)
    model = OmniHead(micro_config()).eval()
    stage = model.encoder.stages[0]
    video = torch.randint(0, 256, (1, 8, 32, 32, 3), dtype=torch.uint8)
    y0 = model(video).gaze
    cached = dict(stage._mask_cache)
    assert len(cached) == 1
    y1 = model(video).gaze
    assert all(stage._mask_cache[k] is v for k, v in cached.items()) and torch.equal(y0, y1)
    key, mask = next(iter(cached.items()))
    assert torch.equal(mask, compute_shift_mask(key[0], key[1], key[2]))


def test_shifted_block_does_not_wrap_around():
    """With the mask, a token at the far end of the clip cannot leak into the first frame via the roll."""
    torch.manual_seed(0)
    block = SwinBlock3D(8, 2, (2, 4, 4), (1, 2, 2), 2.0, 0.0).eval()
    mask = compute_shift_mask((4, 8, 8), (2, 4, 4), (1, 2, 2))
    x = torch.randn(1, 4, 8, 8, 8)
    y0 = block(x, mask)
    x2 = x.clone()
    x2[0, -1, -1, -1] += 10.0  # after the roll token (3,7,7) shares the last window with token (0,0,0)
    y1 = block(x2, mask)
    far = (y1 - y0)[0, 0, 0, 0].abs().max()
    near = (y1 - y0)[0, 3, 6, 6].abs().max()  # a true neighbour (same region) does see it
    assert far == 0 and near > 0


def test_swin_t_parameter_count():
    model = OmniHead(swin_t_config())
    n_enc = model.num_parameters("encoder")
    assert 27.5e6 < n_enc < 28.5e6  # Video Swin-T backbone ≈ 28 M
    assert model.config.out_dim == 768
    assert model.encoder.stages[0].blocks[0].attn.relative_position_bias_table.shape == (15 * 13 * 13, 3)


def test_decoder_first_layer_has_no_self_attention(model):
    layers = model.decoder.layers
    assert layers[0].self_attn is None
    assert all(layer.self_attn is not None for layer in layers[1:])
    assert model.decoder.task_tokens.shape == (len(model.config.tasks), model.config.out_dim)


def test_losses_finite_and_backward(model):
    model.train()
    video = torch.randint(0, 256, (2, 8, 32, 32, 3), dtype=torch.uint8)
    out = model(video)
    targets = {
        "gesture": torch.randint(0, 6, (2, 8)),
        "blink": torch.randint(0, 2, (2, 8)),
        "saccade": torch.randint(0, 2, (2, 8)),
        "gaze": torch.nn.functional.normalize(torch.randn(2, 8, 3), dim=-1),
        "expression": torch.randint(0, 8, (2, 8)),
        "va": torch.rand(2, 8, 2) * 2 - 1,
        "au": torch.randint(0, 2, (2, 8, 12)).float(),
    }
    loss = omnihead_loss(out, targets)
    assert torch.isfinite(loss.total)
    assert set(loss.per_task) == set(targets)
    model.zero_grad()
    loss.total.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    model.eval()


def test_unlabelled_tasks_are_masked(model):
    video = torch.randint(0, 256, (2, 8, 32, 32, 3), dtype=torch.uint8)
    out = model(video)
    gest = torch.randint(0, 6, (2, 8))
    gest[1] = -1  # sample 1 has no gesture labels
    gaze = torch.full((2, 8, 3), float("nan"))  # nobody has gaze
    loss = omnihead_loss(out, {"gesture": gest, "gaze": gaze, "va": torch.full((2, 8, 2), float("nan"))})
    assert set(loss.per_task) == {"gesture"}
    assert loss.counts["gesture"] == 8
    # the masked sample cannot influence the loss
    out2 = model(video)
    out2.gesture = out2.gesture.detach().requires_grad_(True)
    omnihead_loss(out2, {"gesture": gest}).total.backward()
    assert out2.gesture.grad[1].abs().max() == 0
    assert out2.gesture.grad[0].abs().max() > 0
    # all-unlabelled batch: zero loss, no NaN
    empty = omnihead_loss(out, {"gesture": torch.full((2, 8), -1), "gaze": gaze})
    assert float(empty.total) == 0.0 and empty.per_task == {}


def test_gesture_class_weights_change_the_loss(model):
    video = torch.randint(0, 256, (2, 8, 32, 32, 3), dtype=torch.uint8)
    with torch.no_grad():
        out = model(video)
    tgt = {"gesture": torch.tensor([[0] * 8, [1] * 4 + [0] * 4])}
    plain = omnihead_loss(out, tgt, LossConfig(gesture_smoothing=0.0)).per_task["gesture"]
    ones = omnihead_loss(out, tgt, LossConfig(gesture_smoothing=0.0, gesture_class_weights=(1.0,) * 6)).per_task["gesture"]
    up = omnihead_loss(out, tgt, LossConfig(gesture_smoothing=0.0, gesture_class_weights=(1.0, 5.0, 1.0, 1.0, 1.0, 1.0))).per_task["gesture"]
    logits = out.gesture.reshape(-1, 6)
    nll = -logits.log_softmax(-1)[torch.arange(16), tgt["gesture"].reshape(-1)]
    w = torch.where(tgt["gesture"].reshape(-1) == 1, 5.0, 1.0)
    assert ones == pytest.approx(plain, rel=1e-6)
    assert up == pytest.approx(float((w * nll).sum() / w.sum()), rel=1e-5)


def test_aux_probes_add_their_loss_and_leave_predictions_alone():
    torch.manual_seed(0)
    plain = OmniHead(micro_config()).eval()
    probed = OmniHead(micro_config(aux_probes=True)).eval()
    extra = set(probed.state_dict()) - set(plain.state_dict())
    assert extra and all(k.startswith("aux_probes.") for k in extra)
    probed.load_state_dict({**probed.state_dict(), **plain.state_dict()})  # same weights + probes
    video = torch.randint(0, 256, (2, 8, 32, 32, 3), dtype=torch.uint8)
    a, b = plain(video), probed(video)
    assert a.aux is None and set(b.aux) == set(TASK_DIMS)
    assert b.aux["blink"].shape == (2, 8, 2) and torch.equal(a.blink, b.blink)  # the probes are a side branch
    tgt = {"blink": torch.randint(0, 2, (2, 8)), "gaze": torch.nn.functional.normalize(torch.randn(2, 8, 3), dim=-1)}
    base = omnihead_loss(b, tgt, LossConfig())
    with_aux = omnihead_loss(b, tgt, LossConfig(aux_weight=0.5))
    probe_only = omnihead_loss(type(b)(b.clip_features, b.clip_dynamics, b.frame_features, **b.aux), tgt, LossConfig())
    assert float(with_aux.total.detach()) == pytest.approx(float(base.total.detach()) + 0.5 * float(probe_only.total.detach()), rel=1e-5)
    assert with_aux.per_task["aux_blink"] == pytest.approx(probe_only.per_task["blink"])
    with_aux.total.backward()
    assert probed.aux_probes["blink"].weight.grad.abs().sum() > 0


def test_task_tokens_start_at_unit_scale():
    torch.manual_seed(0)
    tokens = OmniHead(micro_config()).decoder.task_tokens
    assert 0.7 < float(tokens.detach().std()) < 1.3  # DETR-like queries; 0.02 left cross-attention uniform


def test_loss_weights_and_gaze_units(model):
    out = model(torch.randint(0, 256, (1, 8, 32, 32, 3), dtype=torch.uint8))
    gaze = torch.tensor([[0.0, 0.0, 1.0]]).expand(1, 8, 3)
    deg = omnihead_loss(out, {"gaze": gaze})
    rad = omnihead_loss(out, {"gaze": gaze}, LossConfig(gaze_in_degrees=False))
    assert deg.per_task["gaze"] == pytest.approx(rad.per_task["gaze"] * 180 / np.pi, rel=1e-4)
    assert float(deg.total.detach()) == pytest.approx(5.0 * deg.per_task["gaze"], rel=1e-5)


def test_save_load_identical(model, tmp_path):
    save_checkpoint(tmp_path / "ck", model, model_type="omnihead", config=model.config)
    loaded = load_omnihead(tmp_path / "ck")
    video = torch.randint(0, 256, (1, 8, 32, 32, 3), dtype=torch.uint8)
    a, b = model(video), loaded(video)
    assert torch.equal(a.gesture, b.gesture) and torch.equal(a.gaze, b.gaze)
    with pytest.raises(CheckpointError):
        load_omnihead(tmp_path / "missing")


def test_sliding_window_keeps_centre_frame(model):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (13, 32, 32, 3), dtype=np.uint8)
    pred = sliding_window_predict(model, frames, batch_size=4)
    assert pred.gesture.shape == (13,) and pred.gesture_prob.shape == (13, 6)
    assert pred.blink_prob.shape == (13,) and pred.gaze.shape == (13, 3)
    assert pred.clip_features.shape == (13, model.config.out_dim)
    # frame 5 equals the centre (index 4) of the window [1, 9)
    with torch.no_grad():
        out = model(torch.from_numpy(frames[1:9][None]))
    assert np.allclose(pred.gesture_prob[5], out.gesture[0, 4].softmax(-1).numpy(), atol=1e-5)
    # strided inference gives the same number of frames
    fast = sliding_window_predict(model, frames, stride=4)
    assert fast.gesture.shape == (13,) and fast.clip_features.shape == (4, model.config.out_dim)
    assert np.allclose(fast.gesture_prob[4], pred.gesture_prob[4], atol=1e-5)  # centre frame of the window [0, 8)


def test_binary_thresholds_decide_blink_and_saccade():
    torch.manual_seed(1)
    model = OmniHead(micro_config()).eval()
    frames = np.random.default_rng(1).integers(0, 256, (9, 32, 32, 3), dtype=np.uint8)
    model.binary_thresholds[:] = torch.tensor([0.0, 1.01])  # blink always, saccade never
    pred = sliding_window_predict(model, frames)
    assert pred.blink.tolist() == [1] * 9 and pred.saccade.tolist() == [0] * 9
    assert "binary_thresholds" in model.state_dict()  # saved with the weights


def test_clip_dynamics_zero_for_a_still_video(model):
    still = torch.randint(0, 256, (1, 1, 32, 32, 3), dtype=torch.uint8).expand(1, 8, 32, 32, 3).contiguous()
    moving = torch.randint(0, 256, (1, 8, 32, 32, 3), dtype=torch.uint8)
    # not exactly 0: (shifted) window borders make the time steps of a still clip differ slightly
    assert model(still).clip_dynamics.abs().max() < 1e-3 * model(moving).clip_dynamics.abs().max()


@pytest.mark.slow
@pytest.mark.gl
def test_shipped_recognizer_sees_a_rendered_blink_and_nod():
    """Regression test of the shipped tiny checkpoint on real renders (procedural head, 64 px):
    a still head with one 5-frame blink, and a 2.5 Hz ±8° nod."""
    from stygaze.motion import Motion
    from stygaze.render.clips import render_clip_frames

    model = load_omnihead()
    blink = np.zeros(32, np.float32)
    blink[14:19] = 1.0
    still = sliding_window_predict(model, render_clip_frames(Motion(np.zeros((32, 7), np.float32), 25, blink=blink), size=64), stride=4)
    assert still.blink[14:18].all() and not still.blink[:12].any() and not still.blink[21:].any()
    assert (still.gesture == 0).all()  # no head motion: no gesture
    nod = np.zeros((32, 7), np.float32)
    nod[:, 0] = 8.0 * np.sin(2 * np.pi * 2.5 * np.arange(32) / 25)
    moving = sliding_window_predict(model, render_clip_frames(Motion(nod, 25), size=64), stride=4)
    assert np.mean(moving.gesture == 1) > 0.8  # 1 = nod


@pytest.mark.gl
@pytest.mark.parametrize("amplitude", [5.0, 10.0])
def test_shipped_recognizer_sees_a_rendered_saccade(amplitude):
    """The shipped saccade head (frame-rate motion path) on a still head whose eyes jump once
    between frames 19 and 20 (≈ 0.4–0.8 px of iris motion at 64 px): saccade there and nowhere else."""
    from stygaze.motion import Motion
    from stygaze.render.clips import render_clip_frames

    model = load_omnihead()
    eyes = np.zeros((40, 7), np.float32)
    eyes[20:, [4, 6]] = amplitude  # both eyes' yaw
    pred = sliding_window_predict(model, render_clip_frames(Motion(eyes, 25), size=64))
    assert pred.saccade[19:21].all()
    assert not pred.saccade[:18].any() and not pred.saccade[22:].any()


# ---- saccade head on the model's own gaze track (OmniHeadConfig.saccade_gaze_velocity)


def test_saccade_gaze_velocity_sets_the_head_input_width():
    from stygaze.omnihead.model import OmniHead

    c = micro_config().out_dim
    assert OmniHead(micro_config()).heads["saccade"][0].in_features == c  # default: the paper's head
    with_token = OmniHead(micro_config(saccade_gaze_velocity=True, saccade_gaze_context=3))
    assert with_token.heads["saccade"][0].in_features == c + 9
    assert with_token.heads["blink"][0].in_features == c  # only the saccade head changes
    alone = OmniHead(micro_config(saccade_gaze_velocity=True, saccade_token=False))
    assert alone.heads["saccade"][0].in_features == 6
    with pytest.raises(ValueError, match="saccade_token"):
        micro_config(saccade_token=False)
    with pytest.raises(ValueError, match="gaze"):
        micro_config(saccade_gaze_velocity=True, tasks=("saccade",))
    with pytest.raises(ValueError, match="context"):
        micro_config(saccade_gaze_velocity=True, saccade_gaze_context=0)


def _rot_y(deg):
    a = np.radians(deg)
    return np.array([np.sin(a), 0.0, np.cos(a)], np.float32)


def test_gaze_speed_features_step_gives_a_peak_at_the_step():
    from stygaze.omnihead.model import gaze_speed_features

    # frames 0-3 look straight ahead, frames 4-7 5° to the side: one 5° step between frames 3 and 4
    g = torch.from_numpy(np.stack([_rot_y(0.0)] * 4 + [_rot_y(5.0)] * 4))[None] * 2.0  # not unit length
    deg = torch.expm1(gaze_speed_features(g, context=2))[0].numpy()  # (8, 6) degrees
    assert deg.shape == (8, 6)
    # columns: t-2→t-1, t-1→t, t→t+1, t+1→t+2, then spans t-1→t+1, t-2→t+2
    expected = np.zeros((8, 6))
    expected[5, 0] = expected[4, 1] = expected[3, 2] = expected[2, 3] = 5.0
    expected[[3, 4], 4] = 5.0
    expected[[2, 3, 4, 5], 5] = 5.0
    assert np.allclose(deg, expected, atol=1e-3)
    assert np.argmax(deg[:, 2]) == 3 and np.argmax(deg[:, 1]) == 4  # the speed peak sits at the step


def test_gaze_speed_features_constant_track_and_edges_are_zero():
    from stygaze.omnihead.model import gaze_speed_features

    ramp = torch.from_numpy(np.stack([_rot_y(2.0 * t) for t in range(6)]))[None]  # 2°/frame
    deg = torch.expm1(gaze_speed_features(ramp, context=1))[0].numpy()  # (6, 3): t-1→t, t→t+1, t-1→t+1
    assert np.allclose(deg[1:-1], [[2.0, 2.0, 4.0]] * 4, atol=1e-3)
    assert np.allclose(deg[0], [0.0, 2.0, 2.0], atol=1e-3) and np.allclose(deg[-1], [2.0, 0.0, 2.0], atol=1e-3)  # padded edges
    still = torch.tensor([[[0.0, 0.0, 1.0]] * 5])
    assert torch.allclose(gaze_speed_features(still, 2), torch.zeros(1, 5, 6), atol=1e-6)
    with pytest.raises(ValueError):
        gaze_speed_features(torch.zeros(5, 3))


def test_saccade_head_reads_the_detached_gaze():
    torch.manual_seed(0)
    model = OmniHead(micro_config(saccade_gaze_velocity=True, saccade_token=False)).eval()
    video = torch.randint(0, 256, (2, 8, 32, 32, 3), dtype=torch.uint8)
    out = model(video)
    out.saccade.sum().backward()
    assert all(p.grad is None for p in model.heads["gaze"].parameters())  # detached: no gradient into the gaze head
    assert all(p.grad is None for p in model.encoder.parameters())  # token off: the gaze branch is the only input
    assert model.heads["saccade"][0].weight.grad.abs().sum() > 0
    with torch.no_grad():
        model.heads["gaze"][-1].weight.mul_(-3.0)  # another gaze track ...
        model.heads["gaze"][-1].bias.add_(torch.tensor([0.3, -0.2, 0.1]))
        again = model(video)
    assert not torch.allclose(again.saccade, out.saccade)  # ... changes the saccade logits
    assert torch.allclose(again.blink, out.blink)


def test_sliding_window_with_gaze_velocity_keeps_centre_frame():
    torch.manual_seed(2)
    model = OmniHead(micro_config(saccade_gaze_velocity=True)).eval()
    frames = np.random.default_rng(2).integers(0, 256, (11, 32, 32, 3), dtype=np.uint8)
    pred = sliding_window_predict(model, frames, batch_size=4)
    assert pred.saccade.shape == pred.saccade_prob.shape == (11,)
    with torch.no_grad():
        out = model(torch.from_numpy(frames[2:10][None]))  # frame 6 = centre (index 4) of [2, 10)
    assert np.allclose(pred.saccade_prob[6], out.saccade[0, 4].softmax(-1)[1].item(), atol=1e-5)
    fast = sliding_window_predict(model, frames, stride=4)
    assert fast.saccade.shape == (11,)


def test_checkpoint_without_the_new_fields_loads_as_the_paper_head(tmp_path):
    import json

    torch.manual_seed(3)
    model = OmniHead(micro_config()).eval()
    save_checkpoint(tmp_path / "ck", model, model_type="omnihead", config=model.config)
    path = tmp_path / "ck" / "config.json"
    payload = json.loads(path.read_text())
    for k in ("saccade_gaze_velocity", "saccade_gaze_context", "saccade_token"):
        del payload["config"][k]  # as written by stygaze before the flag existed
    path.write_text(json.dumps(payload))
    loaded = load_omnihead(tmp_path / "ck")
    assert not loaded.config.saccade_gaze_velocity
    video = torch.randint(0, 256, (1, 8, 32, 32, 3), dtype=torch.uint8)
    assert torch.equal(loaded(video).saccade, model(video).saccade)
    # and a flagged checkpoint saved/loaded round-trips
    flagged = OmniHead(micro_config(saccade_gaze_velocity=True)).eval()
    save_checkpoint(tmp_path / "ck2", flagged, model_type="omnihead", config=flagged.config)
    assert torch.equal(load_omnihead(tmp_path / "ck2")(video).saccade, flagged(video).saccade)


# ---- frame-rate motion path of the saccade head (OmniHeadConfig.saccade_motion_path)


def test_saccade_motion_path_sets_the_head_input_width():
    c = micro_config().out_dim
    with_token = OmniHead(micro_config(saccade_motion_path=True, motion_width=4))
    assert with_token.heads["saccade"][0].in_features == c + 16
    assert with_token.heads["gesture"][0].in_features == c
    assert OmniHead(micro_config(saccade_motion_path=True, motion_width=4, saccade_token=False)).heads["saccade"][0].in_features == 16
    both = OmniHead(micro_config(saccade_motion_path=True, motion_width=4, saccade_gaze_velocity=True, saccade_token=False))
    assert both.heads["saccade"][0].in_features == 16 + 6
    assert OmniHead(micro_config()).task_stems is None  # the paper's model has no extra path
    with pytest.raises(ValueError, match="saccade"):
        micro_config(saccade_motion_path=True, tasks=("gaze", "blink"))
    with pytest.raises(ValueError, match="width"):
        micro_config(saccade_motion_path=True, motion_width=0)


def test_frame_motion_stem_sees_each_frame_with_its_neighbours_only():
    from stygaze.omnihead.model import FrameMotionStem

    torch.manual_seed(0)
    stem = FrameMotionStem(width=4).eval()
    still = torch.rand(1, 3, 1, 16, 16).expand(1, 3, 8, 16, 16).contiguous()
    with torch.no_grad():
        f_still = stem(still)
        assert f_still.shape == (1, 8, 16)
        assert torch.allclose(f_still, f_still[:, :1].expand_as(f_still), atol=1e-6)  # no motion: every frame alike, edges too
        moved = still.clone()
        moved[:, :, 5, 6:9, 6:9] += 0.3  # a change in frame 5 only
        diff = (stem(moved) - f_still).abs().amax(-1)[0]
    assert (diff[[4, 5, 6]] > 1e-4).all()  # frame 5 and the frames whose differences include it
    assert torch.allclose(diff[[0, 1, 2, 3, 7]], torch.zeros(5), atol=1e-6)  # nobody else


def test_saccade_motion_path_trains_without_the_encoder():
    torch.manual_seed(1)
    model = OmniHead(micro_config(saccade_motion_path=True, motion_width=4, saccade_token=False))
    video = torch.randint(0, 256, (2, 8, 32, 32, 3), dtype=torch.uint8)
    out = model(video)
    assert out.saccade.shape == (2, 8, 2)
    out.saccade.sum().backward()
    assert all(p.grad.abs().sum() > 0 for p in model.task_stems.parameters())
    assert all(p.grad is None for p in model.encoder.parameters())  # token off: the pixels reach the head by the stem only
    frames = np.random.default_rng(1).integers(0, 256, (10, 32, 32, 3), dtype=np.uint8)
    pred = sliding_window_predict(model.eval(), frames, batch_size=4)
    with torch.no_grad():
        ref = model(torch.from_numpy(frames[1:9][None]))  # frame 5 = centre (index 4) of [1, 9)
    assert np.allclose(pred.saccade_prob[5], ref.saccade[0, 4].softmax(-1)[1].item(), atol=1e-5)


def test_gesture_motion_path_mixes_frames_within_its_reach():
    from stygaze.omnihead.model import FrameMotionStem

    c = micro_config().out_dim
    assert OmniHead(micro_config(gesture_motion_path=True, motion_width=4)).heads["gesture"][0].in_features == c + 8
    alone = OmniHead(micro_config(gesture_motion_path=True, gesture_token=False, motion_width=4))
    assert alone.heads["gesture"][0].in_features == 8 and alone.heads["saccade"][0].in_features == c
    assert set(alone.task_stems) == {"gesture"}
    with pytest.raises(ValueError, match="gesture_token"):
        micro_config(gesture_token=False)
    torch.manual_seed(3)
    stem = FrameMotionStem(width=4, temporal=True).eval()
    still = torch.rand(1, 3, 1, 16, 16).expand(1, 3, 24, 16, 16).contiguous()
    moved = still.clone()
    moved[:, :, 8, 4:8, 4:8] -= 0.4  # frame 8 changes
    with torch.no_grad():
        diff = (stem(moved) - stem(still)).abs().amax(-1)[0]
    assert stem(still).shape == (1, 24, 8)
    reach = np.flatnonzero(diff.numpy() > 1e-6)
    assert reach.min() >= 1 and reach.max() <= 15 and {7, 8, 9} <= set(reach)  # ±1 (differences) + ±6 (convolutions)
    assert stem.reach == 7 and FrameMotionStem(width=4).reach == 1  # what sliding-window chunking overlaps by
    assert len(reach) > 3  # the temporal convolutions spread it beyond the frame differences


def test_sliding_window_runs_the_motion_paths_once_per_video_with_the_same_result():
    from stygaze.omnihead.inference import _video_motion_features

    torch.manual_seed(4)
    cfg = micro_config(num_frames=16, saccade_motion_path=True, gesture_motion_path=True, saccade_token=False, gesture_token=False, motion_width=4)
    model = OmniHead(cfg).eval()
    frames = np.random.default_rng(4).integers(0, 256, (23, 32, 32, 3), dtype=np.uint8)
    with torch.no_grad():
        whole = model.motion_features(torch.from_numpy(frames)[None])
        chunked = _video_motion_features(model, frames, "cpu", chunk=5)  # 5-frame chunks with ±7 frames of overlap
    assert set(chunked) == {"saccade", "gesture"}
    for task in chunked:
        assert torch.allclose(chunked[task], whole[task][0], atol=1e-5), task
    pred = sliding_window_predict(model, frames, batch_size=4)
    padded = np.concatenate([np.repeat(frames[:1], 8, 0), frames, np.repeat(frames[-1:], 16, 0)])
    for t in (0, 5, 22):  # the window of frame t is padded[t : t + 16], its centre index 8
        with torch.no_grad():
            out = model(torch.from_numpy(padded[t : t + 16][None]))  # the stems on the window alone
        assert np.allclose(pred.saccade_prob[t], out.saccade[0, 8].softmax(-1)[1].item(), atol=1e-5)
        assert np.allclose(pred.gesture_prob[t], out.gesture[0, 8].softmax(-1).numpy(), atol=1e-5)
