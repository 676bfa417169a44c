"""A local fake provider: answers every POST with one recorded stream, and keeps the requests.

It stands for the real upstream of a gateway in tests and benchmarks: each response is a
capture from ``tests/data`` sent in pieces as the network would (SSE or NDJSON by file type).
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any

import anyio
import orjson

__all__ = ["FakeUpstream", "request_body"]


async def request_body(scope: dict[str, Any], receive: Any, send: Any) -> bytes | None:
    """The whole body of an HTTP request; None for a lifespan scope, served to its shutdown."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return None
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


class FakeUpstream:
    """An ASGI app replaying ``capture``; ``requests`` holds ``(path, query, body)`` of each POST.

    ``piece`` is the size of each body write (0: one event, or NDJSON line, per write); ``gap``
    seconds pass between writes (0: none). With an error ``status``, ``capture`` is the JSON
    error body answered with it. ``sent`` holds the ``time.monotonic()`` of each write of the
    latest response (a benchmark's reference for latency), and a ``GET`` answers it as JSON."""

    def __init__(
        self, capture: Path | bytes, *, piece: int = 512, gap: float = 0.0, status: int = 200
    ) -> None:
        self.capture = capture.read_bytes() if isinstance(capture, Path) else capture
        ndjson = isinstance(capture, Path) and capture.suffix in (".ndjson", ".jsonl")
        self.content_type = b"application/x-ndjson" if ndjson else b"text/event-stream"
        if status >= 400:
            self.content_type = b"application/json"
        self.status = status
        self.gap = gap
        self.pieces = self._split(piece, b"\n" if ndjson else b"\n\n")
        self.requests: deque[tuple[str, str, dict[str, Any]]] = deque(maxlen=1000)
        self.sent: list[float] = []

    def _split(self, piece: int, separator: bytes) -> list[bytes]:
        if piece:
            return [self.capture[start : start + piece] for start in range(0, len(self.capture), piece)]
        parts = self.capture.split(separator)
        return [part + separator for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await request_body(scope, receive, send)
        if body is None:
            return
        if scope["method"] == "GET":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": orjson.dumps(self.sent)})
            return
        self.requests.append((scope["path"], scope["query_string"].decode(), orjson.loads(body or b"{}")))
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [(b"content-type", self.content_type)],
            }
        )
        self.sent = sent = []
        for piece in self.pieces:
            if self.gap:
                await anyio.sleep(self.gap)
            sent.append(time.monotonic())
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
