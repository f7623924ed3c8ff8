"""Screenshot of the browser viewer streaming speech live (docs/img/viewer.png).

Starts ``stygaze serve`` in-process (built-in model), opens the viewer in headless Chromium,
chooses the speech file in the page as a user would, waits until the head has played
``--at`` seconds of it and saves a PNG.

    python scripts/viewer_screenshot.py --audio examples/talk.wav -o docs/img/viewer.png
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


async def main(args) -> int:
    from stygaze.io import atomic_path
    from stygaze.serve.headless import HeadlessChromium
    from stygaze.serve.server import ServeConfig, StreamServer, load_models

    srv = StreamServer(load_models(args.model), ServeConfig(port=0))
    await srv.start()
    try:
        async with HeadlessChromium(size=(args.width, args.height), timeout=120) as b:
            await b.navigate(f"http://127.0.0.1:{srv.port}/")
            await b.wait_for("window.stygazeViewer.state.ready")
            await b.set_files("#audio", [args.audio])
            frame = int(round(args.at * 25))
            await b.wait_for(f"window.stygazeViewer.state.currentFrame >= {frame}", timeout=120)
            png = await b.screenshot()
            state = await b.evaluate("window.stygazeViewer.state")
    finally:
        await srv.stop()
    out = Path(args.output)
    with atomic_path(out) as tmp:
        tmp.write_bytes(png)
    print(f"{out}: frame {state['currentFrame']}, {state['framesReceived']} frames received, head {state['head']}")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--audio", default="examples/talk.wav", help="speech file chosen in the page")
    p.add_argument("--model", action="append", help="model folder (default: the built-in model)")
    p.add_argument("--at", type=float, default=4.0, help="seconds of speech played before the screenshot")
    p.add_argument("--width", type=int, default=960)
    p.add_argument("--height", type=int, default=600)
    p.add_argument("-o", "--output", default="docs/img/viewer.png")
    sys.exit(asyncio.run(main(p.parse_args())))
