"""OmniHead speed and size: parameter counts, tiny-config clips/s on CPU, Swin-T on CPU and GPU.

A clip = 16 frames. Usage::

    .venv/bin/python scripts/bench_omnihead.py --threads 1

Writes ``scripts/results/omnihead_bench.json``. Timings are wall-clock medians after a warm-up
and depend on the machine's load (the CPU figures in docs/performance.md were taken on a 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1, as the shipped model was trained)")
    ap.add_argument("--batch", type=int, default=8, help="clips per batch for the tiny config")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--swin-cpu-clips", type=int, default=2, help="Swin-T clips forwarded on CPU (one at a time)")
    ap.add_argument("--out", default=str(REPO / "scripts" / "results" / "omnihead_bench.json"))
    args = ap.parse_args(argv)

    import torch

    from stygaze.omnihead.model import OmniHead
    from stygaze.omnihead.inference import sliding_window_predict
    from stygaze.omnihead.config import swin_t_config

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    res: dict = {"threads": args.threads, "torch": torch.__version__, "cpu": platform.processor() or platform.machine()}

    from stygaze.omnihead.model import load_omnihead

    tiny = OmniHead(load_omnihead().config).eval()  # the shipped tiny architecture (random weights)
    swin = OmniHead(swin_t_config()).eval()
    res["params"] = {
        "tiny_total": tiny.num_parameters(),
        "tiny_encoder": tiny.num_parameters("encoder"),
        "tiny_motion_paths": tiny.num_parameters("task_stems") if tiny.task_stems is not None else 0,
        "swin_t_total": swin.num_parameters(),
        "swin_t_encoder": swin.num_parameters("encoder"),
        "swin_t_decoder": swin.num_parameters("decoder"),
        "swin_t_heads": swin.num_parameters("heads"),
    }
    print(json.dumps(res["params"]), file=sys.stderr)

    s = tiny.config.img_size
    clips = torch.randint(0, 256, (args.batch, 16, s, s, 3), dtype=torch.uint8)
    with torch.no_grad():
        sec = timed(lambda: tiny(clips), args.repeats)
    res["tiny_cpu_clips_per_s"] = args.batch / sec
    frames = clips[0].numpy().repeat(4, axis=0)[:64]
    sec_sw = timed(lambda: sliding_window_predict(tiny, frames, batch_size=16, stride=1), 1)
    res["tiny_cpu_sliding_window_frames_per_s"] = len(frames) / sec_sw
    opt = torch.optim.AdamW(tiny.parameters(), 1e-3)
    from stygaze.omnihead.loss import omnihead_loss

    from stygaze.omnihead.loss import LossConfig

    zeros = torch.zeros(args.batch, 16, dtype=torch.long)
    tgt = {"gesture": zeros, "blink": zeros, "saccade": zeros, "gaze": torch.tensor([0.0, 0.0, 1.0]).expand(args.batch, 16, 3)}
    loss_cfg = LossConfig(aux_weight=1.0 if tiny.config.aux_probes else 0.0)

    def step():  # what one training step does: forward, every task loss, backward, AdamW
        loss = omnihead_loss(tiny.train()(clips), tgt, loss_cfg).total
        opt.zero_grad()
        loss.backward()
        opt.step()

    res["tiny_cpu_train_clips_per_s"] = args.batch / timed(step, args.repeats)
    tiny.eval()
    print(f"tiny: {res['tiny_cpu_clips_per_s']:.1f} clips/s inference, {res['tiny_cpu_train_clips_per_s']:.1f} clips/s training", file=sys.stderr)

    one = torch.randint(0, 256, (1, 16, 224, 224, 3), dtype=torch.uint8)
    with torch.no_grad():
        sec = timed(lambda: swin(one), max(1, args.swin_cpu_clips - 1))
    res["swin_t_cpu_seconds_per_clip"] = sec
    print(f"swin_t CPU: {sec:.2f} s/clip", file=sys.stderr)

    if torch.cuda.is_available():
        dev = torch.device("cuda")
        swin_gpu = swin.to(dev)
        batch = torch.randint(0, 256, (8, 16, 224, 224, 3), dtype=torch.uint8, device=dev)

        def run():
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
                swin_gpu(batch)
            torch.cuda.synchronize()

        res["swin_t_gpu_clips_per_s"] = 8 / timed(run, args.repeats)
        res["gpu"] = torch.cuda.get_device_name(0)
        print(f"swin_t GPU: {res['swin_t_gpu_clips_per_s']:.1f} clips/s", file=sys.stderr)
    else:
        res["swin_t_gpu_clips_per_s"] = None
        res["gpu"] = "none (CUDA not available)"
        print("no GPU available: Swin-T GPU throughput not measured", file=sys.stderr)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
