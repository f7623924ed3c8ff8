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


def test_remove_dead_temporaries_keeps_a_live_writers_file(tmp_path):
    import subprocess
    import sys
    import time

    from stygaze.locking import held, remove_dead_temporaries

    target = tmp_path / "talk.mp4"
    dead, live, young = (tmp_path / f".talk.{k}.part.mp4" for k in ("dead", "live", "young"))
    for p in (dead, live, young):
        p.write_bytes(b"partial")
    old = time.time() - 60
    for p in (dead, live):
        os.utime(p, (old, old))
    other = tmp_path / ".other.x.part.mp4"  # another target's temporary
    other.write_bytes(b"x")
    os.utime(other, (old, old))
    code = f"from stygaze.locking import held\nimport sys, time\nwith held({str(live)!r}):\n    print('held', flush=True)\n    sys.stdin.read()"
    writer = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "held"
        assert remove_dead_temporaries(target) == [dead]
    finally:
        writer.communicate("", timeout=30)
    assert live.exists() and young.exists() and other.exists()
    with held(young):  # our own writer's file is never taken
        os.utime(young, (old, old))
        assert remove_dead_temporaries(target) == [live]
    assert young.exists()


def test_remove_dead_temporaries_newer_than_takes_only_files_written_since(tmp_path):
    import time

    from stygaze.locking import remove_dead_temporaries

    target = tmp_path / "t03.motion.npz"
    before, after = tmp_path / ".t03.motion.a.part.npz", tmp_path / ".t03.motion.b.part.npz"
    for p in (before, after):
        p.write_bytes(b"partial")
    t0 = time.time()
    os.utime(before, (t0 - 30, t0 - 30))  # an earlier writer's: not ours to judge
    assert remove_dead_temporaries(target, min_age_s=0.0, newer_than=t0 - 1) == [after]
    assert before.exists() and not after.exists()


def test_remove_dead_temporaries_finds_the_shortened_names_of_long_outputs(tmp_path):
    """atomic_path shortens the stem of a long output's temporary name; the cleanup finds it all the same."""
    import time

    from stygaze.io import atomic_path
    from stygaze.locking import remove_dead_temporaries

    target = tmp_path / ("x" * 245 + ".mp4")
    with atomic_path(target) as tmp:  # the name a writer killed mid-write would have left
        cut = tmp.name.index(".part")
        left = tmp.with_name(tmp.name[: cut - 1] + ("A" if tmp.name[cut - 1] != "A" else "B") + tmp.name[cut:])
        left.write_bytes(b"partial")
        tmp.write_bytes(b"done")
    assert not left.name.startswith(f".{target.stem}.")  # the stem was shortened
    old = time.time() - 60
    os.utime(left, (old, old))
    assert remove_dead_temporaries(target) == [left]
    assert target.read_bytes() == b"done"
