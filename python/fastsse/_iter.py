"""Drivers that pump bytes from a source through a sans-IO decoder.

The sync driver is a generator (cheap per item; `close()` closes the source). The async one
is a resource object, never a bare async generator (docs/ARCHITECTURE.md): it has `aclose()`,
works with `async with`, and closes its source when closed, exhausted or failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

import anyio

from ._sources import aclose_source, async_byte_chunks, close_source, sync_byte_chunks

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


class AsyncDecodingIterator(Generic[T]):
    """Async iterator over what `decoder` makes of an async byte source."""

    def __init__(self, source: Any, decoder: Decoder[T]) -> None:
        self._source = source
        self._decoder = decoder
        self._chunks: AsyncIterator[bytes] | None = None
        self._pending: Iterator[T] = iter(())
        self._exhausted = False
        self._closed = False

    def __aiter__(self) -> AsyncDecodingIterator[T]:
        return self

    async def __anext__(self) -> T:
        item = next(self._pending, _NONE)
        while item is _NONE:
            if self._exhausted or self._closed:
                raise StopAsyncIteration
            await self._refill()
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
        except BaseException:
            await self.aclose()
            raise
        try:
            self._pending = iter(self._decoder.decode(chunk))
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Stop and close the source (the HTTP response, stream or iterator). Idempotent."""
        if self._closed:
            return
        self._closed = True
        chunks, self._chunks = self._chunks, None
        # Shielded: closing must finish even when we are here because of a cancellation.
        with anyio.CancelScope(shield=True):
            await aclose_source(chunks if chunks is not self._source else None, self._source)

    async def __aenter__(self) -> AsyncDecodingIterator[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # Abandoned without aclose(): release what can be released without awaiting.
        if not getattr(self, "_closed", True):
            try:
                close_source(self._source)
            except Exception:  # pragma: no cover - best effort at garbage collection
                pass
