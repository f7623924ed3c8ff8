"""Motion curves with fixation/saccade shading (like StyGazeTalk Fig. 3), via matplotlib Agg."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from stygaze.eval.patterns import fixation_stats, gaze_signal
from stygaze.io import atomic_path
from stygaze.motion import Motion


def _shade(ax, mask: np.ndarray, valid: np.ndarray, t: np.ndarray) -> None:
    """Yellow spans on fixation frames, grey on tracker loss (saccade frames stay white)."""
    dt = t[1] - t[0] if len(t) > 1 else 1.0
    for m, color, alpha in ((mask, "#f5c518", 0.35), (~valid, "0.6", 0.35)):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], m.astype(np.int8), [0]])))
        for a, b in zip(edges[0::2], edges[1::2]):
            ax.axvspan(t[a] - dt / 2, t[b - 1] + dt / 2, color=color, alpha=alpha, lw=0)


def plot_pair(
    pred: Motion,
    gt: Motion,
    path: str | os.PathLike,
    *,
    title: str = "",
    signal: str = "world",
    dispersion_deg: float = 1.0,
    min_duration_s: float = 0.1,
) -> Path:
    """Draw ground truth (left) and prediction (right): world gaze, head and eye-in-head
    angles (degrees) over time (seconds), fixations shaded yellow (saccades unshaded,
    tracker loss grey). Written atomically as an image (format from the suffix)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 2, figsize=(12, 7), sharex=True, sharey="row", squeeze=False)
    for col, (label, motion) in enumerate((("ground truth", gt), ("prediction", pred))):
        t = np.arange(len(motion)) / motion.fps
        fs = fixation_stats(motion, signal=signal, dispersion_deg=dispersion_deg, min_duration_s=min_duration_s)
        xy = gaze_signal(motion, signal)
        rows = (
            (f"{signal} gaze (°)", (("yaw", xy[:, 0]), ("pitch", xy[:, 1]))),
            ("head (°)", (("pitch", motion.data[:, 0]), ("yaw", motion.data[:, 1]), ("roll", motion.data[:, 2]))),
            ("eye-in-head (°)", (("pitch", motion.mean_eye[:, 0]), ("yaw", motion.mean_eye[:, 1]))),
        )
        for row, (ylabel, curves) in enumerate(rows):
            ax = axes[row, col]
            _shade(ax, fs.mask, fs.valid, t)
            for name, values in curves:
                ax.plot(t, values, lw=1.0, label=name)
            if col == 0:
                ax.set_ylabel(ylabel)
            ax.legend(loc="upper right", fontsize=7, ncol=3)
            ax.grid(alpha=0.3)
        ratio = fs.ratio
        axes[0, col].set_title(f"{label}: fixation {100 * ratio:.1f}%" if np.isfinite(ratio) else label)
        axes[-1, col].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100, format=(path.suffix.lstrip(".") or "png"))
    finally:
        plt.close(fig)
    return path
