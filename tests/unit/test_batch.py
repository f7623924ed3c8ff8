"""Batch generation plumbing: input selection, output planning, skip/fail/report, worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stygaze.batch import BatchItem, collect_inputs, is_batch_spec, plan_outputs, run_batch
from stygaze.errors import AudioError, StygazeError


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folder_and_glob_select_audio_files_only(tmp_path):
    for rel in ("a.wav", "b.FLAC", "notes.txt", "a.motion.npz", "sub/c.mp3"):
        _touch(tmp_path / rel)
    assert is_batch_spec(tmp_path) and is_batch_spec(tmp_path / "*.wav") and not is_batch_spec(tmp_path / "a.wav")
    assert [p.name for p in collect_inputs(tmp_path)] == ["a.wav", "b.FLAC"]  # not recursive
    assert [p.name for p in collect_inputs(f"{tmp_path}/**/*")] == ["a.wav", "b.FLAC", "c.mp3"]
    with pytest.raises(AudioError, match="no audio files"):
        collect_inputs(f"{tmp_path}/*.txt")
    with pytest.raises(AudioError, match="not found"):
        collect_inputs(tmp_path / "missing")


def test_outputs_keep_subfolders_and_refuse_collisions(tmp_path):
    a, c = _touch(tmp_path / "in" / "a.wav"), _touch(tmp_path / "in" / "sub" / "c.wav")
    items = plan_outputs([a, c], tmp_path / "out")
    assert [i.out for i in items] == [tmp_path / "out" / "a.motion.npz", tmp_path / "out" / "sub" / "c.motion.npz"]
    assert plan_outputs([a], None)[0].out == tmp_path / "in" / "a.motion.npz"  # default: next to the input
    with pytest.raises(StygazeError, match="would both write"):
        plan_outputs([a, _touch(tmp_path / "in" / "a.flac")], tmp_path / "out")
    with pytest.raises(StygazeError, match="existing file"):
        plan_outputs([a], a)
    with pytest.raises(StygazeError, match="looks like a file"):
        plan_outputs([a], tmp_path / "out.npz")


def _fake_factory(calls: list | None = None):
    """A 'model' that writes the input's text upper-cased, and fails on inputs containing 'bad'."""

    def work(item: BatchItem) -> None:
        text = item.audio.read_text()
        if "bad" in text:
            raise AudioError(f"cannot decode {item.audio.name}\n(second line is folded)")
        item.out.write_text(text.upper())
        if calls is not None:
            calls.append(item.audio.name)

    return work


@pytest.mark.parametrize("jobs", [1, 2])
def test_run_batch_skips_done_reports_failures_and_keeps_going(tmp_path, jobs):
    inputs = [_touch(tmp_path / "in" / f"{n}.wav", t) for n, t in [("a", "aa"), ("b", "bad"), ("c", "cc"), ("d", "dd")]]
    items = plan_outputs(inputs, tmp_path / "out")
    _touch(items[3].out, "DONE BEFORE")  # finished by an earlier run
    seen = []
    report = run_batch(items, _fake_factory, jobs=jobs, progress=False, on_result=seen.append)
    assert [r.status for r in report.results] == ["done", "failed", "done", "skipped"]
    assert report.failed[0].error == "cannot decode b.wav (second line is folded)"
    assert report.exit_code == 1 and sorted(r.item.audio.name for r in seen) == ["a.wav", "b.wav", "c.wav"]
    assert items[0].out.read_text() == "AA" and items[3].out.read_text() == "DONE BEFORE"
    assert not items[1].out.exists()
    assert "2 done, 1 skipped, 1 failed of 4 files" in report.summary()
    again = run_batch(items, _fake_factory, jobs=jobs, progress=False, overwrite=True)
    assert [r.status for r in again.results] == ["done", "failed", "done", "done"] and items[3].out.read_text() == "DD"


def test_model_that_does_not_load_fails_before_any_file(tmp_path):
    items = plan_outputs([_touch(tmp_path / "a.wav")], tmp_path / "out")

    def broken_factory():
        raise StygazeError("checkpoint not found: nowhere")

    for jobs in (1, 2):
        with pytest.raises(StygazeError, match="checkpoint not found"):
            run_batch(items * 2, broken_factory, jobs=jobs, progress=False)  # 2 items: jobs=2 really uses a pool
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_names_with_glob_characters_are_files_when_they_exist(tmp_path):
    (tmp_path / "take[1].wav").write_bytes(b"x")
    (tmp_path / "take1.wav").write_bytes(b"x")
    literal = tmp_path / "take[1].wav"
    assert not is_batch_spec(literal)  # the file itself, not the pattern that matches take1.wav
    assert is_batch_spec(tmp_path / "take[0-9].wav")  # no such file: a pattern
    assert collect_inputs(tmp_path / "take[0-9].wav") == [tmp_path / "take1.wav"]
    folder = tmp_path / "run[2]*"
    folder.mkdir()
    (folder / "a.wav").write_bytes(b"x")
    assert collect_inputs(folder) == [folder / "a.wav"]  # an existing folder with glob characters
    assert collect_inputs(f"{folder}/*.wav") == [folder / "a.wav"]  # a pattern inside it


# process_map: a dead worker process ------------------------------------------------------
def _no_work():
    return None


def _kill_self_on_five(work, task):
    import os
    import signal
    import time

    if task == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.02)
    return ("ok", task)


def _kill_a_sibling_once(work, task):
    """Work item 3 kills another worker of the pool (as a user or the OOM killer would), once."""
    import multiprocessing as mp
    import os
    import signal
    import time

    marker = os.environ["KILL_MARKER"]  # written once the kill is done
    if task == 3 and not os.path.exists(marker):
        siblings = [p for p in _children(mp.parent_process().pid) if p != os.getpid()]
        if siblings:
            os.kill(siblings[0], signal.SIGKILL)
            open(marker, "w").write(str(siblings[0]))
    time.sleep(0.05)
    return ("ok", task)


def _children(ppid):
    import os

    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
                out.append(int(entry))
    return out


@pytest.mark.parametrize("run, failed", [(_kill_self_on_five, [5]), (_kill_a_sibling_once, [])], ids=["task_kills_its_worker", "worker_killed_from_outside"])
def test_dead_worker_is_replaced_and_every_task_reported_once(run, failed, tmp_path, monkeypatch):
    import sys

    from stygaze.batch import process_map

    if not sys.platform.startswith("linux"):
        pytest.skip("uses /proc")
    monkeypatch.setenv("KILL_MARKER", str(tmp_path / "killed"))
    seen = {}

    def on_result(i, result):
        assert i not in seen
        seen[i] = result

    process_map(list(range(12)), _no_work, run, jobs=2, on_result=on_result, on_crash=lambda i, why: ("failed", why))
    assert sorted(seen) == list(range(12))
    assert [i for i, r in seen.items() if r[0] == "failed"] == failed
    for i in failed:
        assert "worker process died" in seen[i][1]
    assert run is _kill_self_on_five or (tmp_path / "killed").exists()  # a worker was killed from outside
