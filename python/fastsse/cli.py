"""The `fastsse` command (also `python -m fastsse`).

fastsse cat [FILE|-] [--ndjson] [--provider NAME] [--chunk-size N]
                                                    decode a capture and print its events (or
                                                    unified chunks) live; framing is sniffed
fastsse serve [--upstream URL] [--port N] ...       serve an engine as OpenAI/Anthropic endpoints
fastsse demo [--rate N]                             server + client on loopback: the main job offline
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any, BinaryIO

from ._fastsse import (
    PROVIDERS,
    ChunkDecoder,
    EventStreamDecoder,
    EventStreamMessage,
    GenerationChunk,
    NDJSONDecoder,
    SSEDecoder,
    TextParser,
    formats_for_model,
)
from .errors import FastSSEError
from .server._limits import add_limit_options, limits_from_args

DEFAULT_CAPTURE = "anthropic-thinking-tool-use.sse"


def _embedded(name: str) -> bytes:
    return resources.files("fastsse").joinpath("data", name).read_bytes()


def _read_chunks(stream: BinaryIO, size: int) -> Iterator[bytes]:
    read = getattr(stream, "read1", stream.read)
    while chunk := read(size):
        yield chunk


Decoder = Callable[[], Any]  # makes a fresh decoder: decode(bytes) -> list, flush() -> list


def _sniff(head: bytes) -> str:
    """The framing of a capture without --provider: "ndjson", "eventstream" or "sse"."""
    text = head.lstrip()
    if text.startswith((b"{", b"[")):
        return "ndjson"
    # An AWS eventstream message starts with its total length (4 bytes, big-endian): binary.
    if len(head) >= 12 and head[0] == 0 and any(byte < 9 for byte in head[4:12]):
        return "eventstream"
    return "sse"


def _decoder_for(provider: str | None, framing: str) -> Decoder:
    if provider is not None:
        return lambda: ChunkDecoder(provider)
    if framing == "ndjson":
        return NDJSONDecoder
    if framing == "eventstream":
        return EventStreamDecoder
    return SSEDecoder


def _line(item: object) -> bytes:
    if isinstance(item, GenerationChunk):
        return repr(item).encode()
    if isinstance(item, str):
        return item.encode()
    if isinstance(item, EventStreamMessage):
        return f"{item.event_type or item.message_type}: {item.payload.decode('utf-8', 'replace')}".encode()
    return f"{getattr(item, 'event', '')}: {getattr(item, 'data', '')}".encode()


def cat(
    stream: BinaryIO,
    *,
    ndjson: bool,
    chunk_size: int,
    out: BinaryIO,
    provider: str | None = None,
) -> int:
    """Print each event (or, with a provider, each unified chunk) as it completes; then a
    one-line speed figure on stderr. Returns 1, with a hint, when the bytes held no event."""
    chunks = _read_chunks(stream, chunk_size)
    first = next(chunks, b"")
    framing = "ndjson" if ndjson else _sniff(first)
    make = _decoder_for(provider, framing)
    decoder = make()
    seen = bytearray()
    count = 0

    def show(items: list[object]) -> None:
        nonlocal count
        for item in items:
            count += 1
            out.write(_line(item) + b"\n")
        out.flush()

    for chunk in itertools.chain((first,) if first else (), chunks):
        seen += chunk
        show(list(decoder.decode(chunk)))
    show(list(decoder.flush()))

    # Speed figure: decode the same bytes again with no printing, best of a few runs.
    data = bytes(seen)
    best = min(_timed(lambda: _decode_all(make, data)) for _ in range(5))
    per_event = best / max(count, 1) * 1e9
    what = "chunks" if provider is not None else "events"
    print(
        f"{count} {what} from {len(data):,} bytes; decode alone {best * 1e6:.0f} µs "
        f"({per_event:.0f} ns/{what[:-1]}, {len(data) / best / 1e6:.0f} MB/s)",
        file=sys.stderr,
    )
    if count == 0 and data:
        print(
            f"fastsse cat: no {framing} event in these bytes; is the framing right (--ndjson), "
            "or give --provider NAME for a provider's stream",
            file=sys.stderr,
        )
        return 1
    return 0


def _decode_all(make: Decoder, data: bytes) -> int:
    decoder = make()
    return len(decoder.decode(data)) + len(decoder.flush())


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def _cmd_cat(args: argparse.Namespace) -> int:
    options = {"ndjson": args.ndjson, "chunk_size": args.chunk_size, "provider": args.provider}
    if args.file in (None, "-"):
        if args.file is None and sys.stdin.isatty():
            import io

            options["ndjson"] = False
            return cat(io.BytesIO(_embedded(DEFAULT_CAPTURE)), out=sys.stdout.buffer, **options)
        return cat(sys.stdin.buffer, out=sys.stdout.buffer, **options)
    try:
        stream = open(args.file, "rb")
    except OSError as error:
        reason = "is a directory" if isinstance(error, IsADirectoryError) else error.strerror
        print(f"fastsse cat: {args.file}: {reason}", file=sys.stderr)
        return 2
    with stream:
        try:
            return cat(stream, out=sys.stdout.buffer, **options)
        except FastSSEError as error:
            print(f"fastsse cat: {args.file}: {error}", file=sys.stderr)
            return 1


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of bytes, got {value}")
    return value


def add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve an engine as OpenAI- and Anthropic-compatible endpoints (needs fastsse[server])",
        description="Serve /v1/chat/completions, /v1/messages, /v1/responses, /api/chat (AI SDK UI "
        "stream), /v1/completions, /v1/models, /health and a chat page at / under uvicorn. Without "
        "--upstream the embedded replay engine answers "
        "(no model, no key).",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--model", default="fastsse-replay", help="the model name /v1/models lists")
    serve.add_argument(
        "--upstream",
        metavar="URL",
        help="an OpenAI-compatible engine's base URL ending in /v1 (its /completions returns raw text)",
    )
    serve.add_argument(
        "--upstream-provider",
        choices=["openai", "anthropic", "gemini", "ollama", "openai-responses"],
        default=None,
        help="gateway mode: forward whole chat requests to --upstream speaking this provider's API, "
        "re-encoding its stream in each client's format",
    )
    serve.add_argument(
        "--upstream-model",
        default=None,
        help="model name sent upstream (default: 'default'; in gateway mode, the client's model)",
    )
    serve.add_argument("--upstream-key", default=None, help="bearer token for the upstream engine")
    serve.add_argument(
        "--reasoning",
        default=None,
        choices=["", *TextParser.REASONING_FORMATS],
        help="reasoning markers the model writes ('' for none; default: from --model, else think)",
    )
    serve.add_argument(
        "--tools",
        default=None,
        choices=["", *TextParser.TOOL_FORMATS],
        help="tool-call format the model writes ('' for none; default: from --model, else hermes)",
    )
    serve.add_argument(
        "--reasoning-field", default="reasoning_content", choices=["reasoning_content", "reasoning"]
    )
    serve.add_argument(
        "--rate", type=float, default=60.0, help="replay engine tokens per second (0: unpaced)"
    )
    serve.add_argument("--api-key", default=None, help="require this key from clients")
    serve.add_argument("--keepalive", type=float, default=15.0, help="seconds of silence before a keep-alive")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--no-ui", action="store_true", help="do not serve the chat page at GET /")
    add_resume_options(serve)
    add_limit_options(serve)
    serve.set_defaults(run=run_serve)


def add_resume_options(serve: argparse.ArgumentParser) -> None:
    resume = serve.add_argument_group("resumable streams")
    resume.add_argument(
        "--resumable",
        action="store_true",
        help="run generations detached from their request; resume with GET /v1/streams/{id}",
    )
    resume.add_argument(
        "--store",
        metavar="URL",
        default=None,
        help="where streams are kept: 'memory' or redis://HOST:PORT/DB (shared by replicas; implies "
        "--resumable)",
    )
    resume.add_argument(
        "--detach-timeout", type=float, default=300.0, help="seconds a generation goes on with no reader"
    )
    resume.add_argument(
        "--stream-ttl", type=float, default=600.0, help="seconds a finished stream stays readable"
    )
    resume.add_argument(
        "--stream-lease",
        type=float,
        default=5.0,
        help="seconds after which readers of a silent producer get stream_producer_lost",
    )
    resume.add_argument(
        "--max-stream-bytes", type=int, default=16 * 1024 * 1024, help="cap on one stream's stored events"
    )


def resume_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "resumable": args.resumable,
        "store": args.store,
        "detach_timeout": args.detach_timeout,
        "stream_ttl": args.stream_ttl,
        "stream_lease": args.stream_lease,
        "max_stream_bytes": args.max_stream_bytes,
    }


def serve_formats(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(tools, reasoning): --tools / --reasoning when given, else what --model writes
    (``formats_for_model``), else hermes / think (the replay engine's own format)."""
    known = formats_for_model(args.model)
    tools, reasoning = ("hermes", "think") if known == (None, None) else known
    return (
        tools if args.tools is None else args.tools or None,
        reasoning if args.reasoning is None else args.reasoning or None,
    )


def run_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        print("fastsse serve needs uvicorn: pip install 'fastsse[server]'")
        return 2
    from .adapters import GatewayAdapter, GenerationAdapter, OpenAICompatibleAdapter, ReplayAdapter
    from .server import create_app

    adapter: GenerationAdapter
    if args.upstream_provider:
        if not args.upstream:
            print("--upstream-provider needs --upstream URL", file=sys.stderr)
            return 2
        adapter = GatewayAdapter(
            args.upstream, args.upstream_provider, model=args.upstream_model, api_key=args.upstream_key
        )
    elif args.upstream:
        adapter = OpenAICompatibleAdapter(
            args.upstream, model=args.upstream_model or "default", api_key=args.upstream_key
        )
    else:
        adapter = ReplayAdapter(tokens_per_second=args.rate or None, model=args.model)
    app = create_app(
        adapter,
        reasoning=serve_formats(args)[1],
        tools=serve_formats(args)[0],
        model=args.model,
        reasoning_field=args.reasoning_field,
        api_key=args.api_key,
        keepalive=args.keepalive,
        ui=not args.no_ui,
        limits=(limits := limits_from_args(args)),
        **resume_options(args),
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, **limits.uvicorn_options())
    return 0


def add_demo_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="serve the replay engine on 127.0.0.1 and stream a conversation through fastsse.client",
        description="Starts the server with the embedded replay engine on a free loopback port, streams a "
        "tool-using conversation in the OpenAI and Anthropic formats with live rendering, then prints "
        "TTFT, tokens/s and fastsse's parse cost per chunk. No network, no key. Run from a terminal, it "
        "then keeps serving the chat page at / until Ctrl-C.",
    )
    demo.add_argument("--rate", type=float, default=150.0, help="replay engine tokens per second")
    demo.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from ._demo import run

    return run(rate=args.rate, color=args.color)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fastsse", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)

    cat_parser = commands.add_parser("cat", help="decode a capture (SSE or NDJSON) and print its events live")
    cat_parser.add_argument(
        "file", nargs="?", help="file to read; '-' for stdin (default: an embedded capture)"
    )
    cat_parser.add_argument("--ndjson", action="store_true", help="the input is NDJSON, not SSE")
    cat_parser.add_argument("--chunk-size", type=_positive_int, default=64 * 1024, help="read size in bytes")
    cat_parser.add_argument(
        "--provider",
        choices=PROVIDERS,
        help="print unified chunks of this provider's stream (any framing) instead of raw events",
    )
    cat_parser.set_defaults(run=_cmd_cat)

    add_serve_command(commands)
    add_demo_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))
