"""Test helper: the app under uvicorn on a free 127.0.0.1 port, stopped when the block ends."""

from __future__ import annotations

from fastsse.server import background_server as running_server

__all__ = ["CLOSE_PROMPTLY", "running_server"]

# How soon the engine must be closed after the client leaves, as a test bound. The product
# promise is 100 ms on an idle machine (benches/python/bench_server.py measures it); tests run
# on a loaded 2-core machine beside other suites, where a scheduler stall alone can pass 100 ms,
# so the bound here only separates "closed promptly" from "ran on to the end" (seconds).
CLOSE_PROMPTLY = 2.0
