"""`collect` / `acollect`: chunks -> one `GenerationResult`, linear, keeping what arrived when
the stream fails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import fastsse
import pytest
from fastsse import GenerationChunk, GenerationResult, ToolCall, ToolCallDelta


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def call(index: int, *, id: str | None = None, name: str | None = None, args: str = "") -> GenerationChunk:
    return GenerationChunk(
        tool_call_delta=ToolCallDelta(index, id=id, function_name=name, arguments_delta=args)
    )


STREAM = [
    GenerationChunk(reasoning_delta="Think", is_first=True),
    GenerationChunk(reasoning_delta="ing."),
    GenerationChunk("Hel"),
    GenerationChunk("lo"),
    call(0, id="call_a", name="f", args=""),
    call(1, id="call_b", name="g", args='{"x":'),
    call(0, args='{"a": 1'),
    call(1, args="2}"),
    call(0, args="}"),
    GenerationChunk(refusal_delta="no"),
    GenerationChunk(done=True, finish_reason="tool_calls", prompt_tokens=7, completion_tokens=9),
]


def test_collect_concatenates_in_order() -> None:
    result = fastsse.collect(STREAM)
    assert result == GenerationResult(
        text="Hello",
        reasoning="Thinking.",
        tool_calls=[
            ToolCall(id="call_a", name="f", arguments='{"a": 1}', index=0),
            ToolCall(id="call_b", name="g", arguments='{"x":2}', index=1),
        ],
        finish_reason="tool_calls",
        prompt_tokens=7,
        completion_tokens=9,
        refusal="no",
        choices=result.choices,
    )
    assert result.choices == (result.replace(choices=()),)


def test_arguments_are_passed_through_not_parsed() -> None:
    result = fastsse.collect(
        [call(0, id="c", name="f", args="{not json"), GenerationChunk(done=True, finish_reason="stop")]
    )
    assert result.tool_calls[0].arguments == "{not json"


def test_choices_are_kept_apart() -> None:
    chunks = [
        GenerationChunk("a", choice_index=0),
        GenerationChunk("b", choice_index=1),
        GenerationChunk("c", choice_index=0),
        GenerationChunk(done=True, finish_reason="stop", choice_index=0, prompt_tokens=1),
        GenerationChunk(done=True, finish_reason="length", choice_index=1, prompt_tokens=1),
    ]
    result = fastsse.collect(chunks)
    assert (result.text, result.finish_reason) == ("ac", "stop")
    assert [(c.choice_index, c.text, c.finish_reason) for c in result.choices] == [
        (0, "ac", "stop"),
        (1, "b", "length"),
    ]


def test_terminal_error_fields_and_stop_sequence() -> None:
    result = fastsse.collect(
        [
            GenerationChunk(
                done=True,
                finish_reason="error",
                error_code="incomplete_stream",
                error_message="cut",
                stop_sequence=None,
            )
        ]
    )
    assert (result.finish_reason, result.error_code, result.error_message) == (
        "error",
        "incomplete_stream",
        "cut",
    )
    stopped = fastsse.collect([GenerationChunk(done=True, finish_reason="stop", stop_sequence="END")])
    assert stopped.stop_sequence == "END"


def test_empty_stream() -> None:
    result = fastsse.collect([])
    assert result.text == "" and result.finish_reason is None
    assert len(result.choices) == 1


def test_result_is_frozen() -> None:
    result = fastsse.collect(STREAM)
    with pytest.raises(AttributeError):
        result.text = "x"  # type: ignore[misc]


def failing(error: Exception) -> Iterator[GenerationChunk]:
    yield GenerationChunk("partial ")
    yield GenerationChunk("text")
    raise error


def test_provider_error_keeps_the_partial_result() -> None:
    error = fastsse.ProviderError("provider error x: boom", code="x", provider_message="boom", raw="{}")
    with pytest.raises(fastsse.ProviderError) as info:
        fastsse.collect(failing(error))
    assert info.value is error
    assert info.value.partial.text == "partial text"
    assert info.value.partial.finish_reason is None


def test_any_exception_keeps_the_partial_result() -> None:
    with pytest.raises(ConnectionError) as info:
        fastsse.collect(failing(ConnectionError("reset")))
    assert info.value.partial.text == "partial text"  # type: ignore[attr-defined]


class Chunks:
    """An async iterator resource that records being closed."""

    def __init__(self, chunks: list[GenerationChunk], error: Exception | None = None) -> None:
        self._chunks = iter(chunks)
        self._error = error
        self.closed = False

    def __aiter__(self) -> AsyncIterator[GenerationChunk]:
        return self

    async def __anext__(self) -> GenerationChunk:
        try:
            return next(self._chunks)
        except StopIteration:
            if self._error is not None:
                raise self._error from None
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_acollect_matches_collect_and_closes() -> None:
    source = Chunks(list(STREAM))
    assert await fastsse.acollect(source) == fastsse.collect(STREAM)
    assert source.closed


@pytest.mark.anyio
async def test_acollect_keeps_the_partial_result() -> None:
    source = Chunks([GenerationChunk("so far")], fastsse.ProtocolError("bad bytes", offset=3))
    with pytest.raises(fastsse.ProtocolError) as info:
        await fastsse.acollect(source)
    assert info.value.partial.text == "so far"
    assert source.closed


@pytest.mark.anyio
async def test_acollect_over_aiter_chunks() -> None:
    data = (
        b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
        b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],'
        b'"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n'
        b"data: [DONE]\n\n"
    )

    async def source() -> AsyncIterator[bytes]:
        for i in range(len(data)):
            yield data[i : i + 1]

    async with fastsse.aiter_chunks(source(), "openai") as chunks:
        result = await fastsse.acollect(chunks)
    assert (result.text, result.finish_reason, result.prompt_tokens) == ("Hi", "stop", 1)


def test_collect_of_a_fresh_chunk_iterator_uses_its_own_collector() -> None:
    data = (Path(__file__).parent / "data" / "anthropic" / "thinking-tool-use.sse").read_bytes()
    stream = fastsse.iter_chunks(data, "anthropic")
    assert fastsse.collect(stream) == fastsse.collect(list(fastsse.iter_chunks(data, "anthropic")))
    assert stream.snapshot() == fastsse.collect(list(fastsse.iter_chunks(data, "anthropic")))
    started = fastsse.iter_chunks(data, "anthropic")
    first = next(started)
    assert fastsse.collect(started) == fastsse.collect(list(fastsse.iter_chunks(data, "anthropic"))[1:])
    assert first.is_first
