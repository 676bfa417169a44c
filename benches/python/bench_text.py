"""Raw model text through Python: `fastsse.TextParser` side by side with a straightforward
pure-Python implementation of the same semantics (tests/text_reference.py).

    python benches/python/bench_text.py [--quick]

The realistic mixed stream is reasoning + answer text + 2 Hermes calls, with a stop list of 4
(the last one ends the stream), fed in 1-4 character deltas as an inference engine would; the
table gives the cost per decode() call. Both implementations run in the same process, their
outputs are checked equal first, and each consumer reads the fields of every chunk.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import fastsse
from _harness import Result, measure, table

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


def consume(chunks: Iterable[Any]) -> int:
    """Read what a server would read from each chunk; returns a checksum-ish count."""
    n = 0
    for chunk in chunks:
        n += len(chunk.text_delta) + len(chunk.reasoning_delta)
        delta = chunk.tool_call_delta
        if delta is not None:
            n += len(delta.arguments_delta)
    return n


def run_fastsse(pieces: list[str], options: dict[str, Any]) -> int:
    parser = fastsse.TextParser(**options)
    decode = parser.decode
    n = 0
    for piece in pieces:
        n += consume(decode(piece))
    return n + consume(parser.flush())


def run_reference(pieces: list[str], options: dict[str, Any]) -> int:
    parser = ReferenceTextParser(
        stop=options.get("stop"),
        reasoning_start=["<think>"] if options.get("reasoning") else [],
        reasoning_end=["</think>"] if options.get("reasoning") else [],
        hermes=options.get("tools") == "hermes",
    )
    decode = parser.decode
    n = 0
    for piece in pieces:
        n += consume(decode(piece))
    return n + consume(parser.flush())


class _Empty:
    """The floor: a Python object whose decode() does nothing and returns []."""

    def decode(self, text: str) -> list[Any]:
        return []

    def flush(self) -> list[Any]:
        return []


def run_empty(pieces: list[str], options: dict[str, Any]) -> int:
    parser = _Empty()
    decode = parser.decode
    n = 0
    for piece in pieces:
        n += consume(decode(piece))
    return n + consume(parser.flush())


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 5 if args.quick else 15
    results: list[Result] = []
    impls: dict[str, Callable[[list[str], dict[str, Any]], int]] = {
        "fastsse": run_fastsse,
        "pure Python (same semantics)": run_reference,
        "floor: empty Python decode()": run_empty,
    }
    cases = [
        (
            "mixed stream, 1-4 char deltas",
            cut(MIXED, DELTAS),
            {"stop": STOPS, "reasoning": "think", "tools": "hermes"},
        ),
        ("64 KiB arguments, 4 char deltas", cut(long_call(64 << 10), [4]), {"tools": "hermes"}),
    ]
    for case, pieces, options in cases:
        check_same(pieces, options)
        expected = run_fastsse(pieces, options)
        for name, fn in impls.items():
            check = None if fn is run_empty else expected
            seconds = measure(partial(fn, pieces, options), repeat=repeat, expected=check)
            results.append(Result(case, name, seconds, len(pieces)))

    print(
        f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; "
        f"fastsse {fastsse.__version__}; medians of {repeat} runs; 'per item' = per decode() call\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
