"""AWS eventstream (Bedrock ConverseStream) framing through Python, side by side with botocore's
`EventStreamBuffer` (what boto3 uses to read `converse_stream`).

    python benches/python/bench_eventstream.py [--quick]

Both decoders consume the same pieces in the same process; medians and ratios come from the same
run. Every message's event type and payload are touched so nothing is skipped lazily.
"""

from __future__ import annotations

import argparse
import platform
import random
from functools import partial
from pathlib import Path

import fastsse
from _harness import Result, measure, table

CAPTURE = Path(__file__).resolve().parents[2] / "tests" / "data" / "bedrock" / "converse-stream-text.bin"
FRAMES_PER_CAPTURE = 33


def cut(data: bytes, low: int, high: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    pieces, start = [], 0
    while start < len(data):
        end = min(len(data), start + rng.randint(low, high))
        pieces.append(data[start:end])
        start = end
    return pieces


def run_fastsse(pieces: list[bytes]) -> int:
    decoder = fastsse.EventStreamDecoder()
    n = 0
    for piece in pieces:
        for message in decoder.decode(piece):
            message.event_type  # noqa: B018 - touch the fields like a consumer would
            message.payload  # noqa: B018
            n += 1
    decoder.flush()
    return n


def run_botocore(pieces: list[bytes]) -> int:
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    n = 0
    for piece in pieces:
        buffer.add_data(piece)
        for message in buffer:
            message.headers[":event-type"]
            message.payload  # noqa: B018
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer messages and repeats")
    args = parser.parse_args()
    copies = 60 if args.quick else 600
    repeat = 3 if args.quick else 7
    data = CAPTURE.read_bytes() * copies
    expected = FRAMES_PER_CAPTURE * copies
    results = []
    for label, low, high in [("1-16 KiB pieces", 1024, 16 * 1024), ("whole body", len(data), len(data))]:
        pieces = cut(data, low, high)
        case = f"{expected:,} Bedrock frames, {label}"
        for impl, fn in [("fastsse", run_fastsse), ("botocore EventStreamBuffer", run_botocore)]:
            seconds = measure(partial(fn, pieces), repeat=repeat, expected=expected)
            results.append(Result(case, impl, seconds, expected))
    print(f"Python {platform.python_version()}, {len(data):,} bytes\n")
    print(table(results))


if __name__ == "__main__":
    main()
