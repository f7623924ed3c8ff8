"""Batch generation: motion for many audio files with one model load per process.

::

    stygaze generate --audio talks/ -o motions/ --jobs 2
    stygaze generate --audio 'talks/**/*.wav' -o motions/

or from Python::

    from stygaze.batch import collect_inputs, plan_outputs, run_batch
    from stygaze.stygazetalk.pipeline import pipeline_worker
    items = plan_outputs(collect_inputs("talks/"), "motions/")
    report = run_batch(items, functools.partial(pipeline_worker, None), jobs=2)
    print(report.summary())

**Inputs.** A folder means every audio file directly inside it; anything with ``*``, ``?``
or ``[`` is a glob (``**`` recurses) unless a file or folder of that very name exists. Either way only files with an audio extension
(:data:`AUDIO_EXTENSIONS`) are taken, so ``talks/*`` skips notes and earlier outputs.
**Outputs.** One ``<stem>.motion.npz`` per input in ``OUTDIR`` (default: next to each
input), keeping the inputs' sub-folders relative to their common parent. Two inputs that
would write the same output (``a.wav`` and ``a.flac``) are refused before anything runs.

**Reruns.** Outputs are written atomically (temp file + rename), so an existing output is
always complete and is skipped on the next run (``overwrite=True`` redoes it). A run that
was interrupted therefore continues where it stopped.

**Failures.** A file that cannot be processed (unreadable audio, too short, …) is recorded
with its name and a one-line reason; the batch goes on. A worker process that dies (killed,
out of memory) is replaced; the files it was running are run again one at a time, and one
that kills its worker again is reported as failed. :attr:`BatchReport.exit_code` is 1
when any file failed, else 0.

**Processes and threads.** ``jobs=1`` runs in this process, ``jobs=N > 1`` starts N
worker processes. Every worker runs torch **single-threaded** (``threads`` overrides):
the work per file is a chain of small sequential steps (a batch-1 LSTM over 25 windows
per 10 s of audio, a 1024-point FFT per frame), where intra-op threads only add
synchronisation — on the shared 2-core test machine 2 threads were 25× slower per file
than 1 — so throughput comes from ``--jobs`` (about one per core). The model is always
loaded once in the parent first (a bad model fails before any file is touched);
single-threaded workers are forked and share that model copy-on-write (a fast start, as
torch's DataLoader workers); with more threads per worker they are spawned (a forked
OpenMP thread pool can hang) and each loads the model once.
Files are handed out one at a time, longest first, so a long file does not leave other
workers idle at the end.
"""

from __future__ import annotations

import glob
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from stygaze.errors import AudioError, StygazeError
from stygaze.locking import remove_dead_temporaries

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".aiff", ".aif", ".webm")
OUTPUT_SUFFIX = ".motion.npz"

# (item) -> None: generate one item and write item.out atomically
Worker = Callable[["BatchItem"], None]


@dataclass(frozen=True)
class BatchItem:
    """One input file and the output it produces."""

    audio: Path
    out: Path


@dataclass
class BatchResult:
    """Outcome of one item: ``status`` is ``"done"``, ``"skipped"`` (output existed) or ``"failed"``."""

    item: BatchItem
    status: str
    error: str | None = None
    seconds: float = 0.0


@dataclass
class BatchReport:
    """All results of a batch, in input order, and the wall-clock time (s)."""

    results: list[BatchResult] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1

    def _with(self, status: str) -> list[BatchResult]:
        return [r for r in self.results if r.status == status]

    @property
    def done(self) -> list[BatchResult]:
        return self._with("done")

    @property
    def skipped(self) -> list[BatchResult]:
        return self._with("skipped")

    @property
    def failed(self) -> list[BatchResult]:
        return self._with("failed")

    @property
    def exit_code(self) -> int:
        """1 when any file failed, else 0."""
        return 1 if self.failed else 0

    @property
    def files_per_second(self) -> float:
        """Generated files per wall-clock second (skipped files not counted)."""
        return len(self.done) / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One line: ``generate: 98 done, 0 skipped, 2 failed of 100 files in 12.3 s (8.0 files/s, 2 jobs)``."""
        return (
            f"generate: {len(self.done)} done, {len(self.skipped)} skipped, {len(self.failed)} failed "
            f"of {len(self.results)} files in {self.seconds:.1f} s "
            f"({self.files_per_second:.2f} files/s, {self.jobs} job{'s' if self.jobs != 1 else ''})"
        )


# --------------------------------------------------------------------------------------
# inputs and outputs
# --------------------------------------------------------------------------------------
def _is_pattern(text: str) -> bool:
    """A glob pattern: it has ``*``, ``?`` or ``[`` and no file or folder has that literal name."""
    return glob.has_magic(text) and not os.path.lexists(text)


def _escape_existing_folder(pattern: str) -> str:
    """``pattern`` with its longest existing folder prefix escaped (``take[1]/*.wav`` looks inside ``take[1]``)."""
    path = Path(pattern)
    for parent in path.parents:
        if str(parent) not in ("", ".") and glob.has_magic(str(parent)) and parent.is_dir():
            return os.path.join(glob.escape(str(parent)), str(path.relative_to(parent)))
    return pattern


def is_batch_spec(spec: str | os.PathLike) -> bool:
    """True when ``spec`` names a folder or a glob pattern (rather than one file).

    A name with glob characters that exists as it is (``take[1].wav``) is that file, not a pattern.
    """
    text = str(spec)
    return Path(text).is_dir() or _is_pattern(text)


def collect_inputs(spec: str | os.PathLike) -> list[Path]:
    """Audio files (by extension) named by a folder or glob, sorted.

    Raises:
        AudioError: the folder does not exist or nothing matches.
    """
    text = str(spec)
    if _is_pattern(text):
        found = [Path(p) for p in glob.glob(_escape_existing_folder(text), recursive=True)]
        files = sorted(p for p in found if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
        if not files:
            raise AudioError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) match {text!r}")
        return files
    root = Path(text)
    if not root.is_dir():
        raise AudioError(f"audio folder not found: {root}")
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise AudioError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {root}")
    return files


def plan_outputs(inputs: Iterable[Path], outdir: str | os.PathLike | None) -> list[BatchItem]:
    """Pair each input with ``OUTDIR/<relative folder>/<stem>.motion.npz`` (next to it when no OUTDIR).

    Raises:
        StygazeError: two inputs map to one output, or OUTDIR is an existing file.
    """
    inputs = [Path(p) for p in inputs]
    items: list[BatchItem] = []
    if outdir is not None:
        outdir = Path(outdir)
        if outdir.exists() and not outdir.is_dir():
            raise StygazeError(f"output folder {outdir} is an existing file: give a folder for a batch (-o OUTDIR)")
        if outdir.suffix.lower() == ".npz":
            raise StygazeError(f"-o {outdir} looks like a file: with a folder or glob as --audio, -o names the output folder")
        common = Path(os.path.commonpath([str(p.resolve().parent) for p in inputs]))
    seen: dict[Path, Path] = {}
    for audio in inputs:
        name = f"{audio.stem}{OUTPUT_SUFFIX}"
        if outdir is None:
            out = audio.with_name(name)
        else:
            out = outdir / audio.resolve().parent.relative_to(common) / name
        key = out.resolve()
        if key in seen:
            raise StygazeError(f"{seen[key]} and {audio} would both write {out}: rename one of them")
        seen[key] = audio
        items.append(BatchItem(audio, out))
    return items


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)) and exc.filename:
        text = f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    return text if isinstance(exc, StygazeError) else f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------------------
# the process pool: one worker object per process, tasks handed out one at a time
# --------------------------------------------------------------------------------------
T = TypeVar("T")
R = TypeVar("R")

_STATE: dict[str, Any] = {}  # this process's worker object ("work") and task function ("run")


def _init_worker(factory: Callable[[], Any], run: Callable[[Any, Any], Any], threads: int, started: Any) -> None:
    import torch

    torch.set_num_threads(threads)
    _STATE["run"] = run
    _STATE["started"] = started
    if "work" not in _STATE:  # spawned: build the worker here; forked: inherited from the parent
        _STATE["work"] = factory()


def _call(i: int, task: Any) -> Any:
    _STATE["started"][i] = 1  # the parent tells a task a dead worker was running from one still queued
    return _STATE["run"](_STATE["work"], task)


def process_map(
    tasks: Sequence[T],
    worker_factory: Callable[[], Any],
    run: Callable[[Any, T], R],
    *,
    jobs: int = 1,
    threads: int | None = 1,
    order: Iterable[int] | None = None,
    on_result: Callable[[int, R], None],
    on_crash: Callable[[int, str], R],
    local_work: Any = None,
) -> None:
    """``run(work, tasks[i])`` for every task, with ``work = worker_factory()`` built once per process.

    The worker object (a model, an encoder, …) is always built in this process first, so a
    bad model fails before any task runs. ``jobs=1`` (or a single task) runs here; otherwise
    ``min(jobs, len(tasks))`` worker processes: forked where the OS can (they share the
    parent's worker object copy-on-write and start in milliseconds, as torch's DataLoader
    workers) when they run torch single-threaded, spawned otherwise (a forked OpenMP thread
    pool can hang), each then building its own. Two tasks are in flight per worker (no worker
    waits for the parent), handed out in ``order`` (e.g. longest first, so the tail of a
    batch stays parallel).

    Args:
        tasks: the work items (picklable for ``jobs > 1``).
        worker_factory: builds the per-process worker object; picklable when workers are
            spawned (a ``functools.partial`` of a module-level function is).
        run: ``run(work, task) -> result``, a module-level function; it should turn a task's
            own failure into a result (a raised exception crashes nothing but is reported
            through ``on_crash``).
        jobs: processes; 1 = this one.
        threads: torch intra-op threads per worker process (None → 1); in this process
            (``jobs=1``) the setting applies while the tasks run and is restored after
            (None leaves this process's setting alone).
        order: task indices in the order they are handed out (default: as given).
        on_result: called in this process with ``(index, result)`` as results arrive.
        on_crash: ``(index, one-line reason) -> result`` for a task whose worker process
            died (killed, out of memory, …) or whose ``run`` raised in a worker.
        local_work: the worker object when this process has already built it (it is then
            used here and by forked workers instead of calling ``worker_factory`` again).
    """
    order = list(range(len(tasks)) if order is None else order)
    if not order:
        return
    workers = min(jobs, len(order))
    saved = None
    try:
        if workers == 1:
            if threads is not None:
                import torch

                saved = torch.get_num_threads()
                torch.set_num_threads(threads)
            work = worker_factory() if local_work is None else local_work  # errors here (a bad model) propagate
            for i in order:
                on_result(i, run(work, tasks[i]))
        else:
            _pool(tasks, order, worker_factory, run, workers, int(threads or 1), on_result, on_crash, local_work)
    finally:
        if saved is not None:
            import torch

            torch.set_num_threads(saved)
        _STATE.clear()


_DIED = "the worker process died while running it (killed, out of memory or crashed)"


def _pool(tasks, order, worker_factory, run, workers: int, threads: int, on_result, on_crash, local_work) -> None:
    import multiprocessing as mp
    from collections import deque

    fork = threads == 1 and "fork" in mp.get_all_start_methods()
    ctx = mp.get_context("fork" if fork else "spawn")
    # The worker is built here first either way, so a bad model is reported before anything
    # runs; forked workers inherit it (copy-on-write), spawned ones build their own.
    _STATE["work"] = worker_factory() if local_work is None else local_work
    if not fork:
        _STATE.clear()
    started = ctx.Array("b", len(tasks), lock=False)  # started[i]: a worker began task i
    queue, suspects = deque(order), deque()  # suspects: running when a worker died; rerun alone
    idle_breaks = 0  # pools that broke before finishing or starting anything (a failing initializer)
    while queue or suspects:
        if idle_breaks >= 3:
            for i in [*suspects, *queue]:
                on_result(i, on_crash(i, "worker processes keep dying before they run anything"))
            return
        alone = bool(suspects)
        todo = suspects if alone else queue
        round_start = time.time()
        lost, progress = _pool_round(ctx, 1 if alone else workers, todo, tasks, started, worker_factory, run, threads,
                                  on_result, on_crash)
        if lost is None:  # finished without a break
            continue
        _remove_partial_outputs([tasks[i] for i in lost], round_start)
        idle_breaks = 0 if progress else idle_breaks + 1
        for i in reversed(lost):  # the tasks in flight when the pool broke
            if alone:
                if started[i]:  # it ran alone, so it killed its worker
                    on_result(i, on_crash(i, _DIED))
                else:
                    suspects.appendleft(i)
            elif started[i]:
                started[i] = 0
                suspects.appendleft(i)
            else:
                queue.appendleft(i)


def _remove_partial_outputs(tasks, since: float) -> None:
    """The temporary files that a broken pool's workers left beside their outputs (an atomic
    write cut short by the kill); the pool has shut down, so their writers are dead."""
    for task in tasks:
        out = getattr(task, "out", None)
        if out is not None:
            remove_dead_temporaries(out, min_age_s=0.0, newer_than=since)


def _pool_round(ctx, workers, todo, tasks, started, worker_factory, run, threads, on_result, on_crash):
    """Run ``todo`` (a deque, consumed) on one pool of ``workers`` processes until it is empty or the pool breaks.

    Returns ``(None, progress)`` when done, else ``(tasks in flight at the break, progress)``;
    ``progress``: some task finished in this pool.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    progress = False
    pending: dict[Any, int] = {}
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(worker_factory, run, threads, started))
    try:
        def submit() -> bool:
            if not todo:
                return True
            i = todo.popleft()
            try:
                pending[pool.submit(_call, i, tasks[i])] = i
            except BrokenProcessPool:
                todo.appendleft(i)
                return False
            return True

        ok = all(submit() for _ in range(2 * workers))
        while pending and ok:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                if isinstance(fut.exception(), BrokenProcessPool):
                    ok = False
                    continue
                i = pending.pop(fut)
                exc = fut.exception()
                result = on_crash(i, f"worker process failed: {_one_line(exc)}") if exc else fut.result()
                on_result(i, result)
                progress = True
                ok = submit() and ok
        if ok:
            return None, progress
        wait(pending)  # a broken pool fails every future at once
        lost = []
        for fut, i in pending.items():
            exc = fut.exception()
            if isinstance(exc, BrokenProcessPool):
                lost.append(i)
            else:
                on_result(i, on_crash(i, f"worker process failed: {_one_line(exc)}") if exc else fut.result())
                progress = True
        return lost, progress
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------
# batch generation on the pool
# --------------------------------------------------------------------------------------
def _run_item(work: Worker, item: BatchItem) -> BatchResult:
    """Run one item with ``work``; any exception becomes a ``failed`` result."""
    t0 = time.perf_counter()
    try:
        item.out.parent.mkdir(parents=True, exist_ok=True)
        work(item)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # one bad file must not stop the batch: report it, go on
        return BatchResult(item, "failed", _one_line(exc), time.perf_counter() - t0)
    if not item.out.exists():
        return BatchResult(item, "failed", "the worker wrote no output", time.perf_counter() - t0)
    return BatchResult(item, "done", None, time.perf_counter() - t0)


def run_batch(
    items: list[BatchItem],
    worker_factory: Callable[[], Worker],
    *,
    jobs: int = 1,
    threads: int | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    on_result: Callable[[BatchResult], None] | None = None,
) -> BatchReport:
    """Process ``items``; existing outputs are skipped unless ``overwrite``.

    Args:
        items: from :func:`plan_outputs`.
        worker_factory: called once per process (after the thread setting), returns the
            function that generates one item and writes ``item.out`` atomically. Must be
            picklable for ``jobs > 1`` when workers are spawned (a ``functools.partial`` of
            a module-level function is).
        jobs: worker processes; 1 = this process.
        threads: torch intra-op threads per worker (default 1, see the module docstring);
            with ``jobs=1`` this process's setting is restored afterwards.
        progress: tqdm bar on stderr (``None`` = only when stderr is a terminal).
        on_result: called in the parent for each result as it arrives (e.g. to print failures).

    Returns:
        :class:`BatchReport` with the results in input order.
    """
    from tqdm import tqdm

    if jobs < 1:
        raise StygazeError(f"--jobs must be >= 1, got {jobs}")
    t0 = time.perf_counter()
    results: dict[int, BatchResult] = {}
    todo: list[int] = []
    for i, item in enumerate(items):
        if item.out.exists() and not overwrite:
            results[i] = BatchResult(item, "skipped")
        else:
            todo.append(i)
    bar = tqdm(total=len(items), initial=len(results), desc="generate", unit="file", disable=None if progress is None else not progress, file=sys.stderr)

    def record(i: int, result: BatchResult) -> None:
        results[i] = result
        bar.update(1)
        if result.status == "failed":
            bar.set_postfix(failed=sum(r.status == "failed" for r in results.values()))
        if on_result is not None:
            on_result(result)

    # longest first (file size as a proxy for duration), so the tail of the batch stays parallel
    order = sorted(todo, key=lambda i: -_size(items[i].audio)) if jobs > 1 else todo
    try:
        process_map(items, worker_factory, _run_item, jobs=jobs, threads=int(threads or 1), order=order,
                    on_result=record, on_crash=lambda i, reason: BatchResult(items[i], "failed", reason))
    finally:
        bar.close()
    # every item has a result; one that has none is reported, never dropped
    rows = [results.get(i) or BatchResult(items[i], "failed", "not run: the batch stopped before it") for i in range(len(items))]
    return BatchReport(rows, time.perf_counter() - t0, max(1, min(jobs, len(todo))))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# --------------------------------------------------------------------------------------
# the command-line front end (``stygaze generate --audio DIR_OR_GLOB``)
# --------------------------------------------------------------------------------------
def run_cli_batch(
    spec: str,
    outdir: str | os.PathLike | None,
    worker_factory: Callable[[], Worker],
    *,
    jobs: int = 1,
    overwrite: bool = False,
    progress: bool | None = None,
) -> int:
    """Run a batch for the CLI; returns the exit code (0 all good, 1 some file failed).

    stdout: the path of every output written, one per line. stderr: the progress bar,
    ``stygaze: failed: <input>: <reason>`` for each failed file, and the summary line.
    Usage errors (nothing matches, bad OUTDIR, a model that does not load) raise
    :class:`~stygaze.errors.StygazeError` before any file is processed.
    """
    from tqdm import tqdm

    items = plan_outputs(collect_inputs(spec), outdir)

    def report_one(result: BatchResult) -> None:
        if result.status == "failed":
            tqdm.write(f"stygaze: failed: {result.item.audio}: {result.error}", file=sys.stderr)
        elif result.status == "done":
            tqdm.write(str(result.item.out), file=sys.stdout)

    report = run_batch(items, worker_factory, jobs=jobs, overwrite=overwrite, progress=progress, on_result=report_one)
    sys.stdout.flush()
    print(report.summary(), file=sys.stderr)
    return report.exit_code
