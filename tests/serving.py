"""Test helper: the app under uvicorn on a free 127.0.0.1 port, stopped when the block ends."""

from __future__ import annotations

from fastsse.server import background_server as running_server

__all__ = ["running_server"]
