"""Serving one generation as an SSE response, and as a whole JSON response.

Three tasks share a request:

* the **producer** runs the :class:`Generation`, encodes each batch of chunks to wire bytes and
  puts them in a bounded buffer; when the buffer is full it waits, and while it waits the
  engine is not read (backpressure: a slow client never makes memory grow);
* the **sender** (the request's own task) takes what is buffered, joins what is ready into one
  write, and sends it; when nothing came for ``keepalive`` seconds it sends an SSE comment so
  proxies and clients keep an idle stream open;
* the **watcher** waits for ``http.disconnect``; when the client leaves it cancels the others,
  and the generation closes the adapter's iterator, which stops the engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import anyio

from .._fastsse import GenerationChunk
from ._asgi import Receive, Send
from ._worker import Generation, GenerationStats

__all__ = ["EncoderLike", "collect_response", "stream_response"]

KEEPALIVE_COMMENT = b": keep-alive\n\n"
# One write joins at most this much of what is buffered.
MAX_WRITE = 64 * 1024

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class EncoderLike(Protocol):
    def encode(self, chunks: list[GenerationChunk], /) -> bytes: ...

    def finish(self) -> bytes: ...


async def _watch_disconnect(receive: Receive, scope: anyio.CancelScope, gone: list[bool]) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.append(True)
            scope.cancel()
            return


async def stream_response(
    send: Send,
    receive: Receive,
    generation: Generation,
    encoder: EncoderLike,
    *,
    keepalive: float,
    max_buffered: int,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[GenerationStats, bool]:
    """Stream ``generation`` as SSE; returns its stats and whether the client left early."""
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + (headers or [])})
    writer, reader = anyio.create_memory_object_stream[bytes](max_buffer_size=max_buffered)
    gone: list[bool] = []

    async def produce() -> None:
        async with writer:
            # The preamble (OpenAI role chunk / Anthropic message_start) goes out at once.
            preamble = encoder.encode([])
            if preamble:
                await writer.send(preamble)

            async def emit(chunks: list[GenerationChunk]) -> None:
                data = encoder.encode(chunks)
                if data:
                    await writer.send(data)

            await generation.run(emit)
            tail = encoder.finish()
            if tail:
                await writer.send(tail)

    completed = False
    async with anyio.create_task_group() as group:
        group.start_soon(_watch_disconnect, receive, group.cancel_scope, gone)
        group.start_soon(produce)
        async with reader:
            while True:
                data = b""
                try:
                    data = reader.receive_nowait()  # busy streams skip the timer below
                except anyio.WouldBlock:
                    with anyio.move_on_after(keepalive):
                        try:
                            data = await reader.receive()
                        except anyio.EndOfStream:
                            completed = True
                            break
                except anyio.EndOfStream:
                    completed = True
                    break
                if not data:
                    await send({"type": "http.response.body", "body": KEEPALIVE_COMMENT, "more_body": True})
                    continue
                parts = [data]
                size = len(data)
                while size < MAX_WRITE:
                    try:
                        more = reader.receive_nowait()
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                    parts.append(more)
                    size += len(more)
                await send({"type": "http.response.body", "body": b"".join(parts), "more_body": True})
        # Ending the response makes the server report a disconnect: stop watching first.
        group.cancel_scope.cancel()
    if completed:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    return generation.stats, not completed


async def collect_response(
    receive: Receive,
    generation: Generation,
    build: Callable[[list[GenerationChunk]], Awaitable[bytes] | bytes],
) -> tuple[bytes | None, GenerationStats]:
    """Run ``generation`` to the end and build the whole body; None when the client left."""
    chunks: list[GenerationChunk] = []
    gone: list[bool] = []

    async def emit(batch: list[GenerationChunk]) -> None:
        chunks.extend(batch)

    async with anyio.create_task_group() as group:
        group.start_soon(_watch_disconnect, receive, group.cancel_scope, gone)
        await generation.run(emit)
        group.cancel_scope.cancel()
    if gone:
        return None, generation.stats
    body = build(chunks)
    if not isinstance(body, bytes):
        body = await body
    return body, generation.stats
