"""The stream objects accelerated calls return: the SDK's `Stream` / `AsyncStream` surface.

Iterate them, `close()` them (or leave `with` / `async with`), read `.response` (the SDK's
httpx response). Both are driven by the package's one sync driver and one async iterator base,
so closing, exhaustion and failure release the HTTP response the same way as everywhere else.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from .._iter import AsyncDecodingIterator, Decoder, iter_decoded
from .._resource import SyncResource

__all__ = ["AsyncSDKStream", "SDKStream"]


class SDKStream(SyncResource):
    """A sync stream of SDK-shaped items decoded by fastsse."""

    def __init__(self, response: Any, decoder: Decoder[Any]) -> None:
        self.response = response
        self._iterator: Generator[Any, None, None] = iter_decoded(response, decoder)

    def __iter__(self) -> Iterator[Any]:
        return self._iterator

    def __next__(self) -> Any:
        return next(self._iterator)

    def close(self) -> None:
        """Stop reading and release the connection (idempotent)."""
        self._iterator.close()
        self.response.close()


class AsyncSDKStream(AsyncDecodingIterator[Any]):
    """An async stream of SDK-shaped items decoded by fastsse (`close()` is `aclose()`)."""

    def __init__(self, response: Any, decoder: Decoder[Any]) -> None:
        super().__init__(response, decoder)
        self.response = response

    async def close(self) -> None:
        await self.aclose()
