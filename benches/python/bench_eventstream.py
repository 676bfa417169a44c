"""AWS eventstream (Bedrock ConverseStream) through Python, side by side with botocore.

    python benches/python/bench_eventstream.py [--quick]

Two cases on the same pieces of a real ConverseStream capture (repeated), in the same process:

* framing: `fastsse.EventStreamDecoder` vs botocore's `EventStreamBuffer` (every message's event
  type and payload touched);
* bytes -> text deltas: `fastsse.ChunkDecoder("bedrock")` vs boto3's own iterator (botocore's
  `EventStream` with the bedrock-runtime model, exactly what `converse_stream()["stream"]`
  yields) and vs a hand-written `EventStreamBuffer` + `orjson` loop.
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import fastsse
from _harness import Result, cut, measure, table

CAPTURE = Path(__file__).resolve().parents[2] / "tests" / "data" / "bedrock" / "converse-stream-text.bin"
FRAMES_PER_CAPTURE = 33


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


def text_fastsse(pieces: list[bytes]) -> int:
    decoder = fastsse.ChunkDecoder("bedrock")
    n = 0
    for piece in pieces:
        for chunk in decoder.decode(piece):
            if chunk.text_delta:
                n += 1
    decoder.flush()
    return n


class _RawResponse:
    """What botocore's EventStream reads from: an object whose `stream()` yields the pieces."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces

    def stream(self) -> Iterator[bytes]:
        return iter(self._pieces)

    def close(self) -> None:
        pass


def text_boto3(pieces: list[bytes]) -> int:
    import botocore.session
    from botocore.eventstream import EventStream
    from botocore.parsers import EventStreamJSONParser

    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    shape = model.operation_model("ConverseStream").output_shape.members["stream"]
    n = 0
    for event in EventStream(_RawResponse(pieces), shape, EventStreamJSONParser(), "ConverseStream"):
        block = event.get("contentBlockDelta")
        if block is not None and block["delta"].get("text"):
            n += 1
    return n


def text_hand_written(pieces: list[bytes]) -> int:
    import orjson
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    n = 0
    for piece in pieces:
        buffer.add_data(piece)
        for message in buffer:
            if message.headers[":event-type"] == "contentBlockDelta":
                if orjson.loads(message.payload)["delta"].get("text"):
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
    pieces = cut(data, 1024, 16 * 1024)
    deltas = text_fastsse(pieces)
    case = f"{deltas:,} text deltas (bytes -> text), 1-16 KiB pieces"
    for impl, fn in [
        ("fastsse", text_fastsse),
        ("boto3 converse_stream iterator", text_boto3),
        ("EventStreamBuffer + orjson", text_hand_written),
    ]:
        seconds = measure(partial(fn, pieces), repeat=repeat, expected=deltas)
        results.append(Result(case, impl, seconds, deltas))
    print(f"Python {platform.python_version()}, {len(data):,} bytes\n")
    print(table(results))


if __name__ == "__main__":
    main()
