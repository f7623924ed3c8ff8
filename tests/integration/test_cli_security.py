"""Hostile and careless inputs through the real CLI: FLAME files never run code, an output is
never one of the inputs, write errors are one line with no leftovers."""

import hashlib
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from stygaze.audio import save_audio
from stygaze.motion import Motion


def cli(*args, env=None):
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **(env or {})}
    full_env.pop("STYGAZE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "stygaze", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=full_env)


def one_error_line(r) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stygaze: error:"), r.stderr
    return lines[0]


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


class _Touch:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture
def files(tmp_path):
    T = 50
    data = np.zeros((T, 7), np.float32)
    data[:, 1] = np.linspace(-10, 10, T)
    Motion(data).save(tmp_path / "ref.npz")
    Motion(data * 0.5).save(tmp_path / "pred.npz")
    t = np.arange(32000) / 16000
    save_audio(tmp_path / "talk.wav", (0.2 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), 16000)
    (tmp_path / "cfg.yaml").write_text("seed: 0\n")
    return tmp_path


# --- FLAME files never run code -------------------------------------------------------------
@pytest.mark.parametrize("case", ["pkl", "npz object array", "static embedding", "env variable"])
def test_hostile_flame_model_runs_no_code(files, case):
    marker = files / "marker"
    folder = files / "flame"
    folder.mkdir()
    hostile = {"v_template": np.zeros((3, 3)), "f": _Touch(marker)}
    if case == "npz object array":
        model = folder / "FLAME_NEUTRAL.npz"
        np.savez(model, v_template=np.zeros((3, 3)), f=np.array([_Touch(marker)], dtype=object))
    elif case == "static embedding":
        sys.path.insert(0, str(os.path.join(os.path.dirname(__file__), "..", "unit", "render")))
        from render_helpers import write_tiny_flame

        model = write_tiny_flame(folder)
        with open(folder / "flame_static_embedding.pkl", "wb") as fh:
            pickle.dump({"lmk_face_idx": _Touch(marker)}, fh)
    else:
        model = folder / "FLAME_NEUTRAL.pkl"
        with open(model, "wb") as fh:
            pickle.dump(hostile, fh)
    out = files / "out.mp4"
    args = ["render", files / "ref.npz", "--head", "flame", "-o", out, "--size", 64]
    if case == "env variable":
        r = cli(*args, env={"STYGAZE_FLAME_MODEL": str(folder)})
    else:
        r = cli(*args, "--flame-model", model, env={"STYGAZE_FLAME_MODEL": ""})
    line = one_error_line(r)
    assert "refusing" in line
    assert not marker.exists() and not out.exists()
    assert not [p for p in files.iterdir() if p.name.startswith(".")]


def test_convert_flame_cli(files):
    marker = files / "marker"
    with open(files / "bad.pkl", "wb") as fh:
        pickle.dump({"f": _Touch(marker)}, fh)
    one_error_line(cli("render", "convert-flame", files / "bad.pkl", "-o", files / "bad.npz"))
    assert not marker.exists() and not (files / "bad.npz").exists()
    sys.path.insert(0, str(os.path.join(os.path.dirname(__file__), "..", "unit", "render")))
    from render_helpers import write_tiny_flame

    src = write_tiny_flame(files / "flame")
    r = cli("render", "convert-flame", src, "-o", files / "plain.npz")
    assert r.returncode == 0, r.stderr
    with np.load(files / "plain.npz", allow_pickle=False) as npz:
        assert npz["v_template"].shape[1] == 3 and "weights" in npz.files


# --- an output is never one of the inputs ----------------------------------------------------
CASES = {
    "generate --style": (["generate", "--audio", "{talk.wav}", "--model", "procedural", "--style", "{ref.npz}", "-o", "OUT"], "ref.npz"),
    "generate --gaze": (["generate", "--gaze", "{ref.npz}", "-o", "OUT"], "ref.npz"),
    "extract-style": (["extract-style", "--motion", "{ref.npz}", "-o", "OUT"], "ref.npz"),
    "export": (["export", "{ref.npz}", "--format", "flame", "-o", "OUT"], "ref.npz"),
    "eval --json": (["eval", "--pred", "{pred.npz}", "--gt", "{ref.npz}", "--json", "OUT"], "pred.npz"),
    "render": (["render", "{ref.npz}", "-o", "OUT"], "ref.npz"),
    "train style": (["train", "style", "--config", "{cfg.yaml}", "--data", "{ref.npz}", "--out", "OUT"], "cfg.yaml"),
}


@pytest.mark.parametrize("how", ["plain", "symlink", "hardlink"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_output_that_is_an_input_is_refused(files, case, how):
    template, victim = CASES[case]
    target = files / victim
    out = {"plain": target, "symlink": files / f"link{target.suffix}", "hardlink": files / f"hard{target.suffix}"}[how]
    if how == "symlink":
        out.symlink_to(target)
    elif how == "hardlink":
        os.link(target, out)
    before = {p.name: digest(p) for p in files.iterdir()}
    args = [str(out) if a == "OUT" else str(files / a[1:-1]) if a.startswith("{") else a for a in template]
    line = one_error_line(cli(*args))
    assert "is one of the inputs" in line
    assert {p.name: digest(p) for p in files.iterdir()} == before


# --- write errors: one line, no leftovers --------------------------------------------------
WRITERS = {
    "generate": ["generate", "--audio", "{talk.wav}", "--model", "procedural", "-o", "OUT"],
    "export": ["export", "{ref.npz}", "--format", "flame", "-o", "OUT"],
}


def _args(files, template, out):
    return [str(out) if a == "OUT" else str(files / a[1:-1]) if a.startswith("{") else a for a in template]


@pytest.mark.parametrize("cmd", sorted(WRITERS))
def test_long_valid_name_is_written(files, cmd):
    out = files / ("m" * 246 + ".npz")  # 250 characters: valid, too long once a temp suffix is added
    r = cli(*_args(files, WRITERS[cmd], out))
    assert r.returncode == 0, r.stderr
    assert out.is_file() and not [p for p in files.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("cmd", sorted(WRITERS))
def test_output_under_a_file_is_one_line(files, cmd):
    out = files / "talk.wav" / "m.npz"
    line = one_error_line(cli(*_args(files, WRITERS[cmd], out)))
    assert "cannot write" in line and "Not a directory" in line


@pytest.mark.parametrize("cmd", sorted(WRITERS))
def test_output_that_is_a_folder_is_one_line(files, cmd):
    out = files / "d.npz"
    out.mkdir()
    line = one_error_line(cli(*_args(files, WRITERS[cmd], out)))
    assert str(out) in line and "director" in line.lower()
    assert list(out.iterdir()) == [] and not [p for p in files.iterdir() if p.name.startswith(".")]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores folder permissions")
@pytest.mark.parametrize("cmd", sorted(WRITERS))
def test_read_only_folder_is_one_line(files, cmd):
    ro = files / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        line = one_error_line(cli(*_args(files, WRITERS[cmd], ro / "m.npz")))
    finally:
        ro.chmod(0o755)
    assert "cannot write" in line and list(ro.iterdir()) == []
