"""The motion contract every part of stygaze shares.

A :class:`Motion` holds ``(T, 7)`` float32 angles in **degrees** at :data:`~stygaze.audio.FPS`
(25 fps) in the channel order :data:`CHANNELS`::

    [head_pitch, head_yaw, head_roll, l_eye_pitch, l_eye_yaw, r_eye_pitch, r_eye_yaw]

Eye angles are **eye-in-head** (relative to the head); world gaze is head ∘ eye, composed
as rotations (never as angle sums).

Coordinate frame and signs (one place, tested with world-gaze vectors):

* Head frame: ``x`` = the subject's left, ``y`` = up, ``z`` = forward (out of the face);
  right-handed. The neutral pose looks along ``+z``.
* pitch ``+`` = up, yaw ``+`` = towards the subject's left, roll ``+`` = top of the head
  towards the subject's left shoulder.
* A direction with (pitch θ, yaw ψ) is ``(cos θ sin ψ, sin θ, cos θ cos ψ)``.
* Head rotation ``R = R_y(yaw) · R_x(−pitch) · R_z(−roll)`` (yaw outermost, then pitch,
  then roll; ``R_a`` are the standard right-handed axis rotations).
* World gaze of an eye: ``R_head · d(eye_pitch, eye_yaw)``.

NaN marks tracker loss (a frame the recorder did not see); it is allowed in stored motion and
every metric says how it treats it. Infinite values are never allowed.

``.npz`` layout: ``motion`` (T, 7) float32, ``fps`` scalar, ``channels`` (7,) str; optional
``blink`` (T,) eyelid closure 0..1, ``expression`` (T, E), ``jaw`` (T, 3), ``shape`` (S,) for
visual fusion only, ``events`` (a JSON string) for labelled data. Files are read with
``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stygaze.audio import FPS
from stygaze.errors import MotionFormatError
from stygaze.geometry import (  # noqa: F401  (re-exported)
    angles_to_vector,
    head_rotation_matrix,
    matrix_to_angles,
    vector_to_angles,
)
from stygaze.io import atomic_path
from stygaze.limits import MAX_FPS, MAX_FRAMES, MIN_FPS, check_npz_members

CHANNELS: tuple[str, ...] = (
    "head_pitch",
    "head_yaw",
    "head_roll",
    "l_eye_pitch",
    "l_eye_yaw",
    "r_eye_pitch",
    "r_eye_yaw",
)
"""Channel names of the 7-DoF motion, in storage order."""

NUM_CHANNELS = len(CHANNELS)
HEAD_CHANNELS: tuple[int, ...] = (0, 1, 2)
"""Indices of head pitch, yaw, roll."""
GAZE_CHANNELS: tuple[int, ...] = (3, 4, 5, 6)
"""Indices of the four eye-in-head channels."""
L_EYE: tuple[int, int] = (3, 4)
R_EYE: tuple[int, int] = (5, 6)

OPTIONAL_PER_FRAME = ("blink", "expression", "jaw")
RESAMPLE_MODES: tuple[str, ...] = ("average", "linear", "nearest")
"""Modes of :meth:`Motion.resample` / :func:`resample_frames`."""
RESAMPLE_MIN_VALID: float = 0.5
"""``"average"`` mode: smallest share of valid (non-NaN) input frames an output frame needs."""
OPTIONAL_STATIC = ("shape",)
_EXTRA_NDIM = {"expression": 2, "jaw": 2, "shape": 1}
"""Rank of each known extra: ``expression`` (T, E), ``jaw`` (T, 3), ``shape`` (S,)."""


# --------------------------------------------------------------------------------------
# rotations (pure numpy, vectorised over leading axes)
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
def validate_motion_array(data: Any, *, allow_nan: bool = True, name: str = "motion") -> np.ndarray:
    """Check a motion array against the contract and return it as float32 ``(T, 7)``.

    Raises:
        MotionFormatError: wrong rank or channel count, zero frames or more than
            :data:`~stygaze.limits.MAX_FRAMES`, non-numeric dtype, infinite values, or NaN
            when ``allow_nan`` is False.
    """
    arr = _numeric(data, name)
    if arr.ndim != 2 or arr.shape[1] != NUM_CHANNELS:
        raise MotionFormatError(
            f"{name}: expected shape (T, {NUM_CHANNELS}) [{', '.join(CHANNELS)}], got {tuple(arr.shape)}"
        )
    if arr.shape[0] == 0:
        raise MotionFormatError(f"{name}: motion has zero frames")
    if arr.shape[0] > MAX_FRAMES:
        raise MotionFormatError(f"{name}: {arr.shape[0]} frames, more than the limit of {MAX_FRAMES} (4 h at 25 fps)")
    arr = arr.astype(np.float32, copy=False)
    if np.isinf(arr).any():
        raise MotionFormatError(f"{name}: motion contains infinite values")
    if not allow_nan and np.isnan(arr).any():
        raise MotionFormatError(f"{name}: motion contains NaN values (tracker loss) where none are allowed")
    return arr


def _numeric(data: Any, name: str) -> np.ndarray:
    """``data`` as an array of a numeric dtype (bool, int or float; cast by the caller).

    Strings, bytes, objects and complex numbers are refused rather than parsed.
    """
    arr = np.asarray(data)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
                                   or arr.dtype == np.bool_):
        raise MotionFormatError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    return arr


def _validate_fps(fps: Any, name: str) -> float:
    """A frame rate in [:data:`~stygaze.limits.MIN_FPS`, :data:`~stygaze.limits.MAX_FPS`]."""
    arr = np.asarray(fps)
    if arr.size != 1 or arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise MotionFormatError(f"{name}: fps must be one number, got {_short(fps)}")
    value = float(arr.reshape(()))
    if not np.isfinite(value) or not MIN_FPS <= value <= MAX_FPS:
        raise MotionFormatError(f"{name}: fps must be a number in [{MIN_FPS:g}, {MAX_FPS:g}], got {value:g}")
    return value


def _short(value: Any) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------------------
# the Motion type
# --------------------------------------------------------------------------------------
@dataclass
class Motion:
    """7-DoF gaze/head motion: ``data`` (T, 7) float32 degrees at ``fps``.

    Attributes:
        data: ``(T, 7)`` float32 degrees in :data:`CHANNELS` order; NaN = tracker loss.
        fps: frames per second (stygaze generates and trains at 25).
        blink: optional ``(T,)`` eyelid closure in 0..1 (1 = closed).
        extras: optional arrays for visual fusion only (``expression`` (T, E), ``jaw``
            (T, 3), ``shape`` (S,)); they never enter training.
        events: optional labelled events (a JSON-serialisable dict), e.g. from SynHAGE.
    """

    data: np.ndarray
    fps: float = FPS
    blink: np.ndarray | None = None
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    events: dict | None = None

    def __post_init__(self) -> None:
        self.data = validate_motion_array(self.data)
        self.fps = _validate_fps(self.fps, "motion")
        if self.blink is not None:
            blink = _numeric(self.blink, "blink").astype(np.float32)
            if blink.shape != (len(self),):
                raise MotionFormatError(f"blink: expected shape ({len(self)},), got {blink.shape}")
            if np.isinf(blink).any():
                raise MotionFormatError("blink: contains infinite values")
            self.blink = blink
        for key, value in list(self.extras.items()):
            value = _numeric(value, key).astype(np.float32)
            if key in OPTIONAL_PER_FRAME and (value.ndim < 1 or value.shape[0] != len(self)):
                raise MotionFormatError(f"{key}: expected {len(self)} frames, got shape {value.shape}")
            if key in _EXTRA_NDIM and value.ndim != _EXTRA_NDIM[key]:
                raise MotionFormatError(f"{key}: expected {_EXTRA_NDIM[key]} dimension(s), got shape {value.shape}")
            if not np.isfinite(value).all():
                raise MotionFormatError(f"{key}: contains NaN or infinite values")
            self.extras[key] = value

    # --- basic views ---------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.data.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self) / self.fps

    @property
    def head(self) -> np.ndarray:
        """``(T, 3)`` head pitch, yaw, roll (degrees)."""
        return self.data[:, 0:3]

    @property
    def gaze(self) -> np.ndarray:
        """``(T, 4)`` eye-in-head l_pitch, l_yaw, r_pitch, r_yaw (degrees)."""
        return self.data[:, 3:7]

    @property
    def left_eye(self) -> np.ndarray:
        """``(T, 2)`` left eye-in-head pitch, yaw (degrees)."""
        return self.data[:, 3:5]

    @property
    def right_eye(self) -> np.ndarray:
        """``(T, 2)`` right eye-in-head pitch, yaw (degrees)."""
        return self.data[:, 5:7]

    @property
    def mean_eye(self) -> np.ndarray:
        """``(T, 2)`` cyclopean eye-in-head pitch, yaw: the mean of both eyes (degrees)."""
        return 0.5 * (self.left_eye + self.right_eye)

    @property
    def has_nan(self) -> bool:
        return bool(np.isnan(self.data).any())

    def copy(self) -> Motion:
        return Motion(
            self.data.copy(),
            self.fps,
            None if self.blink is None else self.blink.copy(),
            {k: v.copy() for k, v in self.extras.items()},
            None if self.events is None else json.loads(json.dumps(self.events)),
        )

    def slice(self, start: int, stop: int) -> Motion:
        """Frames ``[start, stop)`` as a new Motion (per-frame extras sliced too)."""
        extras = {k: (v[start:stop] if k in OPTIONAL_PER_FRAME else v) for k, v in self.extras.items()}
        blink = None if self.blink is None else self.blink[start:stop]
        return Motion(self.data[start:stop].copy(), self.fps, blink, extras)

    # --- geometry --------------------------------------------------------------------
    def head_rotation_matrices(self) -> np.ndarray:
        """``(T, 3, 3)`` head-to-world rotations (see the module docstring for the convention)."""
        return head_rotation_matrix(self.data[:, 0], self.data[:, 1], self.data[:, 2])

    def eye_in_head_vectors(self, eye: str = "mean") -> np.ndarray:
        """``(T, 3)`` unit eye-in-head directions for ``eye`` in {"left", "right", "mean"}."""
        if eye == "left":
            return angles_to_vector(self.data[:, 3], self.data[:, 4])
        if eye == "right":
            return angles_to_vector(self.data[:, 5], self.data[:, 6])
        if eye == "mean":
            v = angles_to_vector(self.data[:, 3], self.data[:, 4]) + angles_to_vector(self.data[:, 5], self.data[:, 6])
            return v / np.linalg.norm(v, axis=-1, keepdims=True)
        raise ValueError(f"eye must be 'left', 'right' or 'mean', got {eye!r}")

    def world_gaze_vectors(self, eye: str = "mean") -> np.ndarray:
        """``(T, 3)`` unit world-gaze directions: head rotation applied to the eye-in-head direction."""
        R = self.head_rotation_matrices()
        return np.einsum("tij,tj->ti", R, self.eye_in_head_vectors(eye))

    def world_gaze_angles(self, eye: str = "mean") -> np.ndarray:
        """``(T, 2)`` world-gaze (pitch, yaw) in degrees, from :meth:`world_gaze_vectors`."""
        pitch, yaw = vector_to_angles(self.world_gaze_vectors(eye))
        return np.stack([pitch, yaw], axis=-1)

    # --- resampling ------------------------------------------------------------------
    def resample(self, fps: float = FPS, mode: str = "average", *, min_valid: float = RESAMPLE_MIN_VALID) -> Motion:
        """Resample to ``fps`` (default 25).

        Frame ``i`` of the output lies at time ``i / fps``; the output covers the input's
        duration (``round(T · fps / self.fps)`` frames). Events are dropped (their frame
        indices would no longer hold). Modes (see :func:`resample_frames`):

        * ``"average"`` (default): when **downsampling**, output frame ``i`` is the mean of
          the input over ``[(i − ½)/fps, (i + ½)/fps)`` (a box filter one output frame wide,
          what a slower camera or tracker would have recorded), each input frame standing
          for one input frame period and weighted by its overlap with the window, so the
          window is centred exactly on the output time (the first and last frames average
          the part of their window inside the recording). NaN input frames are left out of
          the mean, and the output frame is NaN when less than ``min_valid`` (default ½) of
          its window is covered by valid frames. When upsampling, and for
          ratios below 2 (e.g. 30 → 25 fps, where a one-frame-wide window would hold one or
          two input frames unevenly), it interpolates linearly like ``"linear"``.
        * ``"linear"``: linear interpolation between the two neighbouring input frames (the
          behaviour before averaging was added); a NaN neighbour with non-zero weight makes
          the output NaN. Downsampling this way picks samples and keeps their noise.
        * ``"nearest"``: the input frame nearest in time (picks samples; NaN stays NaN).

        Angles are averaged component by component (fine for the small within-frame
        changes of head and eye angles; never across a ±180° wrap).
        """
        fps = _validate_fps(fps, "resample")
        if mode not in RESAMPLE_MODES:
            raise ValueError(f"mode must be one of {', '.join(RESAMPLE_MODES)}, got {mode!r}")
        if abs(fps - self.fps) < 1e-9:
            return self.copy()
        if round(len(self) * fps / self.fps) > MAX_FRAMES:
            raise MotionFormatError(f"resample: {len(self)} frames at {self.fps:g} fps would become more than {MAX_FRAMES} frames at {fps:g} fps")

        def resample(x: np.ndarray) -> np.ndarray:
            flat = x.reshape(len(self), -1)
            out = resample_frames(flat, self.fps, fps, mode, min_valid=min_valid)
            return out.reshape((len(out),) + x.shape[1:])

        data = resample(self.data)
        blink = None if self.blink is None else resample(self.blink)
        extras = {k: (resample(v) if k in OPTIONAL_PER_FRAME else v) for k, v in self.extras.items()}
        return Motion(data, fps, blink, extras)

    # --- I/O -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the ``.npz`` file atomically (temp file, then rename). Returns the path."""
        path = Path(path)
        arrays: dict[str, np.ndarray] = {
            "motion": self.data.astype(np.float32),
            "fps": np.asarray(self.fps, dtype=np.float32),
            "channels": np.asarray(CHANNELS),
        }
        if self.blink is not None:
            arrays["blink"] = self.blink.astype(np.float32)
        for key, value in self.extras.items():
            arrays[key] = value
        if self.events is not None:
            arrays["events"] = np.asarray(json.dumps(self.events))
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, allow_nan: bool = True) -> Motion:
        """Read and validate a motion ``.npz`` (never unpickles).

        Raises:
            MotionFormatError: missing/corrupt file, missing ``motion`` key, wrong shape,
                wrong channel names, bad fps, infinite values.
        """
        path = Path(path)
        if not path.exists():
            raise MotionFormatError(f"motion file not found: {path}")
        if not path.is_file():
            raise MotionFormatError(f"motion file must be a regular .npz file: {path}")
        check_npz_members(path, MotionFormatError)
        try:
            with np.load(path, allow_pickle=False) as npz:
                contents = {k: npz[k] for k in npz.files}
        except Exception as exc:
            raise MotionFormatError(f"cannot read motion file {path}: not a valid .npz ({type(exc).__name__})") from exc
        if "motion" not in contents:
            raise MotionFormatError(f"{path}: no 'motion' array (keys: {', '.join(sorted(contents)) or 'none'})")
        data = validate_motion_array(contents["motion"], allow_nan=allow_nan, name=str(path))
        fps = _validate_fps(contents.get("fps", FPS), str(path))
        if "channels" in contents:
            channels = tuple(str(c) for c in np.asarray(contents["channels"]).reshape(-1))
            if channels != CHANNELS:
                raise MotionFormatError(f"{path}: channels {list(channels)} differ from {list(CHANNELS)}")
        extras = {k: contents[k] for k in ("expression", "jaw", "shape") if k in contents}
        events = None
        if "events" in contents:
            try:
                events = json.loads(str(contents["events"]))
            except json.JSONDecodeError as exc:
                raise MotionFormatError(f"{path}: 'events' is not valid JSON") from exc
            if not isinstance(events, dict):
                raise MotionFormatError(f"{path}: 'events' must be a JSON object, got {type(events).__name__}")
        try:
            return cls(data, fps, contents.get("blink"), extras, events)
        except MotionFormatError as exc:
            raise MotionFormatError(f"{path}: {exc}") from exc

    @classmethod
    def zeros(cls, num_frames: int, fps: float = FPS) -> Motion:
        """A neutral (all-zero) motion of ``num_frames`` frames."""
        return cls(np.zeros((num_frames, NUM_CHANNELS), np.float32), fps)


def resample_linear(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Sample ``x`` (N, C) at fractional frame ``positions`` (M,) by linear interpolation.

    Positions past the last frame hold the last frame. NaN propagates from any input sample
    that contributes with non-zero weight.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    pos = np.clip(np.asarray(positions, dtype=np.float64), 0.0, n - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (pos - i0)[:, None]
    a, b = x[i0], x[i1]
    out = np.where(w == 0.0, a, (1.0 - w) * a + w * b)
    return out.astype(np.float32)


def resample_frames(
    x: np.ndarray,
    fps_in: float,
    fps_out: float,
    mode: str = "average",
    *,
    min_valid: float = RESAMPLE_MIN_VALID,
) -> np.ndarray:
    """Resample ``x`` (N,) or (N, C) from ``fps_in`` to ``fps_out`` (see :meth:`Motion.resample`).

    Output frame ``i`` lies at input position ``i · fps_in / fps_out``; there are
    ``M = max(1, round(N · fps_out / fps_in))`` of them. Returns ``(M,)`` or ``(M, C)`` float32.
    """
    if mode not in RESAMPLE_MODES:
        raise ValueError(f"mode must be one of {', '.join(RESAMPLE_MODES)}, got {mode!r}")
    if not 0.0 < min_valid <= 1.0:
        raise ValueError(f"min_valid must be in (0, 1], got {min_valid}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return resample_frames(x[:, None], fps_in, fps_out, mode, min_valid=min_valid)[:, 0]
    n = x.shape[0]
    ratio = fps_in / fps_out  # input frames per output frame
    n_out = max(1, int(round(n * fps_out / fps_in)))
    pos = np.arange(n_out) * ratio  # (M,) output frame times in input-frame units
    if mode == "nearest":
        idx = np.clip(np.floor(pos + 0.5 + 1e-9).astype(np.int64), 0, n - 1)
        return x[idx].astype(np.float32)
    if mode == "linear" or ratio < 2.0 - 1e-9:
        # upsampling, or too little downsampling for a window to hold more than one frame
        return resample_linear(x, pos)
    # box average: input frame j stands for the interval [j − ½, j + ½) (input-frame units);
    # output frame i averages [(i − ½) r, (i + ½) r) clipped to the recording, each input
    # frame weighted by its overlap (so the window is centred exactly on i · r)
    valid = np.isfinite(x)
    zero = np.zeros((1,) + x.shape[1:])
    csum = np.concatenate([zero, np.cumsum(np.where(valid, x, 0.0), axis=0)])  # (N+1, C)
    ccnt = np.concatenate([zero, np.cumsum(valid, axis=0, dtype=np.float64)])

    def integral(c: np.ndarray, v: np.ndarray, u: np.ndarray) -> np.ndarray:
        """∫ from −½ to u of the piecewise-constant v (prefix sums c), u in [−½, N − ½]."""
        s = u + 0.5
        j = np.minimum(np.floor(s).astype(np.int64), n - 1)
        return c[j] + (s - j)[:, None] * v[j]

    lo = np.clip(pos - 0.5 * ratio, -0.5, n - 0.5)
    hi = np.clip(pos + 0.5 * ratio, -0.5, n - 0.5)
    xv = np.where(valid, x, 0.0)
    total = integral(csum, xv, hi) - integral(csum, xv, lo)
    count = integral(ccnt, valid.astype(np.float64), hi) - integral(ccnt, valid.astype(np.float64), lo)
    width = (hi - lo)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / count
    out[(count <= 1e-12) | (count < min_valid * width - 1e-9)] = np.nan
    return out.astype(np.float32)
