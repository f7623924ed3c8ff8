"""The on-disk corpus layout (SynHAGE and users' own HAGE-like recordings), its checker,
and the SynHAGE corpus writer.

Layout (declared once in :class:`CorpusLayout`; the root is always passed in)::

    ROOT/
      splits.json                {"train": [...], "val": [...], "test": [...]} session names
      <session>/
        audio.wav                speech, any rate/channels (loaded as 16 kHz mono)
        motion.npz               stygaze motion file: motion (T, 7) deg @ 25 fps, optional
                                 blink (T,), expression (T, E), jaw (T, 3), shape (S,)
        style.json               optional: style parameters (SynHAGE writes its SynthStyle)
        events.json              optional: labelled events (SynHAGE writes them)

A session is any sub-directory holding ``motion.npz``; hidden entries (``.name``) are
ignored (they are temporary folders of a writer). Motion and audio must cover the same
time within ``CorpusLayout.max_length_mismatch_s``.

This module is the only corpus reader: every trainer gets its sessions and splits from
:class:`Corpus` (``Corpus(root).sessions("train")``, :meth:`Corpus.split_sessions`),
:func:`load_split` (sessions read into memory) and :func:`fingerprint` (what a resumed run
checks it is trained on the same data).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stygaze.audio import FPS, SAMPLE_RATE, load_audio, read_audio, save_audio
from stygaze.data.synhage import speech as sp
from stygaze.data.synhage import SynthConfig, synthesize
from stygaze.errors import DataError, StygazeError
from stygaze.inputs import file_problem, require_regular_file
from stygaze.io import atomic_dir, atomic_path
from stygaze.locking import folder_lock, remove_stale_parts
from stygaze.motion import Motion

if TYPE_CHECKING:  # pragma: no cover
    from stygaze.motion import Motion


@dataclass(frozen=True)
class CorpusLayout:
    """File names and tolerances of a stygaze corpus (see the module docstring).

    Attributes:
        audio: per-session audio file name.
        motion: per-session motion file name.
        style: optional per-session style file name.
        events: optional per-session events file name.
        splits: corpus-level split file name.
        max_length_mismatch_s: largest allowed |audio duration − motion duration|.
        max_nan_fraction: largest allowed fraction of NaN (tracker-loss) motion frames.
        min_seconds: shortest usable session.
    """

    audio: str = "audio.wav"
    motion: str = "motion.npz"
    style: str = "style.json"
    events: str = "events.json"
    splits: str = "splits.json"
    max_length_mismatch_s: float = 0.5
    max_nan_fraction: float = 0.5
    min_seconds: float = 1.0


SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Session:
    """One session folder of a corpus."""

    root: Path
    layout: CorpusLayout = field(default_factory=CorpusLayout)

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def audio_path(self) -> Path:
        return self.root / self.layout.audio

    @property
    def motion_path(self) -> Path:
        return self.root / self.layout.motion

    @property
    def style_path(self) -> Path:
        return self.root / self.layout.style

    @property
    def events_path(self) -> Path:
        return self.root / self.layout.events

    def load_motion(self, fps: float | None = None, *, events: bool = False) -> Motion:
        """The session's :class:`~stygaze.motion.Motion`.

        Args:
            fps: resample to this rate when the file has another (resampling drops events).
            events: attach the labelled events of ``events.json`` when the motion file
                carries none (SynHAGE writes them there).

        Raises:
            MotionFormatError: unreadable motion file. DataError: ``events.json`` is not JSON.
        """

        motion = Motion.load(require_regular_file(self.motion_path, "motion file"))
        if events and not motion.events:
            motion.events = self.load_events()
        if fps is not None and abs(motion.fps - fps) > 1e-9:
            motion = motion.resample(fps)
        return motion

    def load_audio(self, normalize: bool = True) -> np.ndarray:
        """``(S,)`` float32 16 kHz mono (per-clip normalised by default)."""
        return load_audio(self.audio_path, normalize=normalize)

    def load_style(self) -> dict | None:
        if not self.style_path.exists():
            return None
        return _read_json(self.style_path)

    def load_events(self) -> dict | None:
        if not self.events_path.exists():
            return None
        return _read_json(self.events_path)


def _read_json(path: Path) -> dict:
    require_regular_file(path, "JSON file")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({type(exc).__name__})") from exc


@dataclass
class Corpus:
    """A corpus folder: sessions and splits. ``Corpus(root)`` does not read any motion."""

    root: Path
    layout: CorpusLayout = field(default_factory=CorpusLayout)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        if not self.root.exists():
            raise DataError(f"corpus folder not found: {self.root}")
        if not self.root.is_dir():
            raise DataError(f"corpus path is not a directory: {self.root}")

    def sessions(self, split: str | None = None, *, required: bool = True) -> list[Session]:
        """Sessions (sorted by name); with ``split``, those listed in ``splits.json`` (in its order).

        A split that ``splits.json`` does not have is an error, or no sessions with
        ``required=False``. A listed session without a motion file is always an error.
        """
        all_sessions = {
            p.name: Session(p, self.layout)
            for p in sorted(self.root.iterdir())
            if p.is_dir() and not p.name.startswith(".") and (p / self.layout.motion).exists()
        }
        if split is None:
            return list(all_sessions.values())
        splits = self.splits()
        names = splits.get(split)
        if names is None:
            if not required:
                return []
            raise DataError(f"{self.root / self.layout.splits}: no split {split!r} (have {', '.join(splits)})")
        missing = [n for n in names if n not in all_sessions]
        if missing:
            raise DataError(
                f"{self.root / self.layout.splits}: split {split!r} names session(s) with no motion file "
                f"({self.layout.motion}): {', '.join(missing[:5])}"
            )
        return [all_sessions[n] for n in names]

    def splits(self) -> dict[str, list[str]]:
        """``splits.json`` as ``{split: [session name, ...]}``."""
        path = self.root / self.layout.splits
        if not path.exists():
            raise DataError(f"{path} not found: the corpus has no splits file (train/val/test session lists; stygaze data synth writes one)")
        data = _read_json(path)
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise DataError(f"{path}: expected {{split: [session names]}}")
        return {str(k): [str(x) for x in v] for k, v in data.items()}

    def fingerprint(self, splits: tuple[str, ...] = ("train", "val")) -> str:
        """:func:`fingerprint` of the sessions ``splits.json`` lists in ``splits`` (absent splits count as empty)."""
        return fingerprint({k: self.sessions(k, required=False) for k in splits})

    def split_sessions(self, val_fraction: float, test_fraction: float, seed: int) -> dict[str, list[Session]]:
        """``{"train", "val", "test"}`` sessions: those of ``splits.json`` when the corpus has one,
        else a seeded split by session (:func:`shuffled_split`).

        Raises:
            DataError: no session at all, or a ``splits.json`` without train sessions.
        """
        if not (self.root / self.layout.splits).exists():
            return shuffled_split(list_sessions(self.root, self.layout), val_fraction, test_fraction, seed)
        out = {k: self.sessions(k, required=False) for k in SPLITS}
        if not out["train"]:
            raise DataError(f"{self.root / self.layout.splits} lists no train session")
        return out

    def __iter__(self) -> Iterator[Session]:
        return iter(self.sessions())

    def __len__(self) -> int:
        return len(self.sessions())


def list_sessions(root: str | os.PathLike, layout: CorpusLayout | None = None) -> list[Session]:
    """Every session of the corpus folder ``root`` (sorted by name).

    Raises:
        DataError: ``root`` is missing, or holds no session folder with a motion file.
    """
    corpus = Corpus(root, layout or CorpusLayout())
    sessions = corpus.sessions()
    if not sessions:
        raise DataError(f"no sessions with {corpus.layout.motion} in {corpus.root} (expected DIR/<session>/{corpus.layout.motion})")
    return sessions


@dataclass
class LoadedSession:
    """A session read into memory for training: ``motion`` (T, 7) float32 degrees at 25 fps
    (NaN = tracker loss) and, when asked for, ``audio`` (S,) float32 16 kHz (per-clip normalised)."""

    name: str
    motion: np.ndarray
    audio: np.ndarray | None = None


def load_split(root: str | os.PathLike, split: str, *, with_audio: bool = False, limit: int | None = None) -> list[LoadedSession]:
    """Read the sessions of one split of ``root/splits.json`` (motion at 25 fps, optionally audio).

    Raises:
        DataError: missing folder or ``splits.json``, a missing or empty split, a listed session
            without motion file (or without audio file with ``with_audio``).
        MotionFormatError: an unreadable motion file.
    """
    corpus = Corpus(root)
    sessions = corpus.sessions(split)
    if not sessions:
        raise DataError(f"{corpus.root / corpus.layout.splits} has no sessions in split {split!r}")
    out = []
    for s in sessions[:limit]:
        audio = None
        if with_audio:
            if not s.audio_path.exists():
                raise DataError(f"session {s.root} has no {s.layout.audio}")
            audio = s.load_audio()
        out.append(LoadedSession(s.name, s.load_motion(FPS).data, audio))
    return out


def fingerprint(splits: dict[str, list[Session]]) -> str:
    """16 hex digits that change when the sessions of ``splits`` (names, membership, order) or their
    motion files change; audio files enter by size (hashing them would cost seconds per hour of speech).

    A resumed training run compares it with the one stored in ``RUN/last`` to refuse another corpus.
    """
    import hashlib

    h = hashlib.sha1()
    for split in sorted(splits):
        h.update(f"[{split}]".encode())
        for s in splits[split]:
            h.update(s.name.encode() + b"\0")
            h.update(s.motion_path.read_bytes())
            h.update(str(s.audio_path.stat().st_size if s.audio_path.exists() else -1).encode())
    return h.hexdigest()[:16]


def shuffled_split(sessions: list[Session], val_fraction: float, test_fraction: float, seed: int) -> dict[str, list[Session]]:
    """Seeded split by session of a corpus without ``splits.json`` (OmniHead training): a
    permutation by ``default_rng(seed)``, its first sessions go to test, the next to val (each at
    least one session when the corpus has ≥ 3 resp. ≥ 2), the rest (in permuted order) to train.

    :func:`make_splits` is the split a corpus writer stores; this one is kept as it is so that
    recognizer runs on corpora without ``splits.json`` see the same sessions as before.
    """
    order = np.random.default_rng(seed).permutation(len(sessions))
    n = len(sessions)
    n_test = max(1, int(round(test_fraction * n))) if test_fraction > 0 and n >= 3 else 0
    n_val = max(1, int(round(val_fraction * n))) if val_fraction > 0 and n >= 2 else 0
    pick = [sessions[i] for i in order]
    return {"test": pick[:n_test], "val": pick[n_test : n_test + n_val], "train": pick[n_test + n_val :] or pick}


def make_splits(names: list[str], seed: int, val_fraction: float = 0.1, test_fraction: float = 0.1) -> dict[str, list[str]]:
    """Deterministic train/val/test split by session.

    With ≥ 3 sessions, val and test get at least one session each; with 2, one train and one
    val; with 1, train only. Names inside each split are sorted.
    """
    names = sorted(names)
    n = len(names)
    order = np.random.default_rng(np.random.SeedSequence([int(seed), 7])).permutation(n)
    if n >= 3:
        n_val = max(1, int(round(val_fraction * n)))
        n_test = max(1, int(round(test_fraction * n)))
    elif n == 2:
        n_val, n_test = 1, 0
    else:
        n_val = n_test = 0
    shuffled = [names[i] for i in order]
    val = sorted(shuffled[:n_val])
    test = sorted(shuffled[n_val : n_val + n_test])
    train = sorted(shuffled[n_val + n_test :])
    return {"train": train, "val": val, "test": test}


# --------------------------------------------------------------------------------------
# checker
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One problem found by :func:`check_corpus`: the file and what is wrong with it."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class CheckReport:
    """Result of :func:`check_corpus`.

    Attributes:
        sessions: number of session folders checked.
        seconds: total motion duration of the readable sessions.
        problems: every problem found (empty = clean).
    """

    sessions: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_session(session: Session) -> tuple[list[Problem], float]:
    """Problems of one session folder and its motion duration in seconds (0 if unreadable)."""
    import soundfile as sf

    lay = session.layout
    problems: list[Problem] = []
    seconds = 0.0
    motion = None
    motion_problem = file_problem(session.motion_path)
    if motion_problem == "not found":
        problems.append(Problem(session.motion_path, "missing motion file"))
    elif motion_problem:
        problems.append(Problem(session.motion_path, f"is {motion_problem}, not a regular file" if motion_problem.startswith("a ") else motion_problem))
    else:
        try:
            motion = Motion.load(session.motion_path)
        except StygazeError as exc:
            problems.append(Problem(session.motion_path, str(exc).replace(f"{session.motion_path}: ", "")))
    if motion is not None:
        seconds = motion.duration
        if abs(motion.fps - FPS) > 1e-6:
            problems.append(Problem(session.motion_path, f"fps is {motion.fps:g}, expected {FPS} (resample with Motion.resample)"))
        if seconds < lay.min_seconds:
            problems.append(Problem(session.motion_path, f"only {seconds:.2f} s of motion (need ≥ {lay.min_seconds:g} s)"))
        nan_rows = np.isnan(motion.data).any(axis=1)
        if nan_rows.all():
            problems.append(Problem(session.motion_path, "every frame is NaN (no tracked data)"))
        elif nan_rows.mean() > lay.max_nan_fraction:
            problems.append(Problem(session.motion_path, f"{100 * nan_rows.mean():.0f} % of frames are NaN (more than {100 * lay.max_nan_fraction:.0f} %)"))
        if motion.blink is not None:
            b = motion.blink[np.isfinite(motion.blink)]
            if b.size and (b.min() < -1e-3 or b.max() > 1 + 1e-3):
                problems.append(Problem(session.motion_path, "blink values outside 0..1"))
    audio_problem = file_problem(session.audio_path)
    if audio_problem == "not found":
        problems.append(Problem(session.audio_path, "missing audio file"))
    elif audio_problem:
        problems.append(Problem(session.audio_path, f"is {audio_problem}, not a regular file" if audio_problem.startswith("a ") else audio_problem))
    else:
        audio_s = None
        try:
            info = sf.info(str(session.audio_path))
            audio_s = info.frames / info.samplerate
        except Exception:
            try:
                x, sr = read_audio(session.audio_path)
                audio_s = len(x) / sr
            except StygazeError as exc:
                problems.append(Problem(session.audio_path, str(exc)))
        if audio_s is not None:
            if audio_s <= 0:
                problems.append(Problem(session.audio_path, "audio has zero length"))
            elif motion is not None and abs(audio_s - seconds) > lay.max_length_mismatch_s:
                problems.append(
                    Problem(session.audio_path, f"audio is {audio_s:.2f} s but motion is {seconds:.2f} s (tolerance {lay.max_length_mismatch_s:g} s)")
                )
    for path in (session.style_path, session.events_path):
        json_problem = file_problem(path)
        if json_problem and json_problem != "not found":
            problems.append(Problem(path, f"is {json_problem}, not a regular file" if json_problem.startswith("a ") else json_problem))
        elif path.exists():
            try:
                data = _read_json(path)
                if not isinstance(data, dict):
                    problems.append(Problem(path, "expected a JSON object"))
            except DataError as exc:
                problems.append(Problem(path, str(exc).replace(f"{path}: ", "")))
    return problems, seconds


def check_corpus(root: str | os.PathLike, layout: CorpusLayout | None = None) -> CheckReport:
    """Check a corpus folder against :class:`CorpusLayout`; reports problems per file.

    Checked: every session has a readable motion file (contract, 25 fps, not all NaN, NaN
    share, blink range) and a readable audio file of matching duration; optional
    ``style.json``/``events.json`` parse; ``splits.json`` (if present) is valid, names only
    existing sessions and no session twice. Sub-folders without ``motion.npz`` are reported.

    Raises:
        DataError: ``root`` is missing or not a directory (a usage error, not a problem).
    """
    layout = layout or CorpusLayout()
    root = Path(root)
    if not root.exists():
        raise DataError(f"corpus directory not found: {root}")
    if not root.is_dir():
        raise DataError(f"not a directory: {root}")
    report = CheckReport()
    names = []
    for p in sorted(root.iterdir()):
        if p.name.startswith(".") or not p.is_dir():
            continue
        names.append(p.name)
        probs, seconds = check_session(Session(p, layout))
        report.sessions += 1
        report.seconds += seconds
        report.problems.extend(probs)
    if not names:
        report.problems.append(Problem(root, f"no session folders (each needs {layout.motion} and {layout.audio})"))
    split_path = root / layout.splits
    if os.path.lexists(split_path):
        try:
            data = _read_json(split_path)
            if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
                report.problems.append(Problem(split_path, "expected {split: [session names]}"))
            else:
                seen: dict[str, str] = {}
                for split, members in data.items():
                    for n in members:
                        if str(n) not in names:
                            report.problems.append(Problem(split_path, f"split {split!r} names unknown session {n!r}"))
                        if str(n) in seen:
                            report.problems.append(Problem(split_path, f"session {n!r} is in both {seen[str(n)]!r} and {split!r}"))
                        seen[str(n)] = split
        except DataError as exc:
            report.problems.append(Problem(split_path, str(exc).replace(f"{split_path}: ", "")))
    return report


# --------------------------------------------------------------------------------------
# SynHAGE corpus writer
# --------------------------------------------------------------------------------------
SYNTH_VERSION = "synhage-2"


def write_session(path: Path, audio: np.ndarray, result, meta: dict, layout: CorpusLayout | None = None) -> Path:
    """Write one session folder atomically (temp folder, then rename).

    Args:
        path: the session folder (must not exist).
        audio: ``(S,)`` float32 16 kHz in [-1, 1].
        result: a :class:`~stygaze.data.synhage.synth.SynthResult`.
        meta: extra JSON-serialisable information for ``style.json`` (speaker, seed, ...).
    """
    layout = layout or CorpusLayout()
    style = result.style
    style_doc = {
        "synthesizer": SYNTH_VERSION,
        "style": style.to_dict(),
        "style_vector": [round(float(v), 6) for v in style.to_vector()],
        "param_names": list(style.param_names()),
        **meta,
    }
    with atomic_dir(path) as tmp:
        save_audio(tmp / layout.audio, audio, SAMPLE_RATE)
        m = result.motion
        Motion(m.data, m.fps, m.blink).save(tmp / layout.motion)  # events go to events.json
        (tmp / layout.style).write_text(json.dumps(style_doc, indent=1, ensure_ascii=False), encoding="utf-8")
        (tmp / layout.events).write_text(json.dumps(result.events, separators=(",", ":")), encoding="utf-8")
        _default_permissions(tmp)
    return path


def _default_permissions(path: Path) -> None:
    """Give a folder written through temporary files (mode 0700/0600) the usual permissions
    (0777/0666 minus the umask), recursively."""
    mask = os.umask(0)
    os.umask(mask)
    for p in [path, *path.rglob("*")]:
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)


@dataclass
class SynthCorpusSummary:
    """What :func:`synth_corpus` wrote."""

    root: Path
    sessions: list[str]
    splits: dict[str, list[str]]
    seconds: float
    motion_seconds: float  # time spent synthesizing motion (excluding TTS and writing)


def _quantize16(x: np.ndarray) -> np.ndarray:
    """What a 16-bit wav round-trip gives back (so motion is made from the audio as stored)."""
    x = np.clip(np.asarray(x, np.float32), -1.0, 1.0)
    return (np.round(x * 32767.0).astype(np.int16).astype(np.float32) / 32768.0).astype(np.float32)


def session_seeds(corpus_seed: int, index: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """``(speech, motion)`` seed sequences of session ``index`` of a corpus made with ``corpus_seed``.

    Child ``index`` of ``SeedSequence(corpus_seed)`` (independent of how many sessions the
    corpus has), split in two: one stream for the speech, one for the motion.
    """
    speech_ss, motion_ss = np.random.SeedSequence(int(corpus_seed), spawn_key=(int(index),)).spawn(2)
    return speech_ss, motion_ss


def synth_corpus(
    out: str | os.PathLike,
    *,
    sessions: int,
    minutes: float,
    seed: int = 0,
    audio_dir: str | os.PathLike | None = None,
    progress: bool = True,
    layout: CorpusLayout | None = None,
) -> SynthCorpusSummary:
    """Generate a SynHAGE corpus: ``sessions`` folders of ``minutes`` each plus ``splits.json``.

    Each session draws its own :class:`~stygaze.data.synhage.style.SynthStyle` and speaker from
    :func:`session_seeds`; the same seed gives identical files. Speech comes from espeak-ng, or
    from ``audio_dir`` (one file per session, cycling through the files in a seeded order; a
    random ``minutes`` excerpt of longer files).

    Safe to interrupt and to rerun: each session folder appears whole (written to a hidden
    temporary sibling, then renamed), the arguments are stored in ``synth.json`` first and
    ``splits.json`` last, and a rerun with the same arguments keeps the finished sessions and
    makes only the missing ones (temporary folders of a killed run are removed). Ctrl-C keeps
    the finished sessions; an error removes the sessions this run wrote (and ``out`` when this
    run created it and it is left empty). One process at a time writes ``out``
    (:func:`~stygaze.locking.folder_lock`).

    Raises:
        DataError: bad numbers, an ``out`` that holds something else (another corpus, other
            arguments, foreign files), a missing/empty ``audio_dir``, no espeak-ng.
        BusyError: another process is writing ``out``.
        SynthInterrupted: Ctrl-C; the finished sessions stay.
    """
    import time

    from tqdm import tqdm


    layout = layout or CorpusLayout()
    if not isinstance(sessions, (int, np.integer)) or sessions < 1:
        raise DataError(f"--sessions must be a positive integer, got {sessions!r}")
    if not (np.isfinite(minutes) and minutes > 0):
        raise DataError(f"--minutes must be a positive number, got {minutes!r}")
    if minutes * 60 < 2.0:
        raise DataError(f"--minutes {minutes:g} is shorter than the 2 s minimum session")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"output {out} already exists and is not a folder: choose a new --out")
    if out.exists() and not (out / SYNTH_MANIFEST).exists() and _visible_entries(out):
        raise DataError(f"output {out} already exists and is not empty: choose a new --out")
    files = sp.list_audio_files(audio_dir) if audio_dir is not None else None
    if files is None and not sp.espeak_available():
        raise DataError("espeak-ng not found: install it (apt-get install espeak-ng) or pass --audio-dir with your own wav files")
    params = {
        "synthesizer": SYNTH_VERSION,
        "sessions": int(sessions),
        "minutes": float(minutes),
        "seed": int(seed),
        "audio_dir": [[f.name, f.stat().st_size] for f in files] if files is not None else None,
    }
    file_order = np.random.default_rng(np.random.SeedSequence([int(seed), 11])).permutation(len(files)) if files else None
    width = max(3, len(str(sessions - 1)))
    names = [f"s{i:0{width}d}" for i in range(sessions)]
    created = not out.exists()
    total = 0.0
    motion_time = 0.0
    done = 0
    made: list[Path] = []  # the session folders this run wrote
    try:
        with folder_lock(out):
            try:
                remove_stale_parts(out)
                _claim(out, params, names)
                for i in tqdm(range(sessions), desc="synhage", unit="session", disable=not progress):
                    name = names[i]
                    if (out / name).exists():  # finished by an earlier run with the same arguments
                        if not (out / name / layout.motion).exists():
                            raise DataError(f"{out / name} is not a finished session (no {layout.motion}): remove it and rerun")
                        total += Session(out / name, layout).load_motion().duration
                        done += 1
                        continue
                    speech_ss, motion_ss = session_seeds(seed, i)
                    srng = np.random.default_rng(speech_ss)
                    if files is not None:
                        src = files[int(file_order[i % len(files)])]
                        audio = sp.load_session_audio(src, minutes * 60.0, srng)
                        meta = {"speech": {"source": "audio-dir", "file": src.name}}
                    else:
                        conv = sp.synth_conversation(minutes * 60.0, srng)
                        audio = conv.audio
                        meta = {
                            "speech": {"source": "espeak-ng", "speaker": conv.speaker.to_dict(), "turns": conv.turns},
                        }
                    audio = _quantize16(audio)
                    t0 = time.perf_counter()
                    result = synthesize(audio, seed=motion_ss)
                    motion_time += time.perf_counter() - t0
                    meta = {"session": name, "corpus_seed": int(seed), "session_index": i, **meta}
                    write_session(out / name, audio, result, meta, layout)
                    made.append(out / name)
                    total += result.motion.duration
                    done += 1
                splits = make_splits(names, seed)
                with atomic_path(out / layout.splits) as tmp:
                    tmp.write_text(json.dumps(splits, indent=1), encoding="utf-8")
                    _default_permissions(tmp)
            except KeyboardInterrupt:
                raise SynthInterrupted(out, done, sessions) from None
            except BaseException:
                for path in made:  # an error: take back what this run wrote, keep earlier runs' sessions
                    shutil.rmtree(path, ignore_errors=True)
                if not _visible_entries(out, ignore=(SYNTH_MANIFEST,)):
                    (out / SYNTH_MANIFEST).unlink(missing_ok=True)
                raise
    except BaseException:
        if created:  # only succeeds when the folder is empty: never removes what others wrote
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    return SynthCorpusSummary(out, names, splits, total, motion_time)


SYNTH_MANIFEST = "synth.json"


class SynthInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`synth_corpus`: ``done`` of ``sessions`` session folders are finished and kept."""

    def __init__(self, out: Path, done: int, sessions: int):
        super().__init__(f"{done} of {sessions} sessions are in {out}; rerun the same command to make the rest")
        self.out, self.done, self.sessions = out, done, sessions


def _visible_entries(folder: Path, ignore: tuple[str, ...] = ()) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in ignore]


def _claim(out: Path, params: dict, names: list[str]) -> None:
    """Store the arguments of this run in ``out/synth.json``, or check they equal the stored ones.

    Raises:
        DataError: ``out`` holds sessions of a run with other arguments, or entries that are not its sessions.
    """
    path = out / SYNTH_MANIFEST
    foreign = [p.name for p in _visible_entries(out, ignore=(SYNTH_MANIFEST, CorpusLayout.splits)) if p.name not in names]
    if path.exists():
        old = _read_json(path)
        diff = [k for k in params if old.get(k) != params[k]]
        if diff and _visible_entries(out, ignore=(SYNTH_MANIFEST,)):
            what = ", ".join(f"{_FLAG[k]} {_show(old.get(k))} (now {_show(params[k])})" for k in diff)
            raise DataError(f"{out} holds a corpus made with other arguments: {what}; rerun with those to resume, or choose a new --out")
        if foreign:
            raise DataError(f"{out} holds entries that are not sessions of this corpus ({', '.join(sorted(foreign)[:3])}): choose a new --out")
        if not diff:
            return
    elif foreign:
        raise DataError(f"output {out} already exists and is not empty: choose a new --out")
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(params, indent=1), encoding="utf-8")
        _default_permissions(tmp)


_FLAG = {"synthesizer": "synthesizer", "sessions": "--sessions", "minutes": "--minutes", "seed": "--seed", "audio_dir": "--audio-dir files"}


def _show(value) -> str:
    if isinstance(value, list):
        return f"[{len(value)} files]"
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def noise_free_motion(session_dir: str | os.PathLike, layout: CorpusLayout | None = None) -> "Motion":
    """Re-synthesize a SynHAGE session **without the simulated tracker noise**.

    :func:`synth_corpus` draws session ``i``'s motion from :func:`session_seeds` and adds
    frame-level tracker noise from its own stream, so running :func:`~stygaze.data.synhage.synth.synthesize` again on the stored audio
    with both ``tracker_noise_*`` set to 0 gives the same session as a perfect eye tracker
    would have recorded it (everything else identical). Useful to judge generated motion
    against the physiology rather than the measurement: a 1° I-DT finds ≈ 0.9 fixation
    samples in noise-free SynHAGE and ≈ 0.7 with the noise.

    Raises:
        DataError: the session has no ``corpus_seed``/``session_index`` (not made by
            ``stygaze data synth``) or its files are missing.
    """
    layout = layout or CorpusLayout()
    d = Path(session_dir)
    meta = _read_json(d / layout.style) if (d / layout.style).exists() else {}
    if "corpus_seed" not in meta or "session_index" not in meta:
        raise DataError(f"{d}: no corpus_seed/session_index in {layout.style}: only sessions made by `stygaze data synth` can be re-synthesized")
    if not (d / layout.audio).exists():
        raise DataError(f"{d}: {layout.audio} is missing")
    audio = load_audio(d / layout.audio, normalize=False)
    _, motion_ss = session_seeds(meta["corpus_seed"], meta["session_index"])
    config = SynthConfig(tracker_noise_deg=0.0, tracker_noise_shared_deg=0.0)
    return synthesize(audio, seed=motion_ss, config=config).motion
