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
import json
import platform
from collections.abc import Callable
from typing import Any

import fastsse
import orjson
from _harness import medians_ns, versus_fastsse
from fastsse import GenerationChunk, ToolCallDelta
from openai.types.chat import ChatCompletionChunk

ID, MODEL, CREATED, FINGERPRINT = (
    "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "gpt-4o-2024-08-06",
    1727346163,
    "fp_5050",
)
# The fields every chunk of the stream repeats (the peers copy them into each chunk they build).
ENVELOPE: dict[str, Any] = {
    "id": ID,
    "object": "chat.completion.chunk",
    "created": CREATED,
    "model": MODEL,
    "system_fingerprint": FINGERPRINT,
}
TEXT = " the quick"
CALL_ID, CALL_NAME, ARGUMENTS = "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", '{"location": "Pa'


def fastsse_encoder() -> fastsse.Encoder:
    encoder = fastsse.Encoder("openai", id=ID, model=MODEL, created=CREATED, system_fingerprint=FINGERPRINT)
    encoder.encode([])  # the role chunk, written once per stream
    return encoder


def peers(delta: dict[str, Any]) -> dict[str, Callable[[], bytes]]:
    """The peers, each writing a chunk whose one choice carries ``delta`` (built on each call)."""

    def pydantic() -> bytes:
        model = ChatCompletionChunk(
            **ENVELOPE,
            choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}],
        )
        return f"data: {model.model_dump_json(exclude_unset=True)}\n\n".encode()

    def orjson_dict() -> bytes:
        body = {
            **ENVELOPE,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}],
        }
        return b"data: " + orjson.dumps(body) + b"\n\n"

    return {"pydantic ChatCompletionChunk + model_dump_json": pydantic, "orjson.dumps(dict)": orjson_dict}


def text_cases() -> dict[str, Callable[[], bytes]]:
    encoder = fastsse_encoder()
    chunk = GenerationChunk(TEXT)
    batch = [chunk]

    def fastsse_built() -> bytes:
        return encoder.encode(batch)

    def fastsse_with_chunk() -> bytes:
        return encoder.encode([GenerationChunk(TEXT)])

    return {
        "fastsse": fastsse_built,
        "fastsse (+ chunk construction)": fastsse_with_chunk,
        **peers({"content": TEXT}),
    }


def tool_call_cases() -> dict[str, Callable[[], bytes]]:
    encoder = fastsse_encoder()
    # The id/name fragment was sent; this is a later arguments fragment of the same call...
    encoder.encode([GenerationChunk(tool_call_delta=ToolCallDelta(0, id=CALL_ID, function_name=CALL_NAME))])
    fragment = [GenerationChunk(tool_call_delta=ToolCallDelta(0, arguments_delta=ARGUMENTS))]

    def fastsse_built() -> bytes:
        return encoder.encode(fragment)

    def fastsse_with_chunk() -> bytes:
        return encoder.encode([GenerationChunk(tool_call_delta=ToolCallDelta(0, arguments_delta=ARGUMENTS))])

    return {
        "fastsse": fastsse_built,
        "fastsse (+ chunk construction)": fastsse_with_chunk,
        **peers({"tool_calls": [{"index": 0, "function": {"arguments": ARGUMENTS}}]}),
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
        for name, ns, ratio in versus_fastsse(medians_ns(cases, loops=loops, repeat=repeat)):
            print(f"| {label} | {name} | {ns:,.0f} ns | {ratio} |")


if __name__ == "__main__":
    main()
