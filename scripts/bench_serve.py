"""Load test of ``stygaze serve``: many clients streaming speech at real-time pace.

Starts the server as a subprocess (the CLI, built-in model unless ``--model``), then runs
``--clients`` WebSocket clients in this process, each streaming ``--seconds`` of speech
(the example clips, concatenated and rotated per client) in ``--chunk-ms`` int16 chunks at
the audio's own pace, half asking for JSON frames and half for binary. During the run,
disturbing clients connect too: a garbage handshake, garbage audio, an oversized message,
and a client that vanishes mid-stream (TCP abort). ``--waves`` repeats the whole load to
check that memory does not grow from one wave to the next.

Checks (exit code 1 if any fails):

* every client receives every frame (``round(seconds * 25)``, in order, ``done`` at the end);
* no error on any good client; each disturbing client gets its error (or is dropped);
* p99 of the server-side delay "audio that ends frame i received → frame i sent" ≤ the
  model's latency + 100 ms;
* server memory (RSS) flat: growth from the first quarter of the run to its end, and from
  wave to wave, below ``--rss-slack-mb``.

    python scripts/bench_serve.py                       # 20 clients x 60 s
    python scripts/bench_serve.py --clients 4 --seconds 10 --waves 1   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HOP = 640  # 16 kHz samples per motion frame


def speech(seconds: float) -> np.ndarray:
    """``seconds`` of the example speech (talk.wav, clip_a, clip_b, looped) at 16 kHz."""
    from stygaze.audio import load_audio

    parts = [load_audio(ROOT / p, normalize=False) for p in ("examples/talk.wav", "examples/audio/clip_a.wav", "examples/audio/clip_b.wav")]
    x = np.concatenate(parts)
    n = int(round(seconds * 16000))
    return np.resize(x, n).astype(np.float32)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        f = fh.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


async def good_client(url: str, x: np.ndarray, chunk: int, output: str, seed: int, start_at: float) -> dict:
    from stygaze.serve.client import StreamClient, concat_batches

    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    sent_at: list[float] = []
    batches = []
    result = {"ok": False, "error": None}
    try:
        async with StreamClient.connect(url, sample_rate=16000, sample_format="int16", output=output, seed=seed) as c:
            async def reader():
                async for b in c.frames():
                    batches.append(b)

            task = asyncio.create_task(reader())
            t0 = time.perf_counter()
            for k, i in enumerate(range(0, len(x), chunk)):
                delay = t0 + k * chunk / 16000 - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent_at.append(time.perf_counter())
                await c.send_audio(x[i : i + chunk])
                if task.done():
                    break
            await c.end()
            await task
            motion = concat_batches(batches, c.fps)
            latency_ms = c.ready["latency_ms"]
            result.update(ok=True, frames=len(motion), done=c.done, latency_ms=latency_ms)
            # client side: chunk holding the end of frame i sent -> frame i received
            delays = []
            for start, count, t_recv in c.received_at:
                for i in range(start, start + count):
                    k = min(-(-((i + 1) * HOP) // chunk) - 1, len(sent_at) - 1)
                    delays.append((t_recv - sent_at[k]) * 1000)
            result["client_delay_ms"] = np.asarray(delays)
    except Exception as exc:  # noqa: BLE001 - reported, counted as a failure
        result["error"] = f"{type(exc).__name__}: {exc}"
    return result


async def disturbers(url: str, x: np.ndarray, at: float) -> dict:
    """Clients that misbehave; each must get its error (or be dropped) without harming the others."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    await asyncio.sleep(max(0.0, at - time.perf_counter()))
    out = {}

    async def expect_close(ws):
        msgs = []
        try:
            while True:
                msgs.append(await asyncio.wait_for(ws.recv(), 30))
        except ConnectionClosed as exc:
            err = [json.loads(m)["code"] for m in msgs if isinstance(m, str) and '"error"' in m]
            return (err[-1] if err else None), (exc.rcvd.code if exc.rcvd else None)

    async with connect(url) as ws:
        await ws.send("garbage, not JSON")
        out["garbage_handshake"] = await expect_close(ws)
    async with connect(url) as ws:
        await ws.send(json.dumps({"type": "start", "format": "int16"}))
        await ws.recv()
        await ws.send(os.urandom(3201))  # odd byte count: not int16 samples
        out["garbage_audio"] = await expect_close(ws)
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start"}))
        await ws.recv()
        await ws.send(b"\x00" * (4 << 20))
        out["oversized"] = await expect_close(ws)
    ws = await connect(url)
    await ws.send(json.dumps({"type": "start", "format": "float32"}))
    await ws.recv()
    for k in range(50):  # 5 s of speech at real-time pace, then gone without a close frame
        await ws.send(x[k * 1600 : (k + 1) * 1600].tobytes())
        await asyncio.sleep(0.1)
    ws.transport.abort()
    out["vanished"] = ("aborted", None)
    return out


async def wave(url: str, args, x: np.ndarray, wave_no: int) -> tuple[list[dict], dict]:
    chunk = int(round(16000 * args.chunk_ms / 1000))
    t0 = time.perf_counter() + 0.5
    rng = np.random.default_rng(wave_no)
    starts = t0 + rng.uniform(0, 2.0, args.clients)  # clients join within 2 s
    tasks = [good_client(url, np.roll(x, 16000 * 3 * i), chunk, "json" if i % 2 else "binary", i, float(starts[i]))
             for i in range(args.clients)]
    dist = disturbers(url, x, t0 + min(10.0, args.seconds / 4))
    *results, disturbed = await asyncio.gather(*tasks, dist)
    return results, disturbed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60.0, help="speech per client")
    p.add_argument("--chunk-ms", type=float, default=100.0, help="audio per message")
    p.add_argument("--waves", type=int, default=2, help="run the whole load this many times (memory check across waves)")
    p.add_argument("--model", help="model folder (default: the built-in model)")
    p.add_argument("--workers", type=int, default=2, help="server model threads")
    p.add_argument("--rss-slack-mb", type=float, default=10.0)
    p.add_argument("--json", help="write the numbers here")
    args = p.parse_args()

    load_before = os.getloadavg()
    cmd = [sys.executable, "-m", "stygaze", "serve", "--port", "0", "--max-clients", str(args.clients + 8),
           "--workers", str(args.workers), "--idle-timeout", "30"]
    if args.model:
        cmd += ["--model", args.model]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    m = re.search(r"ws://[\d.]+:(\d+)", line)
    if not m:
        print(f"server did not start: {line!r} {proc.stderr.read()[-2000:]}", file=sys.stderr)
        return 1
    port = int(m.group(1))
    url, http = f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    x = speech(args.seconds)
    rss_samples: list[tuple[float, float]] = []
    stop = False

    async def sample_rss():
        t0 = time.perf_counter()
        while not stop:
            rss_samples.append((time.perf_counter() - t0, rss_mb(proc.pid)))
            await asyncio.sleep(1.0)

    async def run_all():
        nonlocal stop
        sampler = asyncio.create_task(sample_rss())
        waves = []
        for w in range(args.waves):
            t_start = time.perf_counter()
            cpu0 = cpu_s(proc.pid)
            results, disturbed = await wave(url, args, x, w)
            waves.append({"results": results, "disturbed": disturbed, "wall_s": time.perf_counter() - t_start,
                          "server_cpu_s": cpu_s(proc.pid) - cpu0, "rss_end_mb": rss_mb(proc.pid)})
        stop = True
        await sampler
        return waves

    rss_start = rss_mb(proc.pid)
    t_run = time.perf_counter()
    try:
        waves = asyncio.run(run_all())
        stats = get_json(http + "/stats")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    run_s = time.perf_counter() - t_run
    load_after = os.getloadavg()

    expect_frames = int(round(args.seconds * 25))
    failures = []
    for w, wv in enumerate(waves):
        for i, r in enumerate(wv["results"]):
            if not r["ok"]:
                failures.append(f"wave {w} client {i}: {r['error']}")
            elif r["frames"] != expect_frames or r["done"] != {"type": "done", "frames": expect_frames}:
                failures.append(f"wave {w} client {i}: {r['frames']} frames, expected {expect_frames}")
        d = wv["disturbed"]
        if d["garbage_handshake"][0] != "bad_handshake" or d["garbage_audio"][0] != "bad_audio" or d["oversized"][1] != 1009:
            failures.append(f"wave {w}: disturbing clients were not refused as expected: {d}")
    latency_ms = next((r["latency_ms"] for wv in waves for r in wv["results"] if r["ok"]), float("nan"))
    delay = stats["delay_ms"]
    if delay["p99"] is None or delay["p99"] > latency_ms + 100:
        failures.append(f"p99 delay {delay['p99']} ms > latency {latency_ms} + 100 ms")
    rss = np.array([v for _, v in rss_samples])
    quarter = rss[: max(1, len(rss) // (4 * args.waves))]
    growth_run = float(rss[-1] - quarter.max()) if len(rss) else float("nan")
    growth_waves = float(waves[-1]["rss_end_mb"] - waves[0]["rss_end_mb"]) if len(waves) > 1 else 0.0
    if growth_run > args.rss_slack_mb or growth_waves > args.rss_slack_mb:
        failures.append(f"server RSS grew: {growth_run:.1f} MB over the run, {growth_waves:.1f} MB between waves")
    cdelay = np.concatenate([r["client_delay_ms"] for wv in waves for r in wv["results"] if r["ok"]] or [np.zeros(1)])

    report = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) or "bench_serve.py",
        "clients": args.clients, "seconds": args.seconds, "chunk_ms": args.chunk_ms, "waves": args.waves,
        "frames_per_client": expect_frames,
        "good_streams_ok": sum(r["ok"] and r["frames"] == expect_frames for wv in waves for r in wv["results"]),
        "good_streams": args.clients * args.waves,
        "model_latency_ms": latency_ms,
        "server_delay_ms": delay,
        "server_compute_ms": stats["compute_ms"],
        "server_step_ms": stats.get("step_ms"),
        "server_loop_lag_ms": stats.get("loop_lag_ms"),
        "client_process_cpu_s": round(time.process_time(), 1),
        "client_delay_ms": {"p50": round(float(np.percentile(cdelay, 50)), 1), "p99": round(float(np.percentile(cdelay, 99)), 1),
                            "max": round(float(cdelay.max()), 1)},
        "server_errors": stats["errors"],
        "disturbed": [wv["disturbed"] for wv in waves],
        "rss_mb": {"before_clients": round(rss_start, 1), "min": round(float(rss.min()), 1), "max": round(float(rss.max()), 1),
                   "end": round(float(rss[-1]), 1), "growth_over_run": round(growth_run, 1),
                   "growth_between_waves": round(growth_waves, 1), "per_wave_end": [round(wv["rss_end_mb"], 1) for wv in waves]},
        "server_cpu_s_per_wave": [round(wv["server_cpu_s"], 1) for wv in waves],
        # cores the server used during a wave, and what real time needs (its CPU spread over `seconds`)
        "server_cores_used": [round(wv["server_cpu_s"] / wv["wall_s"], 2) for wv in waves],
        "server_cores_needed_for_real_time": [round(wv["server_cpu_s"] / args.seconds, 2) for wv in waves],
        "wall_s": round(run_s, 1),
        "loadavg_before": [round(v, 2) for v in load_before], "loadavg_after": [round(v, 2) for v in load_after],
        "cpus": os.cpu_count(),
        "failures": failures,
    }
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
