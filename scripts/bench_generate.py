"""Speed and memory of StyGazeTalk generation (docs/performance.md).

    python scripts/bench_generate.py --only cold        # start-up: whole processes, ~1 min
    python scripts/bench_generate.py [--model PATH] [--threads 2] [--json out.json]

Every measurement runs in fresh processes (a new interpreter each, so start-up and peak RSS
are that measurement's own); run it from the repository root or with stygaze installed.

- ``cold``: a whole ``stygaze generate --audio X -o Y`` process on 60 s of speech (the shipped
  ``examples/talk.wav`` three times over) against ``python -c "import torch"``, and
  ``stygaze --help``; ``--repeats`` rounds after one warm-up round, the three commands
  alternating (their order rotates each round) so that a change in machine load hits all of
  them alike. Reported: medians (and minima) of the wall-clock times and the processes' CPU
  times, the ratio generate / import torch (target ≤ 1.8), ``--help`` (target ≤ 0.5 s on an
  idle machine), the load average before and after, and where one generate process spends
  its import time (``-X importtime``, by package).
  The processes run with the environment as it is (torch picks its own thread count), as a
  user's shell would.
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
  parameters, random weights; the chunked 25 fps feature path users hit) on 60 s; needs
  the ``[wav2vec2]`` extra (skipped without it).
- ``saccades``: the saccade stage alone on 60 s and 60 min of generated motion.
- ``beat_align``: the beat alignment alone (speech beats + retiming) on 60 s and 60 min of
  generated motion, and one whole ``generate`` call on 60 s with and without it (best of 3,
  alternating).

The audio of the in-process measurements is synthetic speech-like noise (syllable-rate
amplitude modulation, seeded).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEASUREMENTS = ("cold", "rtf", "stream", "rss10", "rss60", "w2v", "saccades", "beat_align")
RATIO_TARGET = 1.8  # generate process / `import torch`
HELP_TARGET_S = 0.5


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


def child_env(**extra: str) -> dict[str, str]:
    """This environment, with the checkout first on PYTHONPATH (so an uninstalled clone works too)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return env


# --------------------------------------------------------------------------------------
# cold start: whole processes
# --------------------------------------------------------------------------------------
def speech_60s(path: Path) -> Path:
    """60 s of speech: the shipped 20 s example clip three times (16 kHz mono wav)."""
    import soundfile as sf

    audio, sr = sf.read(str(ROOT / "examples" / "talk.wav"), dtype="float32")
    reps = int(np.ceil(60.0 * sr / len(audio)))
    sf.write(str(path), np.tile(audio, reps)[: 60 * sr], sr, subtype="PCM_16")
    return path


def wall(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return dt


def import_costs(cmd: list[str], env: dict[str, str], top: int = 8) -> list[dict]:
    """Where one process's import time goes (``-X importtime``), by top-level package.

    A package's time is the cumulative time of its outermost imports (those not made by a
    module of the same package), so ``torch`` includes what torch imports itself and a
    package imported from inside another one counts where it is imported first;
    ``stygaze`` counts the package's own modules only (their self time).
    """
    proc = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True, env=env, cwd=ROOT)
    rows = []  # (depth, module, self µs, cumulative µs), in the order printed (children before parents)
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append(((len(m.group(3)) - 1) // 2, m.group(4), int(m.group(1)), int(m.group(2))))
    totals: dict[str, float] = {}
    for i, (depth, name, own, cum) in enumerate(rows):
        pkg = name.split(".")[0]
        if pkg == "stygaze":
            totals[pkg] = totals.get(pkg, 0.0) + own / 1e6
            continue
        parent = next((r[1] for r in rows[i + 1 :] if r[0] == depth - 1), None) if depth else None
        if parent is None or parent.split(".")[0] != pkg:
            totals[pkg] = totals.get(pkg, 0.0) + cum / 1e6
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return [{"package": k, "seconds": v} for k, v in ranked]


def run_timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """``(wall s, CPU s)`` of one process run to completion (CPU: user + system of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    dt = wall(cmd, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dt, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure_cold(repeats: int) -> dict:
    env = child_env()
    with tempfile.TemporaryDirectory() as tmp:
        wav = speech_60s(Path(tmp) / "speech60.wav")
        cmds = {
            "import_torch": [sys.executable, "-c", "import torch"],
            "generate": [sys.executable, "-m", "stygaze", "generate", "--audio", str(wav), "-o", str(Path(tmp) / "out.npz")],
            "help": [sys.executable, "-m", "stygaze", "--help"],
        }
        load_before = os.getloadavg()
        names = list(cmds)
        times: dict[str, list[float]] = {n: [] for n in names}
        cpu: dict[str, list[float]] = {n: [] for n in names}
        for r in range(repeats + 1):  # round 0 warms the page cache and is not counted
            for n in names[r % 3:] + names[: r % 3]:
                dt, c = run_timed(cmds[n], env)
                if r:
                    times[n].append(dt)
                    cpu[n].append(c)
        load_after = os.getloadavg()
        imports = import_costs(cmds["generate"], env)
    med = {n: statistics.median(v) for n, v in times.items()}
    ratio = med["generate"] / med["import_torch"]
    return {
        "repeats": repeats,
        "median_s": med,
        "min_s": {n: min(v) for n, v in times.items()},
        "median_cpu_s": {n: statistics.median(v) for n, v in cpu.items()},
        "all_s": times,
        "ratio_generate_to_import_torch": ratio,
        "ratio_help_to_import_torch": med["help"] / med["import_torch"],
        "ratio_target": RATIO_TARGET,
        "ratio_ok": ratio <= RATIO_TARGET,
        "help_target_s": HELP_TARGET_S,
        "help_ok": med["help"] <= HELP_TARGET_S,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "cpus": os.cpu_count(),
        "generate_import_costs": imports,
    }


def measure(name: str, model: str | None, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    if name == "w2v":
        try:
            from transformers import Wav2Vec2Config, Wav2Vec2Model
        except ImportError:
            return {"skipped": "needs the [wav2vec2] extra (transformers)"}
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
        from stygaze.features.voice import voice_activity
        from stygaze.stygazetalk.avatar import apply_avatar_stages

        x = speechlike(60.0)
        m = pipe.generate(x, raw=True)
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
    if name == "beat_align":  # speech beats + retiming alone, and a whole generate call with and without them
        from stygaze.features.rhythm import rhythmic_beats
        from stygaze.stygazetalk.beat_align import align_to_beats

        x = speechlike(60.0)
        m = pipe.generate(x, raw=True)
        align_to_beats(m.data[:250], rhythmic_beats(x[:160000])[0])  # warm-up: scipy's imports
        out = {}
        for label, data, audio in (("60s", m.data, x), ("60min", np.tile(m.data, (60, 1)), np.tile(x, 60))):
            t0 = time.perf_counter()
            moved = align_to_beats(data, rhythmic_beats(audio)[0])[1]
            out[f"seconds_for_{label}"] = time.perf_counter() - t0
            out[f"movement_ends_moved_{label}"] = moved
        times = {True: [], False: []}
        for _ in range(3):
            for flag in (True, False):
                t0 = time.perf_counter()
                pipe.generate(x, beat_align=flag)
                times[flag].append(time.perf_counter() - t0)
        out["generate_60s_with_s"], out["generate_60s_without_s"] = min(times[True]), min(times[False])
        out["ratio_with_to_without"] = min(times[True]) / min(times[False])
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


def print_cold(res: dict) -> None:
    med, mn, cpu = res["median_s"], res["min_s"], res["median_cpu_s"]
    print(f"cold start, {res['repeats']} alternating rounds, {res['cpus']} CPUs, load average "
          f"{res['loadavg_before'][0]:.2f} before / {res['loadavg_after'][0]:.2f} after:")
    for n, label in (("import_torch", 'python -c "import torch"'), ("generate", "stygaze generate, 60 s of speech"),
                     ("help", "stygaze --help")):
        print(f"  {label:34s} median {med[n]:6.2f} s   min {mn[n]:6.2f} s   CPU {cpu[n]:6.2f} s")
    print(f"  generate / import torch: {res['ratio_generate_to_import_torch']:.2f} "
          f"(target <= {RATIO_TARGET}: {'ok' if res['ratio_ok'] else 'missed'}); --help / import torch: "
          f"{res['ratio_help_to_import_torch']:.2f}; --help median {med['help']:.2f} s "
          f"(target <= {HELP_TARGET_S} s on an idle machine: {'ok' if res['help_ok'] else 'missed'})")
    print("  import time of one generate process by package (s): "
          + ", ".join(f"{r['package']} {r['seconds']:.2f}" for r in res["generate_import_costs"]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint folder for the in-process measurements (default: built-in)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads of the in-process measurements")
    ap.add_argument("--repeats", type=int, default=7, help="cold: counted rounds (after one warm-up round)")
    ap.add_argument("--only", nargs="*", default=list(MEASUREMENTS), choices=MEASUREMENTS, help="measurements to run")
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.model, args.threads)))
        return 0
    results = {}
    for name in args.only:
        if name == "cold":
            results[name] = measure_cold(args.repeats)
            print_cold(results[name])
            continue
        cmd = [sys.executable, __file__, "--measure", name, "--threads", str(args.threads)]
        if args.model:
            cmd += ["--model", args.model]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(OMP_NUM_THREADS=str(args.threads)), cwd=ROOT)
        if proc.returncode != 0:
            print(f"{name}: failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(name, json.dumps(results[name]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
