"""DDP (torchrun, gloo on CPU) matches single-process training on the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from stygaze.errors import StygazeError
from stygaze.train.distributed import DistributedContext, env_ranks, init_distributed, scaled_lr, unwrap

LOOP = Path(__file__).with_name("ddp_tiny_loop.py")
REPO = Path(__file__).resolve().parents[3]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(args: list[str], torchrun: int = 0) -> None:
    launcher = [sys.executable]
    if torchrun:
        launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={torchrun}"]
    proc = subprocess.run(launcher + [str(LOOP)] + args, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]


# --- pure helpers (no process group) ---------------------------------------------------
def test_env_ranks_default_is_single_process():
    assert env_ranks({}) == (0, 1, 0)
    assert env_ranks({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == (3, 4, 1)


@pytest.mark.parametrize("env", [{"RANK": "2", "WORLD_SIZE": "2"}, {"WORLD_SIZE": "two"}, {"WORLD_SIZE": "0"}])
def test_env_ranks_rejects_inconsistent_environment(env):
    with pytest.raises(StygazeError, match="torchrun environment"):
        env_ranks(env)


def test_single_process_context_is_a_no_op():
    ctx = init_distributed("cpu", environ={})
    model = torch.nn.Linear(2, 2)
    assert not ctx.is_distributed and ctx.is_main and ctx.backend is None
    assert ctx.wrap(model) is model and unwrap(model) is model
    assert ctx.mean(6.0, 3) == 2.0 and ctx.broadcast_flag(True) is True
    assert ctx.effective_batch_size(16) == 16
    ctx.barrier()
    ctx.close()


def test_global_sample_order_does_not_depend_on_world_size():
    """Union of the rank shards at step k == the single-process batch at step k (the equivalence's premise)."""
    data = list(range(20))
    single = DistributedContext().sampler(data, seed=5)
    ranks = [DistributedContext(rank=r, world_size=2).sampler(data, seed=5) for r in range(2)]
    for epoch in (0, 3):
        for s in [single, *ranks]:
            s.set_epoch(epoch)
        glob = list(single)
        shards = [list(s) for s in ranks]
        for k in range(5):  # per-process batch 2  <->  single batch 4
            assert sorted(shards[0][2 * k : 2 * k + 2] + shards[1][2 * k : 2 * k + 2]) == sorted(glob[4 * k : 4 * k + 4])
    assert list(single) != list(range(20))  # shuffled


def test_effective_batch_and_lr_rules():
    ctx = DistributedContext(rank=1, world_size=4)
    assert ctx.effective_batch_size(8) == 32 and not ctx.is_main
    assert scaled_lr(1e-3, 4) == 1e-3
    assert scaled_lr(1e-3, 4, "linear") == pytest.approx(4e-3)
    assert scaled_lr(1e-3, 4, "sqrt") == pytest.approx(2e-3)
    with pytest.raises(StygazeError, match="lr_scaling"):
        scaled_lr(1e-3, 4, "cubic")


# --- the real torchrun path ------------------------------------------------------------
def test_torchrun_ddp_matches_single_process_on_the_same_global_batch(tmp_path):
    """A DataLoader + DistributedSampler loop: 2 x batch 4 under torchrun (gloo) == 1 x batch 8."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ddp_tiny_loop", LOOP)
    tiny = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny)
    assert tiny.main([str(tmp_path / "single"), "--batch", "8", "--epochs", "1"]) == 0  # in this process
    _run([str(tmp_path / "ddp"), "--batch", "4", "--epochs", "1"], torchrun=2)
    ref = json.loads((tmp_path / "single" / "losses.json").read_text())
    ddp = json.loads((tmp_path / "ddp" / "losses.json").read_text())
    assert ddp["world_size"] == 2 and ref["world_size"] == 1
    assert len(ddp["train"]) == len(ref["train"]) == 5  # 40 samples / global batch 8
    np.testing.assert_allclose(ddp["train"], ref["train"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ddp["val"], ref["val"], rtol=1e-5, atol=1e-6)
    moved = np.abs(np.array(ref["params"][0]) - np.array(_initial_params(tiny))).max()
    assert np.abs(np.array(ddp["params"][0]) - np.array(ref["params"][0])).max() < 1e-3 * moved


def _initial_params(tiny) -> list[float]:
    from stygaze.train.common import set_seed

    set_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    return torch.cat([p.detach().flatten() for p in model.parameters()]).tolist()


@pytest.fixture(scope="module")
def gen_corpus(tmp_path_factory):
    from gen_fixtures import make_tiny_corpus

    return make_tiny_corpus(tmp_path_factory.mktemp("ddp_corpus") / "c", n_sessions=5, seconds=4.0)


def test_torchrun_train_generator_matches_single_process_and_resumes_across_modes(tmp_path, gen_corpus):
    """`torchrun -m stygaze train generator` (2 x 4) == one process (batch 8); its RUN/last resumes single-process."""
    from safetensors.torch import load_file

    from gen_fixtures import write_tiny_config
    from stygaze.train.generator import load_generator_run_config, train_generator

    base = {"style_dim: 8, hidden": "style_dim: 0, hidden"}  # Base config: no style encoder needed
    cfg8 = write_tiny_config(tmp_path / "b8.yaml", **base)
    cfg4 = write_tiny_config(tmp_path / "b4.yaml", **base, **{"generator_train: {batch_size: 8": "generator_train: {batch_size: 4"})
    single, mixed = tmp_path / "single", tmp_path / "mixed"
    train_generator(load_generator_run_config(cfg8), gen_corpus, single, progress=False)  # 2 epochs
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m", "stygaze",
         "train", "generator", "--config", str(cfg4), "--data", str(gen_corpus), "--out", str(mixed),
         "--max-epochs", "1", "--no-progress"],
        env=_env(), capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ref = [json.loads(line) for line in (single / "log.jsonl").read_text().splitlines()]
    ddp = [json.loads(line) for line in (mixed / "log.jsonl").read_text().splitlines()]
    assert len(ddp) == 1 and ddp[0]["world_size"] == 2  # rank 0 alone wrote the log
    for key in ("train_loss", "val_loss", "val_mse", "val_vel"):
        assert ddp[0][key] == pytest.approx(ref[0][key], rel=1e-5), key

    # the torchrun run resumes in one process (global batch 8 again) and ends where the single run did
    resumed_cfg = load_generator_run_config(cfg8)
    train_generator(resumed_cfg, gen_corpus, mixed, progress=False)
    log = [json.loads(line) for line in (mixed / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2] and "world_size" not in log[1]
    assert log[1]["val_loss"] == pytest.approx(ref[1]["val_loss"], rel=1e-4)
    a, b = load_file(str(single / "last" / "model.safetensors")), load_file(str(mixed / "last" / "model.safetensors"))
    assert a.keys() == b.keys() and not any(k.startswith("module.") for k in b)
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-3, atol=1e-4)


def test_torchrun_train_cvae_writes_once_and_resumes_single_process(tmp_path):
    """`torchrun -m stygaze train cvae` (DataLoader + DistributedSampler path): one log, a loadable best, resumable."""
    import dataclasses

    import yaml

    from stygaze.train.cvae import config_from_dict, train_cvae
    from test_cvae_train import make_corpus, tiny_config

    corpus = make_corpus(tmp_path / "corpus", np.random.default_rng(0), sessions=(3, 2, 1))
    cfg = tiny_config()
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(json.loads(json.dumps(dataclasses.asdict(cfg)))))
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m", "stygaze",
         "train", "cvae", "--config", str(tmp_path / "c.yaml"), "--data", str(corpus), "--out", str(run), "--no-progress"],
        env=_env(), capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]  # rank 0 alone wrote
    assert log[0]["step"] == 1  # 16 windows / (2 processes x batch 8) = 1 step per epoch
    assert all(np.isfinite(r["val_total"]) for r in log)
    result = train_cvae(config_from_dict({**json.loads(json.dumps(dataclasses.asdict(cfg))), "epochs": 3}), corpus, run, progress=False)
    assert result.epochs == 3
    assert [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()] == [1, 2, 4]  # then 2 steps of 8
