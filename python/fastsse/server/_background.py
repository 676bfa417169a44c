"""Run an ASGI app under uvicorn in a background thread (demo, tests, notebooks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["background_server"]


@contextmanager
def background_server(app: Any, *, host: str = "127.0.0.1", port: int = 0, **config: Any) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL. Port 0 picks a free port."""
    import uvicorn

    config.setdefault("log_level", "warning")
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, lifespan="on", **config))
    thread = threading.Thread(target=server.run, name="fastsse-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.005)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
