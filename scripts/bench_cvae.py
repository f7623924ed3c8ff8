"""Speed of gaze → head generation: K head samples for a 60 s gaze track on CPU.

    .venv/bin/python scripts/bench_cvae.py                 # built-in checkpoint, K = 10, 60 s, 1 thread
    .venv/bin/python scripts/bench_cvae.py --samples 1 --seconds 600 --threads 2

Times :func:`stygaze.cvae.pipeline.generate_heads` end to end (world gaze, NaN bridging, the
autoregressive cVAE, eye-in-head recomputation), after one warm-up call; prints the median and
minimum of ``--repeat`` runs as JSON, with the process CPU time (the honest figure on a shared
machine) and the 1-minute load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=None, help="cVAE checkpoint folder (default: built-in)")
    ap.add_argument("--samples", type=int, default=10, help="K")
    ap.add_argument("--seconds", type=float, default=60.0, help="gaze length in seconds (25 fps)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    import torch

    from stygaze.cvae.model import HeadCVAE
    from stygaze.motion import Motion
    from stygaze.cvae.pipeline import generate_heads

    torch.set_num_threads(args.threads)
    T = int(round(args.seconds * 25))
    rng = np.random.default_rng(0)
    data = np.zeros((T, 7), np.float32)  # piecewise-constant gaze targets (fixations + saccades)
    data[:, 3:7] = np.repeat(rng.normal(0, 12, (T // 10 + 1, 4)), 10, axis=0)[:T]
    gaze = Motion(data)
    model = HeadCVAE.from_pretrained(args.checkpoint)
    generate_heads(gaze, model=model, num_samples=args.samples, seed=0)  # warm-up
    times, cpu = [], []
    for i in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        generate_heads(gaze, model=model, num_samples=args.samples, seed=i)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    result = {
        "samples": args.samples,
        "seconds_of_motion": args.seconds,
        "threads": args.threads,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "median_cpu_s": statistics.median(cpu),
        "load_average_1min": os.getloadavg()[0],
        "realtime_factor": args.seconds * args.samples / statistics.median(times),
        "config": {k: getattr(model.config, k) for k in ("temporal", "use_context", "hidden", "chunk", "context")},
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
