"""Precomputed audio features for a corpus: computed once, memory-mapped by every loader.

``stygaze data features DIR`` runs an audio encoder's *fixed* front end
(:meth:`MelEncoder.features` — log-mel, energy, onset, pitch; or the frozen wav2vec2
backbone) over ``DIR/<session>/audio.wav`` and stores the result next to the session::

    DIR/<session>/features/<family>-<hash>.npy    (T, F) float32, T = 25 fps frames
    DIR/<session>/features/<family>-<hash>.json   {"encoder_id", "audio_size", "audio_mtime_ns", "shape", ...}

``<family>`` is the encoder id's first field (``mel-v1``, ``wav2vec2``) and ``<hash>`` the
first 12 hex digits of SHA-256 of the full encoder id, which spells the feature settings
(``mel-v1:n_mels=40,n_fft=1024,hop=640,f0=60-400``) but contains characters that do not
belong in file names. The learned part of an encoder (normalisation + projection) is never
cached, so one cache serves every model that uses the same front end.

A cache entry is *up to date* when its JSON names the same encoder id, the audio file has
the same size and modification time, and the ``.npy`` has the recorded shape; anything
else is recomputed. The ``.npy`` is written first and the JSON last (both atomically), so
an interrupted run never leaves an entry that looks valid.

Loaders call :func:`session_features`, which returns the cached array memory-mapped
(``np.load(mmap_mode=...)``: DDP processes and data-loader workers on one machine share
the page cache instead of each holding a copy) or computes it when there is no valid cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from stygaze.audio import load_audio
from stygaze.batch import process_map
from stygaze.errors import DataError, StygazeError
from stygaze.io import atomic_path
from stygaze.version import __version__

FEATURES_DIR = "features"
AUDIO_FILE = "audio.wav"


def cache_stem(encoder_id: str) -> str:
    """File stem for ``encoder_id``: ``<family>-<sha256[:12]>`` (e.g. ``mel-v1-1a2b3c4d5e6f``)."""
    family = "".join(c if c.isalnum() or c in "-_." else "_" for c in encoder_id.split(":")[0]) or "features"
    return f"{family}-{hashlib.sha256(encoder_id.encode()).hexdigest()[:12]}"


def cache_paths(session_dir: str | os.PathLike, encoder_id: str) -> tuple[Path, Path]:
    """``(npy, json)`` paths of the cache entry of ``encoder_id`` in ``session_dir``."""
    stem = Path(session_dir) / FEATURES_DIR / cache_stem(encoder_id)
    return stem.with_suffix(".npy"), stem.with_suffix(".json")


def _audio_stamp(audio_path: Path) -> dict[str, int]:
    st = audio_path.stat()
    return {"audio_size": int(st.st_size), "audio_mtime_ns": int(st.st_mtime_ns)}


def is_up_to_date(session_dir: str | os.PathLike, encoder_id: str, audio_name: str = AUDIO_FILE) -> bool:
    """True when the cached features of ``encoder_id`` match the session's current audio file."""
    session_dir = Path(session_dir)
    npy, meta_path = cache_paths(session_dir, encoder_id)
    audio = session_dir / audio_name
    if not (npy.exists() and meta_path.exists() and audio.exists()):
        return False
    try:
        meta = json.loads(meta_path.read_text())
        arr = np.load(npy, mmap_mode="r")  # reads the header only
    except (OSError, ValueError):
        return False
    return (
        meta.get("encoder_id") == encoder_id
        and meta.get("audio") == audio_name
        and {k: meta.get(k) for k in ("audio_size", "audio_mtime_ns")} == _audio_stamp(audio)
        and list(arr.shape) == list(meta.get("shape", []))
        and arr.dtype == np.float32
    )


def load_cached(session_dir: str | os.PathLike, encoder_id: str, *, mmap_mode: str | None = "r") -> np.ndarray | None:
    """The cached ``(T, F)`` float32 features memory-mapped, or ``None`` when missing or stale.

    ``mmap_mode="r"`` gives a read-only view (pages are read on first touch and shared
    between processes); ``"c"`` a copy-on-write view that ``torch.from_numpy`` accepts
    without a warning; ``None`` reads the array into memory.
    """
    if not is_up_to_date(session_dir, encoder_id):
        return None
    npy, _ = cache_paths(session_dir, encoder_id)
    return np.load(npy, mmap_mode=mmap_mode)


def write_cached(session_dir: str | os.PathLike, encoder_id: str, features: np.ndarray, audio_name: str = AUDIO_FILE) -> Path:
    """Store ``features`` ``(T, F)`` as the cache entry of ``encoder_id`` (atomic; ``.npy`` then JSON)."""
    session_dir = Path(session_dir)
    feats = np.ascontiguousarray(np.asarray(features, dtype=np.float32))
    if feats.ndim != 2:
        raise DataError(f"features must be (T, F), got shape {feats.shape}")
    npy, meta_path = cache_paths(session_dir, encoder_id)
    stamp = _audio_stamp(session_dir / audio_name)
    with atomic_path(npy) as tmp:
        np.save(tmp, feats)
    meta = {
        "encoder_id": encoder_id,
        "audio": audio_name,
        **stamp,
        "shape": list(feats.shape),
        "dtype": "float32",
        "fps": 25,
        "stygaze_version": __version__,
    }
    with atomic_path(meta_path) as tmp:
        tmp.write_text(json.dumps(meta, indent=1) + "\n")
    return npy


def session_features(session_dir: str | os.PathLike, encoder: Any, samples: np.ndarray | None = None) -> Any:
    """``(T, F)`` float32 torch tensor of ``encoder``'s fixed features for one session.

    Uses the cache (memory-mapped copy-on-write, so no copy is made unless the caller
    writes to it) when it is up to date, otherwise ``encoder.features(samples)`` with
    ``samples`` the session's 16 kHz audio (loaded from ``audio.wav`` when not given).
    Never writes the cache (``stygaze data features`` does).
    """
    import torch

    cached = load_cached(session_dir, encoder.encoder_id, mmap_mode="c")
    if cached is not None:
        return torch.from_numpy(cached)
    if samples is None:
        samples = load_audio(Path(session_dir) / AUDIO_FILE)
    return encoder.features(samples)


# --------------------------------------------------------------------------------------
# precomputing a corpus
# --------------------------------------------------------------------------------------
@dataclass
class FeatureCacheReport:
    """What :func:`precompute_features` did: session names per outcome, failures with a reason."""

    encoder_id: str
    computed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"features {cache_stem(self.encoder_id)}: {len(self.computed)} computed, "
            f"{len(self.skipped)} up to date, {len(self.failed)} failed"
        )


def find_sessions(data_dir: str | os.PathLike) -> list[Path]:
    """Every ``DIR/<session>/`` that holds an ``audio.wav``, sorted by name (hidden folders skipped).

    Raises:
        DataError: ``DIR`` is not a folder or holds no session with audio.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"corpus folder not found: {data_dir}")
    sessions = sorted(
        p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / AUDIO_FILE).is_file()
    )
    if not sessions:
        raise DataError(f"{data_dir} has no session folders with {AUDIO_FILE} (expected DIR/<session>/{AUDIO_FILE})")
    return sessions


def make_feature_encoder(name: str, **kwargs: Any) -> Any:
    """The audio encoder whose fixed ``features()`` are cached (``"mel"`` or ``"wav2vec2"``).

    kwargs are the encoder's settings (``MelConfig`` fields for mel; ``model_name_or_path``
    for wav2vec2). The projection size does not matter here (it is never run).
    """
    from stygaze.stygazetalk.audio_encoder import make_audio_encoder

    encoder = make_audio_encoder(name, d=8, **kwargs)
    encoder.eval()
    return encoder


def _compute_one(encoder: Any, session_dir: str) -> tuple[str, str | None]:
    """Compute and store one session's features with ``encoder``; returns ``(name, error or None)``."""
    sdir = Path(session_dir)
    try:
        samples = load_audio(sdir / AUDIO_FILE)
        feats = encoder.features(samples).cpu().numpy()
        write_cached(sdir, encoder.encoder_id, feats)
    except (StygazeError, OSError, ValueError, RuntimeError) as exc:
        return sdir.name, " ".join(str(exc).split()) or type(exc).__name__
    return sdir.name, None


def precompute_features(
    data_dir: str | os.PathLike,
    encoder: str = "mel",
    *,
    jobs: int = 1,
    force: bool = False,
    progress: bool = False,
    encoder_kwargs: dict[str, Any] | None = None,
    on_result: Callable[[str, str | None], None] | None = None,
) -> FeatureCacheReport:
    """Cache ``encoder``'s fixed features for every session of ``data_dir``.

    Args:
        data_dir: corpus folder (``DIR/<session>/audio.wav``).
        encoder: ``"mel"`` (default) or ``"wav2vec2"``.
        jobs: worker processes (each builds the encoder once and runs torch with 1 thread);
            1 computes in this process.
        force: recompute even up-to-date entries.
        progress: tqdm bar on stderr.
        encoder_kwargs: settings for the encoder (see :func:`make_feature_encoder`).
        on_result: called with ``(session, error or None)`` for each computed session.

    A session whose audio cannot be read is reported in ``failed`` and the others go on.
    """
    from tqdm import tqdm

    sessions = find_sessions(data_dir)
    kwargs = dict(encoder_kwargs or {})
    if jobs < 1:
        raise DataError(f"--jobs must be >= 1, got {jobs}")
    local = make_feature_encoder(encoder, **kwargs)  # also validates the name/settings up front
    report = FeatureCacheReport(local.encoder_id)
    todo = []
    for s in sessions:
        if not force and is_up_to_date(s, local.encoder_id):
            report.skipped.append(s.name)
        else:
            todo.append(str(s))
    bar = tqdm(total=len(todo), desc="features", unit="session", disable=not progress)

    def record(result: tuple[str, str | None]) -> None:
        name, err = result
        (report.failed.append((name, err)) if err else report.computed.append(name))
        if on_result is not None:
            on_result(name, err)
        bar.update(1)

    # one encoder per process; worker processes run torch with 1 thread and are forked where the
    # OS has it (as torch's DataLoader does), sharing the encoder built above (stygaze.batch)
    process_map(todo, partial(make_feature_encoder, encoder, **kwargs), _compute_one, jobs=jobs, threads=None,
                local_work=local, on_result=lambda i, result: record(result),
                on_crash=lambda i, reason: (Path(todo[i]).name, reason))
    bar.close()
    report.computed.sort()
    report.failed.sort()
    return report

