import numpy as np
import torch
import pytest
import soundfile as sf

from gen_fixtures import save_tiny_model, tiny_model
from stygaze.audio import SAMPLE_RATE, save_audio
from stygaze.errors import AudioError, CheckpointError, StyleError
from stygaze.motion import Motion
from stygaze.stygazetalk.pipeline import StyGazeTalk, StyleVector


@pytest.fixture(scope="module")
def pipe():
    return StyGazeTalk(tiny_model())


@pytest.fixture
def speech(rng):
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    return (np.sin(2 * np.pi * 140 * t) * (np.sin(2 * np.pi * 1.3 * t) > 0) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture
def ref_motion(rng):
    return Motion(np.cumsum(rng.standard_normal((80, 7)), axis=0).astype(np.float32))


def test_generate_array_and_path_agree(pipe, speech, tmp_path):
    m = pipe.generate(speech)
    assert isinstance(m, Motion) and m.data.shape == (50, 7) and m.fps == 25
    assert np.isfinite(m.data).all() and m.data.std(axis=0).max() > 0.01
    save_audio(tmp_path / "a.wav", speech)
    m2 = pipe.generate(tmp_path / "a.wav")
    assert np.allclose(m.data, m2.data, atol=0.05)  # 16-bit wav quantisation only


def test_generate_other_rates_and_stereo(pipe, speech, tmp_path):
    from stygaze.audio import prepare_audio

    m = pipe.generate(speech)
    stereo = np.stack([speech, speech], axis=1)
    assert np.allclose(pipe.generate(stereo).data, m.data, atol=1e-4)
    low = prepare_audio(speech, SAMPLE_RATE, normalize=False)[::2]  # 8 kHz
    m8 = pipe.generate(low, sr=8000)
    assert m8.data.shape == (50, 7)
    sf.write(tmp_path / "s8.wav", np.stack([low, low], 1), 8000)
    assert pipe.generate(tmp_path / "s8.wav").data.shape == (50, 7)


def test_silence_gives_finite_idle_motion(pipe):
    m = pipe.generate(np.zeros(SAMPLE_RATE, np.float32))
    assert m.data.shape == (25, 7) and np.isfinite(m.data).all()


def test_very_short_audio(pipe):
    assert len(pipe.generate(np.ones(400, np.float32))) == 1  # 25 ms -> one frame
    with pytest.raises(AudioError, match="20 ms"):
        pipe.generate(np.ones(100, np.float32))


@pytest.mark.parametrize("bad,match", [
    (np.zeros(0, np.float32), "zero length"),
    (np.array([0.1, np.nan] * 1000, np.float32), "NaN"),
])
def test_bad_audio_arrays(pipe, bad, match):
    with pytest.raises(AudioError, match=match):
        pipe.generate(bad)


def test_bad_audio_files(pipe, tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00not really a wav" * 10)
    for name in ("empty.wav", "corrupt.wav", "missing.wav"):
        with pytest.raises(AudioError):
            pipe.generate(tmp_path / name)


def test_style_from_clip_vector_and_file(pipe, speech, ref_motion, tmp_path):
    sv = pipe.extract_style(ref_motion)
    assert sv.style.shape == (8,) and sv.encoder_id == pipe.style_encoder_id
    a = pipe.generate(speech, style=sv)
    assert np.allclose(a.data, pipe.generate(speech, style=ref_motion).data)
    sv.save(tmp_path / "style.npz")
    assert np.allclose(a.data, pipe.generate(speech, style=tmp_path / "style.npz").data)
    ref_motion.save(tmp_path / "ref.npz")
    assert np.allclose(a.data, pipe.generate(speech, style=tmp_path / "ref.npz").data)
    neutral = pipe.generate(speech)
    assert not np.allclose(a.data, neutral.data)
    assert np.allclose(pipe.generate(speech, style=pipe.neutral_style).data, neutral.data)


def test_style_problems(pipe, speech, ref_motion, tmp_path):
    with pytest.raises(StyleError, match="usable frames"):
        pipe.extract_style(ref_motion.slice(0, 10))
    nan = ref_motion.data.copy()
    nan[5:] = np.nan
    with pytest.raises(StyleError):
        pipe.extract_style(Motion(nan))
    other = StyGazeTalk(tiny_model(seed=1))
    foreign = other.extract_style(ref_motion)
    with pytest.raises(StyleError, match="made by encoder"):
        pipe.generate(speech, style=foreign)
    foreign.save(tmp_path / "foreign.npz")
    with pytest.raises(StyleError, match="made by encoder"):
        pipe.generate(speech, style=tmp_path / "foreign.npz")
    np.savez(tmp_path / "junk.npz", something=np.zeros(3))
    with pytest.raises(StyleError, match="neither"):
        pipe.generate(speech, style=tmp_path / "junk.npz")
    (tmp_path / "corrupt.npz").write_bytes(b"nope")
    with pytest.raises(StyleError, match="not a valid .npz"):
        pipe.generate(speech, style=tmp_path / "corrupt.npz")
    np.savez(tmp_path / "nanstyle.npz", style=np.full(8, np.nan, np.float32), encoder_id=pipe.style_encoder_id)
    with pytest.raises(StyleError, match="NaN"):
        pipe.generate(speech, style=tmp_path / "nanstyle.npz")
    with pytest.raises(StyleError):
        pipe.generate(speech, style=StyleVector(np.ones(5, np.float32), pipe.style_encoder_id))


def test_interpolation_endpoints(pipe, ref_motion, rng):
    a = pipe.extract_style(ref_motion)
    b = pipe.extract_style(Motion(rng.standard_normal((60, 7)).astype(np.float32) * 10))
    assert np.allclose(pipe.interpolate_style(a, b, 0.0).style, a.style, atol=1e-6)
    assert np.allclose(pipe.interpolate_style(a, b, 1.0).style, b.style, atol=1e-6)
    mid = pipe.interpolate_style(a, b, 0.5).style
    assert np.isclose(np.linalg.norm(mid), 1.0, atol=1e-5)
    assert np.dot(mid, a.style) > np.dot(b.style, a.style)
    with pytest.raises(StyleError):
        pipe.interpolate_style(a, b, 1.5)


def test_head_and_gaze_scales(pipe, speech):
    base = pipe.generate(speech)
    mean = pipe.model.generator.motion_mean.numpy()
    still_head = pipe.generate(speech, head_scale=0.0)
    assert np.allclose(still_head.head, mean[:3], atol=1e-5)
    assert np.allclose(still_head.gaze, base.gaze)
    big_gaze = pipe.generate(speech, gaze_scale=2.0)
    assert np.allclose(big_gaze.gaze - mean[3:], 2 * (base.gaze - mean[3:]), atol=1e-4)
    with pytest.raises(StyleError):
        pipe.generate(speech, head_scale=-1)


def test_seed_is_reproducible(pipe, speech):
    a, b, c = (pipe.generate(speech, seed=s).data for s in (1, 1, 2))
    assert np.array_equal(a, b) and not np.allclose(a, c)
    assert np.array_equal(pipe.generate(speech).data, pipe.generate(speech).data)


@pytest.mark.parametrize("chunk", [333, 640, 5000])
def test_stream_equals_offline(pipe, speech, chunk):
    x = speech / speech.std()
    offline = pipe.generate(x, normalize=False, beat_align=False, seed=3, head_scale=1.5).data
    st = pipe.stream(normalize=False, seed=3, head_scale=1.5)
    outs = [st.push(x[i : i + chunk]) for i in range(0, len(x), chunk)]
    outs.append(st.flush())
    assert np.allclose(np.concatenate(outs), offline, atol=1e-4)
    assert st.frames_out == len(offline)


def test_stream_emits_frames_within_the_stated_latency(pipe, speech):
    st = pipe.stream()
    c = pipe.config
    out = 0
    for i in range(0, len(speech), 640):
        out += len(st.push(speech[i : i + 640]))
        heard = (i + 640) // 640
        assert out >= heard - pipe.latency_frames - 1  # 1 frame for the mel window look-ahead
    assert c.latency_frames == c.N + c.M - 1
    out += len(st.flush())
    assert out == 50
    with pytest.raises(AudioError):
        st.push(speech[:100])


def test_base_model_refuses_styles(speech, ref_motion):
    base = StyGazeTalk(tiny_model(style_dim=0))
    assert base.generate(speech).data.shape == (50, 7)
    with pytest.raises(StyleError, match="no style"):
        base.generate(speech, style=ref_motion)
    with pytest.raises(StyleError):
        base.extract_style(ref_motion)


def test_from_pretrained_paths(tmp_path, speech):
    save_tiny_model(tmp_path / "run" / "best")
    a = StyGazeTalk.from_pretrained(tmp_path / "run")  # a run folder -> its best/
    b = StyGazeTalk.from_pretrained(tmp_path / "run" / "best")
    assert np.array_equal(a.generate(speech).data, b.generate(speech).data)
    with pytest.raises(CheckpointError):
        StyGazeTalk.from_pretrained(tmp_path / "nothing")
    (tmp_path / "run" / "best" / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt"):
        StyGazeTalk.from_pretrained(tmp_path / "run" / "best")


def test_latent_model_stream_equals_offline_and_seed_matters(speech):
    pipe = StyGazeTalk(tiny_model(latent_dim=4))
    x = speech / speech.std()
    offline = pipe.generate(x, normalize=False, beat_align=False, seed=5).data
    st = pipe.stream(normalize=False, seed=5)
    outs = [st.push(x[i : i + 1000]) for i in range(0, len(x), 1000)] + [st.flush()]
    assert np.allclose(np.concatenate(outs), offline, atol=1e-4)
    assert not np.allclose(pipe.generate(x, normalize=False, seed=6).data, offline)
    cold = pipe.generate(x, temperature=0.0)
    assert np.array_equal(cold.data, pipe.generate(x, temperature=0.0).data)


def test_avatar_stages_are_the_default_and_raw_is_the_model_output(speech):
    """Default: gaze events, blink and jaw; raw=True: the model's output; stages leave the head alone."""
    from stygaze.stygazetalk.avatar import AvatarConfig
    from stygaze.stygazetalk.saccades import GazeEventConfig

    pipe = StyGazeTalk(tiny_model(latent_dim=4))
    x = speech / speech.std()
    raw = pipe.generate(x, normalize=False, seed=5, raw=True)
    assert raw.blink is None and "jaw" not in raw.extras
    gen = pipe.model.generator
    with torch.no_grad():
        pred = gen.rollout(gen.clip_features(x)[None], None, pipe._initial_past(5), noise=pipe._noise(5, None))[0]
    assert np.array_equal(raw.data, gen.denormalize(pred).numpy().astype(np.float32))  # exactly the model's output
    m = pipe.generate(x, normalize=False, beat_align=False, seed=5)
    assert m.blink is not None and m.blink.shape == (len(m),) and m.extras["jaw"].shape == (len(m), 3)
    assert np.array_equal(m.data[:, :3], raw.data[:, :3]) and not np.allclose(m.data[:, 3:], raw.data[:, 3:])
    assert m.extras["jaw"][:, 0].max() > np.radians(2)  # the speech opens the mouth
    # one stage at a time
    no_gaze = pipe.generate(x, normalize=False, beat_align=False, seed=5, saccades=False)
    eyes_down = no_gaze.blink * AvatarConfig().blinks.eye_drop_deg
    assert np.allclose(no_gaze.data[:, 3], raw.data[:, 3] - eyes_down, atol=1e-5)  # only the blink's eye dip
    gaze_only = pipe.generate(x, normalize=False, seed=5, raw=True, saccades=True)
    assert gaze_only.blink is None and "jaw" not in gaze_only.extras and not np.allclose(gaze_only.data, raw.data)
    no_jaw = pipe.generate(x, normalize=False, beat_align=False, seed=5, avatar=AvatarConfig(jaw=None))
    assert "jaw" not in no_jaw.extras and np.array_equal(no_jaw.data, m.data) and np.array_equal(no_jaw.blink, m.blink)
    with pytest.raises(StyleError, match="saccades"):
        pipe.generate(x, saccades="yes")
    with pytest.raises(StyleError, match="interval_mean_s"):
        pipe.generate(x, saccades=GazeEventConfig(interval_mean_s=-1))
    with pytest.raises(StyleError, match="raw"):
        pipe.generate(x, raw=True, avatar=AvatarConfig())


def test_beat_alignment_is_on_for_whole_clips_and_only_retimes(speech):
    """Default generate retimes the motion onto the speech beats; raw, online_beats and beat_align=False do not."""
    from stygaze.features.rhythm import rhythmic_beats
    from stygaze.stygazetalk.beat_align import align_to_beats

    pipe = StyGazeTalk(tiny_model(latent_dim=4))
    x = speech / speech.std()
    free = pipe.generate(x, normalize=False, seed=5, beat_align=False)
    aligned = pipe.generate(x, normalize=False, seed=5)
    raw = pipe.generate(x, normalize=False, seed=5, raw=True)
    beats = rhythmic_beats(x)[0]
    expected, moved = align_to_beats(raw.data, beats)
    assert moved > 0 and not np.allclose(aligned.data[:, :3], free.data[:, :3])
    assert np.array_equal(aligned.data[:, :3], expected[:, :3])  # the head is exactly the retimed model output
    assert (aligned.head.min(axis=0) >= free.head.min(axis=0) - 1e-5).all() and (aligned.head.max(axis=0) <= free.head.max(axis=0) + 1e-5).all()
    assert np.array_equal(pipe.generate(x, normalize=False, seed=5, raw=True, beat_align=True).data, expected)
    online = pipe.generate(x, normalize=False, seed=5, online_beats=True, raw=True)
    assert np.array_equal(online.data, pipe.generate(x, normalize=False, seed=5, online_beats=True, raw=True, beat_align=False).data)


@pytest.mark.parametrize("chunk", [333, 700, 6400])
def test_avatar_stream_equals_offline(speech, chunk):
    """Gaze events, blinks and jaw are causal: a stream gives the offline frames, blink and jaw."""
    pipe = StyGazeTalk(tiny_model(latent_dim=4))
    x = speech / speech.std()
    m = pipe.generate(x, normalize=False, beat_align=False, seed=7)
    st = pipe.stream(normalize=False, seed=7)
    outs = [st.push_frames(x[i : i + chunk]) for i in range(0, len(x), chunk)] + [st.flush_frames()]
    assert np.allclose(np.concatenate([o.motion for o in outs]), m.data, atol=1e-4)
    assert np.allclose(np.concatenate([o.blink for o in outs]), m.blink, atol=1e-6)
    assert np.allclose(np.concatenate([o.jaw for o in outs]), m.extras["jaw"], atol=1e-6)
    st2 = pipe.stream(normalize=False, seed=7)  # push() still returns the (n, 7) motion
    frames = [st2.push(x[i : i + chunk]) for i in range(0, len(x), chunk)] + [st2.flush()]
    assert np.allclose(np.concatenate(frames), m.data, atol=1e-4)


@pytest.mark.parametrize("N,L", [(2, 3), (4, 2)])
def test_decoupled_audio_lookahead_streams_like_offline_with_its_latency(speech, N, L):
    """audio_lookahead L < M: the M-frame past window stays, the stream lags N + L - 1 frames
    (with L <= N the avatar stages wait for the last frames' audio: up to one frame more)."""
    from stygaze.stygazetalk.generator import GeneratorConfig

    model = tiny_model(latent_dim=4)
    c = model.config.generator
    short = tiny_model(latent_dim=4)
    short.config.generator = GeneratorConfig(**{**c.__dict__, "N": N, "audio_lookahead": L})
    short.generator.config = short.config.generator
    short.generator.out = torch.nn.Linear(short.generator.out.in_features, N * 7)
    torch.nn.init.normal_(short.generator.out.weight, 0, 0.3)
    pipe = StyGazeTalk(short)
    assert pipe.latency_frames == N + L - 1 and pipe.latency_s == pytest.approx((N + L - 1) / 25 + 0.012)
    x = speech / speech.std()
    for raw in (True, False):
        m = pipe.generate(x, normalize=False, beat_align=False, seed=3, raw=raw)
        st = pipe.stream(normalize=False, seed=3, raw=raw)
        out, emitted = [], 0
        for i in range(0, len(x), 640):
            f = st.push(x[i : i + 640])
            out.append(f)
            emitted += len(f)
            assert emitted >= (i + 640) // 640 - pipe.latency_frames - 1 - (not raw and L <= N)  # + the mel window
        out.append(st.flush())
        assert np.allclose(np.concatenate(out), m.data, atol=1e-4)
    # the audio window really is shifted: with L = M the same weights give another result
    same = StyGazeTalk(short)
    same.model.generator.config = GeneratorConfig(**{**short.config.generator.__dict__, "audio_lookahead": None})
    same.config = same.model.generator.config
    assert not np.allclose(same.generate(x, normalize=False, seed=3, raw=True).data, m.data, atol=1e-3)


def test_checkpoints_without_audio_lookahead_load_unchanged(tmp_path, speech):
    import json

    path = save_tiny_model(tmp_path / "m")
    cfg = json.loads((path / "config.json").read_text())
    cfg["config"]["generator"].pop("audio_lookahead")  # as written before the field existed
    (path / "config.json").write_text(json.dumps(cfg))
    pipe = StyGazeTalk.from_pretrained(path)
    assert pipe.config.audio_lookahead is None and pipe.config.lookahead == pipe.config.M
    assert np.array_equal(pipe.generate(speech, raw=True).data, StyGazeTalk(tiny_model()).generate(speech, raw=True).data)


def test_builtin_model_ships_and_generates_from_the_examples():
    from pathlib import Path

    from stygaze.stygazetalk.pipeline import BUILTIN_DIR

    size = sum(p.stat().st_size for p in BUILTIN_DIR.iterdir())
    assert size < 20 * 2**20
    pipe = StyGazeTalk.from_pretrained()
    c = pipe.config
    assert (c.audio_encoder, c.style_dim, c.kind) == ("mel", 64, "lstm") and c.vel_lambda < 1.0
    root = Path(__file__).resolve().parents[3]
    style = pipe.extract_style(root / "examples" / "style_ref.npz")
    audio = load_example_audio(root / "examples" / "talk.wav", seconds=3.0)
    m = pipe.generate(audio, style=style, seed=0)
    assert m.data.shape == (75, 7) and np.isfinite(m.data).all()
    # plausible conversational ranges (degrees) and some motion
    assert np.abs(m.data).max() < 60 and m.data.std(axis=0).max() > 0.2


def test_builtin_realtime_model_streams_like_offline_within_250_ms():
    """The built-in realtime model: found by name, ≤ 250 ms algorithmic latency, stream == offline,
    and it shares the default model's style encoder (style vectors work with both)."""
    from pathlib import Path

    from stygaze.checkpoint import builtin_dir

    folder = builtin_dir("stygazetalk_realtime")
    assert sum(p.stat().st_size for p in folder.iterdir()) < 20 * 2**20
    pipe = StyGazeTalk.from_pretrained("realtime")
    c = pipe.config
    assert c.lookahead < c.M and pipe.latency_s <= 0.25 and (c.N + c.lookahead - 1) * 40 + 12 == round(pipe.latency_s * 1000)
    default = StyGazeTalk.from_pretrained("default")
    assert pipe.style_encoder_id == default.style_encoder_id
    root = Path(__file__).resolve().parents[3]
    x = load_example_audio(root / "examples" / "talk.wav", seconds=4.0)
    x = x / x.std()
    style = default.extract_style(root / "examples" / "style_ref.npz")
    m = pipe.generate(x, normalize=False, beat_align=False, seed=1, style=style, online_beats=c.beat_feature, match_style=False)  # a stream never rescales
    st = pipe.stream(normalize=False, seed=1, style=style)
    outs = [st.push_frames(x[i : i + 640]) for i in range(0, len(x), 640)] + [st.flush_frames()]
    assert np.allclose(np.concatenate([o.motion for o in outs]), m.data, atol=1e-4)
    assert np.allclose(np.concatenate([o.blink for o in outs]), m.blink, atol=1e-6)
    assert np.allclose(np.concatenate([o.jaw for o in outs]), m.extras["jaw"], atol=1e-6)
    assert np.abs(m.data).max() < 60 and m.data.std(axis=0).max() > 0.2


def load_example_audio(path, seconds):
    from stygaze.audio import load_audio

    return load_audio(path)[: int(seconds * SAMPLE_RATE)]


def _beaty_speech(rng, seconds=8.0):
    """Syllable-like bursts on a 0.5 s grid with louder (stressed) ones every other beat."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    env = np.zeros_like(t)
    for k, t0 in enumerate(np.arange(0.3, seconds - 0.3, 0.25)):
        env += (1.0 if k % 2 == 0 else 0.3) * np.exp(-((t - t0) / 0.03) ** 2)
    return (np.sin(2 * np.pi * 150 * t) * env + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def test_beat_model_uses_the_beats_and_streams_like_its_online_offline_call(rng):
    """A beat-channel model: the channel changes the motion; stream == generate(online_beats=True)."""
    import torch

    from stygaze.features import rhythm

    pipe = StyGazeTalk(tiny_model(beat_feature=True))
    gen = pipe.model.generator
    x = _beaty_speech(rng)
    x = x / x.std()
    feats = gen.clip_features(x)
    assert feats.shape[1] == gen.audio.feature_dim + 1
    assert np.array_equal(feats[:, -1].numpy(), rhythm.clip_beat_channel(x, len(feats)))
    assert feats[:, -1].max() == 1.0  # the tracker finds beats in this signal
    offline = pipe.generate(x, normalize=False, seed=2, raw=True).data
    # the beat channel matters: zero it and the motion changes
    flat = feats.clone()
    flat[:, -1] = 0
    with torch.no_grad():
        pred = gen.rollout(flat[None], None, pipe._initial_past(2), noise=pipe._noise(2, None))[0]
    assert not np.allclose(pipe._to_degrees(pred, 1.0, 1.0).motion, offline, atol=1e-3)
    online = pipe.generate(x, normalize=False, seed=2, online_beats=True, raw=True).data
    for chunk in (777, 6400):
        st = pipe.stream(normalize=False, seed=2, raw=True)
        outs = [st.push(x[i : i + chunk]) for i in range(0, len(x), chunk)] + [st.flush()]
        assert np.allclose(np.concatenate(outs), online, atol=1e-4)
    assert st.frames_out == len(offline)


def test_beat_feature_needs_the_mel_encoder():
    from stygaze.stygazetalk.generator import GeneratorConfig, MotionGenerator

    with pytest.raises(ValueError, match="mel"):
        MotionGenerator(GeneratorConfig(audio_encoder="wav2vec2", beat_feature=True))
    with pytest.raises(ValueError, match="beat_context"):
        MotionGenerator(GeneratorConfig(beat_feature=True, beat_context=5))


@pytest.mark.parametrize("beat", [False, True])
def test_samples_to_next_step_marks_the_step_boundaries(speech, beat):
    p = StyGazeTalk(tiny_model(beat_feature=beat))
    s = p.stream(seed=0)
    pos = 0
    for _ in range(4):
        need = s.samples_to_next_step()
        assert need > 0
        assert len(s.push(speech[pos : pos + need - 1])) == 0  # one sample short: no step yet
        assert len(s.push(speech[pos + need - 1 : pos + need])) == p.config.N
        assert s.samples_to_next_step() == p.config.N * 640  # the next step: N frames of audio later
        pos += need
