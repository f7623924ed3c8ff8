"""Training windows and contrastive style pairs."""

import numpy as np
import pytest
import torch

from stygaze.audio import save_audio
from stygaze.data.corpus import Corpus
from stygaze.data.windows import MotionWindowDataset, StylePairDataset
from stygaze.errors import DataError
from stygaze.motion import Motion


def test_window_items_shapes_and_alignment(small_corpus):
    ds = MotionWindowDataset(small_corpus, window=100, hop=50)
    # 45 s = 1125 frames -> starts 0, 50, ..., 1000: 21 windows per session
    assert len(ds) == 4 * 21
    item = ds[22]
    assert item["motion"].shape == (100, 7) and item["motion"].dtype == torch.float32
    assert item["audio"].shape == (100 * 640,)
    assert item["blink"].shape == (100,)
    assert int(item["session"]) == 1 and int(item["start"]) == 50
    assert item["style"].shape == (len(small_corpus.sessions()[0].load_style()["style_vector"]),)
    m = small_corpus.sessions()[1].load_motion()
    np.testing.assert_array_equal(item["motion"].numpy(), m.data[50:150])
    a = small_corpus.sessions()[1].load_audio()
    np.testing.assert_array_equal(item["audio"].numpy(), a[50 * 640 : 150 * 640])
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=5)))
    assert batch["motion"].shape == (5, 100, 7) and batch["audio"].shape == (5, 64000)


def test_split_and_feature_fn(small_corpus):
    calls = []

    def mel_like(audio):
        calls.append(len(audio))
        frames = audio[: len(audio) // 640 * 640].reshape(-1, 640)
        return np.stack([frames.std(1), np.abs(frames).max(1)], 1)[:-3]  # 3 frames short: padded

    ds = MotionWindowDataset(small_corpus.root, split="train", window=50, hop=50, feature_fn=mel_like)
    assert len(ds.sessions) == 2 and len(calls) == 2  # computed once per session
    item = ds[0]
    assert item["features"].shape == (50, 2) and "audio" not in item
    last = ds.window_arrays(0, len(ds.clips[0].motion) - 50)["features"]
    np.testing.assert_array_equal(last[-1], last[-4])  # edge padding


def test_nan_windows_are_skipped(tmp_path):
    root = tmp_path / "c"
    (root / "a").mkdir(parents=True)
    data = np.zeros((300, 7), np.float32)
    data[120:130] = np.nan
    Motion(data, 25).save(root / "a" / "motion.npz")
    save_audio(root / "a" / "audio.wav", np.random.default_rng(0).normal(0, 0.1, 300 * 640).astype(np.float32))
    ds = MotionWindowDataset(Corpus(root), window=100, hop=10)
    starts = {int(ds[i]["start"]) for i in range(len(ds))}
    assert starts == {0, 10, 20, 130, 140, 150, 160, 170, 180, 190, 200}
    assert "style" not in ds[0]
    with pytest.raises(DataError, match="no NaN-free window"):
        MotionWindowDataset(Corpus(root), window=290)


def test_style_pairs_same_session_deterministic(small_corpus):
    ds = StylePairDataset(small_corpus, window=100, pairs_per_session=3, seed=1)
    assert len(ds) == 12
    item = ds[4]
    s = int(item["session"])
    assert s == 1 and item["a"].shape == item["b"].shape == (100, 7)
    m = small_corpus.sessions()[s].load_motion().data
    # both windows come from that session, and they are different windows
    def find(w):
        hits = [t for t in range(len(m) - 99) if np.array_equal(m[t : t + 100], w.numpy())]
        assert len(hits) == 1
        return hits[0]

    assert abs(find(item["a"]) - find(item["b"])) >= 100
    again = ds[4]
    assert torch.equal(again["a"], item["a"]) and torch.equal(again["b"], item["b"])
    ds.set_epoch(1)
    assert not torch.equal(ds[4]["a"], item["a"])
