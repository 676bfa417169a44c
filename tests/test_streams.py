"""fastsse.streams: map / filter / batch / coalesce_text / timeout / buffered, sync and async.

Async tests run on asyncio and trio (pytest's anyio plugin). The sources record what was
pulled from them and whether they were closed, so the tests check ownership (every way out
closes the upstream), bounded read-ahead (backpressure) and partial results on timeouts.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import fastsse
import httpx
import pytest
from fastsse import GenerationChunk, ToolCallDelta, streams
from fastsse.errors import (
    DeadlineExceededError,
    FastSSEError,
    IdleTimeoutError,
    ProtocolError,
    StreamTimeoutError,
    UsageError,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from provider_fixtures import capture_params


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def text(delta: str, **kw: Any) -> GenerationChunk:
    return GenerationChunk(delta, **kw)


def reasoning(delta: str, **kw: Any) -> GenerationChunk:
    return GenerationChunk(reasoning_delta=delta, **kw)


def tool(index: int, args: str, *, id: str | None = None, name: str | None = None) -> GenerationChunk:
    return GenerationChunk(tool_call_delta=ToolCallDelta(index, id, "function", name, args))


DONE = GenerationChunk(done=True, finish_reason="stop", prompt_tokens=5, completion_tokens=9)


class Source:
    """A sync chunk iterator that counts pulls and records close()."""

    def __init__(self, items: list[Any], *, delay: float = 0.0, fail_with: BaseException | None = None):
        self.items = items
        self.delay = delay
        self.fail_with = fail_with
        self.pulled = 0
        self.closed = False
        self.closed_by: str | None = None

    def __iter__(self) -> Source:
        return self

    def __next__(self) -> Any:
        if self.closed:
            raise StopIteration
        if self.pulled == len(self.items):
            if self.fail_with is not None:
                raise self.fail_with
            raise StopIteration
        if self.delay:
            time.sleep(self.delay)
        self.pulled += 1
        return self.items[self.pulled - 1]

    def close(self) -> None:
        self.closed = True
        self.closed_by = threading.current_thread().name


class HangingSource(Source):
    """Yields its items, then blocks until released (a stalled server)."""

    def __init__(self, items: list[Any]) -> None:
        super().__init__(items)
        self.release = threading.Event()

    def __next__(self) -> Any:
        if self.pulled == len(self.items):
            self.release.wait(10)
            raise StopIteration
        return super().__next__()


class ASource:
    """An async chunk iterator that counts pulls and records aclose()."""

    def __init__(
        self,
        items: list[Any],
        *,
        delay: float = 0.0,
        hang_after: int | None = None,
        fail_with: BaseException | None = None,
    ) -> None:
        self.items = items
        self.delay = delay
        self.hang_after = hang_after
        self.fail_with = fail_with
        self.pulled = 0
        self.closed = False

    def __aiter__(self) -> ASource:
        return self

    async def __anext__(self) -> Any:
        if self.closed:
            raise StopAsyncIteration
        if self.hang_after is not None and self.pulled >= self.hang_after:
            await anyio.sleep_forever()
        if self.pulled == len(self.items):
            if self.fail_with is not None:
                raise self.fail_with
            raise StopAsyncIteration
        if self.delay:
            await anyio.sleep(self.delay)
        else:
            await anyio.lowlevel.checkpoint()
        self.pulled += 1
        return self.items[self.pulled - 1]

    async def aclose(self) -> None:
        await anyio.lowlevel.checkpoint()  # a real close awaits; it must survive cancellation
        self.closed = True


# --- map / filter / batch ----------------------------------------------------------------------

CHUNKS = [
    text("Hel", is_first=True),
    reasoning("hmm"),
    text("lo"),
    text(""),
    tool(0, "{}", id="c", name="f"),
    DONE,
]


def test_map_filter_batch_sync() -> None:
    assert list(streams.map(lambda c: c.text_delta, Source(CHUNKS))) == ["Hel", "", "lo", "", "", ""]
    assert list(streams.filter(lambda c: c.text_delta, Source(CHUNKS))) == [CHUNKS[0], CHUNKS[2]]
    assert list(streams.batch(Source(CHUNKS), 4)) == [CHUNKS[:4], CHUNKS[4:]]
    assert list(streams.batch(Source(CHUNKS), 3)) == [CHUNKS[:3], CHUNKS[3:]]
    assert list(streams.batch(Source([]), 3)) == []
    with pytest.raises(ValueError, match="batch size"):
        streams.batch(Source(CHUNKS), 0)


@pytest.mark.anyio
async def test_map_filter_batch_async() -> None:
    assert [x async for x in streams.amap(lambda c: c.text_delta, ASource(CHUNKS))] == [
        "Hel",
        "",
        "lo",
        "",
        "",
        "",
    ]

    async def is_text(chunk: GenerationChunk) -> bool:
        await anyio.lowlevel.checkpoint()
        return bool(chunk.text_delta)

    async def upper(chunk: GenerationChunk) -> str:
        await anyio.lowlevel.checkpoint()
        return chunk.text_delta.upper()

    assert [x async for x in streams.afilter(is_text, ASource(CHUNKS))] == [CHUNKS[0], CHUNKS[2]]
    assert [x async for x in streams.amap(upper, streams.afilter(is_text, ASource(CHUNKS)))] == ["HEL", "LO"]
    assert [x async for x in streams.abatch(ASource(CHUNKS), 4)] == [CHUNKS[:4], CHUNKS[4:]]
    assert [x async for x in streams.abatch(CHUNKS, 6)] == [CHUNKS]  # plain iterables are accepted


def test_stage_errors_close_upstream_sync() -> None:
    source = Source(CHUNKS)

    def explode(chunk: GenerationChunk) -> None:
        raise KeyError("boom")

    stage = streams.map(explode, source)
    with pytest.raises(KeyError):
        next(stage)
    assert source.closed
    assert list(stage) == []  # a failed stage is over

    failing = Source(CHUNKS[:2], fail_with=ProtocolError("bad frame", offset=7))
    seen = []
    with pytest.raises(ProtocolError):
        for chunk in streams.filter(bool, failing):
            seen.append(chunk)
    assert seen == CHUNKS[:2] and failing.closed


@pytest.mark.anyio
async def test_stage_errors_close_upstream_async() -> None:
    source = ASource(CHUNKS, fail_with=ProtocolError("bad frame", offset=7))
    seen = []
    with pytest.raises(ProtocolError):
        async for chunk in streams.amap(lambda c: c, source):
            seen.append(chunk)
    assert seen == CHUNKS and source.closed


# --- early exit and cancellation close the upstream ------------------------------------------


def test_break_closes_upstream_sync() -> None:
    source = Source(CHUNKS)
    for _ in streams.batch(streams.filter(bool, streams.map(lambda c: c, source)), 1):
        break
    gc.collect()  # CPython frees the chain at once; collect() for other interpreters
    assert source.closed and source.pulled == 1

    source = Source(CHUNKS)
    with streams.coalesce_text(source, 100) as chunks:
        next(chunks)
    assert source.closed

    source = Source(CHUNKS)
    streams.map(str, source).close()  # closing a stage never iterated still closes its upstream
    assert source.closed and source.pulled == 0


@pytest.mark.anyio
async def test_break_closes_upstream_async() -> None:
    source = ASource(CHUNKS)
    async with streams.abatch(streams.afilter(bool, streams.amap(lambda c: c, source)), 1) as batches:
        async for _ in batches:
            break
    assert source.closed and source.pulled == 1

    source = ASource(CHUNKS)
    await streams.acoalesce_text(source, 5).aclose()
    assert source.closed and source.pulled == 0


@pytest.mark.anyio
async def test_cancellation_closes_upstream() -> None:
    source = ASource(CHUNKS, hang_after=2)
    got = []
    with anyio.move_on_after(0.2) as scope:
        async for chunk in streams.amap(lambda c: c, source):  # no `async with`: cancellation alone
            got.append(chunk)
    assert scope.cancelled_caught
    assert got == CHUNKS[:2]
    assert source.closed  # closed by the stage, shielded from the cancellation that caused it

    source = ASource(CHUNKS, hang_after=1)
    async with anyio.create_task_group() as tg:

        async def consume() -> None:
            async with streams.acoalesce_text(streams.afilter(bool, source), 1000) as chunks:
                async for _ in chunks:
                    pass

        tg.start_soon(consume)
        await anyio.sleep(0.05)
        tg.cancel_scope.cancel()
    assert source.closed


def test_stages_close_fastsse_iterators_and_http_responses() -> None:
    closed: list[str] = []

    class Body(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b"data: one\n\n"
            yield b"data: two\n\n"
            yield b"data: three\n\n"

        def close(self) -> None:
            closed.append("response")

    response = httpx.Response(200, stream=Body())
    for event in streams.map(lambda e: e.data, fastsse.iter_sse(response)):
        assert event == "one"
        break
    gc.collect()
    assert closed == ["response"]


@pytest.mark.anyio
async def test_async_stages_close_http_responses() -> None:
    closed: list[str] = []

    class Body(httpx.AsyncByteStream):
        async def __aiter__(self) -> Any:
            yield b"data: one\n\n"
            yield b"data: two\n\n"
            await anyio.sleep_forever()

        async def aclose(self) -> None:
            closed.append("response")

    response = httpx.Response(200, stream=Body())
    got = []
    with anyio.move_on_after(0.2):
        async with streams.amap(lambda e: e.data, fastsse.aiter_sse(response)) as events:
            async for data in events:
                got.append(data)
    assert got == ["one", "two"]
    assert closed == ["response"]


# --- coalesce_text -----------------------------------------------------------------------------


def test_coalesce_merges_runs_but_never_across_tool_calls_or_done() -> None:
    chunks = [
        text("", is_first=True),  # e.g. OpenAI's role-only first chunk: joins the run
        text("a"),
        text("bc"),
        text("d", prompt_tokens=3, completion_tokens=1),
        text("e", completion_tokens=2),
        reasoning("r1"),
        reasoning("r2"),
        text("f"),
        tool(0, '{"a"', id="call_1", name="get"),
        tool(0, ": 1}"),
        text("g"),
        text("h"),
        DONE,
        text("late"),
    ]
    out = list(streams.coalesce_text(Source(chunks), 4))
    assert out == [
        text("abcd", is_first=True, prompt_tokens=3, completion_tokens=1),
        text("e", completion_tokens=2),  # kind changes: released short
        reasoning("r1r2"),
        chunks[7],
        chunks[8],  # tool-call deltas pass through unchanged and unmerged
        chunks[9],
        text("gh"),  # released by the done chunk, never merged with it
        DONE,
        chunks[13],
    ]
    assert out[3] is chunks[7]  # a run of one is passed through as is (raw kept)


def test_coalesce_keeps_choices_apart_and_leaves_logprobs_alone() -> None:
    chunks = [
        text("a", choice_index=0),
        text("b", choice_index=1),
        text("c", choice_index=1),
        text("d", choice_index=0, logprobs={"content": []}),
        text("e", choice_index=0),
    ]
    out = list(streams.coalesce_text(Source(chunks), 10))
    assert out == [chunks[0], text("bc", choice_index=1), chunks[3], chunks[4]]
    with pytest.raises(ValueError, match="min_chars"):
        streams.Coalescer(0)


@pytest.mark.anyio
async def test_coalesce_async_matches_sync() -> None:
    chunks = [text(c) for c in "the quick brown fox jumps"] + [tool(0, "{}", id="x", name="n"), DONE]
    sync = list(streams.coalesce_text(Source(chunks), 5))
    async with streams.acoalesce_text(ASource(chunks), 5) as merged:
        assert [c async for c in merged] == sync
    assert [c.text_delta for c in sync] == ["the q", "uick ", "brown", " fox ", "jumps", "", ""]


class ReferenceCoalescer:
    """The pure-Python coalescer the native one replaced: the oracle of the differential test."""

    def __init__(self, min_chars: int) -> None:
        self.min_chars = min_chars
        self._run: list[GenerationChunk] = []
        self._pieces: list[str] = []
        self._run_kind = ""
        self._run_chars = 0
        self._prompt_tokens: int | None = None
        self._completion_tokens: int | None = None

    def push(self, chunk: GenerationChunk) -> list[GenerationChunk]:
        kind = _kind(chunk)
        if kind is None:
            return [*self._release(), chunk]
        out: list[GenerationChunk] = []
        run = self._run
        if run and (
            (kind and self._run_kind and kind != self._run_kind) or chunk.choice_index != run[0].choice_index
        ):
            out = self._release()
        self._run.append(chunk)
        if kind:
            delta = {"text": chunk.text_delta, "reasoning": chunk.reasoning_delta}.get(
                kind, chunk.refusal_delta
            )
            self._run_kind = kind
            self._pieces.append(delta)
            self._run_chars += len(delta)
        if chunk.prompt_tokens is not None:
            self._prompt_tokens = chunk.prompt_tokens
        if chunk.completion_tokens is not None:
            self._completion_tokens = chunk.completion_tokens
        if self._run_chars >= self.min_chars:
            out.extend(self._release())
        return out

    def flush(self) -> list[GenerationChunk]:
        return self._release()

    def _release(self) -> list[GenerationChunk]:
        run, kind, merged = self._run, self._run_kind, "".join(self._pieces)
        prompt_tokens, completion_tokens = self._prompt_tokens, self._completion_tokens
        self._run, self._pieces, self._run_kind, self._run_chars = [], [], "", 0
        self._prompt_tokens = self._completion_tokens = None
        if len(run) <= 1:
            return run
        return [
            GenerationChunk(
                merged if kind == "text" else "",
                reasoning_delta=merged if kind == "reasoning" else "",
                refusal_delta=merged if kind == "refusal" else "",
                is_first=run[0].is_first,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                choice_index=run[0].choice_index,
            )
        ]


def _kind(chunk: GenerationChunk) -> str | None:
    """The delta a mergeable chunk carries ("" for none); None for a barrier."""
    if (
        chunk.tool_call_delta is not None
        or chunk.done
        or chunk.finish_reason is not None
        or chunk.error_message is not None
        or chunk.error_code is not None
        or chunk.stop_sequence is not None
        or chunk.logprobs is not None
        or chunk.reasoning_signature is not None
    ):
        return None
    kinds = [
        kind
        for kind, delta in (
            ("text", chunk.text_delta),
            ("reasoning", chunk.reasoning_delta),
            ("refusal", chunk.refusal_delta),
        )
        if delta
    ]
    return "" if not kinds else kinds[0] if len(kinds) == 1 else None


deltas = st.one_of(
    st.builds(text, st.text(max_size=5)),
    st.builds(reasoning, st.text(min_size=1, max_size=5)),
    st.builds(tool, st.integers(0, 2), st.text(max_size=4)),
    st.builds(lambda i: GenerationChunk("x", choice_index=i), st.integers(0, 1)),
    st.just(DONE),
)
richer_deltas = st.one_of(
    deltas,
    st.builds(lambda d: GenerationChunk(refusal_delta=d), st.text(max_size=3)),
    st.builds(lambda n: GenerationChunk(completion_tokens=n), st.integers(0, 9)),
    st.builds(lambda d: GenerationChunk(d, is_first=True, prompt_tokens=1), st.text(max_size=3)),
    st.builds(lambda d: GenerationChunk(d, reasoning_delta="r"), st.text(max_size=2)),
    st.just(GenerationChunk(reasoning_signature="sig")),
    st.just(GenerationChunk(error_code="e", error_message="m")),
    st.just(GenerationChunk("s", stop_sequence="END")),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(richer_deltas, max_size=40), st.integers(1, 12))
def test_native_coalescer_equals_the_reference(chunks: list[GenerationChunk], min_chars: int) -> None:
    reference = ReferenceCoalescer(min_chars)
    expected = [out for chunk in chunks for out in reference.push(chunk)] + reference.flush()
    native = streams.Coalescer(min_chars)
    pushed = [out for chunk in chunks for out in native.push(chunk)] + list(native.flush())
    assert pushed == expected
    assert list(streams.coalesce_text(iter(chunks), min_chars)) == expected
    # Runs of one and barriers are handed out as the very objects that came in.
    assert [id(c) for c in pushed if any(c is x for x in chunks)] == [
        id(c) for c in expected if any(c is x for x in chunks)
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(deltas, max_size=40), st.integers(1, 12))
def test_coalesce_preserves_content_and_barriers(chunks: list[GenerationChunk], min_chars: int) -> None:
    out = list(streams.coalesce_text(iter(chunks), min_chars))

    def content(seq: list[GenerationChunk], attr: str) -> dict[int, str]:
        joined: dict[int, str] = {}
        for chunk in seq:
            joined[chunk.choice_index] = joined.get(chunk.choice_index, "") + getattr(chunk, attr)
        return joined

    for attr in ("text_delta", "reasoning_delta"):
        assert content(out, attr) == content(chunks, attr)
    barriers = [c for c in chunks if _kind(c) is None]
    assert [c for c in out if _kind(c) is None] == barriers
    assert len(out) <= len(chunks)
    # A merged chunk is released only once it is big enough, or when something ends the run.
    for i, chunk in enumerate(out[:-1]):
        size = len(chunk.text_delta) + len(chunk.reasoning_delta)
        following = out[i + 1]
        if chunk not in chunks:  # a merged chunk
            assert (
                size >= min_chars
                or _kind(following) is None
                or following.choice_index != chunk.choice_index
                or (_kind(following) != _kind(chunk) and _kind(following) != "")
            )


# --- partial results ---------------------------------------------------------------------------


def test_partial_collector_compacts_the_stream() -> None:
    collector = streams.PartialCollector()
    items: list[Any] = [
        text("a", is_first=True),
        text("b", choice_index=1),
        reasoning("r"),
        tool(0, '{"x"', id="c", name="f"),
        tool(0, ":1}"),
        tool(1, "{}", id="d", name="g"),
        GenerationChunk(refusal_delta="no"),
        text("c"),
        GenerationChunk(done=True, finish_reason="tool_calls", prompt_tokens=3, completion_tokens=4),
        "not a chunk",  # counted only
    ]
    for item in items:
        collector.add(item)
    assert collector.count == 10
    assert collector.chunks() == [
        GenerationChunk("ac", is_first=True),
        GenerationChunk(reasoning_delta="r"),
        GenerationChunk(refusal_delta="no"),
        GenerationChunk(tool_call_delta=ToolCallDelta(0, "c", "function", "f", '{"x":1}')),
        GenerationChunk(tool_call_delta=ToolCallDelta(1, "d", "function", "g", "{}")),
        GenerationChunk(done=True, finish_reason="tool_calls", prompt_tokens=3, completion_tokens=4),
        GenerationChunk("b", choice_index=1),
    ]
    assert streams.PartialCollector().chunks() == []


@settings(max_examples=200, deadline=None)
@given(st.lists(deltas, max_size=40))
def test_partial_result_equals_collect_of_the_whole_stream(chunks: list[GenerationChunk]) -> None:
    collector = streams.PartialCollector()
    for chunk in chunks:
        collector.add(chunk)
    assert fastsse.collect(collector.chunks()) == fastsse.collect(chunks)


# --- timeouts ----------------------------------------------------------------------------------


def check_partial(error: StreamTimeoutError, *, text_so_far: str, received: int) -> None:
    assert isinstance(error, FastSSEError) and isinstance(error, TimeoutError)
    assert error.chunks_received == received
    assert "".join(c.text_delta for c in error.chunks) == text_so_far
    assert error.elapsed >= error.limit * 0.9
    assert error.partial.text == text_so_far


@pytest.mark.anyio
async def test_idle_timeout_keeps_partial_result_async() -> None:
    source = ASource(
        [text("Hel", is_first=True), reasoning("think"), tool(0, '{"x":', id="c1", name="f"), text("lo")],
        hang_after=4,
    )
    got = []
    with pytest.raises(IdleTimeoutError) as info:
        async for chunk in streams.atimeout(source, idle=0.2, total=30):
            got.append(chunk)
    assert len(got) == 4 and source.closed
    error = info.value
    check_partial(error, text_so_far="Hello", received=4)
    assert error.limit == 0.2 and "idle timeout of 0.2 s" in str(error)
    compact = error.chunks
    assert [c.reasoning_delta for c in compact if c.reasoning_delta] == ["think"]
    calls = [c.tool_call_delta for c in compact if c.tool_call_delta]
    assert calls == [ToolCallDelta(0, "c1", "function", "f", '{"x":')]


@pytest.mark.anyio
async def test_total_deadline_keeps_partial_result_async() -> None:
    source = ASource([text(str(i % 10)) for i in range(1000)], delay=0.02)
    with pytest.raises(DeadlineExceededError) as info:
        async with streams.atimeout(source, idle=5, total=0.3) as chunks:
            async for _ in chunks:
                pass
    error = info.value
    assert 1 <= error.chunks_received < 1000 and source.closed
    check_partial(
        error,
        text_so_far="".join(str(i % 10) for i in range(error.chunks_received)),
        received=error.chunks_received,
    )
    assert "total deadline of 0.3 s" in str(error)


@pytest.mark.anyio
async def test_timeouts_do_not_fire_on_a_steady_stream() -> None:
    source = ASource([text("a")] * 20 + [DONE], delay=0.005)
    got = [c async for c in streams.atimeout(source, idle=1.0, total=10)]
    assert len(got) == 21 and source.closed
    with pytest.raises(ValueError, match="idle="):
        streams.atimeout(source)
    with pytest.raises(ValueError, match="positive"):
        streams.atimeout(source, idle=0)


def test_idle_timeout_keeps_partial_result_sync() -> None:
    source = HangingSource([text("Hel", is_first=True), text("lo"), tool(1, "{}", id="t", name="g")])
    got = []
    try:
        with pytest.raises(IdleTimeoutError) as info:
            for chunk in streams.timeout(source, idle=0.2):
                got.append(chunk)
        assert len(got) == 3
        check_partial(info.value, text_so_far="Hello", received=3)
        assert not source.closed  # the reader is still inside the stalled next() ...
    finally:
        source.release.set()
    deadline = time.monotonic() + 5
    while not source.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert source.closed and source.closed_by == "fastsse-stream-reader"  # ... and closes it on return


def test_total_deadline_sync() -> None:
    source = Source([text("x")] * 1000, delay=0.02)
    with pytest.raises(DeadlineExceededError) as info:
        for _ in streams.timeout(source, total=0.3):
            pass
    error = info.value
    assert 1 <= error.chunks_received < 1000
    check_partial(error, text_so_far="x" * error.chunks_received, received=error.chunks_received)
    source_done = time.monotonic() + 5
    while not source.closed and time.monotonic() < source_done:
        time.sleep(0.01)
    assert source.closed


def test_sync_timeout_passes_everything_and_errors_through() -> None:
    source = Source(CHUNKS, delay=0.001, fail_with=ProtocolError("bad", offset=3))
    got = []
    with pytest.raises(ProtocolError):
        for chunk in streams.timeout(source, idle=2, total=10):
            got.append(chunk)
    assert got == CHUNKS and source.closed


# --- bounded buffer / backpressure -------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("size", [0, 1, 4])
async def test_buffer_is_bounded_under_a_slow_consumer(size: int) -> None:
    source = ASource([text(str(i)) for i in range(40)])  # as fast as it can go
    received = 0
    async with streams.abuffered(source, size) as chunks:
        async for chunk in chunks:
            assert chunk.text_delta == str(received)
            received += 1
            stats = chunks.statistics()
            assert stats.current <= size
            # read-ahead: what sits in the buffer plus the one item the reader holds
            assert source.pulled - received <= size + 1
            await anyio.sleep(0.005)  # the slow consumer
    assert received == 40 and source.closed
    stats = chunks.statistics()
    assert stats.max_size == size and stats.high_water == size  # it did fill up, and no further


@pytest.mark.anyio
async def test_buffer_relays_upstream_errors_unwrapped() -> None:
    source = ASource(CHUNKS[:3], fail_with=ProtocolError("bad frame", offset=11))
    got = []
    with pytest.raises(ProtocolError) as info:
        async with streams.abuffered(source, 8) as chunks:
            async for chunk in chunks:
                got.append(chunk)
    assert got == CHUNKS[:3] and info.value.offset == 11 and source.closed


@pytest.mark.anyio
async def test_buffer_early_exit_closes_upstream_before_the_block_ends() -> None:
    source = ASource([text("x")] * 100)
    async with streams.abuffered(source, 2) as chunks:
        async for _ in chunks:
            break
    assert source.closed and source.pulled <= 4

    hanging = ASource([text("x")] * 5, hang_after=3)
    with anyio.move_on_after(0.2):
        async with streams.abuffered(hanging, 2) as chunks:
            async for _ in chunks:
                pass
    assert hanging.closed


@pytest.mark.anyio
async def test_buffer_needs_async_with() -> None:
    source = ASource(CHUNKS)
    with pytest.raises(UsageError, match="async with"):
        async for _ in streams.abuffered(source, 2):
            pass
    assert source.closed
    never_used = ASource(CHUNKS)
    await streams.abuffered(never_used, 2).aclose()
    assert never_used.closed


@pytest.mark.anyio
async def test_timeout_over_buffer() -> None:
    source = ASource([text("a"), text("b")], hang_after=2)
    with pytest.raises(IdleTimeoutError) as info:
        async with streams.abuffered(source, 4) as buffered:
            async for _ in streams.atimeout(buffered, idle=0.2):
                pass
    assert info.value.chunks_received == 2 and source.closed


@pytest.mark.parametrize("size", [1, 4])
def test_buffer_is_bounded_under_a_slow_consumer_sync(size: int) -> None:
    source = Source([text(str(i)) for i in range(30)])
    received = 0
    with streams.buffered(source, size) as chunks:
        for chunk in chunks:
            assert chunk.text_delta == str(received)
            received += 1
            assert chunks.statistics().current <= size
            assert source.pulled - received <= size + 1
            time.sleep(0.005)
    assert received == 30
    assert chunks.statistics().high_water == size
    with pytest.raises(ValueError, match="buffer size"):
        streams.buffered(source, 0)


def test_buffer_early_exit_stops_the_reader_sync() -> None:
    source = Source([text("x")] * 1000)
    chunks = streams.buffered(source, 3)
    next(chunks)
    time.sleep(0.05)  # let the reader fill the buffer and block
    assert source.pulled <= 5
    del chunks  # dropped without close(): garbage collection stops the reader
    gc.collect()
    deadline = time.monotonic() + 5
    while not source.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert source.closed and source.pulled <= 5


# --- on real provider streams ------------------------------------------------------------------

DATA = Path(__file__).parent / "data"
CAPTURES = capture_params(("openai-chat", "openai-responses", "anthropic", "gemini", "ollama", "bedrock"))


def capture_chunks(provider: str, path: Path) -> list[GenerationChunk]:
    chunks: list[GenerationChunk] = []
    try:
        for chunk in fastsse.iter_chunks(path.read_bytes(), provider=provider):
            chunks.append(chunk)
    except fastsse.ProviderError:
        pass  # a provider error mid-stream: what came before it is the stream under test
    return chunks


@pytest.mark.parametrize(("provider", "path"), CAPTURES)
def test_coalescing_a_capture_keeps_its_result(provider: str, path: Path) -> None:
    chunks = capture_chunks(provider, path)
    whole = fastsse.collect(chunks)
    for min_chars in (1, 16, 10_000):
        merged = list(streams.coalesce_text(iter(chunks), min_chars))
        assert fastsse.collect(merged) == whole
        assert len(merged) <= len(chunks)
        assert [c for c in merged if c.tool_call_delta or c.done] == [
            c for c in chunks if c.tool_call_delta or c.done
        ]
    collector = streams.PartialCollector()
    for chunk in chunks:
        collector.add(chunk)
    assert fastsse.collect(collector.chunks()) == whole


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["thinking-tool-use.sse", "sdk-basic-text.sse"])
async def test_idle_timeout_on_a_stalled_provider_stream(name: str) -> None:
    """The server sends everything but never ends the response: the partial result is complete."""
    path = DATA / "anthropic" / name
    if not path.exists():
        pytest.skip(f"{name} not in tests/data")
    body = path.read_bytes()
    if body.endswith(b"\n\n"):
        body = body[:-2]  # hold back the last event's terminator too: it must not be lost
    source = ASource([body[i : i + 61] for i in range(0, len(body), 61)], hang_after=-(-len(body) // 61))
    with pytest.raises(IdleTimeoutError) as info:
        async with streams.atimeout(
            fastsse.aiter_chunks(source, provider="anthropic"),
            idle=0.3,
        ) as chunks:
            async for _ in chunks:
                pass
    assert source.closed
    expected = fastsse.collect(capture_chunks("anthropic", DATA / "anthropic" / name))
    partial = info.value.partial
    assert partial.text == expected.text
    assert partial.reasoning == expected.reasoning
    assert [call.name for call in partial.tool_calls] == [call.name for call in expected.tool_calls]
