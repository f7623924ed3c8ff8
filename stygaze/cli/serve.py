"""``stygaze serve``: live speech → motion over WebSocket, and the browser viewer."""

from __future__ import annotations

from stygaze.cli.argtypes import port, positive_float, positive_int
from stygaze.errors import StygazeError

DESCRIPTION = """\
Serve live motion: clients open a WebSocket, send a JSON start request and then audio
chunks, and receive motion frames as soon as they are determined (protocol: docs/serve.md).
The same port serves the three.js viewer at / (open http://HOST:PORT/ in a browser).

  stygaze serve                                   # built-in model on ws://127.0.0.1:8765
  stygaze serve --model RUN/best --port 9000 --max-clients 8
  stygaze serve --styles styles/ --allowed-origin https://my.app
  stygaze serve --write-viewer site/              # the viewer as static files, then exit

Python client: stygaze.serve.client (examples/stream_client.py). Ctrl-C / SIGTERM close
every stream cleanly.
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("serve", help="WebSocket server: live speech in, motion frames out; browser viewer",
                       description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 = every interface)")
    p.add_argument("--port", type=port, default=8765, help="TCP port (0 = any free port)")
    p.add_argument("--model", action="append", metavar="[NAME=]PATH",
                   help="model folder to serve (repeat for several; clients pick one by NAME, else they get the "
                        "first; 'builtin' = the built-in model). Default: the built-in model")
    p.add_argument("--max-clients", type=positive_int, default=32, help="streams served at once; more are refused with server_busy")
    p.add_argument("--idle-timeout", type=positive_float, default=30.0,
                   help="seconds a client may send nothing (or read none of its frames) before it is disconnected")
    p.add_argument("--max-message-bytes", type=positive_int, default=1 << 20,
                   help="largest WebSocket message accepted (an audio chunk or the start request)")
    p.add_argument("--max-style-bytes", type=positive_int, default=1 << 20, help="largest style .npz (uploaded or named), packed or unpacked")
    p.add_argument("--allowed-origin", action="append", metavar="ORIGIN",
                   help="allowed browser Origin (repeatable, e.g. https://my.app); default: any. "
                        "Programs that send no Origin are always allowed")
    p.add_argument("--styles", metavar="DIR", help="folder of named styles NAME.npz (style vectors or motion clips)")
    p.add_argument("--workers", type=positive_int, default=2, help="threads that run the models")
    p.add_argument("--no-viewer", action="store_true", help="serve the WebSocket only, no viewer files")
    p.add_argument("--write-viewer", metavar="DIR",
                   help="write the viewer (html, js, three.js, head.glb) as static files to DIR and exit")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path


    try:
        import websockets  # noqa: F401
    except ImportError:
        raise StygazeError('stygaze serve needs the websockets package: pip install "stygaze[serve]"') from None
    from stygaze.serve.server import STATIC_DIR, ServeConfig, StreamServer, load_models

    if args.write_viewer:
        from stygaze.serve.viewer import write_viewer

        print(write_viewer(args.write_viewer))
        return 0
    config = ServeConfig(
        host=args.host,
        port=args.port,
        max_clients=args.max_clients,
        idle_timeout_s=args.idle_timeout,
        max_message_bytes=args.max_message_bytes,
        max_style_bytes=args.max_style_bytes,
        origins=tuple(args.allowed_origin) if args.allowed_origin else None,
        styles_dir=Path(args.styles) if args.styles else None,
        workers=args.workers,
        static_dir=None if args.no_viewer else STATIC_DIR,
    )
    config.check()
    server = StreamServer(load_models(args.model), config)
    server.run()
    return 0
