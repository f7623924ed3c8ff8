"""Gaze → head: the public API around :class:`~stygaze.cvae.model.HeadCVAE`.

``generate_heads(gaze_motion, num_samples=K, seed=s)`` takes any gaze :class:`Motion` (an eye
tracker recording, a gaze model's output, a StyGazeTalk generation, an OpenFace import) and
returns K head tracks that move with that gaze.

What is kept and what changes:

* The **world gaze** of the input (each eye's ``R_head · d(eye-in-head)``) is the condition
  and is kept exactly: the output's eye-in-head channels are recomputed for the generated head
  (``eye-in-head = R_new_headᵀ · world gaze``), so the avatar looks at the same points as the
  input. For a gaze-only file (head channels all zero, or all NaN = no head track) world gaze
  equals the stored eye angles, i.e. gaze relative to the camera. Why world gaze and not
  eye-in-head: see :mod:`stygaze.cvae.model`.
* The head channels are replaced by the generated head. ``blink`` and the visual-fusion extras
  are copied; ``events`` (which describe the input's head) are dropped.
* Inputs at another frame rate are resampled to 25 fps for the model and the generated head is
  resampled back, so the output has the input's frames and fps.

NaN (tracker loss) in the input gaze:

* Gaps of at most ``max_gap`` frames (default :data:`DEFAULT_MAX_GAP` = 25 frames = 1 s at
  25 fps; measured at 25 fps) are **bridged** for the model: linearly interpolated inside the
  track, held at the nearest valid frame at its ends. The generated head is defined on every
  frame; the eye channels stay NaN where the input was NaN (tracker loss is never invented
  away in the output).
* A longer gap is **refused** with a :class:`~stygaze.errors.MotionFormatError` naming the
  gap; split the file there or raise ``max_gap``.
* Fewer than :data:`MIN_FRAMES` (25 = 1 s at 25 fps) frames are refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stygaze.cvae.gaze import (  # noqa: F401  (re-exported: the pipeline's public names)
    DEFAULT_MAX_GAP,
    MIN_FRAMES,
    HeadSamples,
    bridge_gaps,
    eye_in_head_for,
    heads_for_gaze,
    world_gaze_track,
)
from stygaze.errors import MotionFormatError
from stygaze.io import atomic_path
from stygaze.motion import CHANNELS, Motion


def generate_heads(
    gaze_motion: Motion,
    *,
    model=None,
    num_samples: int = 1,
    seed: int | None = 0,
    max_gap: int = DEFAULT_MAX_GAP,
    temperature: float = 1.0,
) -> HeadSamples:
    """Sample ``num_samples`` head tracks for the gaze of ``gaze_motion`` (see the module docstring).

    ``model`` is a :class:`~stygaze.cvae.model.HeadCVAE` (None → the built-in checkpoint); the
    other arguments, the result and the errors are those of
    :func:`~stygaze.cvae.gaze.heads_for_gaze` (K = ``num_samples`` ≥ 1, ``seed`` of the
    sampling noise, ``max_gap`` frames at 25 fps bridged, ``temperature`` of the prior noise).

    Raises:
        MotionFormatError: too short, all NaN, or a NaN gap longer than ``max_gap``.
    """
    if model is None:
        from stygaze.cvae.model import (
            HeadCVAE,  # torch: only when the built-in model is wanted
        )

        model = HeadCVAE.from_pretrained()
    return heads_for_gaze(model, gaze_motion, num_samples=num_samples, seed=seed, max_gap=max_gap, temperature=temperature)


def save_head_samples(path: str | Path, result: HeadSamples) -> Path:
    """Write ``result.motion`` as a motion ``.npz`` plus a ``samples`` (K, T, 7) array, atomically.

    :meth:`Motion.load` reads the file as an ordinary motion (it ignores ``samples``);
    :func:`load_head_samples` reads all K.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        result.motion.save(tmp)  # the motion contract's own writer...
        with np.load(tmp, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        arrays["samples"] = np.asarray(result.samples, dtype=np.float32)  # ...plus the K samples
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    return path


def load_head_samples(path: str | Path) -> np.ndarray:
    """``(K, T, 7)`` samples of a file written by :func:`save_head_samples`.

    Raises:
        MotionFormatError: not a motion file, or no valid ``samples`` array.
    """
    motion = Motion.load(path)
    with np.load(path, allow_pickle=False) as npz:
        if "samples" not in npz.files:
            raise MotionFormatError(f"{path}: no 'samples' array (not written by the cVAE generator)")
        samples = np.asarray(npz["samples"], dtype=np.float32)
    if samples.ndim != 3 or samples.shape[1:] != (len(motion), len(CHANNELS)):
        raise MotionFormatError(f"{path}: 'samples' has shape {samples.shape}, expected (K, {len(motion)}, {len(CHANNELS)})")
    return samples


# --------------------------------------------------------------------------------------
# metrics for generated head tracks (pure numpy; the paper's cVAE evaluation)
# --------------------------------------------------------------------------------------
def head_angular_errors(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Mean absolute pitch and yaw error per sample, degrees (lower is better).

    Args:
        pred: ``(K, T, 3)`` generated heads; true: ``(T, 3)`` real head.

    Returns:
        ``(K, 2)`` [pitch error, yaw error]; mean over samples = "mean", min over K of the
        pitch/yaw average = "best-of-K".
    """
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    return np.nanmean(np.abs(pred[..., :2] - true[None, :, :2]), axis=1)


def head_correlations(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Pearson correlation with the real head per axis (pitch, yaw, roll), ``(K, 3)`` (higher is better).

    NaN for an axis where either track is constant.
    """
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    p = pred - pred.mean(axis=1, keepdims=True)
    t = (true - true.mean(axis=0))[None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (p * t).sum(1) / np.sqrt((p**2).sum(1) * (t**2).sum(1))


def head_jerk(head: np.ndarray) -> float:
    """Mean ‖third difference‖ of ``(..., T, 3)`` head tracks, degrees/frame³ (lower = smoother)."""
    d3 = np.diff(np.asarray(head, np.float64), n=3, axis=-2)
    return float(np.nanmean(np.linalg.norm(d3, axis=-1)))


def sample_diversity(samples: np.ndarray) -> float:
    """Average pairwise distance of K samples ``(K, T, 3)``: mean over pairs and frames of ‖a − b‖, degrees.

    0 when all samples are identical (or K = 1); higher = more diverse.
    """
    s = np.asarray(samples, np.float64)
    K = s.shape[0]
    if K < 2:
        return 0.0
    dists = [np.linalg.norm(s[i] - s[j], axis=-1).mean() for i in range(K) for j in range(i + 1, K)]
    return float(np.mean(dists))


def gaze_shift_head_response(
    gaze_yaw: np.ndarray,
    head_yaw: np.ndarray,
    *,
    min_amplitude: float = 20.0,
    velocity_threshold: float = 1.5,
    settle_frames: int = 25,
) -> tuple[np.ndarray, np.ndarray]:
    """Head-yaw responses to large world-gaze yaw shifts (eye-head coordination).

    A shift is a run of frames whose world-gaze yaw speed exceeds ``velocity_threshold``
    deg/frame (nearby runs less than 3 frames apart are merged); its amplitude is the gaze
    yaw change from the frame before the run to the frame after it. Only shifts of at least
    ``min_amplitude`` degrees count. The response is the head yaw change from the frame before
    the shift to ``settle_frames`` frames after its end (the head lags and finishes later).

    Args:
        gaze_yaw: ``(T,)`` world gaze yaw degrees; head_yaw: ``(T,)`` degrees.

    Returns:
        ``(amplitudes (S,), head_changes (S,))`` degrees; coordinated motion has a positive
        correlation between them (the head turns with the gaze).
    """
    g = np.asarray(gaze_yaw, np.float64)
    h = np.asarray(head_yaw, np.float64)
    fast = np.abs(np.diff(g)) > velocity_threshold  # step i: frame i -> i+1
    edges = np.diff(np.concatenate([[0], fast.astype(np.int8), [0]]))
    starts, stops = list(np.flatnonzero(edges == 1)), list(np.flatnonzero(edges == -1))
    runs: list[list[int]] = []
    for a, b in zip(starts, stops):
        if runs and a - runs[-1][1] < 3:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    amps, resp = [], []
    for a, b in runs:
        end = b  # first frame after the last fast step
        after = end + settle_frames
        if a < 1 or after >= len(g):
            continue
        amp = g[end] - g[a]
        if abs(amp) < min_amplitude or not np.isfinite(amp):
            continue
        amps.append(amp)
        resp.append(h[after] - h[a])
    return np.asarray(amps), np.asarray(resp)
