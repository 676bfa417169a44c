"""Send the request over httpx / httpx2 (sync and async) or aiohttp, and iterate its chunks.

The HTTP libraries are optional: each is imported only when a client is made without one
being passed in. ``ChunkStream`` / ``AsyncChunkStream`` own the response: closing them (or
leaving ``with`` / ``async with``, finishing, failing, being cancelled) closes it.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from types import ModuleType
from typing import Any, cast

import anyio
import anyio.abc

from .._chunks import ProviderName, aiter_chunks, iter_chunks
from .._fastsse import Collector, GenerationChunk, GenerationResult
from .._http_status import status_error
from .._resource import Closing, OwningAsyncIterator, SyncResource
from ..errors import ProviderHTTPError, UsageError
from ._providers import build_request, provider_spec
from ._request import ChatRequest, HTTPRequest
from ._resume import AsyncResumingSource, resume_headers, resuming_source, stream_url
from ._retry import Retry, asend_retrying, send_retrying

__all__ = ["AsyncChunkStream", "AsyncClient", "ChunkStream", "Client", "astream", "stream"]

# Read timeout = the longest silence allowed between two network reads (a model may think
# for minutes before its first token); connect is short so a dead host fails fast.
DEFAULT_TIMEOUT = 600.0
DEFAULT_CONNECT_TIMEOUT = 10.0
# How much of an error response's body is read into ProviderHTTPError.raw.
ERROR_BODY_LIMIT = 64 * 1024

Signer = Callable[[HTTPRequest], HTTPRequest]


class _Unset:
    def __repr__(self) -> str:
        return "<default>"


UNSET: Any = _Unset()


def _library(obj: object) -> str:
    """The HTTP library an object (client or response) comes from, also for subclasses."""
    for cls in type(obj).__mro__:
        root = cls.__module__.partition(".")[0]
        if root in ("httpx", "httpx2", "aiohttp"):
            return root
    return ""


def _http_module(client: object | None, names: tuple[str, ...] = ("httpx", "httpx2")) -> ModuleType:
    """The module of ``client`` (httpx or httpx2), or the first of them that imports."""
    if client is not None:
        library = _library(client)
        if library not in ("httpx", "httpx2"):
            raise TypeError(
                f"http_client must be an httpx/httpx2 client (or, async, an aiohttp.ClientSession), "
                f"got {type(client).__name__}"
            )
        return sys.modules[library]
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(
        "fastsse.client needs an HTTP library: pip install 'fastsse[httpx]' (httpx2 works too), "
        "or pass http_client="
    )


def _is_aiohttp(obj: object) -> bool:
    return _library(obj) == "aiohttp"


def _timeout_for(module: ModuleType, timeout: Any) -> Any:
    """``timeout`` as ``module.Timeout``: a number, None (no limit), or any Timeout-like object."""
    if timeout is UNSET:
        return module.Timeout(DEFAULT_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)
    if timeout is None or isinstance(timeout, (int, float)):
        return module.Timeout(timeout)
    return module.Timeout(connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool)


def _aiohttp_timeout(timeout: Any) -> Any:
    import aiohttp

    if timeout is UNSET:
        return aiohttp.ClientTimeout(total=None, connect=DEFAULT_CONNECT_TIMEOUT, sock_read=DEFAULT_TIMEOUT)
    if timeout is None or isinstance(timeout, (int, float)):
        return aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
    return aiohttp.ClientTimeout(total=None, connect=timeout.connect, sock_read=timeout.read)


def _status_error(status: int, headers: Mapping[str, str], body: bytes, url: str) -> ProviderHTTPError:
    return status_error(status, headers, body, url)


def _merge(request: ChatRequest | None, fields: dict[str, Any]) -> ChatRequest:
    if request is None:
        return ChatRequest(**fields)
    return dataclasses.replace(request, **fields) if fields else request


class _Settings:
    """What every request of one client shares: provider, endpoint, credentials, timeout."""

    def __init__(
        self,
        provider: str,
        base_url: str | None,
        api_key: str | None,
        headers: Mapping[str, str] | None,
        region: str | None,
        signer: Signer | None,
    ) -> None:
        provider_spec(provider)  # fail early on an unknown name
        self.provider = provider
        self.base_url = base_url
        self.api_key = api_key
        self.headers = dict(headers or {})
        self.region = region
        self.signer = signer

    def build(self, request: ChatRequest) -> HTTPRequest:
        built = build_request(
            self.provider,
            request,
            base_url=self.base_url,
            api_key=self.api_key,
            headers=self.headers,
            region=self.region,
        )
        return self.signer(built) if self.signer is not None else built


# --- sync --------------------------------------------------------------------------------------


class ChunkStream(Iterator[GenerationChunk], SyncResource):
    """The chunks of one streaming response. Sends the request on ``open()``, ``with`` or the
    first ``next()``; raises ``ProviderHTTPError`` for an HTTP error status.

    ``response`` is the open HTTP response (its status and headers, or its raw bytes for
    ``fastsse.iter_sse``). ``close()`` closes it; so do exhaustion, an error and ``with``.
    """

    def __init__(
        self,
        provider: str,
        send: Callable[[], Any],
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.provider = provider
        self._send = send
        self._on_close = on_close
        self._response: Any = None
        self._chunks: Iterator[GenerationChunk] | None = None
        self._collector = Collector()  # replaced by the decoder's own on the first chunk
        self._closed = False
        # Reconnects a resumable stream (fastsse server) that drops: (url, last id) -> response.
        self._reopen: Callable[[str, str], Any] | None = None

    @property
    def response(self) -> Any:
        return self.open()._response

    def open(self) -> ChunkStream:
        if self._closed:
            raise UsageError("the stream is closed")
        if self._response is None:
            try:
                response = self._response = self._send()
                if response.status_code >= 400:
                    body = bytearray()
                    for piece in response.iter_bytes():
                        body += piece
                        if len(body) >= ERROR_BODY_LIMIT:
                            break
                    raise _status_error(
                        response.status_code,
                        response.headers,
                        bytes(body[:ERROR_BODY_LIMIT]),
                        str(response.url),
                    )
            except BaseException:
                self.close()
                raise
        return self

    def __iter__(self) -> ChunkStream:
        return self

    def snapshot(self) -> GenerationResult:
        """The `GenerationResult` of every chunk read so far (see `fastsse.ChunkIterator`)."""
        return self._collector.snapshot()

    def __next__(self) -> GenerationChunk:
        if self._closed:
            raise StopIteration
        try:
            if self._chunks is None:
                self.open()
                source = self._response
                if self._reopen is not None and stream_url(source) is not None:
                    source = resuming_source(source, self._reopen)
                chunks = iter_chunks(source, provider=cast(ProviderName, self.provider))
                self._collector = chunks.collector
                self._chunks = iter(chunks)
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the chunk iterator and the HTTP response. Idempotent."""
        if self._closed:
            return
        self._closed = True
        chunks, response, on_close = self._chunks, self._response, self._on_close
        try:
            if chunks is not None and hasattr(chunks, "close"):
                chunks.close()
            if response is not None:
                response.close()
        finally:
            if on_close is not None:
                on_close()

    def __enter__(self) -> ChunkStream:
        return self.open()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            try:
                self.close()
            except Exception:  # pragma: no cover - best effort at garbage collection
                pass


class _ClientBase:
    """What the sync and async clients share: settings, timeout and the HTTP client they own."""

    _HTTP_CLIENT_CLASS = ""  # the name of the class a client makes when it is given none

    def __init__(
        self,
        provider: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = UNSET,
        http_client: Any = None,
        region: str | None = None,
        signer: Signer | None = None,
        retry: Retry | None = None,
    ) -> None:
        self._settings = _Settings(provider, base_url, api_key, headers, region, signer)
        self._retry = retry
        self._timeout = timeout
        self._http = http_client
        self._owns_http = http_client is None

    @property
    def provider(self) -> str:
        return self._settings.provider

    def build_request(self, request: ChatRequest | None = None, /, **fields: Any) -> HTTPRequest:
        """The request ``stream()`` would send (signed, if there is a signer)."""
        return self._settings.build(_merge(request, fields))

    def _http_client(self) -> Any:
        if self._http is None:
            self._http = getattr(_http_module(None), self._HTTP_CLIENT_CLASS)()
        return self._http


class Client(_ClientBase, SyncResource):
    """Streams chat requests to one provider over a sync ``httpx.Client`` (or ``httpx2.Client``).

    ``http_client`` is used as given (and never closed here); without one, the client makes
    its own on first use (httpx, else httpx2) and closes it in ``close()``. ``timeout``: seconds
    for every phase, None for none, or an ``httpx.Timeout``; by default 10 s to connect and
    600 s for each read (the gap between two network reads). ``signer`` may rewrite each
    request before it is sent (``fastsse.client.sigv4_signer`` for Bedrock). ``retry``
    (``fastsse.client.Retry``; off by default) sends the request again when the provider answers
    429 or a 5xx, honouring ``retry-after``, with bounded backoff.
    """

    _HTTP_CLIENT_CLASS = "Client"

    def stream(self, request: ChatRequest | None = None, /, **fields: Any) -> ChunkStream:
        """A ``ChunkStream`` for ``request`` (or a ``ChatRequest`` made of ``fields``)."""
        built = self.build_request(request, **fields)

        def send_once() -> Any:
            http = self._http_client()
            module = _http_module(http)
            options: dict[str, Any] = {"content": built.content(), "headers": built.headers}
            if self._timeout is not UNSET or self._owns_http:
                options["timeout"] = _timeout_for(module, self._timeout)
            return http.send(http.build_request(built.method, built.url, **options), stream=True)

        def send() -> Any:
            return send_retrying(self._retry, send_once, time.sleep)

        def reopen(url: str, last_event_id: str) -> Any:
            http = self._http_client()
            options: dict[str, Any] = {"headers": resume_headers(built.headers, last_event_id)}
            if self._timeout is not UNSET or self._owns_http:
                options["timeout"] = _timeout_for(_http_module(http), self._timeout)
            response = http.send(http.build_request("GET", url, **options), stream=True)
            if response.status_code >= 400:
                body = response.read()[:ERROR_BODY_LIMIT]
                response.close()
                raise _status_error(response.status_code, response.headers, body, url)
            return response

        chunks = ChunkStream(self.provider, send)
        chunks._reopen = reopen
        return chunks

    def close(self) -> None:
        if self._owns_http and self._http is not None:
            self._http.close()
        self._http = None


def stream(provider: str, request: ChatRequest | None = None, /, **options: Any) -> ChunkStream:
    """One request with a one-off ``Client``: ``options`` are ``Client``'s keywords plus the
    ``ChatRequest`` fields. It makes an HTTP client (a new connection) per call and closes it with
    the stream: for more than one request, keep a ``Client``."""
    client_options = {k: options.pop(k) for k in _CLIENT_OPTIONS if k in options}
    client = Client(provider, **client_options)
    chunks = client.stream(request, **options)
    chunks._on_close = client.close
    return chunks


_CLIENT_OPTIONS = ("base_url", "api_key", "headers", "timeout", "http_client", "region", "signer", "retry")


# --- async -------------------------------------------------------------------------------------


class AsyncChunkStream(OwningAsyncIterator[GenerationChunk]):
    """The async twin of ``ChunkStream``: an ``OwningAsyncIterator`` (``aclose()``, ``async with``),
    never an async generator. Closing it (or a cancelled ``__anext__``) closes the chunk iterator,
    then the HTTP response, then runs ``on_close``, shielded and bounded."""

    def __init__(
        self,
        provider: str,
        send: Callable[[], Awaitable[Any]],
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.provider = provider
        self._send = send
        self._on_close = on_close
        self._response: Any = None
        self._chunks: Any = None
        self._collector = Collector()  # replaced by the decoder's own on the first chunk
        self._reopen: Callable[[str, str], Awaitable[Any]] | None = None

    @property
    def response(self) -> Any:
        """The open HTTP response (after ``await open()``, ``async with`` or the first chunk)."""
        if self._response is None:
            raise UsageError("the request is sent by `await stream.open()`, `async with` or iteration")
        return self._response

    async def open(self) -> AsyncChunkStream:
        if self._closed:
            raise UsageError("the stream is closed")
        if self._response is None:
            try:
                response = self._response = await self._send()
                status: int = response.status if _is_aiohttp(response) else response.status_code
                if status >= 400:
                    raise _status_error(
                        status, response.headers, await _read_error_body(response), str(response.url)
                    )
            except BaseException:
                await self.aclose()
                raise
        return self

    def snapshot(self) -> GenerationResult:
        """The `GenerationResult` of every chunk read so far (see `fastsse.ChunkIterator`)."""
        return self._collector.snapshot()

    async def _next(self) -> GenerationChunk:
        if self._chunks is None:
            await self.open()
            source = self._response
            if self._reopen is not None and stream_url(source) is not None:
                source = AsyncResumingSource(source, self._reopen)
            self._chunks = aiter_chunks(source, provider=cast(ProviderName, self.provider))
            self._collector = self._chunks.collector
        chunk: GenerationChunk = await self._chunks.__anext__()
        return chunk

    def _owned(self) -> tuple[object, ...]:
        response, on_close = self._response, self._on_close
        return (
            self._chunks,
            None if response is None else Closing(lambda: _close_response(response)),
            None if on_close is None else Closing(on_close),
        )

    async def __aenter__(self) -> AsyncChunkStream:
        return await self.open()


async def _read_error_body(response: Any) -> bytes:
    if _is_aiohttp(response):
        data: bytes = await response.content.read(ERROR_BODY_LIMIT)
        return data
    body = bytearray()
    async for piece in response.aiter_bytes():
        body += piece
        if len(body) >= ERROR_BODY_LIMIT:
            break
    return bytes(body[:ERROR_BODY_LIMIT])


async def _close_response(response: Any) -> None:
    if _is_aiohttp(response):
        response.close()  # drop the connection: the rest of the stream is unread
    else:
        await response.aclose()


class AsyncClient(_ClientBase, anyio.abc.AsyncResource):
    """Streams chat requests to one provider over an ``httpx.AsyncClient`` /
    ``httpx2.AsyncClient`` or an ``aiohttp.ClientSession`` (same options as ``Client``)."""

    _HTTP_CLIENT_CLASS = "AsyncClient"

    def stream(self, request: ChatRequest | None = None, /, **fields: Any) -> AsyncChunkStream:
        """An ``AsyncChunkStream`` for ``request``; the request goes out on first use."""
        built = self.build_request(request, **fields)

        async def send() -> Any:
            return await asend_retrying(self._retry, send_once, _close_response, anyio.sleep)

        async def send_once() -> Any:
            http = self._http_client()
            if _is_aiohttp(http):
                options: dict[str, Any] = {"data": built.content(), "headers": built.headers}
                if self._timeout is not UNSET:
                    options["timeout"] = _aiohttp_timeout(self._timeout)
                return await http.request(built.method, built.url, **options)
            module = _http_module(http)
            options = {"content": built.content(), "headers": built.headers}
            if self._timeout is not UNSET or self._owns_http:
                options["timeout"] = _timeout_for(module, self._timeout)
            return await http.send(http.build_request(built.method, built.url, **options), stream=True)

        async def reopen(url: str, last_event_id: str) -> Any:
            http = self._http_client()
            headers = resume_headers(built.headers, last_event_id)
            if _is_aiohttp(http):
                response = await http.request("GET", url, headers=headers)
                status: int = response.status
            else:
                options: dict[str, Any] = {"headers": headers}
                if self._timeout is not UNSET or self._owns_http:
                    options["timeout"] = _timeout_for(_http_module(http), self._timeout)
                response = await http.send(http.build_request("GET", url, **options), stream=True)
                status = response.status_code
            if status >= 400:
                body = await _read_error_body(response)
                await _close_response(response)
                raise _status_error(status, response.headers, body, url)
            return response

        chunks = AsyncChunkStream(self.provider, send)
        chunks._reopen = reopen
        return chunks

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if self._owns_http and http is not None:
            await http.aclose()


def astream(provider: str, request: ChatRequest | None = None, /, **options: Any) -> AsyncChunkStream:
    """The async twin of ``stream``: a one-off ``AsyncClient`` (a new HTTP client and connection
    per call), closed with the stream; for more than one request, keep an ``AsyncClient``."""
    client_options = {k: options.pop(k) for k in _CLIENT_OPTIONS if k in options}
    client = AsyncClient(provider, **client_options)
    chunks = client.stream(request, **options)
    chunks._on_close = client.aclose
    return chunks
