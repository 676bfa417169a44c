"""Resume a dropped stream from a fastsse server: reconnect with ``Last-Event-ID``.

A fastsse server with resumable streams tags each streamed response with ``x-stream-id`` and
each event with an ``id``. When such a response drops before its terminator (a transport error,
or the body ending without the format's last event), the client reconnects to
``/v1/streams/{id}`` with the last id it received and carries on: the bytes handed to the
decoder are whole events only, so the resumed response continues exactly where the dropped one
stopped — nothing lost, nothing repeated. Attempts are bounded, with exponential backoff (or
the stream's own ``retry`` value).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio

from .._resource import OwningAsyncIterator, aclose_shielded
from .._sources import async_byte_chunks, close_source, sync_byte_chunks
from ..errors import ProviderError

__all__ = ["AsyncResumingSource", "ResumePoint", "resume_headers", "resuming_source", "stream_url"]

MAX_ATTEMPTS = 5
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 2.0
# The last event of a complete stream, per wire format the server writes.
TERMINATORS = (b"data: [DONE]", b"event: message_stop", b"event: error", b"event: response.completed")
_DROP_MODULES = frozenset({"httpx", "httpx2", "httpcore", "h11", "aiohttp"})


def stream_url(response: Any) -> str | None:
    """Where a response's stream can be resumed, or None when it is not resumable."""
    stream_id = response.headers.get("x-stream-id")
    if not stream_id:
        return None
    url = str(response.url).partition("?")[0]
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    prefix = path[: path.find("v1/")] if "v1/" in path else ""
    return f"{scheme}://{host}/{prefix}v1/streams/{stream_id}"


def resume_headers(headers: dict[str, str], last_event_id: str) -> dict[str, str]:
    """The original request's headers (credentials) for the ``GET`` that resumes it."""
    kept = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    kept["accept"] = "text/event-stream"
    if last_event_id:
        kept["last-event-id"] = last_event_id
    return kept


def is_drop(exc: BaseException) -> bool:
    """A transport failure (connection reset, incomplete body, read timeout), not a bug."""
    if isinstance(exc, OSError):
        return True
    return any(cls.__module__.partition(".")[0] in _DROP_MODULES for cls in type(exc).__mro__[:-2])


class ResumePoint:
    """Sans-IO: passes on whole events only and remembers the last event id and ``retry``."""

    def __init__(self) -> None:
        self.last_event_id = ""
        self.retry: float | None = None  # seconds
        self.ended = False
        self.response: Any = None  # the response being read
        self._tail = b""
        self._last_event = b""

    def take(self, piece: bytes) -> bytes:
        data = self._tail + piece if self._tail else piece
        cut = data.rfind(b"\n\n")
        if cut < 0:
            self._tail = data
            return b""
        whole, self._tail = data[: cut + 2], data[cut + 2 :]
        self._note(whole)
        return whole

    def _note(self, whole: bytes) -> None:
        start = whole.rfind(b"\n\n", 0, len(whole) - 2) + 2
        self._last_event = whole[start:]
        value = _last_field(whole, b"id:")
        if value is not None:
            self.last_event_id = value.decode("utf-8", "replace")
        value = _last_field(whole, b"retry:")
        if value is not None and value.isdigit():
            self.retry = int(value) / 1000
        self.ended = any(marker in self._last_event for marker in TERMINATORS)

    def restart(self) -> None:
        """A new response starts: the unfinished event of the old one is dropped."""
        self._tail = b""

    def backoff(self, attempt: int) -> float:
        if self.retry is not None:
            return self.retry
        return min(FIRST_BACKOFF * 2.0 ** (attempt - 1), MAX_BACKOFF)


def _last_field(events: bytes, name: bytes) -> bytes | None:
    """The value of the last ``name`` line in whole SSE events (leading space dropped)."""
    at = events.rfind(b"\n" + name)
    at = at + 1 if at >= 0 else (0 if events.startswith(name) else -1)
    if at < 0:
        return None
    value = events[at + len(name) : events.index(b"\n", at)].rstrip(b"\r")
    return value[1:] if value.startswith(b" ") else value


class _StreamDropped(Exception):
    pass


def _give_up(url: str, attempts: int, cause: BaseException) -> ProviderError:
    return ProviderError(
        f"the stream dropped and {attempts} attempts to resume it from {url} failed: {cause}",
        code="stream_resume_failed",
    )


def resuming_source(
    response: Any, reopen: Callable[[str, str], Any], *, max_attempts: int = MAX_ATTEMPTS
) -> Iterator[bytes]:
    """The bytes of ``response``, resumed through ``reopen(url, last_event_id)`` when it drops.

    Used only for resumable responses (``stream_url`` is not None)."""
    url = stream_url(response)
    assert url is not None
    point = ResumePoint()
    try:
        yield from _resumed(response, reopen, url, point, max_attempts)
    finally:
        close_source(point.response)


def _resumed(
    response: Any, reopen: Callable[[str, str], Any], url: str, point: ResumePoint, max_attempts: int
) -> Iterator[bytes]:
    attempt = 0
    point.response = response
    while True:
        try:
            for piece in sync_byte_chunks(response):
                whole = point.take(piece)
                if whole:
                    attempt = 0
                    yield whole
            if point.ended:
                return
            raise _StreamDropped("the response ended before the stream's last event")
        except Exception as exc:
            if not (isinstance(exc, _StreamDropped) or is_drop(exc)):
                raise
            attempt += 1
            if attempt > max_attempts:
                raise _give_up(url, max_attempts, exc) from exc
            close_source(response)
            time.sleep(point.backoff(attempt))
            point.restart()
            try:
                response = point.response = reopen(url, point.last_event_id)
            except Exception as reopen_error:
                if not is_drop(reopen_error):
                    raise
                response = point.response = _FailedResponse(reopen_error)


class _FailedResponse:
    """A reconnection that failed: iterating it raises the failure (counted as an attempt)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        raise self.error

    def __aiter__(self) -> AsyncIterator[bytes]:
        raise self.error

    def close(self) -> None:
        pass


class AsyncResumingSource(OwningAsyncIterator[bytes]):
    """``resuming_source``'s async twin: an async byte source (an ``OwningAsyncIterator``)."""

    def __init__(
        self, response: Any, reopen: Callable[[str, str], Awaitable[Any]], *, max_attempts: int = MAX_ATTEMPTS
    ) -> None:
        url = stream_url(response)
        assert url is not None
        self.url = url
        self._response = response
        self._reopen = reopen
        self._max_attempts = max_attempts
        self._point = ResumePoint()
        self._pieces: AsyncIterator[bytes] | None = None
        self._attempt = 0

    async def _next(self) -> bytes:
        point = self._point
        while True:
            try:
                if self._pieces is None:
                    self._pieces = async_byte_chunks(self._response)
                try:
                    piece = await self._pieces.__anext__()
                except StopAsyncIteration:
                    if point.ended:
                        raise
                    raise _StreamDropped("the response ended before the stream's last event") from None
                whole = point.take(piece)
                if whole:
                    self._attempt = 0
                    return whole
            except StopAsyncIteration:
                raise
            except Exception as exc:
                if not (isinstance(exc, _StreamDropped) or is_drop(exc)):
                    raise
                await self._resume(exc)

    async def _resume(self, cause: Exception) -> None:
        self._attempt += 1
        if self._attempt > self._max_attempts:
            raise _give_up(self.url, self._max_attempts, cause) from cause
        await self._close_current()
        await anyio.sleep(self._point.backoff(self._attempt))
        self._point.restart()
        try:
            self._response = await self._reopen(self.url, self._point.last_event_id)
        except Exception as reopen_error:
            if not is_drop(reopen_error):
                raise
            self._response = _FailedResponse(reopen_error)

    async def _close_current(self) -> None:
        pieces, self._pieces = self._pieces, None
        await aclose_shielded(pieces, self._response)

    def _owned(self) -> tuple[object, ...]:
        return (self._pieces, self._response)
