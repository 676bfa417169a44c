"""Per-chunk cost of fastsse.streams stages, side by side with the hand-written generator each replaces.

    python benches/python/bench_streams.py [--quick]

Each stage is measured against the hand-written code a user would otherwise write for the same
job, calling the same function per item (a generator for the sync stages, an async generator for
the async ones, a thread + ``queue.Queue`` / a task + memory stream for the buffers), in one run.
The stages add ownership of the upstream, closing and typed timeouts; ``coalesce_text`` runs in
Rust (the hand-written one merges text only, the stage also reasoning, refusals, usage, choices).
Async cases run on asyncio through anyio; their source is an async generator with a checkpoint
per item, the same for both sides.
"""

from __future__ import annotations

import argparse
import platform
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator

import anyio
from _harness import Result, measure_interleaved, table
from fastsse import GenerationChunk, streams


def make_chunks(n: int) -> list[GenerationChunk]:
    return [GenerationChunk(f" t{i % 97}") for i in range(n)]


# --- hand-written equivalents ------------------------------------------------------------------


def gen_map(fn: Callable[[GenerationChunk], str], chunks: Iterable[GenerationChunk]) -> Iterator[str]:
    for chunk in chunks:
        yield fn(chunk)


def gen_batch(chunks: Iterable[GenerationChunk], size: int) -> Iterator[list[GenerationChunk]]:
    batch: list[GenerationChunk] = []
    for chunk in chunks:
        batch.append(chunk)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def gen_coalesce(chunks: Iterable[GenerationChunk], min_chars: int) -> Iterator[GenerationChunk]:
    # Text-only merging; the stage also handles reasoning, tool calls, usage, choices.
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk.text_delta)
        size += len(chunk.text_delta)
        if size >= min_chars:
            yield GenerationChunk("".join(parts))
            parts, size = [], 0
    if parts:
        yield GenerationChunk("".join(parts))


def gen_thread_buffer(
    chunks: Iterable[GenerationChunk], size: int, idle: float | None = None
) -> Iterator[GenerationChunk]:
    # What a user writes for read-ahead (or an idle timeout) on a thread: a reader thread and a
    # bounded queue.
    items: queue.Queue[object] = queue.Queue(maxsize=size)
    end = object()

    def read() -> None:
        for chunk in chunks:
            items.put(chunk)
        items.put(end)

    threading.Thread(target=read, daemon=True).start()
    while (item := items.get(timeout=idle)) is not end:
        yield item  # type: ignore[misc]


async def agen(chunks: list[GenerationChunk]) -> AsyncIterator[GenerationChunk]:
    for chunk in chunks:
        await anyio.lowlevel.checkpoint()
        yield chunk


async def agen_map(
    fn: Callable[[GenerationChunk], str], source: AsyncIterator[GenerationChunk]
) -> AsyncIterator[str]:
    async for chunk in source:
        yield fn(chunk)


async def agen_filter(
    predicate: Callable[[GenerationChunk], object], source: AsyncIterator[GenerationChunk]
) -> AsyncIterator[GenerationChunk]:
    async for chunk in source:
        if predicate(chunk):
            yield chunk


async def agen_coalesce(
    source: AsyncIterator[GenerationChunk], min_chars: int
) -> AsyncIterator[GenerationChunk]:
    parts: list[str] = []
    size = 0
    async for chunk in source:
        parts.append(chunk.text_delta)
        size += len(chunk.text_delta)
        if size >= min_chars:
            yield GenerationChunk("".join(parts))
            parts, size = [], 0
    if parts:
        yield GenerationChunk("".join(parts))


async def agen_buffer(source: AsyncIterator[GenerationChunk], size: int) -> AsyncIterator[GenerationChunk]:
    # A task fills a bounded memory stream. (A task group inside an async generator is unsafe when
    # the consumer stops early; it is fine here, where every run reads to the end.)
    send, receive = anyio.create_memory_object_stream[GenerationChunk](size)
    async with anyio.create_task_group() as tg:

        async def produce() -> None:
            async with send:
                async for chunk in source:
                    await send.send(chunk)

        tg.start_soon(produce)
        async with receive:
            async for chunk in receive:
                yield chunk


async def agen_timeout(source: AsyncIterator[GenerationChunk], idle: float) -> AsyncIterator[GenerationChunk]:
    while True:
        with anyio.fail_after(idle):
            try:
                chunk = await source.__anext__()
            except StopAsyncIteration:
                return
        yield chunk


def count(iterable: Iterable[object]) -> int:
    n = 0
    for _ in iterable:
        n += 1
    return n


async def acount(iterable: AsyncIterator[object]) -> int:
    n = 0
    async for _ in iterable:
        n += 1
    return n


def text_of(chunk: GenerationChunk) -> str:
    return chunk.text_delta


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 20_000 if args.quick else 50_000
    repeat = 7 if args.quick else 9
    chunks = make_chunks(n)
    merged = sum(1 for _ in gen_coalesce(chunks, 64))
    results: list[Result] = []

    def run_async(make: Callable[[], AsyncIterator[object]]) -> Callable[[], int]:
        async def go() -> int:
            return await acount(make())

        return lambda: anyio.run(go)

    def buffered_run() -> int:
        async def go() -> int:
            async with streams.abuffered(agen(chunks), 64) as buffered:
                return await acount(buffered)

        return anyio.run(go)

    # case, items expected, {implementation: run}; each case's implementations take turns.
    cases: list[tuple[str, int, dict[str, Callable[[], int]]]] = [
        (
            "map (sync)",
            n,
            {
                "fastsse": lambda: count(streams.map(text_of, chunks)),
                "generator": lambda: count(gen_map(text_of, chunks)),
            },
        ),
        (
            "filter (sync)",
            n,
            {
                "fastsse": lambda: count(streams.filter(text_of, chunks)),
                "generator": lambda: count(c for c in chunks if text_of(c)),
            },
        ),
        (
            "batch 16 (sync)",
            -(-n // 16),
            {
                "fastsse": lambda: count(streams.batch(chunks, 16)),
                "generator": lambda: count(gen_batch(chunks, 16)),
            },
        ),
        (
            "coalesce 64 chars (sync)",
            merged,
            {
                "fastsse": lambda: count(streams.coalesce_text(chunks, 64)),
                "generator": lambda: count(gen_coalesce(chunks, 64)),
            },
        ),
        (
            "buffered 64, thread (sync)",
            n,
            {
                "fastsse": lambda: count(streams.buffered(chunks, 64)),
                "thread + queue.Queue": lambda: count(gen_thread_buffer(chunks, 64)),
            },
        ),
        (
            "timeout idle, thread (sync)",
            n,
            {
                "fastsse": lambda: count(streams.timeout(chunks, idle=10)),
                "thread + queue.Queue": lambda: count(gen_thread_buffer(chunks, 16, idle=10)),
            },
        ),
        (
            "amap (asyncio)",
            n,
            {
                "fastsse": run_async(lambda: streams.amap(text_of, agen(chunks))),
                "async generator": run_async(lambda: agen_map(text_of, agen(chunks))),
            },
        ),
        (
            "afilter (asyncio)",
            n,
            {
                "fastsse": run_async(lambda: streams.afilter(text_of, agen(chunks))),
                "async generator": run_async(lambda: agen_filter(text_of, agen(chunks))),
            },
        ),
        (
            "acoalesce 64 chars (asyncio)",
            merged,
            {
                "fastsse": run_async(lambda: streams.acoalesce_text(agen(chunks), 64)),
                "async generator": run_async(lambda: agen_coalesce(agen(chunks), 64)),
            },
        ),
        (
            "atimeout idle (asyncio)",
            n,
            {
                "fastsse": run_async(lambda: streams.atimeout(agen(chunks), idle=10)),
                "async generator": run_async(lambda: agen_timeout(agen(chunks), 10)),
            },
        ),
        (
            "abuffered 64 (asyncio)",
            n,
            {
                "fastsse": buffered_run,
                "task + memory stream": run_async(lambda: agen_buffer(agen(chunks), 64)),
            },
        ),
    ]
    for case, expected, runs in cases:
        medians = measure_interleaved(runs, repeat=repeat, expected=expected, clock=time.process_time)
        results += [Result(case, impl, seconds, n) for impl, seconds in medians.items()]

    print(
        f"{n:,} chunks; Python {platform.python_version()}; CPU time (all threads), "
        f"medians of {repeat} interleaved runs\n"
    )
    print(table(results))
    print(
        "\n'fastsse speed-up' < 1.0x means the stage costs more than the hand-written code "
        "(the goal: no stage below 1/1.1 = 0.91x)."
    )


if __name__ == "__main__":
    main()
