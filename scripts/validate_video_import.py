"""Validate ``stygaze data import-video`` on real talking-head clips against a 3DMM head pose.

    .venv/bin/python scripts/validate_video_import.py --real ../shared/real
    .venv/bin/python scripts/validate_video_import.py --real ../shared/real --json scripts/results/video_import.json

For every clip ``REAL/head_gaze/<group>/<clip>/`` with ``video.mp4`` and ``pose_3dmm.npz``
(and ``audio.wav``, the clip's speech, which the videos do not carry), the clip is imported
with the real importer (:func:`stygaze.data.video.import_video`, default settings) into a
temporary corpus, and its 25 fps head pitch / yaw / roll is compared with the 3DMM head pose
shipped with the footage, resampled from its native rate to 25 fps the same way
(``load_real.to_25fps``: frame ``i`` at ``i / fps``, linear):

* Pearson correlation per axis and clip (frames where both are defined);
* the std ratio (imported / 3DMM) and the mean offset (imported − 3DMM) per axis;
* the lag (−5..5 frames) of best yaw correlation, and r at that lag (information only: the
  3DMM series of some clips are 2 video frames shorter than the video and lag by as much,
  as the shipped MediaPipe series, which follows the video frame by frame, shows too);
* the same correlations against the shipped ``mediapipe.npz`` (an independent MediaPipe
  extraction of the same videos) as a sanity check, and its eye-in-head yaw;
* face share, eye width (px), run time (wall and CPU) of the import and per minute of video
  (wall time depends on what else runs on the machine: the load average is recorded).

Target: median correlation over clips ≥ 0.85 for yaw and roll (exit 1 when missed).
The real files are read from ``--real`` only; nothing of them is written anywhere but the
temporary corpus (deleted at the end) and the figures in the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

AXES = ("pitch", "yaw", "roll")
TARGET = {"yaw": 0.85, "roll": 0.85}
MAX_LAG = 5


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r over the frames where both are finite (NaN if fewer than 3 or no variance)."""
    n = min(len(a), len(b))
    a, b = np.asarray(a[:n], float), np.asarray(b[:n], float)
    m = np.isfinite(a) & np.isfinite(b)
    if m.sum() < 3 or np.std(a[m]) == 0 or np.std(b[m]) == 0:
        return float("nan")
    return float(np.corrcoef(a[m], b[m])[0, 1])


def best_lag(a: np.ndarray, b: np.ndarray, max_lag: int = MAX_LAG) -> int:
    """Shift ``k`` (frames) maximising corr(a[t + k], b[t]) for |k| ≤ max_lag."""
    scores = {}
    for k in range(-max_lag, max_lag + 1):
        scores[k] = pearson(a[k:], b) if k >= 0 else pearson(a, b[-k:])
    return max(scores, key=lambda k: -np.inf if np.isnan(scores[k]) else scores[k])


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (ffmpeg) so far."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def compare(ours: np.ndarray, ref: np.ndarray) -> dict:
    n = min(len(ours), len(ref))
    a, b = ours[:n], ref[:n]
    out = {"frames": n}
    for k, axis in enumerate(AXES):
        out[axis] = {
            "r": round(pearson(a[:, k], b[:, k]), 4),
            "std_ratio": round(float(np.nanstd(a[:, k]) / max(np.nanstd(b[:, k]), 1e-9)), 3),
            "mean_offset_deg": round(float(np.nanmean(a[:, k]) - np.nanmean(b[:, k])), 2),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", required=True, help="the real-data folder (with load_real.py and head_gaze/)")
    ap.add_argument("--json", default="scripts/results/video_import.json", help="write the results here")
    ap.add_argument("--eye-calibration", default="center", choices=("center", "camera"))
    args = ap.parse_args(argv)

    real = Path(args.real)
    if not (real / "load_real.py").exists():
        print(f"error: {real} has no load_real.py (expected the real-data folder)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(real))
    import load_real as R

    from stygaze.data.video import VideoImportConfig, import_video, mediapipe_version
    from stygaze.motion import Motion

    clips = sorted(d for d in (real / "head_gaze").glob("*/*") if (d / "video.mp4").exists() and (d / "pose_3dmm.npz").exists())
    if not clips:
        print(f"error: no clip with video.mp4 and pose_3dmm.npz under {real / 'head_gaze'}", file=sys.stderr)
        return 2
    config = VideoImportConfig(eye_calibration=args.eye_calibration)
    rows = []
    with tempfile.TemporaryDirectory(prefix="stygaze-validate-") as tmp:
        for d in clips:
            audio = d / "audio.wav" if (d / "audio.wav").exists() else None
            t0, c0 = time.perf_counter(), cpu_seconds()
            result = import_video(d / "video.mp4", Path(tmp) / "corpus", name=d.name, audio=audio, config=config)
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            motion = Motion.load(result.path / "motion.npz")
            z3 = np.load(d / "pose_3dmm.npz", allow_pickle=False)
            ref = R.to_25fps(z3["motion"][:, :3].astype(float), float(z3["fps"]))
            ours = motion.data[:, :3].astype(float)
            row = {
                "clip": f"{d.parent.name}/{d.name}",
                "video_seconds": round(result.video_frames / float(z3["fps"]), 2),
                "face_share": round(result.face_share, 4),
                "eye_width_px": round(result.eye_width_px, 1),
                "multi_face_frames": result.multi_face_frames,
                "import_seconds": round(wall, 2),
                "import_cpu_seconds": round(cpu, 2),
                "vs_3dmm": compare(ours, ref),
                "yaw_best_lag_frames": best_lag(ours[:, 1], ref[:, 1]),
            }
            lag = row["yaw_best_lag_frames"]
            shifted = (ours[lag:], ref) if lag >= 0 else (ours, ref[-lag:])
            row["r_at_best_lag"] = {a: round(pearson(shifted[0][:, k], shifted[1][:, k]), 4) for k, a in enumerate(AXES)}
            row["seconds_per_video_minute"] = round(wall / (row["video_seconds"] / 60.0), 2)
            if (d / "mediapipe.npz").exists():
                zm = np.load(d / "mediapipe.npz", allow_pickle=False)
                mp = R.to_25fps(zm["motion"].astype(float), float(zm["fps"]))
                row["vs_shipped_mediapipe"] = compare(ours, mp[:, :3])
                eyes = motion.data[:, 3:].astype(float)
                row["vs_shipped_mediapipe"]["l_eye_yaw_r"] = round(pearson(eyes[:, 1], mp[:, 4]), 4)
                row["vs_shipped_mediapipe"]["r_eye_yaw_r"] = round(pearson(eyes[:, 3], mp[:, 6]), 4)
            rows.append(row)
            v = row["vs_3dmm"]
            print(
                f"{row['clip']:34s} r pitch/yaw/roll {v['pitch']['r']:.3f} {v['yaw']['r']:.3f} {v['roll']['r']:.3f}"
                f"  lag {row['yaw_best_lag_frames']:+d}  face {100 * row['face_share']:.1f} %  eye {row['eye_width_px']:.0f} px"
                f"  {wall:.1f} s ({row['seconds_per_video_minute']:.1f} s/min)",
                flush=True,
            )
    median = {axis: round(float(np.nanmedian([r["vs_3dmm"][axis]["r"] for r in rows])), 4) for axis in AXES}
    median_lag = {axis: round(float(np.nanmedian([r["r_at_best_lag"][axis] for r in rows])), 4) for axis in AXES}
    median_mp = {
        axis: round(float(np.nanmedian([r["vs_shipped_mediapipe"][axis]["r"] for r in rows if "vs_shipped_mediapipe" in r])), 4)
        for axis in AXES
    }
    total_min = sum(r["video_seconds"] for r in rows) / 60.0
    total_s = sum(r["import_seconds"] for r in rows)
    total_cpu = sum(r["import_cpu_seconds"] for r in rows)
    passed = all(median[a] >= TARGET[a] for a in TARGET)
    doc = {
        "what": "stygaze data import-video head pose vs the 3DMM head pose shipped with real talking-head clips (Pearson r per axis at 25 fps)",
        "clips": rows,
        "median_r_vs_3dmm": median,
        "median_r_vs_3dmm_at_best_lag": median_lag,
        "median_r_vs_shipped_mediapipe": median_mp,
        "target": {f"median_r_{a}": v for a, v in TARGET.items()},
        "pass": passed,
        "seconds_per_video_minute": round(total_s / total_min, 2),
        "cpu_seconds_per_video_minute": round(total_cpu / total_min, 2),
        "settings": {"eye_calibration": args.eye_calibration},
        "environment": {
            "mediapipe": mediapipe_version(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "load_average_1min": round(os.getloadavg()[0], 2),
        },
    }
    print(
        f"median r vs 3DMM: pitch {median['pitch']:.3f}, yaw {median['yaw']:.3f}, roll {median['roll']:.3f} "
        f"(target yaw, roll ≥ 0.85: {'pass' if passed else 'FAIL'}); vs shipped MediaPipe: "
        f"{median_mp['pitch']:.3f} / {median_mp['yaw']:.3f} / {median_mp['roll']:.3f}; "
        f"{doc['seconds_per_video_minute']:.1f} s per minute of video"
    )
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
