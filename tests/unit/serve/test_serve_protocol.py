"""The wire protocol: start requests, audio and frame encodings, safe style uploads."""

import base64
import io
import json
import zipfile

import numpy as np
import pytest

from stygaze.motion import Motion
from stygaze.serve.protocol import (
    BINARY_HEADER,
    FrameBatch,
    ProtocolError,
    StartRequest,
    decode_audio,
    decode_binary,
    decode_json,
    encode_audio,
    encode_binary,
    encode_json,
    parse_start,
    read_npz_bytes,
)

LIMIT = 1 << 16


def start(**kw):
    return json.dumps({"type": "start", **kw})


def test_start_defaults_and_round_trip():
    req = parse_start(start(), max_style_bytes=LIMIT)
    assert (req.sample_rate, req.sample_format, req.output, req.seed, req.style) == (16000, "int16", "json", None, None)
    full = StartRequest(sample_rate=48000, sample_format="float32", output="binary", seed=3, model="m1",
                        style={"name": "calm"}, head_scale=0.5, saccades=True)
    again = parse_start(full.to_message(), max_style_bytes=LIMIT)
    assert again == full


@pytest.mark.parametrize("msg, code, match", [
    (b"\x00\x01", "bad_handshake", "not binary audio"),
    ("not json", "bad_handshake", "not valid JSON"),
    (json.dumps([1, 2]), "bad_handshake", "type"),
    (start(sample_rate=100), "bad_handshake", "sample_rate"),
    (start(sample_rate=16000.5), "bad_handshake", "sample_rate"),
    (start(format="mp3"), "bad_handshake", "format"),
    (start(output="xml"), "bad_handshake", "output"),
    (start(seed=-1), "bad_handshake", "seed"),
    (start(seed=True), "bad_handshake", "seed"),
    (start(head_scale=float("nan")) .replace("NaN", "1e999"), "bad_handshake", "head_scale"),
    (start(bogus=1), "bad_handshake", "unknown start field"),
    (start(version=7), "bad_handshake", "version"),
    (start(model="../etc"), "bad_handshake", "model"),
    (start(style={"name": "../secret"}), "bad_style", "style name"),
    (start(style={"name": ".hidden"}), "bad_style", "style name"),
    (start(style={"vector": [1, "a"], "encoder_id": "x"}), "bad_style", "finite numbers"),
    (start(style={"npz": "***"}), "bad_style", "base64"),
    (start(style={"npz": "A" * 200000}), "too_big", "limit"),
    (start(style={"path": "/etc/passwd"}), "bad_style", "unsupported style"),
])
def test_bad_start_requests(msg, code, match):
    with pytest.raises(ProtocolError, match=match) as info:
        parse_start(msg, max_style_bytes=LIMIT)
    assert info.value.code == code
    err = json.loads(info.value.to_message())
    assert err["type"] == "error" and err["code"] == code


def test_audio_formats_round_trip(rng):
    x = rng.uniform(-1, 1, 1000).astype(np.float32)
    np.testing.assert_array_equal(decode_audio(encode_audio(x, "float32"), "float32"), x)
    np.testing.assert_allclose(decode_audio(encode_audio(x, "int16"), "int16"), x, atol=1 / 32767)
    assert encode_audio(np.array([2.0, -2.0]), "int16") == np.array([32767, -32768], "<i2").tobytes()  # clipped


@pytest.mark.parametrize("payload, fmt, match", [
    (b"", "int16", "whole number"),
    (b"\x00\x01\x02", "int16", "whole number"),
    (b"\x00" * 6, "float32", "whole number"),
    (np.array([0.1, np.nan], "<f4").tobytes(), "float32", "NaN"),
    (np.array([np.inf], "<f4").tobytes(), "float32", "NaN"),
])
def test_bad_audio(payload, fmt, match):
    with pytest.raises(ProtocolError, match=match) as info:
        decode_audio(payload, fmt)
    assert info.value.code == "bad_audio" and info.value.close_code == 1003


@pytest.mark.parametrize("with_blink, with_jaw", [(False, False), (True, False), (False, True), (True, True)])
def test_frame_encodings_round_trip(rng, with_blink, with_jaw):
    n = 7
    batch = FrameBatch(40, rng.normal(0, 10, (n, 7)).astype(np.float32),
                       rng.uniform(0, 1, n).astype(np.float32) if with_blink else None,
                       rng.normal(0, 0.1, (n, 3)).astype(np.float32) if with_jaw else None)
    b = decode_binary(encode_binary(batch))
    assert b.start == 40 and len(b) == n
    np.testing.assert_array_equal(b.motion, batch.motion)
    for got, want in ((b.blink, batch.blink), (b.jaw, batch.jaw)):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_array_equal(got, want)
    msg = json.loads(encode_json(batch))
    assert msg["type"] == "motion" and msg["start"] == 40 and msg["count"] == n and msg["t"] == pytest.approx(1.6)
    assert ("blink" in msg) == with_blink and ("jaw" in msg) == with_jaw
    j = decode_json(msg)
    np.testing.assert_allclose(j.motion, batch.motion, atol=1e-4)
    if with_jaw:
        np.testing.assert_allclose(j.jaw, batch.jaw, atol=1e-4)
    header = BINARY_HEADER.unpack_from(encode_binary(batch))
    assert header[0] == b"SGM1" and header[3] == 7 + with_blink + 3 * with_jaw


def test_json_frames_carry_nan_as_null():
    m = np.zeros((2, 7), np.float32)
    m[1, 3] = np.nan
    msg = json.loads(encode_json(FrameBatch(0, m)))
    assert msg["motion"][1][3] is None
    assert np.isnan(decode_json(msg).motion[1, 3])


def test_from_output_reads_motion_extras(rng):
    jaw = rng.normal(0, 0.1, (5, 3)).astype(np.float32)
    m = Motion(rng.normal(0, 5, (5, 7)).astype(np.float32), blink=np.linspace(0, 1, 5, dtype=np.float32), extras={"jaw": jaw})
    b = FrameBatch.from_output(m, 10)
    assert b.start == 10 and b.blink is not None and np.array_equal(b.jaw, jaw)
    back = b.to_motion()
    np.testing.assert_array_equal(back.blink, m.blink)
    assert FrameBatch.from_output(np.zeros((0, 7)), 0).blink is None


def test_binary_header_mismatch_is_refused():
    data = bytearray(encode_binary(FrameBatch(0, np.zeros((2, 7), np.float32))))
    with pytest.raises(ProtocolError, match="magic"):
        decode_binary(b"XXXX" + bytes(data[4:]))
    with pytest.raises(ProtocolError, match="size"):
        decode_binary(bytes(data[:-4]))


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_read_npz_bytes_is_safe():
    ok = read_npz_bytes(_npz(style=np.ones(4, np.float32), encoder_id=np.asarray("e")), max_bytes=LIMIT)
    assert ok["style"].shape == (4,)
    with pytest.raises(ProtocolError, match="cannot read"):  # object arrays need pickle: refused
        read_npz_bytes(_npz(evil=np.array([{"a": 1}], dtype=object)), max_bytes=LIMIT)
    with pytest.raises(ProtocolError, match="not an .npz"):
        read_npz_bytes(b"PK\x03\x04 but not a zip", max_bytes=LIMIT)
    # a zip bomb: small packed, large unpacked -> refused before unpacking
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.npy", b"\x00" * (4 * LIMIT))
    assert len(buf.getvalue()) < LIMIT
    with pytest.raises(ProtocolError, match="unpacks to"):
        read_npz_bytes(buf.getvalue(), max_bytes=LIMIT)
    # and through the start request: base64 of an npz
    req = parse_start(start(style={"npz": base64.b64encode(_npz(motion=np.zeros((3, 7)))).decode()}), max_style_bytes=LIMIT)
    assert isinstance(req.style["npz"], bytes)
