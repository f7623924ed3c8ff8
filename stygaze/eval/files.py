"""Evaluate motion files on disk: pair predictions with ground truth (and audio) by name.

``pred`` and ``gt`` are both ``.npz`` files or both folders. Folders are paired by file
name: every ``*.npz`` in the prediction folder needs a file of the same name in the
ground-truth folder (extra ground-truth files are ignored). Audio is a file (for a single
pair) or a folder searched by the clip's stem for one of :data:`AUDIO_SUFFIXES`.
Predictions must be finite; ground truth may hold NaN where the tracker lost the eyes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stygaze.audio import FPS, SAMPLE_RATE, load_audio
from stygaze.errors import AudioError, DataError, MotionFormatError
from stygaze.eval.report import EvalAccumulator, align_pair
from stygaze.motion import Motion

AUDIO_SUFFIXES: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus")
"""Audio file suffixes looked for in an audio folder, in order of preference."""


@dataclass(frozen=True)
class ClipPair:
    """One clip to evaluate: its name (the file stem) and the paths."""

    name: str
    pred: Path
    gt: Path
    audio: Path | None = None


def _find_audio(folder: Path, stem: str) -> Path:
    for suffix in AUDIO_SUFFIXES:
        for cand in (folder / f"{stem}{suffix}", folder / f"{stem}{suffix.upper()}"):
            if cand.is_file():
                return cand
    raise AudioError(f"no audio for clip '{stem}' in {folder} (looked for {stem}{{{','.join(AUDIO_SUFFIXES)}}})")


def pair_paths(
    pred: str | os.PathLike,
    gt: str | os.PathLike,
    audio: str | os.PathLike | None = None,
) -> list[ClipPair]:
    """Pair prediction, ground-truth and audio paths (see the module docstring).

    Raises:
        MotionFormatError / DataError / AudioError: a missing path, a file given with a
            folder, an empty folder, a prediction without ground truth, a clip without audio.
    """
    pred, gt = Path(pred), Path(gt)
    audio = None if audio is None else Path(audio)
    for label, path in (("prediction", pred), ("ground truth", gt)):
        if not path.exists():
            raise MotionFormatError(f"{label} path not found: {path}")
    if audio is not None and not audio.exists():
        raise AudioError(f"audio path not found: {audio}")
    if pred.is_dir() != gt.is_dir():
        raise DataError(f"--pred and --gt must both be files or both be folders ({pred}, {gt})")
    if pred.is_file():
        a = None
        if audio is not None:
            a = _find_audio(audio, pred.stem) if audio.is_dir() else audio
        return [ClipPair(pred.stem, pred, gt, a)]
    if audio is not None and not audio.is_dir():
        raise DataError(f"--audio must be a folder when --pred and --gt are folders, got the file {audio}")
    files = sorted(p for p in pred.iterdir() if p.suffix == ".npz" and p.is_file())
    if not files:
        raise DataError(f"no .npz motion files in {pred}")
    missing = [p.name for p in files if not (gt / p.name).is_file()]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DataError(f"no ground truth in {gt} for {shown} (files are paired by name)")
    return [ClipPair(p.stem, p, gt / p.name, None if audio is None else _find_audio(audio, p.stem)) for p in files]


def evaluate_pairs(pairs: Iterable[ClipPair], *, progress=None, **options) -> dict:
    """Load every pair (motion + audio) and pool the metrics; see :class:`EvalAccumulator`.

    Two passes: the first reads and checks every file (motion contract, pred/gt lengths
    and fps, audio decodable and as long as the motion), so a bad file anywhere raises a
    :class:`~stygaze.errors.StygazeError` naming it before any slow metric runs; the second
    computes the metrics (audio is decoded again rather than held in memory).

    Args:
        pairs: the clips (see :func:`pair_paths`).
        progress: optional wrapper for the second pass's iterable (e.g. ``tqdm``).
        **options: :class:`EvalAccumulator` settings.
    """
    acc = EvalAccumulator(**options)
    loaded = []
    for pair in pairs:
        # tracker loss (NaN) is a property of recordings: allowed in ground truth only
        pred, gt = Motion.load(pair.pred, allow_nan=False), Motion.load(pair.gt)
        pred, gt = align_pair(pred, gt, max_length_diff=acc.max_length_diff, name=pair.name)
        if pair.audio is not None:
            seconds = len(load_audio(pair.audio, normalize=False)) / SAMPLE_RATE
            if abs(seconds - len(pred) / FPS) > acc.audio_tolerance_s:
                raise AudioError(
                    f"{pair.audio}: audio lasts {seconds:.2f} s but the motion {len(pred) / FPS:.2f} s "
                    f"(at most {acc.audio_tolerance_s:g} s apart is accepted)"
                )
        loaded.append((pair, pred, gt))
    for pair, pred, gt in progress(loaded) if progress else loaded:
        samples = None if pair.audio is None else load_audio(pair.audio, normalize=False)
        acc.add(pred, gt, samples, SAMPLE_RATE, name=pair.name)
    return acc.result()
