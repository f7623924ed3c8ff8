"""Rendering speed of the procedural head: frames per second by image size.

Measures the render loop alone (one reused GL context, node poses updated per frame,
pixels read back to numpy), and the full ``render_video`` path (render + H.264 encode
through the ffmpeg pipe), on whatever GL platform :func:`ensure_gl_platform` picks
(EGL on a GPU, or Mesa llvmpipe on a CPU-only machine; OSMesa as the fallback).

    .venv/bin/python eval/bench_render.py --sizes 256 512 --frames 100

Prints one line per measurement and a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stygaze.motion import Motion  # noqa: E402


def synthetic_motion(T: int, seed: int = 0) -> Motion:
    rng = np.random.default_rng(seed)
    t = np.arange(T) / 25.0
    d = np.zeros((T, 7), np.float32)
    d[:, 0] = 6 * np.sin(2 * np.pi * 0.4 * t)
    d[:, 1] = 20 * np.sin(2 * np.pi * 0.2 * t)
    d[:, 2] = 4 * np.sin(2 * np.pi * 0.3 * t)
    eye = np.cumsum(rng.normal(0, 2, (T, 2)), axis=0).clip(-25, 25)
    d[:, [3, 5]] = eye[:, :1]
    d[:, [4, 6]] = eye[:, 1:]
    blink = (np.sin(2 * np.pi * 0.3 * t) > 0.97).astype(np.float32)
    return Motion(d, blink=blink)


def bench_loop(size: int, frames: int, head: str = "procedural") -> tuple[float, str]:
    from stygaze.render.backend import SceneRenderer
    from stygaze.render.config import RenderConfig
    from stygaze.render.video import make_head

    m = synthetic_motion(frames)
    cfg = RenderConfig(size=size)
    model = make_head(head, config=cfg)
    with SceneRenderer(model, cfg) as r:
        geoms = list(model.frames(m))
        r.render(geoms[0])  # warm-up: shader compile, buffer upload
        t0 = time.perf_counter()
        for g in geoms:
            r.render(g)
        dt = time.perf_counter() - t0
        plat = r.platform
    return frames / dt, plat


def bench_video(size: int, frames: int) -> float:
    from stygaze.render.video import render_video

    m = synthetic_motion(frames)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        render_video(m, Path(tmp) / "b.mp4", size=size, progress=False)
        return frames / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--no-video", action="store_true", help="skip the render_video (encode) measurement")
    args = ap.parse_args()
    rows = []
    for size in args.sizes:
        fps, plat = bench_loop(size, args.frames)
        vfps = float("nan") if args.no_video else bench_video(size, args.frames)
        rows.append((size, fps, vfps, plat))
        print(f"size={size} platform={plat} render_fps={fps:.1f} video_fps={vfps:.1f}", flush=True)
    from OpenGL import GL  # platform already chosen by the renderer

    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average {load:.1f}")
    print("\n| size | platform | render loop (fps) | render_video incl. H.264 (fps) |")
    print("|---|---|---|---|")
    for size, fps, vfps, plat in rows:
        print(f"| {size}² | {plat} | {fps:.1f} | {vfps:.1f} |")
    del GL
    return 0


if __name__ == "__main__":
    sys.exit(main())
