"""The generation worker: one request's trip from the engine's raw text to unified chunks.

It drives a :class:`~fastsse.adapters.GenerationAdapter`, runs the raw text through a
:class:`fastsse.TextParser` (the server's reasoning / tool-call formats and the request's stop
strings), hands the parsed chunks to ``emit`` — which may wait, and while it waits the engine is
not read: that is the backpressure — and records time to first token and the gaps between
tokens.

Stop strings are the worker's job, applied to the raw text by the parser, so the adapter is not
given them: when one matches, the adapter's iterator is closed, which stops the engine. The
iterator is also closed when the task running the worker is cancelled (the client left); that
close is shielded and bounded so it always reaches the engine.

Finish reasons: the engine's ``stop`` / ``length`` / ``cancelled`` / ``error`` pass through the
parser (which turns ``stop`` into ``tool_calls`` when calls were made); a stop string gives
``stop``; an exception from the engine ends the stream with ``error`` and an error message.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from .. import _fastsse
from .._fastsse import GenerationChunk, ToolCallDelta

if TYPE_CHECKING:
    from .._fastsse import FinishReason
    from ..adapters import GenerationAdapter

__all__ = ["Choices", "Generation", "GenerationLike", "GenerationStats", "TextParserLike", "make_parser"]

logger = logging.getLogger("fastsse.server")

Emit = Callable[[list[GenerationChunk]], Awaitable[None]]

# How long closing an adapter may take before the worker gives up on it.
CLOSE_TIMEOUT = 5.0


class TextParserLike(Protocol):
    """What the worker needs of ``fastsse.TextParser``."""

    @property
    def stopped(self) -> bool:
        """True once a stop string matched (later text is ignored)."""

    def decode(self, text: str, /) -> list[GenerationChunk]: ...

    def flush(self, finish_reason: FinishReason = "stop") -> list[GenerationChunk]: ...


def make_parser(
    *,
    stop: Sequence[str],
    reasoning: str | None,
    tools: str | None,
    tool_schemas: Sequence[dict[str, Any]] | None = None,
) -> TextParserLike:
    """The text parser for one request: the server's formats plus the request's stops and the
    request's tool definitions (formats that write untyped values type them by the schema)."""
    parser: TextParserLike = _fastsse.TextParser(
        stop=list(stop),
        reasoning=reasoning,
        tools=tools,
        tool_schemas=list(tool_schemas) if tools and tool_schemas else None,
    )
    return parser


@dataclass
class GenerationStats:
    """What one generation measured. Times are seconds (``time.perf_counter`` differences)."""

    prompt_tokens: int | None = None
    completion_tokens: int = 0
    finish_reason: str | None = None
    # From the start of the request to the first chunk with content handed to the client.
    ttft: float | None = None
    # Gaps between consecutive content emissions after the first (8 bytes per token).
    inter_token: array[float] = field(default_factory=lambda: array("d"))
    # Time in TextParser.decode, per call (one call per engine token).
    parse_times: array[float] = field(default_factory=lambda: array("d"))
    parse_seconds: float = 0.0
    duration: float = 0.0
    error: str | None = None

    @property
    def tokens_per_second(self) -> float | None:
        generating = self.duration - (self.ttft or 0.0)
        return self.completion_tokens / generating if generating > 0 and self.completion_tokens else None


def replace_chunk(chunk: GenerationChunk, **changes: Any) -> GenerationChunk:
    """A copy of ``chunk`` with some fields changed (chunks are frozen); keeps every other field."""
    return chunk.replace(**changes)


def _has_content(chunk: GenerationChunk) -> bool:
    return bool(chunk.text_delta or chunk.reasoning_delta or chunk.refusal_delta or chunk.tool_call_delta)


def _without_reasoning(chunks: list[GenerationChunk]) -> list[GenerationChunk]:
    kept = []
    for chunk in chunks:
        if not chunk.reasoning_delta:
            kept.append(chunk)
        elif chunk.done or chunk.text_delta or chunk.tool_call_delta or chunk.refusal_delta:
            kept.append(replace_chunk(chunk, reasoning_delta=""))
    return kept


def _with_tool_id_prefix(chunks: list[GenerationChunk], prefix: str) -> list[GenerationChunk]:
    """Tool-call ids in the API's style: the parser writes ``call_<id>``, Anthropic clients
    expect ``toolu_<id>``."""
    out = []
    for chunk in chunks:
        call = chunk.tool_call_delta
        if call is not None and call.id and not call.id.startswith(prefix):
            call = ToolCallDelta(
                call.index,
                id=prefix + call.id.removeprefix("call_"),
                function_name=call.function_name,
                arguments_delta=call.arguments_delta,
            )
            chunk = replace_chunk(chunk, tool_call_delta=call)
        out.append(chunk)
    return out


def _logprob_entries(logprobs: Any) -> list[Any]:
    """The token entries of a chunk's logprobs: an array of them, or an object whose
    ``content`` is one (the OpenAI shape)."""
    if logprobs is None:
        return []
    if isinstance(logprobs, dict):
        return list(logprobs.get("content") or [])
    return list(logprobs) if isinstance(logprobs, (list, tuple)) else [logprobs]


class Generation:
    """One request's generation. ``await run(emit)`` drives it to the end and returns the stats.

    ``drop_reasoning`` removes reasoning from the output (an Anthropic request without
    thinking). ``parser`` replaces the default :func:`make_parser` (tests, custom formats).
    """

    def __init__(
        self,
        adapter: GenerationAdapter,
        prompt: str,
        sampling: dict[str, Any],
        *,
        stop: Sequence[str] = (),
        reasoning: str | None = None,
        tools: str | None = None,
        tool_schemas: Sequence[dict[str, Any]] | None = None,
        drop_reasoning: bool = False,
        tool_id_prefix: str | None = None,
        parser: TextParserLike | None = None,
        source: Callable[[], AsyncIterator[GenerationChunk]] | None = None,
    ) -> None:
        self.adapter = adapter
        self.prompt = prompt
        self.sampling = sampling
        self.parser = parser or make_parser(
            stop=stop, reasoning=reasoning, tools=tools, tool_schemas=tool_schemas
        )
        self.drop_reasoning = drop_reasoning
        self.tool_id_prefix = tool_id_prefix
        # Typed chunks from a gateway's upstream: passed on as they are, not parsed as text.
        self.source = source
        self.stats = GenerationStats()

    async def run(self, emit: Emit) -> GenerationStats:
        stats = self.stats
        started = time.perf_counter()
        last_emit = started
        engine_tokens = 0
        engine_prompt_tokens: int | None = None
        engine_completion_tokens: int | None = None
        parser = self.parser
        stream: AsyncIterator[GenerationChunk] = (
            self.source() if self.source is not None else self.adapter.generate(self.prompt, **self.sampling)
        )
        typed = self.source is not None

        async def send(chunks: list[GenerationChunk], now: float | None = None) -> None:
            nonlocal last_emit
            if self.drop_reasoning:
                chunks = _without_reasoning(chunks)
            if self.tool_id_prefix is not None:
                chunks = _with_tool_id_prefix(chunks, self.tool_id_prefix)
            if not chunks:
                return
            if any(_has_content(chunk) for chunk in chunks):
                now = now or time.perf_counter()
                if stats.ttft is None:
                    stats.ttft = now - started
                else:
                    stats.inter_token.append(now - last_emit)
                last_emit = now
            await emit(chunks)

        parse_times = stats.parse_times

        def parse(text: str) -> tuple[list[GenerationChunk], float]:
            t0 = time.perf_counter()
            out = parser.decode(text)
            t1 = time.perf_counter()
            parse_times.append(t1 - t0)
            return out, t1

        def finish(reason: FinishReason) -> list[GenerationChunk]:
            t0 = time.perf_counter()
            out = parser.flush(reason)
            stats.parse_seconds += time.perf_counter() - t0
            return out

        final: list[GenerationChunk] = []
        # The engine's logprobs, held until the parser releases the text they belong to.
        logprobs: list[Any] = []
        try:
            while True:
                try:
                    item = await stream.__anext__()
                except StopAsyncIteration:
                    logger.warning("adapter %s ended without a terminal chunk", type(self.adapter).__name__)
                    final = finish("stop")
                    break
                except Exception as exc:  # the engine failed: end the stream with an error chunk
                    logger.exception("generation failed in %s", type(self.adapter).__name__)
                    stats.error = f"{type(exc).__name__}: {exc}"
                    final = self._error_terminal(finish("error"), "engine_error", stats.error)
                    break
                if typed and not item.done:
                    if _has_content(item):
                        engine_tokens += 1
                        await send([item])
                    elif item.reasoning_signature:  # no content, but needed to send the reasoning back
                        await send([item])
                    continue
                if item.logprobs is not None:
                    logprobs += _logprob_entries(item.logprobs)
                if item.text_delta:
                    engine_tokens += 1
                    out, parsed_at = parse(item.text_delta)
                    if parser.stopped:  # a stop string matched: the engine is stopped below
                        final = out + finish("stop")
                        break
                    if out:
                        if logprobs:
                            out[0] = replace_chunk(out[0], logprobs=logprobs)
                            logprobs = []
                        await send(out, parsed_at)
                if item.done:
                    engine_prompt_tokens = item.prompt_tokens
                    engine_completion_tokens = item.completion_tokens
                    final = finish(item.finish_reason or "stop")
                    if item.finish_reason == "error" or item.error_code or item.error_message:
                        stats.error = item.error_message or item.error_code
                        final = self._error_terminal(final, item.error_code, item.error_message)
                    break
        except BaseException:
            # Cancelled (the client left) or emit failed: the engine must still be stopped.
            stats.finish_reason = "cancelled"
            stats.completion_tokens = engine_tokens
            stats.duration = time.perf_counter() - started
            await self._close(stream)
            raise
        # Close before emitting the end: the engine stops as soon as the answer is known.
        await self._close(stream)
        terminal = final[-1] if final and final[-1].done else None
        if terminal is None:
            terminal = GenerationChunk(done=True, finish_reason="stop")
            final.append(terminal)
        stats.prompt_tokens = engine_prompt_tokens
        if stats.prompt_tokens is None:
            stats.prompt_tokens = self.adapter.count_tokens(self.prompt)
        stats.completion_tokens = (
            engine_completion_tokens if engine_completion_tokens is not None else engine_tokens
        )
        stats.finish_reason = terminal.finish_reason
        final[-1] = replace_chunk(
            terminal, prompt_tokens=stats.prompt_tokens or 0, completion_tokens=stats.completion_tokens
        )
        if logprobs:  # the text they belong to was held until the end
            final[0] = replace_chunk(final[0], logprobs=logprobs)
        await send(final)
        stats.duration = time.perf_counter() - started
        stats.parse_seconds += sum(parse_times)
        return stats

    @staticmethod
    def _error_terminal(
        chunks: list[GenerationChunk], code: str | None, message: str | None
    ) -> list[GenerationChunk]:
        body = [chunk for chunk in chunks if not chunk.done]
        body.append(
            GenerationChunk(
                done=True,
                finish_reason="error",
                error_code=code or "engine_error",
                error_message=message or "the generation engine failed",
            )
        )
        return body

    async def _close(self, stream: AsyncIterator[GenerationChunk]) -> None:
        aclose = getattr(stream, "aclose", None)
        if aclose is None:
            return
        # Shielded: this runs while the request is being cancelled, and must still reach the
        # engine; bounded: a stuck engine must not hold the request forever.
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLOSE_TIMEOUT) as scope:
            try:
                await aclose()
            except Exception:
                logger.exception("closing the generation of %s failed", type(self.adapter).__name__)
        if scope.cancelled_caught:
            logger.error(
                "closing the generation of %s took more than %ss", type(self.adapter).__name__, CLOSE_TIMEOUT
            )


class GenerationLike(Protocol):
    """What serving a response needs of a generation (one :class:`Generation`, or :class:`Choices`)."""

    @property
    def stats(self) -> GenerationStats: ...

    async def run(self, emit: Emit) -> GenerationStats: ...


class Choices:
    """``n`` generations for one request (``n`` > 1), run side by side; their chunks are tagged
    with ``choice_index`` and handed to ``emit`` one batch at a time, interleaved as they come.

    Usage counts every choice: each terminal chunk carries the completion tokens of the choices
    finished so far, so the last one (what the encoders report) carries the total.
    """

    def __init__(self, generations: Sequence[Generation]) -> None:
        self.generations = list(generations)

    async def run(self, emit: Emit) -> GenerationStats:
        lock = anyio.Lock()
        finished_tokens = 0

        async def run_one(index: int, generation: Generation) -> None:
            async def tagged(chunks: list[GenerationChunk]) -> None:
                nonlocal finished_tokens
                out = []
                for chunk in chunks:
                    changes: dict[str, Any] = {"choice_index": index}
                    if chunk.done:
                        finished_tokens += chunk.completion_tokens or 0
                        changes["completion_tokens"] = finished_tokens
                    out.append(replace_chunk(chunk, **changes))
                async with lock:
                    await emit(out)

            await generation.run(tagged)

        async with anyio.create_task_group() as group:
            for index, generation in enumerate(self.generations):
                group.start_soon(run_one, index, generation)
        return self.stats

    @property
    def stats(self) -> GenerationStats:
        """The choices' stats as one request's: tokens summed, the first token of any choice."""
        parts = [generation.stats for generation in self.generations]
        merged = GenerationStats(
            prompt_tokens=parts[0].prompt_tokens,
            completion_tokens=sum(part.completion_tokens for part in parts),
            finish_reason=next((p.finish_reason for p in parts if p.finish_reason == "error"), None)
            or parts[0].finish_reason,
            ttft=min((p.ttft for p in parts if p.ttft is not None), default=None),
            parse_seconds=sum(part.parse_seconds for part in parts),
            duration=max(part.duration for part in parts),
            error=next((part.error for part in parts if part.error), None),
        )
        for part in parts:
            merged.inter_token.extend(part.inter_token)
            merged.parse_times.extend(part.parse_times)
        return merged
