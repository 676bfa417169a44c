"""Reading a tool call's arguments as they stream: fastsse's `snapshot()` vs the Anthropic SDK.

    python benches/python/bench_snapshot.py [--quick]

One Anthropic stream whose tool input is `size` bytes of JSON (a file body, sent in 16-byte
`input_json_delta`s, as the API sends them), served by an httpx2 MockTransport to the same SDK
client. The SDK side iterates `client.messages.stream(...)`, whose `MessageStream` re-parses the
whole input (jiter, partial mode) to update its snapshot on every delta, and reads
`current_message_snapshot.content[1].input`. The fastsse side reads the SDK's raw response with
`fastsse.iter_chunks` and reads `stream.snapshot().tool_calls[0].parsed_arguments` after every
delta (or every `every` deltas). CPU time of the process, interleaved, medians, ratios from the
same run.
"""

from __future__ import annotations

import argparse
import platform
import time
from typing import Any

import anthropic
import fastsse
from _harness import Result, measure, table
from bench_sdk import MESSAGES, anthropic_stream, client

# CPU time of this process: the loops do no real I/O, and on a shared machine wall time mostly
# measures the other processes.
CPU = time.process_time


def sdk_loop(sdk: Any, every: int) -> int:
    reads = deltas = 0
    with sdk.messages.stream(model="m", max_tokens=9, messages=MESSAGES) as stream:
        for event in stream:
            if event.type == "input_json":
                deltas += 1
                if deltas % every == 0:
                    arguments = stream.current_message_snapshot.content[1].input
                    reads += arguments is not None
    return reads


def fastsse_loop(sdk: Any, every: int) -> int:
    reads = deltas = 0
    raw = sdk.messages.with_streaming_response.create(model="m", max_tokens=9, messages=MESSAGES, stream=True)
    with raw as response:
        stream = fastsse.iter_chunks(response, "anthropic")
        for chunk in stream:
            if chunk.tool_call_delta is not None and chunk.tool_call_delta.arguments_delta:
                deltas += 1
                if deltas % every == 0:
                    arguments = stream.snapshot().tool_calls[0].parsed_arguments
                    reads += arguments is not None
    return reads


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 3
    build = fastsse.build_info()
    print(f"python {platform.python_version()}, anthropic {anthropic.__version__}, {build}")
    cases = [(64 * 1024, 1), (16 * 1024, 16), (64 * 1024, 16), (256 * 1024, 16)]
    if args.quick:
        cases = cases[:2]
    results: list[Result] = []
    for size, every in cases:
        body = anthropic_stream(10, tool_bytes=size)
        plain = client(anthropic.Anthropic, body)
        expected = sdk_loop(plain, every)
        assert fastsse_loop(plain, every) == expected
        case = f"{size // 1024} KiB tool input, read every {every} delta(s)"
        for impl, loop in (("fastsse", fastsse_loop), ("anthropic SDK", sdk_loop)):
            seconds = measure(lambda lp=loop, p=plain, n=every: lp(p, n), repeat=repeat, clock=CPU)  # type: ignore[misc]
            results.append(Result(case, impl, seconds, expected))
    print(table(results))


if __name__ == "__main__":
    main()
