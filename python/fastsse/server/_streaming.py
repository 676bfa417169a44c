"""Serving one generation as an SSE response, and as a whole JSON response.

The request's task runs the :class:`Generation` and sends each encoded batch as soon as it is
parsed — no queue between engine and socket. Backpressure comes from the ASGI server: its
``send`` waits while the connection's write buffer is above its high-water mark (uvicorn,
hypercorn and granian all do), and while it waits the engine is not read, so a slow client
never makes memory grow; what is held per stream is the server's write buffer plus one batch.

Two helper tasks share the request:

* the **keep-alive** task sends an SSE comment when nothing was sent for ``keepalive`` seconds
  (a long prefill, a slow engine), so proxies and clients keep an idle stream open; each send
  carries whole events, so a comment never lands inside one;
* the **watcher** waits for ``http.disconnect``; when the client leaves it cancels the request,
  and the generation closes the adapter's iterator, which stops the engine.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

import anyio

from .._fastsse import GenerationChunk
from ._asgi import Receive, Send
from ._worker import GenerationLike, GenerationStats

if TYPE_CHECKING:
    from ._resume import ResumableStreams

__all__ = ["EncoderLike", "collect_response", "sse_producer", "stream_response", "watch_disconnect"]

KEEPALIVE_COMMENT = b": keep-alive\n\n"

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class EncoderLike(Protocol):
    def encode(self, chunks: list[GenerationChunk], /) -> bytes: ...

    def finish(self) -> bytes: ...


async def watch_disconnect(receive: Receive, scope: anyio.CancelScope, gone: list[bool]) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.append(True)
            scope.cancel()
            return


async def _keep_alive(send: Send, last_sent: list[float], interval: float) -> None:
    while True:
        idle = time.monotonic() - last_sent[0]
        if idle < interval:
            await anyio.sleep(interval - idle)
            continue
        last_sent[0] = time.monotonic()
        await send({"type": "http.response.body", "body": KEEPALIVE_COMMENT, "more_body": True})


def sse_producer(
    generation: GenerationLike, encoder: EncoderLike
) -> Callable[[Callable[[bytes], Awaitable[None]]], Awaitable[None]]:
    """``produce(write)``: runs ``generation`` and writes its encoded SSE events."""

    async def produce(write: Callable[[bytes], Awaitable[None]]) -> None:
        async def emit(chunks: list[GenerationChunk]) -> None:
            await write(encoder.encode(chunks))

        # The preamble (OpenAI role chunk / Anthropic message_start) goes out at once.
        await write(encoder.encode([]))
        await generation.run(emit)
        await write(encoder.finish())

    return produce


async def stream_response(
    send: Send,
    receive: Receive,
    generation: GenerationLike,
    encoder: EncoderLike,
    *,
    keepalive: float,
    headers: list[tuple[bytes, bytes]] | None = None,
    resumable: ResumableStreams | None = None,
    format: str = "openai",
    stream_id: str | None = None,
    detached: bool = False,
) -> tuple[GenerationStats, bool]:
    """Stream ``generation`` as SSE; returns its stats and whether the client left early.

    With ``resumable``, the generation runs detached from this request into the stream store
    (``format`` names the wire format, for the error events readers may be sent; ``stream_id``
    and ``detached`` are ``ResumableStreams.start``'s) and this response is its first reader.
    """
    produce = sse_producer(generation, encoder)
    if resumable is not None:
        completed = await resumable.serve(
            send,
            receive,
            produce,
            format=format,
            keepalive=keepalive,
            headers=headers,
            stream_id=stream_id,
            detached=detached,
        )
        return generation.stats, not completed

    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + (headers or [])})
    last_sent = [time.monotonic()]
    gone: list[bool] = []

    async def write(data: bytes) -> None:
        if data:
            last_sent[0] = time.monotonic()
            await send({"type": "http.response.body", "body": data, "more_body": True})

    completed = False
    async with anyio.create_task_group() as group:
        group.start_soon(watch_disconnect, receive, group.cancel_scope, gone)
        group.start_soon(_keep_alive, send, last_sent, keepalive)
        await produce(write)
        completed = True
        # Ending the response makes the server report a disconnect: stop the helpers first.
        group.cancel_scope.cancel()
    if completed:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    return generation.stats, not completed


async def collect_response(
    receive: Receive,
    generation: GenerationLike,
    build: Callable[[list[GenerationChunk]], Awaitable[bytes] | bytes],
) -> tuple[bytes | None, GenerationStats]:
    """Run ``generation`` to the end and build the whole body; None when the client left."""
    chunks: list[GenerationChunk] = []
    gone: list[bool] = []

    async def emit(batch: list[GenerationChunk]) -> None:
        chunks.extend(batch)

    async with anyio.create_task_group() as group:
        group.start_soon(watch_disconnect, receive, group.cancel_scope, gone)
        await generation.run(emit)
        group.cancel_scope.cancel()
    if gone:
        return None, generation.stats
    body = build(chunks)
    if not isinstance(body, bytes):
        body = await body
    return body, generation.stats
