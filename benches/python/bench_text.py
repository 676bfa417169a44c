"""Raw model text through Python: `fastsse.TextParser` side by side with a straightforward
pure-Python implementation of the same semantics (tests/text_reference.py).

    python benches/python/bench_text.py [--quick] [--formats]

The realistic mixed stream is reasoning + answer text + 2 Hermes calls, with a stop list of 4
(the last one ends the stream), fed in 1-4 character deltas as an inference engine would; the
table gives the cost per decode() call. Both implementations run in the same process, their
outputs are checked equal first, and each consumer reads the fields of every chunk.

`--formats` measures every registered tool format on one stream shape instead
(benches/data/format_streams.json: an answer sentence and two calls, in 1-4 character deltas):
the cost per decode() call next to hermes', and a linearity check, the same stream with the
search query grown to 16 / 64 / 256 KiB of argument text in 4-character deltas (time per KiB
must stay flat).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import fastsse
from _harness import Result, table

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from text_reference import ReferenceTextParser

STOPS = ["<|im_end|>", "\n\nUser:", "</s>", "Observation:"]
DELTAS = [1, 3, 2, 4, 1, 2, 3, 4]

REASONING = (
    "The user wants the weather in Paris and the Louvre's opening hours. I should call get_weather "
    "with the city and a unit; they write from France, so celsius is the natural choice. For the "
    "opening hours a web search is better than guessing, because museums change their schedules "
    "on holidays. Two independent calls, so I can make them in parallel. Let me also keep the "
    "answer short: one sentence before the calls, nothing after them, since the results will come "
    "back as tool messages and I will summarise them then."
)
ANSWER = (
    "Sure! Let me look up the current weather in Paris and the Louvre's opening hours for you. "
    "I'll check both at once so you get everything in one reply."
)
CALLS = (
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n'
    "</tool_call>\n"
    '<tool_call>\n{"name": "search_web", "arguments": {"query": "Louvre opening hours today", '
    '"max_results": 5}}\n</tool_call>'
)
MIXED = f"<think>\n{REASONING}\n</think>\n\n{ANSWER}\n{CALLS}<|im_end|>"


def long_call(size: int) -> str:
    line = 'fn main() { println!(\\"hello, world\\"); }\\n'
    value = (line * (size // len(line) + 1))[:size].rstrip("\\")
    return f'<tool_call>\n{{"name": "write_file", "arguments": {{"content": "{value}"}}}}\n</tool_call>'


def cut(text: str, sizes: list[int]) -> list[str]:
    pieces, start, i = [], 0, 0
    while start < len(text):
        end = start + sizes[i % len(sizes)]
        pieces.append(text[start:end])
        start, i = end, i + 1
    return pieces


def make_fastsse(options: dict[str, Any]) -> Any:
    return fastsse.TextParser(**options)


def make_reference(options: dict[str, Any]) -> Any:
    return ReferenceTextParser(
        stop=options.get("stop"),
        reasoning_start=["<think>"] if options.get("reasoning") else [],
        reasoning_end=["</think>"] if options.get("reasoning") else [],
        hermes=options.get("tools") == "hermes",
    )


class _Empty:
    """The floor: a Python object whose decode() does nothing and returns []."""

    def decode(self, text: str) -> list[Any]:
        return []

    def flush(self) -> list[Any]:
        return []


def make_empty(options: dict[str, Any]) -> Any:
    return _Empty()


def decode_only(make: Callable[[dict[str, Any]], Any], pieces: list[str], options: dict[str, Any]) -> int:
    """What the parser costs: decode() on every piece (a new parser per stream, as per request)."""
    parser = make(options)
    decode = parser.decode
    n = 0
    for piece in pieces:
        n += len(decode(piece))
    return n + len(parser.flush())


def decode_and_read(make: Callable[[dict[str, Any]], Any], pieces: list[str], options: dict[str, Any]) -> int:
    """What a server pays: decode() and reading the fields of every chunk."""
    parser = make(options)
    decode = parser.decode
    n = 0
    for piece in pieces:
        for chunk in decode(piece):
            n += len(chunk.text_delta) + len(chunk.reasoning_delta)
            delta = chunk.tool_call_delta
            if delta is not None:
                n += len(delta.arguments_delta)
    for chunk in parser.flush():
        n += len(chunk.text_delta)
    return n


def aggregate(chunks: list[Any]) -> tuple[str, str, list[tuple[str | None, str]], str | None]:
    calls: dict[int, list[Any]] = {}
    for chunk in chunks:
        delta = chunk.tool_call_delta
        if delta is not None:
            call = calls.setdefault(delta.index, [None, ""])
            call[0] = delta.function_name or call[0]
            call[1] += delta.arguments_delta
    return (
        "".join(c.text_delta for c in chunks),
        "".join(c.reasoning_delta for c in chunks),
        [(name, args) for name, args in calls.values()],
        chunks[-1].finish_reason,
    )


def check_same(pieces: list[str], options: dict[str, Any]) -> None:
    ours = fastsse.TextParser(**options)
    ref = ReferenceTextParser(
        stop=options.get("stop"),
        reasoning_start=["<think>"] if options.get("reasoning") else [],
        reasoning_end=["</think>"] if options.get("reasoning") else [],
        hermes=True,
    )
    a: list[Any] = [c for p in pieces for c in ours.decode(p)] + ours.flush()
    b: list[Any] = [c for p in pieces for c in ref.decode(p)] + ref.flush()
    if aggregate(a) != aggregate(b):
        raise AssertionError("fastsse and the pure-Python reference disagree")


def interleaved(
    fns: dict[Any, Callable[[], int]], *, repeat: int, clock: Callable[[], float] = time.perf_counter
) -> dict[Any, float]:
    """Median seconds of each function; they take turns in every round, so a noisy neighbour
    on the machine slows them all alike."""
    times: dict[Any, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            start = clock()
            fn()
            times[name].append(clock() - start)
    return {name: statistics.median(samples) for name, samples in times.items()}


FORMAT_STREAMS = Path(__file__).resolve().parents[1] / "data" / "format_streams.json"
QUERY = "Louvre opening hours today"


def grown(stream: str, size: int) -> str:
    """The stream with the search query grown to `size` characters of plain words."""
    words = "lorem ipsum dolor sit amet "
    return stream.replace(QUERY, (words * (size // len(words) + 1))[:size].rstrip(), 1)


def checked(fmt: str, pieces: list[str], tools: list[Any], names: list[str]) -> None:
    parser = fastsse.TextParser(tools=fmt, tool_schemas=tools)
    chunks = [c for p in pieces for c in parser.decode(p)] + parser.flush()
    got = [
        c.tool_call_delta.function_name
        for c in chunks
        if c.tool_call_delta and c.tool_call_delta.function_name
    ]
    if got != names or any(c.error_code for c in chunks):
        raise AssertionError(f"{fmt}: the stream does not parse as two calls ({got})")


def formats_table(repeat: int) -> str:
    data = json.loads(FORMAT_STREAMS.read_text(encoding="utf-8"))
    tools, names, streams = data["tools"], data["calls"], data["streams"]
    sizes = [16 << 10, 64 << 10, 256 << 10]
    cases: dict[tuple[str, int], list[str]] = {}
    for fmt in fastsse.TextParser.TOOL_FORMATS:
        if fmt not in streams:
            raise AssertionError(f"{fmt}: no stream in {FORMAT_STREAMS.name}")
        cases[fmt, 0] = cut(streams[fmt], DELTAS)
        for size in sizes:
            cases[fmt, size] = cut(grown(streams[fmt], size), [4])
        for pieces in (cases[fmt, 0], cases[fmt, sizes[0]]):
            checked(fmt, pieces, tools, names)
    # A sample of the short stream holds many streams: one alone (~50 µs) measures mostly the
    # caches that the gc.collect() before each sample left cold.
    streams_per_sample = {size: 1 if size else 100 for size in [0, *sizes]}

    def sample(key: tuple[str, int]) -> int:
        options = {"tools": key[0], "tool_schemas": tools}
        return sum(decode_only(make_fastsse, cases[key], options) for _ in range(streams_per_sample[key[1]]))

    fns = {key: partial(sample, key) for key in cases}
    # CPU time of this process: on a shared machine, time spent waiting for a core is not the
    # parser's (the single-threaded loop's CPU time is its cost).
    seconds = interleaved(fns, repeat=repeat, clock=time.process_time)
    short = [fmt for fmt, size in cases if size == 0]
    per_delta = {fmt: seconds[fmt, 0] / (streams_per_sample[0] * len(cases[fmt, 0])) * 1e9 for fmt in short}
    lines = [
        "| format | ns per delta | vs hermes | ns/KiB at 16 KiB | 64 KiB | 256 KiB | 256 KiB / 16 KiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for fmt, ns in per_delta.items():
        per_kib = [seconds[fmt, size] / (size / 1024) * 1e9 for size in sizes]
        lines.append(
            f"| {fmt} | {ns:,.0f} | {ns / per_delta['hermes']:.2f}x | "
            + " | ".join(f"{v:,.0f}" for v in per_kib)
            + f" | {per_kib[-1] / per_kib[0]:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--formats", action="store_true", help="every tool format, one stream shape")
    args = parser.parse_args()
    repeat = 5 if args.quick else 31
    if args.formats:
        print(
            f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; "
            f"fastsse {fastsse.__version__}; medians of {repeat} interleaved runs (process CPU time); "
            "a new parser per stream\n"
        )
        print(formats_table(repeat))
        return
    results: list[Result] = []
    impls = {
        "fastsse": make_fastsse,
        "pure Python (same semantics)": make_reference,
        "floor: empty Python decode()": make_empty,
    }
    streams = [
        (
            "mixed stream, 1-4 char deltas",
            cut(MIXED, DELTAS),
            {"stop": STOPS, "reasoning": "think", "tools": "hermes"},
        ),
        ("64 KiB arguments, 4 char deltas", cut(long_call(64 << 10), [4]), {"tools": "hermes"}),
    ]
    for stream, pieces, options in streams:
        check_same(pieces, options)
        for what, run in [("decode()", decode_only), ("decode() + read fields", decode_and_read)]:
            case = f"{stream}: {what}"
            expected = run(make_fastsse, pieces, options)
            if run(make_reference, pieces, options) != expected:
                raise AssertionError(f"{case}: the implementations read different amounts")
            fns = {name: partial(run, make, pieces, options) for name, make in impls.items()}
            for name, seconds in interleaved(fns, repeat=repeat).items():
                results.append(Result(case, name, seconds, len(pieces)))

    print(
        f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; "
        f"fastsse {fastsse.__version__}; medians of {repeat} interleaved runs; "
        "'per item' = per decode() call\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
