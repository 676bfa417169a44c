"""``fastsse.encode(chunks, "vercel-ui")``: the AI SDK UI message stream (v1), part by part.

The AI SDK validates every part against a strict schema (no unknown keys); the allowed keys below
are that schema's. pydantic-ai's Vercel AI event stream, an independent emitter, writes the same
parts for the same content. Every capture in tests/data reads back as the same text, reasoning and
tool calls.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import fastsse
import pytest
from fastsse import Encoder, GenerationChunk, ToolCallDelta, UsageError, encode, encode_response
from provider_fixtures import wire_bytes
from test_encode import CONVERSATION, decode_all
from test_encode_responses import ALL_CAPTURES

C = GenerationChunk
T = ToolCallDelta

# The keys each part type may carry (the AI SDK's `uiMessageChunkSchema`, strict objects).
ALLOWED_KEYS = {
    "start": {"messageId", "messageMetadata"},
    "start-step": set(),
    "text-start": {"id", "providerMetadata"},
    "text-delta": {"id", "delta", "providerMetadata"},
    "text-end": {"id", "providerMetadata"},
    "reasoning-start": {"id", "providerMetadata"},
    "reasoning-delta": {"id", "delta", "providerMetadata"},
    "reasoning-end": {"id", "providerMetadata"},
    "tool-input-start": {
        "toolCallId",
        "toolName",
        "providerExecuted",
        "providerMetadata",
        "dynamic",
        "title",
    },
    "tool-input-delta": {"toolCallId", "inputTextDelta"},
    "tool-input-available": {
        "toolCallId",
        "toolName",
        "input",
        "providerExecuted",
        "providerMetadata",
        "dynamic",
        "title",
    },
    "tool-input-error": {
        "toolCallId",
        "toolName",
        "input",
        "errorText",
        "providerExecuted",
        "dynamic",
        "title",
    },
    "error": {"errorText"},
    "finish-step": set(),
    "finish": {"finishReason", "messageMetadata"},
}
REQUIRED_KEYS = {
    "text-delta": {"id", "delta"},
    "reasoning-delta": {"id", "delta"},
    "tool-input-start": {"toolCallId", "toolName"},
    "tool-input-delta": {"toolCallId", "inputTextDelta"},
    "tool-input-available": {"toolCallId", "toolName", "input"},
    "tool-input-error": {"toolCallId", "toolName", "input", "errorText"},
    "error": {"errorText"},
}
FINISH_REASONS = {"stop", "length", "content-filter", "tool-calls", "error", "other"}


def parts(data: bytes) -> list[dict[str, Any]]:
    """The stream's parts, each checked against the protocol; the stream must end with [DONE]."""
    decoder = fastsse.SSEDecoder()
    events = [*decoder.decode(data), *decoder.flush()]
    assert events and events[-1].data == "[DONE]" and data.endswith(b"data: [DONE]\n\n")
    assert b"\nevent:" not in data and not data.startswith(b"event:")  # data-only
    parsed = [json.loads(event.data) for event in events[:-1]]
    for part in parsed:
        kind = part["type"]
        assert set(part) - {"type"} <= ALLOWED_KEYS[kind], part
        assert REQUIRED_KEYS.get(kind, set()) <= set(part), part
        if kind == "finish" and "finishReason" in part:
            assert part["finishReason"] in FINISH_REASONS
    return parsed


def test_exact_parts_of_a_conversation() -> None:
    got = parts(encode(CONVERSATION, "vercel-ui", id="msg_1"))
    assert got == [
        {"type": "start", "messageId": "msg_1"},
        {"type": "start-step"},
        {"type": "reasoning-start", "id": "reasoning-0"},
        {"type": "reasoning-delta", "id": "reasoning-0", "delta": "The user wants "},
        {"type": "reasoning-delta", "id": "reasoning-0", "delta": 'the weather; "Paris"\n'},
        {"type": "reasoning-end", "id": "reasoning-0"},
        {"type": "text-start", "id": "text-1"},
        {"type": "text-delta", "id": "text-1", "delta": "Let me "},
        {"type": "text-delta", "id": "text-1", "delta": "check\t\u00e9\u2713 \U0001f326."},
        {"type": "text-end", "id": "text-1"},
        {"type": "tool-input-start", "toolCallId": "call_w", "toolName": "get_weather"},
        {"type": "tool-input-delta", "toolCallId": "call_w", "inputTextDelta": '{"city": "Pa'},
        {"type": "tool-input-delta", "toolCallId": "call_w", "inputTextDelta": 'ris", "unit": "\\u00b0C"}'},
        {
            "type": "tool-input-available",
            "toolCallId": "call_w",
            "toolName": "get_weather",
            "input": {"city": "Paris", "unit": "\u00b0C"},
        },
        {"type": "tool-input-start", "toolCallId": "call_t", "toolName": "get_time"},
        {"type": "tool-input-delta", "toolCallId": "call_t", "inputTextDelta": '{"tz": "CET"}'},
        {
            "type": "tool-input-available",
            "toolCallId": "call_t",
            "toolName": "get_time",
            "input": {"tz": "CET"},
        },
        {"type": "finish-step"},
        {"type": "finish", "finishReason": "tool-calls"},
    ]


@pytest.mark.parametrize(
    ("finish", "called_tools", "expected"),
    [
        ("stop", False, "stop"),
        ("stop", True, "tool-calls"),
        ("tool_calls", True, "tool-calls"),
        ("length", False, "length"),
        ("content_filter", False, "content-filter"),
        ("cancelled", False, "other"),
        (None, False, "stop"),
    ],
)
def test_finish_reasons(finish: str | None, called_tools: bool, expected: str) -> None:
    chunks = [C("x")]
    if called_tools:
        chunks.append(C(tool_call_delta=T(0, id="c", function_name="f", arguments_delta="{}")))
    chunks.append(C(done=True, finish_reason=finish))  # type: ignore[arg-type]
    assert parts(encode(chunks, "vercel-ui"))[-1] == {"type": "finish", "finishReason": expected}


def test_error_ends_the_stream() -> None:
    failing = [C("partial"), C(done=True, finish_reason="error", error_message="Busy"), C("ignored")]
    got = parts(encode(failing, "vercel-ui"))
    assert got[-1] == {"type": "error", "errorText": "Busy"}
    assert [p["type"] for p in got] == ["start", "start-step", "text-start", "text-delta", "error"]


def test_tool_arguments_that_are_not_json_become_tool_input_error() -> None:
    chunks = [
        C(tool_call_delta=T(0, id="c1", function_name="f", arguments_delta='{"a": ')),
        C(tool_call_delta=T(1, id="c2", function_name="g")),
        C(done=True),
    ]
    got = parts(encode(chunks, "vercel-ui"))
    error = next(p for p in got if p["type"] == "tool-input-error")
    assert (error["toolCallId"], error["toolName"], error["input"]) == ("c1", "f", '{"a": ')
    assert "not valid JSON" in error["errorText"]
    available = next(p for p in got if p["type"] == "tool-input-available")
    assert (available["toolCallId"], available["input"]) == ("c2", {})  # no arguments: {}


def test_refusal_is_text_and_ids_are_generated() -> None:
    chunks = [
        C(refusal_delta="No."),
        C(tool_call_delta=T(3, function_name="f", arguments_delta="[1]")),
        C(done=True),
    ]
    got = parts(encode(chunks, "vercel-ui", id="msg_ab"))
    assert {"type": "text-delta", "id": "text-0", "delta": "No."} in got
    start = next(p for p in got if p["type"] == "tool-input-start")
    assert start["toolCallId"] == "call_ab_3"
    assert next(p for p in got if p["type"] == "tool-input-available")["input"] == [1]


def test_batching_never_changes_the_bytes() -> None:
    whole = encode(CONVERSATION, "vercel-ui", id="msg_s")
    for size in (1, 2, 4):
        encoder = Encoder("vercel-ui", id="msg_s")
        pieces = [encoder.encode(CONVERSATION[i : i + size]) for i in range(0, len(CONVERSATION), size)]
        assert b"".join([*pieces, encoder.finish()]) == whole


def test_stream_only_and_single_choice() -> None:
    with pytest.raises(UsageError, match="stream only"):
        encode_response(CONVERSATION, "vercel-ui")
    with pytest.raises(UsageError, match="single choice"):
        encode([C("a", choice_index=2)], "vercel-ui")


def read_back(data: bytes) -> dict[str, Any]:
    """What `useChat` builds from the parts: text and reasoning by part id, tool calls."""
    texts: dict[str, str] = {}
    reasoning: dict[str, str] = {}
    calls: list[tuple[str, str, Any]] = []
    for part in parts(data):
        kind = part["type"]
        if kind == "text-delta":
            texts[part["id"]] = texts.get(part["id"], "") + part["delta"]
        elif kind == "reasoning-delta":
            reasoning[part["id"]] = reasoning.get(part["id"], "") + part["delta"]
        elif kind in ("tool-input-available", "tool-input-error"):
            calls.append((part["toolCallId"], part["toolName"], part["input"]))
    return {"text": "".join(texts.values()), "reasoning": "".join(reasoning.values()), "calls": calls}


@pytest.mark.parametrize(("name", "provider"), ALL_CAPTURES, ids=lambda v: v)
def test_every_capture_reads_back(name: str, provider: str) -> None:
    source = decode_all(wire_bytes(name), provider)
    if any(chunk.choice_index for chunk in source):
        return  # one choice per UI message (tested above)
    data = encode(source, "vercel-ui")
    result = fastsse.collect(source)
    back = read_back(data)
    assert back["text"] == result.text + result.refusal and back["reasoning"] == result.reasoning
    assert [(name, arguments) for _, name, arguments in back["calls"]] == [
        (call.name or "", json.loads(call.arguments) if is_json(call.arguments) else call.arguments or {})
        for call in result.tool_calls
    ]
    pairs = zip(back["calls"], result.tool_calls, strict=True)
    assert all(back_id == call.id for (back_id, _, _), call in pairs if call.id)


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return bool(text.strip())


# --- pydantic-ai's emitter as an oracle ---------------------------------------------------------


def pydantic_ai_parts(chunks: list[GenerationChunk]) -> list[dict[str, Any]]:
    """The parts pydantic-ai's VercelAIEventStream writes for the same model output."""
    messages = pytest.importorskip("pydantic_ai.messages")
    vercel_ai = pytest.importorskip("pydantic_ai.ui.vercel_ai")
    events: list[Any] = []
    calls: list[Any] = []  # pydantic-ai runs tools after the whole response: announced at the end
    index = -1
    open_kind: Any = None
    open_part: Any = None

    def close() -> None:
        if open_part is not None:
            events.append(messages.PartEndEvent(index=index, part=open_part))
            if isinstance(open_part, messages.ToolCallPart):
                calls.append(messages.FunctionToolCallEvent(part=open_part, args_valid=True))

    for chunk in chunks:
        call = chunk.tool_call_delta
        pieces = [("thinking", chunk.reasoning_delta), ("text", chunk.text_delta)]
        if call is not None:
            pieces.append((("call", call.index), call.arguments_delta))
        for kind, text in pieces:
            if not text and not (call is not None and kind == ("call", call.index)):
                continue
            if kind != open_kind:
                close()
                index += 1
                open_kind = kind
                if kind == "thinking":
                    open_part = messages.ThinkingPart(content="")
                elif kind == "text":
                    open_part = messages.TextPart(content="")
                else:
                    assert call is not None
                    open_part = messages.ToolCallPart(
                        tool_name=call.function_name or "", args="", tool_call_id=call.id or ""
                    )
                events.append(messages.PartStartEvent(index=index, part=open_part))
                open_part = dataclasses.replace(open_part)  # the start event keeps the empty part
            if not text:
                continue
            if kind == "thinking":
                delta: Any = messages.ThinkingPartDelta(content_delta=text)
                open_part.content += text
            elif kind == "text":
                delta = messages.TextPartDelta(content_delta=text)
                open_part.content += text
            else:
                delta = messages.ToolCallPartDelta(args_delta=text, tool_call_id=open_part.tool_call_id)
                open_part.args += text
            events.append(messages.PartDeltaEvent(index=index, delta=delta))
    close()
    events += calls

    async def run() -> list[str]:
        async def source() -> AsyncIterator[Any]:
            for event in events:
                yield event

        stream = vercel_ai.VercelAIEventStream(run_input=None)
        return [text async for text in stream.encode_stream(stream.transform_stream(source()))]

    return parts("".join(anyio.run(run)).encode())


def normalized(got: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Part ids renamed in order of appearance; message id and finish reason left out (pydantic-ai
    writes them from an agent run's result, which a bare event stream has not); tool inputs moved
    to the end of their step (pydantic-ai announces them once the response is whole, fastsse as
    each call closes: both are the protocol)."""
    names: dict[str, str] = {}
    out = []
    for part in got:
        part = {k: v for k, v in part.items() if k not in ("messageId", "finishReason", "providerMetadata")}
        if "id" in part:
            part["id"] = names.setdefault(part["id"], f"part-{len(names)}")
        out.append(part)
    step_end = next(i for i, part in enumerate(out) if part["type"] == "finish-step")
    inputs = [part for part in out[:step_end] if part["type"] == "tool-input-available"]
    return (
        [part for part in out[:step_end] if part["type"] != "tool-input-available"] + inputs + out[step_end:]
    )


@pytest.mark.parametrize(
    "chunks",
    [
        CONVERSATION,
        [C("Hello"), C(" world"), C(done=True)],
        [
            C(reasoning_delta="think"),
            C(tool_call_delta=T(0, id="c", function_name="f", arguments_delta="{}")),
        ],
    ],
    ids=["conversation", "text", "reasoning-then-call"],
)
def test_same_parts_as_pydantic_ai(chunks: list[GenerationChunk]) -> None:
    ours = normalized(parts(encode(chunks, "vercel-ui")))
    theirs = normalized(pydantic_ai_parts(chunks))
    assert ours == theirs
