"""Server-Sent Events: iterators over any byte source, and httpx-sse-shaped helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from operator import length_hint
from typing import TYPE_CHECKING, Any

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


class _HandedOut:
    """A decoder wrapper that keeps the batch of events being handed out, so ``SSEIterator`` can
    tell the last id and retry handed out on demand instead of bookkeeping every event."""

    def __init__(self, decoder: SSEDecoder) -> None:
        self._decoder = decoder
        self._batch: list[ServerSentEvent] = []
        self._rest: Iterator[ServerSentEvent] = iter(self._batch)
        self._before: tuple[str, int | None] = ("", None)  # as of the end of the previous batch

    def decode(self, data: bytes) -> Iterator[ServerSentEvent] | list[ServerSentEvent]:
        return self._start(self._decoder.decode(data))

    def flush(self) -> Iterator[ServerSentEvent] | list[ServerSentEvent]:
        return self._start(self._decoder.flush())

    def _start(self, batch: list[ServerSentEvent]) -> Iterator[ServerSentEvent] | list[ServerSentEvent]:
        if not batch:
            return batch
        self._before = self.last_id_and_retry()
        self._batch, self._rest = batch, iter(batch)
        return self._rest  # the driver hands out this very iterator, so its position is ours

    def last_id_and_retry(self) -> tuple[str, int | None]:
        handed_out = self._batch[: len(self._batch) - length_hint(self._rest)]
        if not handed_out:
            return self._before
        retry = next((e.retry for e in reversed(handed_out) if e.retry is not None), self._before[1])
        return handed_out[-1].id, retry


class SSEIterator(Iterator[ServerSentEvent]):
    """What ``iter_sse`` returns: the events, and for callers who resume a stream by hand, the
    ``last_event_id`` and ``retry`` (milliseconds) of the events handed out so far.

    A ``for`` loop runs on the underlying generator (``iter()`` returns it), so no Python code
    runs per event."""

    def __init__(self, source: Any, decoder: SSEDecoder) -> None:
        self._handed_out = _HandedOut(decoder)
        self._events = iter_decoded(source, self._handed_out)

    def __iter__(self) -> Iterator[ServerSentEvent]:
        return self._events

    def __next__(self) -> ServerSentEvent:
        return next(self._events)

    @property
    def last_event_id(self) -> str:
        """The stream's last event id as of the last event handed out ('' before any)."""
        return self._handed_out.last_id_and_retry()[0]

    @property
    def retry(self) -> int | None:
        """The last ``retry`` value the stream sent, in milliseconds (None when it sent none)."""
        return self._handed_out.last_id_and_retry()[1]

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


_SSE_ERROR_DOC = """The response is not an event stream (wrong Content-Type).

A `fastsse.ProtocolError`; when httpx is installed also an `httpx.TransportError`, as httpx-sse's
`SSEError` is, so code that catches `httpx.TransportError` keeps working."""

if TYPE_CHECKING:

    class SSEError(ProtocolError):
        __doc__ = _SSE_ERROR_DOC

else:

    def __getattr__(name: str) -> Any:
        # Made on first use: the httpx base is looked up then, so `import fastsse` stays light.
        if name != "SSEError":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        bases: tuple[type, ...] = (ProtocolError,)
        try:
            import httpx
        except ImportError:  # pragma: no cover - httpx is a test dependency
            pass
        else:
            bases = (ProtocolError, httpx.TransportError)
        cls = type("SSEError", bases, {"__doc__": _SSE_ERROR_DOC, "__module__": "fastsse"})
        globals()["SSEError"] = cls
        return cls


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
        if content_type.lower() != "text/event-stream":  # media types are case-insensitive
            from . import _sse

            raise _sse.SSEError(
                "expected response Content-Type 'text/event-stream', got "
                f"{content_type or 'none'!r} (HTTP {self._response.status_code})"
            )

    def iter_sse(self) -> Iterator[ServerSentEvent]:
        """The events; the Content-Type is checked on the first `next()`, as httpx-sse does."""
        return self._checked_events()

    def _checked_events(self) -> Iterator[ServerSentEvent]:
        self._check_content_type()
        yield from iter_decoded(self._response.iter_bytes(), SSEDecoder(**self._decoder_options))

    def aiter_sse(self) -> AsyncDecodingIterator[ServerSentEvent]:
        """The async events; the Content-Type is checked on the first `__anext__()`."""
        return _CheckedAsyncEvents(self)


class _CheckedAsyncEvents(AsyncDecodingIterator[ServerSentEvent]):
    def __init__(self, source: EventSource) -> None:
        super().__init__(source.response.aiter_bytes(), SSEDecoder(**source._decoder_options))
        self._event_source: EventSource | None = source

    async def __anext__(self) -> ServerSentEvent:
        if self._event_source is not None:
            source, self._event_source = self._event_source, None
            try:
                source._check_content_type()
            except BaseException:
                await self.aclose()
                raise
        return await super().__anext__()


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
