"""Encoding one chunk to OpenAI SSE bytes, side by side: fastsse vs how Python servers do it.

    python benches/python/bench_encode.py [--quick]

* fastsse: `Encoder.encode([chunk])` on a live stream encoder (the server's per-token call),
  with the `GenerationChunk` already built (the worker has it) and with its construction
  counted too;
* pydantic: openai's own `ChatCompletionChunk` built with validation, then
  `model_dump_json(exclude_unset=True)` framed as `data: ...\\n\\n` bytes (the vLLM/SGLang way);
* orjson: a dict of the same chunk through `orjson.dumps`, framed the same way.

Every implementation produces the same JSON object (checked before timing); medians and
ratios come from the same run.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import fastsse
import orjson
from fastsse import GenerationChunk, ToolCallDelta
from openai.types.chat import ChatCompletionChunk

ID, MODEL, CREATED, FINGERPRINT = (
    "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "gpt-4o-2024-08-06",
    1727346163,
    "fp_5050",
)
TEXT = " the quick"
CALL_ID, CALL_NAME, ARGUMENTS = "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", '{"location": "Pa'


def fastsse_encoder() -> fastsse.Encoder:
    encoder = fastsse.Encoder("openai", id=ID, model=MODEL, created=CREATED, system_fingerprint=FINGERPRINT)
    encoder.encode([])  # the role chunk, written once per stream
    return encoder


def text_cases() -> dict[str, Callable[[], bytes]]:
    encoder = fastsse_encoder()
    chunk = GenerationChunk(TEXT)
    batch = [chunk]

    def fastsse_built() -> bytes:
        return encoder.encode(batch)

    def fastsse_with_chunk() -> bytes:
        return encoder.encode([GenerationChunk(TEXT)])

    def pydantic() -> bytes:
        model = ChatCompletionChunk(
            id=ID,
            object="chat.completion.chunk",
            created=CREATED,
            model=MODEL,
            system_fingerprint=FINGERPRINT,
            choices=[{"index": 0, "delta": {"content": TEXT}, "logprobs": None, "finish_reason": None}],
        )
        return f"data: {model.model_dump_json(exclude_unset=True)}\n\n".encode()

    def orjson_dict() -> bytes:
        body = {
            "id": ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": FINGERPRINT,
            "choices": [{"index": 0, "delta": {"content": TEXT}, "logprobs": None, "finish_reason": None}],
        }
        return b"data: " + orjson.dumps(body) + b"\n\n"

    return {
        "fastsse": fastsse_built,
        "fastsse (+ chunk construction)": fastsse_with_chunk,
        "pydantic ChatCompletionChunk + model_dump_json": pydantic,
        "orjson.dumps(dict)": orjson_dict,
    }


def tool_call_cases() -> dict[str, Callable[[], bytes]]:
    encoder = fastsse_encoder()
    # The id/name fragment was sent; this is a later arguments fragment of the same call...
    encoder.encode([GenerationChunk(tool_call_delta=ToolCallDelta(0, id=CALL_ID, function_name=CALL_NAME))])
    fragment = [GenerationChunk(tool_call_delta=ToolCallDelta(0, arguments_delta=ARGUMENTS))]
    call: dict[str, Any] = {"index": 0, "function": {"arguments": ARGUMENTS}}

    def fastsse_built() -> bytes:
        return encoder.encode(fragment)

    def fastsse_with_chunk() -> bytes:
        return encoder.encode([GenerationChunk(tool_call_delta=ToolCallDelta(0, arguments_delta=ARGUMENTS))])

    def pydantic() -> bytes:
        model = ChatCompletionChunk(
            id=ID,
            object="chat.completion.chunk",
            created=CREATED,
            model=MODEL,
            system_fingerprint=FINGERPRINT,
            choices=[
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ARGUMENTS}}]},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        )
        return f"data: {model.model_dump_json(exclude_unset=True)}\n\n".encode()

    def orjson_dict() -> bytes:
        body = {
            "id": ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": FINGERPRINT,
            "choices": [
                {"index": 0, "delta": {"tool_calls": [call]}, "logprobs": None, "finish_reason": None}
            ],
        }
        return b"data: " + orjson.dumps(body) + b"\n\n"

    return {
        "fastsse": fastsse_built,
        "fastsse (+ chunk construction)": fastsse_with_chunk,
        "pydantic ChatCompletionChunk + model_dump_json": pydantic,
        "orjson.dumps(dict)": orjson_dict,
    }


def same_event(cases: dict[str, Callable[[], bytes]]) -> None:
    """Every implementation must write one SSE event with the same JSON object."""
    decoded = {}
    for name, fn in cases.items():
        data = fn()
        assert data.startswith(b"data: ") and data.endswith(b"\n\n") and data.count(b"\n\n") == 1, name
        decoded[name] = json.loads(data[6:])
    first = next(iter(decoded.values()))
    for name, value in decoded.items():
        assert value == first, f"{name} writes {value}, expected {first}"


def medians_ns(cases: dict[str, Callable[[], bytes]], *, loops: int, repeat: int) -> dict[str, float]:
    """Median ns per call of each case; the cases take turns in every round, so a noisy
    neighbour on the machine slows them all alike."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            gc.collect()
            start = time.perf_counter()
            for _ in range(loops):
                fn()
            times[name].append((time.perf_counter() - start) / loops * 1e9)
    return {name: statistics.median(samples) for name, samples in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer loops (a smoke run)")
    args = parser.parse_args()
    loops, repeat = (2_000, 5) if args.quick else (20_000, 11)

    python = f"Python {platform.python_version()}, {platform.machine()}"
    print(f"{python}; median of {repeat} interleaved runs x {loops} chunks\n")
    print("| chunk | implementation | median per chunk | time vs fastsse |")
    print("|---|---|---:|---:|")
    for label, cases in (("text delta", text_cases()), ("tool-call arguments", tool_call_cases())):
        same_event(cases)
        results = medians_ns(cases, loops=loops, repeat=repeat)
        fast = results["fastsse"]
        for name, ns in results.items():
            ratio = "" if name == "fastsse" else f"{ns / fast:.1f}x"
            print(f"| {label} | {name} | {ns:,.0f} ns | {ratio} |")


if __name__ == "__main__":
    main()
