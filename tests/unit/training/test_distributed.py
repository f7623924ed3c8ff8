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
from stygaze.training.distributed import DistributedContext, env_ranks, init_distributed, scaled_lr, unwrap

REPO = Path(__file__).resolve().parents[3]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


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


def test_device_choices():
    assert init_distributed("cpu", environ={}).device == torch.device("cpu")
    with pytest.raises(StygazeError, match="unknown device"):
        init_distributed("toaster", environ={})
    if not torch.cuda.is_available():
        with pytest.raises(StygazeError, match="CUDA is not available"):
            init_distributed("cuda", environ={})


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


def test_shard_takes_this_rank_slice_of_the_global_batch():
    audio, style = torch.arange(24.0).view(8, 3), torch.arange(8.0)
    a1, s1 = DistributedContext(rank=1, world_size=2).shard(audio, style)
    assert torch.equal(a1, audio[4:]) and torch.equal(s1, style[4:])
    pair = torch.arange(2 * 6 * 2.0).view(2, 6, 2)  # (2, B, ...) style-encoder pairs: shard along dim 1
    assert torch.equal(DistributedContext(rank=2, world_size=3).shard(pair, dim=1), pair[:, 4:6])
    with pytest.raises(ValueError, match="does not split evenly"):
        DistributedContext(rank=0, world_size=3).shard(audio)
    single = DistributedContext()
    assert single.shard(audio) is audio or torch.equal(single.shard(audio), audio)
    assert single.mean_metrics({"val_loss": 0.25, "x": 1.0}, 7, ("val_loss",)) == {"val_loss": 0.25}


def test_effective_batch_and_lr_rules():
    ctx = DistributedContext(rank=1, world_size=4)
    assert ctx.effective_batch_size(8) == 32 and not ctx.is_main
    assert scaled_lr(1e-3, 4) == 1e-3
    assert scaled_lr(1e-3, 4, "linear") == pytest.approx(4e-3)
    assert scaled_lr(1e-3, 4, "sqrt") == pytest.approx(2e-3)
    with pytest.raises(StygazeError, match="lr_scaling"):
        scaled_lr(1e-3, 4, "cubic")


# --- the real torchrun path ------------------------------------------------------------
@pytest.fixture(scope="module")
def gen_corpus(tmp_path_factory):
    from gen_fixtures import make_tiny_corpus

    return make_tiny_corpus(tmp_path_factory.mktemp("ddp_corpus") / "c", n_sessions=5, seconds=4.0)


@pytest.mark.slow
def test_torchrun_train_generator_matches_single_process_and_resumes_across_modes(tmp_path, gen_corpus):
    """`torchrun -m stygaze train generator` (2 x 4) == one process (batch 8); its RUN/last resumes single-process."""
    from safetensors.torch import load_file

    from gen_fixtures import write_tiny_config
    from stygaze.stygazetalk.train_generator import load_generator_run_config, train_generator

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
    assert proc.stdout.count(str(mixed)) == 1  # only rank 0 prints the checkpoint line
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


@pytest.mark.slow
def test_torchrun_train_cvae_writes_once_and_resumes_single_process(tmp_path):
    """`torchrun -m stygaze train cvae` (DataLoader + DistributedSampler path): one log, a loadable best, resumable."""
    import dataclasses

    import yaml

    from stygaze.cvae.train import config_from_dict, train_cvae
    from gen_fixtures import make_cvae_corpus as make_corpus
    from gen_fixtures import tiny_cvae_config as tiny_config

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
    assert proc.stdout.count("checkpoint:") == 1  # only rank 0 reports
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]  # rank 0 alone wrote
    assert log[0]["step"] == 1  # 16 windows / (2 processes x batch 8) = 1 step per epoch
    assert all(np.isfinite(r["val_total"]) for r in log)
    result = train_cvae(config_from_dict({**json.loads(json.dumps(dataclasses.asdict(cfg))), "epochs": 3}), corpus, run, progress=False)
    assert result.epochs == 3
    assert [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()] == [1, 2, 4]  # then 2 steps of 8


def test_is_rank_zero_reads_the_torchrun_environment():
    from stygaze.training.distributed import is_rank_zero

    assert is_rank_zero({}) and is_rank_zero({"RANK": "0", "WORLD_SIZE": "2"})
    assert not is_rank_zero({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"})
