"""Stream a speech file to a running `stygaze serve` and print the motion frames as they arrive.

    stygaze serve &                                   # in another terminal
    python examples/stream_client.py examples/talk.wav --realtime -o talk.stream.npz

With --realtime the audio goes out at its own pace (as from a microphone), so the printed
delay is what a live application sees: the model's latency (about 1.2 s for the built-in
model) plus the server's processing time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import numpy as np


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("audio", help="speech file (wav, flac, mp3, ...)")
    p.add_argument("--url", default="ws://127.0.0.1:8765", help="the server")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--style", help="server-side style name (name:NAME) or a local .npz (style vector or motion clip)")
    p.add_argument("--output", choices=("json", "binary"), default="binary", help="frame encoding")
    p.add_argument("--chunk-ms", type=float, default=100.0, help="audio per message")
    p.add_argument("--realtime", action="store_true", help="send the audio at its own pace")
    p.add_argument("-o", "--out", help="save the received motion here (.npz)")
    args = p.parse_args()

    from stygaze.audio import read_audio
    from stygaze.serve.client import stream_samples

    samples, sr = read_audio(args.audio)
    samples = samples.mean(axis=1) if samples.ndim == 2 else samples
    def show(batch, client) -> None:
        now = time.perf_counter() - client.started_at
        last = batch.start + len(batch) - 1
        audio_t = (last + 1) / batch.fps  # when the audio of the last frame ended, in stream time
        head = batch.motion[-1, :3]
        extra = ""
        if batch.blink is not None:
            extra += f"  blink {batch.blink[-1]:.2f}"
        if batch.jaw is not None:
            extra += f"  jaw {batch.jaw[-1, 0]:.3f}"
        delay = f"  delay {1000 * (now - audio_t):6.0f} ms" if args.realtime else ""
        print(f"frames {batch.start:5d}-{last:5d}  at {now:6.2f} s{delay}  head pitch/yaw/roll "
              f"{head[0]:6.1f} {head[1]:6.1f} {head[2]:6.1f}{extra}", flush=True)

    style = args.style
    motion, client = asyncio.run(stream_samples(
        args.url, np.asarray(samples, np.float32), int(sr), chunk_ms=args.chunk_ms, realtime=args.realtime,
        on_batch=show, seed=args.seed, style=style, output=args.output,
    ))
    print(f"done: {len(motion)} frames ({motion.duration:.2f} s), model latency {client.ready['latency_ms']:.0f} ms")
    if args.out:
        print(motion.save(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
