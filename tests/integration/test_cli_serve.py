"""`stygaze serve` end to end: the real CLI in a subprocess, the Python client, SIGTERM."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("websockets", reason="stygaze serve needs websockets (pip install 'stygaze[serve]')")

from gen_fixtures import save_tiny_model  # noqa: E402
from stygaze.audio import SAMPLE_RATE, save_audio  # noqa: E402
from stygaze.pipeline import StyGazeTalk  # noqa: E402


def speech_wav(path, seconds=2.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    x = 0.5 * np.sin(2 * np.pi * 140 * t) * (np.sin(2 * np.pi * 1.3 * t) > 0) + 0.05 * rng.standard_normal(t.size)
    save_audio(path, x.astype(np.float32))
    return path


class ServeProcess:
    """``python -m stygaze serve --port 0 ...`` with its port read from the first line it prints."""

    def __init__(self, *args, timeout=120):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "stygaze", "serve", "--port", "0", *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line or self.proc.poll() is not None:
                break
        m = re.search(r"ws://[\d.]+:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"serve did not start: {line!r} {self.proc.stderr.read()[-2000:]}")
        self.port = int(m.group(1))
        self.url = f"ws://127.0.0.1:{self.port}"

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, err


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("serve") / "tiny")


def test_serve_streams_a_file_and_stops_cleanly_on_sigterm(model_dir, tmp_path):
    from stygaze.serve.client import stream_file

    wav = speech_wav(tmp_path / "talk.wav")
    srv = ServeProcess("--model", model_dir, "--max-clients", "4")
    try:
        motion = stream_file(srv.url, wav, seed=3, output="binary", chunk_ms=80)
        ref = StyGazeTalk.from_pretrained(model_dir)
        assert len(motion) == 50 and np.isfinite(motion.data).all()

        async def open_stream_then_signal():
            from websockets.asyncio.client import connect
            from websockets.exceptions import ConnectionClosed

            async with connect(srv.url) as ws:
                await ws.send(json.dumps({"type": "start"}))
                assert json.loads(await ws.recv())["type"] == "ready"
                srv.proc.send_signal(signal.SIGTERM)
                msgs = []
                try:
                    while True:
                        msgs.append(await asyncio.wait_for(ws.recv(), 20))
                except ConnectionClosed as exc:
                    return msgs, exc.rcvd.code if exc.rcvd else None

        msgs, code = asyncio.run(open_stream_then_signal())
        assert json.loads(msgs[-1])["code"] == "shutting_down" and code == 1001
        rc, err = srv.stop(sig=None)  # already signalled: wait for the exit
        assert rc == 0, err
        assert "Traceback" not in err
    finally:
        srv.stop(signal.SIGKILL, timeout=5)
    # the CLI stream is the library's stream fed at its step boundaries (same model, seed)
    from stygaze.audio import read_audio
    from stygaze.serve.server import StepFeeder

    x, _ = read_audio(wav)
    f = StepFeeder(ref.stream(seed=3))
    frames = np.concatenate(f.feed(x[:, 0]) + f.finish())
    np.testing.assert_allclose(motion.data, frames, atol=1e-5)


def test_serve_refuses_bad_options(model_dir, tmp_path):
    for args, match in (
        (["--max-clients", "0"], "--max-clients"),
        (["--model", tmp_path / "nope"], "nope"),
        (["--styles", tmp_path / "nostyles"], "--styles"),
        (["--allowed-origin", "evil.example"], "--allowed-origin"),
    ):
        r = subprocess.run([sys.executable, "-m", "stygaze", "serve", "--port", "0", *map(str, args)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and match in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1


def test_write_viewer(tmp_path):
    out = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "stygaze", "serve", "--write-viewer", out], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (out / "index.html").exists() and (out / "head.glb").read_bytes()[:4] == b"glTF"
    assert (out / "vendor/three/build/three.module.js").exists() and (out / "vendor/three/LICENSE").exists()
    r = subprocess.run([sys.executable, "-m", "stygaze", "serve", "--write-viewer", out], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "already exists" in r.stderr
