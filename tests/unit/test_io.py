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


# --- temp names within NAME_MAX, write errors as one line -----------------------------------
import errno  # noqa: E402

from stygaze.errors import OutputError  # noqa: E402
from stygaze.io import check_distinct_outputs  # noqa: E402


@pytest.mark.parametrize("name", ["m" * 251 + ".npz", "é" * 125 + ".npz"])  # 255 bytes: the longest valid name
def test_atomic_path_writes_the_longest_valid_name(tmp_path, name):
    with atomic_path(tmp_path / name) as tmp:
        assert len(os.fsencode(tmp.name)) <= 255 and tmp.suffix == ".npz"
        tmp.write_bytes(b"x")
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_atomic_dir_writes_the_longest_valid_name(tmp_path):
    with atomic_dir(tmp_path / ("d" * 255)) as tmp:
        (tmp / "f").write_text("x")
    assert [p.name for p in tmp_path.iterdir()] == ["d" * 255]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_write_error_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, code):
    def failing_replace(src, dst):
        raise OSError(code, os.strerror(code), str(dst))

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OutputError, match=f"cannot write .*out.npz: {os.strerror(code)}$"):
        with atomic_path(tmp_path / "out.npz") as tmp:
            tmp.write_bytes(b"x")
    assert list(tmp_path.iterdir()) == []


def test_disk_full_inside_the_writer_is_one_line(tmp_path):
    with pytest.raises(OutputError, match="No space left"):
        with atomic_path(tmp_path / "out.npz"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # what fh.write raises: no file name
    with pytest.raises(OutputError, match="No space left"):
        with atomic_dir(tmp_path / "ckpt") as tmp:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp / "model.safetensors"))
    assert list(tmp_path.iterdir()) == []


def test_error_about_another_file_is_not_a_write_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_path(tmp_path / "out.npz"):
            open(tmp_path / "missing.wav", "rb")
    assert list(tmp_path.iterdir()) == []


def test_parent_is_a_file_and_output_is_a_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="Not a directory"):
        with atomic_path(tmp_path / "f" / "out.npz"):
            pass
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(OutputError, match="Is a directory"):
        with atomic_path(tmp_path / "d.npz") as tmp:
            tmp.write_bytes(b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz", "f"]


@pytest.mark.parametrize("how", ["plain", "symlink", "hardlink", "dotted"])
def test_check_distinct_outputs_sees_links(tmp_path, how):
    src = tmp_path / "ref.npz"
    src.write_bytes(b"x")
    out = {"plain": src, "symlink": tmp_path / "l.npz", "hardlink": tmp_path / "h.npz", "dotted": tmp_path / "." / "ref.npz"}[how]
    if how == "symlink":
        out.symlink_to(src)
    if how == "hardlink":
        os.link(src, out)
    with pytest.raises(OutputError, match=r"^-o .* is one of the inputs \(--style\); choose another output$"):
        check_distinct_outputs({"-o": out}, {"--audio": tmp_path / "talk.wav", "--style": src})


def test_check_distinct_outputs_allows_other_files_and_catches_two_equal_outputs(tmp_path):
    check_distinct_outputs({"-o": tmp_path / "new.npz", "--render": None}, {"--style": None, "MOTION": [tmp_path / "a.npz"]})
    with pytest.raises(OutputError, match="also the output of -o"):
        check_distinct_outputs({"-o": tmp_path / "x.npz", "--render": tmp_path / "x.npz"}, {})
