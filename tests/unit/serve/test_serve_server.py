"""The streaming server with a tiny model: frames equal a local stream's, errors stay local."""

import asyncio
import base64
import contextlib
import io
import json
import time
import urllib.request

import numpy as np
import pytest

pytest.importorskip("websockets", reason="the server needs websockets (pip install 'stygaze[serve]')")

from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402

from gen_fixtures import tiny_model  # noqa: E402
from stygaze.audio import SAMPLE_RATE  # noqa: E402
from stygaze.motion import Motion  # noqa: E402
from stygaze.stygazetalk.pipeline import StyGazeTalk  # noqa: E402
from stygaze.serve.client import ServeClientError, StreamClient, stream_samples  # noqa: E402
from stygaze.serve.protocol import encode_audio  # noqa: E402
from stygaze.serve.server import ServeConfig, ServeError, StepFeeder, StreamServer  # noqa: E402


class BlinkJawTalk(StyGazeTalk):
    """A model whose stream also makes blinks and a jaw (known functions of the frame index)."""

    def stream(self, *args, **kwargs):
        return _BlinkJawStream(super().stream(*args, **kwargs))


def blink_of(idx):
    return (0.5 + 0.5 * np.sin(idx / 3.0)).astype(np.float32)


def jaw_of(idx):
    return np.stack([0.01 * idx, 0.002 * idx, np.zeros(len(idx))], axis=1).astype(np.float32)


class _BlinkJawStream:
    def __init__(self, inner):
        self.inner, self.n = inner, 0

    def _wrap(self, frames):
        if len(frames) == 0:
            return frames
        idx = np.arange(self.n, self.n + len(frames))
        self.n += len(frames)
        return Motion(frames, blink=blink_of(idx), extras={"jaw": jaw_of(idx)})

    def samples_to_next_step(self):
        return self.inner.samples_to_next_step()

    def push(self, x):
        return self._wrap(self.inner.push(x))

    def flush(self):
        return self._wrap(self.inner.flush())


@pytest.fixture(scope="module")
def pipe():
    return StyGazeTalk(tiny_model())


@pytest.fixture(scope="module")
def speech():
    rng = np.random.default_rng(0)
    t = np.arange(int(1.6 * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * 140 * t) * (np.sin(2 * np.pi * 1.3 * t) > 0) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


@contextlib.asynccontextmanager
async def serving(models, **cfg):
    srv = StreamServer(models, ServeConfig(port=0, **cfg))
    await srv.start()
    try:
        yield srv, f"ws://127.0.0.1:{srv.port}"
    finally:
        await srv.stop()


def local_stream(pipe, x, chunk, seed=1, style=None):
    """What the server computes: the stream fed at its step boundaries (chunking does not matter)."""
    f = StepFeeder(pipe.stream(seed=seed, style=style))
    outs = [o for i in range(0, len(x), chunk) for o in f.feed(x[i : i + chunk])] + f.finish()
    return np.concatenate(outs)


def test_step_feeder_output_does_not_depend_on_chunking(pipe, speech):
    a = local_stream(pipe, speech, 333)
    b = local_stream(pipe, speech, 7000)
    np.testing.assert_array_equal(a, b)
    s = pipe.stream(seed=1)  # the same pushes by hand, at the step boundaries
    pos, outs = 0, []
    while True:
        need = s.samples_to_next_step()
        if pos + need > len(speech):
            break
        outs.append(s.push(speech[pos : pos + need]))
        assert len(outs[-1]) == pipe.config.N
        pos += need
    outs += [s.push(speech[pos:]), s.flush()]
    np.testing.assert_array_equal(np.concatenate(outs), a)
    assert len(a) == round(len(speech) / 640)


async def expect_error(ws, code):
    msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert msg["type"] == "error" and msg["code"] == code, msg
    with pytest.raises(ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), 10)
    return info.value.rcvd.code if info.value.rcvd is not None else None


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.mark.parametrize("output", ["json", "binary"])
def test_stream_equals_a_local_stream(pipe, speech, output):
    chunk = 1000

    async def main():
        async with serving({"default": pipe}) as (srv, url):
            motion, c = await stream_samples(url, speech, SAMPLE_RATE, chunk_ms=chunk / 16, seed=1, output=output, sample_format="float32")
            assert c.ready["latency_frames"] == pipe.latency_frames and c.done == {"type": "done", "frames": len(motion)}
            return motion

    motion = run(main())
    ref = local_stream(pipe, speech, chunk)
    assert motion.data.shape == ref.shape == (40, 7)
    np.testing.assert_allclose(motion.data, ref, atol=1e-4 if output == "json" else 0)
    # the avatar stages' blink and jaw reach the client with the motion
    f = StepFeeder(pipe.stream(seed=1), frames=True)
    outs = [o for i in range(0, len(speech), chunk) for o in f.feed(speech[i : i + chunk])] + f.finish()
    outs = [o for o in outs if isinstance(o, dict)]
    np.testing.assert_allclose(motion.blink, np.concatenate([o["blink"] for o in outs]), atol=1e-4)
    np.testing.assert_allclose(motion.extras["jaw"], np.concatenate([o["jaw"] for o in outs]), atol=1e-4)


def test_int16_and_other_sample_rates(pipe, speech):
    async def main():
        async with serving({"default": pipe}) as (srv, url):
            m16, _ = await stream_samples(url, speech, SAMPLE_RATE, sample_format="int16", seed=1, chunk_ms=100)
            x48 = np.interp(np.arange(len(speech) * 3) / 3, np.arange(len(speech)), speech).astype(np.float32)
            m48, _ = await stream_samples(url, x48, 48000, sample_format="int16", seed=1, chunk_ms=100)
            return m16, m48

    m16, m48 = run(main())
    q = np.round(np.clip(speech, -1, 1) * 32767) / 32767
    np.testing.assert_allclose(m16.data, local_stream(pipe, q.astype(np.float32), 1600), atol=1e-4)
    assert len(m48) == len(m16) == 40  # frames follow the audio's duration, whatever its rate
    assert np.isfinite(m48.data).all()


def test_blink_and_jaw_are_carried_when_the_model_makes_them(speech):
    model = BlinkJawTalk(tiny_model())

    async def main():
        async with serving({"default": model}) as (srv, url):
            outs = {}
            for output in ("json", "binary"):
                outs[output], _ = await stream_samples(url, speech, SAMPLE_RATE, output=output, seed=1)
            return outs

    for output, m in run(main()).items():
        idx = np.arange(len(m))
        assert m.blink is not None and "jaw" in m.extras, output
        np.testing.assert_allclose(m.blink, blink_of(idx), atol=1e-4)
        np.testing.assert_allclose(m.extras["jaw"], jaw_of(idx), atol=1e-4)


def test_bad_clients_get_an_error_while_a_good_one_is_served(pipe, speech):
    """Bad handshakes, bad audio, oversized and vanishing clients, all during one good stream."""

    async def bad_handshake(url, message):
        async with connect(url) as ws:
            await ws.send(message)
            return await expect_error(ws, "bad_handshake")

    async def bad_audio(url, start, payload):
        async with connect(url) as ws:
            await ws.send(json.dumps({"type": "start", **start}))
            assert json.loads(await ws.recv())["type"] == "ready"
            await ws.send(payload)
            return await expect_error(ws, "bad_audio")

    async def oversized(url):
        async with connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "start"}))
            await ws.recv()
            await ws.send(b"\x00" * 20000)
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 10)
            return info.value.rcvd.code

    async def vanishing(url):
        ws = await connect(url)
        await ws.send(json.dumps({"type": "start", "format": "float32"}))
        await ws.recv()
        await ws.send(encode_audio(speech[:2000], "float32"))
        ws.transport.abort()  # gone without a close frame

    async def main():
        async with serving({"default": pipe}, max_message_bytes=16384) as (srv, url):
            good = asyncio.create_task(stream_samples(url, speech, SAMPLE_RATE, seed=1, chunk_ms=100, realtime=True,
                                                      sample_format="float32", output="binary"))
            codes = await asyncio.gather(
                bad_handshake(url, "hello"),
                bad_handshake(url, b"\x01\x02"),
                bad_handshake(url, json.dumps({"type": "start", "sample_rate": 3})),
                bad_audio(url, {"format": "int16"}, b"\x00\x01\x02"),
                bad_audio(url, {"format": "float32"}, np.array([np.nan] * 4, "<f4").tobytes()),
                bad_audio(url, {}, json.dumps({"type": "end"}).encode()),
                oversized(url),
                vanishing(url),
            )
            motion, _ = await good
            for _ in range(100):
                if srv.stats.errors.get("client_gone") and srv.stats.sessions_active == 0:
                    break
                await asyncio.sleep(0.05)
            return codes, motion, dict(srv.stats.errors), srv.stats.sessions_ok

    codes, motion, errors, ok = run(main())
    assert codes[:3] == [1008] * 3 and codes[3:5] == [1003, 1003] and codes[6] == 1009
    np.testing.assert_array_equal(motion.data, local_stream(pipe, speech, 1600))
    assert errors["bad_handshake"] == 3 and errors["too_big"] == 1 and errors["client_gone"] == 1
    assert ok == 1


def test_idle_timeout_busy_and_unknown_model(pipe):
    async def main():
        async with serving({"default": pipe}, idle_timeout_s=0.5, max_clients=1) as (srv, url):
            async with connect(url) as ws1:
                await ws1.send(json.dumps({"type": "start"}))
                assert json.loads(await ws1.recv())["type"] == "ready"
                async with connect(url) as ws2:  # over max_clients
                    busy = await expect_error(ws2, "server_busy")
                t0 = time.perf_counter()
                idle = await expect_error(ws1, "idle_timeout")
                waited = time.perf_counter() - t0
            async with connect(url) as ws3:
                await ws3.send(json.dumps({"type": "start", "model": "other"}))
                unknown = await expect_error(ws3, "unknown_model")
            return busy, idle, waited, unknown

    busy, idle, waited, unknown = run(main())
    assert busy == 1013 and idle == 1008 and unknown == 1008 and waited < 5


def test_styles_named_uploaded_and_refused(pipe, speech, tmp_path, rng):
    clip = Motion(np.cumsum(rng.standard_normal((80, 7)), axis=0).astype(np.float32))
    clip.save(tmp_path / "calm.npz")
    sv = pipe.extract_style(clip)
    (tmp_path / "evil.npz").write_bytes(b"not a zip")

    async def main():
        async with serving({"default": pipe}, styles_dir=tmp_path) as (srv, url):
            named, _ = await stream_samples(url, speech, SAMPLE_RATE, seed=1, style="name:calm")
            upload, _ = await stream_samples(url, speech, SAMPLE_RATE, seed=1, style=tmp_path / "calm.npz")
            vector, _ = await stream_samples(url, speech, SAMPLE_RATE, seed=1, style=sv)
            errs = []
            for style in ("name:missing", "name:evil", {"vector": [1.0, 2.0], "encoder_id": "x"}):
                with pytest.raises(ServeClientError) as info:
                    await stream_samples(url, speech, SAMPLE_RATE, seed=1, style=style)
                errs.append(info.value.code)
            return named, upload, vector, errs

    named, upload, vector, errs = run(main())
    ref = local_stream(pipe, speech, 1600, style=sv)
    for m in (named, upload, vector):
        np.testing.assert_allclose(m.data, ref, atol=1e-4)
    assert not np.allclose(ref, local_stream(pipe, speech, 1600), atol=1e-3)  # the style mattered
    assert errs == ["bad_style"] * 3


def test_allowed_origins(pipe):
    async def main():
        async with serving({"default": pipe}, origins=("https://good.example",)) as (srv, url):
            results = {}
            for origin in ("https://good.example", None, f"http://127.0.0.1:{srv.port}", "https://evil.example"):
                try:
                    async with connect(url, origin=origin) as ws:
                        await ws.send(json.dumps({"type": "start"}))
                        results[origin] = json.loads(await ws.recv())["type"]
                except InvalidStatus as exc:
                    results[origin] = exc.response.status_code
            return results, srv.port

    results, port = run(main())
    assert results == {"https://good.example": "ready", None: "ready", f"http://127.0.0.1:{port}": "ready", "https://evil.example": 403}


def test_shutdown_closes_streams_cleanly(pipe, speech):
    async def main():
        srv = StreamServer({"default": pipe}, ServeConfig(port=0))
        await srv.start()
        url = f"ws://127.0.0.1:{srv.port}"
        async with connect(url) as ws:
            await ws.send(json.dumps({"type": "start", "format": "float32"}))
            await ws.recv()
            await ws.send(encode_audio(speech[:16000], "float32"))
            stopping = asyncio.create_task(srv.stop())
            msgs = []
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    msgs.append(await asyncio.wait_for(ws.recv(), 10))
            await stopping
        return [m for m in msgs if isinstance(m, str)], info.value.rcvd.code

    texts, code = run(main())
    assert json.loads(texts[-1])["code"] == "shutting_down" and code == 1001


def test_http_viewer_head_and_stats(pipe):
    def get(url):
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.headers.get("Content-Type"), r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, None, b""

    async def main():
        async with serving({"default": pipe}) as (srv, url):
            base = f"http://127.0.0.1:{srv.port}"
            loop = asyncio.get_running_loop()
            return {p: await loop.run_in_executor(None, get, base + p)
                    for p in ("/", "/head.glb", "/stats", "/config.json", "/vendor/three/build/three.module.js",
                              "/../server.py", "/%2e%2e/server.py", "/.hidden", "/nope.js")}

    r = run(main())
    assert r["/"][0] == 200 and r["/"][1].startswith("text/html") and b"<html" in r["/"][2]
    assert r["/head.glb"][0] == 200 and r["/head.glb"][2][:4] == b"glTF"
    stats = json.loads(r["/stats"][2])
    assert {"sessions_total", "frames_sent", "delay_ms", "rss_mb"} <= set(stats)
    assert json.loads(r["/config.json"][2])["models"] == ["default"]
    assert r["/vendor/three/build/three.module.js"][0] == 200
    for bad in ("/../server.py", "/%2e%2e/server.py", "/.hidden", "/nope.js"):
        assert r[bad][0] == 404, bad


def test_client_reports_server_errors(pipe, speech):
    async def main():
        async with serving({"default": pipe}) as (srv, url):
            with pytest.raises(ServeClientError, match="sample_rate") as info:
                async with StreamClient.connect(url, sample_rate=5):
                    pass
            return info.value.code

    assert run(main()) == "bad_handshake"


def test_config_is_checked(pipe, tmp_path):
    for kw, match in ((dict(port=70000), "port"), (dict(max_clients=0), "max-clients"), (dict(idle_timeout_s=0), "idle-timeout"),
                      (dict(styles_dir=tmp_path / "nope"), "styles"), (dict(origins=("evil.example",)), "origin")):
        with pytest.raises(ServeError, match=match):
            StreamServer({"default": pipe}, ServeConfig(**kw))


def test_npz_style_upload_can_hold_a_style_vector(pipe, speech, rng):
    clip = Motion(np.cumsum(rng.standard_normal((80, 7)), axis=0).astype(np.float32))
    sv = pipe.extract_style(clip)
    buf = io.BytesIO()
    np.savez(buf, style=sv.style, encoder_id=np.asarray(sv.encoder_id))
    style = {"npz": base64.b64encode(buf.getvalue()).decode()}

    async def main():
        async with serving({"default": pipe}) as (srv, url):
            m, _ = await stream_samples(url, speech, SAMPLE_RATE, seed=1, style=style)
            return m

    np.testing.assert_allclose(run(main()).data, local_stream(pipe, speech, 1600, style=sv), atol=1e-4)


def test_a_model_that_produces_nan_is_refused_before_serving():
    """The warm-up step at start finds broken weights: the server never accepts a client for them."""
    import torch

    from stygaze.errors import ModelOutputError

    broken = StyGazeTalk(tiny_model())
    with torch.no_grad():
        for p in broken.model.generator.parameters():
            p.fill_(float("nan"))

    async def main():
        async with serving({"default": broken}):
            pass

    with pytest.raises(ModelOutputError, match="NaN or infinite"):
        run(main())
