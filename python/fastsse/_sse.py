"""Server-Sent Events: iterators over any byte source, and httpx-sse-shaped helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from ._fastsse import ServerSentEvent, SSEDecoder
from ._iter import AsyncDecodingIterator, iter_decoded
from .errors import ProtocolError

__all__ = [
    "AsyncSSEIterator",
    "EventSource",
    "SSEError",
    "SSEIterator",
    "aconnect_sse",
    "aiter_sse",
    "connect_sse",
    "iter_sse",
]


class SSEIterator(Iterator[ServerSentEvent]):
    """What ``iter_sse`` returns: the events, and for callers who resume a stream by hand, the
    ``last_event_id`` and ``retry`` (milliseconds) of the events handed out so far."""

    def __init__(self, source: Any, decoder: SSEDecoder) -> None:
        self._events = iter_decoded(source, decoder)
        self._last: ServerSentEvent | None = None
        self._retry: int | None = None

    def __iter__(self) -> SSEIterator:
        return self

    def __next__(self) -> ServerSentEvent:
        event = self._last = next(self._events)
        if event.retry is not None:
            self._retry = event.retry
        return event

    @property
    def last_event_id(self) -> str:
        """The stream's last event id as of the last event handed out ('' before any)."""
        return "" if self._last is None else self._last.id

    @property
    def retry(self) -> int | None:
        """The last ``retry`` value the stream sent, in milliseconds (None when it sent none)."""
        return self._retry

    def close(self) -> None:
        """Close the source."""
        self._events.close()


class AsyncSSEIterator(AsyncDecodingIterator[ServerSentEvent]):
    """What ``aiter_sse`` returns: ``SSEIterator``'s async twin (``last_event_id``, ``retry``)."""

    _last: ServerSentEvent | None = None
    _retry: int | None = None

    async def __anext__(self) -> ServerSentEvent:
        event = self._last = await super().__anext__()
        if event.retry is not None:
            self._retry = event.retry
        return event

    @property
    def last_event_id(self) -> str:
        return "" if self._last is None else self._last.id

    @property
    def retry(self) -> int | None:
        return self._retry


def iter_sse(source: Any, **decoder_options: Any) -> SSEIterator:
    """Iterate the events of a byte source (iterable of bytes, file, httpx.Response, ...).

    The iterator's ``last_event_id`` and ``retry`` are what a reconnection needs."""
    return SSEIterator(source, SSEDecoder(**decoder_options))


def aiter_sse(source: Any, **decoder_options: Any) -> AsyncSSEIterator:
    """Async iterator over the events of an async byte source; a resource with `aclose()`,
    with ``last_event_id`` and ``retry`` like ``iter_sse``'s."""
    return AsyncSSEIterator(source, SSEDecoder(**decoder_options))


class SSEError(ProtocolError):
    """The response is not an event stream (wrong Content-Type)."""


class EventSource:
    """An httpx response known to carry SSE: the same shape as httpx-sse's EventSource."""

    def __init__(self, response: Any, **decoder_options: Any) -> None:
        self._response = response
        self._decoder_options = decoder_options

    @property
    def response(self) -> Any:
        return self._response

    def _check_content_type(self) -> None:
        content_type = self._response.headers.get("content-type", "").partition(";")[0].strip()
        if content_type != "text/event-stream":
            raise SSEError(
                "expected response Content-Type 'text/event-stream', got "
                f"{content_type or 'none'!r} (HTTP {self._response.status_code})"
            )

    def iter_sse(self) -> Iterator[ServerSentEvent]:
        self._check_content_type()
        return iter_decoded(self._response.iter_bytes(), SSEDecoder(**self._decoder_options))

    def aiter_sse(self) -> AsyncDecodingIterator[ServerSentEvent]:
        self._check_content_type()
        return AsyncDecodingIterator(self._response.aiter_bytes(), SSEDecoder(**self._decoder_options))


def _sse_headers(kwargs: dict[str, Any]) -> dict[str, Any]:
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept", "text/event-stream")
    headers.setdefault("Cache-Control", "no-store")
    kwargs["headers"] = headers
    return kwargs


@contextmanager
def connect_sse(client: Any, method: str, url: str, **kwargs: Any) -> Iterator[EventSource]:
    """`with connect_sse(httpx_client, "GET", url) as source: for sse in source.iter_sse(): ...`"""
    with client.stream(method, url, **_sse_headers(kwargs)) as response:
        yield EventSource(response)


@asynccontextmanager
async def aconnect_sse(client: Any, method: str, url: str, **kwargs: Any) -> AsyncIterator[EventSource]:
    """The async twin of `connect_sse`, for an `httpx.AsyncClient`."""
    async with client.stream(method, url, **_sse_headers(kwargs)) as response:
        yield EventSource(response)
