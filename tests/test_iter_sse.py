"""iter_sse / aiter_sse over every supported source, and the resource behaviour of the async
iterator (early exit, aclose, cancellation) on asyncio and trio. Mirrors python/fastsse/_iter.py."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator

import anyio
import fastsse
import httpx
import pytest
from anyio.abc import ByteReceiveStream
from fastsse import ServerSentEvent

STREAM = b"event: a\ndata: 1\n\ndata: 2\nid: 7\n\n: keep-alive\n\ndata: 3\n\n"
EXPECTED = [
    ServerSentEvent(event="a", data="1"),
    ServerSentEvent(data="2", id="7"),
    ServerSentEvent(data="3", id="7"),
]


def pieces(size: int = 5) -> list[bytes]:
    return [STREAM[i : i + size] for i in range(0, len(STREAM), size)]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- sync ----------------------------------------------------------------------------------


def test_iter_list_of_bytes() -> None:
    assert list(fastsse.iter_sse(pieces())) == EXPECTED


@pytest.mark.parametrize("source", [list, iter], ids=["list (small pieces joined)", "iterator"])
def test_last_event_id_and_retry_follow_the_events_handed_out(source: type) -> None:
    stream = [b"retry: 5\nid: 1\ndata: a\n\n", b"data: b\n\nid: 2\nretry: 9\ndata: c\n\n", b"data: d\n\n"]
    events = fastsse.iter_sse(source(stream))
    seen = [(events.last_event_id, events.retry)]
    for _ in events:
        seen.append((events.last_event_id, events.retry))
    assert seen == [("", None), ("1", 5), ("1", 5), ("2", 9), ("2", 9)]


def test_iter_binary_file() -> None:
    assert list(fastsse.iter_sse(io.BytesIO(STREAM))) == EXPECTED


def test_iter_generator_closed_on_early_exit() -> None:
    closed = []

    def source() -> Iterator[bytes]:
        try:
            yield from pieces()
        finally:
            closed.append(True)

    events = fastsse.iter_sse(source())
    assert next(events) == EXPECTED[0]
    events.close()  # type: ignore[attr-defined]
    assert closed == [True]


def test_iter_decoder_options_pass_through() -> None:
    with pytest.raises(fastsse.EventTooLargeError):
        list(fastsse.iter_sse([b"data: " + b"x" * 100], max_event_size=10))


def _handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=pieces())


def test_iter_httpx_response_and_connect_sse() -> None:
    with httpx.Client(transport=httpx.MockTransport(_handler)) as client:
        with client.stream("GET", "http://test/") as response:
            assert list(fastsse.iter_sse(response)) == EXPECTED
        with fastsse.connect_sse(client, "GET", "http://test/") as source:
            assert source.response.request.headers["accept"] == "text/event-stream"
            assert list(source.iter_sse()) == EXPECTED


def test_connect_sse_rejects_wrong_content_type() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, content=b"{}")

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        with fastsse.connect_sse(client, "GET", "http://test/") as source:
            events = source.iter_sse()  # checked on the first next(), as httpx-sse does
            with pytest.raises(fastsse.SSEError, match="application/json") as info:
                next(events)
    # Code written for httpx-sse catches it as an httpx error.
    assert isinstance(info.value, httpx.TransportError) and isinstance(info.value, fastsse.ProtocolError)


def test_connect_sse_media_type_is_case_insensitive() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "Text/Event-Stream; charset=utf-8"}
        return httpx.Response(200, headers=headers, content=pieces())

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        with fastsse.connect_sse(client, "GET", "http://test/") as source:
            assert list(source.iter_sse()) == EXPECTED


@pytest.mark.anyio
async def test_aconnect_sse_checks_on_the_first_anext() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=b"data: x\n\n")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        async with fastsse.aconnect_sse(client, "GET", "http://test/") as source:
            events = source.aiter_sse()
            with pytest.raises(httpx.TransportError, match="text/plain"):
                await events.__anext__()


# --- async ---------------------------------------------------------------------------------


class TrackedSource:
    """An async byte source that records whether it was closed."""

    def __init__(self, chunks: list[bytes], delay: float = 0.0) -> None:
        self.chunks = chunks
        self.delay = delay
        self.closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self.closed or not self.chunks:
            raise StopAsyncIteration
        if self.delay:
            await anyio.sleep(self.delay)
        return self.chunks.pop(0)

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_aiter_async_iterable() -> None:
    source = TrackedSource(pieces())
    events = [event async for event in fastsse.aiter_sse(source)]
    assert events == EXPECTED
    assert source.closed, "an exhausted iterator closes its source"


@pytest.mark.anyio
async def test_aiter_early_break_with_async_with_closes_source() -> None:
    source = TrackedSource(pieces())
    async with fastsse.aiter_sse(source) as events:
        async for event in events:
            assert event == EXPECTED[0]
            break
    assert source.closed


@pytest.mark.anyio
async def test_aclose_is_idempotent_and_stops_iteration() -> None:
    source = TrackedSource(pieces())
    events = fastsse.aiter_sse(source)
    assert await events.__anext__() == EXPECTED[0]
    await events.aclose()
    await events.aclose()
    assert source.closed
    with pytest.raises(StopAsyncIteration):
        await events.__anext__()


@pytest.mark.anyio
async def test_cancellation_closes_source() -> None:
    source = TrackedSource([b"data: 1\n\n", *([b": idle\n"] * 100)], delay=0.05)
    events = fastsse.aiter_sse(source)
    received = []
    with anyio.move_on_after(0.2):
        async for event in events:
            received.append(event)
    await events.aclose()
    assert received == [ServerSentEvent(data="1")]
    assert source.closed


@pytest.mark.anyio
async def test_error_in_stream_closes_source() -> None:
    source = TrackedSource([b"data: " + b"x" * 100])
    with pytest.raises(fastsse.EventTooLargeError):
        async for _ in fastsse.aiter_sse(source, max_event_size=16):
            pass
    assert source.closed


@pytest.mark.anyio
async def test_aiter_httpx_async_response_and_aconnect_sse() -> None:
    async def body() -> AsyncIterator[bytes]:
        for piece in pieces():
            yield piece

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        async with client.stream("GET", "http://test/") as response:
            assert [e async for e in fastsse.aiter_sse(response)] == EXPECTED
            assert response.is_closed
        async with fastsse.aconnect_sse(client, "GET", "http://test/") as source:
            assert [e async for e in source.aiter_sse()] == EXPECTED


class ChunkedByteStream(ByteReceiveStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.closed = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if not self.chunks:
            raise anyio.EndOfStream
        return self.chunks.pop(0)

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_aiter_anyio_byte_receive_stream() -> None:
    stream = ChunkedByteStream(pieces(3))
    assert [e async for e in fastsse.aiter_sse(stream)] == EXPECTED
    assert stream.closed


@pytest.mark.anyio
async def test_aiter_sync_iterable_is_accepted() -> None:
    assert [e async for e in fastsse.aiter_sse(pieces(7))] == EXPECTED


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_aiter_aiohttp_response() -> None:
    aiohttp = pytest.importorskip("aiohttp")
    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for piece in pieces(4):
            await response.write(piece)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as response:
                assert [e async for e in fastsse.aiter_sse(response)] == EXPECTED
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    "data",
    ['{"a": 123456789012345678901234567890}', '{"a": NaN, "b": -Infinity}', "[1.0, 2, -0.5e3]", '"x"'],
)
def test_event_json_is_what_json_loads_gives(data: str) -> None:
    import json

    (event,) = fastsse.SSEDecoder().decode(f"data: {data}\n\n".encode())
    assert repr(event.json()) == repr(json.loads(data))
    with pytest.raises(ValueError):
        fastsse.ServerSentEvent(data="{oops").json()
