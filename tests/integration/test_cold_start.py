"""Start-up: what a `stygaze generate` process and `stygaze --help` import (timings: scripts/bench_generate.py)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from stygaze.audio import save_audio

# never on the plain generate path: each costs 0.3-5 s to import
NOT_FOR_GENERATE = ("scipy.signal", "librosa", "transformers", "matplotlib", "numba")

PROBE = """
import json, sys
from stygaze.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def run_probe(*args):
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True, env=env)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), proc


def loaded(modules, names):
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


@pytest.mark.parametrize("sr", [16000, 44100])
def test_generate_imports_only_what_it_needs(tmp_path, sr):
    t = np.arange(int(3.0 * sr)) / sr
    rng = np.random.default_rng(0)
    audio = ((np.sin(2 * np.pi * 4 * t) > 0) * rng.standard_normal(t.size) * 0.3).astype(np.float32)
    save_audio(tmp_path / "talk.wav", audio, sr)
    code, modules, proc = run_probe("generate", "--audio", tmp_path / "talk.wav", "-o", tmp_path / "out.npz")
    assert code == 0, proc.stderr
    assert (tmp_path / "out.npz").exists()
    assert "torch" in modules and "stygaze.stygazetalk.pipeline" in modules  # the probe saw the real job
    assert loaded(modules, NOT_FOR_GENERATE) == []
    if sr != 16000:
        assert "soxr" in modules  # resampled, without librosa


def test_help_imports_no_model_code():
    code, modules, proc = run_probe("--help")
    assert code == 0 and "generate" in proc.stdout
    assert loaded(modules, ("torch", "scipy", *NOT_FOR_GENERATE)) == []
