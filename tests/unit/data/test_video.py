"""Video import: pose math on synthetic landmarks, resampling, splits, ffmpeg probing and the error paths.

The pose math runs without MediaPipe; the ffmpeg tests skip without ffmpeg; only the
"no face" test needs MediaPipe (the procedural-head round trip is in
tests/integration/test_cli_data_video.py).
"""

import json
import shutil
import subprocess

import numpy as np
import pytest

from stygaze.data import video as V
from stygaze.errors import DataError
from stygaze.motion import head_rotation_matrix

HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_ffmpeg = pytest.mark.skipif(not HAVE_FFMPEG, reason="needs ffmpeg and ffprobe")


# --------------------------------------------------------------------------------------
# a synthetic face: every landmark the importer uses, in the head frame (metres)
# --------------------------------------------------------------------------------------
EYE_W = 0.030  # corner to corner (3-D)


def synthetic_face(seed=0):
    """``(len(USED), 3)`` landmarks: symmetric pairs mirrored about x = 0, forehead and chin on
    the midline at equal depth (so the anatomical axes are the identity), eyes with corners
    and lids, other rigid points random."""
    rng = np.random.default_rng(seed)
    F = np.zeros((len(V.USED), 3))
    F[:] = rng.uniform([-0.07, -0.09, -0.02], [0.07, 0.06, 0.04], size=F.shape)
    for right, left in V.SYMMETRIC_PAIRS:
        p = rng.uniform([0.02, -0.06, -0.01], [0.07, 0.02, 0.03])
        F[V.COL[left]] = p
        F[V.COL[right]] = p * [-1, 1, 1]
    F[V.COL[V.FOREHEAD]] = [0, 0.07, 0.02]
    F[V.COL[V.CHIN]] = [0, -0.11, 0.02]
    for side, sx in (("left", 1), ("right", -1)):
        e = V.EYES[side]
        inner = np.array([sx * 0.016, 0.0, 0.03])
        outer = np.array([sx * (0.016 + EYE_W), 0.0, 0.03])
        F[V.COL[e["inner"]]], F[V.COL[e["outer"]]] = inner, outer
    return F


def eye_geometry(F, side):
    e = V.EYES[side]
    inner, outer = F[V.COL[e["inner"]]], F[V.COL[e["outer"]]]
    return e, 0.5 * (inner + outer), np.linalg.norm(outer - inner)


def place_eyes(F, pitch, yaw, aperture):
    """A copy of ``F`` with both irises at (pitch, yaw) degrees and lids at ``aperture`` eye widths."""
    F = F.copy()
    for side in ("left", "right"):
        e, c, w = eye_geometry(F, side)
        r = V.EYE_RADIUS_PER_WIDTH * w
        F[V.COL[e["iris"]]] = c + [r * np.sin(np.deg2rad(yaw)), r * np.sin(np.deg2rad(pitch)), 0.004]
        for up, lo in e["lids"]:
            F[V.COL[up]] = c + [0, 0.5 * aperture * w, 0.002]
            F[V.COL[lo]] = c - [0, 0.5 * aperture * w, -0.002]
    return F


def synthetic_clip(n=90, fps=30.0, noise=0.0, seed=1, blink_frames=(), no_face=()):
    """Points (stygaze frame, px), times, and the true head and eye angles of a clip."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fps
    head = np.stack([6 * np.sin(2 * np.pi * 0.5 * t), 20 * np.sin(2 * np.pi * 0.3 * t + 1), 9 * np.sin(2 * np.pi * 0.4 * t + 2)], 1)
    eyes = np.stack([5 * np.sin(2 * np.pi * 0.7 * t), 12 * np.sin(2 * np.pi * 0.9 * t + 0.5)], 1)
    F = synthetic_face()
    R = head_rotation_matrix(head[:, 0], head[:, 1], head[:, 2])
    pts = np.empty((n, len(V.USED), 3))
    for i in range(n):
        Fi = place_eyes(F, eyes[i, 0], eyes[i, 1], 0.02 if i in blink_frames else 0.3)
        s = 2500.0 * (1 + 0.1 * np.sin(i / 10))  # px per metre: the face comes and goes a little
        pts[i] = s * Fi @ R[i].T + [320 + 5 * np.sin(i / 7), -240, 10] + noise * rng.standard_normal((len(V.USED), 3))
    pts[list(no_face)] = np.nan
    return pts, t, head, eyes


# --------------------------------------------------------------------------------------
# Procrustes, template, axes
# --------------------------------------------------------------------------------------
def test_procrustes_recovers_a_batch_of_similarity_transforms(rng):
    Q = rng.standard_normal((40, 3))
    R = head_rotation_matrix(rng.uniform(-40, 40, 5), rng.uniform(-80, 80, 5), rng.uniform(-40, 40, 5))
    s = rng.uniform(0.5, 3, 5)
    t = rng.standard_normal((5, 3))
    P = s[:, None, None] * np.einsum("nij,kj->nki", R, Q) + t[:, None, :]
    s2, R2, t2 = V.procrustes(P, Q)
    np.testing.assert_allclose(s2, s, rtol=1e-9)
    np.testing.assert_allclose(R2, R, atol=1e-9)
    np.testing.assert_allclose(t2, t, atol=1e-9)
    np.testing.assert_allclose(V.to_template_frame(P, s2, R2, t2), np.broadcast_to(Q, P.shape), atol=1e-9)


def test_procrustes_never_returns_a_reflection(rng):
    Q = rng.standard_normal((30, 3))
    P = Q * [-1, 1, 1]  # a mirror image: the best proper rotation is still a rotation
    _, R, _ = V.procrustes(P, Q)
    assert np.linalg.det(R) == pytest.approx(1.0)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)


def test_clip_template_is_the_shape_up_to_a_similarity(rng):
    Q = rng.standard_normal((25, 3))
    R = head_rotation_matrix(rng.uniform(-20, 20, 50), rng.uniform(-30, 30, 50), rng.uniform(-20, 20, 50))
    P = np.einsum("nij,kj->nki", R, Q) * 3.0 + 1.0 + 0.01 * rng.standard_normal((50, 25, 3))
    T = V.clip_template(P)
    s, R0, t = V.procrustes(T, Q)
    assert np.abs(s * Q @ R0.T + t - T).max() < 0.02  # the template is Q in the first frame's pose


def test_face_axes_of_a_rotated_symmetric_face_is_the_rotation():
    F = synthetic_face()
    R = head_rotation_matrix(10.0, -25.0, 7.0)
    G = F @ R.T
    right = G[[V.COL[r] for r, _ in V.SYMMETRIC_PAIRS]]
    left = G[[V.COL[lf] for _, lf in V.SYMMETRIC_PAIRS]]
    axes = V.face_axes(right, left, G[V.COL[V.FOREHEAD]], G[V.COL[V.CHIN]])
    np.testing.assert_allclose(axes, R, atol=1e-9)


# --------------------------------------------------------------------------------------
# landmarks → angles
# --------------------------------------------------------------------------------------
def test_head_angles_from_exact_landmarks():
    pts, t, head, _ = synthetic_clip()
    series = V.landmarks_to_series(pts, t)
    np.testing.assert_allclose(series.angles[:, :3], head, atol=1e-6)


def test_head_angles_with_landmark_noise_stay_close():
    pts, t, head, _ = synthetic_clip(noise=0.5)  # half a pixel on an ≈ 75 px eye
    err = np.abs(V.landmarks_to_series(pts, t).angles[:, :3] - head)
    assert err.max() < 1.5 and err.mean() < 0.4


def test_eye_angles_center_calibration_removes_the_median():
    pts, t, head, eyes = synthetic_clip()
    a = V.landmarks_to_series(pts, t).angles
    for cp, cy in ((3, 4), (5, 6)):
        np.testing.assert_allclose(a[:, cp], eyes[:, 0] - np.median(eyes[:, 0]), atol=1e-6)
        np.testing.assert_allclose(a[:, cy], eyes[:, 1] - np.median(eyes[:, 1]), atol=1e-6)


def test_eye_angles_camera_calibration_sets_median_world_gaze_to_zero():
    pts, t, head, eyes = synthetic_clip()
    cfg = V.VideoImportConfig(eye_calibration="camera")
    s = V.landmarks_to_series(pts, t, cfg)
    # offsets = median(raw + head) per channel
    np.testing.assert_allclose(s.eye_offsets[[0, 2]], np.median(eyes[:, 0] + head[:, 0]), atol=1e-6)
    np.testing.assert_allclose(s.eye_offsets[[1, 3]], np.median(eyes[:, 1] + head[:, 1]), atol=1e-6)
    assert abs(np.median(s.angles[:, 4] + head[:, 1])) < 1e-6


def test_calibrate_eyes_modes():
    raw = np.array([[1.0, 2, 3, 4], [3, 4, 5, 6], [np.nan] * 4])
    head = np.array([[10.0, 20, 0], [10, 20, 0], [0, 0, 0]])
    np.testing.assert_allclose(V.calibrate_eyes(raw, head, "center"), [2, 3, 4, 5])
    np.testing.assert_allclose(V.calibrate_eyes(raw, head, "camera"), [12, 23, 14, 25])
    np.testing.assert_array_equal(V.calibrate_eyes(np.full((3, 4), np.nan), head), np.zeros(4))
    with pytest.raises(DataError):
        V.calibrate_eyes(raw, head, "screen")


def test_blink_channel_and_eyes_bridged_across_the_closure():
    blink = range(40, 44)
    pts, t, head, eyes = synthetic_clip(blink_frames=blink)
    s = V.landmarks_to_series(pts, t)
    assert np.all(s.blink[list(blink)] > 0.95)
    assert np.all(s.blink[[i for i in range(len(t)) if i not in blink]] < 0.05)
    # eye angles inside the closure are interpolated between the open frames around it
    truth = eyes[:, 1] - np.median(eyes[[i for i in range(len(t)) if i not in blink], 1])
    w = (t[41] - t[39]) / (t[44] - t[39])
    assert s.angles[41, 4] == pytest.approx((1 - w) * truth[39] + w * truth[44], abs=1e-6)
    # with no bridging the closed frames' eyes are NaN, the head is kept
    s0 = V.landmarks_to_series(pts, t, V.VideoImportConfig(blink_bridge_s=0.0))
    assert np.isnan(s0.angles[list(blink), 3:]).all() and np.isfinite(s0.angles[list(blink), :3]).all()


def test_frames_without_a_face_are_nan():
    pts, t, head, _ = synthetic_clip(no_face=[0, 1, 50, 51, 52])
    s = V.landmarks_to_series(pts, t)
    assert np.isnan(s.angles[[0, 1, 50, 51, 52]]).all() and np.isnan(s.blink[[0, 50]]).all()
    np.testing.assert_allclose(s.angles[2:50, :3], head[2:50], atol=1e-6)
    with pytest.raises(DataError, match="no face"):
        V.landmarks_to_series(np.full((5, len(V.USED), 3), np.nan), np.arange(5) / 25)


def test_eye_width_is_the_image_plane_corner_distance():
    pts, t, _, _ = synthetic_clip()
    s = V.landmarks_to_series(pts, t)
    e = V.EYES["left"]
    w = np.linalg.norm(pts[:, V.COL[e["outer"]], :2] - pts[:, V.COL[e["inner"]], :2], axis=1)
    e = V.EYES["right"]
    w2 = np.linalg.norm(pts[:, V.COL[e["outer"]], :2] - pts[:, V.COL[e["inner"]], :2], axis=1)
    np.testing.assert_allclose(s.eye_width, 0.5 * (w + w2))


def test_eyelid_closure_mapping():
    a = np.array([0.3, 0.3, 0.3, 0.4, 0.3 * V.CLOSED_APERTURE_FRACTION, 0.0, np.nan, 0.3 * (1 + V.CLOSED_APERTURE_FRACTION) / 2])
    c = V.eyelid_closure(a)
    np.testing.assert_allclose(c[[0, 3, 4, 5, 7]], [0, 0, 1, 1, 0.5])
    assert np.isnan(c[6])
    assert np.isnan(V.eyelid_closure(np.full(3, np.nan))).all()


def test_select_face_prefers_large_then_central():
    def box(x0, y0, size):
        return np.array([[x0, y0, 0], [x0 + size, y0 + size, 0]], float)

    assert V.select_face([box(0, 0, 40), box(300, 200, 120)], 640, 480) == 1  # larger wins
    assert V.select_face([box(0, 0, 100), box(270, 190, 100)], 640, 480) == 1  # same size: the central one
    assert V.select_face([box(0, 0, 200), box(290, 210, 60)], 640, 480) == 0  # much larger beats central


# --------------------------------------------------------------------------------------
# 25 fps
# --------------------------------------------------------------------------------------
def _series(angles, blink=None):
    n = len(angles)
    return V.FaceSeries(angles, np.zeros(n) if blink is None else blink, np.ones(n), np.zeros(4), np.zeros((3, 3)))


def test_series_to_motion_resamples_from_frame_times():
    t = 0.5 + np.arange(60) / 30.0  # 30 fps, video starts 0.5 s into the file
    angles = np.stack([t * k for k in range(1, 8)], 1)
    m = V.series_to_motion(_series(angles, np.full(60, 0.25)), t, 60)
    assert m.fps == 25 and len(m) == 60
    tf = np.arange(60) / 25
    inside = (tf >= t[0] - 1e-9) & (tf <= t[-1] + 1e-9)
    assert np.isnan(m.data[~inside]).all()  # before the video starts and after it ends
    np.testing.assert_allclose(m.data[inside], np.stack([tf[inside] * k for k in range(1, 8)], 1), rtol=1e-5)
    np.testing.assert_allclose(m.blink[inside], 0.25)
    assert np.isnan(m.blink[~inside]).all()


def test_series_to_motion_nan_rules():
    t = np.arange(50) / 25.0
    a = np.ones((50, 7))
    a[10:13] = np.nan  # no face: all NaN
    a[30:32, 3:] = np.nan  # long blink: eyes only
    m = V.series_to_motion(_series(a), t, 50)
    assert np.isnan(m.data[10:13]).all() and np.isfinite(m.data[:10]).all()
    assert np.isnan(m.data[30:32, 3:]).all() and np.isfinite(m.data[30:32, :3]).all()  # the head is kept
    filled = V.series_to_motion(_series(a), t, 50, max_gap_s=0.2)
    assert np.isfinite(filled.data[10:13]).all()  # a 0.16 s gap is bridged when asked


# --------------------------------------------------------------------------------------
# settings, names, splits
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{"max_faces": 0}, {"max_faces": 1.5}, {"min_detection_confidence": 1.5}, {"eye_calibration": "up"},
                                {"max_gap_s": -1.0}, {"blink_bridge_s": float("nan")}, {"max_side": 10}, {"max_side": float("nan")}])
def test_config_rejects_bad_values(kw):
    with pytest.raises(DataError):
        V.VideoImportConfig(**kw)


def test_session_name():
    assert V.session_name("/x/My talk (2).mp4") == "My_talk_2"
    assert V.session_name("...mp4") == "video"


def test_find_videos(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "b.MOV").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in V.find_videos([tmp_path])] == ["a.mp4", "b.MOV"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no video files"):
        V.find_videos([tmp_path / "empty"])
    with pytest.raises(DataError, match="not found"):
        V.find_videos([tmp_path / "nope.mp4"])


def _session(corpus, name):
    from stygaze.motion import Motion

    (corpus / name).mkdir(parents=True)
    Motion(np.zeros((30, 7), np.float32)).save(corpus / name / "motion.npz")


def test_update_splits_redraws_its_own_and_extends_a_hand_made_one(tmp_path):
    from stygaze.data.corpus import make_splits

    _session(tmp_path, "a")
    splits, how = V.update_splits(tmp_path)
    assert how == "drawn" and splits == make_splits(["a"], 0)
    for n in ("b", "c", "d"):
        _session(tmp_path, n)
    splits, how = V.update_splits(tmp_path)  # still the importer's own: drawn over all four
    assert how == "drawn" and splits == make_splits(["a", "b", "c", "d"], 0)
    hand = {"train": ["a", "b"], "val": ["c"], "test": ["d"]}
    if hand == splits:  # make sure the hand-made one differs from the drawn one
        hand = {"train": ["a", "c"], "val": ["b"], "test": ["d"]}
    (tmp_path / "splits.json").write_text(json.dumps(hand))
    _session(tmp_path, "e")
    splits, how = V.update_splits(tmp_path)
    assert how == "extended" and splits == {**hand, "train": sorted(hand["train"] + ["e"])}
    assert json.loads((tmp_path / "splits.json").read_text()) == splits


# --------------------------------------------------------------------------------------
# ffmpeg: probing, decoding, error paths (no MediaPipe needed: they fail before tracking)
# --------------------------------------------------------------------------------------
def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    if not HAVE_FFMPEG:
        pytest.skip("needs ffmpeg and ffprobe")
    d = tmp_path_factory.mktemp("media")
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=96x64:rate=30", "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100",
           "-t", "1.2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", d / "gray.mp4")
    ffmpeg("-i", d / "gray.mp4", "-an", "-c", "copy", d / "silent.mp4")
    ffmpeg("-i", d / "gray.mp4", "-vn", "-ac", "1", "-ar", "16000", d / "speech.wav")
    shutil.copy(d / "speech.wav", d / "renamed.mp4")
    ffmpeg("-itsoffset", "0.5", "-i", d / "gray.mp4", "-i", d / "gray.mp4", "-map", "0:v", "-map", "1:a", "-c", "copy", d / "late.mp4")
    (d / "corrupt.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    data = (d / "gray.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 3])
    return d


def test_probe_a_video(media):
    info = V.probe_video(media / "gray.mp4")
    assert (info.width, info.height, info.fps, info.has_audio) == (96, 64, 30.0, True)
    assert info.expected_frames == 36
    assert V.probe_video(media / "silent.mp4").has_audio is False


@pytest.mark.parametrize("name, message", [("renamed.mp4", "no video stream"), ("corrupt.mp4", "cannot read"),
                                           ("truncated.mp4", "cannot read"), ("missing.mp4", "not found")])
def test_probe_errors(media, name, message):
    with pytest.raises(DataError, match=message) as exc:
        V.probe_video(media / name)
    assert "\n" not in str(exc.value)


def test_decoder_reports_frame_times_from_the_file_origin(media):
    info = V.probe_video(media / "late.mp4")
    with V._decoder(info.path, (info.width, info.height)) as (frames, times, _):
        got = list(frames)
    assert len(got) == 36 and got[0].shape == (64, 96, 3) and got[0].dtype == np.uint8
    np.testing.assert_allclose(times, 0.5 + np.arange(36) / 30, atol=1e-3)
    assert abs(int(got[0][..., 0].mean()) - 128) < 10  # gray


def test_decoder_keeps_variable_frame_rate_time_stamps(tmp_path):
    if not HAVE_FFMPEG:
        pytest.skip("needs ffmpeg and ffprobe")
    # 30 frames at 30 fps, then every third frame: 10 fps
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=30", "-t", "2", "-vf", "select='lte(n\\,29)+not(mod(n\\,3))'",
           "-vsync", "vfr", "-c:v", "libx264", "-pix_fmt", "yuv420p", tmp_path / "vfr.mp4")
    info = V.probe_video(tmp_path / "vfr.mp4")
    with V._decoder(info.path, (info.width, info.height)) as (frames, times, _):
        n = sum(1 for _ in frames)
    assert n == 40
    np.testing.assert_allclose(np.diff(times) * 30, [1] * 30 + [3] * 9, atol=0.02)


def test_extract_audio_is_16k_mono_from_the_file_origin(media, tmp_path):
    import soundfile as sf

    n = V.extract_audio(media / "gray.mp4", tmp_path / "a.wav")
    info = sf.info(str(tmp_path / "a.wav"))
    assert (info.samplerate, info.channels, info.frames) == (16000, 1, n)
    assert abs(n / 16000 - 1.2) < 0.05


@pytest.mark.parametrize("name, message", [("renamed.mp4", "no video stream"), ("silent.mp4", "no audio track"),
                                           ("corrupt.mp4", "cannot read"), ("missing.mp4", "not found")])
def test_import_errors_write_nothing(media, tmp_path, name, message):
    corpus = tmp_path / "corpus"
    with pytest.raises(DataError, match=message):
        V.import_video(media / name, corpus)
    assert not corpus.exists()


def test_import_refuses_an_existing_session_and_an_output_that_is_the_input(media, tmp_path):
    (tmp_path / "c" / "gray").mkdir(parents=True)
    with pytest.raises(DataError, match="already exists"):
        V.import_video(media / "gray.mp4", tmp_path / "c")
    with pytest.raises(DataError, match="is the input video"):
        V.import_video(media / "gray.mp4", media / "gray.mp4")
    with pytest.raises(DataError, match="one of the inputs"):
        V.import_videos([media], media)


def test_no_face_is_an_error_and_writes_nothing(media, tmp_path):
    pytest.importorskip("mediapipe")
    corpus = tmp_path / "corpus"
    with pytest.raises(DataError, match="no face found in any of its 36 frames"):
        V.import_video(media / "gray.mp4", corpus)
    assert not corpus.exists()


def test_import_videos_reports_failures_and_goes_on(media, tmp_path):
    seen = []
    report = V.import_videos([media / "renamed.mp4", media / "silent.mp4"], tmp_path / "c",
                             on_result=lambda v, r, e: seen.append((v.name, e)))
    assert not report.ok and len(report.failed) == 2 and report.splits is None
    assert [n for n, _ in seen] == ["renamed.mp4", "silent.mp4"] and all(e for _, e in seen)
    assert not (tmp_path / "c").exists()


def test_missing_mediapipe_stops_a_folder_import_once(media, tmp_path, monkeypatch):
    def no_mediapipe(config):
        raise V.MediaPipeMissing("import-video needs MediaPipe")

    monkeypatch.setattr(V, "_face_mesh", no_mediapipe)
    src = tmp_path / "src"
    src.mkdir()
    for n in ("a.mp4", "b.mp4"):
        shutil.copy(media / "gray.mp4", src / n)
    seen = []
    with pytest.raises(V.MediaPipeMissing):
        V.import_videos([src], tmp_path / "c", on_result=lambda *a: seen.append(a))
    assert seen == [] and not (tmp_path / "c").exists()
