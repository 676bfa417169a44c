"""The official SDKs' streaming loops, plain vs `fastsse.accelerate(client)`, on the same bytes.

    python benches/python/bench_sdk.py [--quick]

Each case serves one synthetic stream (shaped like the captures in tests/data) from an httpx2
MockTransport to the same SDK client, and runs the loop a user writes; the accelerated loop reads
the same fields. Times are the process's CPU time and include the SDK's request machinery
(identical on both sides). Cases are interleaved, medians of repeated runs, ratios from the same
run. The last line says what bounds the accelerated Anthropic loop (see `anthropic_floor`).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from typing import Any

import anthropic
import fastsse
import httpx2
import openai
from _harness import Result, measure, table

# CPU time of this process: the loops do no real I/O, and on a shared machine wall time mostly
# measures the other processes.
CPU = time.process_time

MESSAGES = [{"role": "user", "content": "hi"}]
PIECES = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]


def sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def openai_text_stream(n: int) -> bytes:
    base = {
        "id": "chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL",
        "object": "chat.completion.chunk",
        "created": 1727346168,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_5050236cbd",
    }
    out = [sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})]
    for i in range(n):
        delta = {"content": PIECES[i % len(PIECES)]}
        out.append(
            sse({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]})
        )
    out.append(sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    out.append(
        sse(
            {
                **base,
                "choices": [],
                "usage": {"prompt_tokens": 9, "completion_tokens": n, "total_tokens": 9 + n},
            }
        )
    )
    return b"".join(out) + b"data: [DONE]\n\n"


def anthropic_stream(n: int, *, tool_bytes: int = 0) -> bytes:
    message = {
        "id": "msg_019Q1hrJbZG26Fb9BQhrkHEr",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-20250514",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 377, "output_tokens": 1},
    }
    out = [sse({"type": "message_start", "message": message}, "message_start")]
    out.append(
        sse(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        )
    )
    for i in range(n):
        delta = {"type": "text_delta", "text": PIECES[i % len(PIECES)]}
        out.append(sse({"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta"))
    out.append(sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
    if tool_bytes:
        block = {"type": "tool_use", "id": "toolu_1", "name": "write_file", "input": {}}
        out.append(
            sse({"type": "content_block_start", "index": 1, "content_block": block}, "content_block_start")
        )
        arguments = json.dumps({"path": "notes.txt", "content": "x" * tool_bytes})
        for start in range(0, len(arguments), 16):  # 16-byte deltas, as the API sends them
            delta = {"type": "input_json_delta", "partial_json": arguments[start : start + 16]}
            out.append(
                sse({"type": "content_block_delta", "index": 1, "delta": delta}, "content_block_delta")
            )
        out.append(sse({"type": "content_block_stop", "index": 1}, "content_block_stop"))
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": n},
    }
    out.append(sse(delta, "message_delta"))
    out.append(sse({"type": "message_stop"}, "message_stop"))
    return b"".join(out)


READ_SIZE = 4096  # the body arrives in network-sized reads, as from a socket


def client(factory: Any, body: bytes) -> Any:
    pieces = [body[start : start + READ_SIZE] for start in range(0, len(body), READ_SIZE)]

    def respond(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=iter(pieces))

    http_client = httpx2.Client(transport=httpx2.MockTransport(respond))
    return factory(api_key="k", base_url="http://bench.test/v1", http_client=http_client, max_retries=0)


# --- the loops a user writes -------------------------------------------------------------------------


def chat_loop(sdk: Any) -> int:
    n = 0
    for chunk in sdk.chat.completions.create(model="m", messages=MESSAGES, stream=True):
        for choice in chunk.choices:
            if choice.delta.content:
                n += 1
    return n


def events_loop(sdk: Any) -> int:
    n = 0
    for event in sdk.messages.create(model="m", max_tokens=9, messages=MESSAGES, stream=True):
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            n += 1
    return n


def text_stream_loop(sdk: Any) -> int:
    with sdk.messages.stream(model="m", max_tokens=9, messages=MESSAGES) as stream:
        n = sum(1 for _ in stream.text_stream)
        stream.get_final_message()
    return n


def helper_events_loop(sdk: Any) -> int:
    with sdk.messages.stream(model="m", max_tokens=9, messages=MESSAGES) as stream:
        n = sum(1 for event in stream if event.type == "text")
        stream.get_final_message()
    return n


def anthropic_floor(n: int, repeat: int) -> str:
    """What bounds the accelerated Anthropic loop: the request's fixed cost (a stream of no
    deltas), the decoder alone (bytes to the list of events, no HTTP), and the user's loop body
    alone over a list of the same events (no I/O, no decoding)."""
    from fastsse._fastsse import AnthropicEventDecoder
    from fastsse.sdk._anthropic import Hooks

    body = anthropic_stream(n)
    pieces = [body[start : start + READ_SIZE] for start in range(0, len(body), READ_SIZE)]
    fast = fastsse.accelerate(client(anthropic.Anthropic, body))
    empty = fastsse.accelerate(client(anthropic.Anthropic, anthropic_stream(0)))
    events = list(fast.messages.create(model="m", max_tokens=9, messages=MESSAGES, stream=True))

    def decode_only() -> int:
        decoder = AnthropicEventDecoder("raw", Hooks(None, None))
        return sum(len(decoder.decode(piece)) for piece in pieces)

    def loop_body_only() -> int:
        k = 0
        for event in events:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                k += 1
        return k

    fixed = measure(lambda: events_loop(empty), repeat=repeat, clock=CPU)
    whole = measure(lambda: events_loop(fast), repeat=repeat, clock=CPU)
    decode = measure(decode_only, repeat=repeat, clock=CPU)
    body_only = measure(loop_body_only, repeat=repeat, clock=CPU)
    per = lambda seconds: f"{seconds / n * 1e9:,.0f} ns"  # noqa: E731
    return (
        f"anthropic messages.create(stream=True), {n} deltas: whole loop {per(whole)}/event; "
        f"request fixed cost {fixed * 1e3:.2f} ms ({per(fixed)}/event); "
        f"AnthropicEventDecoder alone {per(decode)}/event; loop body alone {per(body_only)}/event"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 2_000 if args.quick else 10_000
    repeat = 5 if args.quick else 7
    build = fastsse.build_info()
    print(
        f"python {platform.python_version()}, openai {openai.__version__},",
        f"anthropic {anthropic.__version__}, {build}",
    )

    cases: list[tuple[str, Callable[[Any], int], Any, bytes]] = [
        ("openai chat.completions.create(stream=True)", chat_loop, openai.OpenAI, openai_text_stream(n)),
        ("anthropic messages.create(stream=True)", events_loop, anthropic.Anthropic, anthropic_stream(n)),
        (
            "anthropic messages.stream: text_stream",
            text_stream_loop,
            anthropic.Anthropic,
            anthropic_stream(n),
        ),
        ("anthropic messages.stream: events", helper_events_loop, anthropic.Anthropic, anthropic_stream(n)),
    ]
    results: list[Result] = []
    for case, loop, factory, body in cases:
        plain = client(factory, body)
        fast = fastsse.accelerate(plain)
        expected = loop(plain)
        assert loop(fast) == expected, case
        for impl, sdk in (("fastsse", fast), ("plain SDK", plain)):
            seconds = measure(lambda s=sdk, lp=loop: lp(s), repeat=repeat, clock=CPU)  # type: ignore[misc]
            results.append(Result(case, impl, seconds, n))
    print(table(results))
    print(anthropic_floor(n, repeat))


if __name__ == "__main__":
    main()
