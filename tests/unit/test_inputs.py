"""stygaze.inputs: FIFOs, symlink loops and other non-regular files are named, never opened."""

import os

import pytest

from stygaze.errors import AudioError, DataError
from stygaze.inputs import file_problem, require_regular_file


@pytest.fixture
def odd_files(tmp_path):
    (tmp_path / "ok.wav").write_bytes(b"x")
    os.mkfifo(tmp_path / "fifo.wav")
    os.symlink("loop_b", tmp_path / "loop_a")
    os.symlink("loop_a", tmp_path / "loop_b")
    os.symlink("missing", tmp_path / "dangling")
    return tmp_path


@pytest.mark.parametrize(
    "name, problem",
    [("ok.wav", None), ("fifo.wav", "a FIFO (named pipe)"), ("loop_a", "a symlink loop"), ("dangling", "a broken symlink"), ("nope", "not found"), (".", "a directory")],
    ids=["regular", "fifo", "symlink_loop", "dangling_symlink", "missing", "directory"],
)
def test_file_problem_names_the_kind(odd_files, name, problem):
    assert file_problem(odd_files / name) == problem


def test_require_regular_file_raises_the_given_error(odd_files):
    assert require_regular_file(odd_files / "ok.wav") == odd_files / "ok.wav"
    with pytest.raises(AudioError, match=r"audio file .*fifo.wav is a FIFO \(named pipe\), not a regular file"):
        require_regular_file(odd_files / "fifo.wav", "audio file", AudioError)
    with pytest.raises(DataError, match="is a symlink loop"):
        require_regular_file(odd_files / "loop_a")
    with pytest.raises(DataError, match="file not found"):
        require_regular_file(odd_files / "nope")


def test_read_audio_refuses_a_fifo_and_names_a_symlink_loop(odd_files):
    from stygaze.audio import read_audio

    with pytest.raises(AudioError, match="FIFO"):  # returns at once: a FIFO is never opened
        read_audio(odd_files / "fifo.wav")
    with pytest.raises(AudioError, match="symlink loop"):
        read_audio(odd_files / "loop_a")
