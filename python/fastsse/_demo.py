"""``fastsse demo``: both halves of fastsse on one machine, with no network and no key.

A fastsse server (``fastsse serve``, in its own process) with the embedded replay engine runs
on a free 127.0.0.1 port. A tool-using
conversation is streamed from it through ``fastsse.client``, rendered live (reasoning dimmed,
tool calls shown as their arguments arrive), first in the OpenAI format, then in the Anthropic
one. At the end: time to first token, tokens per second, and what fastsse's parsing cost per
chunk, live (time inside fastsse's iterator minus the time spent waiting for the network) and
replayed (the same network pieces decoded again back to back).

Run from a terminal, the server then stays up for the chat page it serves at ``/`` until Ctrl-C;
without a terminal (CI, a pipe) the demo ends by itself.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO, cast
from urllib.parse import quote

import httpx
import orjson

from . import iter_chunks
from ._chunks import ProviderName
from ._fastsse import GenerationChunk
from .client import Client

__all__ = ["run"]

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Returns the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
    },
}


def get_weather(city: str, unit: str = "celsius") -> dict[str, Any]:
    """The demo's tool: a fixed report, so the run is reproducible."""
    return {"city": city, "temperature": 18 if unit == "celsius" else 64, "unit": unit, "sky": "overcast"}


@dataclass
class TurnResult:
    label: str
    ttft: float | None = None
    duration: float = 0.0
    tokens: int = 0
    chunks: int = 0
    parse_seconds: float = 0.0  # live: inside fastsse's iterator, network waits excluded
    replay_seconds: float = 0.0  # the same bytes decoded again, back to back (best of 5)
    text: str = ""
    calls: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        generating = self.duration - (self.ttft or 0.0)
        return self.tokens / generating if generating > 0 else 0.0


class Renderer:
    """Writes chunks as they arrive: a label when the kind changes, reasoning dimmed."""

    def __init__(self, out: TextIO, color: bool) -> None:
        self.out = out
        self.color = color
        self.mode = ""

    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def _switch(self, mode: str, label: str, code: str, *, again: bool = False) -> bool:
        if self.mode == mode and not again:
            return False
        if self.mode == "tool":
            self.out.write(self._style(")", "36"))
        self.out.write(("\n" if self.mode else "") + self._style(f"  {label} ", "1;" + code))
        self.mode = mode
        return True

    def chunk(self, chunk: GenerationChunk) -> None:
        if chunk.reasoning_delta:
            text = (
                chunk.reasoning_delta.lstrip()
                if self._switch("thinking", "thinking ▸", "90")
                else chunk.reasoning_delta
            )
            self.out.write(self._style(text.replace("\n", " "), "2"))
        # Whitespace between blocks (say, after </think>) does not open an answer by itself.
        if chunk.text_delta and (self.mode == "text" or chunk.text_delta.strip()):
            fresh = self._switch("text", "answer ▸", "32")
            text = chunk.text_delta.lstrip() if fresh else chunk.text_delta
            self.out.write(text.replace("\n", "\n    "))
        call = chunk.tool_call_delta
        if call is not None:
            if call.function_name:  # each call gets its own line
                self._switch("tool", "tool call ▸", "36", again=True)
                self.out.write(self._style(f"{call.function_name}(", "36"))
            self.out.write(self._style(call.arguments_delta, "36"))
        self.out.flush()

    def end(self) -> None:
        if self.mode == "tool":
            self.out.write(self._style(")", "36"))
        self.out.write("\n")
        self.mode = ""


class _TimedStream(httpx.SyncByteStream):
    """A response body that adds the time spent waiting for each network read to a clock."""

    def __init__(self, inner: httpx.SyncByteStream, clock: _TimedTransport) -> None:
        self._inner = inner
        self._clock = clock

    def __iter__(self) -> Iterator[bytes]:
        pieces = iter(self._inner)
        while True:
            started = time.perf_counter()
            piece = next(pieces, None)
            self._clock.waited += time.perf_counter() - started
            if piece is None:
                return
            self._clock.pieces.append(piece)
            yield piece

    def close(self) -> None:
        self._inner.close()


class _TimedTransport(httpx.BaseTransport):
    """httpx's transport, timing the network reads so the demo can tell parse time apart."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.waited = 0.0
        self.pieces: list[bytes] = []  # what the network delivered, as it was split

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _TimedStream(response.stream, self)
        return response

    def close(self) -> None:
        self._inner.close()


def _timed_decode(pieces: list[bytes], provider: ProviderName) -> float:
    started = time.perf_counter()
    for _ in iter_chunks(pieces, provider):
        pass
    return time.perf_counter() - started


def stream_turn(
    client: Client, transport: _TimedTransport, label: str, renderer: Renderer, **request: Any
) -> TurnResult:
    """Stream one request through ``fastsse.client``, rendering and measuring as it goes."""
    result = TurnResult(label=label)
    transport.waited = 0.0
    transport.pieces = []
    inside = 0.0
    started = time.perf_counter()
    with client.stream(**request) as chunks:
        while True:
            before = time.perf_counter()
            chunk = next(chunks, None)
            inside += time.perf_counter() - before
            if chunk is None:
                break
            result.chunks += 1
            if result.ttft is None and (chunk.text_delta or chunk.reasoning_delta or chunk.tool_call_delta):
                result.ttft = time.perf_counter() - started
            renderer.chunk(chunk)
            result.text += chunk.text_delta
            call = chunk.tool_call_delta
            if call is not None:
                entry = result.calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] = call.id or entry["id"]
                entry["name"] = call.function_name or entry["name"]
                entry["arguments"] += call.arguments_delta
            if chunk.completion_tokens is not None:
                result.tokens = chunk.completion_tokens
    renderer.end()
    result.duration = time.perf_counter() - started
    result.parse_seconds = max(inside - transport.waited, 0.0)
    provider = cast(ProviderName, client.provider)
    result.replay_seconds = min(_timed_decode(transport.pieces, provider) for _ in range(5))
    return result


def _conversation(base_url: str, renderer: Renderer, out: TextIO) -> list[TurnResult]:
    transport = _TimedTransport()
    results = []
    with httpx.Client(transport=transport, timeout=60) as http:
        openai_client = Client("openai", base_url=f"{base_url}/v1", api_key="none", http_client=http)
        anthropic_client = Client("anthropic", base_url=base_url, api_key="none", http_client=http)
        question = "What's the weather in Paris right now?"
        out.write(f"\nuser ▸ {question}   [OpenAI Chat Completions, streamed]\n")
        messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
        turn = {"model": "fastsse-replay", "tools": [WEATHER_TOOL], "max_tokens": 1024}
        first = stream_turn(
            openai_client, transport, "openai: tool call", renderer, messages=messages, **turn
        )
        results.append(first)
        if not first.calls:
            raise RuntimeError("the replay engine was expected to call get_weather")
        call = next(iter(first.calls.values()))
        report = orjson.dumps(get_weather(**orjson.loads(call["arguments"]))).decode()
        out.write(f"  tool ▸ {call['name']} -> {report}\n")
        messages += [
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "name": call["name"], "content": report},
        ]
        results.append(
            stream_turn(openai_client, transport, "openai: answer", renderer, messages=messages, **turn)
        )

        question = "How does streaming work, briefly?"
        out.write(f"\nuser ▸ {question}   [Anthropic Messages, streamed, thinking on]\n")
        results.append(
            stream_turn(
                anthropic_client,
                transport,
                "anthropic: answer",
                renderer,
                model="fastsse-replay",
                max_tokens=2048,
                messages=[{"role": "user", "content": question}],
                extra_body={"thinking": {"type": "enabled", "budget_tokens": 1024}},
            )
        )
    return results


def _report(results: list[TurnResult], health: dict[str, Any], out: TextIO) -> None:
    out.write(
        "\n| turn | TTFT | tokens | tokens/s | chunks | client CPU / chunk, live | fastsse parse / chunk |\n"
    )
    out.write("|---|---:|---:|---:|---:|---:|---:|\n")
    for r in results:
        ttft = f"{r.ttft * 1000:.1f} ms" if r.ttft is not None else "-"
        per_chunk = r.parse_seconds / r.chunks * 1e6 if r.chunks else 0.0
        replayed = r.replay_seconds / r.chunks * 1e6 if r.chunks else 0.0
        out.write(
            f"| {r.label} | {ttft} | {r.tokens} | {r.tokens_per_second:.0f} | {r.chunks} "
            f"| {per_chunk:.1f} µs | {replayed:.2f} µs |\n"
        )
    out.write(
        "\nclient CPU, live: time inside the chunk iterator during the stream (httpx above the socket + "
        "fastsse),\nnetwork waits excluded; each token arrives after an idle gap, so caches are cold. "
        "fastsse parse: the same\nnetwork pieces decoded again by fastsse.iter_chunks, back to back "
        "(best of 5).\n"
    )
    out.write(
        f"server side: {health['completed']} generations, TTFT p50 {health['ttft_p50_ms']} ms, inter-token "
        f"p50 {health['inter_token_p50_ms']} ms / p99 {health['inter_token_p99_ms']} ms, text parser "
        f"{health['parse_p50_ns']} ns per engine token (median)\n"
    )


@contextmanager
def _server_process(rate: float) -> Iterator[str]:
    """``fastsse serve`` with the replay engine in its own process on a free loopback port.

    Its own process, so that neither side's timings include waiting for the other's GIL.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "fastsse", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--rate", str(rate), "--model", "fastsse-replay", "--log-level", "warning"]
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base_url}/health", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the demo server did not start (exit code {server.poll()})") from None
                time.sleep(0.05)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _serve_until_interrupted(base_url: str, out: TextIO) -> None:
    """Keep the server up for a person at the terminal; Ctrl-C ends it."""
    question = quote("What's the weather in Paris?")
    out.write(
        f"\nThe chat page: {base_url}/  (or {base_url}/?q={question} asks on load)\nServing until Ctrl-C.\n"
    )
    out.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        out.write("\nstopped\n")


def run(
    *, rate: float = 150.0, color: str = "auto", out: TextIO | None = None, keep_serving: bool | None = None
) -> int:
    """The demo; then, when ``keep_serving`` (default: stdin is a terminal), the server stays up
    for the chat page until Ctrl-C. Without a terminal it ends by itself."""
    out = out or sys.stdout
    use_color = color == "always" or (color == "auto" and out.isatty())
    if keep_serving is None:
        keep_serving = sys.stdin is not None and sys.stdin.isatty()
    with _server_process(rate) as base_url:
        out.write(f"fastsse server with the replay engine on {base_url} ({rate:g} tokens/s)\n")
        out.write(f"chat page: {base_url}/\n")
        results = _conversation(base_url, Renderer(out, use_color), out)
        health = httpx.get(f"{base_url}/health").json()
        _report(results, health, out)
        if keep_serving:
            _serve_until_interrupted(base_url, out)
    return 0
