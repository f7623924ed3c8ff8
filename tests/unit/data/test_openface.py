"""OpenFace 2.x import: coordinate conversion on constructed rows, filtering, gaps, resampling."""

import numpy as np
import pytest

from stygaze.audio import save_audio
from stygaze.data.corpus import check_corpus
from stygaze.data.openface import import_openface, openface_to_motion, read_openface_csv
from stygaze.errors import DataError
from stygaze.motion import Motion

HEADER = ["frame", "face_id", "timestamp", "confidence", "success", "gaze_0_x", "gaze_0_y", "gaze_0_z",
          "gaze_1_x", "gaze_1_y", "gaze_1_z", "gaze_angle_x", "gaze_angle_y", "pose_Tx", "pose_Ty", "pose_Tz",
          "pose_Rx", "pose_Ry", "pose_Rz"]  # fmt: skip


def _write(path, rows, header=HEADER):
    """rows: dicts with timestamp, g0 (3,), g1 (3,), r (3,) radians, optional conf/success."""
    lines = [", ".join(header)]  # OpenFace puts a space after each comma
    for i, r in enumerate(rows):
        vals = {
            "frame": i + 1, "face_id": r.get("face", 0), "timestamp": r["t"], "confidence": r.get("conf", 0.98),
            "success": r.get("ok", 1), "gaze_angle_x": 0, "gaze_angle_y": 0, "pose_Tx": 0, "pose_Ty": 0, "pose_Tz": 600,
        }  # fmt: skip
        for k, c in enumerate("xyz"):
            vals[f"gaze_0_{c}"] = r["g0"][k]
            vals[f"gaze_1_{c}"] = r["g1"][k]
        for k, c in enumerate("xyz"):
            vals[f"pose_R{c}"] = r["r"][k]
        lines.append(", ".join(str(vals[h]) for h in header))
    path.write_text("\n".join(lines) + "\n")
    return path


def _dir(pitch_deg, yaw_deg):
    """A gaze vector in OpenFace camera coordinates for a subject facing the camera:
    up = −y, subject's left = +x (image right), forward = −z."""
    p, y = np.radians(pitch_deg), np.radians(yaw_deg)
    return (np.cos(p) * np.sin(y), -np.sin(p), -np.cos(p) * np.cos(y))


def _one(tmp_path, g0, g1, r):
    cols = read_openface_csv(_write(tmp_path / "x.csv", [{"t": 0.0, "g0": g0, "g1": g1, "r": r}]))
    return openface_to_motion(cols).data[0]


@pytest.mark.parametrize(
    "g0, g1, r, expected",
    [
        (_dir(0, 0), _dir(0, 0), (0, 0, 0), [0, 0, 0, 0, 0, 0, 0]),
        # looking towards the image's right = the subject's left: yaw +
        (_dir(0, 10), _dir(0, 10), (0, 0, 0), [0, 0, 0, 0, 10, 0, 10]),
        # looking up (camera y points down): pitch +
        (_dir(10, 0), _dir(10, 0), (0, 0, 0), [0, 0, 0, 10, 0, 10, 0]),
        # eye 0 is the leftmost eye in the image = the subject's RIGHT eye
        (_dir(0, -5), _dir(0, 5), (0, 0, 0), [0, 0, 0, 0, 5, 0, -5]),
        # head turned to the subject's left (pose_Ry < 0) and eyes looking where the head points
        (_dir(0, 20), _dir(0, 20), (0, np.radians(-20), 0), [0, 20, 0, 0, 0, 0, 0]),
        # head pitched down (pose_Rx > 0) while the eyes look into the camera: eyes up in the head
        (_dir(0, 0), _dir(0, 0), (np.radians(10), 0, 0), [-10, 0, 0, 10, 0, 10, 0]),
        # head roll: top of the head towards the image's right = subject's left shoulder
        (_dir(0, 0), _dir(0, 0), (0, 0, np.radians(10)), [0, 0, 10, 0, 0, 0, 0]),
    ],
    ids=["straight", "look_left", "look_up", "eye0_is_right_eye", "head_left", "head_down", "roll_left"],
)
def test_constructed_rows(tmp_path, g0, g1, r, expected):
    np.testing.assert_allclose(_one(tmp_path, g0, g1, r), expected, atol=1e-3)


def test_world_gaze_is_preserved(tmp_path, rng):
    """Random head poses and gaze: stygaze's world gaze equals OpenFace's gaze (mapped by M)."""
    rows = []
    for i in range(20):
        rows.append({"t": i / 25, "g0": _dir(*rng.uniform(-20, 20, 2)), "g1": _dir(*rng.uniform(-20, 20, 2)),
                     "r": tuple(np.radians(rng.uniform(-25, 25, 3)))})  # fmt: skip
    cols = read_openface_csv(_write(tmp_path / "x.csv", rows))
    m = openface_to_motion(cols)
    for eye, key in (("left", "g1"), ("right", "g0")):
        expected = np.array([r[key] for r in rows]) * np.array([1, -1, -1])
        np.testing.assert_allclose(m.world_gaze_vectors(eye), expected, atol=1e-5)


def test_filtering_gaps_and_resampling(tmp_path):
    # 30 fps rows for 2 s; low confidence at rows 10-12 (0.1 s gap: interpolated),
    # failed tracking at rows 30-44 (0.5 s: stays NaN); yaw ramps linearly with time
    rows = []
    for i in range(60):
        t = i / 30
        row = {"t": t, "g0": _dir(0, 10 * t), "g1": _dir(0, 10 * t), "r": (0, 0, 0)}
        if 10 <= i <= 12:
            row["conf"] = 0.3
        if 30 <= i <= 44:
            row["ok"] = 0
            row["g0"] = row["g1"] = (0, 0, 0)
        rows.append(row)
    cols = read_openface_csv(_write(tmp_path / "x.csv", rows))
    m = openface_to_motion(cols, min_confidence=0.75, max_gap_s=0.2)
    assert len(m) == int(59 / 30 * 25) + 1 and m.fps == 25
    t = np.arange(len(m)) / 25
    valid = ~np.isnan(m.data).any(1)
    np.testing.assert_allclose(m.data[valid, 4], 10 * t[valid], atol=1e-3)  # linear ramp survives
    assert valid[int(0.4 * 25)]  # inside the short gap: interpolated
    gap = (t > 29 / 30 + 1e-6) & (t < 45 / 30 - 1e-6)
    assert not valid[gap].any() and valid[~gap].all()


def test_multiple_faces_keep_the_lowest_id(tmp_path):
    rows = [{"t": i / 25, "g0": _dir(0, 0), "g1": _dir(0, 0), "r": (0, 0, 0)} for i in range(5)]
    rows += [{"t": i / 25, "face": 1, "g0": _dir(0, 30), "g1": _dir(0, 30), "r": (0, 0, 0)} for i in range(5)]
    m = openface_to_motion(read_openface_csv(_write(tmp_path / "x.csv", rows)))
    assert len(m) == 5 and np.abs(m.data).max() < 1e-6


@pytest.mark.parametrize(
    "content, match",
    [
        ("", "empty"),
        ("frame, timestamp, confidence\n1, 0, 1\n", "missing column"),
        (", ".join(HEADER) + "\n" + ", ".join(["1"] * 5 + ["abc"] * 14) + "\n", "non-numeric"),
        (", ".join(HEADER) + "\n1, 0, 0.0\n", "fields"),
        (", ".join(HEADER) + "\n", "no data rows"),
    ],
    ids=["empty", "missing_columns", "non_numeric", "short_line", "header_only"],
)
def test_corrupt_csv(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(DataError, match=match):
        read_openface_csv(p)


def test_decreasing_timestamps_rejected(tmp_path):
    rows = [{"t": t, "g0": _dir(0, 0), "g1": _dir(0, 0), "r": (0, 0, 0)} for t in (0.0, 0.04, 0.02)]
    with pytest.raises(DataError, match="increasing"):
        read_openface_csv(_write(tmp_path / "x.csv", rows))


def test_import_writes_a_checked_session(tmp_path):
    rows = [{"t": i / 30, "g0": _dir(0, 5), "g1": _dir(0, 5), "r": (0, 0, 0)} for i in range(90)]
    csv = _write(tmp_path / "v.csv", rows)
    audio = tmp_path / "a.wav"
    save_audio(audio, (0.2 * np.sin(np.arange(16000 * 4) / 10)).astype(np.float32))
    res = import_openface(csv, audio, tmp_path / "corpus" / "v1")
    assert res.frames == 100 and res.dropped_rows == 0 and res.rows == 90
    m = Motion.load(tmp_path / "corpus" / "v1" / "motion.npz")
    # the CSV ends at 2.967 s: frames 0..74 are tracked, the rest of the audio is NaN
    assert len(m) == 100 and np.isnan(m.data[75:]).all() and not np.isnan(m.data[:75]).any()
    np.testing.assert_allclose(m.data[:75, 4], 5.0, atol=1e-4)
    assert check_corpus(tmp_path / "corpus").ok
    with pytest.raises(DataError, match="already exists"):
        import_openface(csv, audio, tmp_path / "corpus" / "v1")
    bad = [{"t": i / 30, "g0": _dir(0, 5), "g1": _dir(0, 5), "r": (0, 0, 0), "ok": 0} for i in range(30)]
    with pytest.raises(DataError, match="no usable frame"):
        import_openface(_write(tmp_path / "bad.csv", bad), audio, tmp_path / "corpus" / "v2")
    assert not (tmp_path / "corpus" / "v2").exists()
