"""A tiny resumable training loop wired exactly like stygaze's loops, for the DDP tests.

Run single-process (``python ddp_tiny_loop.py OUT --batch 8``) or under torchrun
(``python -m torch.distributed.run --nproc-per-node 2 ddp_tiny_loop.py OUT --batch 4``).
Rank 0 writes ``OUT/losses.json`` (global train loss per step; global val loss and the
flattened parameters per epoch)
and ``OUT/last`` (resumable state) after every epoch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from stygaze.train.common import has_training_state, load_training_state, save_training_state, set_seed
from stygaze.train.distributed import init_distributed


def make_data(n: int = 40, seed: int = 123) -> torch.utils.data.TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    y = torch.tanh(x @ torch.randn(6, 3, generator=g)) + 0.05 * torch.randn(n, 3, generator=g)
    return torch.utils.data.TensorDataset(x, y)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--batch", type=int, required=True, help="per-process batch")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out)

    ctx = init_distributed("cpu")
    set_seed(args.seed)  # same initial weights on every rank
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    log = {"train": [], "val": [], "params": [], "world_size": ctx.world_size}
    start = 0
    if has_training_state(out):
        counters = load_training_state(out, model, opt)
        start = counters["epoch"]
        log = json.loads((out / "losses.json").read_text())
        log["world_size"] = ctx.world_size
    ctx.reseed_other_ranks(args.seed, start)
    step = ctx.wrap_loss(model, lambda m, x, y: torch.nn.functional.mse_loss(m(x), y))

    train, val = make_data(40), make_data(12, seed=9)
    sampler = ctx.sampler(train, shuffle=True, seed=args.seed)
    loader = torch.utils.data.DataLoader(train, batch_size=args.batch, sampler=sampler)
    val_loader = torch.utils.data.DataLoader(val, batch_size=args.batch, sampler=ctx.sampler(val, shuffle=False))
    for epoch in range(start, args.epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            loss = step(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            log["train"].append(ctx.mean(loss.item() * len(x), len(x)))
        with torch.no_grad():
            total = count = 0.0
            for x, y in val_loader:
                total += torch.nn.functional.mse_loss(model(x), y, reduction="sum").item() / 3
                count += len(x)
        log["val"].append(ctx.mean(total, count))
        log["params"].append(torch.cat([p.detach().flatten() for p in model.parameters()]).tolist())
        if ctx.is_main:
            save_training_state(out, model, opt, {"epoch": epoch + 1})
            (out / "losses.json").write_text(json.dumps(log))
        ctx.barrier()
    ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
