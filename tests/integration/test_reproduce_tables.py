"""scripts/reproduce_tables.py end to end at ``--scale tiny``: tables, style analysis, reproducibility.

The two full runs happen in one process (``main(argv)``) so librosa's beat tracker and numba
compile once; each run trains every row from scratch in its own runs folder.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import reproduce_tables  # noqa: E402

PAPER_ROWS = ["Base", "SE-32", "SE-64", "SE-64-VEL", "TFM-SE-64"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return reproduce_tables.make_tiny_corpus(tmp_path_factory.mktemp("c") / "corpus", sessions=5, minutes=0.2)


def _run(corpus, tmp, name):
    out = tmp / f"out_{name}"
    argv = ["--scale", "tiny", "--seed", "3", "--data", str(corpus), "--out", str(out), "--runs", str(tmp / f"runs_{name}")]
    assert reproduce_tables.main(argv) == 0
    res = json.loads((out / "tables.json").read_text())
    res["meta"].pop("runtime_s")
    return out, res


@pytest.mark.slow
@pytest.mark.slow
def test_tiny_run_twice_same_numbers(corpus, tmp_path):
    out, a = _run(corpus, tmp_path, "a")
    rows = PAPER_ROWS + ["SE-64-VEL+z", "Procedural", "Static gaze", "GT"]
    assert list(a["table2"]) == rows
    for row in rows:
        assert set(a["table2"][row]) == {"all", "gaze", "head"}
        assert set(a["table2"][row]["all"]) == {"mae", "vel", "mee", "ce", "bas"}
        assert set(a["table4"][row]) >= {"fix_ratio", "comp", "sim"}
    gt = a["table2"]["GT"]["all"]
    assert gt["mae"] == 0 and gt["vel"] == 0 and gt["ce"] == 0 and a["table4"]["GT"]["sim"] == 1.0
    assert all(a["table2"][r]["all"]["mae"] > 0 for r in PAPER_ROWS)
    # the static-gaze row: zero eye-in-head angles, head identical to its source row's head
    src = a["findings"]["static_gaze_head_from"]
    assert a["table2"]["Static gaze"]["head"] == a["table2"][src]["head"]
    assert "Mean head" in a["table3"]
    # style analysis present, with finite accuracies in [0, 1]
    assert 0.0 <= a["style"]["knn_session_accuracy_gt"] <= 1.0
    assert set(a["style"]["transfer"]["per_stat"]) == {"fix_ratio", "saccade_rate", "head_share", "gaze_pitch", "head_roll"}
    for f in ("tables.md", "style_tsne.png", "style_transfer.png"):
        assert (out / f).stat().st_size > 0
    md = (out / "tables.md").read_text()
    assert "| TFM-SE-64 |" in md and "Table IV" in md
    _, b = _run(corpus, tmp_path, "b")
    assert a == b  # same seed, retrained from scratch -> identical numbers


def test_missing_corpus_is_one_line_exit_2(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "reproduce_tables.py"), "--scale", "tiny", "--data", str(tmp_path / "nope"), "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no splits.json" in proc.stderr
    assert not (out / "tables.json").exists()


def test_runs_made_before_a_config_field_existed_are_still_reused():
    """A generator field added later (here beat_feature / beat_context) at its default does not force a retrain."""
    old = {"kind": "generator", "config": {"generator": {"d": 8, "M": 6}}, "data": "/c"}
    new = {"kind": "generator", "config": {"generator": {"d": 8, "M": 6, "beat_feature": False, "beat_context": 150}}, "data": "/c"}
    assert reproduce_tables.without_new_defaults(new, old) == old
    changed = {"kind": "generator", "config": {"generator": {"d": 8, "M": 6, "beat_feature": True, "beat_context": 150}}, "data": "/c"}
    assert reproduce_tables.without_new_defaults(changed, old) != old  # a non-default value is a different run
