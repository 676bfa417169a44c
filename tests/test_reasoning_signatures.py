"""`reasoning_signature`: the token a provider sends with its reasoning, which a later request must
send back unchanged (Anthropic `signature_delta`, Bedrock `reasoningContent.signature`, Gemini
`thoughtSignature` on text and `functionCall` parts). On real captures, fed whole and byte by
byte, each one is on a chunk and `collect()` keeps it, compared with the events read by hand."""

from __future__ import annotations

import json
import re
from typing import Any

import fastsse
import pytest
from provider_fixtures import DATA, wire_bytes


def gemini_parts(data: bytes) -> list[dict[str, Any]]:
    events = [json.loads(line[5:]) for line in data.splitlines() if line.startswith(b"data:")]
    return [part for event in events for c in event["candidates"] for part in c["content"]["parts"]]


def bedrock_deltas(data: bytes) -> list[dict[str, Any]]:
    """The `reasoningContent` deltas, framed by botocore's own eventstream parser."""
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(data)
    payloads = [json.loads(message.payload) for message in buffer]
    return [p["delta"]["reasoningContent"] for p in payloads if "reasoningContent" in p.get("delta", {})]


def decode(provider: str, data: bytes, *, bytewise: bool) -> list[fastsse.GenerationChunk]:
    pieces = [data[i : i + 1] for i in range(len(data))] if bytewise else [data]
    return list(fastsse.iter_chunks(pieces, provider))  # type: ignore[arg-type]


GEMINI = [
    "gemini/function-call-thought-signature.sse",
    "gemini/thinking-thought-parts-text.sse",
    "gemini/vercel-text.jsonl",
    "gemini/vercel-function-call.jsonl",
    "gemini/vercel-function-call-partial-args.jsonl",
    "gemini/vercel-function-call-no-args-thought.jsonl",
]


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("name", GEMINI)
def test_gemini_thought_signature_is_kept(name: str, bytewise: bool) -> None:
    data = wire_bytes(name)
    expected = [p["thoughtSignature"] for p in gemini_parts(data) if p.get("thoughtSignature")]
    assert expected, "the capture carries a signature"
    chunks = decode("gemini", data, bytewise=bytewise)
    assert [c.reasoning_signature for c in chunks if c.reasoning_signature] == expected
    assert fastsse.collect(chunks).reasoning_signature == expected[-1]


@pytest.mark.parametrize(
    "name", ["gemini/function-call-thought-signature.sse", "gemini/vercel-function-call.jsonl"]
)
def test_gemini_signature_rides_on_its_function_call(name: str) -> None:
    chunks = decode("gemini", wire_bytes(name), bytewise=False)
    signed = next(c for c in chunks if c.reasoning_signature)
    assert signed.tool_call_delta is not None and signed.tool_call_delta.index == 0
    result = fastsse.collect(chunks)
    assert result.tool_calls[0].name and result.finish_reason == "tool_calls"


def test_gemini_signature_only_part_gives_a_chunk_of_its_own() -> None:
    part = {"text": "", "thoughtSignature": "c2ln"}
    event = {"candidates": [{"content": {"role": "model", "parts": [part]}}]}
    chunks = decode("gemini", b"data: " + json.dumps(event).encode() + b"\n\n", bytewise=False)
    (signed,) = [c for c in chunks if c.reasoning_signature]
    assert signed.reasoning_signature == "c2ln" and not signed.text_delta and signed.tool_call_delta is None


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_bedrock_reasoning_signature_is_kept(bytewise: bool) -> None:
    pytest.importorskip("botocore")
    data = (DATA / "bedrock" / "converse-stream-reasoning-signature.bin").read_bytes()
    expected = [d["signature"] for d in bedrock_deltas(data) if "signature" in d]
    assert len(expected) == 1
    chunks = decode("bedrock", data, bytewise=bytewise)
    (signed,) = [c for c in chunks if c.reasoning_signature]
    assert signed.reasoning_signature == expected[0]
    assert not signed.reasoning_delta and json.loads(signed.raw or "")["delta"]["reasoningContent"]
    result = fastsse.collect(chunks)
    assert result.reasoning_signature == expected[0]
    assert result.reasoning == "".join(d.get("text", "") for d in bedrock_deltas(data))


def test_bedrock_converse_body_signature_is_kept() -> None:
    body = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "Think.", "signature": "c2ln"}}},
                    {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 20, "outputTokens": 9, "totalTokens": 29},
    }
    result = fastsse.collect(fastsse.iter_chunks([json.dumps(body).encode()], "bedrock"))
    assert (result.reasoning, result.reasoning_signature) == ("Think.", "c2ln")
    assert result.tool_calls[0].name == "get_weather"


def test_anthropic_signature_is_kept() -> None:
    data = wire_bytes("anthropic/thinking-tool-use.sse")
    signatures = re.findall(rb'"signature_delta","signature":"([^"]+)"', data)
    assert signatures
    result = fastsse.collect(decode("anthropic", data, bytewise=False))
    assert result.reasoning_signature == signatures[-1].decode()
