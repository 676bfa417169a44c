"""Encoding a whole generation as OpenAI Responses events and as the AI SDK UI message stream,
side by side with how Python servers write them today.

    python benches/python/bench_wire.py [--quick]

The generation: 40 reasoning deltas, 300 text deltas, one tool call in 20 argument fragments and
a terminal chunk with usage (361 chunks), encoded one chunk per call as a server does per token.

* Responses: fastsse `Encoder("openai-responses")` vs the openai SDK's own event types (pydantic
  models built with validation, `model_dump_json`, framed with the `event:` line), the way vLLM
  and SGLang serve `/v1/responses`.
* UI stream: fastsse `Encoder("vercel-ui")` vs pydantic-ai's `VercelAIEventStream` fed the same
  content as pydantic-ai's own part events, and vs hand-written `orjson.dumps(dict)` per part.

Each implementation's bytes are read back first and must give the same text, reasoning and tool
call (Responses through `fastsse.iter_chunks`, the UI stream part by part); medians and ratios
come from one run, the implementations taking turns in every round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
from collections.abc import AsyncIterator, Callable
from typing import Any

import fastsse
import orjson
from _harness import medians_ns, versus_fastsse
from fastsse import GenerationChunk, ToolCallDelta
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
    ResponseReasoningTextDeltaEvent,
    ResponseReasoningTextDoneEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)
from openai.types.responses.response_reasoning_item import Content as ReasoningContent

ID, MODEL, CREATED = "resp_0123456789abcdef", "gpt-oss-20b", 1727346163
CALL_ID, CALL_NAME = "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather"
REASONING = [f" step{i}" for i in range(40)]
TEXT = [f" word{i}" for i in range(300)]
ARGUMENTS = ['{"location": "Pa', 'ris", "days": [', *[f"{i}, " for i in range(17)], "17]}"]


def generation() -> list[GenerationChunk]:
    chunks = [GenerationChunk(reasoning_delta=r) for r in REASONING]
    chunks += [GenerationChunk(t) for t in TEXT]
    first = ToolCallDelta(0, id=CALL_ID, function_name=CALL_NAME, arguments_delta=ARGUMENTS[0])
    chunks.append(GenerationChunk(tool_call_delta=first))
    chunks += [GenerationChunk(tool_call_delta=ToolCallDelta(0, arguments_delta=a)) for a in ARGUMENTS[1:]]
    chunks.append(
        GenerationChunk(done=True, finish_reason="tool_calls", prompt_tokens=90, completion_tokens=361)
    )
    return chunks


CHUNKS = generation()


def fastsse_stream(format: fastsse.EncodeFormat) -> Callable[[], bytes]:
    def run() -> bytes:
        encoder = fastsse.Encoder(format, id=ID, model=MODEL, created=CREATED)
        out = [encoder.encode([])]
        out += [encoder.encode([chunk]) for chunk in CHUNKS]
        out.append(encoder.finish())
        return b"".join(out)

    return run


# --- Responses with the openai SDK's types ---------------------------------------------------


def sdk_responses() -> bytes:
    """A server writing Responses events with the SDK's pydantic models, block by block."""
    sequence = 0
    out: list[bytes] = []

    def emit(event: Any) -> None:
        nonlocal sequence
        out.append(f"event: {event.type}\ndata: {event.model_dump_json()}\n\n".encode())
        sequence += 1

    def response(status: Any, output: list[Any], usage: ResponseUsage | None) -> Response:
        return Response(
            id=ID,
            object="response",
            created_at=CREATED,
            model=MODEL,
            status=status,
            output=output,
            parallel_tool_calls=True,
            tool_choice="auto",
            tools=[],
            usage=usage,
        )

    emit(
        ResponseCreatedEvent(
            type="response.created", sequence_number=sequence, response=response("in_progress", [], None)
        )
    )
    emit(
        ResponseInProgressEvent(
            type="response.in_progress", sequence_number=sequence, response=response("in_progress", [], None)
        )
    )
    output: list[Any] = []
    # reasoning item
    rs_id = "rs_0"
    emit(
        ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            sequence_number=sequence,
            output_index=0,
            item=ResponseReasoningItem(
                id=rs_id, type="reasoning", summary=[], content=[], status="in_progress"
            ),
        )
    )
    emit(
        ResponseContentPartAddedEvent(
            type="response.content_part.added",
            sequence_number=sequence,
            item_id=rs_id,
            output_index=0,
            content_index=0,
            part={"type": "reasoning_text", "text": ""},
        )
    )
    reasoning = ""
    text = ""
    arguments = ""
    for chunk in CHUNKS:
        if chunk.reasoning_delta:
            reasoning += chunk.reasoning_delta
            emit(
                ResponseReasoningTextDeltaEvent(
                    type="response.reasoning_text.delta",
                    sequence_number=sequence,
                    item_id=rs_id,
                    output_index=0,
                    content_index=0,
                    delta=chunk.reasoning_delta,
                )
            )
        elif chunk.text_delta:
            if not text:  # close the reasoning item, open the message
                emit(
                    ResponseReasoningTextDoneEvent(
                        type="response.reasoning_text.done",
                        sequence_number=sequence,
                        item_id=rs_id,
                        output_index=0,
                        content_index=0,
                        text=reasoning,
                    )
                )
                part = ReasoningContent(type="reasoning_text", text=reasoning)
                emit(
                    ResponseContentPartDoneEvent(
                        type="response.content_part.done",
                        sequence_number=sequence,
                        item_id=rs_id,
                        output_index=0,
                        content_index=0,
                        part={"type": "reasoning_text", "text": reasoning},
                    )
                )
                item = ResponseReasoningItem(
                    id=rs_id, type="reasoning", summary=[], content=[part], status="completed"
                )
                output.append(item)
                emit(
                    ResponseOutputItemDoneEvent(
                        type="response.output_item.done", sequence_number=sequence, output_index=0, item=item
                    )
                )
                emit(
                    ResponseOutputItemAddedEvent(
                        type="response.output_item.added",
                        sequence_number=sequence,
                        output_index=1,
                        item=ResponseOutputMessage(
                            id="msg_1", type="message", role="assistant", status="in_progress", content=[]
                        ),
                    )
                )
                emit(
                    ResponseContentPartAddedEvent(
                        type="response.content_part.added",
                        sequence_number=sequence,
                        item_id="msg_1",
                        output_index=1,
                        content_index=0,
                        part=ResponseOutputText(type="output_text", text="", annotations=[], logprobs=[]),
                    )
                )
            text += chunk.text_delta
            emit(
                ResponseTextDeltaEvent(
                    type="response.output_text.delta",
                    sequence_number=sequence,
                    item_id="msg_1",
                    output_index=1,
                    content_index=0,
                    delta=chunk.text_delta,
                    logprobs=[],
                )
            )
        elif chunk.tool_call_delta is not None:
            call = chunk.tool_call_delta
            if call.id is not None:  # close the message, open the call
                emit(
                    ResponseTextDoneEvent(
                        type="response.output_text.done",
                        sequence_number=sequence,
                        item_id="msg_1",
                        output_index=1,
                        content_index=0,
                        text=text,
                        logprobs=[],
                    )
                )
                part = ResponseOutputText(type="output_text", text=text, annotations=[], logprobs=[])
                emit(
                    ResponseContentPartDoneEvent(
                        type="response.content_part.done",
                        sequence_number=sequence,
                        item_id="msg_1",
                        output_index=1,
                        content_index=0,
                        part=part,
                    )
                )
                message = ResponseOutputMessage(
                    id="msg_1", type="message", role="assistant", status="completed", content=[part]
                )
                output.append(message)
                emit(
                    ResponseOutputItemDoneEvent(
                        type="response.output_item.done",
                        sequence_number=sequence,
                        output_index=1,
                        item=message,
                    )
                )
                emit(
                    ResponseOutputItemAddedEvent(
                        type="response.output_item.added",
                        sequence_number=sequence,
                        output_index=2,
                        item=ResponseFunctionToolCall(
                            id="fc_2",
                            type="function_call",
                            call_id=call.id,
                            name=call.function_name or "",
                            arguments="",
                            status="in_progress",
                        ),
                    )
                )
            if call.arguments_delta:
                arguments += call.arguments_delta
                emit(
                    ResponseFunctionCallArgumentsDeltaEvent(
                        type="response.function_call_arguments.delta",
                        sequence_number=sequence,
                        item_id="fc_2",
                        output_index=2,
                        delta=call.arguments_delta,
                    )
                )
    emit(
        ResponseFunctionCallArgumentsDoneEvent(
            type="response.function_call_arguments.done",
            sequence_number=sequence,
            item_id="fc_2",
            output_index=2,
            arguments=arguments,
            name=CALL_NAME,
        )
    )
    function_call = ResponseFunctionToolCall(
        id="fc_2",
        type="function_call",
        call_id=CALL_ID,
        name=CALL_NAME,
        arguments=arguments,
        status="completed",
    )
    output.append(function_call)
    emit(
        ResponseOutputItemDoneEvent(
            type="response.output_item.done", sequence_number=sequence, output_index=2, item=function_call
        )
    )
    terminal = CHUNKS[-1]
    usage = ResponseUsage(
        input_tokens=terminal.prompt_tokens or 0,
        input_tokens_details={"cached_tokens": 0, "cache_write_tokens": 0},
        output_tokens=terminal.completion_tokens or 0,
        output_tokens_details={"reasoning_tokens": 0},
        total_tokens=(terminal.prompt_tokens or 0) + (terminal.completion_tokens or 0),
    )
    emit(
        ResponseCompletedEvent(
            type="response.completed", sequence_number=sequence, response=response("completed", output, usage)
        )
    )
    return b"".join(out)


# --- the UI stream: pydantic-ai and hand-written dicts ----------------------------------------


def pydantic_ai_stream() -> Callable[[], bytes] | None:
    try:
        from pydantic_ai import messages as m
        from pydantic_ai.ui.vercel_ai import VercelAIEventStream
    except ImportError:
        return None
    events: list[Any] = [m.PartStartEvent(index=0, part=m.ThinkingPart(content=""))]
    events += [m.PartDeltaEvent(index=0, delta=m.ThinkingPartDelta(content_delta=r)) for r in REASONING]
    events.append(m.PartEndEvent(index=0, part=m.ThinkingPart(content="".join(REASONING))))
    events.append(m.PartStartEvent(index=1, part=m.TextPart(content="")))
    events += [m.PartDeltaEvent(index=1, delta=m.TextPartDelta(content_delta=t)) for t in TEXT]
    events.append(m.PartEndEvent(index=1, part=m.TextPart(content="".join(TEXT))))
    events.append(m.PartStartEvent(index=2, part=m.ToolCallPart(CALL_NAME, args="", tool_call_id=CALL_ID)))
    events += [
        m.PartDeltaEvent(index=2, delta=m.ToolCallPartDelta(args_delta=a, tool_call_id=CALL_ID))
        for a in ARGUMENTS
    ]
    call = m.ToolCallPart(CALL_NAME, args="".join(ARGUMENTS), tool_call_id=CALL_ID)
    events += [m.PartEndEvent(index=2, part=call), m.FunctionToolCallEvent(part=call, args_valid=True)]
    loop = asyncio.new_event_loop()

    async def source() -> AsyncIterator[Any]:
        for event in events:
            yield event

    async def encode() -> bytes:
        stream = VercelAIEventStream(run_input=None)
        return "".join(
            [text async for text in stream.encode_stream(stream.transform_stream(source()))]
        ).encode()

    return lambda: loop.run_until_complete(encode())


def orjson_ui_stream() -> bytes:
    """The UI stream the way Python back ends write it by hand: a dict per part."""

    def part(value: dict[str, Any]) -> bytes:
        return b"data: " + orjson.dumps(value) + b"\n\n"

    out = [part({"type": "start", "messageId": ID}), part({"type": "start-step"})]
    open_kind = None
    arguments = ""
    for chunk in CHUNKS:
        call = chunk.tool_call_delta
        if chunk.reasoning_delta:
            if open_kind != "reasoning":
                out.append(part({"type": "reasoning-start", "id": "reasoning-0"}))
                open_kind = "reasoning"
            out.append(part({"type": "reasoning-delta", "id": "reasoning-0", "delta": chunk.reasoning_delta}))
        elif chunk.text_delta:
            if open_kind != "text":
                out.append(part({"type": "reasoning-end", "id": "reasoning-0"}))
                out.append(part({"type": "text-start", "id": "text-1"}))
                open_kind = "text"
            out.append(part({"type": "text-delta", "id": "text-1", "delta": chunk.text_delta}))
        elif call is not None:
            if open_kind != "call":
                out.append(part({"type": "text-end", "id": "text-1"}))
                out.append(part({"type": "tool-input-start", "toolCallId": CALL_ID, "toolName": CALL_NAME}))
                open_kind = "call"
            if call.arguments_delta:
                arguments += call.arguments_delta
                delta = {
                    "type": "tool-input-delta",
                    "toolCallId": CALL_ID,
                    "inputTextDelta": call.arguments_delta,
                }
                out.append(part(delta))
    available = {"type": "tool-input-available", "toolCallId": CALL_ID, "toolName": CALL_NAME}
    out.append(part({**available, "input": json.loads(arguments)}))
    out += [part({"type": "finish-step"}), part({"type": "finish", "finishReason": "tool-calls"})]
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


# --- checks and timing ------------------------------------------------------------------------


def responses_view(data: bytes) -> tuple[str, str, list[tuple[str | None, str | None, str]]]:
    result = fastsse.collect(fastsse.iter_chunks([data], provider="openai-responses"))
    return result.text, result.reasoning, [(c.id, c.name, c.arguments) for c in result.tool_calls]


def ui_view(data: bytes) -> tuple[str, str, list[tuple[str, str, Any]]]:
    decoder = fastsse.SSEDecoder()
    parts = [json.loads(e.data) for e in [*decoder.decode(data), *decoder.flush()] if e.data != "[DONE]"]
    text = "".join(p["delta"] for p in parts if p["type"] == "text-delta")
    reasoning = "".join(p["delta"] for p in parts if p["type"] == "reasoning-delta")
    calls = [
        (p["toolCallId"], p["toolName"], p["input"]) for p in parts if p["type"] == "tool-input-available"
    ]
    return text, reasoning, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer loops (a smoke run)")
    args = parser.parse_args()
    loops, repeat = (3, 5) if args.quick else (20, 11)

    responses = {
        "fastsse": fastsse_stream("openai-responses"),
        "openai SDK event models + model_dump_json": sdk_responses,
    }
    ui: dict[str, Callable[[], bytes]] = {"fastsse": fastsse_stream("vercel-ui")}
    pydantic_ai = pydantic_ai_stream()
    if pydantic_ai is not None:
        ui["pydantic-ai VercelAIEventStream"] = pydantic_ai
    ui["orjson.dumps(dict) per part"] = orjson_ui_stream
    for view, cases in ((responses_view, responses), (ui_view, ui)):
        views = {name: view(fn()) for name, fn in cases.items()}
        first = views["fastsse"]
        for name, got in views.items():
            assert got == first, f"{name} reads back as {got}, fastsse as {first}"

    print(f"Python {platform.python_version()}, {platform.machine()}; {len(CHUNKS)} chunks per stream, ")
    print(f"median of {repeat} interleaved runs x {loops} streams\n")
    print("| format | implementation | median per stream | per chunk | time vs fastsse |")
    print("|---|---|---:|---:|---:|")
    for label, cases in (("OpenAI Responses", responses), ("AI SDK UI stream", ui)):
        results = {name: ns / 1e3 for name, ns in medians_ns(cases, loops=loops, repeat=repeat).items()}
        for name, us, ratio in versus_fastsse(results):
            print(f"| {label} | {name} | {us:,.0f} µs | {us / len(CHUNKS) * 1e3:,.0f} ns | {ratio} |")


if __name__ == "__main__":
    main()
