"""The generation worker: terminal chunk and usage, finish reasons, errors, stops, cancellation.

Most tests use a pass-through parser (raw text in, text chunks out) so that they check the
worker alone; the stop-string tests use the real ``fastsse.TextParser``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from fastsse import GenerationAdapter, GenerationChunk
from fastsse.adapters import ReplayAdapter
from fastsse.server import Generation


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class PassThrough:
    """The smallest parser: no markers, no stops."""

    stopped = False

    def decode(self, text: str) -> list[GenerationChunk]:
        return [GenerationChunk(text)]

    def flush(self, finish_reason: str = "stop") -> list[GenerationChunk]:
        return [GenerationChunk(done=True, finish_reason=finish_reason)]  # type: ignore[arg-type]


class Scripted(GenerationAdapter):
    """Yields the given chunks, then raises ``fail`` if set; records whether it was closed."""

    def __init__(self, chunks: list[GenerationChunk], fail: Exception | None = None) -> None:
        self.chunks = chunks
        self.fail = fail
        self.closed = False

    async def generate(self, prompt: str, **options: object) -> AsyncIterator[GenerationChunk]:  # type: ignore[override]
        try:
            for chunk in self.chunks:
                await anyio.sleep(0)
                yield chunk
            if self.fail is not None:
                raise self.fail
        finally:
            self.closed = True


async def run(generation: Generation) -> list[GenerationChunk]:
    out: list[GenerationChunk] = []

    async def emit(chunks: list[GenerationChunk]) -> None:
        out.extend(chunks)

    await generation.run(emit)
    return out


@pytest.mark.anyio
async def test_terminal_chunk_carries_the_engine_usage_and_stats_are_recorded() -> None:
    adapter = Scripted(
        [
            GenerationChunk("a"),
            GenerationChunk("b"),
            GenerationChunk(done=True, finish_reason="length", prompt_tokens=7, completion_tokens=2),
        ]
    )
    generation = Generation(adapter, "p", {"max_new_tokens": 2}, parser=PassThrough())
    out = await run(generation)
    assert [c.text_delta for c in out] == ["a", "b", ""]
    assert out[-1] == GenerationChunk(done=True, finish_reason="length", prompt_tokens=7, completion_tokens=2)
    stats = generation.stats
    assert (stats.prompt_tokens, stats.completion_tokens, stats.finish_reason) == (7, 2, "length")
    assert stats.ttft is not None and len(stats.inter_token) == 1 and len(stats.parse_times) == 2
    assert adapter.closed


@pytest.mark.anyio
async def test_usage_falls_back_to_counting_when_the_engine_gives_none() -> None:
    adapter = ReplayAdapter(tokens_per_second=None, script=["x y z"])
    out = await run(Generation(adapter, "one two", {"max_new_tokens": 50}, parser=PassThrough()))
    assert out[-1].prompt_tokens == 2 and out[-1].completion_tokens == 3
    missing = Scripted([GenerationChunk("a"), GenerationChunk(done=True, finish_reason="stop")])
    out = await run(Generation(missing, "p", {"max_new_tokens": 5}, parser=PassThrough()))
    assert out[-1].prompt_tokens == 0 and out[-1].completion_tokens == 1


@pytest.mark.anyio
async def test_engine_exception_ends_with_an_error_chunk() -> None:
    adapter = Scripted([GenerationChunk("partial")], fail=RuntimeError("GPU fell off"))
    generation = Generation(adapter, "p", {"max_new_tokens": 5}, parser=PassThrough())
    out = await run(generation)
    assert out[0].text_delta == "partial"
    terminal = out[-1]
    assert terminal.done and terminal.finish_reason == "error" and terminal.error_code == "engine_error"
    assert "GPU fell off" in (terminal.error_message or "")
    assert generation.stats.finish_reason == "error" and "GPU fell off" in (generation.stats.error or "")


@pytest.mark.anyio
async def test_engine_reported_error_and_cancel_pass_through() -> None:
    failed = Scripted([GenerationChunk(done=True, finish_reason="error", error_message="out of memory")])
    out = await run(Generation(failed, "p", {"max_new_tokens": 5}, parser=PassThrough()))
    assert out[-1].finish_reason == "error" and out[-1].error_message == "out of memory"
    aborted = Scripted([GenerationChunk("a"), GenerationChunk(done=True, finish_reason="cancelled")])
    out = await run(Generation(aborted, "p", {"max_new_tokens": 5}, parser=PassThrough()))
    assert out[-1].finish_reason == "cancelled"


@pytest.mark.anyio
async def test_an_engine_without_a_terminal_chunk_still_ends_the_stream() -> None:
    out = await run(
        Generation(Scripted([GenerationChunk("a")]), "p", {"max_new_tokens": 5}, parser=PassThrough())
    )
    assert out[-1].done and out[-1].finish_reason == "stop"


@pytest.mark.anyio
async def test_cancelling_the_worker_closes_the_engine() -> None:
    adapter = ReplayAdapter(tokens_per_second=200, script=["tok " * 1000])
    generation = Generation(adapter, "p", {"max_new_tokens": 5000}, parser=PassThrough())
    seen: list[GenerationChunk] = []

    async def emit(chunks: list[GenerationChunk]) -> None:
        seen.extend(chunks)

    with anyio.move_on_after(0.1):
        await generation.run(emit)
    record = adapter.records[-1]
    assert record.outcome == "closed" and 0 < record.tokens_emitted < 1000
    assert generation.stats.finish_reason == "cancelled" and not any(c.done for c in seen)


@pytest.mark.anyio
async def test_slow_emit_pauses_the_engine() -> None:
    adapter = ReplayAdapter(tokens_per_second=None, script=["tok " * 1000])
    generation = Generation(adapter, "p", {"max_new_tokens": 5000}, parser=PassThrough())
    emitted = 0

    async def emit(chunks: list[GenerationChunk]) -> None:
        nonlocal emitted
        emitted += 1
        await anyio.sleep(0.01)

    with anyio.move_on_after(0.2):
        await generation.run(emit)
    # The engine is read only as fast as emit returns: at most one token ahead.
    assert adapter.records[-1].tokens_emitted <= emitted + 1


@pytest.mark.anyio
async def test_a_stop_string_stops_the_engine() -> None:
    adapter = ReplayAdapter(
        tokens_per_second=None, script=["Hello there. STOP and then much more text " * 20]
    )
    generation = Generation(adapter, "p", {"max_new_tokens": 5000}, stop=["STOP"])
    out = await run(generation)
    assert "".join(c.text_delta for c in out) == "Hello there. "
    assert out[-1].done and out[-1].finish_reason == "stop" and sum(c.done for c in out) == 1
    record = adapter.records[-1]
    assert record.outcome == "closed" and record.tokens_emitted < 10
    assert out[-1].completion_tokens == record.tokens_emitted


@pytest.mark.anyio
async def test_reasoning_is_dropped_when_asked() -> None:
    adapter = ReplayAdapter(tokens_per_second=None, script=["<think>\nweighing it\n</think>\n\nThe answer."])
    out = await run(Generation(adapter, "p", {"max_new_tokens": 500}, reasoning="think", drop_reasoning=True))
    assert not any(c.reasoning_delta for c in out)
    assert "".join(c.text_delta for c in out).strip() == "The answer."
