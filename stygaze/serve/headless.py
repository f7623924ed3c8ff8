"""Drive the viewer in headless Chromium over the Chrome DevTools Protocol (no browser download).

Used by the browser test and ``scripts/viewer_screenshot.py``; needs a system Chromium
(Debian: ``apt-get install chromium``) and the ``websockets`` package (CDP is a WebSocket
protocol). Every browser gets a fresh temporary profile and is started with the flags that
keep it off the network (no background networking, component updates, sync or QUIC).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
    "--enable-unsafe-swiftshader",  # WebGL on the CPU (SwiftShader) with --disable-gpu
    "--use-angle=swiftshader",
)


def find_chromium() -> str | None:
    """Path of a system Chromium/Chrome, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class HeadlessChromium:
    """``async with HeadlessChromium() as b: await b.navigate(url); png = await b.screenshot()``."""

    def __init__(self, binary: str | None = None, size: tuple[int, int] = (960, 720), timeout: float = 30.0):
        self.binary = binary or find_chromium()
        if self.binary is None:
            raise FileNotFoundError("no chromium found (apt-get install chromium)")
        self.size = size
        self.timeout = timeout
        self._ids = itertools.count(1)
        self.proc: subprocess.Popen | None = None
        self.ws = None
        self.console: list[str] = []

    async def __aenter__(self) -> HeadlessChromium:
        from websockets.asyncio.client import connect

        self._profile = tempfile.mkdtemp(prefix="stygaze-chromium-")
        args = [self.binary, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}", "--remote-debugging-port=0",
                f"--window-size={self.size[0]},{self.size[1]}", "about:blank"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                await self._shutdown()
                raise RuntimeError("chromium did not start (no DevToolsActivePort)")
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        loop = asyncio.get_running_loop()
        pages = []
        while not pages and time.monotonic() < deadline:
            targets = await loop.run_in_executor(None, _get_json, f"http://127.0.0.1:{port}/json/list")
            pages = [t for t in targets if t.get("type") == "page"]
            if not pages:
                await asyncio.sleep(0.05)
        if not pages:
            await self._shutdown()
            raise RuntimeError("chromium has no page target")
        self.ws = await connect(pages[0]["webSocketDebuggerUrl"], max_size=None, origin=None)
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.send("Emulation.setDeviceMetricsOverride", width=self.size[0], height=self.size[1], deviceScaleFactor=1, mobile=False)
        return self

    async def __aexit__(self, *exc) -> None:
        await self._shutdown()

    async def _shutdown(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # the browser's own process group only
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        shutil.rmtree(getattr(self, "_profile", ""), ignore_errors=True)

    async def send(self, method: str, **params) -> dict:
        """One CDP command; returns its ``result`` (events in between are kept as console lines)."""
        msg_id = next(self._ids)
        await self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), self.timeout))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if msg.get("method") == "Runtime.consoleAPICalled":
                args = msg["params"].get("args", [])
                self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
            elif msg.get("method") == "Runtime.exceptionThrown":
                self.console.append("exception: " + json.dumps(msg["params"].get("exceptionDetails", {}))[:500])

    async def navigate(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'")

    async def evaluate(self, expression: str):
        """The JSON value of a JavaScript expression in the page."""
        r = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails'].get('text')}")
        return r.get("result", {}).get("value")

    async def wait_for(self, expression: str, timeout: float | None = None, interval: float = 0.1):
        """Poll until ``expression`` is truthy; returns its value. TimeoutError otherwise."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {expression!r} (console: {self.console[-5:]})")
            await asyncio.sleep(interval)

    async def set_files(self, selector: str, paths: list[str | os.PathLike]) -> None:
        """Choose files in an ``<input type=file>`` as a user would (fires its change event)."""
        doc = await self.send("DOM.getDocument")
        node = await self.send("DOM.querySelector", nodeId=doc["root"]["nodeId"], selector=selector)
        await self.send("DOM.setFileInputFiles", nodeId=node["nodeId"], files=[str(Path(p).resolve()) for p in paths])

    async def screenshot(self) -> bytes:
        """The page as PNG bytes."""
        r = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(r["data"])


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())
