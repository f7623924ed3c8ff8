"""Beat Alignment Score, motion beats and audio beats."""

import numpy as np
import pytest

from stygaze.eval import audio_beats, beat_alignment_score, motion_beats


def test_bas_test_vector_is_bailando_direction():
    # REFERENCE: audio beats [10, 40, 70], motion beats [12, 40] -> 0.6002
    assert beat_alignment_score([10, 40, 70], [12, 40]) == pytest.approx(0.6002, abs=1e-4)
    # (exp(-4/18) + 1 + exp(-900/18)) / 3, averaged over the three audio beats
    assert beat_alignment_score([10, 40, 70], [12, 40]) == pytest.approx((np.exp(-4 / 18) + 1 + np.exp(-50)) / 3)
    # swapping the roles is AI Choreographer's direction: 0.9004
    assert beat_alignment_score([12, 40], [10, 40, 70]) == pytest.approx(0.9004, abs=1e-4)


def test_bas_edge_cases():
    assert np.isnan(beat_alignment_score([], [1, 2]))  # no audio beats: undefined
    assert beat_alignment_score([5], []) == 0.0  # no motion beats: nothing aligned
    assert beat_alignment_score([5, 9], [5, 9]) == 1.0
    assert beat_alignment_score([0], [3], sigma=3.0) == pytest.approx(np.exp(-0.5))


def test_motion_beats_are_speed_minima():
    t = np.arange(200)
    speed = 2.0 + np.cos(2 * np.pi * t / 20)  # minima at 10, 30, 50, ...
    x = np.concatenate([[0.0], np.cumsum(speed)])[:, None]  # step t has speed[t]
    beats = motion_beats(x, sigma=5)
    np.testing.assert_array_equal(beats, np.arange(10, 200, 20))


def test_motion_beats_of_a_still_or_tiny_motion():
    assert motion_beats(np.zeros((50, 7))).size == 0
    assert motion_beats(np.zeros((2, 7))).size == 0


def test_motion_beats_fill_nan_steps():
    t = np.arange(201)
    speed = 2.0 + np.cos(2 * np.pi * np.arange(200) / 20)
    x = np.concatenate([[0.0], np.cumsum(speed)])
    x[95] = np.nan  # two steps touching frame 95 are interpolated
    beats = motion_beats(x[:, None], sigma=5)
    assert 90 in beats and 110 in beats and len(t) > 0


def click_track(sr, seconds=8.0, period=0.5):
    y = np.zeros(int(sr * seconds), np.float32)
    click = np.hanning(int(0.01 * sr)) * np.sin(2 * np.pi * 1000 * np.arange(int(0.01 * sr)) / sr)
    for start in np.arange(0.25, seconds - 0.1, period):
        i = int(start * sr)
        y[i : i + len(click)] += click.astype(np.float32)
    return y


@pytest.mark.parametrize("sr", [16000, pytest.param(44100, marks=pytest.mark.slow)])  # 44.1 kHz: librosa compiles numba code
def test_audio_beats_of_a_click_track_fall_on_the_clicks(sr):
    beats = audio_beats(click_track(sr), sr, fps=25)
    clicks = (np.arange(0.25, 7.9, 0.5) * 25).round()
    assert len(beats) >= 6
    # every beat but the last (the tracker's end trimming) lies within 2 frames of a click;
    # the spacing is the click period (12.5 frames) or a multiple (it may pick half the tempo)
    assert np.abs(beats[:-1, None] - clicks[None, :]).min(axis=1).max() <= 2
    periods = np.median(np.diff(beats)) / 12.5
    assert periods >= 0.9 and abs(periods - round(periods)) < 0.1


def test_audio_beats_of_silence_are_empty():
    assert audio_beats(np.zeros(16000 * 3, np.float32), 16000).size == 0
    assert audio_beats(np.zeros(10, np.float32), 16000).size == 0
