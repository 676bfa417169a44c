"""The ``fastsse`` command: ``fastsse serve`` runs the server, ``fastsse demo`` shows it working."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["main"]


def add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve an engine as OpenAI- and Anthropic-compatible endpoints (needs fastsse[server])",
        description="Serve /v1/chat/completions, /v1/messages, /v1/completions, /v1/models and /health "
        "under uvicorn. Without --upstream the embedded replay engine answers (no model, no key).",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--model", default="fastsse-replay", help="the model name /v1/models lists")
    serve.add_argument(
        "--upstream",
        metavar="URL",
        help="an OpenAI-compatible engine's base URL ending in /v1 (its /completions returns raw text)",
    )
    serve.add_argument("--upstream-model", default="default", help="model name sent upstream")
    serve.add_argument("--upstream-key", default=None, help="bearer token for the upstream engine")
    serve.add_argument(
        "--reasoning", default="think", help="reasoning markers the model writes ('' for none)"
    )
    serve.add_argument("--tools", default="hermes", help="tool-call format the model writes ('' for none)")
    serve.add_argument(
        "--reasoning-field", default="reasoning_content", choices=["reasoning_content", "reasoning"]
    )
    serve.add_argument(
        "--rate", type=float, default=60.0, help="replay engine tokens per second (0: unpaced)"
    )
    serve.add_argument("--api-key", default=None, help="require this key from clients")
    serve.add_argument("--keepalive", type=float, default=15.0, help="seconds of silence before a keep-alive")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        print("fastsse serve needs uvicorn: pip install 'fastsse[server]'")
        return 2
    from .adapters import GenerationAdapter, OpenAICompatibleAdapter, ReplayAdapter
    from .server import create_app

    adapter: GenerationAdapter
    if args.upstream:
        adapter = OpenAICompatibleAdapter(args.upstream, model=args.upstream_model, api_key=args.upstream_key)
    else:
        adapter = ReplayAdapter(tokens_per_second=args.rate or None)
    app = create_app(
        adapter,
        reasoning=args.reasoning or None,
        tools=args.tools or None,
        model=args.model,
        reasoning_field=args.reasoning_field,
        api_key=args.api_key,
        keepalive=args.keepalive,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def add_demo_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="serve the replay engine on 127.0.0.1 and stream a conversation through fastsse.client",
        description="Starts the server with the embedded replay engine on a free loopback port, streams a "
        "tool-using conversation in the OpenAI and Anthropic formats with live rendering, then prints "
        "TTFT, tokens/s and fastsse's parse cost per chunk. No network, no key.",
    )
    demo.add_argument("--rate", type=float, default=150.0, help="replay engine tokens per second")
    demo.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from ._demo import run

    return run(rate=args.rate, color=args.color)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fastsse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_command(commands)
    add_demo_command(commands)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code
