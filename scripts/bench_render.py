"""Rendering speed of the procedural head: frames per second by image size.

Measures the render loop alone (one reused GL context, node poses updated per frame,
pixels read back to numpy), and the full ``render_video`` path (render + H.264 encode
through the ffmpeg pipe), on whatever GL platform :func:`ensure_gl_platform` picks
(EGL on a GPU, or Mesa llvmpipe on a CPU-only machine; OSMesa as the fallback).

    .venv/bin/python scripts/bench_render.py --frames 100
    .venv/bin/python scripts/bench_render.py --showcase docs/img/showcase.png   # the picture in README.md and docs/rendering.md

Prints one line per measurement and a Markdown table (docs/performance.md, "Rendering").
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


def bench_loop(size: int, frames: int, head: str = "procedural", msaa: bool = True) -> tuple[float, float, str]:
    """(wall-clock fps, fps per CPU-second of this process incl. Mesa's threads, GL platform)."""
    from stygaze.render.backend import SceneRenderer
    from stygaze.render.config import RenderConfig
    from stygaze.render.video import make_head

    m = synthetic_motion(frames)
    cfg = RenderConfig(size=size, msaa=msaa)
    model = make_head(head, config=cfg)
    with SceneRenderer(model, cfg) as r:
        geoms = list(model.frames(m))
        r.render(geoms[0])  # warm-up: shader compile, buffer upload
        t0, c0 = time.perf_counter(), time.process_time()
        for g in geoms:
            r.render(g)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        plat = r.platform
    return frames / dt, frames / cpu, plat


def bench_video(size: int, frames: int) -> float:
    from stygaze.render.video import render_video

    m = synthetic_motion(frames)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        render_video(m, Path(tmp) / "b.mp4", size=size, progress=False)
        return frames / (time.perf_counter() - t0)


def showcase(path: str) -> None:
    """Write the showcase picture (docs/img/showcase.png): three poses, front and three-quarter cameras (PNG)."""
    from PIL import Image

    from stygaze.render.config import RenderConfig
    from stygaze.render.video import render_frames

    rows = np.zeros((3, 7), np.float32)
    rows[1] = [0, 0, 0, 5, 22, 5, 22]  # eyes up-left (the subject's left = image right)
    rows[2] = [6, 12, 4, -4, 10, -4, 10]  # head and eyes a little to the subject's left
    blink = np.array([0.0, 0.0, 0.0], np.float32)
    m = Motion(rows, blink=blink)
    tiles = [render_frames(m.slice(0, 2), config=RenderConfig(size=320, supersample=2))]
    tiles.append(render_frames(m.slice(2, 3), config=RenderConfig(size=320, supersample=2, camera="three-quarter")))
    img = np.concatenate([f for t in tiles for f in t], axis=1)
    Image.fromarray(img).save(path, optimize=True)
    print(f"wrote {path} ({Path(path).stat().st_size / 1024:.0f} kB)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[112, 256, 512])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--no-video", action="store_true", help="skip the render_video (encode) measurement")
    ap.add_argument("--showcase", default=None, help="only write the showcase PNG (docs/img/showcase.png) to this path")
    args = ap.parse_args()
    if args.showcase:
        showcase(args.showcase)
        return 0
    rows = []
    for size in args.sizes:
        fps, cfps, plat = bench_loop(size, args.frames)
        fps_1x, cfps_1x, _ = bench_loop(size, args.frames, msaa=False)
        vfps = float("nan") if args.no_video else bench_video(size, args.frames)
        rows.append((size, fps, cfps, fps_1x, cfps_1x, vfps, plat))
        print(f"size={size} platform={plat} render_fps={fps:.1f} (per_cpu_s={cfps:.1f}) "
              f"no_msaa={fps_1x:.1f} (per_cpu_s={cfps_1x:.1f}) video_fps={vfps:.1f}", flush=True)
    from OpenGL import GL  # platform already chosen by the renderer

    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average {load:.1f}")
    print("\nfps = wall clock; (…/CPU-s) = frames per CPU-second used by this process (all its threads),")
    print("which does not depend on what else runs on the machine.\n")
    print("| size | platform | render loop, MSAA | render loop, msaa=False | render_video incl. H.264 |")
    print("|---|---|---|---|---|")
    for size, fps, cfps, fps_1x, cfps_1x, vfps, plat in rows:
        print(f"| {size}² | {plat} | {fps:.1f} fps ({cfps:.1f}/CPU-s) | {fps_1x:.1f} fps ({cfps_1x:.1f}/CPU-s) | {vfps:.1f} fps |")
    del GL
    return 0


if __name__ == "__main__":
    sys.exit(main())
