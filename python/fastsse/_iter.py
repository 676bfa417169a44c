"""Drivers that pump bytes from a source through a sans-IO decoder.

The sync driver is a generator (cheap per item; `close()` closes the source). The async one is
an `OwningAsyncIterator` (`_resource.py`): `aclose()`, `async with`, and its source closed when
it is closed, exhausted, failed or cancelled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from ._resource import OwningAsyncIterator
from ._sources import async_byte_chunks, close_source, sync_byte_chunks

__all__ = ["AsyncDecodingIterator", "Decoder", "iter_decoded"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
_NONE: Any = object()  # "no item pending" (any value, None included, may be an item)


class Decoder(Protocol[T_co]):
    """The one decoder protocol: `decode(chunk) -> list`, `flush() -> list` (any iterable)."""

    def decode(self, data: bytes, /) -> Iterable[T_co]: ...

    def flush(self) -> Iterable[T_co]: ...


def iter_decoded(source: Any, decoder: Decoder[T]) -> Generator[T, None, None]:
    """Yield everything `decoder` makes of `source`'s bytes; close the source at the end."""
    chunks = sync_byte_chunks(source)
    try:
        decode = decoder.decode
        for chunk in chunks:
            yield from decode(chunk)
        yield from decoder.flush()
    finally:
        close_source(chunks, source)


class AsyncDecodingIterator(OwningAsyncIterator[T]):
    """Async iterator over what `decoder` makes of an async byte source (closes the source)."""

    def __init__(self, source: Any, decoder: Decoder[T]) -> None:
        self._source = source
        self._decoder = decoder
        self._chunks: AsyncIterator[bytes] | None = None
        self._pending: Iterator[T] = iter(())
        self._exhausted = False

    async def __anext__(self) -> T:
        # The fast path: most calls hand out an item already decoded, with no await.
        item = next(self._pending, _NONE)
        while item is _NONE:
            if self._exhausted or self._closed:
                raise StopAsyncIteration
            try:
                await self._refill()
            except BaseException:
                await self.aclose()
                raise
            item = next(self._pending, _NONE)
        result: T = item
        return result

    async def _refill(self) -> None:
        if self._chunks is None:
            self._chunks = async_byte_chunks(self._source)
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            self._exhausted = True
            self._pending = iter(self._decoder.flush())
            await self.aclose()
            return
        self._pending = iter(self._decoder.decode(chunk))

    def _owned(self) -> tuple[object, ...]:
        return (self._chunks, self._source)
