"""The viewer in headless Chromium: `stygaze serve` streams a speech file chosen in the page and
the head moves on screen (two screenshots differ), while an idle page stays still."""

import asyncio
import io

import numpy as np
import pytest

pytest.importorskip("websockets", reason="stygaze serve needs websockets (pip install 'stygaze[serve]')")

from stygaze.serve.headless import HeadlessChromium, find_chromium  # noqa: E402

from test_cli_serve import ServeProcess, model_dir, speech_wav  # noqa: E402,F401  (model_dir is a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(find_chromium() is None, reason="chromium not installed (apt-get install chromium)"),
]

PANEL_WIDTH = 350  # the control panel on the left; compare the 3D view only


def png_array(data: bytes) -> np.ndarray:
    from matplotlib.image import imread

    return imread(io.BytesIO(data), format="png")[..., :3]


def changed_pixels(a: bytes, b: bytes) -> int:
    x, y = png_array(a), png_array(b)
    diff = np.abs(x[:, PANEL_WIDTH:] - y[:, PANEL_WIDTH:]).max(axis=-1)
    return int((diff > 8 / 255).sum())


STATE = "window.stygazeViewer.state"


def test_viewer_shows_the_head_moving_with_the_stream(model_dir, tmp_path):  # noqa: F811
    wav = speech_wav(tmp_path / "talk.wav", seconds=6.0)
    srv = ServeProcess("--model", model_dir)

    async def main():
        async with HeadlessChromium(size=(800, 600), timeout=60) as b:
            await b.navigate(f"http://127.0.0.1:{srv.port}/")
            await b.wait_for(f"{STATE}.ready")
            idle = [await b.screenshot(), None]
            await asyncio.sleep(0.5)
            idle[1] = await b.screenshot()
            await b.set_files("#audio", [wav])  # as a user choosing the file
            await b.wait_for(f"{STATE}.currentFrame >= 10", timeout=90)
            first_frame = await b.evaluate(f"{STATE}.currentFrame")
            first_head = await b.evaluate(f"{STATE}.head")
            shot1 = await b.screenshot()
            await b.wait_for(f"{STATE}.currentFrame >= {first_frame + 25}", timeout=60)
            shot2 = await b.screenshot()
            state = await b.evaluate(STATE)
            return idle, shot1, shot2, first_head, state, b.console

    try:
        idle, shot1, shot2, first_head, state, console = asyncio.run(main())
    finally:
        rc, err = srv.stop()
    assert state["error"] is None, (state, console)
    assert state["mode"] == "live" and state["latencyMs"] > 0
    assert state["framesReceived"] >= state["currentFrame"] + 1
    assert changed_pixels(*idle) == 0  # nothing moves without a stream: the difference below is motion
    moved = changed_pixels(shot1, shot2)
    assert moved > 200, f"only {moved} pixels changed between the screenshots"
    assert np.abs(np.subtract(state["head"], first_head)).max() > 0.05
    assert rc == 0, err


def test_static_viewer_plays_a_motion_file_with_blink_and_jaw(tmp_path):
    """`stygaze serve --write-viewer` output on a plain static web server, no stygaze server:
    a motion .npz (with blink and jaw) + its speech chosen in the page drive the head."""
    import functools
    import http.server
    import subprocess
    import sys
    import threading

    from stygaze.motion import Motion

    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "stygaze", "serve", "--write-viewer", site], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    T = 100
    t = np.arange(T) / 25.0
    data = np.zeros((T, 7), np.float32)
    data[:, 1] = 25 * np.sin(2 * np.pi * 0.5 * t)  # head yaw sweeps ±25°
    blink = (np.abs(t - 2.0) < 0.3).astype(np.float32)  # one long blink around 2 s
    jaw = np.zeros((T, 3), np.float32)
    jaw[:, 0] = 0.3 * (t > 1.0)
    Motion(data, blink=blink, extras={"jaw": jaw}).save(tmp_path / "m.npz")
    wav = speech_wav(tmp_path / "talk.wav", seconds=4.0)

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    async def main():
        async with HeadlessChromium(size=(640, 480), timeout=60) as b:
            await b.navigate(f"http://127.0.0.1:{httpd.server_address[1]}/index.html")
            await b.wait_for(f"{STATE}.ready")
            await b.set_files("#motion", [tmp_path / "m.npz"])
            await b.set_files("#audio", [wav])
            await b.wait_for(f"{STATE}.mode === 'file' && {STATE}.currentFrame >= 5", timeout=60)
            shot1, s1 = await b.screenshot(), await b.evaluate(STATE)
            await b.wait_for(f"{STATE}.currentFrame >= 45", timeout=60)  # inside the blink, jaw open
            shot2, s2 = await b.screenshot(), await b.evaluate(STATE)
            return shot1, s1, shot2, s2, b.console

    try:
        shot1, s1, shot2, s2, console = asyncio.run(main())
    finally:
        httpd.shutdown()
    assert s2["error"] is None, (s2, console)
    assert s1["framesReceived"] == T
    k = s2["currentFrame"]
    lo, hi = sorted((float(data[k, 1]), float(data[min(k + 1, T - 1), 1])))
    assert lo - 0.05 <= s2["head"][1] <= hi + 0.05  # the file's yaw at the audio's time: between frame k and k + 1
    assert s2["jaw"] == pytest.approx(0.3, abs=1e-3)
    assert s2["blink"] is not None and s1["blink"] == pytest.approx(0.0, abs=1e-3)
    assert changed_pixels(shot1, shot2) > 200
