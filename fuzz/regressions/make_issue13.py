"""Write the issue 13 reproducers as fuzz regression inputs (run from the repo root).

Selector bytes follow `fuzz/src/harness.rs`: providers = [provider, split], text_parser =
[tools, reasoning, split], stop_strings = [count, split], the framers = [split].
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path

import fastsse

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT.parents[1] / "tests"))
from support.eventstream import frame  # noqa: E402  (the tests' frame builder, CRCs by zlib)
TOOLS = fastsse.TextParser.TOOL_FORMATS
PROVIDERS = ["openai", "openai-responses", "anthropic", "gemini", "ollama", "bedrock", "tgi"]
NO_REASONING = 255
WHOLE = 12  # split seed 12: pieces of 13 bytes


def write(target: str, name: str, data: bytes) -> None:
    folder = ROOT / target
    folder.mkdir(exist_ok=True)
    (folder / f"issue13-{name}").write_bytes(data)


def text(tools: str, body: str) -> bytes:
    return bytes([TOOLS.index(tools), NO_REASONING, 0]) + body.encode()


def sse(provider: str, *events: object) -> bytes:
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    return bytes([PROVIDERS.index(provider), WHOLE]) + body


any_of: object = {"type": "string"}
for _ in range(40):
    any_of = {"anyOf": [any_of]}
tools = [{"type": "function", "function": {"name": "f", "parameters": {"properties": {"p": any_of}}}}]
write("tool_schemas", "nested-any-of-40", json.dumps(tools).encode())
write("tool_schemas", "nested-200", b"[" * 200 + b"]" * 200)

write("stop_strings", "stop-longer-than-the-cap", bytes([0, 0]) + b"x" * 8192 + b"|" + b"x" * 100)
write("stop_strings", "stop-repeats", bytes([1, 3]) + b"aab|ab|xaaab aab")

deepseek = "<\uff5ctool\u2581calls\u2581begin\uff5c><\uff5ctool\u2381"
write("text_parser", "deepseek-marker-cut-in-a-character", text("deepseek-v3", deepseek))
for name, opener in [
    ("mistral", "[TOOL_CALLS]"),
    ("glm-4.5", "<tool_call>"),
    ("deepseek-v3", "<\uff5ctool\u2581calls\u2581begin\uff5c><\uff5ctool\u2581call\u2581begin\uff5c>function<\uff5ctool\u2581sep\uff5c>"),
]:
    write("text_parser", f"{name}-over-long-name-then-stop", text(name, opener + "S" * 300 + " STOP yy"))
call = '<tool_call>{"name": "f", "arguments": {}}</tool_call>'
write("text_parser", "hermes-2000-calls", text("hermes", call * 2000))

part = {"functionCall": {"name": "f", "partialArgs": [{"jsonPath": "$.a[10000000]", "stringValue": "x"}]}}
write("providers", "gemini-far-index", sse("gemini", {"candidates": [{"content": {"parts": [part]}}]}))
deep = {"functionCall": {"name": "f", "partialArgs": [{"jsonPath": "$" + ".a" * 100, "stringValue": "x"}]}}
write("providers", "gemini-deep-path", sse("gemini", {"candidates": [{"content": {"parts": [deep]}}]}))
first = {"index": 2**32 - 1, "id": "a", "function": {"name": "f", "arguments": ""}}
second = {"id": "b", "function": {"name": "g", "arguments": ""}}
write(
    "providers",
    "openai-index-less-after-max-index",
    sse(
        "openai",
        {"choices": [{"index": 0, "delta": {"tool_calls": [first]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [second]}}]},
    ),
)


huge = struct.pack(">II", 2**32 - 1, 0)
write("eventstream_decoder", "declares-4-gib", bytes([WHOLE]) + huge + struct.pack(">I", zlib.crc32(huge)) + b"x" * 64)
timestamp = bytes([1]) + b"t" + bytes([8]) + struct.pack(">q", 2**62)
write("eventstream_decoder", "timestamp-out-of-range", bytes([0]) + frame(timestamp, b"{}"))
