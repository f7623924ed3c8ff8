"""Perceptual evaluation: Fréchet distance properties, behaviour statistics, the report."""

import numpy as np
import pytest
import torch

from stygaze.eval.perceptual import (
    GESTURE_NAMES,
    RecognizedVideo,
    behaviour_stats,
    compare_stats,
    frechet_distance,
    perceptual_report,
    perceptual_report_from_recognized,
)
from stygaze.motion import Motion


def test_frechet_identical_sets_is_zero(rng):
    a = rng.normal(size=(200, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_symmetric_and_grows_with_shift(rng):
    a = rng.normal(size=(300, 6))
    b = rng.normal(size=(300, 6))
    d_ab = frechet_distance(a, b)
    assert d_ab == pytest.approx(frechet_distance(b, a), rel=1e-6, abs=1e-9)
    assert frechet_distance(a, b + 0.5) > d_ab
    assert frechet_distance(a, b + 2.0) > frechet_distance(a, b + 0.5)
    # mean shift only: distance = ‖Δμ‖² exactly for identical covariances
    assert frechet_distance(a, a + 1.0) == pytest.approx(6.0, rel=1e-6)
    # a scale change is detected too
    assert frechet_distance(a, 3 * a) > 1.0


def test_frechet_rejects_bad_shapes(rng):
    with pytest.raises(ValueError):
        frechet_distance(rng.normal(size=(10, 3)), rng.normal(size=(10, 4)))
    with pytest.raises(ValueError):
        frechet_distance(rng.normal(size=(1, 3)), rng.normal(size=(10, 3)))


def test_behaviour_stats_by_hand():
    sacc = np.zeros(1500, int)
    sacc[[10, 11, 100, 200, 201, 202]] = 1  # 3 saccade events, 6 frames, over 60 s
    blink = np.zeros(1500, int)
    blink[500:505] = 1
    blink[900:904] = 1
    gest = np.zeros(1500, int)
    gest[300:330] = 1  # a 30-frame nod survives smoothing
    gest[700:703] = 2  # a 3-frame shake is dropped by the protocol
    st = behaviour_stats([sacc], [blink], [gest])
    assert st.seconds == 60.0
    assert st.saccade_share == pytest.approx(6 / 1500)
    assert st.saccades_per_min == pytest.approx(3.0)
    assert st.blink_rate == pytest.approx(2.0)
    assert st.gestures_per_min == pytest.approx(1.0)
    assert st.gesture_share["shake"] == 0.0
    assert sum(st.gesture_share.values()) == pytest.approx(1.0)
    assert set(st.gesture_share) == set(GESTURE_NAMES)
    diff = compare_stats(st, st)
    assert all(v == 0 for v in diff.values())


def _video(rng, n, shift=0.0, sacc=0.1):
    return RecognizedVideo(
        saccade=(rng.random(n) < sacc).astype(int),
        blink=np.zeros(n, int),
        gesture=np.zeros(n, int),
        gaze=np.tile([0.0, 0.0, 1.0], (n, 1)),
        features=rng.normal(size=(n, 4)) + shift,
    )


def test_report_from_recognized(rng):
    gt = [_video(rng, 100), _video(rng, 100)]
    same = perceptual_report_from_recognized(gt, gt)
    assert same.frechet == pytest.approx(0.0, abs=1e-6)
    assert same.diff["saccade_share"] == 0
    near = perceptual_report_from_recognized([_video(rng, 200)], gt)
    far = perceptual_report_from_recognized([_video(rng, 200, shift=1.5, sacc=0.0)], gt)
    assert near.frechet < far.frechet
    assert far.diff["saccade_share"] < 0
    d = far.to_dict()
    assert set(d) >= {"frechet_distance", "pred", "gt", "diff"}
    assert "Fréchet" in far.table()


def test_perceptual_report_end_to_end_with_model():
    """Render-free: a fake renderer and a micro recognizer; identical motion → distance 0."""
    from stygaze.omnihead.model import OmniHead
    from stygaze.omnihead.config import OmniHeadConfig

    torch.manual_seed(0)
    model = OmniHead(OmniHeadConfig(img_size=32, num_frames=8, embed_dim=16, depths=(1, 1), num_heads=(2, 2), window_size=(2, 4, 4), head_hidden=16, decoder_heads=2)).eval()

    def render(motion):
        img = np.full((len(motion), 32, 32, 3), 90, np.uint8)
        for t, (p, y) in enumerate(motion.data[:, :2]):
            c = int(np.clip(16 + y, 2, 29)), int(np.clip(16 - p, 2, 29))
            img[t, c[1] - 2 : c[1] + 2, c[0] - 2 : c[0] + 2] = 255
        return img

    moving = Motion.zeros(40)
    moving.data[:, 1] = 10 * np.sin(np.arange(40) / 3)
    frozen = Motion.zeros(40)
    same = perceptual_report([moving], [moving], model=model, renderer=render, stride=4)
    diff = perceptual_report([frozen], [moving], model=model, renderer=render, stride=4)
    assert same.frechet == pytest.approx(0.0, abs=1e-6)
    assert diff.frechet > 1e-6
    assert same.num_windows == (10, 10)
