"""SSE framing through Python, side by side with openai-python's and httpx-sse's decoders.

    python benches/python/bench_sse.py [--quick]

All implementations consume the same pieces in the same process, interleaved (one run of each
in turn, `repeat` times); medians and ratios come from the same run. Times are the process's CPU
time (`time.process_time`), which a busy shared machine disturbs far less than wall time. Each
implementation's events' `data` is touched so nothing is skipped lazily. The floor lines at the end
time what no decoder can avoid in this loop: the consumer's own loop over ready-made events, and
one empty call per piece.
"""

from __future__ import annotations

import argparse
import codecs
import gc
import platform
import statistics
import time
from collections.abc import Callable

import fastsse
from _harness import Result, cut, table


def openai_stream(n: int) -> bytes:
    chunk = (
        'data: {"id":"chatcmpl-ABC123","object":"chat.completion.chunk","created":1727346163,'
        '"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,'
        '"delta":{"content":" tok%d"},"logprobs":null,"finish_reason":null}]}\n\n'
    )
    return "".join(chunk % i for i in range(n)).encode() + b"data: [DONE]\n\n"


def run_fastsse(pieces: list[bytes]) -> int:
    decoder = fastsse.SSEDecoder()
    n = 0
    for piece in pieces:
        for event in decoder.decode(piece):
            event.data  # noqa: B018 - touch the field like a consumer would
            n += 1
    return n + len(decoder.flush())


def run_fastsse_iter_sse(pieces: list[bytes]) -> int:
    # The driver: a list's pieces are all in memory, so it joins the small ones before decoding.
    n = 0
    for event in fastsse.iter_sse(pieces):
        event.data  # noqa: B018
        n += 1
    return n


def run_openai(pieces: list[bytes]) -> int:
    from openai._streaming import SSEDecoder

    n = 0
    for event in SSEDecoder().iter_bytes(iter(pieces)):
        event.data  # noqa: B018
        n += 1
    return n


def run_httpx_sse(pieces: list[bytes]) -> int:
    # What httpx_sse.EventSource.iter_sse does, minus the httpx response object.
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    lines = SSELineDecoder()
    sse = SSEDecoder()
    n = 0
    for piece in pieces:
        for line in lines.decode(text_decoder.decode(piece)):
            event = sse.decode(line)
            if event is not None:
                event.data  # noqa: B018
                n += 1
    for line in lines.flush():
        if sse.decode(line) is not None:
            n += 1
    return n


PEERS: dict[str, Callable[[list[bytes]], int]] = {
    "fastsse": run_fastsse,
    "openai-python SSEDecoder": run_openai,
    "httpx-sse": run_httpx_sse,
}


def run_case(
    results: list[Result],
    case: str,
    pieces: list[bytes],
    expected: int,
    repeat: int,
    impls: dict[str, Callable[[list[bytes]], int]] = PEERS,
) -> None:
    times: dict[str, list[float]] = {name: [] for name in impls}
    for _ in range(repeat):
        for name, fn in impls.items():
            gc.collect()
            start = time.process_time()
            produced = fn(pieces)
            times[name].append(time.process_time() - start)
            if produced != expected:
                raise AssertionError(f"{name} produced {produced} items, expected {expected}")
    for name in impls:
        results.append(Result(case, name, statistics.median(times[name]), expected))


def floors(pieces: list[bytes], repeat: int, *, per_event: bool) -> str:
    """Per event: the consumer's loop alone over events already made. Per piece: an empty
    `decode` call, and the same loop with a C builtin returning an empty list in its place."""
    decoder = fastsse.SSEDecoder()
    batches = [decoder.decode(piece) for piece in pieces]
    events = sum(map(len, batches))

    def consumer_loop() -> int:
        n = 0
        for batch in batches:
            for event in batch:
                event.data  # noqa: B018
                n += 1
        return n

    empty = [b""] * len(pieces)

    def empty_decode() -> int:
        decode = fastsse.SSEDecoder().decode
        for piece in empty:
            for _event in decode(piece):
                pass
        return len(empty)

    def builtin_call() -> int:
        split = bytes.split  # a C method that, like decode(), returns a new empty list here
        for piece in empty:
            for _event in split(piece):
                pass
        return len(empty)

    def median(fn: Callable[[], int]) -> float:
        runs = []
        for _ in range(repeat):
            gc.collect()
            start = time.process_time()
            fn()
            runs.append(time.process_time() - start)
        return statistics.median(runs)

    loop = f"consumer loop over ready events {median(consumer_loop) / events * 1e9:.0f} ns/event; "
    return (
        f"floors: {loop if per_event else ''}"
        f"per piece: empty decode() {median(empty_decode) / len(empty) * 1e9:.0f} ns, "
        f"bytes.split() instead {median(builtin_call) / len(empty) * 1e9:.0f} ns"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    args = parser.parse_args()
    events = 20_000 if args.quick else 100_000
    repeat = 3 if args.quick else 7
    results: list[Result] = []

    stream = openai_stream(events)
    with_driver = {"fastsse": run_fastsse, "fastsse iter_sse (list source)": run_fastsse_iter_sse} | {
        name: fn for name, fn in PEERS.items() if name != "fastsse"
    }
    run_case(
        results,
        f"OpenAI chat, {events // 1000}k events, 1-16 KiB pieces",
        cut(stream, 1024, 16 * 1024),
        events + 1,
        repeat,
        with_driver,
    )
    small = openai_stream(events // 10)
    tiny = cut(small, 1, 7)
    run_case(
        results,
        f"OpenAI chat, {events // 10000}k events, 1-7 byte pieces",
        tiny,
        events // 10 + 1,
        repeat,
        with_driver,
    )
    big = b"".join(b"data: " + b"x" * 65536 + b"\n\n" for _ in range(256))
    run_case(results, "64 KiB events (256), 16 KiB pieces", cut(big, 16384, 16384), 256, repeat)
    line = b"data: " + b"x" * (8 << 20) + b"\n\n"
    only_fastsse = {"fastsse": run_fastsse}
    run_case(results, "one 8 MiB line, whole", [line], 1, repeat, only_fastsse)
    run_case(results, "one 8 MiB line, 1 KiB pieces", cut(line, 1024, 1024), 1, repeat, only_fastsse)

    print(
        f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; "
        f"fastsse {fastsse.__version__}; medians of {repeat} interleaved runs, CPU time\n"
    )
    print(table(results))
    print(
        f"\n{events // 1000}k events, 1-16 KiB pieces: "
        + floors(cut(stream, 1024, 16 * 1024), repeat, per_event=True)
    )
    print(f"{events // 10000}k events, 1-7 byte pieces: " + floors(tiny, repeat, per_event=False))

    def fastsse_time(case_prefix: str) -> float:
        return next(r.seconds for r in results if r.case.startswith(case_prefix) and r.impl == "fastsse")

    gbps = len(big) / fastsse_time("64 KiB") / 1e9
    ratio = fastsse_time("one 8 MiB line, 1 KiB") / fastsse_time("one 8 MiB line, whole")
    print(
        f"\n64 KiB events: {gbps:.2f} GB/s through Python; 8 MiB line in 1 KiB pieces / whole = {ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
