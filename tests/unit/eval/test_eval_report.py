"""The accumulating report layer: schema, pooling, alignment rules, tables; file pairing."""

import numpy as np
import pytest

from stygaze.errors import AudioError, DataError, MotionFormatError
from stygaze.eval import EvalAccumulator, evaluate_pair, format_tables
from stygaze.eval.files import pair_paths
from stygaze.motion import Motion

SCHEMA = {
    "all": {"mae", "vel", "mee", "bas"},
    "gaze": {"mae", "vel", "mee", "bas"},
    "head": {"mae", "vel", "mee", "bas"},
    "pattern": {"fix_ratio_gt", "fix_ratio_pred", "comp_gt", "comp_pred", "sim"},
    "events": {"detector", "gt", "pred", "event_sim", "distance", "similarity", "conversation"},
    "compensation": {"gt", "pred"},
}


def walk(rng, T):
    return Motion(np.cumsum(rng.normal(0, 0.3, (T, 7)), axis=0).astype(np.float32))


def test_schema_is_exact_and_bas_is_none_without_audio(rng):
    res = evaluate_pair(walk(rng, 100), walk(rng, 100))
    assert {k: set(v) for k, v in res.items()} == SCHEMA
    assert all(res[g]["bas"] is None for g in ("all", "gaze", "head"))
    assert all(isinstance(v, float) for g in ("all", "gaze", "head") for k, v in res[g].items() if k != "bas")


def test_identical_clips_score_perfectly(rng):
    m = walk(rng, 120)
    res = evaluate_pair(m, m.copy())
    for g in ("all", "gaze", "head"):
        assert res[g]["mae"] == res[g]["vel"] == res[g]["mee"] == 0.0
    p = res["pattern"]
    assert p["fix_ratio_gt"] == p["fix_ratio_pred"] and p["comp_gt"] == p["comp_pred"] and p["sim"] == 1.0


def test_pooling_weights_by_frames():
    acc = EvalAccumulator()
    acc.add(Motion(np.ones((10, 7), np.float32)), Motion.zeros(10))  # MAE 1 over 10 frames
    acc.add(Motion(np.full((30, 7), 3.0, np.float32)), Motion.zeros(30))  # MAE 3 over 30 frames
    assert acc.result()["all"]["mae"] == pytest.approx((10 * 1 + 30 * 3) / 40)
    assert acc.num_pairs == 2 and acc.num_frames == 40


def test_pattern_pooling_counts_samples():
    acc = EvalAccumulator()
    eye = np.r_[np.zeros(20), [5.0, 10.0, 15.0], np.full(20, 20.0)]
    data = np.zeros((43, 7), np.float32)
    data[:, 4] = data[:, 6] = eye
    acc.add(Motion.zeros(43), Motion(data))  # gt: 40 of 43 fixation samples
    acc.add(Motion.zeros(57), Motion.zeros(57))  # gt: 57 of 57
    res = acc.result()["pattern"]
    assert res["fix_ratio_gt"] == pytest.approx(97 / 100)
    assert res["fix_ratio_pred"] == 1.0
    assert res["sim"] == pytest.approx(1 - (0.03 + abs(res["comp_gt"])))


def test_one_frame_length_difference_is_cut_to_the_shorter(rng):
    acc = EvalAccumulator()
    pred = acc.add(walk(rng, 101), walk(rng, 100))
    assert len(pred) == 100 and acc.num_frames == 100


def test_two_frames_apart_is_refused(rng):
    with pytest.raises(MotionFormatError, match="102 frames but ground truth 100"):
        evaluate_pair(walk(rng, 102), walk(rng, 100))


def test_different_fps_is_refused(rng):
    with pytest.raises(MotionFormatError, match="fps"):
        evaluate_pair(Motion(walk(rng, 100).data, fps=30), walk(rng, 100))


def test_shared_other_fps_is_resampled_to_25(rng):
    acc = EvalAccumulator()
    pred = acc.add(Motion(walk(rng, 100).data, fps=50), Motion(walk(rng, 100).data, fps=50))
    assert pred.fps == 25 and len(pred) == 50


def click_audio(seconds, sr=16000):
    y = np.zeros(int(seconds * sr), np.float32)
    for s in np.arange(0.2, seconds - 0.1, 0.5):
        y[int(s * sr) : int(s * sr) + 160] = np.hanning(160)
    return y


def test_bas_with_audio_is_in_unit_range(rng):
    res = evaluate_pair(walk(rng, 200), walk(rng, 200), click_audio(8.0), 16000)
    for g in ("all", "gaze", "head"):
        assert 0.0 <= res[g]["bas"] <= 1.0


def test_audio_of_another_length_is_refused(rng):
    with pytest.raises(AudioError, match="audio lasts 4.00 s but the motion 8.00 s"):
        evaluate_pair(walk(rng, 200), walk(rng, 200), click_audio(4.0), 16000)


def test_tables_show_both_paper_layouts(rng):
    text = format_tables(evaluate_pair(walk(rng, 100), walk(rng, 100)))
    for word in ("All", "Gaze", "Head", "MAE", "Vel", "MEE", "BAS", "saccades", "fixation", "compScore", "simScore"):
        assert word in text
    ascii_text = format_tables(evaluate_pair(walk(rng, 100), walk(rng, 100)), ascii_only=True)
    ascii_text.encode("ascii")


def saccadic_gaze(seed, T=500, fps=25.0):
    """Head still, eyes fixating 8–19 frames then jumping 3–10° (something to detect)."""
    rng = np.random.default_rng(seed)
    eye, cur, i = np.zeros((T, 2)), np.zeros(2), 0
    while i < T:
        d = int(rng.integers(8, 20))
        eye[i : i + d] = cur
        i += d
        ang = rng.uniform(0, 2 * np.pi)
        cur = np.clip(cur + rng.uniform(3, 10) * np.array([np.cos(ang), np.sin(ang)]), -15, 15)
    data = np.zeros((T, 7), np.float32)
    data[:, 3] = data[:, 5] = eye[:, 1]
    data[:, 4] = data[:, 6] = eye[:, 0]
    return Motion(data, fps)


def test_events_and_compensation_blocks():
    gt = saccadic_gaze(0)
    res = evaluate_pair(gt, gt.copy())
    ev = res["events"]
    assert ev["detector"] == "adaptive" and ev["event_sim"] == 1.0
    assert ev["gt"] == ev["pred"] and ev["gt"]["num_fixations"] > 20
    assert 0 < ev["gt"]["saccade_share"] < 0.2  # one frame step per shift
    assert set(ev["similarity"]) == {"fixation_ms", "shift_deg", "shift_rate", "turn_deg"}
    assert ev["conversation"]["detector"] == "conversation" and ev["conversation"]["gt"]["num_fixations"] > 20
    assert res["compensation"]["gt"] == res["compensation"]["pred"]
    other = evaluate_pair(saccadic_gaze(1), gt)
    assert 0 < other["events"]["event_sim"] < 1


def test_event_sim_pools_over_pairs():
    acc = EvalAccumulator()
    for seed in range(3):
        acc.add(saccadic_gaze(seed), saccadic_gaze(seed + 10))
    res = acc.result()["events"]
    single = evaluate_pair(saccadic_gaze(0), saccadic_gaze(10))["events"]
    assert res["gt"]["num_fixations"] > 2 * single["gt"]["num_fixations"]


def test_unknown_event_detector_is_refused_up_front():
    with pytest.raises(ValueError, match="unknown detector preset"):
        EvalAccumulator(event_detector="bogus")


def test_tables_show_events_and_compensation(rng):
    res = evaluate_pair(saccadic_gaze(0), saccadic_gaze(1))
    text = format_tables(res)
    for word in ("Table IV, the paper's metrics", "detSacc", "Gaze events", "event_sim", "VOR gain", "latency ms"):
        assert word in text
    format_tables(res, ascii_only=True).encode("ascii")


# --- file pairing ---------------------------------------------------------------------
def test_pairing_by_file_name(tmp_path):
    for d in ("p", "g", "a"):
        (tmp_path / d).mkdir()
    for name in ("x", "y"):
        Motion.zeros(5).save(tmp_path / "p" / f"{name}.npz")
        Motion.zeros(5).save(tmp_path / "g" / f"{name}.npz")
    Motion.zeros(5).save(tmp_path / "g" / "extra.npz")  # extra ground truth is ignored
    (tmp_path / "a" / "x.flac").write_bytes(b"x")
    (tmp_path / "a" / "y.wav").write_bytes(b"x")
    pairs = pair_paths(tmp_path / "p", tmp_path / "g", tmp_path / "a")
    assert [(p.name, p.audio.name) for p in pairs] == [("x", "x.flac"), ("y", "y.wav")]


def test_pairing_errors(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    with pytest.raises(DataError, match="no .npz"):
        pair_paths(tmp_path / "p", tmp_path / "g")
    Motion.zeros(5).save(tmp_path / "p" / "x.npz")
    with pytest.raises(DataError, match="no ground truth .* for x.npz"):
        pair_paths(tmp_path / "p", tmp_path / "g")
    Motion.zeros(5).save(tmp_path / "g" / "x.npz")
    with pytest.raises(AudioError, match="no audio for clip 'x'"):
        pair_paths(tmp_path / "p", tmp_path / "g", tmp_path)
    with pytest.raises(DataError, match="both be files or both be folders"):
        pair_paths(tmp_path / "p" / "x.npz", tmp_path / "g")
    with pytest.raises(MotionFormatError, match="not found"):
        pair_paths(tmp_path / "nope", tmp_path / "g")
