"""Bytes -> text deltas, side by side, in one run.

A 100k-chunk OpenAI Chat Completions stream and a 50k-delta Anthropic Messages stream, fed in
1-16 KiB network reads, through:

* fastsse: `iter_chunks(pieces, provider)`, reading `chunk.text_delta`;
* the official SDK's own iterator: `client.chat.completions.create(stream=True)` /
  `client.messages.create(stream=True)` over an httpx2 mock transport that streams the reads;
* a hand-written peer: the SDK's `SSEDecoder` + `orjson.loads` + dict lookups.

Every contender must produce the same text. The contenders run interleaved (one run of each per
round) and are timed in CPU time (`time.thread_time`: the machine's cores may be shared, and
waiting for one is no contender's cost). Prints a markdown table of medians and ratios.

    python benches/python/bench_providers.py            # full size
    python benches/python/bench_providers.py --quick    # 10x smaller, for a smoke run
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import anthropic
import fastsse
import httpx2
import openai
import orjson
from _harness import cut
from anthropic._streaming import SSEDecoder as AnthropicSSEDecoder
from openai._streaming import SSEDecoder as OpenAISSEDecoder

WORDS = [
    " the", " model", " streams", " tokens", ",", " one", " delta", " at", " a", " time", ".",
    " It", " says", ' \\"hello\\"', " and", "\\n", " café", " 🙂", " then", " stops",
]  # fmt: skip

OPENAI_HEAD = (
    '{"id":"chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL","object":"chat.completion.chunk","created":1727346168,'
    '"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":'
)


def openai_stream(chunks: int) -> bytes:
    tail = ',"logprobs":null,"finish_reason":null}]}\n\n'
    parts = [f'data: {OPENAI_HEAD}{{"content":"{WORDS[i % len(WORDS)]}"}}{tail}' for i in range(chunks)]
    parts.append(f'data: {OPENAI_HEAD}{{}},"logprobs":null,"finish_reason":"stop"}}]}}\n\n')
    parts.append(f'data: {{"choices":[],"usage":{{"prompt_tokens":14,"completion_tokens":{chunks}}}}}\n\n')
    parts.append("data: [DONE]\n\n")
    return "".join(parts).encode()


def anthropic_stream(deltas: int) -> bytes:
    # Like the real API, each delta is padded with 0-15 blanks before its last brace (it hides
    # the length of the text).
    parts = [
        "event: message_start\ndata: "
        '{"type":"message_start","message":{"id":"msg_019Q1hrJbZG26Fb9BQhrkHEr","type":"message",'
        '"role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,'
        '"stop_sequence":null,"usage":{"input_tokens":377,"output_tokens":1}}}\n\n',
        "event: content_block_start\ndata: "
        '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
    ]
    head = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
    parts.extend(
        f'{head}{{"type":"text_delta","text":"{WORDS[i % len(WORDS)]}"}}{" " * (i * 7 % 16)}}}\n\n'
        for i in range(deltas)
    )
    parts.append('event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n')
    parts.append(
        "event: message_delta\ndata: "
        '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
        f'"usage":{{"output_tokens":{deltas}}}}}\n\n'
    )
    parts.append('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    return "".join(parts).encode()


def network_reads(data: bytes, seed: int = 7) -> list[bytes]:
    return cut(data, 1024, 16 * 1024, seed)


# --- contenders: each returns the list of text deltas ------------------------------------


def fastsse_deltas(reads: list[bytes], provider: str) -> list[str]:
    out = []
    append = out.append
    for chunk in fastsse.iter_chunks(reads, provider):
        text = chunk.text_delta
        if text:
            append(text)
    return out


def _client(factory: Callable[..., object], reads: list[bytes]) -> object:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=iter(reads))

    return factory(
        api_key="bench",
        base_url="http://bench.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )


def openai_sdk_deltas(reads: list[bytes]) -> list[str]:
    client = _client(openai.OpenAI, reads)
    out = []
    stream = client.chat.completions.create(model="m", messages=[], stream=True)  # type: ignore[attr-defined]
    for chunk in stream:
        if chunk.choices:
            text = chunk.choices[0].delta.content
            if text:
                out.append(text)
    return out


def anthropic_sdk_deltas(reads: list[bytes]) -> list[str]:
    client = _client(anthropic.Anthropic, reads)
    out = []
    stream = client.messages.create(  # type: ignore[attr-defined]
        model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}], stream=True
    )
    for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            out.append(event.delta.text)
    return out


def openai_hand_deltas(reads: list[bytes]) -> list[str]:
    out = []
    for sse in OpenAISSEDecoder().iter_bytes(iter(reads)):
        if sse.data.startswith("[DONE]"):
            break
        choices = orjson.loads(sse.data).get("choices")
        if choices:
            text = choices[0]["delta"].get("content")
            if text:
                out.append(text)
    return out


def anthropic_hand_deltas(reads: list[bytes]) -> list[str]:
    out = []
    for sse in AnthropicSSEDecoder().iter_bytes(iter(reads)):
        if sse.event == "content_block_delta":
            delta = orjson.loads(sse.data)["delta"]
            if delta["type"] == "text_delta":
                out.append(delta["text"])
    return out


# --- timing ------------------------------------------------------------------------------


def interleaved_medians(contenders: list[tuple[Callable[[], list[str]], int]], expected: str) -> list[float]:
    """Median CPU seconds of each contender, run `repeats` times each, one run of each per round."""
    times: list[list[float]] = [[] for _ in contenders]
    for round_ in range(max(repeats for _, repeats in contenders)):
        for (run, repeats), samples in zip(contenders, times, strict=True):
            if round_ >= repeats:
                continue
            gc.collect()
            start = time.thread_time()
            deltas = run()
            samples.append(time.thread_time() - start)
            if "".join(deltas) != expected:
                raise AssertionError(f"{run} produced different text")
            del deltas
    return [statistics.median(samples) for samples in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller streams")
    parser.add_argument("--repeats", type=int, default=5, help="runs per fastsse / hand-written case")
    parser.add_argument("--sdk-repeats", type=int, default=3, help="runs per SDK case (they are slow)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    cases = [
        (
            "OpenAI Chat Completions",
            "openai",
            100_000 // scale,
            openai_stream(100_000 // scale),
            openai_sdk_deltas,
            openai_hand_deltas,
            "`chat.completions.create(stream=True)`",
        ),
        (
            "Anthropic Messages",
            "anthropic",
            50_000 // scale,
            anthropic_stream(50_000 // scale),
            anthropic_sdk_deltas,
            anthropic_hand_deltas,
            "`messages.create(stream=True)`",
        ),
    ]
    print(
        f"openai {openai.__version__}, anthropic {anthropic.__version__}, httpx2 {httpx2.__version__}, "
        f"orjson {orjson.__version__}; reads of 1-16 KiB; CPU time, medians of {args.repeats} "
        f"(SDK: {args.sdk_repeats}) interleaved runs\n"
    )
    print("| stream | contender | median | per chunk | fastsse is faster by |")
    print("|---|---|---:|---:|---:|")
    for title, provider, count, data, sdk, hand, sdk_name in cases:
        reads = network_reads(data)
        expected = "".join(fastsse_deltas(reads, provider))
        label = f"{title}, {count:,} chunks ({len(data) / 1e6:.1f} MB)"
        ours, sdk_seconds, hand_seconds = interleaved_medians(
            [
                (lambda r=reads, p=provider: fastsse_deltas(r, p), args.repeats),
                (lambda r=reads, f=sdk: f(r), args.sdk_repeats),
                (lambda r=reads, f=hand: f(r), args.repeats),
            ],
            expected,
        )
        rows = [
            ("fastsse `iter_chunks`", ours),
            (f"SDK {sdk_name}", sdk_seconds),
            ("SDK `SSEDecoder` + orjson (hand-written)", hand_seconds),
        ]
        for name, seconds in rows:
            ratio = "—" if seconds is ours else f"{seconds / ours:.1f}x"
            per_chunk = f"{seconds / count * 1e9:,.0f} ns"
            print(f"| {label} | {name} | {seconds * 1e3:.0f} ms | {per_chunk} | {ratio} |")


if __name__ == "__main__":
    main()
