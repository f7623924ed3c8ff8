"""scripts/check_real.py end to end on a stand-in real-data folder the test writes itself.

The real clips are never needed by the tests: this folder has the loader's interface
(``head_gaze``, ``to_25fps``, ``speech_files``, ``conversation_fixations``) over synthetic
speech and head motion, so the script's wiring, its checks and its JSON are exercised.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gen_fixtures import make_session_arrays
from stygaze.audio import save_audio

REPO = Path(__file__).resolve().parents[2]

LOADER = '''
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def head_gaze(kind="best"):
    out = []
    for c in json.loads((HERE / "clips.json").read_text()):
        out.append({"name": c["name"], "fps": 25.0, "motion": np.load(HERE / c["motion"]), "audio": str(HERE / c["audio"])})
    return out


def to_25fps(motion, fps):
    return motion


def speech_files():
    return [{"path": HERE / c["audio"], "language": "xx"} for c in json.loads((HERE / "clips.json").read_text())[:2]]


def conversation_fixations():
    return {k: np.asarray(v) for k, v in json.loads((HERE / "fixations.json").read_text()).items()}
'''


@pytest.fixture(scope="module")
def real_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("real")
    (d / "load_real.py").write_text(LOADER)
    rng = np.random.default_rng(0)
    clips = []
    for k, name in enumerate(["anna_clip1", "anna_clip2", "ben_clip1", "ben_clip2"]):
        audio, _ = make_session_arrays(6.0, 0.3 * k, k)
        save_audio(d / f"{name}.wav", audio)
        T = 150
        motion = np.zeros((T, 7), np.float32)
        motion[:, :3] = np.cumsum(rng.normal(0, 0.4 + 0.2 * k, (T, 3)), axis=0)
        motion[:, 3:] = rng.normal(0, 2.0, (T, 4))
        np.save(d / f"{name}.npy", motion)
        clips.append({"name": name, "motion": f"{name}.npy", "audio": f"{name}.wav"})
    (d / "clips.json").write_text(json.dumps(clips))
    n = 120  # two speakers' fixation tables: 3 segments of 40 fixations
    fix = {"participant": [i // 40 for i in range(n)], "segment": [0] * n, "label": ["SPEAK"] * n,
           "fix_idx": [i % 40 for i in range(n)], "duration_ms": rng.uniform(100, 400, n).tolist(),
           "onset_interval_ms": rng.uniform(150, 500, n).tolist(), "center_x_deg": rng.normal(0, 3, n).tolist(),
           "center_y_deg": rng.normal(0, 2, n).tolist()}
    (d / "fixations.json").write_text(json.dumps(fix))
    return d


@pytest.mark.slow
def test_check_real_runs_on_a_stand_in_folder(real_dir, tmp_path):
    before = sorted(p.name for p in real_dir.iterdir())
    out = tmp_path / "real.json"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "check_real.py"), "--real", str(real_dir), "--seeds", "1",
                           "--json", str(out), "--plots", str(tmp_path / "img")], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["clips"] == ["anna_clip1", "anna_clip2", "ben_clip1", "ben_clip2"]
    rows = {r["row"]: r for r in res["table"]}
    assert {"real", "neutral", "style", "neutral, no beat alignment", "style, speaker's other clips", "static"} <= set(rows)
    assert rows["static"]["speed_deg_s"] == 0.0 and rows["neutral"]["speed_deg_s"] > 0
    for key in ("own_minus_other", "no_alignment_own_minus_other", "real_own_minus_other_beats", "own_minus_other_standard_error"):
        assert np.isfinite(res["bas"][key])
    assert res["bas_real_speech"]["recordings"] == 2
    for name in ("style_half_way_towards_the_speakers_pooled_figures_on_at_least_5_of_7",
                 "style_half_way_towards_the_reference_clips_figures_on_at_least_5_of_7",
                 "ideal_one_clip_transfer_towards_the_reference (ceiling; reported, not required)"):
        assert isinstance(res["checks"][name]["pass"], bool)
    # an ideal transfer reaches the reference clip by construction; the statistics matching gets there too
    assert res["checks"]["ideal_one_clip_transfer_towards_the_reference (ceiling; reported, not required)"]["value"] == 4
    assert (tmp_path / "img" / "real_head_curves.png").exists()
    assert sorted(p.name for p in real_dir.iterdir() if p.name != "__pycache__") == [b for b in before if b != "__pycache__"]


def test_check_real_without_a_loader_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "check_real.py"), "--real", str(tmp_path), "--json", str(tmp_path / "x.json")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode != 0 and "load_real.py" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.json").exists()
