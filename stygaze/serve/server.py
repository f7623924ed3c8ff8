"""``stygaze serve``: a WebSocket server that turns live speech into motion frames.

One connection = one :class:`~stygaze.pipeline.MotionStream` (protocol:
:mod:`stygaze.serve.protocol`, ``docs/serve.md``). The same port serves the browser viewer
(``/``, static files from ``stygaze/serve/static``), the procedural head as glTF
(``/head.glb``) and the server's counters (``/stats``, JSON).

Design:

* **Event loop never runs the model.** Every ``push``/``flush`` (and style extraction) runs
  in a small thread pool (``workers`` threads, torch intra-op threads set to 1), so one
  slow step delays only its own connection.
* **Step-aligned pushes.** Audio is buffered on the event loop and pushed to a stream
  exactly when its next model step can run (:class:`StepFeeder`): one featurisation and
  one hand-off to a worker per step rather than per message, and a result that depends
  only on the audio (and seed and style), not on chunk sizes or timing. A client gets the
  same frames as ``StepFeeder(model.stream(...))`` locally.
* **Backpressure.** A connection's next audio message is read only after its previous one
  was processed and its frames were handed to the socket, so a client that sends faster
  than the server computes is slowed by TCP; a client that stops reading its frames for
  ``idle_timeout_s`` is disconnected.
* **Limits.** At most ``max_clients`` streams (more get ``server_busy``), messages up to
  ``max_message_bytes`` (larger: close 1009 from the WebSocket layer), style uploads up to
  ``max_style_bytes`` (``.npz`` read with ``allow_pickle=False``, zip sizes checked before
  unpacking), an idle timeout, and an optional list of allowed ``Origin`` headers.
* **Errors stay local.** A bad start request, bad audio or an oversized message gets an
  ``error`` message and a close with a matching code (:data:`~stygaze.serve.protocol.CLOSE_CODES`);
  other connections are untouched.
* **Shutdown.** SIGINT/SIGTERM: every open stream gets ``{"type": "error", "code":
  "shutting_down"}`` and a 1001 close, then the server stops.
* **Memory is bounded.** Streams trim their feature buffers; per-frame delays go into
  fixed-size histograms, not lists.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import json
import logging
import mimetypes
import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import numpy as np

from stygaze.audio import FPS, SAMPLE_RATE
from stygaze.errors import ModelOutputError, StygazeError
from stygaze.motion import Motion
from stygaze.render.gltf import head_glb_bytes
from stygaze.serve.protocol import (
    FrameBatch,
    ProtocolError,
    StartRequest,
    decode_audio,
    encode_binary,
    encode_json,
    parse_start,
    read_npz_bytes,
    ready_message,
)

log = logging.getLogger("stygaze.serve")

QUEUE_MESSAGES = 64
"""Messages a connection may have waiting for the model; beyond that TCP slows the client down."""
MAX_COALESCE_S = 2.0
"""At most this much queued audio (seconds) is pushed to a stream in one step."""

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The browser viewer's files (``index.html``, ``viewer.js``, vendored three.js)."""

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".glb": "model/gltf-binary",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE
}


class ServeError(StygazeError):
    """A server that cannot start: bad option, model or style folder."""


@dataclass
class ServeConfig:
    """Options of :class:`StreamServer` (CLI: ``stygaze serve --help``).

    Attributes:
        host, port: where to listen (port 0 = any free port, see :attr:`StreamServer.port`).
        max_clients: streams served at once; more get ``server_busy``.
        idle_timeout_s: close a connection that sends nothing, or reads none of its frames,
            for this long (seconds).
        max_message_bytes: largest WebSocket message accepted (audio chunk or start request).
        max_style_bytes: largest style ``.npz`` (uploaded or server-side), packed or unpacked.
        origins: allowed ``Origin`` headers (browser pages); None = any. Clients that send
            no Origin (non-browser programs) are always allowed; the server's own page at
            ``http://HOST:PORT`` (and ``localhost``/``127.0.0.1``) is added automatically.
            The Host header is not trusted for this (DNS rebinding): serving on 0.0.0.0,
            add the address browsers use with ``--allowed-origin``.
        styles_dir: folder of named styles (``NAME.npz``: a saved style vector or a motion
            clip) that clients select with ``{"style": {"name": NAME}}``.
        workers: threads that run the models.
        static_dir: the viewer's files (None = no viewer, WebSocket only).
    """

    host: str = "127.0.0.1"
    port: int = 8765
    max_clients: int = 32
    idle_timeout_s: float = 30.0
    max_message_bytes: int = 1 << 20
    max_style_bytes: int = 1 << 20
    origins: tuple[str, ...] | None = None
    styles_dir: Path | None = None
    workers: int = 2
    static_dir: Path | None = STATIC_DIR

    def check(self) -> None:
        if not 0 <= int(self.port) <= 65535:
            raise ServeError(f"--port must be in 0..65535, got {self.port}")
        if int(self.max_clients) < 1:
            raise ServeError(f"--max-clients must be >= 1, got {self.max_clients}")
        if not float(self.idle_timeout_s) > 0:
            raise ServeError(f"--idle-timeout must be > 0 seconds, got {self.idle_timeout_s}")
        if int(self.max_message_bytes) < 1024:
            raise ServeError(f"--max-message-bytes must be >= 1024, got {self.max_message_bytes}")
        if int(self.workers) < 1:
            raise ServeError(f"--workers must be >= 1, got {self.workers}")
        if self.styles_dir is not None and not Path(self.styles_dir).is_dir():
            raise ServeError(f"--styles folder not found: {self.styles_dir}")
        for o in self.origins or ():
            if not (o.startswith("http://") or o.startswith("https://")) or o.endswith("/"):
                raise ServeError(f"--allowed-origin must look like http(s)://host[:port] without a trailing slash, got {o!r}")


def _one_torch_thread() -> None:
    """Pool thread initializer: one intra-op thread in this thread (the OpenMP setting is per thread)."""
    import torch

    torch.set_num_threads(1)


# --------------------------------------------------------------------------------------
# counters
# --------------------------------------------------------------------------------------
class DelayHistogram:
    """Delays in 1 ms bins up to ``max_ms`` (the last bin holds everything above): constant memory."""

    def __init__(self, max_ms: int = 20000):
        self.counts = np.zeros(max_ms + 1, np.int64)
        self.max_seen = 0.0

    def add(self, ms: float) -> None:
        self.counts[min(max(int(ms), 0), len(self.counts) - 1)] += 1
        self.max_seen = max(self.max_seen, ms)

    def add_many(self, ms: np.ndarray) -> None:
        if len(ms):
            idx = np.clip(ms.astype(np.int64), 0, len(self.counts) - 1)
            np.add.at(self.counts, idx, 1)
            self.max_seen = max(self.max_seen, float(ms.max()))

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def percentile(self, q: float) -> float | None:
        """Upper edge (ms) of the bin holding the ``q``-th percentile; None when empty."""
        n = self.n
        if n == 0:
            return None
        k = int(np.searchsorted(np.cumsum(self.counts), q / 100.0 * n, side="left"))
        return float(k + 1)

    def summary(self) -> dict:
        return {"n": self.n, "p50": self.percentile(50), "p99": self.percentile(99), "max": round(self.max_seen, 1)}


@dataclass
class ServerStats:
    """Counters served at ``/stats``."""

    started: float = field(default_factory=time.time)
    sessions_total: int = 0
    sessions_active: int = 0
    sessions_ok: int = 0
    errors: dict = field(default_factory=dict)
    frames_sent: int = 0
    audio_seconds: float = 0.0
    delay_ms: DelayHistogram = field(default_factory=DelayHistogram)
    """Audio received → frame sent, per frame: the moment the audio that ends frame ``i``
    arrived until frame ``i`` was handed to the socket (includes the model's latency)."""
    compute_ms: DelayHistogram = field(default_factory=DelayHistogram)
    """Audio message received → its frames handed to the socket (queueing + model step)."""
    step_ms: DelayHistogram = field(default_factory=DelayHistogram)
    """Time inside the model (the steps run in a worker thread), per hand-off to a worker."""
    loop_lag_ms: DelayHistogram = field(default_factory=DelayHistogram)
    """How late the event loop runs a 100 ms timer (a blocked loop shows here)."""

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    def to_json(self) -> dict:
        rss = _rss_mb()
        return {
            "uptime_s": round(time.time() - self.started, 1),
            "sessions_total": self.sessions_total,
            "sessions_active": self.sessions_active,
            "sessions_ok": self.sessions_ok,
            "errors": dict(self.errors),
            "frames_sent": self.frames_sent,
            "audio_seconds": round(self.audio_seconds, 2),
            "delay_ms": self.delay_ms.summary(),
            "compute_ms": self.compute_ms.summary(),
            "step_ms": self.step_ms.summary(),
            "loop_lag_ms": self.loop_lag_ms.summary(),
            "rss_mb": rss,
        }


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as fh:
            return round(int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------------------
# models and styles
# --------------------------------------------------------------------------------------
def load_models(specs: list[str] | None) -> dict:
    """``["PATH", "NAME=PATH", "builtin"]`` → ``{name: StyGazeTalk}`` (the first is the default).

    A spec without a name is called ``default`` (the first) or after its folder.

    Raises:
        ServeError: a duplicate name; CheckpointError from a bad folder.
    """
    from stygaze.stygazetalk.pipeline import StyGazeTalk

    specs = list(specs or ["builtin"])
    models: dict = {}
    for i, spec in enumerate(specs):
        name, _, path = spec.partition("=") if "=" in spec else ("", "", spec)
        path = path.strip()
        if not name:
            name = "default" if i == 0 else Path(path).name
        if name in models:
            raise ServeError(f"two models are called {name!r}: name them with --model NAME=PATH")
        models[name] = StyGazeTalk.from_pretrained(None if path in ("builtin", "") else path)
    return models


class StyleResolver:
    """Turns a start request's ``style`` entry into a style for a model, safely.

    ``{"name": N}`` reads ``styles_dir/N.npz`` (names cannot leave the folder), ``{"npz":
    bytes}`` reads the upload; both with :func:`~stygaze.serve.protocol.read_npz_bytes`
    (``allow_pickle=False``, size limits). An npz may hold a saved style vector (``style``
    + ``encoder_id``) or a motion clip (``motion``, optional ``fps``), whose style is
    extracted. ``{"vector": [...], "encoder_id": ...}`` is used as given.
    """

    def __init__(self, styles_dir: Path | None, max_bytes: int):
        self.dir = None if styles_dir is None else Path(styles_dir).resolve()
        self.max_bytes = int(max_bytes)
        self._cache: dict = {}

    def names(self) -> list[str]:
        if self.dir is None:
            return []
        return sorted(p.stem for p in self.dir.glob("*.npz") if p.is_file())

    def resolve(self, model, spec: dict | None):
        """Run in a worker thread (style extraction runs the style encoder)."""
        from stygaze.stygazetalk.pipeline import StyleVector

        if spec is None:
            return None
        if "vector" in spec:
            return StyleVector(np.asarray(spec["vector"], np.float32), spec["encoder_id"])
        if "name" in spec:
            key = (id(model), spec["name"])
            if key in self._cache:
                return self._cache[key]
            if self.dir is None:
                raise ProtocolError("bad_style", "this server has no named styles (start it with --styles DIR)")
            path = (self.dir / f"{spec['name']}.npz").resolve()
            if path.parent != self.dir or not path.is_file():
                raise ProtocolError("bad_style", f"unknown style {spec['name']!r} (available: {', '.join(self.names()[:20]) or 'none'})")
            if path.stat().st_size > self.max_bytes:
                raise ProtocolError("bad_style", f"style {spec['name']!r} is larger than the server's style limit")
            contents = read_npz_bytes(path.read_bytes(), max_bytes=self.max_bytes)
        else:
            contents = read_npz_bytes(spec["npz"], max_bytes=self.max_bytes)
        try:
            if "style" in contents:
                if "encoder_id" not in contents:
                    raise ProtocolError("bad_style", "the style npz has 'style' but no 'encoder_id'")
                style = StyleVector._from_contents(contents, "style npz")
            elif "motion" in contents:
                style = model.extract_style(Motion(contents["motion"], contents.get("fps", FPS)))
            else:
                raise ProtocolError("bad_style", "the style npz holds neither a style vector ('style') nor a motion clip ('motion')")
        except ProtocolError:
            raise
        except StygazeError as exc:
            raise ProtocolError("bad_style", str(exc)) from None
        if "name" in spec:
            self._cache[(id(model), spec["name"])] = style
        return style


# --------------------------------------------------------------------------------------
# one connection
# --------------------------------------------------------------------------------------
class _ArrivalClock:
    """When the audio ending each frame arrived: (cumulative 16 kHz samples, time) per message."""

    def __init__(self):
        self._q: deque = deque()
        self.samples = 0.0

    def add(self, n16k: float, t: float) -> None:
        self.samples += n16k
        self._q.append((self.samples, t))

    def times(self, start: int, n: int) -> np.ndarray:
        """Arrival times of the audio that ends frames ``start .. start + n - 1``."""
        hop = SAMPLE_RATE / FPS
        out = np.empty(n)
        for k in range(n):
            need = (start + k + 1) * hop - 1e-6
            while len(self._q) > 1 and self._q[0][0] < need:
                self._q.popleft()
            out[k] = self._q[0][1] if self._q else time.perf_counter()
        return out


class StepFeeder:
    """Feeds a :class:`~stygaze.pipeline.MotionStream` exactly at its step boundaries.

    Audio (16 kHz) is buffered and pushed only when the next model step can run
    (:meth:`MotionStream.samples_to_next_step`), one push per step. Frames come out as early
    as with any chunking (a stream only emits frames at steps), each step costs one
    featurisation call instead of one per message, and the output depends only on the
    audio, not on how it was chunked or how fast it arrived.
    """

    def __init__(self, stream, frames: bool = False):
        self.stream = stream
        self.frames = bool(frames)  # return {"motion", "blink", "jaw"} (the stream's push_frames) instead of (n, 7) arrays
        self._parts: list[np.ndarray] = []
        self._n = 0

    def feed(self, x: np.ndarray) -> list:
        """Add samples; returns the outputs of the steps that became possible (maybe none)."""
        self.add(x)
        return self.run_steps()

    def add(self, x: np.ndarray) -> None:
        """Buffer samples without running the model (cheap: safe on the event loop)."""
        if x.size:
            self._parts.append(np.asarray(x, np.float32))
            self._n += len(x)

    @property
    def ready(self) -> bool:
        """True when :meth:`run_steps` would run at least one model step."""
        if not hasattr(self.stream, "samples_to_next_step"):
            return self._n > 0
        need = self.stream.samples_to_next_step()
        return need > 0 and self._n >= need

    def _push(self, x: np.ndarray):
        """One push; with ``frames``, the avatar stages' per-frame blink and jaw too."""
        if self.frames and hasattr(self.stream, "push_frames"):
            return self._as_output(self.stream.push_frames(x))
        return self.stream.push(x)

    @staticmethod
    def _as_output(f):
        if len(f.motion) == 0:  # no frames this time
            return f.motion
        return {"motion": f.motion, "blink": f.blink, "jaw": f.jaw}

    def _flush(self):
        if self.frames and hasattr(self.stream, "flush_frames"):
            return self._as_output(self.stream.flush_frames())
        return self.stream.flush()

    def run_steps(self) -> list:
        """Run every step the buffered audio allows; returns their outputs."""
        if not hasattr(self.stream, "samples_to_next_step"):  # a stream without step boundaries
            if not self._n:
                return []
            buf = np.concatenate(self._parts)
            self._parts, self._n = [], 0
            return [self._push(buf)]
        outs = []
        while self.ready:
            need = self.stream.samples_to_next_step()
            buf = np.concatenate(self._parts) if len(self._parts) > 1 else self._parts[0]
            head, rest = buf[:need], buf[need:]
            self._parts, self._n = ([rest] if rest.size else []), len(rest)
            outs.append(self._push(head))
        return outs

    def finish(self) -> list:
        """End of audio: push what is buffered, then flush the stream."""
        outs = []
        if self._n:
            buf = np.concatenate(self._parts)
            self._parts, self._n = [], 0
            outs.append(self._push(buf))
        outs.append(self._flush())
        return outs


class _Session:
    """One stream: resampler, step feeder, counters."""

    ids = itertools.count(1)

    def __init__(self, server: StreamServer, ws, req: StartRequest, model_name: str, model, stream):
        self.server, self.ws, self.req = server, ws, req
        self.model_name, self.model, self.stream = model_name, model, stream
        self.feeder = StepFeeder(stream, frames=True)  # blink and jaw go to the client with the motion
        self.id = f"s{next(self.ids)}"
        self.frames_sent = 0
        self.clock = _ArrivalClock()
        self.resampler = None
        if req.sample_rate != SAMPLE_RATE:
            import soxr

            self.resampler = soxr.ResampleStream(req.sample_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")

    def _resample(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        if self.resampler is None:
            return x
        return self.resampler.resample_chunk(x, last=last)

    def add(self, x: np.ndarray) -> bool:
        """Event loop: resample and buffer audio; True when a model step can now run."""
        self.feeder.add(self._resample(x))
        return self.feeder.ready

    def steps(self) -> list:
        """Worker thread: run the model steps the buffered audio allows."""
        t0 = time.perf_counter()
        outs = self.feeder.run_steps()
        self.server.stats.step_ms.add((time.perf_counter() - t0) * 1000.0)
        return outs

    def flush(self) -> list:
        """Worker thread: the rest of the frames at the end of the audio."""
        if self.resampler is not None:
            self.feeder.feed(self._resample(np.zeros(0, np.float32), last=True))
        return self.feeder.finish()


class StreamServer:
    """The streaming server. ``await start()`` then ``await stop()``; or :meth:`run` (blocking).

    Args:
        models: ``{name: StyGazeTalk}``, the first is the default (see :func:`load_models`).
        config: :class:`ServeConfig`.
    """

    def __init__(self, models: dict, config: ServeConfig | None = None):
        if not models:
            raise ServeError("no model to serve")
        self.models = dict(models)
        self.default_model = next(iter(self.models))
        self.config = config or ServeConfig()
        self.config.check()
        self.styles = StyleResolver(self.config.styles_dir, self.config.max_style_bytes)
        self.stats = ServerStats()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._server = None
        self._sessions: set[_Session] = set()
        self._active = 0
        self._closing = False
        self._head_glb: bytes | None = None
        self._origin_list: list | None = None
        for m in self.models.values():
            self._check_streamable(m)

    @staticmethod
    def _check_streamable(model) -> None:
        from stygaze.stygazetalk.audio_encoder import MelEncoder

        if not isinstance(model.model.generator.audio, MelEncoder):
            raise ServeError(f"model {model.source or '?'} cannot stream (it needs the 'mel' audio encoder)")

    @property
    def port(self) -> int:
        """The port actually listened on (useful with ``port=0``)."""
        if self._server is None:
            return int(self.config.port)
        return int(next(iter(self._server.sockets)).getsockname()[1])

    # --- lifecycle -----------------------------------------------------------------
    async def start(self) -> None:
        import torch
        from websockets.asyncio.server import serve

        torch.set_num_threads(1)  # the steps are tiny; threads only add contention (see pipeline._one_thread)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=int(self.config.workers), thread_name_prefix="stygaze-model",
                                                           initializer=_one_torch_thread)
        c = self.config
        origins = None
        if c.origins:
            origins = [*c.origins, None]  # None: clients that send no Origin header (not browsers)
        self._origin_list = origins
        try:
            self._server = await serve(
                self._handle,
                c.host,
                int(c.port),
                process_request=self._http,
                max_size=int(c.max_message_bytes),
                max_queue=8,
                ping_interval=20,
                ping_timeout=20,
                close_timeout=5,
                open_timeout=10,
                origins=None,  # checked in _http so the server's own page is always allowed
                logger=logging.getLogger("stygaze.serve.ws"),
            )
        except OSError as exc:
            self._pool.shutdown(wait=False)
            raise ServeError(f"cannot listen on {c.host}:{c.port}: {exc.strerror or exc}") from None
        await asyncio.gather(*(self._run(self._warm_up, m) for m in self.models.values()))
        self._lag_task = asyncio.create_task(self._watch_loop())
        if c.origins:
            own = {f"http://{c.host}:{self.port}", f"http://localhost:{self.port}", f"http://127.0.0.1:{self.port}"}
            self._origin_list = [*c.origins, *sorted(own), None]
        log.info("stygaze serve: listening on ws://%s:%d (models: %s)", c.host, self.port, ", ".join(self.models))

    async def _watch_loop(self, period: float = 0.1) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(period)
            self.stats.loop_lag_ms.add((time.perf_counter() - t - period) * 1000.0)

    @staticmethod
    def _warm_up(model) -> None:
        """One short stream per model before the first client: the first ``stream()`` imports
        and initialises modules (seconds on a busy machine), which no client should wait for."""
        s = model.stream(seed=0)
        s.push(np.zeros(SAMPLE_RATE, np.float32))
        s.flush()

    async def stop(self) -> None:
        """Close every stream (error ``shutting_down`` + close 1001), then the server."""
        self._closing = True
        if getattr(self, "_lag_task", None) is not None:
            self._lag_task.cancel()
        await asyncio.gather(*(self._close_session(s) for s in list(self._sessions)), return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    async def _close_session(self, s: _Session) -> None:
        err = ProtocolError("shutting_down", "the server is shutting down")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(s.ws.send(err.to_message()), 2.0)
        with contextlib.suppress(Exception):
            await s.ws.close(err.close_code, "server shutting down")

    async def serve_until_signalled(self) -> None:
        """Serve until SIGINT or SIGTERM, then :meth:`stop`."""
        await self.start()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            print(f"stygaze serve: ws://{self.config.host}:{self.port}  viewer: http://{self.config.host}:{self.port}/", flush=True)
            await stop.wait()
        finally:
            log.info("stygaze serve: shutting down (%d streams open)", len(self._sessions))
            await self.stop()

    def run(self) -> None:
        """Blocking: serve until SIGINT/SIGTERM."""
        asyncio.run(self.serve_until_signalled())

    # --- HTTP: viewer files, head.glb, stats --------------------------------------
    def head_glb(self) -> bytes:
        if self._head_glb is None:

            self._head_glb = head_glb_bytes()
        return self._head_glb

    def _http(self, connection, request):
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        origin = request.headers.get("Origin")
        if "websocket" in request.headers.get("Upgrade", "").lower():
            if self._origin_list is not None and origin not in self._origin_list:
                self.stats.error("bad_origin")
                return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed\n")
            return None
        path = request.path.split("?", 1)[0]
        if path == "/stats":
            body, ctype = json.dumps(self.stats.to_json()).encode(), "application/json"
        elif path == "/head.glb":
            body, ctype = self.head_glb(), _CONTENT_TYPES[".glb"]
        elif path == "/config.json":
            cfg = {"models": list(self.models), "styles": self.styles.names(), "websocket": "/"}
            body, ctype = json.dumps(cfg).encode(), "application/json"
        else:
            body, ctype = self._static(path)
            if body is None:
                return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        headers = Headers([
            ("Content-Type", ctype),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
            ("Connection", "close"),
        ])
        return Response(200, "OK", headers, body)

    def _static(self, path: str) -> tuple[bytes | None, str]:
        root = self.config.static_dir
        if root is None:
            return None, ""
        root = Path(root).resolve()
        rel = "index.html" if path in ("/", "") else path.lstrip("/")
        if "\\" in rel or any(part in ("", ".", "..") or part.startswith(".") for part in rel.split("/")):
            return None, ""
        target = (root / rel).resolve()
        if root not in target.parents or not target.is_file():
            return None, ""
        ctype = _CONTENT_TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0]
        if ctype is None:
            return None, ""
        return target.read_bytes(), ctype

    # --- WebSocket: one stream per connection --------------------------------------
    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _fail(self, ws, err: ProtocolError) -> None:
        self.stats.error(err.code)
        log.info("stream error %s: %s", err.code, err)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.send(err.to_message()), 2.0)
        with contextlib.suppress(Exception):
            await ws.close(err.close_code, err.code)

    async def _recv(self, ws):
        try:
            return await asyncio.wait_for(ws.recv(), float(self.config.idle_timeout_s))
        except TimeoutError:
            raise ProtocolError("idle_timeout", f"nothing received for {self.config.idle_timeout_s:g} s") from None

    async def _send(self, ws, msg) -> None:
        try:
            await asyncio.wait_for(ws.send(msg), float(self.config.idle_timeout_s))
        except TimeoutError:
            raise ProtocolError("idle_timeout", f"the client read no frames for {self.config.idle_timeout_s:g} s") from None

    async def _handle(self, ws) -> None:
        from websockets.exceptions import ConnectionClosed

        if self._closing:
            await self._fail(ws, ProtocolError("shutting_down", "the server is shutting down"))
            return
        if self._active >= int(self.config.max_clients):
            await self._fail(ws, ProtocolError("server_busy", f"the server is serving its maximum of {self.config.max_clients} streams; try again later"))
            return
        self._active += 1
        self.stats.sessions_total += 1
        self.stats.sessions_active = self._active
        session = None
        try:
            session = await self._open(ws)
            self._sessions.add(session)
            await self._stream(session)
            self.stats.sessions_ok += 1
        except ProtocolError as err:
            await self._fail(ws, err)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else (exc.sent.code if exc.sent is not None else None)
            if code == 1009 or (exc.sent is not None and exc.sent.code == 1009):
                self.stats.error("too_big")
            else:
                self.stats.error("client_gone")
        except Exception:  # noqa: BLE001 - a bug must not take the server down
            log.exception("stream failed")
            await self._fail(ws, ProtocolError("internal", "internal server error"))
        finally:
            if session is not None:
                self._sessions.discard(session)
            self._active -= 1
            self.stats.sessions_active = self._active

    async def _open(self, ws) -> _Session:
        req = parse_start(await self._recv(ws), max_style_bytes=int(self.config.max_style_bytes))
        name = req.model or self.default_model
        if name not in self.models:
            raise ProtocolError("unknown_model", f"unknown model {name!r} (this server has: {', '.join(self.models)})")
        model = self.models[name]

        def make_stream():
            try:
                style = self.styles.resolve(model, req.style)
                # the avatar stages are the default; "saccades": true keeps the gaze-event stage on (older clients)
                return model.stream(style=style, seed=req.seed, head_scale=req.head_scale, gaze_scale=req.gaze_scale,
                                    temperature=req.temperature, saccades=True if req.saccades else None)
            except ProtocolError:
                raise
            except StygazeError as exc:
                raise ProtocolError("bad_style" if req.style is not None else "bad_handshake", str(exc)) from None

        stream = await self._run(make_stream)
        session = _Session(self, ws, req, name, model, stream)
        latency_ms = (model.latency_frames + 0.3) * 1000.0 / FPS  # N + M - 1 frames + the mel window's look-ahead
        await self._send(ws, ready_message(session=session.id, model=name, fps=float(FPS), latency_frames=model.latency_frames,
                                           latency_ms=latency_ms, output=req.output))
        return session

    async def _emit(self, s: _Session, out, t_msg: float | None) -> None:
        batch = FrameBatch.from_output(out, s.frames_sent)
        n = len(batch)
        if n == 0:
            return
        msg = encode_binary(batch) if s.req.output == "binary" else encode_json(batch)
        arrived = s.clock.times(batch.start, n)
        await self._send(s.ws, msg)
        now = time.perf_counter()
        s.frames_sent += n
        self.stats.frames_sent += n
        self.stats.delay_ms.add_many((now - arrived) * 1000.0)
        if t_msg is not None:
            self.stats.compute_ms.add((now - t_msg) * 1000.0)

    async def _reader(self, ws, queue: asyncio.Queue) -> None:
        """Move incoming messages into the connection's bounded queue with their arrival time.

        Runs beside the processing loop so that messages (and WebSocket pings) keep being read
        while the model works; when the queue is full it waits, and TCP slows the client down.
        An exception (idle timeout, closed connection) is queued for the processing loop.
        """
        try:
            while True:
                msg = await self._recv(ws)
                await queue.put((time.perf_counter(), msg))
                if not isinstance(msg, bytes):
                    return  # "end" (or a bad message): nothing more to read
        except Exception as exc:  # noqa: BLE001 - handed to the processing loop
            await queue.put((time.perf_counter(), exc))

    async def _stream(self, s: _Session) -> None:
        """Process a connection's messages in order. Audio messages that queued up while the
        model was busy are handled together (up to :data:`MAX_COALESCE_S` of audio): fewer
        hand-offs to the worker threads when the server has fallen behind. (The output does
        not depend on this: :class:`StepFeeder` pushes at step boundaries.)"""
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_MESSAGES)
        reader = asyncio.create_task(self._reader(s.ws, queue))
        try:
            await self._process(s, queue)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _process(self, s: _Session, queue: asyncio.Queue) -> None:
        max_samples = MAX_COALESCE_S * s.req.sample_rate
        pending = None
        while True:
            t_msg, msg = pending if pending is not None else await queue.get()
            pending = None
            if isinstance(msg, Exception):
                raise msg
            if isinstance(msg, bytes):
                parts = [decode_audio(msg, s.req.sample_format)]
                s.clock.add(len(parts[0]) * SAMPLE_RATE / s.req.sample_rate, t_msg)
                n = len(parts[0])
                while n < max_samples and not queue.empty():
                    t_next, nxt = queue.get_nowait()
                    if not isinstance(nxt, bytes):
                        pending = (t_next, nxt)
                        break
                    x = decode_audio(nxt, s.req.sample_format)
                    s.clock.add(len(x) * SAMPLE_RATE / s.req.sample_rate, t_next)
                    parts.append(x)
                    n += len(x)
                x = parts[0] if len(parts) == 1 else np.concatenate(parts)
                self.stats.audio_seconds += len(x) / s.req.sample_rate
                if not s.add(x):  # no model step possible yet: nothing for the workers to do
                    continue
                try:
                    outs = await self._run(s.steps)
                except ModelOutputError as exc:
                    raise ProtocolError("model_error", str(exc)) from None
                except StygazeError as exc:
                    raise ProtocolError("bad_audio", str(exc)) from None
                for out in outs:
                    await self._emit(s, out, t_msg)
                continue
            try:
                ctrl = json.loads(msg)
            except json.JSONDecodeError:
                raise ProtocolError("bad_message", "text messages after the start request must be JSON ({\"type\": \"end\"})") from None
            if not isinstance(ctrl, dict) or ctrl.get("type") != "end":
                raise ProtocolError("bad_message", 'the only text message after the start request is {"type": "end"}')
            if s.clock.samples == 0:
                raise ProtocolError("bad_audio", "the stream ended before any audio was sent")
            try:
                outs = await self._run(s.flush)
            except ModelOutputError as exc:
                raise ProtocolError("model_error", str(exc)) from None
            except StygazeError as exc:
                raise ProtocolError("bad_audio", str(exc)) from None
            for out in outs:
                await self._emit(s, out, t_msg)
            await self._send(s.ws, json.dumps({"type": "done", "frames": s.frames_sent}))
            await s.ws.close(1000, "done")
            return
