"""Import OpenFace 2.x ``FeatureExtraction`` CSVs as stygaze sessions (the in-the-wild route).

OpenFace reports, per video frame, a gaze direction per eye (``gaze_0_*``: the leftmost eye
in the image = the subject's **right** eye; ``gaze_1_*``: the subject's left eye) and the
head rotation (``pose_Rx, pose_Ry, pose_Rz`` radians, ``R = Rx·Ry·Rz``), all in camera
coordinates: x to the image right, y down, z away from the camera. The subject faces the
camera, so stygaze's head frame (x = subject's left, y = up, z = forward) maps to camera
coordinates by ``M = diag(1, −1, −1)`` (a 180° rotation about x):

* world gaze of an eye, in stygaze's world frame: ``g = M · gaze_cam``;
* head rotation: ``R_head = M · R_openface · M`` (identity when the face looks into the
  camera); head (pitch, yaw, roll) by :func:`stygaze.motion.matrix_to_angles`;
* eye-in-head direction: ``R_headᵀ · g`` → (pitch, yaw) by :func:`stygaze.motion.vector_to_angles`.

Then: rows with ``success == 0``, ``confidence < min_confidence``, non-finite values or a
zero gaze vector become NaN; NaN gaps up to ``max_gap_s`` are linearly interpolated (longer
gaps stay NaN, i.e. tracker loss); the series is resampled from the CSV timestamps to
25 fps (a frame is NaN unless both neighbouring samples are valid).
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stygaze.audio import FPS, SAMPLE_RATE, load_audio, num_frames, save_audio
from stygaze.errors import DataError
from stygaze.geometry import matrix_to_angles, vector_to_angles
from stygaze.inputs import require_regular_file
from stygaze.io import atomic_dir
from stygaze.motion import Motion

GAZE_COLUMNS = ("gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z")
POSE_COLUMNS = ("pose_Rx", "pose_Ry", "pose_Rz")
REQUIRED_COLUMNS = ("timestamp", "confidence", "success") + GAZE_COLUMNS + POSE_COLUMNS
"""Columns the importer needs (OpenFace writes them with ``-gaze -pose`` or by default)."""

CAM_TO_STYGAZE = np.diag([1.0, -1.0, -1.0])
"""``M``: camera coordinates (x right, y down, z away) → stygaze (x subject-left, y up, z forward)."""


def read_openface_csv(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read the columns stygaze needs from an OpenFace CSV (header names may have spaces).

    With several faces (``face_id``), the lowest id is kept.

    Returns:
        ``{column: (N,) float64}`` for :data:`REQUIRED_COLUMNS`, rows sorted by time.

    Raises:
        DataError: missing/empty/unparsable file, missing columns, non-numeric cells,
            timestamps that are not increasing.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"expected an OpenFace CSV file, got a directory: {path}")
    require_regular_file(path, "OpenFace CSV")  # a FIFO would block
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read OpenFace CSV {path}: {type(exc).__name__}") from exc
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"OpenFace CSV is empty: {path}")
    header = [c.strip() for c in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path}: not an OpenFace 2.x CSV with gaze and pose, missing column(s) {', '.join(missing)}")
    if len(rows) < 2:
        raise DataError(f"{path}: no data rows")
    wanted = list(REQUIRED_COLUMNS) + (["face_id"] if "face_id" in header else [])
    idx = [header.index(c) for c in wanted]
    data = np.empty((len(rows) - 1, len(wanted)), np.float64)
    for i, r in enumerate(rows[1:], start=2):
        if len(r) < len(header):
            raise DataError(f"{path}: line {i} has {len(r)} fields, the header has {len(header)}")
        try:
            data[i - 2] = [float(r[j]) for j in idx]
        except ValueError:
            raise DataError(f"{path}: line {i} has a non-numeric value in a gaze/pose column") from None
    cols = {c: data[:, k] for k, c in enumerate(wanted)}
    if "face_id" in cols:
        keep = cols["face_id"] == np.nanmin(cols["face_id"])
        cols = {c: v[keep] for c, v in cols.items() if c != "face_id"}
    t = cols["timestamp"]
    if not np.isfinite(t).all():
        raise DataError(f"{path}: timestamp column has missing values")
    if len(t) > 1 and not np.all(np.diff(t) > 0):
        raise DataError(f"{path}: timestamps are not strictly increasing (one face per file expected)")
    return cols


def openface_rows_to_angles(cols: dict[str, np.ndarray], min_confidence: float = 0.75) -> np.ndarray:
    """Per-row stygaze angles ``(N, 7)`` degrees (NaN where the row is unusable).

    Args:
        cols: from :func:`read_openface_csv`.
        min_confidence: rows below this OpenFace confidence are dropped (NaN).
    """
    M = CAM_TO_STYGAZE
    g0 = np.stack([cols[c] for c in GAZE_COLUMNS[:3]], axis=1)  # subject's right eye
    g1 = np.stack([cols[c] for c in GAZE_COLUMNS[3:]], axis=1)  # subject's left eye
    rx, ry, rz = (cols[c] for c in POSE_COLUMNS)
    ok = (cols["success"] > 0.5) & (cols["confidence"] >= min_confidence)
    ok &= np.isfinite(g0).all(1) & np.isfinite(g1).all(1) & np.isfinite(np.stack([rx, ry, rz], 1)).all(1)
    ok &= (np.linalg.norm(g0, axis=1) > 1e-6) & (np.linalg.norm(g1, axis=1) > 1e-6)
    rx, ry, rz = (np.where(ok, v, 0.0) for v in (rx, ry, rz))
    # OpenFace R = Rx(rx) Ry(ry) Rz(rz) (standard right-handed matrices, camera coordinates)
    c, s = np.cos, np.sin
    one, zero = np.ones_like(rx), np.zeros_like(rx)
    Rx = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, c(rx), -s(rx)], -1), np.stack([zero, s(rx), c(rx)], -1)], -2)
    Ry = np.stack([np.stack([c(ry), zero, s(ry)], -1), np.stack([zero, one, zero], -1), np.stack([-s(ry), zero, c(ry)], -1)], -2)
    Rz = np.stack([np.stack([c(rz), -s(rz), zero], -1), np.stack([s(rz), c(rz), zero], -1), np.stack([zero, zero, one], -1)], -2)
    R_head = M @ (Rx @ Ry @ Rz) @ M
    hp, hy, hr = matrix_to_angles(R_head)
    out = np.full((len(rx), 7), np.nan)
    out[:, 0], out[:, 1], out[:, 2] = hp, hy, hr
    for g, (cp, cy) in ((g1, (3, 4)), (g0, (5, 6))):
        gw = np.where(ok[:, None], g, 1.0) @ M.T  # world gaze in stygaze's frame
        gh = np.einsum("nji,nj->ni", R_head, gw)  # R_headᵀ · g
        p, y = vector_to_angles(gh)
        out[:, cp], out[:, cy] = p, y
    out[~ok] = np.nan
    return out


def _fill_short_gaps(t: np.ndarray, x: np.ndarray, max_gap_s: float) -> np.ndarray:
    """Linearly interpolate NaN runs whose valid neighbours are at most ``max_gap_s`` apart."""
    x = x.copy()
    bad = np.isnan(x).any(axis=1)
    if not bad.any() or bad.all():
        return x
    d = np.diff(np.concatenate([[0], bad.astype(np.int8), [0]]))
    for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
        if a == 0 or b == len(x):
            continue  # a gap at either end has no neighbour on one side
        if t[b] - t[a - 1] <= max_gap_s + 1e-9:
            w = ((t[a:b] - t[a - 1]) / (t[b] - t[a - 1]))[:, None]
            x[a:b] = (1 - w) * x[a - 1] + w * x[b]
    return x


def resample_to_fps(t: np.ndarray, x: np.ndarray, num_frames: int, fps: float = FPS) -> np.ndarray:
    """Sample ``x`` (N, C) given at times ``t`` (N,) s at frame times ``i / fps``, i < num_frames.

    Linear interpolation; a frame is NaN when a contributing sample is NaN or the frame lies
    outside ``[t[0], t[-1]]``.
    """
    tf = np.arange(num_frames) / fps
    out = np.full((num_frames, x.shape[1]), np.nan)
    inside = (tf >= t[0] - 1e-9) & (tf <= t[-1] + 1e-9)
    if len(t) == 1:
        out[inside] = x[0]
        return out
    j = np.clip(np.searchsorted(t, tf[inside], side="right") - 1, 0, len(t) - 2)
    w = np.clip((tf[inside] - t[j]) / (t[j + 1] - t[j]), 0, 1)[:, None]
    a, b = x[j], x[j + 1]
    val = np.where(w < 1e-9, a, np.where(w > 1 - 1e-9, b, (1 - w) * a + w * b))
    # NaN propagates from either neighbour with non-zero weight
    val = np.where((w > 1e-9) & np.isnan(b).any(1, keepdims=True), np.nan, val)
    val = np.where((w < 1 - 1e-9) & np.isnan(a).any(1, keepdims=True), np.nan, val)
    out[inside] = val
    return out


def openface_to_motion(
    cols: dict[str, np.ndarray],
    *,
    num_frames: int | None = None,
    min_confidence: float = 0.75,
    max_gap_s: float = 0.2,
) -> Motion:
    """Convert OpenFace columns to a 25 fps :class:`Motion` (see the module docstring).

    Args:
        cols: from :func:`read_openface_csv`.
        num_frames: output length (default: up to the last timestamp); frames beyond the CSV
            are NaN.
        min_confidence: rows below this OpenFace confidence become NaN.
        max_gap_s: NaN gaps up to this long (between valid neighbours) are interpolated.
    """
    if not 0 <= min_confidence <= 1:
        raise DataError(f"--min-confidence must be in 0..1, got {min_confidence}")
    if not max_gap_s >= 0:
        raise DataError(f"--max-gap must be ≥ 0 seconds, got {max_gap_s}")
    t = cols["timestamp"]
    x = _fill_short_gaps(t, openface_rows_to_angles(cols, min_confidence), max_gap_s)
    T = int(np.floor(t[-1] * FPS + 1e-6)) + 1 if num_frames is None else int(num_frames)
    if T < 1:
        raise DataError("OpenFace CSV covers no motion frame (timestamps are negative)")
    return Motion(resample_to_fps(t, x, T).astype(np.float32), FPS)


@dataclass
class OpenFaceImport:
    """Result of :func:`import_openface`."""

    path: Path
    frames: int
    rows: int
    dropped_rows: int
    nan_fraction: float


def import_openface(
    csv_path: str | os.PathLike,
    audio_path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    min_confidence: float = 0.75,
    max_gap_s: float = 0.2,
) -> OpenFaceImport:
    """Write a corpus session (``audio.wav``, ``motion.npz``, ``import.json``) from an OpenFace
    CSV and the video's audio. The motion covers the audio (NaN where OpenFace has no data).

    Raises:
        DataError / AudioError: unreadable inputs, or ``out`` already exists.
    """
    out = Path(out)
    if out.exists():
        raise DataError(f"output {out} already exists: choose a new --out")
    cols = read_openface_csv(csv_path)
    audio = load_audio(audio_path, normalize=False)
    T = num_frames(len(audio))
    if T < 1:
        raise DataError(f"{audio_path}: audio is shorter than one motion frame")
    motion = openface_to_motion(cols, num_frames=T, min_confidence=min_confidence, max_gap_s=max_gap_s)
    rows = len(cols["timestamp"])
    dropped = int(np.isnan(openface_rows_to_angles(cols, min_confidence)).any(axis=1).sum())
    nan_frac = float(np.isnan(motion.data).any(axis=1).mean())
    if nan_frac >= 1.0:
        raise DataError(f"{csv_path}: no usable frame (all rows failed tracking or are below confidence {min_confidence})")
    with atomic_dir(out) as tmp:
        save_audio(tmp / "audio.wav", audio, SAMPLE_RATE)
        motion.save(tmp / "motion.npz")
        meta = {
            "source": "openface",
            "csv": Path(csv_path).name,
            "audio": Path(audio_path).name,
            "min_confidence": min_confidence,
            "max_gap_s": max_gap_s,
            "rows": rows,
            "dropped_rows": dropped,
            "nan_fraction": round(nan_frac, 4),
        }
        (tmp / "import.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return OpenFaceImport(out, T, rows, dropped, nan_frac)
