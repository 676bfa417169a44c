"""Provider streams as unified `GenerationChunk`s, and `collect()` into one result.

`iter_chunks(source, provider)` / `aiter_chunks(...)` run a native `ChunkDecoder` over any byte
source `iter_sse` accepts. When the source is an HTTP response (httpx, httpx2, aiohttp) its
Content-Type is passed on, so a non-streaming `application/json` body yields the same chunks.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ._fastsse import PROVIDERS, ChunkDecoder, GenerationChunk
from ._fastsse import provider_capabilities as _native_capabilities
from ._iter import AsyncDecodingIterator, iter_decoded
from ._sources import http_response_of

__all__ = [
    "PROVIDERS",
    "ChunkDecoder",
    "GenerationResult",
    "ProviderCapabilities",
    "ToolCall",
    "acollect",
    "aiter_chunks",
    "collect",
    "iter_chunks",
    "provider_capabilities",
]

FinishReason = Literal["stop", "length", "cancelled", "tool_calls", "content_filter", "error"]


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


def iter_chunks(source: Any, provider: str, **options: Any) -> Iterator[GenerationChunk]:
    """Unified chunks from a provider's response bytes.

    `options`: `content_type` (default: the response's header, if `source` is a response),
    `max_event_size`.
    """
    return iter_decoded(source, _decoder(source, provider, options))


def aiter_chunks(source: Any, provider: str, **options: Any) -> AsyncDecodingIterator[GenerationChunk]:
    """The async twin of `iter_chunks`: an async iterator with `aclose()` / `async with`."""
    return AsyncDecodingIterator(source, _decoder(source, provider, options))


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One complete tool call: `arguments` is the model's JSON text, as sent."""

    id: str | None
    name: str | None
    arguments: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """A whole generation, assembled from its chunks.

    The top-level fields describe choice 0; `choices` holds one result per choice (so
    `choices[0]` has the same fields) when the request asked for several.
    """

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: FinishReason | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    refusal: str = ""
    stop_sequence: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    #: The signature closing the reasoning (Anthropic thinking), needed to send it back.
    reasoning_signature: str | None = None
    choice_index: int = 0
    choices: tuple[GenerationResult, ...] = field(default=(), repr=False)


class _ToolParts:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.arguments: list[str] = []


class _ChoiceParts:
    """Pieces of one choice, joined once at the end (linear in the stream's size)."""

    __slots__ = (
        "chunk",
        "error",
        "reasoning",
        "refusal",
        "signature",
        "stop_sequence",
        "text",
        "tokens",
        "tools",
    )

    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.refusal: list[str] = []
        self.tools: dict[int, _ToolParts] = {}
        self.chunk: GenerationChunk | None = None  # the terminal chunk
        self.tokens: tuple[int | None, int | None] = (None, None)
        self.stop_sequence: str | None = None
        self.error: tuple[str | None, str | None] = (None, None)
        self.signature: str | None = None

    def result(self, choice_index: int) -> GenerationResult:
        terminal = self.chunk
        return GenerationResult(
            text="".join(self.text),
            reasoning="".join(self.reasoning),
            tool_calls=[
                ToolCall(id=tool.id, name=tool.name, arguments="".join(tool.arguments), index=index)
                for index, tool in sorted(self.tools.items())
            ],
            finish_reason=terminal.finish_reason if terminal is not None else None,
            prompt_tokens=self.tokens[0],
            completion_tokens=self.tokens[1],
            refusal="".join(self.refusal),
            stop_sequence=self.stop_sequence,
            error_code=self.error[0],
            error_message=self.error[1],
            reasoning_signature=self.signature,
            choice_index=choice_index,
        )


class _Collector:
    def __init__(self) -> None:
        self._choices: dict[int, _ChoiceParts] = {}

    def add(self, chunk: GenerationChunk) -> None:
        index = chunk.choice_index
        parts = self._choices.get(index)
        if parts is None:
            parts = self._choices[index] = _ChoiceParts()
        if chunk.text_delta:
            parts.text.append(chunk.text_delta)
        if chunk.reasoning_delta:
            parts.reasoning.append(chunk.reasoning_delta)
        if chunk.refusal_delta:
            parts.refusal.append(chunk.refusal_delta)
        if chunk.reasoning_signature is not None:
            parts.signature = chunk.reasoning_signature
        delta = chunk.tool_call_delta
        if delta is not None:
            tool = parts.tools.get(delta.index)
            if tool is None:
                tool = parts.tools[delta.index] = _ToolParts()
            if delta.id is not None and tool.id is None:
                tool.id = delta.id
            if delta.function_name is not None and tool.name is None:
                tool.name = delta.function_name
            if delta.arguments_delta:
                tool.arguments.append(delta.arguments_delta)
        if chunk.prompt_tokens is not None or chunk.completion_tokens is not None:
            prompt, completion = parts.tokens
            parts.tokens = (
                chunk.prompt_tokens if chunk.prompt_tokens is not None else prompt,
                chunk.completion_tokens if chunk.completion_tokens is not None else completion,
            )
        if chunk.stop_sequence is not None:
            parts.stop_sequence = chunk.stop_sequence
        if chunk.error_code is not None or chunk.error_message is not None:
            parts.error = (chunk.error_code, chunk.error_message)
        if chunk.done:
            parts.chunk = chunk

    def result(self) -> GenerationResult:
        if not self._choices:
            return GenerationResult(choices=(GenerationResult(),))
        results = tuple(parts.result(index) for index, parts in sorted(self._choices.items()))
        first = next((r for r in results if r.choice_index == 0), results[0])
        return replace(first, choices=results)


def collect(chunks: Iterable[GenerationChunk]) -> GenerationResult:
    """Assemble a stream of chunks into one `GenerationResult`.

    If the stream raises (a `ProviderError`, a `ProtocolError`, a network error), the
    exception gets a `partial` attribute holding the result of what arrived before it.
    """
    collector = _Collector()
    try:
        for chunk in chunks:
            collector.add(chunk)
    except Exception as error:
        _attach_partial(error, collector)
        raise
    return collector.result()


async def acollect(chunks: AsyncIterable[GenerationChunk]) -> GenerationResult:
    """The async twin of `collect`; closes `chunks` if it has `aclose()`."""
    collector = _Collector()
    try:
        async for chunk in chunks:
            collector.add(chunk)
    except Exception as error:
        _attach_partial(error, collector)
        raise
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
    return collector.result()


def _attach_partial(error: Exception, collector: _Collector) -> None:
    try:
        error.partial = collector.result()  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - exceptions with __slots__
        pass
