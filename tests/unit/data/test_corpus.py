"""Corpus layout, splits, checker, and the SynHAGE writer."""

import json
import shutil

import numpy as np
import pytest

from stygaze.data.corpus import Corpus, Session, check_corpus, make_splits, synth_corpus
from stygaze.errors import DataError
from stygaze.motion import Motion


def test_splits_partition_sessions_deterministically():
    names = [f"s{i:03d}" for i in range(24)]
    a = make_splits(names, seed=0)
    assert a == make_splits(list(reversed(names)), seed=0)
    assert sorted(a["train"] + a["val"] + a["test"]) == names
    assert len(a["val"]) == len(a["test"]) == 2
    assert a != make_splits(names, seed=1)
    assert make_splits(["x"], 0) == {"train": ["x"], "val": [], "test": []}
    two = make_splits(["x", "y"], 0)
    assert len(two["train"]) == len(two["val"]) == 1


def test_generated_corpus_layout_and_check(small_corpus):
    root = small_corpus.root
    sessions = small_corpus.sessions()
    assert [s.name for s in sessions] == ["s000", "s001", "s002", "s003"]
    splits = small_corpus.splits()
    assert sum(len(v) for v in splits.values()) == 4 and len(splits["train"]) == 2
    assert [s.name for s in small_corpus.sessions("val")] == splits["val"]
    s = sessions[0]
    m = s.load_motion()
    assert len(m) == 45 * 25 and m.blink is not None
    assert len(s.load_audio()) == 45 * 16000
    style = s.load_style()
    assert style["synthesizer"] == "synhage-2" and len(style["style_vector"]) == len(style["param_names"])
    assert style["speech"]["source"] == "espeak-ng" and style["speech"]["speaker"]["voice"]
    events = s.load_events()
    assert len(events["gaze"]) == len(m)
    assert not list(root.glob(".*"))  # no temporary folders left behind
    report = check_corpus(root)
    assert report.ok, [str(p) for p in report.problems]
    assert report.sessions == 4 and abs(report.seconds - 180) < 1


def test_check_reports_problems_per_file(small_corpus, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(small_corpus.root, root)
    (root / "s000" / "audio.wav").unlink()
    (root / "s001" / "motion.npz").write_bytes(b"not a zip")
    m = Motion.load(root / "s002" / "motion.npz")
    m.slice(0, 400).save(root / "s002" / "motion.npz")  # 16 s of motion for 45 s of audio
    (root / "s003" / "events.json").write_text("{broken")
    (root / "splits.json").write_text(json.dumps({"train": ["s000", "ghost"], "val": ["s000"]}))
    report = check_corpus(root)
    text = "\n".join(str(p) for p in report.problems)
    assert "s000/audio.wav: missing audio file" in text
    assert "s001/motion.npz" in text and "not a valid .npz" in text
    assert "s002/audio.wav: audio is 45.00 s but motion is 16.00 s" in text
    assert "s003/events.json: not valid JSON" in text
    assert "unknown session 'ghost'" in text and "in both 'train' and 'val'" in text
    assert len(report.problems) == 6 and not report.ok


def test_check_flags_nan_and_fps(tmp_path):
    from stygaze.audio import save_audio

    root = tmp_path / "c"
    (root / "a").mkdir(parents=True)
    data = np.zeros((100, 7), np.float32)
    data[:80] = np.nan
    Motion(data, 25).save(root / "a" / "motion.npz")
    save_audio(root / "a" / "audio.wav", np.zeros(64000, np.float32))
    (root / "b").mkdir()
    Motion(np.zeros((120, 7), np.float32), 30).save(root / "b" / "motion.npz")
    save_audio(root / "b" / "audio.wav", np.zeros(64000, np.float32))
    (root / "empty").mkdir()
    text = "\n".join(str(p) for p in check_corpus(root).problems)
    assert "80 % of frames are NaN" in text
    assert "fps is 30, expected 25" in text
    assert "empty/motion.npz: missing motion file" in text


def test_check_usage_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        check_corpus(tmp_path / "nope")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(DataError, match="not a directory"):
        check_corpus(f)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sessions": 0, "minutes": 1}, "--sessions"),
        ({"sessions": 1, "minutes": -1}, "--minutes"),
        ({"sessions": 1, "minutes": 0.01}, "shorter than"),
    ],
)
def test_synth_corpus_bad_numbers(tmp_path, kwargs, match):
    with pytest.raises(DataError, match=match):
        synth_corpus(tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_synth_corpus_refuses_existing_output_and_cleans_up_on_failure(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="already exists"):
        synth_corpus(out, sessions=1, minutes=0.1, progress=False)
    assert (out / "keep.txt").read_text() == "mine"
    # a failure half-way (the second user file is unreadable) leaves nothing behind
    from stygaze.audio import save_audio

    audio_dir = tmp_path / "wavs"
    audio_dir.mkdir()
    t = np.arange(16000 * 4) / 16000
    save_audio(audio_dir / "a.wav", (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32))
    (audio_dir / "b.wav").write_bytes(b"RIFF garbage")
    out2 = tmp_path / "out2"
    with pytest.raises(Exception):
        synth_corpus(out2, sessions=2, minutes=0.05, audio_dir=audio_dir, progress=False)
    assert not out2.exists()


def test_corpus_errors(tmp_path):
    with pytest.raises(DataError):
        Corpus(tmp_path / "missing")
    c = Corpus(tmp_path)
    assert c.sessions() == []
    with pytest.raises(DataError, match="splits"):
        c.sessions("train")


def test_noise_free_motion_is_the_session_without_tracker_noise(small_corpus, tmp_path):
    from stygaze.data.corpus import noise_free_motion
    from stygaze.eval.patterns import fix_ratio

    session = small_corpus.sessions()[1].root
    stored = Motion.load(session / "motion.npz")
    clean = noise_free_motion(session)
    assert clean.data.shape == stored.data.shape
    assert np.array_equal(clean.data[:, :3], stored.data[:, :3])  # the head is the same motion
    diff = (stored.data[:, 3:] - clean.data[:, 3:]).ravel()
    assert 0.1 < np.nanstd(diff) < 0.5  # the eyes differ by the simulated tracker noise only (~0.24°)
    assert fix_ratio(clean) > fix_ratio(stored) + 0.1
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "style.json").write_text("{}")
    with pytest.raises(DataError, match="corpus_seed"):
        noise_free_motion(tmp_path / "s")
    (tmp_path / "s" / "style.json").write_text('{"corpus_seed": 0, "session_index": 1}')
    with pytest.raises(DataError, match="audio.wav is missing"):
        noise_free_motion(tmp_path / "s")


def test_session_seeds_do_not_depend_on_the_corpus_size():
    from stygaze.data.corpus import session_seeds

    for i in (0, 3, 23):
        expected = np.random.SeedSequence(7).spawn(24)[i].spawn(2)
        got = session_seeds(7, i)
        assert all(np.array_equal(e.generate_state(4), g.generate_state(4)) for e, g in zip(expected, got))
    assert not np.array_equal(session_seeds(7, 1)[1].generate_state(4), session_seeds(7, 2)[1].generate_state(4))


# --- the reader every trainer uses ----------------------------------------------------------------
def _tiny(root, names=("a", "b", "c", "d"), splits=None, T=50):
    from stygaze.audio import save_audio

    for i, n in enumerate(names):
        (root / n).mkdir(parents=True)
        Motion(np.full((T, 7), float(i), np.float32), 25).save(root / n / "motion.npz")
        save_audio(root / n / "audio.wav", np.zeros(T * 640, np.float32))
    if splits is not None:
        (root / "splits.json").write_text(json.dumps(splits))
    return root


def test_load_split_reads_motion_and_audio_in_split_order(tmp_path):
    from stygaze.data.corpus import load_split

    root = _tiny(tmp_path / "c", splits={"train": ["c", "a"], "val": ["b"], "test": []})
    Motion(np.zeros((60, 7), np.float32), 30).save(root / "a" / "motion.npz")  # resampled to 25 fps
    train = load_split(root, "train", with_audio=True)
    assert [s.name for s in train] == ["c", "a"] and train[1].motion.shape == (50, 7) and train[0].audio.shape == (32000,)
    assert load_split(root, "train")[0].audio is None
    with pytest.raises(DataError, match="no sessions in split 'test'"):
        load_split(root, "test")
    with pytest.raises(DataError, match="no split 'nope'"):
        load_split(root, "nope")
    (root / "b" / "audio.wav").unlink()
    with pytest.raises(DataError, match="has no audio.wav"):
        load_split(root, "val", with_audio=True)
    (root / "splits.json").write_text(json.dumps({"train": ["a", "ghost"]}))
    with pytest.raises(DataError, match="no motion file .*ghost"):
        load_split(root, "train")
    with pytest.raises(DataError, match="corpus folder not found"):
        load_split(tmp_path / "nowhere", "train")


def test_split_sessions_with_and_without_splits_file(tmp_path):
    from stygaze.data.corpus import list_sessions

    root = _tiny(tmp_path / "c", names=[f"s{i}" for i in range(7)])
    seeded = Corpus(root).split_sessions(0.15, 0.15, seed=3)
    assert sorted(s.name for v in seeded.values() for s in v) == [f"s{i}" for i in range(7)]
    assert len(seeded["test"]) == len(seeded["val"]) == 1 and seeded == Corpus(root).split_sessions(0.15, 0.15, seed=3)
    assert seeded != Corpus(root).split_sessions(0.15, 0.15, seed=4)
    (root / "splits.json").write_text(json.dumps({"train": ["s2", "s0"], "val": ["s1"]}))
    listed = Corpus(root).split_sessions(0.15, 0.15, seed=3)
    assert {k: [s.name for s in v] for k, v in listed.items()} == {"train": ["s2", "s0"], "val": ["s1"], "test": []}
    (root / "splits.json").write_text(json.dumps({"val": ["s1"]}))
    with pytest.raises(DataError, match="lists no train session"):
        Corpus(root).split_sessions(0.15, 0.15, seed=3)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no sessions with motion.npz"):
        list_sessions(tmp_path / "empty")


def test_fingerprint_follows_membership_and_motion(tmp_path):
    from stygaze.data.corpus import fingerprint

    root = _tiny(tmp_path / "c")
    c = Corpus(root)
    s = {n: Session(root / n) for n in "abcd"}
    base = fingerprint({"train": [s["a"], s["b"]], "val": [s["c"]]})
    assert base == fingerprint({"train": [s["a"], s["b"]], "val": [s["c"]]}) and len(base) == 16
    assert base != fingerprint({"train": [s["a"]], "val": [s["b"], s["c"]]})
    moved = tmp_path / "moved"
    shutil.copytree(root, moved)
    assert fingerprint({"train": [Session(moved / "a"), Session(moved / "b")], "val": [Session(moved / "c")]}) == base
    Motion(np.ones((50, 7), np.float32) * 9, 25).save(root / "b" / "motion.npz")
    assert fingerprint({"train": [s["a"], s["b"]], "val": [s["c"]]}) != base
    assert len(c.sessions()) == 4


def test_load_motion_with_events_and_fps(tmp_path):
    root = _tiny(tmp_path / "c", names=["a"])
    (root / "a" / "events.json").write_text(json.dumps({"gesture": [0] * 50}))
    s = Session(root / "a")
    assert s.load_motion().events is None and s.load_motion(events=True).events == {"gesture": [0] * 50}
    assert len(s.load_motion(50.0)) == 100
    (root / "a" / "events.json").write_text("{broken")
    with pytest.raises(DataError, match="events.json: not valid JSON"):
        s.load_motion(events=True)
