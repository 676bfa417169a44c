"""Server-Sent Events: iterators over any byte source, and httpx-sse-shaped helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from ._fastsse import ServerSentEvent, SSEDecoder
from ._iter import AsyncDecodingIterator, iter_decoded
from .errors import ProtocolError

__all__ = [
    "EventSource",
    "SSEError",
    "aconnect_sse",
    "aiter_sse",
    "connect_sse",
    "iter_sse",
]


def iter_sse(source: Any, **decoder_options: Any) -> Iterator[ServerSentEvent]:
    """Iterate the events of a byte source (iterable of bytes, file, httpx.Response, ...)."""
    return iter_decoded(source, SSEDecoder(**decoder_options))


def aiter_sse(source: Any, **decoder_options: Any) -> AsyncDecodingIterator[ServerSentEvent]:
    """Async iterator over the events of an async byte source; a resource with `aclose()`."""
    return AsyncDecodingIterator(source, SSEDecoder(**decoder_options))


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
