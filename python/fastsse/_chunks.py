"""Provider streams as unified `GenerationChunk`s, and `collect()` into one result.

`iter_chunks(source, provider)` / `aiter_chunks(...)` run a native `ChunkDecoder` over any byte
source `iter_sse` accepts. When the source is an HTTP response (httpx, httpx2, aiohttp) its
Content-Type is passed on, so a non-streaming `application/json` body yields the same chunks.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import AsyncIterable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ._fastsse import PROVIDERS, ChunkDecoder, Collector, GenerationChunk, GenerationResult, ToolCall
from ._fastsse import provider_capabilities as _native_capabilities
from ._http_status import araise_for_status, raise_for_status
from ._iter import AsyncDecodingIterator, iter_decoded
from ._resource import SyncResource
from ._sources import http_response_of
from .errors import IncompleteStreamError

__all__ = [
    "PROVIDERS",
    "AsyncChunkIterator",
    "ChunkDecoder",
    "ChunkIterator",
    "Collector",
    "GenerationResult",
    "NoEventsMatchedWarning",
    "ProviderCapabilities",
    "ProviderName",
    "ToolCall",
    "acollect",
    "aiter_chunks",
    "collect",
    "iter_chunks",
    "provider_capabilities",
]

FinishReason = Literal["stop", "length", "cancelled", "tool_calls", "content_filter", "error"]
#: The provider names `iter_chunks` knows (`PROVIDERS` at run time); any OpenAI-compatible
#: server (vLLM, SGLang, DeepSeek, Groq, Mistral, OpenRouter) is "openai".
ProviderName = Literal["openai", "openai-responses", "anthropic", "gemini", "ollama", "bedrock", "tgi"]


@dataclass(frozen=True, slots=True)
class ProviderCapabilities:
    """What a provider's responses carry, and how they are framed."""

    name: str
    framing: Literal["sse", "ndjson", "eventstream"]
    streaming: bool
    tools: bool
    reasoning: bool
    usage: bool


def provider_capabilities(provider: str) -> ProviderCapabilities:
    """The capabilities `provider` declares (ValueError for an unknown name)."""
    return ProviderCapabilities(**_native_capabilities(provider))


def _content_type(source: Any) -> str | None:
    headers = getattr(http_response_of(source), "headers", None)
    get = getattr(headers, "get", None)
    if get is None:
        return None
    value = get("content-type")
    return value if isinstance(value, str) else None


def _decoder(source: Any, provider: str, options: dict[str, Any]) -> ChunkDecoder:
    if "content_type" not in options:
        options = {**options, "content_type": _content_type(source)}
    return ChunkDecoder(provider, **options)


class NoEventsMatchedWarning(UserWarning):
    """A stream's bytes held not a single event of the provider it was read as."""


class _Reader:
    """A decoder whose chunks pass through a collector as the reader takes them (natively: the
    collector holds exactly what was read, at no Python cost per chunk), and whose end checks
    that the stream was whole (`strict`) and that some event matched the provider."""

    __slots__ = ("_bytes", "_collector", "_decoder", "_strict", "_through")

    def __init__(self, decoder: ChunkDecoder, collector: Collector, strict: bool) -> None:
        self._decoder = decoder
        self._collector = collector
        self._through = collector.through
        self._strict = strict
        self._bytes = 0

    def decode(self, data: bytes, /) -> Iterator[GenerationChunk]:
        self._bytes += len(data)
        return self._through(self._decoder.decode(data))

    def flush(self) -> Iterator[GenerationChunk]:
        chunks = self._decoder.flush()
        if chunks and chunks[-1].error_code == "incomplete_stream":
            return self._incomplete(chunks)
        return self._through(chunks)

    def _incomplete(self, chunks: list[GenerationChunk]) -> Iterator[GenerationChunk]:
        if self._collector.count == 0 and self._bytes:
            provider = self._decoder.provider
            warnings.warn(
                f"{self._bytes} bytes read as provider {provider!r} held no {provider} event: "
                "is it the right provider name (fastsse.PROVIDERS), or was the stream cut "
                "before its first event?",
                NoEventsMatchedWarning,
                stacklevel=4,
            )
        if not self._strict:
            yield from self._through(chunks)
            return
        yield from self._through(chunks[:-1])
        last = chunks[-1]
        raise IncompleteStreamError(
            last.error_message or "the stream ended before the provider's final event",
            partial=self._collector.snapshot(),
        )


class ChunkIterator(Iterator[GenerationChunk], SyncResource):
    """What `iter_chunks` returns: the chunks, and `snapshot()` of what was read so far.

    Every chunk passes through a native `Collector` as it is handed out, so keeping the result
    costs no Python work per chunk, and `snapshot()` is cheap enough to call after every chunk
    (it records lengths; strings are built when read). `for chunk in it` runs the underlying
    generator directly.
    """

    __slots__ = ("_chunks", "collector")

    def __init__(self, chunks: Generator[GenerationChunk, None, None], collector: Collector) -> None:
        self._chunks = chunks
        #: The native collector that took in every chunk read so far.
        self.collector = collector

    def __iter__(self) -> Iterator[GenerationChunk]:
        return self._chunks

    def __next__(self) -> GenerationChunk:
        return next(self._chunks)

    def snapshot(self) -> GenerationResult:
        """The `GenerationResult` of every chunk read so far (text, reasoning, tool calls with
        their arguments and `parsed_arguments` so far, usage, finish reason)."""
        return self.collector.snapshot()

    def close(self) -> None:
        """Stop reading and close the source (the HTTP response). Idempotent."""
        self._chunks.close()


class AsyncChunkIterator(AsyncDecodingIterator[GenerationChunk]):
    """What `aiter_chunks` returns: an async iterator resource with `snapshot()` (see
    `ChunkIterator`)."""

    def __init__(self, source: Any, decoder: ChunkDecoder, collector: Collector, strict: bool) -> None:
        super().__init__(source, _Reader(decoder, collector, strict))
        self.collector = collector
        self._status_checked = False

    async def __anext__(self) -> GenerationChunk:
        if not self._status_checked:
            self._status_checked = True
            try:
                await araise_for_status(self._source)
            except BaseException:
                await self.aclose()
                raise
        return await super().__anext__()

    def snapshot(self) -> GenerationResult:
        """The `GenerationResult` of every chunk read so far."""
        return self.collector.snapshot()


def iter_chunks(
    source: Any, provider: ProviderName, *, strict: bool = False, **options: Any
) -> ChunkIterator:
    """Unified chunks from a provider's response bytes; `snapshot()` on the returned iterator
    gives the result so far at any point.

    An HTTP response with an error status raises `ProviderHTTPError` (status, headers,
    `retry_after`, the provider's error body). A stream that ends before the provider's final
    event ends with a chunk whose `error_code` is ``"incomplete_stream"``; with `strict=True` it
    raises `IncompleteStreamError` (with `.partial`) instead. A stream in which no event matched
    `provider` warns once (`NoEventsMatchedWarning`).

    `options`: `content_type` (default: the response's header, if `source` is a response),
    `max_event_size`.
    """
    raise_for_status(source)
    collector = Collector()
    reader = _Reader(_decoder(source, provider, options), collector, strict)
    return ChunkIterator(iter_decoded(source, reader), collector)


def aiter_chunks(
    source: Any, provider: ProviderName, *, strict: bool = False, **options: Any
) -> AsyncChunkIterator:
    """The async twin of `iter_chunks`: an async iterator with `aclose()` / `async with` and
    `snapshot()`; an HTTP error status raises on the first `__anext__`."""
    collector = Collector()
    return AsyncChunkIterator(source, _decoder(source, provider, options), collector, strict)


def collect(chunks: Iterable[GenerationChunk]) -> GenerationResult:
    """Assemble a stream of chunks into one `GenerationResult`.

    If the stream raises (a `ProviderError`, a `ProtocolError`, a network error), the
    exception gets a `partial` attribute holding the result of what arrived before it.
    """
    if isinstance(chunks, ChunkIterator) and chunks.collector.count == 0:
        # The iterator collects as it goes: drain it (at C speed) and take its own result.
        collector = chunks.collector
        try:
            deque(chunks, maxlen=0)
        except Exception as error:
            _attach_partial(error, collector)
            raise
        return collector.snapshot()
    collector = Collector()
    try:
        collector.extend(chunks)  # iterated natively: no Python work per chunk
    except Exception as error:
        _attach_partial(error, collector)
        raise
    return collector.snapshot()


async def acollect(chunks: AsyncIterable[GenerationChunk]) -> GenerationResult:
    """The async twin of `collect`; closes `chunks` if it has `aclose()`."""
    # An iterator of aiter_chunks collects as it goes: take its own result.
    own = isinstance(chunks, AsyncChunkIterator) and chunks.collector.count == 0
    collector = chunks.collector if isinstance(chunks, AsyncChunkIterator) and own else Collector()
    add = None if own else collector.add
    try:
        async for chunk in chunks:
            if add is not None:
                add(chunk)
    except Exception as error:
        _attach_partial(error, collector)
        raise
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
    return collector.snapshot()


def _attach_partial(error: Exception, collector: Collector) -> None:
    try:
        error.partial = collector.snapshot()  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - exceptions with __slots__
        pass
