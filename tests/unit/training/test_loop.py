"""The shared training loop on a toy model: resume, refusal, budgets, rank reduction, run folder."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from stygaze.errors import CheckpointError, DataError
from stygaze.training.distributed import DistributedContext
from stygaze.training.loop import Budget, TrainSpec, fit, identity_difference, run_folder

TARGET = np.array([1.5, -2.0], np.float32)


def toy(lr: float = 0.05, *, val_loss=None, keep: str = "best", final: bool = False, weights=None):
    """A tiny regression with dropout (torch RNG) and numpy-drawn batches seeded by epoch."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    xv = torch.from_numpy(np.random.default_rng(99).normal(size=(32, 2)).astype(np.float32))
    saved = []

    def batches(epoch):
        rng = np.random.default_rng([0, epoch])
        for _ in range(4):
            x = rng.normal(size=(8, 2)).astype(np.float32)
            yield torch.from_numpy(x), torch.from_numpy(x @ TARGET)[:, None]

    def step(forward, batch, i):
        loss = forward(*batch)
        w = weights(i) if weights else 1
        return loss, {"loss": float(loss.detach()), "step_index": float(i)}, w

    def evaluate():
        if val_loss is not None:
            return {"loss": val_loss()}
        with torch.no_grad():
            model.eval()
            return {"loss": float(((model(xv) - (xv @ torch.from_numpy(TARGET))[:, None]) ** 2).mean())}

    def save(path, epoch, step_index, val):
        path.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path / "model.safetensors"))
        (path / "meta.json").write_text(json.dumps({"epoch": epoch, "val": val}))
        saved.append((path.name, epoch))

    spec = TrainSpec(
        name="toy", model=model, optimizer=opt, loss=lambda m, x, y: ((m(x) - y) ** 2).mean(), step=step, batches=batches,
        evaluate=evaluate, save=save, keep=keep, write_final=final, grad_clip=1.0,
    )
    return spec, saved


def run(path, epochs=3, *, lr=0.05, corpus="c0", patience=10, minutes=0.0, force=False, dist=None, **kw):
    spec, saved = toy(lr, **kw)
    config = {"train": {"lr": lr, "max_epochs": epochs, "seed": 0}}
    result = fit(path, spec, Budget(max_epochs=epochs, patience=patience, seed=0, max_minutes=minutes),
                 config=config, corpus=corpus, force_resume=force, progress=False, dist=dist)
    return result, saved


def weights(path, which="last"):
    return load_file(str(path / which / "model.safetensors"))


def log(path):
    return [json.loads(line) for line in (path / "log.jsonl").read_text().splitlines()]


def test_resumed_run_ends_bit_identical_to_an_uninterrupted_one(tmp_path):
    straight, _ = run(tmp_path / "a", 3)
    run(tmp_path / "b", 1)
    resumed, _ = run(tmp_path / "b", 3)
    assert straight.epochs == resumed.epochs == 3 and straight.steps == resumed.steps == 12
    assert len(resumed.history) == 2 and straight.stopped == resumed.stopped == "epochs"
    a, b = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["epoch"] for r in log(tmp_path / "b")] == [1, 2, 3] and log(tmp_path / "b")[2]["step"] == 12
    assert [r["val_loss"] for r in log(tmp_path / "a")] == [r["val_loss"] for r in log(tmp_path / "b")]
    again, _ = run(tmp_path / "b", 3)  # nothing left to do
    assert again.history == [] and again.epochs == 3


def test_resume_with_another_config_or_corpus_is_refused_unless_forced(tmp_path):
    run(tmp_path / "r", 1)
    with pytest.raises(CheckpointError) as exc:
        run(tmp_path / "r", 2, lr=0.1)
    msg = str(exc.value)
    assert "\n" not in msg and "another config (train.lr: 0.05 → 0.1)" in msg and "--force-resume" in msg
    with pytest.raises(CheckpointError, match="another corpus"):
        run(tmp_path / "r", 2, corpus="c1")
    run(tmp_path / "r", 2)  # a larger epoch budget is not another config
    forced, _ = run(tmp_path / "r", 3, lr=0.1, force=True)
    assert forced.epochs == 3 and len(forced.history) == 1
    state = json.loads((tmp_path / "r" / "last" / "state.json").read_text())["counters"]
    assert state["run"]["config"]["train"]["lr"] == 0.1
    assert [(h["config"]["train"]["lr"], h["until_epoch"]) for h in state["run_history"]] == [(0.05, 2)]
    rc = json.loads((tmp_path / "r" / "run_config.json").read_text())
    assert rc["config"]["train"] == {"lr": 0.1, "max_epochs": 3, "seed": 0} and rc["resumed_at_epoch"] == 2 and rc["corpus"] == "c0"
    assert [h["config"]["train"]["lr"] for h in rc["history"]] == [0.05]  # kept, not overwritten
    run(tmp_path / "r", 4, lr=0.1)  # the forced config is now the run's own
    assert len(json.loads((tmp_path / "r" / "run_config.json").read_text())["history"]) == 1


def test_batch_size_may_change_only_with_the_number_of_processes():
    one = {"config": {"t": {"batch_size": 8, "lr": 1}}, "corpus": "c", "world_size": 1}
    two = {"config": {"t": {"batch_size": 4, "lr": 1}}, "corpus": "c", "world_size": 2}
    assert identity_difference(two, one) == ""
    assert "t.batch_size: 4 → 8" in identity_difference({**two, "world_size": 1}, one)


def test_state_from_before_identities_resumes(tmp_path):
    run(tmp_path / "old", 1)
    path = tmp_path / "old" / "last" / "state.json"
    payload = json.loads(path.read_text())
    del payload["counters"]["run"], payload["counters"]["step"]
    path.write_text(json.dumps(payload))
    assert run(tmp_path / "old", 2, lr=0.3)[0].epochs == 2


def test_time_budget_is_checked_after_each_epoch(tmp_path):
    first, _ = run(tmp_path / "t", 5, minutes=1e-9)
    assert first.stopped == "time" and first.epochs == 1  # the epoch that passed the budget was finished and saved
    assert (tmp_path / "t" / "last").exists() and (tmp_path / "t" / "best").exists()
    second, _ = run(tmp_path / "t", 5, minutes=1e-9)  # rerunning continues: every call makes progress
    assert second.epochs == 2 and log(tmp_path / "t")[1]["seconds"] >= log(tmp_path / "t")[0]["seconds"]


def test_early_stopping_best_and_final(tmp_path):
    losses = iter([3.0, 1.0, 2.0, 2.5, 0.5])
    result, saved = run(tmp_path / "e", 5, patience=2, val_loss=lambda: next(losses), final=True)
    assert result.stopped == "early_stopping" and result.epochs == 4 and result.best_val_loss == 1.0
    assert [s for s in saved if s[0] == "best"] == [("best", 1), ("best", 2)] and ("final", 4) in saved
    assert result.final_dir == tmp_path / "e" / "final"
    assert [r["best"] for r in log(tmp_path / "e")] == [True, True, False, False]
    again, saved = run(tmp_path / "e", 5, patience=2, final=True)
    assert again.stopped == "early_stopping" and again.history == [] and saved == []  # already stopped: nothing rewritten


def test_keep_last_writes_every_epoch_to_best(tmp_path):
    losses = iter([1.0, 2.0, 3.0])
    _, saved = run(tmp_path / "k", 3, val_loss=lambda: next(losses), keep="last")
    assert saved == [("best", 1), ("best", 2), ("best", 3)]


def test_non_finite_validation_loss_stops_with_one_line(tmp_path):
    with pytest.raises(DataError, match="validation loss became nan at epoch 1"):
        run(tmp_path / "n", 2, val_loss=lambda: math.nan)


def test_train_metrics_are_weighted_means(tmp_path):
    result, _ = run(tmp_path / "w", 1, weights=lambda i: i + 1)  # steps 0..3 weigh 1..4
    assert result.history[0]["train_step_index"] == pytest.approx((0 * 1 + 1 * 2 + 2 * 3 + 3 * 4) / 10)


class _TwoRanks(DistributedContext):
    """Rank 0 of a pretend 2-process job whose other rank reports fixed sums (no process group)."""

    @property
    def is_distributed(self) -> bool:
        return True

    def sum(self, *values):
        return [float(v) + o for v, o in zip(values, (4.0, 400.0, 6.0))]  # rank 1: 4 steps, loss sum 400

    def broadcast_flag(self, flag):
        return bool(flag)

    def barrier(self):
        pass

    def wrap_loss(self, model, loss_fn, *, find_unused_parameters=False):
        return lambda *a, **kw: loss_fn(model, *a, **kw)


def test_train_loss_is_averaged_over_all_processes(tmp_path):
    alone, _ = run(tmp_path / "one", 1)
    both, _ = run(tmp_path / "two", 1, dist=_TwoRanks(rank=0, world_size=2))
    local = alone.history[0]["train_loss"]
    assert both.history[0]["train_loss"] == pytest.approx((4 * local + 400.0) / 8)
    assert both.history[0]["world_size"] == 2


def test_run_folder_leaves_nothing_behind_a_failure(tmp_path):
    with pytest.raises(RuntimeError):
        with run_folder(tmp_path / "new") as d:
            (d / "data" / "train").mkdir(parents=True)
            (d / "run_config.json").write_text("{}")
            raise RuntimeError("boom")
    assert not (tmp_path / "new").exists()
    with pytest.raises(RuntimeError):
        with run_folder(tmp_path / "cache") as d:
            (d / "data").mkdir(parents=True)
            (d / "data" / "frames_000.npy").write_bytes(b"x")  # resumable work is kept
            raise RuntimeError("boom")
    assert (tmp_path / "cache" / "data" / "frames_000.npy").exists()
    (tmp_path / "mine").mkdir()
    with pytest.raises(RuntimeError):
        with run_folder(tmp_path / "mine"):
            raise RuntimeError("boom")
    assert (tmp_path / "mine").is_dir()  # a folder that existed before is the user's
    with pytest.raises(DataError):  # a failing first epoch: no empty run folder
        with run_folder(tmp_path / "fail") as d:
            run(d, 2, val_loss=lambda: math.inf)
    assert not (tmp_path / "fail").exists()
