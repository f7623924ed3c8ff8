"""PyTorch datasets over a corpus: training windows and contrastive style pairs.

* :class:`MotionWindowDataset`: fixed-length windows (``window`` frames every ``hop``
  frames) of motion with the aligned audio samples, or with audio features from a
  pluggable ``feature_fn`` (a mel or wav2vec2 encoder's numpy front end), computed once per
  session and cached.
* :class:`StylePairDataset`: two windows of the same session (positives for the NT-Xent
  style encoder), re-drawn every epoch from a seed.

Frame ``t`` of a session covers audio samples ``[t·640, (t+1)·640)`` (16 kHz, 25 fps).
Windows with any NaN (tracker-loss) frame are skipped. Sessions are loaded into memory once
(audio as float32: ≈ 3.8 MB per minute).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from stygaze.audio import HOP
from stygaze.data.corpus import Corpus, Session
from stygaze.errors import DataError

try:  # torch is a core dependency, but keep the module importable for numpy-only use
    import torch
    from torch.utils.data import Dataset
except ImportError:  # pragma: no cover
    torch = None
    Dataset = object

FeatureFn = Callable[[np.ndarray], np.ndarray]
"""``feature_fn(audio (S,) float32 16 kHz) -> (T', F)`` features at 25 fps (T' ≈ S / 640)."""


def _resolve_sessions(source: Corpus | str | os.PathLike | Sequence[Session], split: str | None) -> list[Session]:
    if isinstance(source, (str, os.PathLike)):
        source = Corpus(source)
    if isinstance(source, Corpus):
        sessions = source.sessions(split)
    else:
        if split is not None:
            raise ValueError("split is only used with a corpus folder, not a list of sessions")
        sessions = list(source)
    if not sessions:
        raise DataError("no sessions to read windows from" + (f" (split {split!r} is empty)" if split else ""))
    return sessions


def _fit_length(x: np.ndarray, T: int) -> np.ndarray:
    """Crop or edge-pad the first axis of ``x`` to ``T``."""
    if len(x) >= T:
        return x[:T]
    if len(x) == 0:
        raise DataError("feature_fn returned no frames")
    pad = np.repeat(x[-1:], T - len(x), axis=0)
    return np.concatenate([x, pad], axis=0)


@dataclass
class _Clip:
    motion: np.ndarray  # (T, 7) float32
    blink: np.ndarray  # (T,) float32 (zeros when the session has none)
    audio: np.ndarray | None  # (T*640,) float32
    features: np.ndarray | None  # (T, F) float32
    style: np.ndarray | None  # (P,) float32 ground-truth style vector (SynHAGE)
    valid_starts: np.ndarray  # (W,) int64 window starts without NaN


class MotionWindowDataset(Dataset):
    """Training windows of motion + audio (or audio features).

    Args:
        source: a corpus folder, a :class:`~stygaze.data.corpus.Corpus`, or a list of sessions.
        split: ``"train"``/``"val"``/``"test"`` from ``splits.json`` (None = every session).
        window: frames per window (100 = 4 s, the style-window length).
        hop: frames between window starts.
        feature_fn: optional :data:`FeatureFn`; when given, items carry ``features`` instead of
            ``audio``. Its output is cropped / edge-padded to the motion length.
        with_audio: include raw ``audio`` when there is no ``feature_fn``.
        normalize_audio: per-clip zero mean / unit variance audio (stygaze's convention).

    Items are dicts of tensors:
        ``motion`` (L, 7) float32 degrees; ``blink`` (L,) float32 0..1; ``audio``
        (L·640,) float32 or ``features`` (L, F) float32; ``session`` () int64 index into
        :attr:`sessions`; ``start`` () int64 first frame; ``style`` (P,) float32 when every
        session has a SynHAGE ``style_vector``.
    """

    def __init__(
        self,
        source: Corpus | str | os.PathLike | Sequence[Session],
        *,
        split: str | None = None,
        window: int = 100,
        hop: int = 50,
        feature_fn: FeatureFn | None = None,
        with_audio: bool = True,
        normalize_audio: bool = True,
    ) -> None:
        if window < 1 or hop < 1:
            raise ValueError(f"window and hop must be positive, got {window}, {hop}")
        self.window, self.hop = int(window), int(hop)
        self.sessions = _resolve_sessions(source, split)
        self.feature_fn = feature_fn
        self.clips: list[_Clip] = []
        for s in self.sessions:
            self.clips.append(self._load(s, with_audio or feature_fn is not None, normalize_audio))
        self.has_style = all(c.style is not None for c in self.clips)
        index = [(i, int(st)) for i, c in enumerate(self.clips) for st in c.valid_starts]
        if not index:
            raise DataError(f"no NaN-free window of {window} frames in {len(self.sessions)} session(s)")
        self.index = np.asarray(index, dtype=np.int64)  # (N, 2) session, start

    def _load(self, s: Session, need_audio: bool, normalize: bool) -> _Clip:
        m = s.load_motion()
        T = len(m)
        audio = features = None
        if need_audio:
            a = s.load_audio(normalize=normalize)
            audio = np.zeros(T * HOP, np.float32)
            n = min(len(a), T * HOP)
            audio[:n] = a[:n]
            if self.feature_fn is not None:
                f = np.asarray(self.feature_fn(audio), dtype=np.float32)
                if f.ndim != 2:
                    raise DataError(f"feature_fn must return (frames, features), got shape {f.shape}")
                features = _fit_length(f, T)
                audio = None
        style = None
        doc = s.load_style()
        if doc and "style_vector" in doc:
            style = np.asarray(doc["style_vector"], dtype=np.float32)
        bad = np.isnan(m.data).any(axis=1)
        starts = np.arange(0, T - self.window + 1, self.hop, dtype=np.int64)
        if len(starts) and bad.any():
            csum = np.concatenate([[0], np.cumsum(bad)])
            starts = starts[csum[starts + self.window] - csum[starts] == 0]
        blink = m.blink if m.blink is not None else np.zeros(T, np.float32)
        return _Clip(m.data, np.nan_to_num(blink), audio, features, style, starts)

    def __len__(self) -> int:
        return len(self.index)

    def window_arrays(self, session: int, start: int) -> dict[str, np.ndarray]:
        """The numpy arrays of one window (see the class docstring for keys and shapes)."""
        c = self.clips[session]
        L = self.window
        out = {
            "motion": c.motion[start : start + L],
            "blink": c.blink[start : start + L],
            "session": np.asarray(session, np.int64),
            "start": np.asarray(start, np.int64),
        }
        if c.features is not None:
            out["features"] = c.features[start : start + L]
        elif c.audio is not None:
            out["audio"] = c.audio[start * HOP : (start + L) * HOP]
        if self.has_style:
            out["style"] = c.style
        return out

    def __getitem__(self, i: int) -> dict:
        session, start = self.index[i]
        return {k: torch.from_numpy(np.array(v)) for k, v in self.window_arrays(int(session), int(start)).items()}


class StylePairDataset(Dataset):
    """Contrastive style pairs: two windows of one session (positives for NT-Xent).

    Args:
        source, split, window: as :class:`MotionWindowDataset` (motion only, no audio).
        pairs_per_session: items per session per epoch.
        seed: the pairs drawn for (epoch, item) are a pure function of the seed.
        min_separation: preferred minimum distance in frames between the two windows'
            starts (relaxed when the session is too short).

    Items: ``a`` (L, 7), ``b`` (L, 7) float32 degrees, ``session`` () int64, and ``style``
    (P,) when every session has a SynHAGE ``style_vector``. Call :meth:`set_epoch` to draw new pairs.
    """

    def __init__(
        self,
        source: Corpus | str | os.PathLike | Sequence[Session],
        *,
        split: str | None = None,
        window: int = 100,
        pairs_per_session: int = 16,
        seed: int = 0,
        min_separation: int | None = None,
    ) -> None:
        self.windows = MotionWindowDataset(source, split=split, window=window, hop=max(1, window // 4), with_audio=False)
        self.window = window
        self.pairs_per_session = int(pairs_per_session)
        self.seed = int(seed)
        self.epoch = 0
        self.min_separation = window if min_separation is None else int(min_separation)
        self.sessions = self.windows.sessions
        counts = np.array([len(c.valid_starts) for c in self.windows.clips])
        self.usable = np.flatnonzero(counts >= 1)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.usable) * self.pairs_per_session

    def __getitem__(self, i: int) -> dict:
        session = int(self.usable[i // self.pairs_per_session])
        clip = self.windows.clips[session]
        rng = np.random.default_rng([self.seed, self.epoch, int(i)])
        T = len(clip.motion)
        starts = clip.valid_starts
        a = int(starts[rng.integers(len(starts))])
        # any NaN-free start, preferably far from a: draw from the full frame range, keep valid ones
        cand = np.arange(0, T - self.window + 1)
        if np.isnan(clip.motion).any():
            bad = np.isnan(clip.motion).any(axis=1)
            csum = np.concatenate([[0], np.cumsum(bad)])
            cand = cand[csum[cand + self.window] - csum[cand] == 0]
        far = cand[np.abs(cand - a) >= self.min_separation]
        pool = far if len(far) else cand
        b = int(pool[rng.integers(len(pool))])
        out = {
            "a": torch.from_numpy(np.array(clip.motion[a : a + self.window])),
            "b": torch.from_numpy(np.array(clip.motion[b : b + self.window])),
            "session": torch.tensor(session, dtype=torch.int64),
        }
        if self.windows.has_style:
            out["style"] = torch.from_numpy(np.array(clip.style))
        return out
