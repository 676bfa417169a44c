"""The one close policy of fastsse's async iterators (`fastsse._resource.OwningAsyncIterator`).

Every async iterator the package hands out is built here over one byte source that records its
`aclose()` calls, and each is driven the ways a stream ends: exhausted, left early with `break`
(inside `async with`, and by an explicit `aclose()`), cancelled while a read waits, failed by the
source, and failed by the consumer's own code. Each way must close the source exactly once and
leave no task running. Runs on asyncio and trio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import fastsse
import fastsse._resource
import httpx
import pytest
from fastsse import streams
from fastsse._resource import OwningAsyncIterator
from fastsse.client import AsyncChunkStream
from fastsse.sdk._streams import AsyncSDKStream


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _openai_event(i: int) -> bytes:
    delta = b'{"index":0,"delta":{"content":"t%d"}}' % i
    return b'data: {"id":"c","object":"chat.completion.chunk","choices":[%s]}\n\n' % delta


EVENTS = [_openai_event(i) for i in range(6)] + [b"data: [DONE]\n\n"]


class ByteSource:
    """An async byte source that counts its `aclose()` calls; it can hang or fail after `n` reads."""

    def __init__(self, *, hang_after: int | None = None, fail_after: int | None = None) -> None:
        self.hang_after = hang_after
        self.fail_after = fail_after
        self.read = 0
        self.closes = 0

    def __aiter__(self) -> ByteSource:
        return self

    async def __anext__(self) -> bytes:
        if self.hang_after is not None and self.read >= self.hang_after:
            await anyio.sleep_forever()
        if self.fail_after is not None and self.read >= self.fail_after:
            raise ConnectionResetError("the peer went away")
        if self.read == len(EVENTS):
            raise StopAsyncIteration
        await anyio.lowlevel.checkpoint()
        self.read += 1
        return EVENTS[self.read - 1]

    async def aclose(self) -> None:
        await anyio.lowlevel.checkpoint()  # a real close awaits: it must survive a cancellation
        self.closes += 1


class _Decoder:
    """An SDK-stream decoder stand-in: each SSE event's data."""

    def __init__(self) -> None:
        self._sse = fastsse.SSEDecoder()

    def decode(self, data: bytes) -> list[str]:
        return [event.data for event in self._sse.decode(data)]

    def flush(self) -> list[str]:
        return [event.data for event in self._sse.flush()]


class _Body(httpx.AsyncByteStream):
    """An httpx response body reading the recording source."""

    def __init__(self, source: ByteSource) -> None:
        self.source = source

    def __aiter__(self) -> Any:
        return self.source

    async def aclose(self) -> None:
        await self.source.aclose()


def _client_stream(source: ByteSource) -> AsyncChunkStream:
    async def send() -> httpx.Response:
        request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
        return httpx.Response(200, stream=_Body(source), request=request)

    return AsyncChunkStream("openai", send)


def _chunks(source: ByteSource) -> Any:
    return fastsse.aiter_chunks(source, "openai")


# Every kind of async iterator the package hands out, each over the recording source.
ITERATORS: dict[str, Callable[[ByteSource], Any]] = {
    "aiter_sse": fastsse.aiter_sse,
    "aiter_chunks": _chunks,
    "AsyncSDKStream": lambda source: AsyncSDKStream(source, _Decoder()),
    "client AsyncChunkStream": _client_stream,
    "amap": lambda source: streams.amap(lambda chunk: chunk, _chunks(source)),
    "afilter": lambda source: streams.afilter(lambda chunk: True, _chunks(source)),
    "abatch": lambda source: streams.abatch(_chunks(source), 2),
    "acoalesce_text": lambda source: streams.acoalesce_text(_chunks(source), 1),
    "atimeout": lambda source: streams.atimeout(_chunks(source), idle=30, total=60),
    "abuffered": lambda source: streams.abuffered(_chunks(source), 2),
    "stages chained": lambda source: streams.amap(
        str, streams.afilter(bool, streams.acoalesce_text(_chunks(source), 4))
    ),
}
params = pytest.mark.parametrize("make", ITERATORS.values(), ids=ITERATORS.keys())


async def _other_tasks() -> int:
    """How many tasks run besides the test's own (abuffered's reader task must not outlive it)."""
    await anyio.sleep(0.01)  # let a finishing task run to its end
    return len(anyio.get_running_tasks()) - 1


@pytest.mark.anyio
@params
async def test_every_iterator_is_one_anyio_resource(make: Callable[[ByteSource], Any]) -> None:
    iterator = make(ByteSource())
    assert isinstance(iterator, OwningAsyncIterator)
    assert isinstance(iterator, anyio.abc.AsyncResource)
    await iterator.aclose()


@pytest.mark.anyio
@params
async def test_exhaustion_closes_the_source_once(make: Callable[[ByteSource], Any]) -> None:
    before = await _other_tasks()
    source = ByteSource()
    async with make(source) as iterator:
        items = [item async for item in iterator]
        assert items
        assert source.closes == 1  # closed by the end of the stream, before leaving the block
    assert source.closes == 1
    assert iterator.closed
    assert await _other_tasks() == before


@pytest.mark.anyio
@params
async def test_break_inside_async_with_closes_the_source_once(make: Callable[[ByteSource], Any]) -> None:
    before = await _other_tasks()
    source = ByteSource()
    async with make(source) as iterator:
        async for _ in iterator:
            break
        assert source.closes == 0
    assert source.closes == 1
    assert await _other_tasks() == before


@pytest.mark.anyio
@params
async def test_aclose_is_idempotent(make: Callable[[ByteSource], Any]) -> None:
    source = ByteSource()
    iterator = make(source)
    if make is ITERATORS["abuffered"]:
        async with iterator:
            await iterator.__anext__()
            await iterator.aclose()
            await iterator.aclose()
    else:
        await iterator.__anext__()
        await iterator.aclose()
        await iterator.aclose()
    assert source.closes == 1
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()  # a closed iterator is over, it does not read again
    assert source.read <= 2 * len(EVENTS)


@pytest.mark.anyio
@params
async def test_a_never_read_iterator_closes_its_source(make: Callable[[ByteSource], Any]) -> None:
    source = ByteSource()
    await make(source).aclose()
    # The client's stream sends its request on first use: closed before, it has opened nothing.
    assert source.closes == (0 if make is _client_stream else 1)
    assert source.read == 0


@pytest.mark.anyio
@params
async def test_cancelled_read_closes_the_source(make: Callable[[ByteSource], Any]) -> None:
    before = await _other_tasks()
    source = ByteSource(hang_after=2)
    with anyio.move_on_after(0.05) as scope:
        async with make(source) as iterator:
            async for _ in iterator:
                pass
    assert scope.cancelled_caught
    assert source.closes == 1  # the close ran shielded from the cancellation that caused it
    assert await _other_tasks() == before


@pytest.mark.anyio
@params
async def test_cancelled_read_without_async_with_closes_the_source(make: Callable[[ByteSource], Any]) -> None:
    if make is ITERATORS["abuffered"]:
        pytest.skip("abuffered is read only inside `async with` (its reader task lives there)")
    source = ByteSource(hang_after=2)
    with anyio.move_on_after(0.05) as scope:
        async for _ in make(source):  # the cancellation alone must close it
            pass
    assert scope.cancelled_caught
    assert source.closes == 1


@pytest.mark.anyio
@params
async def test_a_failing_source_is_closed_and_its_error_raised(make: Callable[[ByteSource], Any]) -> None:
    before = await _other_tasks()
    source = ByteSource(fail_after=3)
    with pytest.raises(ConnectionResetError, match="went away"):
        async with make(source) as iterator:
            async for _ in iterator:
                pass
    assert source.closes == 1
    assert await _other_tasks() == before


@pytest.mark.anyio
@params
async def test_an_error_in_the_loop_body_closes_the_source(make: Callable[[ByteSource], Any]) -> None:
    before = await _other_tasks()
    source = ByteSource()
    with pytest.raises(KeyError):
        async with make(source) as iterator:
            async for _ in iterator:
                raise KeyError("the consumer's own bug")
    assert source.closes == 1
    assert await _other_tasks() == before


@pytest.mark.anyio
async def test_a_close_that_hangs_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastsse._resource, "CLOSE_GRACE_SECONDS", 0.3)

    class StuckClose(ByteSource):
        async def aclose(self) -> None:
            self.closes += 1
            await anyio.sleep_forever()

    source = StuckClose()
    iterator = fastsse.aiter_sse(source)
    with anyio.fail_after(5):
        start = anyio.current_time()
        await iterator.aclose()
    assert source.closes == 1
    assert anyio.current_time() - start >= 0.25
