"""Streaming latency and per-step compute of the built-in models (the realtime model and the default).

    python scripts/bench_realtime.py [--models realtime,default] [--seconds 60] [--chunk-ms 40]
                                     [--json scripts/results/realtime_bench.json]

For each model, on one thread (torch and BLAS), with the default avatar stages on:

* **algorithmic latency** ``(N + L − 1)`` frames + 12 ms (``StyGazeTalk.latency_s``): the
  audio look-ahead of a step (``L − 1`` frames past its first frame), one step of ``N`` frames
  and the mel window's reach past the last audio frame (12 ms);
* **measured delay**: audio is pushed in ``--chunk-ms`` chunks and for every motion frame the
  script records how much audio had been pushed when the frame came out, minus the end of the
  frame's own audio, plus the 12 ms (the worst case over the clip). It is at most ``(L − 1)``
  frames + 12 ms + one chunk: a step's first frame waits for ``L − 1`` frames of look-ahead, its
  later frames less; the algorithmic figure above is the bound that also charges the step;
* **per-step compute**: the time of each ``push_frames`` call that ran a generator step (mel
  features of the new audio, the beat tracker if the model has one, the LSTM step and the
  avatar stages), median / p99 / max over the clip after a 2 s warm-up, as the CPU time of the
  calling thread (``time.thread_time``: the compute itself, everything runs on that one thread)
  and as wall time (which on a shared machine also holds the time the thread waited for a core);
* **stream = offline**: the streamed motion, blink and jaw equal ``generate(normalize=False, beat_align=False)``
  (``online_beats=True`` for a model with a beat channel: a stream tracks beats causally).

The audio is ``examples/talk.wav`` tiled to ``--seconds`` (speech, not silence). The machine's
load average is recorded with the figures (the box is shared: p99 grows with the load).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def bench(name: str, seconds: float, chunk_ms: float) -> dict:
    import torch
    from threadpoolctl import threadpool_limits

    from stygaze.audio import HOP, SAMPLE_RATE, load_audio
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    pipe = StyGazeTalk.from_pretrained(None if name == "default" else name)
    c = pipe.config
    x = load_audio(ROOT / "examples" / "talk.wav", normalize=False)
    x = np.resize(x, int(seconds * SAMPLE_RATE)).astype(np.float32)
    x = x / max(float(x.std()), 1e-8)
    chunk = int(round(chunk_ms / 1000 * SAMPLE_RATE))
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        st = pipe.stream(normalize=False, seed=0)
        times, cpu, delays, outs = [], [], [], []
        pushed = 0
        warm = int(2.0 * SAMPLE_RATE)
        for i in range(0, len(x), chunk):
            part = x[i : i + chunk]
            before = st._steps
            t0, c0 = time.perf_counter(), time.thread_time()
            f = st.push_frames(part)
            dt, dc = time.perf_counter() - t0, time.thread_time() - c0
            pushed += len(part)
            if st._steps > before and pushed > warm:
                times.append(dt)
                cpu.append(dc)
            first = st.frames_out - len(f)
            for k in range(len(f)):  # frame j's audio ends at (j + 1)·HOP samples
                delays.append((pushed - (first + k + 1) * HOP) / SAMPLE_RATE)
            outs.append(f)
        outs.append(st.flush_frames())
        offline = pipe.generate(x, normalize=False, seed=0, online_beats=bool(c.beat_feature), beat_align=False)  # a beat model streams its causal beats
    motion = np.concatenate([o.motion for o in outs])
    equal = bool(
        np.allclose(motion, offline.data, atol=1e-4)
        and np.allclose(np.concatenate([o.blink for o in outs]), offline.blink, atol=1e-6)
        and np.allclose(np.concatenate([o.jaw for o in outs]), offline.extras["jaw"], atol=1e-6)
    )
    ms = np.asarray(times) * 1000
    cms = np.asarray(cpu) * 1000
    return {
        "M": c.M, "N": c.N, "L": c.lookahead, "beat_channel": bool(c.beat_feature),
        "latency_frames": pipe.latency_frames,
        "algorithmic_latency_ms": pipe.latency_s * 1000,
        "measured_worst_delay_ms": float(np.max(delays) * 1000 + 12.0),  # + the mel window's look-ahead past the frame
        "measured_delay_note": "max over frames of (audio pushed when the frame came out − end of the frame's audio) + 12 ms",
        "chunk_ms": chunk_ms,
        "steps_timed": int(len(ms)),
        "step_cpu_ms_median": float(np.median(cms)),
        "step_cpu_ms_p99": float(np.percentile(cms, 99)),
        "step_cpu_ms_max": float(cms.max()),
        "step_wall_ms_median": float(np.median(ms)),
        "step_wall_ms_p99": float(np.percentile(ms, 99)),
        "step_wall_ms_max": float(ms.max()),
        "stream_equals_offline": equal,
        "seconds_of_audio": seconds,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="realtime,default")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--chunk-ms", type=float, default=40.0, help="audio pushed per call (ms; 40 = one motion frame)")
    ap.add_argument("--json", default=str(ROOT / "scripts" / "results" / "realtime_bench.json"))
    args = ap.parse_args(argv)
    res = {"command": "python scripts/bench_realtime.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "load_average_before": os.getloadavg()[0], "cpu_count": os.cpu_count()}
    for name in args.models.split(","):
        res[name.strip()] = bench(name.strip(), args.seconds, args.chunk_ms)
        r = res[name.strip()]
        print(f"{name}: M={r['M']} N={r['N']} L={r['L']} latency {r['algorithmic_latency_ms']:.0f} ms (measured {r['measured_worst_delay_ms']:.0f} ms), "
              f"step CPU median {r['step_cpu_ms_median']:.2f} / p99 {r['step_cpu_ms_p99']:.2f} / max {r['step_cpu_ms_max']:.1f} ms, "
              f"wall {r['step_wall_ms_median']:.2f} / {r['step_wall_ms_p99']:.2f} / {r['step_wall_ms_max']:.1f} ms over {r['steps_timed']} steps, "
              f"stream == offline: {r['stream_equals_offline']}")
    res["load_average_after"] = os.getloadavg()[0]
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
