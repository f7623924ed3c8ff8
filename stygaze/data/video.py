"""Import talking-head videos as stygaze corpus sessions (MediaPipe FaceMesh with iris refinement).

``stygaze data import-video VIDEO|DIR --out CORPUS`` turns each video into
``CORPUS/<video name>/{audio.wav, motion.npz, import.json}`` (the layout of
:mod:`stygaze.data.corpus`) and keeps ``CORPUS/splits.json`` up to date.

Per video:

1. **Probe** with ``ffprobe``: a video stream and an audio track are required.
2. **Audio**: ffmpeg → 16 kHz mono 16-bit ``audio.wav``. Its first sample is the start of
   the file's time line (``aresample=first_pts=0`` pads a late audio start with silence),
   the same origin as the video frame times, so motion and audio stay in sync.
3. **Frames**: ffmpeg decodes to RGB (rotation metadata applied, long side at most
   :attr:`VideoImportConfig.max_side` px) with each frame's own time stamp (variable
   frame rate is fine). MediaPipe FaceMesh (``refine_landmarks``: 478 points, iris
   included; the models ship inside the ``mediapipe`` wheel, nothing is downloaded) runs
   in tracking mode. With several faces, the largest, most central one is kept per frame
   (:func:`select_face`); the output says in how many frames that happened.
4. **Head rotation: rigid-landmark Procrustes to a per-clip template.** The template is
   the clip's own mean shape of :data:`RIGID` (eye corners, nose, forehead, temples,
   cheekbones: points the jaw, lips, lids and brows do not move), found by generalised
   Procrustes analysis (:func:`clip_template`); each frame's rotation is the least-squares
   similarity transform (Kabsch/Umeyama, :func:`procrustes`) of its rigid points onto the
   template. The template is oriented once per clip from anatomy (:func:`face_axes`):
   ``x`` along the mean of left–right symmetric landmark pairs, ``y`` from chin to
   forehead (so pitch 0 = the chin–forehead line upright). Chosen over MediaPipe's
   face-geometry transform because (a) the legacy ``solutions.face_mesh`` API of the
   wheel does not expose that transform (the Tasks API that does needs a model file
   outside the wheel), and (b) a template of the person's own face removes identity-shape
   bias, where the transform fits a generic canonical face. On the 7 real talking-head
   clips the measured median correlation with a 3DMM head pose is 0.96 (yaw) and 0.98
   (roll); pitch is the weakest axis (0.83) and carries a per-person offset of a few
   degrees (``docs/data-video.md``).
5. **Eye-in-head** angles from the iris centres: each frame's landmarks are mapped into
   the head frame (the inverse similarity transform); an eye's iris centre offset from the
   midpoint of its two corners, divided by :data:`EYE_RADIUS_PER_WIDTH` × the eye's
   width, is the sine of its yaw (``x``) and pitch (``y``). **Per-clip calibration**
   (:func:`calibrate_eyes`) removes each eye channel's offset: ``center`` (default) sets
   the clip's median eye-in-head direction to straight ahead; ``camera`` sets the
   median *world* gaze to the camera (for people who address the camera). Frames with
   the lids mostly closed (blink > 0.5) carry no iris; their eye angles are interpolated
   across closures up to :attr:`VideoImportConfig.blink_bridge_s` long.
6. **Blink**: eyelid aperture (mean distance of three upper/lower lid landmark pairs over
   the eye width, both eyes averaged) mapped to closure 0 (the clip's median aperture or
   wider) … 1 (:data:`CLOSED_APERTURE_FRACTION` of it or narrower): the Motion ``blink``
   channel.
7. **25 fps**: every series is linearly resampled from the frame times
   (:func:`stygaze.data.openface.resample_to_fps`); the motion covers the audio. Frames
   without a face are NaN (gaps up to :attr:`VideoImportConfig.max_gap_s` may be
   interpolated; off by default).
8. **Quality** figures go into ``import.json`` (``quality``) and are printed: the share of
   frames with a face, the median eye width in source-video pixels, the frames with
   several faces, the NaN share of the motion.

Coordinates: MediaPipe gives ``x`` right, ``y`` down (pixels after scaling by the frame
size) and ``z`` away from the camera (in ``x``'s units); stygaze's frame is reached with
:data:`~stygaze.data.openface.CAM_TO_STYGAZE` as for OpenFace.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from stygaze.audio import FPS, SAMPLE_RATE, num_frames
from stygaze.data.corpus import Corpus, _default_permissions, _read_json, make_splits
from stygaze.data.openface import CAM_TO_STYGAZE, _fill_short_gaps, resample_to_fps
from stygaze.errors import DataError, StygazeError
from stygaze.io import atomic_dir, atomic_path, find_ffmpeg
from stygaze.locking import folder_lock, remove_stale_parts
from stygaze.motion import Motion, matrix_to_angles

# --------------------------------------------------------------------------------------
# landmarks (MediaPipe FaceMesh numbering, 478 points with refine_landmarks)
# --------------------------------------------------------------------------------------
RIGID: tuple[int, ...] = (
    33, 133, 362, 263,  # eye corners (right outer, right inner, left inner, left outer)
    1, 2, 4, 5, 6, 168, 197, 195,  # nose ridge and tip
    10, 151, 9, 8,  # forehead midline
    108, 337, 67, 297, 109, 338, 21, 251, 54, 284, 103, 332,  # forehead
    234, 454, 127, 356, 93, 323,  # face sides, temples
    129, 358, 98, 327, 64, 294,  # nose wings
    116, 345, 123, 352, 50, 280, 101, 330,  # cheekbones
)
"""Landmarks that move with the skull only (not the jaw, lips, lids or brows): the Procrustes set."""

SYMMETRIC_PAIRS: tuple[tuple[int, int], ...] = ((33, 263), (133, 362), (234, 454), (127, 356), (93, 323), (50, 280), (129, 358))
"""(subject's right, subject's left) landmark pairs; their mean difference is the head's ``x`` axis."""

FOREHEAD, CHIN = 10, 152
"""Midline landmarks whose difference gives the head's ``y`` (up) axis."""

EYES: dict[str, dict[str, object]] = {
    # subject's left eye = the one on the image's right
    "left": {"inner": 362, "outer": 263, "iris": 473, "lids": ((386, 374), (385, 380), (387, 373))},
    "right": {"inner": 133, "outer": 33, "iris": 468, "lids": ((159, 145), (158, 153), (160, 144))},
}
"""Per eye: corners, iris centre and (upper, lower) lid pairs."""

USED: tuple[int, ...] = tuple(
    sorted(
        set(RIGID)
        | {i for pair in SYMMETRIC_PAIRS for i in pair}
        | {FOREHEAD, CHIN}
        | {e[k] for e in EYES.values() for k in ("inner", "outer", "iris")}
        | {i for e in EYES.values() for pair in e["lids"] for i in pair}
    )
)
"""The landmarks the importer keeps per frame (stored in this order)."""

COL: dict[int, int] = {mp_index: col for col, mp_index in enumerate(USED)}
"""MediaPipe landmark index → column in a ``(..., len(USED), 3)`` array."""

NUM_MESH_LANDMARKS = 478

EYE_RADIUS_PER_WIDTH = 0.33
"""Distance of the iris centre from the eye's centre of rotation, in eye widths (corner to
corner): ≈ 10 mm over ≈ 30 mm in adults. Iris offset / (this × width) = sin(eye angle)."""

CLOSED_APERTURE_FRACTION = 0.15
"""Lid aperture of a closed eye as MediaPipe draws it, as a fraction of the clip's median (open) aperture."""

BLINK_EYE_THRESHOLD = 0.5
"""Blink closure above which the iris is not used (the eye angles are bridged instead)."""

VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts", ".mts")
"""File endings taken as videos when a folder is imported."""

EYE_CALIBRATIONS = ("center", "camera")

TRACKER = "mediapipe FaceMesh (refine_landmarks)"


class MediaPipeMissing(DataError):
    """MediaPipe is not installed (every video would fail the same way)."""


@dataclass
class VideoImportConfig:
    """Settings of :func:`import_video`.

    Attributes:
        max_faces: faces MediaPipe looks for per frame (≥ 2 lets the importer pick the
            largest, most central one when several people are in view; 1 is faster).
        min_detection_confidence: MediaPipe face-detection threshold (0..1).
        min_tracking_confidence: MediaPipe landmark-tracking threshold (0..1); below it the
            face is detected again.
        eye_calibration: ``center`` (median eye-in-head = straight ahead) or ``camera``
            (median world gaze = the camera).
        max_gap_s: no-face gaps up to this long (s) are interpolated; 0 = every frame
            without a face stays NaN.
        blink_bridge_s: eye angles are interpolated across lid closures up to this long (s);
            longer closures leave the eye channels NaN.
        max_side: frames are scaled down so that their long side is at most this (px);
            MediaPipe works on ≤ 192 px crops, so larger frames only cost time.
    """

    max_faces: int = 2
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    eye_calibration: str = "center"
    max_gap_s: float = 0.0
    blink_bridge_s: float = 0.5
    max_side: int = 1280

    def __post_init__(self) -> None:
        if not isinstance(self.max_faces, (int, np.integer)) or not 1 <= self.max_faces <= 10:
            raise DataError(f"--max-faces must be an integer in 1..10, got {self.max_faces}")
        for name in ("min_detection_confidence", "min_tracking_confidence"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise DataError(f"--{name.replace('_', '-')} must be in 0..1, got {v}")
        if self.eye_calibration not in EYE_CALIBRATIONS:
            raise DataError(f"--eye-calibration must be one of {', '.join(EYE_CALIBRATIONS)}, got {self.eye_calibration!r}")
        if not (self.max_gap_s >= 0 and np.isfinite(self.max_gap_s)):
            raise DataError(f"--max-gap must be ≥ 0 seconds, got {self.max_gap_s}")
        if not (self.blink_bridge_s >= 0 and np.isfinite(self.blink_bridge_s)):
            raise DataError(f"--blink-bridge must be ≥ 0 seconds, got {self.blink_bridge_s}")
        if not isinstance(self.max_side, (int, np.integer)) or self.max_side < 64:
            raise DataError(f"--max-side must be an integer ≥ 64 px, got {self.max_side}")
        self.max_faces, self.max_side = int(self.max_faces), int(self.max_side)


# --------------------------------------------------------------------------------------
# pose math (pure numpy)
# --------------------------------------------------------------------------------------
def procrustes(P: np.ndarray, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares similarity transform ``P ≈ s · R · Q + t`` (Umeyama), batched over frames.

    Args:
        P: ``(..., K, 3)`` observed points.
        Q: ``(K, 3)`` or ``(..., K, 3)`` reference points (the template).

    Returns:
        ``s`` ``(...,)`` scale, ``R`` ``(..., 3, 3)`` proper rotation (det +1), ``t``
        ``(..., 3)`` translation.
    """
    P = np.asarray(P, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
    mp_, mq = P.mean(axis=-2), Q.mean(axis=-2)
    P0, Q0 = P - mp_[..., None, :], Q - mq[..., None, :]
    C = np.einsum("...ki,...kj->...ij", P0, Q0)
    U, S, Vt = np.linalg.svd(C)
    d = np.sign(np.linalg.det(U @ Vt))
    d = np.where(d == 0, 1.0, d)
    D = np.ones(S.shape)
    D[..., 2] = d
    R = (U * D[..., None, :]) @ Vt
    s = (S * D).sum(axis=-1) / np.maximum((Q0**2).sum(axis=(-2, -1)), 1e-12)
    t = mp_ - s[..., None] * np.einsum("...ij,...j->...i", R, mq)
    return s, R, t


def to_template_frame(P: np.ndarray, s: np.ndarray, R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Map points ``(..., K, 3)`` back through :func:`procrustes`'s transform: ``Rᵀ (P − t) / s``."""
    return np.einsum("...kj,...ji->...ki", P - t[..., None, :], R) / s[..., None, None]


def clip_template(P: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Per-clip template: generalised Procrustes mean of the frames' points.

    Args:
        P: ``(N, K, 3)`` points of the frames with a face (no NaN).
        iterations: align-to-mean rounds (the mean settles within 2–3).

    Returns:
        ``(K, 3)`` mean shape in the first frame's position and scale.
    """
    P = np.asarray(P, dtype=np.float64)
    template = P[0]
    for _ in range(iterations):
        aligned = to_template_frame(P, *procrustes(P, template))
        template = aligned.mean(axis=0)
    return template


def face_axes(right: np.ndarray, left: np.ndarray, forehead: np.ndarray, chin: np.ndarray) -> np.ndarray:
    """Anatomical head axes of a face shape, as columns ``[x, y, z]`` (a rotation matrix).

    ``x`` (the subject's left) is the mean of ``left − right`` over symmetric landmark
    pairs, ``y`` (up) is ``forehead − chin`` made orthogonal to ``x``, ``z = x × y``
    (forward, out of the face). Points are in stygaze's frame (x subject-left, y up,
    z towards the camera).

    Args:
        right, left: ``(M, 3)`` paired landmarks on the subject's right and left.
        forehead, chin: ``(3,)`` midline landmarks.
    """
    x = np.mean(np.asarray(left, float) - np.asarray(right, float), axis=0)
    x /= np.linalg.norm(x)
    y = np.asarray(forehead, float) - np.asarray(chin, float)
    y = y - x * (x @ y)
    y /= np.linalg.norm(y)
    return np.stack([x, y, np.cross(x, y)], axis=1)


@dataclass
class FaceSeries:
    """Per-video-frame results of :func:`landmarks_to_series` (N = video frames).

    Attributes:
        angles: ``(N, 7)`` degrees in :data:`~stygaze.motion.CHANNELS` order; NaN rows
            without a face, NaN eye channels during long lid closures.
        blink: ``(N,)`` lid closure 0..1 (NaN without a face).
        eye_width: ``(N,)`` mean image-plane eye width (corner to corner) in the input's
            units (px), NaN without a face.
        eye_offsets: ``(4,)`` degrees removed from the eye channels by the calibration.
        template: ``(len(RIGID), 3)`` the clip's rigid template in the head frame.
    """

    angles: np.ndarray
    blink: np.ndarray
    eye_width: np.ndarray
    eye_offsets: np.ndarray
    template: np.ndarray


def eyelid_closure(aperture: np.ndarray) -> np.ndarray:
    """Lid closure 0..1 from lid apertures ``(N,)`` (aperture / eye width; NaN allowed).

    Open = the clip's median aperture (or wider) → 0; :data:`CLOSED_APERTURE_FRACTION` of
    it (or narrower) → 1; linear in between.
    """
    aperture = np.asarray(aperture, dtype=np.float64)
    if not np.isfinite(aperture).any():
        return np.full(aperture.shape, np.nan)
    a_open = float(np.nanmedian(aperture))
    a_closed = CLOSED_APERTURE_FRACTION * a_open
    with np.errstate(invalid="ignore"):
        return np.clip((a_open - aperture) / max(a_open - a_closed, 1e-9), 0.0, 1.0)


def calibrate_eyes(raw: np.ndarray, head: np.ndarray, mode: str = "center") -> np.ndarray:
    """Per-clip offsets ``(4,)`` (degrees) to subtract from raw eye-in-head angles.

    Args:
        raw: ``(N, 4)`` uncalibrated l_pitch, l_yaw, r_pitch, r_yaw (NaN allowed).
        head: ``(N, 3)`` head pitch, yaw, roll (degrees).
        mode: ``center``: the median of each channel becomes 0 (eyes straight ahead in the
            head on average); ``camera``: the median world gaze of each eye (head + eye,
            small-angle sum) becomes 0, i.e. the person looks at the camera on average.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if mode not in EYE_CALIBRATIONS:
        raise DataError(f"eye calibration must be one of {', '.join(EYE_CALIBRATIONS)}, got {mode!r}")
    if not np.isfinite(raw).any():
        return np.zeros(4)
    if mode == "center":
        return np.nanmedian(raw, axis=0)
    h = np.asarray(head, dtype=np.float64)[:, [0, 1, 0, 1]]  # pitch, yaw per eye
    return np.nanmedian(raw + h, axis=0)


def landmarks_to_series(points: np.ndarray, times: np.ndarray, config: VideoImportConfig | None = None) -> FaceSeries:
    """Head rotation, eye-in-head angles and blink from per-frame landmarks.

    Args:
        points: ``(N, len(USED), 3)`` landmarks (columns in :data:`USED` order, see
            :data:`COL`) in stygaze's frame (x subject-left, y up, z towards the camera),
            pixel units; a frame without a face is all NaN.
        times: ``(N,)`` frame times in seconds (increasing), for bridging blinks.
        config: calibration mode and blink bridging.

    Raises:
        DataError: no frame has a face.
    """
    config = config or VideoImportConfig()
    P = np.asarray(points, dtype=np.float64)
    N = len(P)
    ok = np.isfinite(P).all(axis=(1, 2))
    if not ok.any():
        raise DataError("no face in any frame")
    rigid = [COL[i] for i in RIGID]
    Pr = P[ok][:, rigid]
    template = clip_template(Pr)
    # orient the template by the anatomy of the clip's mean face (all kept landmarks)
    full = to_template_frame(P[ok], *procrustes(Pr, template)).mean(axis=0)
    axes = face_axes(
        full[[COL[r] for r, _ in SYMMETRIC_PAIRS]], full[[COL[lf] for _, lf in SYMMETRIC_PAIRS]], full[COL[FOREHEAD]], full[COL[CHIN]]
    )
    template_h = template @ axes  # template in head coordinates
    s, R, t = procrustes(Pr, template_h)
    angles = np.full((N, 7), np.nan)
    angles[ok, 0], angles[ok, 1], angles[ok, 2] = matrix_to_angles(R)
    Lh = to_template_frame(P[ok], s, R, t)  # every kept landmark in the head frame
    full_h = full @ axes
    raw = np.full((N, 4), np.nan)
    aperture = np.full(N, np.nan)
    apertures = []
    widths_img = []
    for k, side in enumerate(("left", "right")):
        e = EYES[side]
        inner, outer, iris = COL[e["inner"]], COL[e["outer"]], COL[e["iris"]]
        width = np.linalg.norm(full_h[outer] - full_h[inner])  # the clip's eye width, head frame
        centre = 0.5 * (Lh[:, inner] + Lh[:, outer])
        off = (Lh[:, iris] - centre) / (EYE_RADIUS_PER_WIDTH * width)
        raw[ok, 2 * k] = np.rad2deg(np.arcsin(np.clip(off[:, 1], -1, 1)))  # pitch: + up
        raw[ok, 2 * k + 1] = np.rad2deg(np.arcsin(np.clip(off[:, 0], -1, 1)))  # yaw: + subject's left
        lids = np.mean([np.linalg.norm(Lh[:, COL[u]] - Lh[:, COL[lo]], axis=-1) for u, lo in e["lids"]], axis=0)
        apertures.append(lids / width)
        widths_img.append(np.linalg.norm(P[ok][:, outer, :2] - P[ok][:, inner, :2], axis=-1))
    aperture[ok] = np.mean(apertures, axis=0)
    blink = eyelid_closure(aperture)
    eye_width = np.full(N, np.nan)
    eye_width[ok] = np.mean(widths_img, axis=0)
    closed = ok & (blink > BLINK_EYE_THRESHOLD)
    raw[closed] = np.nan
    offsets = calibrate_eyes(raw, angles[:, :3], config.eye_calibration)
    eyes = raw - offsets
    # bridge the eye angles across lid closures (not across frames without a face)
    filled = _fill_short_gaps(np.asarray(times, float), eyes, config.blink_bridge_s)
    eyes = np.where(closed[:, None], filled, eyes)
    angles[:, 3:] = eyes
    return FaceSeries(angles, blink, eye_width, offsets, template_h)


def select_face(faces: Sequence[np.ndarray], width: int, height: int) -> int:
    """Index of the face to keep among several: the largest, most central.

    Score = √(bounding-box area) × (1 − ½ · distance of the box centre from the image
    centre / half the image diagonal).

    Args:
        faces: ``(L, 2+)`` landmark arrays in image pixels (x right, y down).
        width, height: image size in pixels.
    """
    half_diag = 0.5 * float(np.hypot(width, height))
    best, best_score = 0, -np.inf
    for i, f in enumerate(faces):
        lo, hi = f[:, :2].min(axis=0), f[:, :2].max(axis=0)
        size = float(np.sqrt(max((hi - lo).prod(), 0.0)))
        c = 0.5 * (lo + hi)
        dist = float(np.hypot(c[0] - 0.5 * width, c[1] - 0.5 * height)) / half_diag
        score = size * (1.0 - 0.5 * min(dist, 1.0))
        if score > best_score:
            best, best_score = i, score
    return best


def series_to_motion(series: FaceSeries, times: np.ndarray, num_out: int, max_gap_s: float = 0.0) -> Motion:
    """Resample per-video-frame series to a 25 fps :class:`Motion` of ``num_out`` frames.

    Head and eye channels and the blink are resampled separately (a NaN eye does not blank
    the head); frames outside the video's time span are NaN. With ``max_gap_s`` > 0, face
    gaps up to that long are interpolated first.
    """
    t = np.asarray(times, dtype=np.float64)
    head = _fill_short_gaps(t, series.angles[:, :3], max_gap_s)
    eyes = _fill_short_gaps(t, series.angles[:, 3:], max_gap_s)
    blink = _fill_short_gaps(t, series.blink[:, None], max_gap_s)
    out = np.concatenate([resample_to_fps(t, head, num_out), resample_to_fps(t, eyes, num_out)], axis=1)
    b = resample_to_fps(t, blink, num_out)[:, 0]
    out[np.isnan(out[:, :3]).any(axis=1)] = np.nan  # no head, no motion
    b[np.isnan(out[:, 0])] = np.nan
    return Motion(out.astype(np.float32), FPS, np.clip(b, 0, 1).astype(np.float32))


# --------------------------------------------------------------------------------------
# ffmpeg / ffprobe
# --------------------------------------------------------------------------------------
def _ffmpeg() -> str:
    exe = find_ffmpeg()
    if exe is None:
        raise DataError("no ffmpeg found: install ffmpeg (apt-get install ffmpeg) or `pip install imageio-ffmpeg`")
    return exe


def _ffprobe() -> str:
    exe = shutil.which("ffprobe")
    if exe:
        return exe
    beside = Path(_ffmpeg()).with_name("ffprobe")
    if beside.exists():
        return str(beside)
    raise DataError("no ffprobe found: install ffmpeg (apt-get install ffmpeg; it brings ffprobe)")


def _last_line(text: str, default: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else default


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` found.

    Attributes:
        path: the file.
        width, height: displayed frame size in pixels (rotation applied).
        fps: the video stream's average frame rate (frames/s).
        duration: seconds (container or stream).
        has_audio: the file has an audio track.
        codec: the video codec name.
    """

    path: Path
    width: int
    height: int
    fps: float
    duration: float
    has_audio: bool
    codec: str

    @property
    def expected_frames(self) -> int | None:
        return int(round(self.duration * self.fps)) if self.duration > 0 and self.fps > 0 else None


def _rate(text) -> float:
    try:
        num, _, den = str(text).partition("/")
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Probe a video file with ffprobe.

    Raises:
        DataError: missing file, a folder, unreadable/corrupt file, no video stream (an
            audio file, or a cover picture only).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"video not found: {path}")
    if path.is_dir():
        raise DataError(f"expected a video file, got a directory: {path}")
    cmd = [_ffprobe(), "-v", "error", "-show_entries",
           "stream=index,codec_type,codec_name,width,height,avg_frame_rate,r_frame_rate,duration:"
           "stream_disposition=attached_pic:stream_tags=rotate:stream_side_data=rotation:format=duration",
           "-of", "json", str(path)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise DataError(f"{path}: cannot read the file as a video ({_last_line(proc.stderr, 'ffprobe failed').split(': ')[-1]})")
    try:
        doc = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        raise DataError(f"{path}: cannot read the file as a video (ffprobe gave no answer)") from None
    streams = doc.get("streams", [])
    video = [s for s in streams if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")]
    has_audio = any(s.get("codec_type") == "audio" for s in streams)
    if not video:
        what = "an audio file" if has_audio else "no video stream"
        raise DataError(f"{path}: no video stream ({what}); import-video needs a video with a face in it")
    v = video[0]
    width, height = int(v.get("width") or 0), int(v.get("height") or 0)
    if width <= 0 or height <= 0:
        raise DataError(f"{path}: the video stream has no frame size (corrupt file?)")
    rotation = 0.0
    for sd in v.get("side_data_list") or []:
        if "rotation" in sd:
            rotation = float(sd["rotation"])
    if not rotation and (v.get("tags") or {}).get("rotate"):
        rotation = float(v["tags"]["rotate"])
    if round(abs(rotation)) % 180 == 90:
        width, height = height, width
    fps = _rate(v.get("avg_frame_rate")) or _rate(v.get("r_frame_rate"))
    try:
        duration = float(v.get("duration") or (doc.get("format") or {}).get("duration") or 0.0)
    except ValueError:
        duration = 0.0
    return VideoInfo(path, width, height, fps, duration, has_audio, str(v.get("codec_name", "?")))


def extract_audio(path: str | os.PathLike, out_wav: str | os.PathLike) -> int:
    """Write the first audio track of ``path`` as 16 kHz mono 16-bit wav; returns its sample count.

    The wav starts at the file's time origin (a late audio start is padded with silence),
    the origin of the video frame times.

    Raises:
        DataError: ffmpeg cannot decode the audio, or it is empty.
    """
    cmd = [_ffmpeg(), "-y", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-vn", "-sn", "-dn",
           "-ac", "1", "-ar", str(SAMPLE_RATE), "-af", "aresample=async=1:first_pts=0", "-c:a", "pcm_s16le",
           "-f", "wav", str(out_wav)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0 or not Path(out_wav).exists():
        raise DataError(f"{path}: cannot decode the audio track ({_last_line(proc.stderr, 'ffmpeg failed')})")
    import soundfile as sf

    try:
        n = sf.info(str(out_wav)).frames
    except Exception as exc:
        raise DataError(f"{path}: the extracted audio is unreadable ({type(exc).__name__})") from None
    if n <= 0:
        raise DataError(f"{path}: the audio track is empty")
    return int(n)


_PTS = re.compile(r"Parsed_showinfo.*?\bn:\s*(\d+).*?\bpts_time:\s*(\S+)")


def _frame_size(info: VideoInfo, max_side: int) -> tuple[int, int]:
    f = min(1.0, max_side / max(info.width, info.height))
    return max(2, int(round(info.width * f))), max(2, int(round(info.height * f)))


@contextlib.contextmanager
def _decoder(path: Path, size: tuple[int, int]) -> Iterator[tuple[Iterator[np.ndarray], list[float], deque]]:
    """An ffmpeg process decoding ``path`` to RGB frames of ``size``: yields (frames, times, log).

    ``times`` fills with each frame's time stamp (s, from the file's time origin) as
    ffmpeg reports it; it is complete once the frame iterator is exhausted.
    """
    w, h = size
    cmd = [_ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-i", str(path),
           "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", f"showinfo=checksum=0,scale={w}:{h}",
           "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    times: list[float] = []
    log: deque = deque(maxlen=30)

    def read_log() -> None:
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            m = _PTS.search(line)
            if m:
                try:
                    times.append(float(m.group(2)))
                except ValueError:
                    times.append(float("nan"))
            elif line:
                log.append(line)

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    nbytes = w * h * 3

    def frames() -> Iterator[np.ndarray]:
        while True:
            buf = proc.stdout.read(nbytes)
            if len(buf) < nbytes:
                break
            yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)
        proc.wait()
        reader.join()

    try:
        yield frames(), times, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
        proc.stdout.close()


# --------------------------------------------------------------------------------------
# MediaPipe
# --------------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator:
    """Send file descriptor 2 to /dev/null (MediaPipe/TFLite print C++ log lines there from
    their own threads) and yield a text stream on the real stderr, for the progress bar."""
    if os.environ.get("STYGAZE_DEBUG") == "1":
        yield sys.stderr
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield sys.stderr
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    real = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        os.dup2(devnull, 2)
        yield real
    finally:
        real.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        real.close()


def _face_mesh(config: VideoImportConfig):
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import mediapipe as mp
    except ImportError:
        raise MediaPipeMissing("import-video needs MediaPipe: pip install 'stygaze[video]' (mediapipe==0.10.14)") from None
    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False,
        max_num_faces=config.max_faces,
        refine_landmarks=True,
        min_detection_confidence=config.min_detection_confidence,
        min_tracking_confidence=config.min_tracking_confidence,
    )


def mediapipe_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("mediapipe")
    except Exception:
        return None


@dataclass
class Track:
    """Landmarks of one video: what :func:`track_video` found.

    Attributes:
        times: ``(N,)`` frame times in seconds from the file's time origin.
        points: ``(N, len(USED), 3)`` float32 landmarks of the kept face in stygaze's frame,
            pixels of the analysed frames (NaN without a face).
        faces: ``(N,)`` number of faces MediaPipe found per frame.
        scale: analysed frame size / source frame size.
    """

    times: np.ndarray
    points: np.ndarray
    faces: np.ndarray
    scale: float


def track_video(info: VideoInfo, config: VideoImportConfig | None = None, progress: bool = False) -> Track:
    """Decode ``info.path`` and run FaceMesh on every frame.

    Raises:
        DataError: MediaPipe missing, or no frame could be decoded.
    """
    import warnings

    from tqdm import tqdm

    config = config or VideoImportConfig()
    w, h = _frame_size(info, config.max_side)
    used = np.asarray(USED)
    px = np.array([w, h, w], np.float64)
    M = CAM_TO_STYGAZE
    points, faces = [], []
    with contextlib.ExitStack() as stack:
        stderr = stack.enter_context(_quiet_native_stderr())
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")  # protobuf deprecation chatter from MediaPipe
        mesh = _face_mesh(config)
        stack.callback(mesh.close)
        bar = stack.enter_context(
            tqdm(total=info.expected_frames, desc=info.path.name, unit="frame", file=stderr, disable=not progress, leave=False)
        )
        frames, times, log = stack.enter_context(_decoder(info.path, (w, h)))
        for frame in frames:
            result = mesh.process(frame)
            found = result.multi_face_landmarks or []
            faces.append(len(found))
            if found:
                arrs = [np.array([(p.x, p.y, p.z) for p in f.landmark], np.float64) * px for f in found]
                best = arrs[select_face(arrs, w, h)] if len(arrs) > 1 else arrs[0]
                points.append((best[used] @ M.T).astype(np.float32))
            else:
                points.append(np.full((len(USED), 3), np.nan, np.float32))
            bar.update()
        err = list(log)
    if not points:
        detail = next((ln for ln in reversed(err) if "rror" in ln or "nvalid" in ln), "no frame decoded")
        raise DataError(f"{info.path}: no video frame could be decoded ({detail})")
    t = np.asarray(times[: len(points)], np.float64)
    if len(t) != len(points) or not np.isfinite(t).all():
        t = np.arange(len(points)) / (info.fps or FPS)  # ffmpeg gave no usable time stamps
    keep = np.concatenate([[True], np.diff(t) > 0])  # drop frames that repeat a time stamp
    return Track(t[keep], np.stack(points)[keep], np.asarray(faces)[keep], w / info.width)


# --------------------------------------------------------------------------------------
# import
# --------------------------------------------------------------------------------------
@dataclass
class VideoImport:
    """Result of :func:`import_video` (the figures also stored in ``import.json``)."""

    path: Path
    frames: int
    video_frames: int
    face_share: float
    eye_width_px: float
    multi_face_frames: int
    nan_fraction: float
    seconds: float

    def summary(self) -> str:
        text = (
            f"wrote {self.path}: {self.frames} frames at 25 fps ({self.frames / FPS:.1f} s); "
            f"face in {100 * self.face_share:.1f} % of {self.video_frames} video frames, "
            f"eye width {self.eye_width_px:.0f} px, {100 * self.nan_fraction:.1f} % NaN"
        )
        if self.multi_face_frames:
            text += f"; several faces in {self.multi_face_frames} frames: kept the largest, most central one"
        return text

    def warnings(self) -> list[str]:
        out = []
        if self.eye_width_px < 20:
            out.append(f"{self.path.name}: eyes are only {self.eye_width_px:.0f} px wide: eye angles are coarse (≥ 30 px is better)")
        if self.nan_fraction > 0.5:
            out.append(f"{self.path.name}: {100 * self.nan_fraction:.0f} % of frames have no face: `stygaze data check` will flag this session")
        return out


def session_name(video: str | os.PathLike) -> str:
    """Session folder name for a video: its file stem with unusual characters replaced by ``_``."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(video).stem).strip("._")
    return name or "video"


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def import_video(
    video: str | os.PathLike,
    corpus: str | os.PathLike,
    *,
    name: str | None = None,
    audio: str | os.PathLike | None = None,
    config: VideoImportConfig | None = None,
    progress: bool = False,
) -> VideoImport:
    """Import one video as the session ``corpus/<name>`` (default name: :func:`session_name`).

    The speech comes from the video's audio track, or from ``audio`` (any file ffmpeg
    reads, starting with the video) when the video has none or a better recording exists.

    Writes ``audio.wav``, ``motion.npz`` (motion, blink) and ``import.json`` (source,
    settings, calibration, ``quality``) into a temporary folder renamed when complete;
    nothing is created when anything fails. Does not touch ``splits.json`` (see
    :func:`update_splits`).

    Raises:
        DataError: the session exists, the file is not a readable video, has no video
            stream, no audio track, or no face in any frame; MediaPipe is missing.
    """

    config = config or VideoImportConfig()
    video, corpus = Path(video), Path(corpus)
    if _same_path(video, corpus):
        raise DataError(f"--out {corpus} is the input video: choose a corpus folder")
    if corpus.exists() and not corpus.is_dir():
        raise DataError(f"--out {corpus} exists and is not a folder")
    out = corpus / (name or session_name(video))
    if out.exists():
        raise DataError(f"session {out} already exists: remove it or import into another corpus")
    start = time.perf_counter()
    info = probe_video(video)
    if audio is None and not info.has_audio:
        raise DataError(f"{video}: no audio track: a corpus session needs the speech (give it with --audio)")
    if audio is not None and not Path(audio).is_file():
        raise DataError(f"audio file not found: {audio}")
    with tempfile.TemporaryDirectory(prefix="stygaze-video-") as tmp:
        wav = Path(tmp) / "audio.wav"
        samples = extract_audio(video if audio is None else audio, wav)
        T = num_frames(samples)
        if T < 1:
            raise DataError(f"{video}: the audio is shorter than one motion frame")
        track = track_video(info, config, progress=progress)
        has_face = np.isfinite(track.points).all(axis=(1, 2))
        if not has_face.any():
            raise DataError(f"{video}: no face found in any of its {len(track.times)} frames")
        series = landmarks_to_series(track.points, track.times, config)
        motion = series_to_motion(series, track.times, T, config.max_gap_s)
        nan_fraction = float(np.isnan(motion.data).any(axis=1).mean())
        result = VideoImport(
            path=out,
            frames=T,
            video_frames=len(track.times),
            face_share=float(has_face.mean()),
            eye_width_px=float(np.nanmedian(series.eye_width) / track.scale),
            multi_face_frames=int((track.faces > 1).sum()),
            nan_fraction=nan_fraction,
            seconds=0.0,
        )
        with atomic_dir(out) as dst:
            shutil.copyfile(wav, dst / "audio.wav")
            motion.save(dst / "motion.npz")
            result.seconds = time.perf_counter() - start
            meta = {
                "source": "video",
                "video": video.name,
                "audio": "video" if audio is None else Path(audio).name,
                "tracker": TRACKER,
                "mediapipe": mediapipe_version(),
                "head_pose": "rigid-landmark Procrustes to the clip's template",
                "video_fps": round(info.fps, 4),
                "video_size": [info.width, info.height],
                "analysed_size": [int(round(info.width * track.scale)), int(round(info.height * track.scale))],
                "settings": asdict(config),
                "eye_offsets_deg": [round(float(v), 3) for v in series.eye_offsets],
                "quality": {
                    "face_share": round(result.face_share, 4),
                    "eye_width_px": round(result.eye_width_px, 2),
                    "multi_face_frames": result.multi_face_frames,
                    "video_frames": result.video_frames,
                    "nan_fraction": round(nan_fraction, 4),
                },
                "seconds": round(result.seconds, 2),
            }
            (dst / "import.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return result


def find_videos(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Expand inputs: a file is taken as it is; a folder gives its video files (by
    :data:`VIDEO_EXTENSIONS`, sorted, not recursive).

    Raises:
        DataError: a missing input, or a folder without videos.
    """
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise DataError(f"not found: {p}")
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in VIDEO_EXTENSIONS and not f.name.startswith("."))
            if not found:
                raise DataError(f"{p}: no video files ({', '.join(VIDEO_EXTENSIONS[:6])}, ...)")
            out.extend(found)
        else:
            out.append(p)
    return out


def update_splits(corpus: str | os.PathLike, seed: int = 0) -> tuple[dict[str, list[str]], str]:
    """Bring ``corpus/splits.json`` up to date with the corpus' sessions.

    With no ``splits.json``, or one that is exactly what :func:`~stygaze.data.corpus.make_splits`
    gives (same ``seed``) for the sessions it lists (the importer's own), the splits are
    drawn anew over all sessions. A hand-made ``splits.json`` is kept; new sessions join
    ``train``.

    Returns:
        the splits written and ``"drawn"`` or ``"extended"``.
    """

    corpus = Path(corpus)
    names = [s.name for s in Corpus(corpus).sessions()]
    path = corpus / "splits.json"
    old = _read_json(path) if path.exists() else None
    listed = sorted({str(n) for v in (old or {}).values() if isinstance(v, list) for n in v})
    if old is None or old == make_splits(listed, seed):
        splits, how = make_splits(names, seed), "drawn"
    else:
        splits = {k: [str(n) for n in v] for k, v in old.items() if isinstance(v, list)}
        new = [n for n in names if n not in listed]
        splits["train"] = sorted(splits.get("train", []) + new)
        how = "extended"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(splits, indent=1), encoding="utf-8")
        _default_permissions(tmp)
    return splits, how


@dataclass
class ImportReport:
    """What :func:`import_videos` did."""

    imported: list[VideoImport] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    splits: dict[str, list[str]] | None = None
    splits_how: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed


def import_videos(
    inputs: Sequence[str | os.PathLike],
    corpus: str | os.PathLike,
    *,
    config: VideoImportConfig | None = None,
    seed: int = 0,
    progress: bool = False,
    on_result: Callable[[Path, VideoImport | None, str | None], None] | None = None,
) -> ImportReport:
    """Import videos (files, or folders of videos) into ``corpus``, then update its splits.

    One failing video is reported (``on_result(video, None, message)``, and in
    ``report.failed``) and the others go on.

    One process at a time imports into a corpus (:func:`~stygaze.locking.folder_lock`).

    Raises:
        DataError: no videos found, ``corpus`` is one of the inputs or not a folder,
            two inputs would give the same session name, MediaPipe is not installed.
        BusyError: another stygaze process is writing ``corpus``.
    """

    config = config or VideoImportConfig()
    corpus = Path(corpus)
    for item in inputs:
        if _same_path(Path(item), corpus):
            raise DataError(f"--out {corpus} is one of the inputs: choose another corpus folder")
    if corpus.exists() and not corpus.is_dir():
        raise DataError(f"--out {corpus} exists and is not a folder")
    videos = find_videos(inputs)
    seen: dict[str, Path] = {}
    for v in videos:
        n = session_name(v)
        if n in seen:
            raise DataError(f"{seen[n]} and {v} would both become session {n!r}: rename one")
        seen[n] = v

    report = ImportReport()
    created = not corpus.exists()
    try:
        with folder_lock(corpus):  # one writer per corpus; what a killed import left is removed
            remove_stale_parts(corpus)
            for v in videos:
                try:
                    result = import_video(v, corpus, config=config, progress=progress)
                except MediaPipeMissing:
                    raise
                except (StygazeError, OSError) as exc:
                    msg = " ".join(str(exc).split())
                    report.failed.append((v, msg))
                    if on_result:
                        on_result(v, None, msg)
                    continue
                report.imported.append(result)
                if on_result:
                    on_result(v, result, None)
            if report.imported:
                report.splits, report.splits_how = update_splits(corpus, seed)
    finally:
        if created:  # only succeeds when nothing was imported: never removes what others wrote
            with contextlib.suppress(OSError):
                corpus.rmdir()
    return report
