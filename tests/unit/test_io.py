"""Atomic writers: outputs appear whole or not at all, with ordinary permissions."""

import os
import stat

import pytest

from stygaze.io import atomic_dir, atomic_path


def test_atomic_path_renames_on_success(tmp_path):
    target = tmp_path / "out" / "motion.npz"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".npz" and tmp.parent == target.parent
        tmp.write_bytes(b"data")
        assert not target.exists()
    assert target.read_bytes() == b"data"
    assert list(target.parent.iterdir()) == [target]


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "motion.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_outputs_get_umask_permissions_not_private(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
        with atomic_dir(tmp_path / "ckpt") as tmp:
            (tmp / "f").write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "ckpt").stat().st_mode) == 0o755


def test_atomic_dir_refuses_existing_unless_overwrite(tmp_path):
    target = tmp_path / "session"
    target.mkdir()
    (target / "old").write_text("x")
    with pytest.raises(FileExistsError):
        with atomic_dir(target) as tmp:
            (tmp / "new").write_text("y")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session"]
    with atomic_dir(target, overwrite=True) as tmp:
        (tmp / "new").write_text("y")
    assert sorted(p.name for p in target.iterdir()) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session"]
