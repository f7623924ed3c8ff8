"""Live streaming: ``stygaze serve`` (a WebSocket server), its protocol, a Python client and
the browser viewer.

* :mod:`stygaze.serve.protocol`: messages, audio and frame encodings (``docs/serve.md``).
* :mod:`stygaze.serve.server`: :class:`StreamServer`, :class:`ServeConfig`.
* :mod:`stygaze.serve.client`: :class:`StreamClient`, :func:`stream_file`.
* ``stygaze/serve/static/``: the three.js viewer served at ``/``.

Needs the ``websockets`` package (``pip install "stygaze[serve]"``).
"""
