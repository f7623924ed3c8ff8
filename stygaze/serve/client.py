"""A Python client for ``stygaze serve``.

Asynchronous (one connection = one stream)::

    async with StreamClient.connect("ws://127.0.0.1:8765", seed=0, output="binary") as c:
        await c.send_audio(chunk)          # (S,) float samples in [-1, 1] at c.request.sample_rate
        ...
        await c.end()
        motion = await c.collect()         # every frame, as a Motion (blink/jaw when present)

or frame batches as they arrive: ``async for batch in c.frames(): ...`` (each a
:class:`~stygaze.serve.protocol.FrameBatch`).

Blocking, for a whole file: :func:`stream_file` (optionally at real-time pace).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from stygaze.audio import read_audio
from stygaze.errors import StygazeError
from stygaze.motion import Motion
from stygaze.serve.protocol import (
    FrameBatch,
    StartRequest,
    decode_binary,
    decode_json,
    encode_audio,
)


class ServeClientError(StygazeError):
    """The server answered with an error, or closed the stream early."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


def style_field(style) -> dict | None:
    """A style argument → the start request's ``style`` entry.

    ``None``; a server-side name (``"name:calm"`` or ``{"name": "calm"}``); a
    :class:`~stygaze.pipeline.StyleVector`; or a path to an ``.npz`` (a saved style vector or
    a motion clip), uploaded as base64.
    """
    from stygaze.stygazetalk.pipeline import StyleVector

    if style is None or isinstance(style, dict):
        return style
    if isinstance(style, StyleVector):
        return {"vector": [float(v) for v in style.style], "encoder_id": style.encoder_id}
    if isinstance(style, str) and style.startswith("name:"):
        return {"name": style[5:]}
    if isinstance(style, (str, os.PathLike)):
        return {"npz": base64.b64encode(Path(style).read_bytes()).decode("ascii")}
    raise TypeError(f"unsupported style argument of type {type(style).__name__}")


class StreamClient:
    """One streaming connection. Create with :meth:`connect` (an async context manager)."""

    def __init__(self, ws, request: StartRequest, ready: dict):
        self.ws = ws
        self.request = request
        self.ready = ready
        self.fps = float(ready.get("fps", 25.0))
        self.done: dict | None = None
        self.started_at: float | None = None
        self.received_at: list[tuple[int, int, float]] = []
        """(start, count, perf_counter time) of every motion message, for latency checks."""

    @classmethod
    def connect(cls, url: str, *, sample_rate: int = 16000, sample_format: str = "float32", output: str = "json",
                seed: int | None = None, style=None, model: str | None = None, origin: str | None = None,
                open_timeout: float = 30.0, **start_kwargs) -> _Connect:
        """Open a stream. Extra keyword arguments go into the start request
        (``head_scale``, ``gaze_scale``, ``temperature``, ``saccades``)."""
        req = StartRequest(sample_rate=sample_rate, sample_format=sample_format, output=output, seed=seed,
                           model=model, style=style_field(style), **start_kwargs)
        return _Connect(url, req, origin, open_timeout)

    async def send_audio(self, samples: np.ndarray) -> None:
        """Send ``(S,)`` float samples in [-1, 1] (encoded in the request's sample format)."""
        await self.ws.send(encode_audio(samples, self.request.sample_format))

    async def end(self) -> None:
        """No more audio: the server sends the last frames, ``done`` and closes."""
        await self.ws.send(json.dumps({"type": "end"}))

    async def frames(self) -> AsyncIterator[FrameBatch]:
        """Motion batches in order until ``done`` (sets :attr:`done`).

        Raises:
            ServeClientError: an ``error`` message, or the connection closed before ``done``.
        """
        from websockets.exceptions import ConnectionClosed

        while True:
            try:
                msg = await self.ws.recv()
            except ConnectionClosed as exc:
                rcvd = exc.rcvd
                reason = f"{rcvd.code} {rcvd.reason}" if rcvd is not None else "no close frame"
                raise ServeClientError(f"the server closed the stream before it was done ({reason})",
                                       "too_big" if rcvd is not None and rcvd.code == 1009 else None) from None
            now = time.perf_counter()
            if isinstance(msg, bytes):
                batch = decode_binary(msg, self.fps)
            else:
                obj = json.loads(msg)
                kind = obj.get("type")
                if kind == "error":
                    raise ServeClientError(f"server error {obj.get('code')}: {obj.get('message')}", obj.get("code"))
                if kind == "done":
                    self.done = obj
                    return
                if kind != "motion":
                    continue
                batch = decode_json(obj, self.fps)
            self.received_at.append((batch.start, len(batch), now))
            yield batch

    async def collect(self):
        """Every remaining frame as one :class:`~stygaze.motion.Motion` (after :meth:`end`)."""
        return concat_batches([b async for b in self.frames()], self.fps)

    async def close(self) -> None:
        await self.ws.close()


class _Connect:
    def __init__(self, url, req, origin, open_timeout):
        self.url, self.req, self.origin, self.open_timeout = url, req, origin, open_timeout
        self.client: StreamClient | None = None

    async def __aenter__(self) -> StreamClient:
        from websockets.asyncio.client import connect

        ws = await connect(self.url, origin=self.origin, max_size=None, open_timeout=self.open_timeout)
        try:
            await ws.send(self.req.to_message())
            ready = json.loads(await ws.recv())
        except Exception:
            await ws.close()
            raise
        if ready.get("type") == "error":
            await ws.close()
            raise ServeClientError(f"server error {ready.get('code')}: {ready.get('message')}", ready.get("code"))
        if ready.get("type") != "ready":
            await ws.close()
            raise ServeClientError(f"unexpected first message from the server: {str(ready)[:100]}")
        self.client = StreamClient(ws, self.req, ready)
        return self.client

    async def __aexit__(self, *exc) -> None:
        if self.client is not None:
            await self.client.close()


def concat_batches(batches: list[FrameBatch], fps: float = 25.0):
    """Consecutive batches → one :class:`~stygaze.motion.Motion`; checks that no frame is missing."""

    if not batches:
        raise ServeClientError("the stream produced no frames")
    expect = batches[0].start
    for b in batches:
        if b.start != expect:
            raise ServeClientError(f"frames arrived out of order or with a gap: expected {expect}, got {b.start}")
        expect += len(b)
    blink = None if batches[0].blink is None else np.concatenate([b.blink for b in batches])
    extras = {} if batches[0].jaw is None else {"jaw": np.concatenate([b.jaw for b in batches])}
    return Motion(np.concatenate([b.motion for b in batches]), fps, blink, extras)


async def stream_samples(url: str, samples: np.ndarray, sr: int, *, chunk_ms: float = 100.0, realtime: bool = False,
                         on_batch=None, **connect_kwargs):
    """Stream ``samples`` (mono float, at ``sr``) and return ``(Motion, client)``.

    ``realtime`` paces the chunks at the audio's own speed (as a microphone would);
    ``on_batch(batch, client)`` is called for each batch as it arrives (``client.started_at``
    is the ``time.perf_counter()`` when the first audio chunk was sent).
    """
    chunk = max(1, int(round(sr * chunk_ms / 1000.0)))
    async with StreamClient.connect(url, sample_rate=sr, **connect_kwargs) as c:
        batches: list[FrameBatch] = []

        async def reader():
            async for b in c.frames():
                batches.append(b)
                if on_batch is not None:
                    on_batch(b, c)

        task = asyncio.create_task(reader())
        t0 = c.started_at = time.perf_counter()
        try:
            for k, i in enumerate(range(0, len(samples), chunk)):
                if realtime:
                    delay = t0 + k * chunk / sr - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if task.done():
                    break
                await c.send_audio(samples[i : i + chunk])
            if not task.done():
                await c.end()
            await task
        finally:
            if not task.done():
                task.cancel()
        return concat_batches(batches, c.fps), c


def stream_file(url: str, audio: str | os.PathLike, **kwargs):
    """Blocking: stream an audio file (any format :func:`stygaze.audio.read_audio` reads)
    to the server and return the :class:`~stygaze.motion.Motion` it sent back.

    Keyword arguments as :func:`stream_samples` and :meth:`StreamClient.connect`.
    """

    samples, sr = read_audio(audio)
    samples = np.asarray(samples, np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    motion, _ = asyncio.run(stream_samples(url, samples, int(sr), **kwargs))
    return motion
