"""The ``stygaze serve`` wire protocol (version 1), shared by the server and the clients.

One WebSocket connection carries one stream (``docs/serve.md`` has the full description
and examples):

1. client → server, a text message: the **start** request (JSON, :class:`StartRequest`)::

       {"type": "start", "sample_rate": 16000, "format": "int16", "output": "json",
        "seed": 0, "style": {"name": "calm"}, "model": "default"}

2. server → client: **ready** (JSON: fps, channels, latency, the binary layout) or an
   **error** followed by a close.
3. client → server: binary messages of mono PCM audio (``int16`` or ``float32``,
   little-endian, at ``sample_rate``), any length up to the message-size limit; the text
   message ``{"type": "end"}`` ends the audio.
4. server → client: **motion** messages as soon as frames are determined, in order, each
   frame exactly once: JSON (:func:`encode_json`) or binary (:func:`encode_binary`), as
   the client chose; after ``end``: the last frames, then ``{"type": "done", "frames": N}``
   and a normal close (1000).

Any problem gets ``{"type": "error", "code": ..., "message": ...}`` and a close with a
WebSocket status code (:data:`CLOSE_CODES`).

**Frames.** Frame ``i`` lies at ``t = i / fps`` seconds of the audio received (25 fps).
``motion`` is ``(n, 7)`` degrees in :data:`stygaze.motion.CHANNELS` order. ``blink``
``(n,)`` eyelid closure 0..1 and ``jaw`` ``(n, J)`` (FLAME jaw pose, axis-angle radians,
``J`` = 3) are present when the model produces them and absent otherwise.

**Binary frames** (:data:`BINARY_HEADER`, 16 bytes, little-endian): ``magic`` ``b"SGM1"``,
``start`` uint32 (index of the first frame), ``count`` uint16 (frames), ``width`` uint16
(float32 values per frame), ``flags`` uint16 (bit 0: blink present, bit 1: jaw present),
``jaw_dim`` uint16; then ``count × width`` float32 values, frame-major: the 7 motion
channels, then blink (1 value) if flagged, then jaw (``jaw_dim`` values) if flagged.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
import struct
import zipfile
from dataclasses import dataclass, field

import numpy as np

from stygaze.audio import FPS
from stygaze.errors import StygazeError
from stygaze.motion import CHANNELS, NUM_CHANNELS, Motion

PROTOCOL_VERSION = 1
"""Version of this protocol; the start request may name it, the ready message always does."""

SAMPLE_FORMATS: dict[str, tuple[str, float]] = {"int16": ("<i2", 32767.0), "float32": ("<f4", 1.0)}
"""Audio sample formats: name → (numpy dtype, full scale). int16 is scaled like :func:`stygaze.audio.prepare_audio`."""

OUTPUT_FORMATS = ("json", "binary")
"""How motion frames are sent: JSON text messages or binary messages (:data:`BINARY_HEADER`)."""

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 192000
"""Accepted audio sample rates (Hz); other rates than 16 kHz are resampled on the server."""

BINARY_MAGIC = b"SGM1"
BINARY_HEADER = struct.Struct("<4sIHHHH")
"""magic, start, count, width, flags, jaw_dim (16 bytes, little-endian)."""
FLAG_BLINK = 1
FLAG_JAW = 2

STYLE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Server-side style names: letters, digits, ``_ . -``; no path separators, no leading dot."""

CLOSE_CODES: dict[str, int] = {
    "bad_handshake": 1008,  # policy violation
    "bad_style": 1008,
    "unknown_model": 1008,
    "bad_audio": 1003,  # unsupported data
    "bad_message": 1003,
    "too_big": 1009,  # message too big
    "idle_timeout": 1008,
    "server_busy": 1013,  # try again later
    "shutting_down": 1001,  # going away
    "model_error": 1011,  # the model produced NaN/inf (broken weights)
    "internal": 1011,  # internal error
}
"""Error code → the WebSocket close code the server closes with after sending the error."""


class ProtocolError(StygazeError):
    """A message that breaks the protocol; ``code`` is one of :data:`CLOSE_CODES`."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code

    @property
    def close_code(self) -> int:
        return CLOSE_CODES.get(self.code, 1008)

    def to_message(self) -> str:
        return json.dumps({"type": "error", "code": self.code, "message": str(self)})


# --------------------------------------------------------------------------------------
# the start request
# --------------------------------------------------------------------------------------
@dataclass
class StartRequest:
    """A validated start request.

    Attributes:
        sample_rate: Hz of the audio the client will send.
        sample_format: ``int16`` or ``float32`` (little-endian, mono).
        output: ``json`` or ``binary`` motion messages.
        seed: None (start from the mean pose) or an int (reproducible start and latents).
        model: name of a model the server loaded (None = its default).
        style: None (the model's neutral style) or one of ``{"name": str}``,
            ``{"vector": list[float], "encoder_id": str}``, ``{"npz": base64 str}``.
        head_scale, gaze_scale: amplitude controls (see :meth:`StyGazeTalk.generate`).
        temperature: latent scale (None = the model's).
        saccades: the gaze-event stage; the server streams the avatar stages (gaze events, blinks,
            jaw) by default, so false and true both give it (true is kept for older clients).
    """

    sample_rate: int = 16000
    sample_format: str = "int16"
    output: str = "json"
    seed: int | None = None
    model: str | None = None
    style: dict | None = None
    head_scale: float = 1.0
    gaze_scale: float = 1.0
    temperature: float | None = None
    saccades: bool = False
    extra: dict = field(default_factory=dict)

    def to_message(self) -> str:
        msg = {
            "type": "start",
            "version": PROTOCOL_VERSION,
            "sample_rate": self.sample_rate,
            "format": self.sample_format,
            "output": self.output,
            "seed": self.seed,
            "model": self.model,
            "style": self.style,
            "head_scale": self.head_scale,
            "gaze_scale": self.gaze_scale,
            "temperature": self.temperature,
            "saccades": self.saccades,
        }
        return json.dumps({k: v for k, v in msg.items() if v is not None})


_START_KEYS = {
    "type", "version", "sample_rate", "format", "output", "seed", "model", "style",
    "head_scale", "gaze_scale", "temperature", "saccades",
}


def _number(msg: dict, key: str, default, lo: float, hi: float) -> float:
    v = msg.get(key, default)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        raise ProtocolError("bad_handshake", f"'{key}' must be a number in [{lo:g}, {hi:g}], got {v!r}")
    return float(v)


def parse_start(message: str | bytes, *, max_style_bytes: int) -> StartRequest:
    """Validate the first message of a connection.

    Raises:
        ProtocolError: not JSON, not a start message, unknown keys, values out of range,
            a style entry of the wrong form or larger than ``max_style_bytes``.
    """
    if isinstance(message, bytes):
        raise ProtocolError("bad_handshake", "the first message must be the JSON start request (text), not binary audio")
    try:
        msg = json.loads(message)
    except (json.JSONDecodeError, RecursionError):
        raise ProtocolError("bad_handshake", "the start request is not valid JSON") from None
    if not isinstance(msg, dict) or msg.get("type") != "start":
        raise ProtocolError("bad_handshake", 'the first message must be {"type": "start", ...}')
    unknown = sorted(set(msg) - _START_KEYS)
    if unknown:
        raise ProtocolError("bad_handshake", f"unknown start field(s): {', '.join(unknown)[:200]}")
    version = msg.get("version", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION:
        raise ProtocolError("bad_handshake", f"protocol version {version!r} is not supported (this server speaks {PROTOCOL_VERSION})")
    sr = msg.get("sample_rate", 16000)
    if isinstance(sr, bool) or not isinstance(sr, int) or not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise ProtocolError("bad_handshake", f"'sample_rate' must be an integer in [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}], got {sr!r}")
    fmt = msg.get("format", "int16")
    if fmt not in SAMPLE_FORMATS:
        raise ProtocolError("bad_handshake", f"'format' must be one of {', '.join(SAMPLE_FORMATS)}, got {str(fmt)[:40]!r}")
    output = msg.get("output", "json")
    if output not in OUTPUT_FORMATS:
        raise ProtocolError("bad_handshake", f"'output' must be one of {', '.join(OUTPUT_FORMATS)}, got {str(output)[:40]!r}")
    seed = msg.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63):
        raise ProtocolError("bad_handshake", f"'seed' must be null or a non-negative integer, got {str(seed)[:40]!r}")
    model = msg.get("model")
    if model is not None and (not isinstance(model, str) or not STYLE_NAME_RE.match(model)):
        raise ProtocolError("bad_handshake", "'model' must be null or a model name the server lists")
    saccades = msg.get("saccades", False)
    if not isinstance(saccades, bool):
        raise ProtocolError("bad_handshake", "'saccades' must be true or false")
    temperature = msg.get("temperature")
    if temperature is not None:
        temperature = _number(msg, "temperature", None, 0.0, 10.0)
    return StartRequest(
        sample_rate=int(sr),
        sample_format=fmt,
        output=output,
        seed=seed,
        model=model,
        style=_check_style(msg.get("style"), max_style_bytes),
        head_scale=_number(msg, "head_scale", 1.0, 0.0, 10.0),
        gaze_scale=_number(msg, "gaze_scale", 1.0, 0.0, 10.0),
        temperature=temperature,
        saccades=saccades,
    )


def _check_style(style, max_style_bytes: int) -> dict | None:
    if style is None:
        return None
    if not isinstance(style, dict) or len(style) == 0:
        raise ProtocolError("bad_style", "'style' must be null, {\"name\": ...}, {\"vector\": [...], \"encoder_id\": ...} or {\"npz\": base64}")
    if set(style) == {"name"}:
        name = style["name"]
        if not isinstance(name, str) or not STYLE_NAME_RE.match(name):
            raise ProtocolError("bad_style", "style name must be 1-64 letters, digits, '_', '.' or '-'")
        return {"name": name}
    if set(style) == {"vector", "encoder_id"}:
        vec, enc = style["vector"], style["encoder_id"]
        if not isinstance(enc, str) or len(enc) > 200:
            raise ProtocolError("bad_style", "style 'encoder_id' must be a string")
        if not isinstance(vec, list) or not 0 < len(vec) <= 4096 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in vec
        ):
            raise ProtocolError("bad_style", "style 'vector' must be a non-empty list of finite numbers")
        return {"vector": [float(v) for v in vec], "encoder_id": enc}
    if set(style) == {"npz"}:
        data = style["npz"]
        if not isinstance(data, str):
            raise ProtocolError("bad_style", "style 'npz' must be a base64 string")
        if len(data) > 4 * (max_style_bytes // 3 + 1):
            raise ProtocolError("too_big", f"style npz is larger than the server's limit of {max_style_bytes} bytes")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError("bad_style", "style 'npz' is not valid base64") from None
        return {"npz": raw}
    raise ProtocolError("bad_style", f"unsupported style form with keys {sorted(style)[:5]}")


def read_npz_bytes(raw: bytes, *, max_bytes: int) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` given as bytes, safely: no pickles, bounded size.

    The archive's declared uncompressed size is checked before anything is decompressed
    (no zip bombs), and arrays are read with ``allow_pickle=False``.

    Raises:
        ProtocolError: not a zip/npz, too large once uncompressed, object arrays.
    """
    if len(raw) > max_bytes:
        raise ProtocolError("too_big", f"style npz is {len(raw)} bytes, the limit is {max_bytes}")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            if len(infos) > 64:
                raise ProtocolError("bad_style", "style npz holds too many arrays")
            total = sum(i.file_size for i in infos)
    except zipfile.BadZipFile:
        raise ProtocolError("bad_style", "style 'npz' is not an .npz (zip) archive") from None
    if total > max_bytes:
        raise ProtocolError("too_big", f"style npz unpacks to {total} bytes, the limit is {max_bytes}")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception as exc:  # noqa: BLE001 - any parse failure is the client's bad file
        raise ProtocolError("bad_style", f"cannot read the style npz ({type(exc).__name__})") from None


def decode_audio(payload: bytes, sample_format: str) -> np.ndarray:
    """A binary audio message → ``(S,)`` float32 in [-1, 1].

    Raises:
        ProtocolError: empty, not a whole number of samples, or non-finite float samples.
    """
    dtype, scale = SAMPLE_FORMATS[sample_format]
    width = np.dtype(dtype).itemsize
    if len(payload) == 0 or len(payload) % width:
        raise ProtocolError("bad_audio", f"an audio message must hold a whole number of {sample_format} samples ({width} bytes each), got {len(payload)} bytes")
    x = np.frombuffer(payload, dtype=dtype).astype(np.float32)
    if scale != 1.0:
        x /= scale
    elif not np.isfinite(x).all():
        raise ProtocolError("bad_audio", "audio contains NaN or infinite samples")
    return x


def encode_audio(samples: np.ndarray, sample_format: str) -> bytes:
    """``(S,)`` float samples in [-1, 1] → the bytes of one audio message."""
    dtype, scale = SAMPLE_FORMATS[sample_format]
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if scale != 1.0:
        x = np.clip(np.round(x * scale), -scale - 1, scale)
    return x.astype(dtype).tobytes()


# --------------------------------------------------------------------------------------
# motion frames
# --------------------------------------------------------------------------------------
@dataclass
class FrameBatch:
    """Consecutive motion frames ``start .. start + n - 1``.

    Attributes:
        start: index of the first frame (frame ``i`` lies at ``i / fps`` s of the audio).
        motion: ``(n, 7)`` float32 degrees.
        blink: ``(n,)`` float32 0..1, or None when the model makes no blinks.
        jaw: ``(n, J)`` float32 (FLAME jaw pose, radians), or None.
        fps: frame rate.
    """

    start: int
    motion: np.ndarray
    blink: np.ndarray | None = None
    jaw: np.ndarray | None = None
    fps: float = FPS

    def __len__(self) -> int:
        return int(self.motion.shape[0])

    @classmethod
    def from_output(cls, out, start: int, fps: float = FPS) -> FrameBatch:
        """Wrap what a stream's ``push``/``flush`` returned.

        Accepts ``(n, 7)`` arrays (motion only), a :class:`~stygaze.motion.Motion` (its
        ``blink`` and ``extras["jaw"]`` are carried) or a mapping with ``motion`` and
        optional ``blink``/``jaw`` arrays.
        """

        blink = jaw = None
        if isinstance(out, Motion):
            motion, blink, jaw = out.data, out.blink, out.extras.get("jaw")
        elif isinstance(out, dict):
            motion, blink, jaw = out["motion"], out.get("blink"), out.get("jaw")
        else:
            motion = out
        motion = np.asarray(motion, np.float32).reshape(-1, NUM_CHANNELS)
        n = len(motion)
        if blink is not None:
            blink = np.asarray(blink, np.float32).reshape(n)
        if jaw is not None:
            jaw = np.asarray(jaw, np.float32).reshape(n, -1)
        return cls(int(start), motion, blink, jaw, fps)

    def to_motion(self):
        """These frames as a :class:`~stygaze.motion.Motion` (blink and jaw carried)."""

        extras = {} if self.jaw is None else {"jaw": self.jaw}
        return Motion(self.motion, self.fps, self.blink, extras)


def _finite_list(a: np.ndarray) -> list:
    """Rounded nested lists for JSON; NaN (tracker loss) becomes null."""
    a = np.round(np.asarray(a, np.float64), 4)
    out = a.tolist()
    if np.isnan(a).any():
        def fix(v):
            return [fix(x) for x in v] if isinstance(v, list) else (None if v != v else v)
        out = fix(out)
    return out


def encode_json(batch: FrameBatch) -> str:
    """``{"type": "motion", "start", "count", "t", "fps", "motion", ["blink"], ["jaw"]}``.

    ``t`` is the time of the first frame (``start / fps`` s); values are rounded to 1e-4.
    """
    msg = {
        "type": "motion",
        "start": batch.start,
        "count": len(batch),
        "t": round(batch.start / batch.fps, 6),
        "fps": batch.fps,
        "motion": _finite_list(batch.motion),
    }
    if batch.blink is not None:
        msg["blink"] = _finite_list(batch.blink)
    if batch.jaw is not None:
        msg["jaw"] = _finite_list(batch.jaw)
    return json.dumps(msg, separators=(",", ":"))


def decode_json(msg: dict, fps: float = FPS) -> FrameBatch:
    """The inverse of :func:`encode_json` (given the parsed message)."""
    def arr(v):
        return np.array([[np.nan if x is None else x for x in r] if isinstance(r, list) else (np.nan if r is None else r) for r in v], np.float32)

    motion = arr(msg["motion"]).reshape(-1, NUM_CHANNELS)
    blink = arr(msg["blink"]) if "blink" in msg else None
    jaw = arr(msg["jaw"]).reshape(len(motion), -1) if "jaw" in msg else None
    return FrameBatch(int(msg["start"]), motion, blink, jaw, float(msg.get("fps", fps)))


def encode_binary(batch: FrameBatch) -> bytes:
    """:data:`BINARY_HEADER` + float32 frame-major values (see the module docstring)."""
    cols = [batch.motion.astype(np.float32)]
    flags, jaw_dim = 0, 0
    if batch.blink is not None:
        cols.append(batch.blink.astype(np.float32)[:, None])
        flags |= FLAG_BLINK
    if batch.jaw is not None:
        jaw_dim = batch.jaw.shape[1]
        cols.append(batch.jaw.astype(np.float32))
        flags |= FLAG_JAW
    body = np.ascontiguousarray(np.concatenate(cols, axis=1), dtype="<f4")
    header = BINARY_HEADER.pack(BINARY_MAGIC, batch.start, len(batch), body.shape[1], flags, jaw_dim)
    return header + body.tobytes()


def decode_binary(payload: bytes, fps: float = FPS) -> FrameBatch:
    """The inverse of :func:`encode_binary`.

    Raises:
        ProtocolError: wrong magic or a size that does not match the header.
    """
    if len(payload) < BINARY_HEADER.size:
        raise ProtocolError("bad_message", "binary motion message shorter than its header")
    magic, start, count, width, flags, jaw_dim = BINARY_HEADER.unpack_from(payload)
    if magic != BINARY_MAGIC:
        raise ProtocolError("bad_message", f"binary motion message has magic {magic!r}, expected {BINARY_MAGIC!r}")
    expect = NUM_CHANNELS + (1 if flags & FLAG_BLINK else 0) + (jaw_dim if flags & FLAG_JAW else 0)
    if width != expect or len(payload) != BINARY_HEADER.size + 4 * count * width:
        raise ProtocolError("bad_message", "binary motion message size does not match its header")
    body = np.frombuffer(payload, dtype="<f4", offset=BINARY_HEADER.size).reshape(count, width).astype(np.float32)
    blink = body[:, NUM_CHANNELS] if flags & FLAG_BLINK else None
    j0 = NUM_CHANNELS + (1 if flags & FLAG_BLINK else 0)
    jaw = body[:, j0 : j0 + jaw_dim] if flags & FLAG_JAW else None
    return FrameBatch(int(start), body[:, :NUM_CHANNELS], blink, jaw, fps)


def ready_message(*, session: str, model: str, fps: float, latency_frames: int, latency_ms: float, output: str) -> str:
    """The server's answer to a valid start request."""
    return json.dumps({
        "type": "ready",
        "version": PROTOCOL_VERSION,
        "session": session,
        "model": model,
        "fps": fps,
        "channels": list(CHANNELS),
        "latency_frames": latency_frames,
        "latency_ms": round(latency_ms, 1),
        "output": output,
        "binary_header": "<4sIHHHH magic=SGM1,start,count,width,flags(1=blink,2=jaw),jaw_dim",
    })
