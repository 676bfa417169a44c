"""``fastsse demo``: both halves of fastsse on one machine, with no network and no key.

A fastsse server with the embedded replay engine runs on a free 127.0.0.1 port. A tool-using
conversation is streamed from it through fastsse's client side, rendered live (reasoning dimmed,
tool calls shown as their arguments arrive), first in the OpenAI format, then in the Anthropic
one. At the end: time to first token, tokens per second, and what fastsse's parsing cost per
chunk (time inside fastsse's iterator minus the time spent waiting for the network).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
import orjson

from . import iter_chunks
from ._fastsse import GenerationChunk
from .adapters import ReplayAdapter
from .server import background_server, create_app

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
    provider: str
    ttft: float | None = None
    duration: float = 0.0
    tokens: int = 0
    chunks: int = 0
    parse_seconds: float = 0.0
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

    def _switch(self, mode: str, label: str, code: str) -> bool:
        if self.mode == mode:
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
        if chunk.text_delta:
            fresh = self._switch("text", "answer ▸", "32")
            text = chunk.text_delta.lstrip() if fresh else chunk.text_delta
            self.out.write(text.replace("\n", "\n    "))
        call = chunk.tool_call_delta
        if call is not None:
            if call.function_name:
                self.mode = ""
                self._switch("tool", "tool call ▸", "36")
                self.out.write(self._style(f"{call.function_name}(", "36"))
            self.out.write(self._style(call.arguments_delta, "36"))
        self.out.flush()

    def end(self) -> None:
        if self.mode == "tool":
            self.out.write(self._style(")", "36"))
        self.out.write("\n")
        self.mode = ""


def _timed_bytes(response: httpx.Response, waited: list[float]) -> Iterator[bytes]:
    """The response body as it arrives, adding the time spent waiting for it to ``waited[0]``."""
    pieces = response.iter_bytes()
    while True:
        started = time.perf_counter()
        try:
            piece = next(pieces)
        except StopIteration:
            waited[0] += time.perf_counter() - started
            return
        waited[0] += time.perf_counter() - started
        yield piece


def stream_turn(
    client: httpx.Client, path: str, provider: str, body: dict[str, Any], label: str, renderer: Renderer
) -> TurnResult:
    result = TurnResult(label=label, provider=provider)
    waited = [0.0]
    inside = 0.0
    started = time.perf_counter()
    with client.stream("POST", path, json=body) as response:
        response.raise_for_status()
        chunks = iter_chunks(_timed_bytes(response, waited), provider)
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
    result.parse_seconds = max(inside - waited[0], 0.0)
    return result


def _conversation(client: httpx.Client, renderer: Renderer, out: TextIO) -> list[TurnResult]:
    results = []
    question = "What's the weather in Paris right now?"
    out.write(f"\nuser ▸ {question}   [OpenAI Chat Completions, streamed]\n")
    openai_tools = [{"type": "function", "function": WEATHER_TOOL}]
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    body = {"model": "fastsse-replay", "messages": messages, "tools": openai_tools, "stream": True}
    first = stream_turn(client, "/v1/chat/completions", "openai", body, "openai: tool call", renderer)
    results.append(first)
    calls = list(first.calls.values())
    if not calls:
        raise RuntimeError("the replay engine was expected to call get_weather")
    call = calls[0]
    report = get_weather(**orjson.loads(call["arguments"]))
    out.write(f"  tool ▸ {call['name']} -> {orjson.dumps(report).decode()}\n")
    messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call["id"], "content": orjson.dumps(report).decode()},
    ]
    body = {**body, "messages": messages, "stream_options": {"include_usage": True}}
    results.append(stream_turn(client, "/v1/chat/completions", "openai", body, "openai: answer", renderer))

    question = "How does streaming work, briefly?"
    out.write(f"\nuser ▸ {question}   [Anthropic Messages, streamed, thinking on]\n")
    body = {
        "model": "fastsse-replay",
        "max_tokens": 2048,
        "stream": True,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [{"role": "user", "content": question}],
    }
    results.append(stream_turn(client, "/v1/messages", "anthropic", body, "anthropic: answer", renderer))
    return results


def _report(results: list[TurnResult], health: dict[str, Any], out: TextIO) -> None:
    out.write("\n| turn | TTFT | tokens | tokens/s | chunks | fastsse parse / chunk |\n")
    out.write("|---|---:|---:|---:|---:|---:|\n")
    for r in results:
        ttft = f"{r.ttft * 1000:.1f} ms" if r.ttft is not None else "-"
        per_chunk = r.parse_seconds / r.chunks * 1e6 if r.chunks else 0.0
        out.write(
            f"| {r.label} | {ttft} | {r.tokens} | {r.tokens_per_second:.0f} | {r.chunks} "
            f"| {per_chunk:.1f} µs |\n"
        )
    out.write(
        f"\nserver side: {health['completed']} generations, TTFT p50 {health['ttft_p50_ms']} ms, inter-token "
        f"p50 {health['inter_token_p50_ms']} ms / p99 {health['inter_token_p99_ms']} ms, text parser "
        f"{health['parse_ns_per_call']} ns per engine token\n"
    )


def run(*, rate: float = 150.0, color: str = "auto", out: TextIO | None = None) -> int:
    out = out or sys.stdout
    use_color = color == "always" or (color == "auto" and out.isatty())
    adapter = ReplayAdapter(tokens_per_second=rate)
    app = create_app(adapter, reasoning="think", tools="hermes", model="fastsse-replay")
    with background_server(app) as base_url, httpx.Client(base_url=base_url, timeout=60) as client:
        out.write(f"fastsse server with the replay engine on {base_url} ({rate:g} tokens/s)\n")
        results = _conversation(client, Renderer(out, use_color), out)
        health = client.get("/health").json()
    _report(results, health, out)
    return 0
