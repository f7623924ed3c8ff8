"""Speed and memory of StyGazeTalk generation (README "Performance").

    .venv/bin/python scripts/bench_generate.py [--model PATH] [--threads 2] [--json out.json]

Every measurement runs in its own subprocess (fresh interpreter, so peak RSS is that
measurement's own):

- ``rtf``: real-time factor of one whole ``StyGazeTalk.generate`` call on 60 s of audio
  (features + autoregressive rollout + conversion to Motion), best of 3 after a warm-up;
  wall-clock and process CPU time (the latter is what an idle machine gives; on a shared,
  oversubscribed machine the wall clock is inflated by waiting for a core).
- ``stream``: per-step compute of ``MotionStream.push`` with 40 ms (one frame) chunks
  (median and p99 of the pushes that emit frames), and the end-to-end latency: algorithmic
  delay (``N + M - 1`` frames + the mel window's 12 ms look-ahead) + one step's compute.
- ``rss10`` / ``rss60``: peak resident memory (``ru_maxrss``) of generating 10 / 60 min
  of audio from an array (the input waveform itself is 38 / 230 MB of it).
- ``w2v``: cost of a wav2vec2-base-sized encoder (``Wav2Vec2Config()`` defaults, 94 M
  parameters, random weights; the chunked 25 fps feature path users hit) on 60 s.

The audio is synthetic speech-like noise (syllable-rate amplitude modulation, seeded).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Seeded speech-like float32 audio, built in 60 s blocks (no large float64 temporaries)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    out = np.empty(n, np.float32)
    block = 60 * 16000
    for a in range(0, n, block):
        t = np.arange(a, min(a + block, n), dtype=np.float64) / 16000
        env = (np.sin(2 * np.pi * 4.0 * t) > 0) * (np.sin(2 * np.pi * 0.3 * t) > -0.5)
        out[a : a + len(t)] = env * (np.sin(2 * np.pi * 140 * t) + 0.3 * rng.standard_normal(len(t)))
    return out


def measure(name: str, model: str | None, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    if name == "w2v":
        from transformers import Wav2Vec2Config, Wav2Vec2Model

        import stygaze.stygazetalk.audio_encoder as ae

        torch.manual_seed(0)
        ae.load_wav2vec2 = lambda path: Wav2Vec2Model(Wav2Vec2Config()).eval()  # random base-sized weights
        enc = ae.Wav2Vec2Encoder(64, "random-wav2vec2-base")
        x = speechlike(60.0)
        enc.features(x[:16000])
        t0 = time.perf_counter()
        f = enc.features(x)
        dt = time.perf_counter() - t0
        params = sum(p.numel() for p in enc.net.parameters())
        return {"seconds_for_60s": dt, "rtf": 60.0 / dt, "params_M": params / 1e6, "shape": list(f.shape),
                "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    pipe = StyGazeTalk.from_pretrained(model)
    if name == "rtf":
        x = speechlike(60.0)
        pipe.generate(x[:32000])
        times, cpu = [], []
        for _ in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            pipe.generate(x)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        return {"seconds_for_60s": min(times), "rtf": 60.0 / min(times), "cpu_seconds_for_60s": min(cpu),
                "rtf_cpu_time": 60.0 / min(cpu), "all": times}
    if name == "stream":
        x = speechlike(30.0)
        st = pipe.stream()
        steps = []
        for i in range(0, len(x), 640):
            t0 = time.perf_counter()
            out = st.push(x[i : i + 640])
            dt = time.perf_counter() - t0
            if len(out):
                steps.append(dt)
        st.flush()
        steps = np.array(steps) * 1000
        c = pipe.config
        algo_ms = pipe.latency_s * 1000  # (N + L - 1) frames + 12 ms
        return {"step_ms_median": float(np.median(steps)), "step_ms_p99": float(np.percentile(steps, 99)),
                "frames_per_step": c.N, "algorithmic_latency_ms": algo_ms,
                "end_to_end_latency_ms": algo_ms + float(np.percentile(steps, 99))}
    if name == "saccades":  # the avatar stages alone (gaze events, blinks, jaw), on 60 s and 60 min of generated motion
        x = speechlike(60.0)
        m = pipe.generate(x, raw=True)
        from stygaze.features.voice import voice_activity
        from stygaze.stygazetalk.avatar import apply_avatar_stages

        long = np.tile(m.data, (60, 1))
        out = {}
        for label, data, audio in (("60s", m.data, x), ("60min", long, np.tile(x, 60))):
            t0 = time.perf_counter()
            apply_avatar_stages(data, voice_activity(audio, frames=len(data)))
            out[f"seconds_for_{label}"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        pipe.generate(x)
        out["generate_60s_with_avatar_stages_s"] = time.perf_counter() - t0
        return out
    if name in ("rss10", "rss60"):
        minutes = 10 if name == "rss10" else 60
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        x = speechlike(minutes * 60.0)
        t0 = time.perf_counter()
        m = pipe.generate(x)
        dt = time.perf_counter() - t0
        return {"minutes": minutes, "frames": len(m), "seconds": dt, "rtf": minutes * 60 / dt,
                "rss_after_load_MB": base, "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    raise ValueError(name)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="*", default=["rtf", "stream", "rss10", "rss60", "w2v", "saccades"])
    ap.add_argument("--json", default=None)
    ap.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.model, args.threads)))
        return 0
    results = {}
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    for name in args.only:
        cmd = [sys.executable, __file__, "--measure", name, "--threads", str(args.threads)]
        if args.model:
            cmd += ["--model", args.model]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        if proc.returncode != 0:
            print(f"{name}: failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(name, json.dumps(results[name]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
