"""Batch generation throughput: files per second for many clips with --jobs 1 and --jobs 2.

    .venv/bin/python scripts/bench_batch.py                      # 100 x 10 s files, the built-in model
    .venv/bin/python scripts/bench_batch.py --files 20 --seconds 5 --jobs 1 2 4
    .venv/bin/python scripts/bench_batch.py --model runs/se64/best

Writes the clips (speech-like synthetic audio, 16 kHz) to a temporary folder and runs the
real command ``stygaze generate --audio DIR -o OUT --jobs N`` once per jobs value (a fresh
process and output folder each time). ``wall`` is what a user waits for: interpreter and
torch start-up, model load, worker start-up and all files; ``batch`` is the command's own
summary time (everything but the interpreter start); ``CPU-s`` is the user + system time
of the command and its workers, which says how much of the wall time was ours on a
shared machine (the 1-minute load average is printed too). ``--random-default`` uses a randomly initialised
model with the built-in model's architecture (``configs/default.yaml``) instead of the
shipped weights (same speed: the cost does not depend on the weight values), for when the
built-in model is not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def speechy(seconds: float, seed: int, sr: int = 16000) -> np.ndarray:
    """Voiced bursts with a wandering pitch and pauses: ``(S,)`` float32 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    f0 = 120 + 40 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = (np.sin(2 * np.pi * rng.uniform(1.5, 3.5) * t + rng.uniform(0, 6)) > -0.2).astype(np.float32)
    x = 0.3 * voiced * envelope + 0.01 * rng.standard_normal(n)
    return (x / np.abs(x).max()).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100, help="number of clips")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each clip")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="worker process counts to time")
    ap.add_argument("--model", default=None, help="checkpoint folder (default: the built-in model)")
    ap.add_argument("--random-default", action="store_true", help="random weights, configs/default.yaml architecture (see docstring)")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)

    from stygaze.audio import save_audio

    with tempfile.TemporaryDirectory(prefix="stygaze-bench-") as tmp:
        tmp = Path(tmp)
        model = args.model
        if args.random_default:
            import torch

            from stygaze.stygazetalk.generator import StyGazeTalkConfig, StyGazeTalkModel
            from stygaze.stygazetalk.train_generator import load_generator_run_config

            cfg = load_generator_run_config(Path(__file__).resolve().parents[1] / "configs" / "default.yaml")
            torch.manual_seed(0)
            StyGazeTalkModel(StyGazeTalkConfig(cfg.generator, cfg.style_encoder)).save(tmp / "model")
            model = str(tmp / "model")
        audio_dir = tmp / "audio"
        audio_dir.mkdir()
        for i in range(args.files):
            save_audio(audio_dir / f"clip{i:04d}.wav", speechy(args.seconds, i))
        rows = []
        for jobs in args.jobs:
            out = tmp / f"out_jobs{jobs}"
            cmd = [sys.executable, "-m", "stygaze", "generate", "--audio", str(audio_dir), "-o", str(out), "--jobs", str(jobs)]
            if model:
                cmd += ["--model", str(model)]
            t0, ru0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its workers, once reaped
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            summary = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
            if proc.returncode != 0:
                print(f"--jobs {jobs} failed (exit {proc.returncode}): {summary}", file=sys.stderr)
                return 1
            done = len(list(out.glob("*.motion.npz")))
            batch_s = float(re.search(r" in ([0-9.]+) s ", summary).group(1))
            rows.append({"jobs": jobs, "files": done, "wall_s": round(wall, 2), "files_per_s": round(done / wall, 3),
                         "batch_s": batch_s, "batch_files_per_s": round(done / batch_s, 3), "cpu_s": round(cpu, 1)})
            print(f"--jobs {jobs}: {done} x {args.seconds:g} s files, {wall:.1f} s wall = {done / wall:.2f} files/s "
                  f"({done * args.seconds / wall:.0f} s of audio per s); batch alone (model load included, "
                  f"interpreter start excluded) {batch_s:.1f} s = {done / batch_s:.2f} files/s; {cpu:.1f} CPU-s in all")
    info = {"cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 1), "machine": platform.machine(), "python": platform.python_version(),
            "model": "random weights, configs/default.yaml architecture" if args.random_default else (args.model or "built-in")}
    print(json.dumps(info))
    if args.json:
        Path(args.json).write_text(json.dumps({"results": rows, **info}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
