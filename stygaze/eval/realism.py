"""Head-motion realism measures that stay valid on real, noisy recordings.

Video-estimated head pose (3DMM fits, MediaPipe) jitters from frame to frame, and every
recording sits at its own mean pose. So every measure here compares sources on equal terms:

* **amplitude**: per-axis standard deviation after removing each clip's mean pose
  (:func:`head_stats`, degrees);
* **speed**: the angular speed of (pitch, yaw, roll) after the *same* light smoothing on
  every source, a centred moving average of ``smooth_frames`` frames (default 5 at 25 fps)
  (:func:`head_stats`, degrees per second; per axis and as the norm of all three); several
  clips are summarised by the mean of their figures (:func:`pooled_head_stats`);
* **distribution of short windows**: 2-s windows described by per-axis standard deviation
  and per-axis mean absolute velocity (:func:`window_descriptors`), compared
  between two sources with the Fréchet distance of Gaussians fitted to the descriptors
  (:func:`frechet_distance`; lower is closer, 0 = identical mean and covariance). Its scale
  depends on the descriptor set and the sample sizes: always compare it with a real-vs-real
  floor computed on the same amounts of data (:func:`split_floor`).

All functions are pure numpy; inputs are ``(T, 3)`` head angles in degrees (pitch, yaw,
roll) at ``fps`` frames per second. NaN frames are dropped from statistics, and a window or
step that touches a NaN frame is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stygaze.features.kinematics import SMOOTH_FRAMES, smooth

WINDOW_S = 2.0
"""Default window length of :func:`window_descriptors`, seconds."""
AXES = ("pitch", "yaw", "roll")


def _head(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 3:
        raise ValueError(f"head angles must be (T, 3) (or (T, 7) motion), got shape {x.shape}")
    return x[:, :3]


def center(x: np.ndarray) -> np.ndarray:
    """``(T, 3)`` head angles minus the clip's mean pose (NaN-aware)."""
    h = _head(x)
    if not np.isfinite(h).any():
        return h.copy()
    return h - np.nanmean(h, axis=0)


@dataclass
class HeadStats:
    """Amplitude and speed of a head track (or pooled over clips).

    Attributes:
        std: ``(3,)`` per-axis standard deviation around the clip mean, degrees.
        speed: mean angular speed ‖Δ(pitch, yaw, roll)‖ after smoothing, degrees per second.
        axis_speed: ``(3,)`` mean absolute per-axis speed after smoothing, degrees per second.
        frames: number of valid frames that went into ``std``.
    """

    std: np.ndarray
    speed: float
    axis_speed: np.ndarray
    frames: int

    def to_dict(self) -> dict:
        return {
            "std_deg": {a: float(v) for a, v in zip(AXES, self.std)},
            "speed_deg_s": float(self.speed),
            "axis_speed_deg_s": {a: float(v) for a, v in zip(AXES, self.axis_speed)},
            "frames": int(self.frames),
        }


def _velocities(x: np.ndarray, fps: float, smooth_frames: int) -> np.ndarray:
    v = np.diff(smooth(_head(x), smooth_frames), axis=0) * float(fps)  # (T-1, 3) deg/s
    return v[np.isfinite(v).all(axis=1)]


def head_stats(x: np.ndarray, fps: float = 25.0, smooth_frames: int = SMOOTH_FRAMES) -> HeadStats:
    """:class:`HeadStats` of one ``(T, 3)`` head track (centred on its own mean pose)."""
    c = center(x)
    ok = np.isfinite(c).all(axis=1)
    v = _velocities(x, fps, smooth_frames)
    if ok.sum() < 2 or len(v) == 0:
        raise ValueError("no valid frames to measure")
    return HeadStats(std=c[ok].std(axis=0), speed=float(np.linalg.norm(v, axis=1).mean()), axis_speed=np.abs(v).mean(axis=0), frames=int(ok.sum()))


def pooled_head_stats(clips: list[np.ndarray], fps: float = 25.0, smooth_frames: int = SMOOTH_FRAMES) -> HeadStats:
    """The mean of the clips' :class:`HeadStats` (every clip counts once, whatever its length).

    A speaker's typical amplitude and speed: a long clip does not outweigh a short one.
    """
    stats = [head_stats(x, fps, smooth_frames) for x in clips]
    if not stats:
        raise ValueError("no clips to measure")
    return HeadStats(
        std=np.mean([s.std for s in stats], axis=0),
        speed=float(np.mean([s.speed for s in stats])),
        axis_speed=np.mean([s.axis_speed for s in stats], axis=0),
        frames=int(sum(s.frames for s in stats)),
    )


def window_descriptors(x: np.ndarray, fps: float = 25.0, window_s: float = WINDOW_S, hop_s: float | None = None,
                       smooth_frames: int = SMOOTH_FRAMES) -> np.ndarray:  # fmt: skip
    """Descriptors of the short windows of a head track: ``(W, 6)``.

    Per window of ``window_s`` seconds (hop ``hop_s``, default half a window), after the
    clip's mean pose is removed and the track smoothed: per-axis standard deviation
    (degrees) and per-axis mean absolute velocity (degrees per second): how much and how
    fast the head moves on each axis over a couple of seconds. Windows touching a NaN frame
    are skipped.
    """
    h = smooth(center(x), smooth_frames)
    n = int(round(window_s * fps))
    hop = int(round((hop_s if hop_s is not None else window_s / 2) * fps))
    if n < 2 or hop < 1:
        raise ValueError(f"window of {window_s} s / hop of {hop_s} s is too short at {fps} fps")
    rows = []
    for a in range(0, len(h) - n + 1, hop):
        w = h[a : a + n]
        if not np.isfinite(w).all():
            continue
        v = np.abs(np.diff(w, axis=0)).mean(axis=0) * fps
        rows.append(np.concatenate([w.std(axis=0), v]))
    return np.asarray(rows, dtype=np.float64).reshape(-1, 6)


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the rows of ``a`` (N, D) and ``b`` (M, D).

    ``‖μa − μb‖² + tr(Σa + Σb − 2 (Σa^½ Σb Σa^½)^½)`` (as FID). Lower is closer; 0 for
    identical statistics. Needs at least 2 rows on each side.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"descriptor arrays must be (N, D) and (M, D), got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Fréchet distance needs at least 2 descriptors on each side")
    mu = a.mean(0) - b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ra = _sqrtm_psd(sa)
    cross = _sqrtm_psd(ra @ sb @ ra)
    return float(max(0.0, mu @ mu + np.trace(sa) + np.trace(sb) - 2.0 * np.trace(cross)))


def split_floor(descriptors: list[np.ndarray]) -> float:
    """Real-vs-real floor: Fréchet distance between the windows of alternate clips.

    Clips ``0, 2, 4, …`` against clips ``1, 3, 5, …`` (each a ``(W_i, D)`` descriptor array):
    what two independent halves of the same kind of data score, at the sample size that
    :func:`split_distance` uses.
    """
    if len(descriptors) < 2:
        raise ValueError("the floor needs at least 2 clips")
    return frechet_distance(np.concatenate(descriptors[0::2]), np.concatenate(descriptors[1::2]))


def split_distance(generated: list[np.ndarray], real: list[np.ndarray]) -> float:
    """Fréchet distance of generated to real windows at the floor's sample sizes.

    ``generated[i]`` is made for the same speech as ``real[i]``; the generated windows of the
    even clips are compared with the real windows of the odd clips and vice versa, and the two
    distances averaged, so neither side ever sees the real motion of its own clip and the
    result is directly comparable with :func:`split_floor`.
    """
    if len(generated) != len(real) or len(real) < 2:
        raise ValueError("need one generated descriptor array per real clip, at least 2 clips")
    d1 = frechet_distance(np.concatenate(generated[0::2]), np.concatenate(real[1::2]))
    d2 = frechet_distance(np.concatenate(generated[1::2]), np.concatenate(real[0::2]))
    return 0.5 * (d1 + d2)
