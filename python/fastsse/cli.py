"""The `fastsse` command (also `python -m fastsse`).

fastsse cat [FILE|-] [--ndjson] [--chunk-size N]   decode a capture and print its events live
fastsse demo                                        the main job on an embedded default
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from importlib import resources
from typing import BinaryIO

from ._fastsse import NDJSONDecoder, SSEDecoder

DEFAULT_CAPTURE = "anthropic-thinking-tool-use.sse"


def _embedded(name: str) -> bytes:
    return resources.files("fastsse").joinpath("data", name).read_bytes()


def _read_chunks(stream: BinaryIO, size: int) -> Iterator[bytes]:
    read = getattr(stream, "read1", stream.read)
    while chunk := read(size):
        yield chunk


def _decode_all(data: bytes, ndjson: bool) -> int:
    decoder: SSEDecoder | NDJSONDecoder = NDJSONDecoder() if ndjson else SSEDecoder()
    return len(decoder.decode(data)) + len(decoder.flush())


def cat(stream: BinaryIO, *, ndjson: bool, chunk_size: int, out: BinaryIO) -> int:
    """Print each event as it completes; then a one-line speed figure on stderr."""
    decoder: SSEDecoder | NDJSONDecoder = NDJSONDecoder() if ndjson else SSEDecoder()
    seen = bytearray()
    count = 0

    def show(items: list[object]) -> None:
        nonlocal count
        for item in items:
            count += 1
            if isinstance(item, str):
                out.write(item.encode() + b"\n")
            else:
                event = getattr(item, "event", "")
                data = getattr(item, "data", "")
                out.write(f"{event}: {data}\n".encode())
        out.flush()

    for chunk in _read_chunks(stream, chunk_size):
        seen += chunk
        show(list(decoder.decode(chunk)))
    show(list(decoder.flush()))

    # Speed figure: decode the same bytes again with no printing, best of a few runs.
    data = bytes(seen)
    best = min(_timed(lambda: _decode_all(data, ndjson)) for _ in range(5))
    per_event = best / max(count, 1) * 1e9
    print(
        f"{count} events from {len(data):,} bytes; decode alone {best * 1e6:.0f} µs "
        f"({per_event:.0f} ns/event, {len(data) / best / 1e6:.0f} MB/s)",
        file=sys.stderr,
    )
    return 0


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def _cmd_cat(args: argparse.Namespace) -> int:
    if args.file in (None, "-"):
        if args.file is None and sys.stdin.isatty():
            import io

            return cat(
                io.BytesIO(_embedded(DEFAULT_CAPTURE)),
                ndjson=False,
                chunk_size=args.chunk_size,
                out=sys.stdout.buffer,
            )
        return cat(sys.stdin.buffer, ndjson=args.ndjson, chunk_size=args.chunk_size, out=sys.stdout.buffer)
    with open(args.file, "rb") as stream:
        return cat(stream, ndjson=args.ndjson, chunk_size=args.chunk_size, out=sys.stdout.buffer)


def _cmd_demo(args: argparse.Namespace) -> int:
    import io

    print(f"fastsse demo: decoding the embedded capture {DEFAULT_CAPTURE} in 64-byte network chunks\n")
    return cat(io.BytesIO(_embedded(DEFAULT_CAPTURE)), ndjson=False, chunk_size=64, out=sys.stdout.buffer)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fastsse", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)

    cat_parser = commands.add_parser("cat", help="decode a capture (SSE or NDJSON) and print its events live")
    cat_parser.add_argument(
        "file", nargs="?", help="file to read; '-' for stdin (default: an embedded capture)"
    )
    cat_parser.add_argument("--ndjson", action="store_true", help="the input is NDJSON, not SSE")
    cat_parser.add_argument("--chunk-size", type=int, default=64 * 1024, help="read size in bytes")
    cat_parser.set_defaults(run=_cmd_cat)

    demo_parser = commands.add_parser("demo", help="the main job on an embedded default (no network, no key)")
    demo_parser.set_defaults(run=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))
