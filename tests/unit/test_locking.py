"""stygaze.locking: one writer per folder, stale temporary entries of dead writers."""

import os

import pytest

from stygaze.locking import LOCK_NAME, BusyError, folder_lock, remove_stale_parts


def test_second_lock_is_refused_with_the_owner_pid_and_released_after(tmp_path):
    out = tmp_path / "corpus"
    with folder_lock(out) as lock:
        assert lock.read_text().strip() == str(os.getpid())
        with pytest.raises(BusyError, match=rf"being written by another stygaze process \(pid {os.getpid()}\)"):
            with folder_lock(out):
                pass
    assert not (out / LOCK_NAME).exists()
    with folder_lock(out):  # free again
        pass


def test_a_lock_file_left_by_a_killed_process_does_not_block(tmp_path):
    (tmp_path / LOCK_NAME).write_text("999999\n")  # no process holds a flock on it
    with folder_lock(tmp_path):
        pass


def test_remove_stale_parts_takes_only_temporary_entries(tmp_path):
    (tmp_path / ".s000.abc.part").mkdir()
    (tmp_path / ".s000.abc.part" / "motion.npz").write_bytes(b"x")
    (tmp_path / ".splits.xyz.part.json").write_text("{}")
    (tmp_path / "s001").mkdir()
    (tmp_path / "notes.part").write_text("user file")  # not hidden: not a writer's temporary
    removed = remove_stale_parts(tmp_path)
    assert sorted(p.name for p in removed) == [".s000.abc.part", ".splits.xyz.part.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.part", "s001"]
