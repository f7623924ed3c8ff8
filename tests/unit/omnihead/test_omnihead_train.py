"""OmniHead training: labels, camera-frame gaze, the segment cache, the loop (resume, checkpoint)."""

import json

import numpy as np
import pytest

from stygaze.errors import DataError
from stygaze.motion import Motion
from stygaze.render.config import CameraConfig

MICRO = dict(img_size=32, num_frames=8, embed_dim=16, depths=[1, 1], num_heads=[2, 2], window_size=[2, 4, 4], decoder_layers=2, decoder_heads=2, head_hidden=16)


def make_corpus(root, n=3, seconds=12.0):
    """``n`` SynHAGE sessions from speech-like noise bursts (3 Hz syllables, pauses)."""
    from stygaze.data.synhage import synthesize

    t = np.arange(int(seconds * 16000)) / 16000
    for i in range(n):
        rng = np.random.default_rng(i)
        env = (np.sin(2 * np.pi * 3 * t) > -0.2) & (np.sin(2 * np.pi * 0.2 * t + i) > -0.5)
        audio = (rng.normal(0, 0.1, len(t)) * env).astype(np.float32)
        d = root / f"s{i}"
        d.mkdir(parents=True)
        synthesize(audio, seed=i).motion.save(d / "motion.npz")
    return root


def fake_renderer(calls=None):
    """Cheap deterministic 'render': a bright square whose position follows head yaw/pitch."""

    def render(motion, rcfg):
        if calls is not None:
            calls.append(len(motion))
        s = rcfg.size
        img = np.full((len(motion), s, s, 3), 100, np.uint8)
        for t, (p, y) in enumerate(motion.data[:, :2]):
            cx, cy = int(np.clip(s / 2 + y / 4, 2, s - 3)), int(np.clip(s / 2 - p / 4, 2, s - 3))
            img[t, cy - 2 : cy + 2, cx - 2 : cx + 2] = 250
        return img

    return render


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def test_motion_labels_from_synhage_events(corpus):
    from stygaze.omnihead.clips import motion_labels

    m = Motion.load(corpus / "s0" / "motion.npz")
    lab = motion_labels(m)
    assert lab.gesture.shape == lab.blink.shape == lab.saccade.shape == (len(m),)
    assert np.array_equal(lab.saccade, np.asarray(m.events["gaze"]))
    assert np.array_equal(lab.blink, (m.blink >= 0.5).astype(np.int64))
    plain = Motion.zeros(10)
    assert (motion_labels(plain).gesture == -1).all()  # no events: unlabelled, not "none"


def test_events_json_of_the_corpus_layout(corpus, tmp_path):
    from stygaze.omnihead.clips import load_session_motion, motion_labels

    m = Motion.load(corpus / "s1" / "motion.npz")
    sess = tmp_path / "sess"
    sess.mkdir()
    Motion(m.data, m.fps, blink=m.blink).save(sess / "motion.npz")  # no events inside the npz
    (sess / "events.json").write_text(json.dumps(m.events))
    lab = motion_labels(load_session_motion(sess))
    assert np.array_equal(lab.gesture, np.asarray(m.events["gesture"]))
    (sess / "events.json").write_text("{not json")
    with pytest.raises(DataError, match="events.json"):
        load_session_motion(sess)


def test_camera_gaze_frontal_and_rotated():
    from stygaze.render.clips import camera_gaze

    m = Motion.zeros(3)
    m.data[:, 4] = m.data[:, 6] = 20.0  # eyes 20° to the subject's left
    front = camera_gaze(m, CameraConfig(azimuth_deg=0.0, elevation_deg=0.0))
    assert np.allclose(front, m.world_gaze_vectors("mean"), atol=1e-6)
    assert front[0, 0] > 0  # subject's left = image right
    # a camera 20° towards the subject's left sees the gaze straight on
    side = camera_gaze(m, CameraConfig(azimuth_deg=20.0, elevation_deg=0.0))
    assert np.allclose(side[0], [0.0, 0.0, 1.0], atol=1e-6)


def test_segment_cache_shapes_flip_and_reuse(corpus, tmp_path):
    from stygaze.data.corpus import list_sessions
    from stygaze.omnihead.train import OmniHeadTrainConfig
    from stygaze.omnihead.clips import build_segment_cache

    cfg = OmniHeadTrainConfig(segment_frames=12, supersample=1)
    cfg.randomize.hflip = 0.5
    calls = []
    data = build_segment_cache(tmp_path / "c", list_sessions(corpus), 5, cfg, 32, seed=1, chunk=4, renderer=fake_renderer(calls), progress=False)
    assert sum(len(f) for f in data["frames"]) == 5 and data["frames"][0].shape[1:] == (12, 32, 32, 3)
    assert data["gaze"].shape == (5, 12, 3) and data["saccade"].shape == (5, 12)
    assert np.allclose(np.linalg.norm(data["gaze"], axis=-1), 1.0, atol=1e-5)
    assert len(calls) == 5
    again = build_segment_cache(tmp_path / "c", list_sessions(corpus), 5, cfg, 32, seed=1, chunk=4, renderer=fake_renderer(calls), progress=False)
    assert len(calls) == 5  # cached: nothing re-rendered
    assert np.array_equal(np.asarray(again["frames"][1]), np.asarray(data["frames"][1]))


def test_clipset_batches(corpus, tmp_path):
    from stygaze.omnihead.clips import ClipSet, build_segment_cache
    from stygaze.data.corpus import list_sessions
    from stygaze.omnihead.train import OmniHeadTrainConfig

    cfg = OmniHeadTrainConfig(segment_frames=12, supersample=1)
    data = build_segment_cache(tmp_path / "c", list_sessions(corpus), 3, cfg, 32, seed=2, renderer=fake_renderer(), progress=False)
    clips = ClipSet(data, clip_len=8)
    video, tgt = clips.batch([(0, 0), (2, 4)])
    assert tuple(video.shape) == (2, 8, 32, 32, 3) and tuple(tgt["gaze"].shape) == (2, 8, 3)
    assert np.array_equal(tgt["saccade"][1].numpy(), data["saccade"][2, 4:12])
    assert clips.fixed_offsets() == [(0, 0), (1, 0), (2, 0)]


def test_balanced_clip_sampling(tmp_path):
    from stygaze.omnihead.clips import ClipSet, sample_clips

    n_seg, seg_len = 40, 24
    gesture = np.zeros((n_seg, seg_len), np.int64)
    blink = np.zeros((n_seg, seg_len), np.int64)
    gesture[3, 10:14] = 5  # a rare class: 4 of 960 frames
    gesture[7:30, 2:20] = 1  # a frequent one
    blink[11, 20:23] = 1
    data = {"frames": [np.zeros((n_seg, seg_len, 4, 4, 3), np.uint8)], "gesture": gesture, "blink": blink, "saccade": blink.copy(), "gaze": np.zeros((n_seg, seg_len, 3), np.float32)}
    clips = ClipSet(data, clip_len=8)
    perm = np.random.default_rng(0).permutation(n_seg)
    seg, offs = sample_clips(clips, n_seg, 0.0, np.random.default_rng(1), segments=perm)
    assert np.array_equal(seg, perm) and np.array_equal(offs, np.random.default_rng(1).integers(0, 17, n_seg))  # unbalanced: as before
    seg, offs = sample_clips(clips, 3000, 1.0, np.random.default_rng(2))
    assert offs.min() >= 0 and offs.max() <= clips.max_offset

    def has(lab, c):  # clips holding at least one frame of class c
        return (lab[seg[:, None], offs[:, None] + np.arange(8)] == c).any(1)

    assert (has(gesture, 5) | has(gesture, 1) | has(blink, 1)).all()  # every clip holds a rare positive
    share5, share1, share_b = has(gesture, 5).mean(), has(gesture, 1).mean(), has(blink, 1).mean()
    assert 0.25 < share5 < 0.42 and 0.25 < share_b < 0.42  # three pools drawn uniformly (≈ ⅓ each)
    seg, offs = sample_clips(clips, 3000, 0.5, np.random.default_rng(3))
    assert 0.1 < has(gesture, 5).mean() < 0.25


def test_train_resume_and_checkpoint(corpus, tmp_path):
    import torch

    from stygaze.omnihead.model import load_omnihead
    from stygaze.omnihead.train import OmniHeadTrainConfig, train_omnihead

    cfg = OmniHeadTrainConfig(model_overrides=MICRO, segment_frames=12, train_segments=3, val_segments=2, clips_per_segment=2, batch_size=3, epochs=1, supersample=1, lr=1e-3, warmup_steps=1)
    res = train_omnihead(corpus, tmp_path / "run", cfg, progress=False, renderer=fake_renderer())
    assert res.epochs == 1 and np.isfinite(res.best_val_loss)
    cfg.epochs = 2
    res2 = train_omnihead(corpus, tmp_path / "run", cfg, progress=False, renderer=fake_renderer())
    assert res2.epochs == 2 and len(res2.history) == 1  # resumed: only epoch 2 ran
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2] and all(np.isfinite(r["val_loss"]) for r in log)
    model = load_omnihead(tmp_path / "run" / "best")
    assert model.config.img_size == 32
    thr = model.meta["binary_thresholds"]  # calibrated on the validation clips
    assert set(thr) == {"blink", "saccade"} and 0.05 <= thr["saccade"] <= 0.95
    assert float(model.binary_thresholds[1]) == pytest.approx(thr["saccade"])
    out = model(torch.zeros(1, 8, 32, 32, 3, dtype=torch.uint8))
    assert out.gesture.shape == (1, 8, 6)
    split = json.loads((tmp_path / "run" / "split.json").read_text())
    assert set(split["train"]).isdisjoint(split["test"])


def test_train_with_probes_and_balance_logs_probe_losses(corpus, tmp_path):
    from stygaze.omnihead.model import load_omnihead
    from stygaze.omnihead.train import OmniHeadTrainConfig, train_omnihead

    cfg = OmniHeadTrainConfig(
        model_overrides={**MICRO, "aux_probes": True}, aux_weight=1.0, balance=0.5, gesture_class_weights=(1, 2, 2, 2, 2, 2),
        segment_frames=12, train_segments=3, val_segments=2, clips_per_segment=2, batch_size=3, epochs=1, supersample=1, lr=1e-3, warmup_steps=1,
    )
    res = train_omnihead(corpus, tmp_path / "run", cfg, progress=False, renderer=fake_renderer())
    rec = res.history[0]
    assert np.isfinite(rec["train_aux_gaze"]) and np.isfinite(rec["val_aux_gaze"]) and np.isfinite(rec["train_gaze"])
    model = load_omnihead(tmp_path / "run" / "best")
    assert model.config.aux_probes and model.aux_probes is not None


def test_config_errors(tmp_path):
    from stygaze.data.corpus import list_sessions
    from stygaze.omnihead.train import load_train_config

    bad = tmp_path / "bad.yaml"
    bad.write_text("lr: 0.1\nbogus: 3\n")
    with pytest.raises(DataError, match="bogus"):
        load_train_config(bad)
    with pytest.raises(DataError, match="not found"):
        load_train_config(tmp_path / "missing.yaml")
    with pytest.raises(DataError):
        list_sessions(tmp_path)
    cfg = load_train_config(None, lr=0.5)
    assert cfg.lr == 0.5 and cfg.model == "tiny"
    with pytest.raises(DataError, match="gesture_class_weights"):
        load_train_config(None, gesture_class_weights=[1.0, 2.0])
    with pytest.raises(DataError, match="aux_probes"):
        load_train_config(None, aux_weight=1.0)
    assert load_train_config(None, aux_weight=1.0, model_overrides={"aux_probes": True}).model_config().aux_probes
    with pytest.raises(DataError, match="balance"):
        load_train_config(None, balance=1.5)
    assert load_train_config(None, gesture_class_weights=[1, 2, 2, 2, 2, 2]).gesture_class_weights == (1.0, 2.0, 2.0, 2.0, 2.0, 2.0)
    with pytest.raises(DataError, match="binary_class_weights"):
        load_train_config(None, binary_class_weights=[1.0, 0.0])
    good = tmp_path / "loss.yaml"
    good.write_text("binary_class_weights: [1, 2]\nbinary_smoothing: 0.0\n")
    cfg = load_train_config(good)
    assert cfg.binary_class_weights == (1.0, 2.0) and cfg.binary_smoothing == 0.0 and cfg.gesture_smoothing == 0.15


@pytest.mark.gl
def test_real_render_small(tmp_path):
    from stygaze.render.config import RenderConfig
    from stygaze.render.clips import head_crop_camera, render_clip_frames

    m = Motion.zeros(3)
    m.data[:, 4] = m.data[:, 6] = [-25.0, 0.0, 25.0]
    frames = render_clip_frames(m, config=RenderConfig(size=32, camera=head_crop_camera(), supersample=1))
    assert frames.shape == (3, 32, 32, 3) and frames.dtype == np.uint8
    assert frames.std() > 5 and not np.array_equal(frames[0], frames[2])  # the eyes moved


# ---- head-only fine-tuning (init_from + train_only)


@pytest.fixture(scope="module")
def base_run(corpus, tmp_path_factory):
    """A 1-epoch micro recognizer to fine-tune from."""
    from stygaze.omnihead.train import OmniHeadTrainConfig, train_omnihead

    run = tmp_path_factory.mktemp("base") / "run"
    cfg = OmniHeadTrainConfig(model_overrides=MICRO, segment_frames=12, train_segments=3, val_segments=2, clips_per_segment=2, batch_size=3, epochs=1, supersample=1, lr=1e-3, warmup_steps=1)
    train_omnihead(corpus, run, cfg, progress=False, renderer=fake_renderer())
    return run / "best"


def test_head_only_finetune_changes_only_the_saccade_head(corpus, base_run, tmp_path):
    import torch

    from stygaze.checkpoint import read_checkpoint
    from stygaze.omnihead.model import load_omnihead
    from stygaze.omnihead.train import OmniHeadTrainConfig, train_omnihead

    cfg = OmniHeadTrainConfig(
        init_from=str(base_run), train_only=["saccade"], model_overrides={"saccade_gaze_velocity": True, "saccade_gaze_context": 2},
        segment_frames=12, train_segments=3, val_segments=2, clips_per_segment=2, batch_size=3, epochs=1, supersample=1, lr=1e-2, warmup_steps=1,
        threshold_metric="event_f1",
    )
    res = train_omnihead(corpus, tmp_path / "ft", cfg, progress=False, renderer=fake_renderer())
    rec = res.history[0]
    assert set(k for k in rec if k.startswith("train_") and k != "train_loss") == {"train_saccade"}  # loss on the trained task only
    assert rec["val_loss"] == pytest.approx(rec["val_saccade"])
    base, new = read_checkpoint(base_run).state_dict, read_checkpoint(tmp_path / "ft" / "best")
    assert new.config["saccade_gaze_velocity"] and new.config["img_size"] == 32  # base architecture + overrides
    assert new.meta["init_from"]["reinitialised"] == ["heads.saccade.0.weight"]  # the widened layer; the rest of the head is copied
    for k, v in new.state_dict.items():
        if k.startswith("heads.saccade."):
            continue
        if k == "binary_thresholds":
            assert v[0] == base[k][0]  # blink threshold kept, saccade re-calibrated
            continue
        assert torch.equal(v, base[k]), k  # frozen
    assert not torch.equal(new.state_dict["heads.saccade.4.bias"], base["heads.saccade.4.bias"])
    model = load_omnihead(tmp_path / "ft" / "best")
    assert model.heads["saccade"][0].in_features == model.config.out_dim + 6
    assert model.meta["binary_thresholds"]["blink"] == pytest.approx(float(base["binary_thresholds"][0]), abs=1e-4)


def test_frozen_parts_get_no_gradient(base_run):
    import torch

    from stygaze.omnihead.model import OmniHead
    from stygaze.omnihead.config import OmniHeadConfig
    from stygaze.omnihead.loss import omnihead_loss
    from stygaze.omnihead.train import freeze_except, load_init_weights

    model = OmniHead(OmniHeadConfig(**{**MICRO, "saccade_gaze_velocity": True}))
    info = load_init_weights(model, base_run, train_only=("saccade",))
    assert len(info["sha1"]) == 40
    n = freeze_except(model, ("saccade",))
    assert n == sum(p.numel() for p in model.heads["saccade"].parameters())
    video = torch.randint(0, 256, (2, 8, 32, 32, 3), dtype=torch.uint8)
    tgt = {"saccade": torch.randint(0, 2, (2, 8)), "blink": torch.randint(0, 2, (2, 8)), "gaze": torch.randn(2, 8, 3)}
    omnihead_loss(model(video), tgt).total.backward()  # even with other tasks in the loss
    for name, p in model.named_parameters():
        if name.startswith("heads.saccade."):
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert p.grad is None, name


def test_init_from_rejects_other_shapes_outside_the_trained_heads(base_run):
    from stygaze.errors import CheckpointError
    from stygaze.omnihead.model import OmniHead
    from stygaze.omnihead.config import OmniHeadConfig
    from stygaze.omnihead.train import load_init_weights

    widened = OmniHead(OmniHeadConfig(**{**MICRO, "saccade_gaze_velocity": True}))
    with pytest.raises(CheckpointError, match="heads.saccade.0.weight"):
        load_init_weights(widened, base_run)  # the saccade head changed but is not being trained
    other = OmniHead(OmniHeadConfig(**{**MICRO, "head_hidden": 8}))
    with pytest.raises(CheckpointError, match="only train_only heads"):
        load_init_weights(other, base_run, train_only=("saccade",))


def test_finetune_config_errors(base_run):
    from stygaze.omnihead.train import load_train_config

    with pytest.raises(DataError, match="init_from"):
        load_train_config(None, train_only=["saccade"])
    with pytest.raises(DataError, match="aux_weight"):
        load_train_config(None, train_only=["saccade"], init_from=str(base_run), aux_weight=1.0, model_overrides={"aux_probes": True})
    with pytest.raises(DataError, match="train_only"):
        load_train_config(None, train_only=["pupil"], init_from=str(base_run))
    with pytest.raises(DataError, match="threshold_metric"):
        load_train_config(None, threshold_metric="auc")
    with pytest.raises(DataError, match="keep"):
        load_train_config(None, keep="first")
    cfg = load_train_config(None, train_only="saccade", init_from=str(base_run), model_overrides={"saccade_gaze_velocity": True})
    assert cfg.train_only == ("saccade",)
    mcfg = cfg.model_config()  # the checkpoint's architecture, not the tiny preset
    assert mcfg.img_size == 32 and mcfg.saccade_gaze_velocity
    with pytest.raises(DataError, match="model_overrides"):
        load_train_config(None, init_from=str(base_run), model_overrides={"bogus": 1}).model_config()


def test_shipped_finetune_config_is_valid():
    from pathlib import Path

    from stygaze.omnihead.train import load_train_config

    from stygaze.checkpoint import read_checkpoint

    repo = Path(__file__).resolve().parents[3]
    base = load_train_config(repo / "configs" / "omnihead_tiny.yaml")
    shipped = read_checkpoint(repo / "stygaze" / "assets" / "omnihead", model_type="omnihead").config
    for stage, task in (("saccade", "saccade"), ("gesture", "gesture")):
        cfg = load_train_config(repo / "configs" / f"omnihead_tiny_{stage}.yaml")
        assert cfg.train_only == (task,) and cfg.init_from
        for k in ("segment_frames", "train_segments", "val_segments", "gesture_focus", "supersample", "seed", "randomize"):
            assert getattr(cfg, k) == getattr(base, k), k  # same render cache as the base run
        for k, v in cfg.model_overrides.items():
            assert shipped[k] == v, k  # the two stages describe the shipped checkpoint
    assert "gesture_motion_path" in load_train_config(repo / "configs" / "omnihead_tiny_gesture.yaml").model_overrides


def test_motion_path_is_new_and_trains_with_the_saccade_head(base_run):
    import torch

    from stygaze.checkpoint import read_checkpoint
    from stygaze.errors import CheckpointError
    from stygaze.omnihead.model import OmniHead
    from stygaze.omnihead.config import OmniHeadConfig
    from stygaze.omnihead.train import freeze_except, load_init_weights

    model = OmniHead(OmniHeadConfig(**{**MICRO, "saccade_motion_path": True, "motion_width": 4, "saccade_token": False}))
    with pytest.raises(CheckpointError, match="only train_only heads"):
        load_init_weights(model, base_run)  # the stem is not in the base and nothing trains it
    info = load_init_weights(model, base_run, train_only=("saccade",))
    assert "heads.saccade.0.weight" in info["reinitialised"]
    assert {k for k in info["reinitialised"] if k.startswith("task_stems.")} == {k for k in model.state_dict() if k.startswith("task_stems.")}
    n = freeze_except(model, ("saccade",))
    assert n == sum(p.numel() for p in model.heads["saccade"].parameters()) + sum(p.numel() for p in model.task_stems.parameters())
    base = read_checkpoint(base_run).state_dict
    assert torch.equal(model.state_dict()["heads.gaze.0.weight"], base["heads.gaze.0.weight"])  # the rest comes from the base


def test_gesture_motion_path_finetune_keeps_the_last_epoch(corpus, base_run, tmp_path):
    import torch

    from stygaze.checkpoint import read_checkpoint
    from stygaze.omnihead.train import OmniHeadTrainConfig, train_omnihead

    cfg = OmniHeadTrainConfig(
        init_from=str(base_run), train_only=["gesture"], model_overrides={"gesture_motion_path": True, "gesture_token": False, "motion_width": 4},
        segment_frames=12, train_segments=3, val_segments=2, clips_per_segment=2, batch_size=3, epochs=2, supersample=1, lr=1e-2, warmup_steps=1,
        keep="last", balance=0.5,
    )
    res = train_omnihead(corpus, tmp_path / "ft", cfg, progress=False, renderer=fake_renderer())
    assert res.epochs == 2 and set(k for k in res.history[0] if k.startswith("train_") and k != "train_loss") == {"train_gesture"}
    new, base = read_checkpoint(tmp_path / "ft" / "best"), read_checkpoint(base_run).state_dict
    assert new.meta["epoch"] == 2  # the final epoch, whatever the validation loss did
    assert any(k.startswith("task_stems.gesture.") for k in new.state_dict)
    assert torch.equal(new.state_dict["binary_thresholds"], base["binary_thresholds"])  # no binary head trained: thresholds kept
    assert torch.equal(new.state_dict["heads.saccade.0.weight"], base["heads.saccade.0.weight"])


def test_missing_init_from_fails_before_the_run_folder_exists(corpus, tmp_path):
    from stygaze.errors import CheckpointError
    from stygaze.omnihead.train import OmniHeadTrainConfig, train_omnihead

    cfg = OmniHeadTrainConfig(init_from=str(tmp_path / "nowhere"), train_only=["gesture"], segment_frames=12, train_segments=3, val_segments=2, epochs=1)
    with pytest.raises(CheckpointError, match="not found"):
        train_omnihead(corpus, tmp_path / "run", cfg, progress=False, renderer=fake_renderer())
    assert not (tmp_path / "run").exists()  # no empty run folder left behind
