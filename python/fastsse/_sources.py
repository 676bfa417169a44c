"""Turn the byte sources users hold into plain (async) iterators of bytes, and close them.

Supported: any Iterable[bytes] / AsyncIterable[bytes], a binary file object, an httpx (or
httpx2) Response, an aiohttp ClientResponse, an anyio ByteReceiveStream, and the official
`openai` / `anthropic` SDKs' raw responses (`with_streaming_response`, sync and async) and
`Stream` / `AsyncStream` objects (read through their HTTP response, before any event is consumed).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

__all__ = ["aclose_source", "async_byte_chunks", "close_source", "http_response_of", "sync_byte_chunks"]

_READ_SIZE = 64 * 1024
_SDK_PACKAGES = ("openai", "anthropic")
_WHAT_TO_PASS = (
    "an iterable of bytes, a binary file object, an httpx / httpx2 Response, an aiohttp "
    "ClientResponse, an anyio ByteReceiveStream, or an openai / anthropic SDK response "
    "(`....with_streaming_response.create(...)`) or `Stream` (`create(..., stream=True)`)"
)


def http_response_of(source: Any) -> Any:
    """The HTTP response inside an SDK response or stream object; any other source as is."""
    if type(source).__module__.partition(".")[0] not in _SDK_PACKAGES:
        return source
    for attribute in ("http_response", "response"):  # APIResponse, then Stream / MessageStream
        inner = getattr(source, attribute, None)
        if inner is not None and (hasattr(inner, "iter_bytes") or hasattr(inner, "aiter_bytes")):
            return inner
    raise TypeError(f"cannot read bytes from {type(source).__qualname__}: expected {_WHAT_TO_PASS}")


def _read_chunks(file: Any) -> Iterator[bytes]:
    read = getattr(file, "read1", None) or file.read
    while True:
        chunk = read(_READ_SIZE)
        if not chunk:
            return
        yield chunk


# A list or tuple of pieces is all in memory: runs of small pieces are joined (up to this many
# pieces, in C) so the decoder is called once per run, not once per piece of a few bytes.
_SMALL_PIECE = 1024
_JOINED_PIECES = 256


def _joined_small_pieces(pieces: Sequence[bytes]) -> Iterator[bytes]:
    rest = iter(pieces)
    for piece in rest:
        yield piece if len(piece) >= _SMALL_PIECE else b"".join((piece, *islice(rest, _JOINED_PIECES - 1)))


def sync_byte_chunks(source: Any) -> Iterator[bytes]:
    """Bytes from a sync source, as the network delivered them (no re-chunking; only the small
    pieces of an in-memory list or tuple are joined)."""
    source = http_response_of(source)
    if hasattr(source, "iter_bytes"):  # httpx.Response
        return iter(source.iter_bytes())
    if hasattr(source, "read") and not isinstance(source, (bytes, bytearray, memoryview)):
        return _read_chunks(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return iter((bytes(source),))
    if isinstance(source, (list, tuple)):
        return _joined_small_pieces(source)
    if isinstance(source, Iterable) and not isinstance(source, str):
        return iter(source)
    raise TypeError(f"cannot read bytes from {type(source).__name__}: expected {_WHAT_TO_PASS}")


async def _aiter_receive(stream: Any) -> AsyncIterator[bytes]:
    import anyio

    while True:
        try:
            chunk = await stream.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return
        yield chunk


def async_byte_chunks(source: Any) -> AsyncIterator[bytes]:
    """Bytes from an async source."""
    source = http_response_of(source)
    if hasattr(source, "aiter_bytes"):  # httpx.Response
        return aiter(source.aiter_bytes())
    content = getattr(source, "content", None)
    if content is not None and hasattr(content, "iter_any"):  # aiohttp.ClientResponse
        return aiter(content.iter_any())
    if isinstance(source, AsyncIterable):
        return aiter(source)
    if hasattr(source, "receive"):  # anyio ByteReceiveStream without __aiter__
        return _aiter_receive(source)
    if isinstance(source, Iterable) and not isinstance(source, (str, bytes)):
        return _from_sync(source)
    raise TypeError(f"cannot read bytes from {type(source).__name__}: expected {_WHAT_TO_PASS}")


async def _from_sync(source: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in source:
        yield chunk


def close_source(*objects: Any) -> None:
    """Close whatever of these has a sync close()."""
    for obj in objects:
        close = getattr(obj, "close", None)
        if close is not None and not inspect.iscoroutinefunction(close):
            result = close()
            if inspect.isawaitable(result):  # pragma: no cover - defensive
                close_awaitable = getattr(result, "close", None)
                if close_awaitable is not None:
                    close_awaitable()


async def aclose_source(*objects: Any) -> None:
    """Close each object the way it wants: aclose(), release(), or close()."""
    for obj in objects:
        if obj is None:
            continue
        aclose = getattr(obj, "aclose", None)
        if aclose is not None:
            await aclose()
            continue
        release = getattr(obj, "release", None)  # aiohttp.ClientResponse
        if release is not None:
            result = release()
            if inspect.isawaitable(result):
                await result
            continue
        close = getattr(obj, "close", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):
                await result
