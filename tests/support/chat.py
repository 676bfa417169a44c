"""The chat the server tests send through the official SDKs: the weather tool in each API's shape,
the question that calls it, a scripted answer, and the checks of the replay engine's generations."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from fastsse.adapters import GenerationRecord, ReplayAdapter
from serving import CLOSE_PROMPTLY

WEATHER = {
    "name": "get_weather",
    "description": "Returns the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
    },
}
OPENAI_TOOLS = [{"type": "function", "function": WEATHER}]
ANTHROPIC_TOOLS = [
    {"name": WEATHER["name"], "description": WEATHER["description"], "input_schema": WEATHER["parameters"]}
]
QUESTION = [{"role": "user", "content": "What's the weather in Paris?"}]
SCRIPTED = (
    "<think>\nThe user greets me; a short friendly answer fits.\n</think>\n\n"
    "Hello! Nice to meet you — how can I help?"
)


@contextmanager
def answering(replay: ReplayAdapter, script: Callable[[str], str] | Sequence[str]) -> Iterator[ReplayAdapter]:
    """The shared replay engine writes ``script`` (instead of its built-in responder) in the block."""
    replay._script = script
    try:
        yield replay
    finally:
        replay._script = None


@contextmanager
def paced(replay: ReplayAdapter) -> Iterator[ReplayAdapter]:
    """The shared replay engine writes 100 tokens a second in the block, so a client can leave
    mid-generation."""
    replay.tokens_per_second = 100
    try:
        yield replay
    finally:
        replay.tokens_per_second = None


class ClosableStream(Protocol):
    def __iter__(self) -> Iterator[object]: ...

    def close(self) -> None: ...


def leave_mid_stream(stream: ClosableStream, items: int, replay: ReplayAdapter) -> None:
    """Read ``items`` items of a client's ``stream``, then close it: ``replay``'s latest generation
    must end as closed promptly."""
    for _, _item in zip(range(items), stream, strict=False):
        pass
    record = replay.records[-1]
    left = time.monotonic()
    stream.close()
    assert_engine_closed_since(record, left)


def assert_engine_closed_since(record: GenerationRecord, left: float) -> None:
    """The client left at ``left`` (``time.monotonic()``): the engine's generation ``record`` must
    end as closed within ``CLOSE_PROMPTLY`` seconds."""
    deadline = left + 5
    while record.finished_at is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert record.outcome == "closed" and record.finished_at is not None
    assert record.finished_at - left < CLOSE_PROMPTLY, (
        f"engine closed {record.finished_at - left:.3f}s after the client left"
    )
