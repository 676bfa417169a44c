"""The one async iterator base of the package: an anyio resource that owns what it reads.

Every async iterator fastsse hands out (`aiter_sse`, `aiter_chunks`, the stream stages, the
client's streams, the SDK streams) derives from `OwningAsyncIterator`, so they share one close
policy (docs/ARCHITECTURE.md, "Resources"):

* `aclose()` is idempotent and closes what the iterator owns (its source: the HTTP response,
  stream or upstream iterator), in order, the way each wants (`aclose()`, `release()`, `close()`);
* it runs when the iterator is exhausted, when reading fails, when a read is cancelled (a cancelled
  read leaves the source in an unknown state, so the iterator ends there), and on leaving
  `async with`;
* the close is shielded from the cancellation that caused it, and bounded by
  `CLOSE_GRACE_SECONDS` (a shielded wait must end);
* an iterator dropped without `aclose()` closes what can be closed synchronously when collected.

Never a bare async generator: those are closed only when the event loop gets to them.

The sync streams and clients share `SyncResource`: `with` closes them with `close()`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import anyio
import anyio.abc

from ._sources import aclose_source, close_source

__all__ = ["CLOSE_GRACE_SECONDS", "Closing", "OwningAsyncIterator", "SyncResource", "aclose_shielded"]

T = TypeVar("T")
R = TypeVar("R", bound="SyncResource")

#: How long closing the owned source may take once started (the close runs shielded, so it must
#: be bounded even when the source never answers).
CLOSE_GRACE_SECONDS = 5.0


class Closing:
    """Something to run when an iterator closes, as an owned object: its `aclose()` is `action()`."""

    __slots__ = ("aclose",)

    def __init__(self, action: Callable[[], Awaitable[object]]) -> None:
        self.aclose = action


class SyncResource:
    """The sync twin of `anyio.abc.AsyncResource`: leaving `with` calls `close()`."""

    __slots__ = ()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: R) -> R:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


async def aclose_shielded(*owned: object) -> None:
    """Close each distinct object of `owned` (None skipped) the way it wants, in order, shielded
    from the cancellation that may have caused the close and bounded by `CLOSE_GRACE_SECONDS`."""
    distinct: list[object] = []  # a source can be its own upstream: close it once
    for obj in owned:
        if obj is not None and all(obj is not seen for seen in distinct):
            distinct.append(obj)
    with anyio.move_on_after(CLOSE_GRACE_SECONDS, shield=True):
        await aclose_source(*distinct)


class OwningAsyncIterator(anyio.abc.AsyncResource, AsyncIterator[T]):
    """Base of every async iterator in fastsse: see the module docstring for the close policy.

    Subclasses implement `_next()` (the next item, or raise `StopAsyncIteration`) and `_owned()`
    (what `aclose()` closes). A subclass may override `__anext__` for a faster path if it keeps
    the contract: call `aclose()` on exhaustion, failure and cancellation.
    """

    _closed = False

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        if self._closed:
            raise StopAsyncIteration
        try:
            return await self._next()
        except BaseException:  # exhaustion, failure, cancellation: the iterator is over
            await self.aclose()
            raise

    async def _next(self) -> T:
        """The next item; raise `StopAsyncIteration` at the end (unless `__anext__` is overridden)."""
        raise NotImplementedError

    @abstractmethod
    def _owned(self) -> tuple[object, ...]:
        """What closing this iterator closes, in order (None entries are skipped)."""

    @property
    def closed(self) -> bool:
        """True once `aclose()` ran (explicitly, or because the stream ended or failed)."""
        return self._closed

    async def aclose(self) -> None:
        """Stop and close the source (the HTTP response, stream or upstream iterator). Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._release()

    async def _release(self) -> None:
        """Close what the iterator owns (runs once)."""
        await aclose_shielded(*self._owned())

    def __del__(self) -> None:
        # Abandoned without aclose(): release what can be released without awaiting.
        if not self._closed:
            self._closed = True
            try:
                close_source(*self._owned())
            except Exception:  # pragma: no cover - best effort (or a half-built instance)
                pass
