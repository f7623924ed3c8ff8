"""Explicit style statistics beside the learned style, and the beat-weighted head-velocity loss."""

import numpy as np
import pytest
import torch

from gen_fixtures import make_tiny_corpus, tiny_model, write_tiny_config
from stygaze.errors import StyleError
from stygaze.motion import Motion
from stygaze.stygazetalk.generator import generator_loss
from stygaze.stygazetalk.pipeline import StyGazeTalk, StyleVector
from stygaze.stygazetalk.style_encoder import STATS_FLOOR, STYLE_STATS, window_statistics
from stygaze.stygazetalk.style_match import head_statistics, match_head


def _yaw_clip(amplitude: float, frames: int = 300, hz: float = 0.5) -> np.ndarray:
    t = np.arange(frames) / 25.0
    m = np.zeros((frames, 7), np.float32)
    m[:, 1] = amplitude * np.sin(2 * np.pi * hz * t)
    return m


def test_window_statistics_measure_amplitude_and_speed_per_axis():
    a = window_statistics(_yaw_clip(4.0)[None])[0]
    b = window_statistics(_yaw_clip(8.0)[None])[0]
    assert len(a) == len(STYLE_STATS) == 6
    # a sine of amplitude A: std A/sqrt(2), mean |speed| 4 A f (the 5-frame average barely damps 0.5 Hz)
    assert a[1] == pytest.approx(np.log(4.0 / np.sqrt(2)), abs=0.02)
    assert a[4] == pytest.approx(np.log(4 * 4.0 * 0.5), abs=0.03)
    np.testing.assert_allclose(b[[1, 4]] - a[[1, 4]], np.log(2.0), atol=1e-3)  # twice the amplitude: + log 2
    np.testing.assert_allclose(a[[0, 2, 3, 5]], np.log(STATS_FLOOR))  # still axes sit at the floor


def test_window_statistics_skip_missing_frames():
    clip = _yaw_clip(4.0)
    clip[100:110] = np.nan
    s = window_statistics(clip[None])[0]
    assert np.isfinite(s).all()
    assert s[1] == pytest.approx(np.log(4.0 / np.sqrt(2)), abs=0.05)


@pytest.fixture
def stats_model():
    return StyGazeTalk(tiny_model(style_stats=6))


def test_a_style_vector_carries_the_clips_statistics(stats_model):
    se = stats_model.model.style_encoder
    clip = _yaw_clip(6.0, frames=120)
    style = stats_model.extract_style(Motion(clip))
    assert style.style.shape == (stats_model.style_width,) == (8 + 6,)
    np.testing.assert_allclose(style.style[8:], se.clip_statistics(clip), rtol=1e-6)
    assert np.linalg.norm(style.style[:8]) == pytest.approx(1.0, abs=1e-5)
    assert stats_model.neutral_style.style.shape == (14,)
    with pytest.raises(StyleError, match="expects"):  # a plain d_s vector (an older model's) is refused
        stats_model.resolve_style(np.ones(8, np.float32))


def test_a_speaker_style_from_several_clips_pools_their_figures(stats_model, tmp_path):
    calm, lively = _yaw_clip(2.0, frames=100), _yaw_clip(8.0, frames=300)
    one = stats_model.extract_style(Motion(calm))
    assert np.array_equal(stats_model.extract_style([Motion(calm)]).style, one.style)  # a list of one = the clip
    both = stats_model.extract_style([Motion(calm), Motion(lively)])
    a, b = (head_statistics(c) for c in (calm, lively))
    # head statistics: the frame-weighted mean of the clips' figures (1/4 calm, 3/4 lively), in degrees
    np.testing.assert_allclose(np.exp(both.head), 0.25 * np.exp(a) + 0.75 * np.exp(b), rtol=1e-5)
    assert np.linalg.norm(both.style[:8]) == pytest.approx(1.0, abs=1e-5)
    se = stats_model.model.style_encoder
    np.testing.assert_allclose(both.style[8:], 0.25 * se.clip_statistics(calm) + 0.75 * se.clip_statistics(lively), rtol=1e-5)
    audio = np.random.default_rng(0).standard_normal(16000 * 2).astype(np.float32) * 0.1
    assert np.array_equal(stats_model.generate(audio, style=[Motion(calm), Motion(lively)], seed=1).data,
                          stats_model.generate(audio, style=both, seed=1).data)  # a list of clips is a style argument
    Motion(calm).save(tmp_path / "calm.npz")
    Motion(calm[:10]).save(tmp_path / "short.npz")
    with pytest.raises(StyleError, match="short.npz"):  # the clip at fault is named
        stats_model.extract_style([tmp_path / "calm.npz", tmp_path / "short.npz"])
    with pytest.raises(StyleError, match="no style clip"):
        stats_model.extract_style([])


def test_statistics_drive_the_motion_and_interpolate_linearly(stats_model):
    audio = np.random.default_rng(0).standard_normal(16000 * 3).astype(np.float32) * 0.1
    calm = stats_model.extract_style(Motion(_yaw_clip(1.0, frames=120)))
    lively = calm.style.copy()
    lively[8:] = stats_model.extract_style(Motion(_yaw_clip(12.0, frames=120))).style[8:]
    from stygaze.stygazetalk.pipeline import StyleVector

    lively = StyleVector(lively, calm.encoder_id)  # the same learned style, other statistics
    a = stats_model.generate(audio, style=calm, seed=0, raw=True).data
    b = stats_model.generate(audio, style=lively, seed=0, raw=True).data
    assert np.abs(a - b).max() > 1e-3
    np.testing.assert_array_equal(a, stats_model.generate(audio, style=calm, seed=0, raw=True).data)
    mix = stats_model.interpolate_style(calm, lively, 0.25)
    np.testing.assert_allclose(mix.style[8:], 0.75 * calm.style[8:] + 0.25 * lively.style[8:], rtol=1e-5)
    assert np.linalg.norm(mix.style[:8]) == pytest.approx(1.0, abs=1e-5)


def test_generate_matches_the_references_head_statistics(stats_model, tmp_path):
    audio = np.random.default_rng(2).standard_normal(16000 * 8).astype(np.float32) * 0.1
    probe = stats_model.extract_style(Motion(_yaw_clip(3.0, frames=200)))
    free_probe = stats_model.generate(audio, style=probe, seed=0, raw=True, match_style=False).data
    reference = free_probe.copy()
    reference[:, :3] = (reference[:, :3] - reference[:, :3].mean(axis=0)) * [1.0, 1.6, 0.7]  # more yaw, less roll
    style = stats_model.extract_style(Motion(reference))
    np.testing.assert_allclose(style.head, head_statistics(reference), rtol=1e-6)
    free = stats_model.generate(audio, style=style, seed=0, raw=True, match_style=False).data
    matched = stats_model.generate(audio, style=style, seed=0, raw=True).data
    np.testing.assert_allclose(matched[:, :3], match_head(free[:, :3], style.head)[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(matched[:, 3:], free[:, 3:])  # raw: the eyes are untouched
    err_free, err_matched = (np.abs(head_statistics(x) - style.head) for x in (free, matched))
    assert err_free.max() > 0.2  # the generator alone is off
    assert (err_matched <= err_free + 0.05).all() and err_matched.sum() < 0.5 * err_free.sum()  # matching closes the gap
    style.save(tmp_path / "s.npz")  # the statistics travel with a saved vector
    np.testing.assert_array_equal(stats_model.generate(audio, style=tmp_path / "s.npz", seed=0, raw=True).data, matched)
    bare = StyleVector(style.style, style.encoder_id)  # a vector without statistics: not rescaled
    np.testing.assert_array_equal(stats_model.generate(audio, style=bare, seed=0, raw=True).data, free)
    neutral = stats_model.generate(audio, seed=0, raw=True)  # no style: never rescaled
    np.testing.assert_array_equal(neutral.data, stats_model.generate(audio, seed=0, raw=True, match_style=False).data)


def test_a_statistics_model_round_trips_through_its_checkpoint(stats_model, tmp_path):
    stats_model.model.generator.stats_mean.fill_(0.3)
    stats_model.model.save(tmp_path / "m")
    again = StyGazeTalk.from_pretrained(tmp_path / "m")
    assert torch.equal(again.model.generator.stats_mean, stats_model.model.generator.stats_mean)
    audio = np.random.default_rng(1).standard_normal(16000 * 2).astype(np.float32) * 0.1
    np.testing.assert_array_equal(again.generate(audio, seed=3, raw=True).data, stats_model.generate(audio, seed=3, raw=True).data)


def test_beat_weights_add_the_head_velocity_error_on_weighted_frames():
    rng = np.random.default_rng(0)
    pred, target = (torch.from_numpy(rng.standard_normal((2, 4, 7)).astype(np.float32)) for _ in range(2))
    last = torch.zeros(2, 7)
    base = generator_loss(pred, target, last, 0.7)
    zero = generator_loss(pred, target, last, 0.7, torch.zeros(2, 4))
    assert float(zero[0]) == pytest.approx(float(base[0]))
    w = torch.zeros(2, 4)
    w[:, 2] = 4.0
    weighted = generator_loss(pred, target, last, 0.7, w)
    assert float(weighted[0]) > float(base[0])
    exact = target.clone()
    exact[..., :3] = pred[..., :3]  # head velocities right: the extra term vanishes
    assert float(generator_loss(pred, exact, last, 0.7, w)[2]) == pytest.approx(float(generator_loss(pred, exact, last, 0.7)[2]))


def test_training_with_statistics_sets_the_neutral_statistics(tmp_path):
    from stygaze.stygazetalk.train_generator import load_generator_run_config, train_generator
    from stygaze.stygazetalk.train_style import load_style_run_config, train_style

    corpus = make_tiny_corpus(tmp_path / "c", n_sessions=6, seconds=6.0)
    cfg_path = write_tiny_config(tmp_path / "t.yaml", **{"dropout: 0.0}\nstyle_encoder": "dropout: 0.0, style_stats: 6, beat_feature: true, beat_context: 20, beat_weight: 2.0}\nstyle_encoder"})
    style_run = train_style(load_style_run_config(cfg_path), corpus, tmp_path / "style", progress=False)
    best = train_generator(load_generator_run_config(cfg_path), corpus, tmp_path / "gen", style_encoder=style_run, progress=False)
    model = StyGazeTalk.from_pretrained(best)
    gen = model.model.generator
    assert gen.config.style_stats == 6 and gen.config.beat_weight == 2.0
    assert torch.all(gen.stats_std > 0) and not torch.equal(gen.stats_mean, torch.zeros(6))
    # the neutral statistics are the mean over the training sessions: inside the training windows' range
    neutral = gen.default_style[8:]
    assert torch.all((neutral > gen.stats_mean - 3 * gen.stats_std) & (neutral < gen.stats_mean + 3 * gen.stats_std))
    assert model.generate(np.zeros(16000, np.float32) + 0.01, seed=0).data.shape == (25, 7)


@pytest.mark.parametrize("head_stats, match", [
    (np.zeros(5, np.float32), "6 finite numbers"),
    (np.array([np.nan] * 6, np.float32), "6 finite numbers"),
    (np.array(["a"] * 6), "not numeric"),
])
def test_a_style_file_with_broken_head_statistics_is_refused(stats_model, tmp_path, head_stats, match):
    style = stats_model.extract_style(Motion(_yaw_clip(3.0, frames=120)))
    path = tmp_path / "s.npz"
    np.savez(path, style=style.style, encoder_id=np.asarray(style.encoder_id), head_stats=head_stats)
    with pytest.raises(StyleError, match=match):
        stats_model.resolve_style(path)
