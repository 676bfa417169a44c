"""``fastsse.encode(chunks, "openai-responses")`` and ``encode_response``: what the openai SDK reads.

The SDK's own ``responses.stream()`` accumulator and its pydantic event types read our bytes (over
an httpx2 mock transport); every capture in tests/data, decoded and re-encoded as Responses, reads
back through ``iter_chunks(..., provider="openai-responses")`` as the same chunks (Responses
captures) or the same result (other providers' captures).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import fastsse
import openai
import pydantic
import pytest
from fastsse import Encoder, GenerationChunk, ToolCallDelta, UsageError, encode, encode_response
from openai.types.responses import Response, ResponseStreamEvent
from provider_fixtures import wire_bytes
from test_encode import CONVERSATION, decode_all, events, sdk_client

C = GenerationChunk
T = ToolCallDelta
DATA = Path(__file__).parent / "data"
# The SDK's event model of each event type, for strict validation (the SDK itself reads leniently).
EVENT_MODELS: dict[str, type[pydantic.BaseModel]] = {
    get_args(model.model_fields["type"].annotation)[0]: model
    for model in get_args(get_args(ResponseStreamEvent)[0])
}


def validate_strictly(event: dict[str, Any]) -> None:
    """The event as the SDK's pydantic model accepts it. Error codes from other providers are
    passed through (the SDK reads any string); the model's enum of OpenAI's codes is not."""
    if event["type"] == "response.failed":
        event = {**event, "response": {**event["response"], "error": {**event["response"]["error"]}}}
        event["response"]["error"]["code"] = "server_error"
    EVENT_MODELS[event["type"]].model_validate(event)


# Every recorded stream in tests/data, with the provider that reads it.
PROVIDER_OF_FOLDER = {
    "openai-chat": "openai",
    "groq": "openai",
    "mistral": "openai",
    "deepseek": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama",
    "bedrock": "bedrock",
    "tgi": "tgi",
    "openai-responses": "openai-responses",
}
ALL_CAPTURES = sorted(
    (f"{folder}/{path.name}", "openai-responses" if "responses" in path.name else provider)
    for folder, provider in PROVIDER_OF_FOLDER.items()
    for path in (DATA / folder).iterdir()
    if path.suffix in (".sse", ".jsonl", ".ndjson", ".bin")
)


def chunk_key(chunk: GenerationChunk) -> tuple[Any, ...]:
    call = chunk.tool_call_delta
    return (
        chunk.text_delta,
        chunk.reasoning_delta,
        chunk.refusal_delta,
        None if call is None else (call.index, call.id, call.function_name, call.arguments_delta),
        chunk.done,
        chunk.finish_reason,
        chunk.prompt_tokens,
        chunk.completion_tokens,
        chunk.logprobs,
        chunk.error_code,
        chunk.error_message,
        chunk.is_first,
    )


def carried(chunks: list[GenerationChunk]) -> list[tuple[Any, ...]]:
    """The chunks that carry something (the decoder's raw-only chunks stay behind)."""
    empty = chunk_key(C())
    return [key for key in map(chunk_key, chunks) if key != empty]


def result_view(chunks: list[GenerationChunk]) -> dict[str, Any]:
    """What Responses carries of a stream from another provider: everything but signatures,
    with a generated call id where the source had none and `server_error` for a missing code."""
    result = fastsse.collect(chunks)
    finish = result.finish_reason
    if result.tool_calls and finish in ("stop", None):
        finish = "tool_calls"  # a completed response that called tools
    return {
        "text": result.text,
        "reasoning": result.reasoning,
        "refusal": result.refusal,
        "calls": [(c.name, c.arguments) for c in result.tool_calls],
        "finish": None if result.error_message else {"cancelled": "length", None: "stop"}.get(finish, finish),
        "usage": (result.prompt_tokens or 0, result.completion_tokens or 0),
        "error": result.error_message,
    }


@pytest.mark.parametrize(("name", "provider"), ALL_CAPTURES, ids=lambda v: v)
def test_every_capture_round_trips(name: str, provider: str) -> None:
    source = decode_all(wire_bytes(name), provider)
    if any(chunk.choice_index for chunk in source):
        with pytest.raises(UsageError, match="single choice"):
            encode(source, "openai-responses")
        return
    data = encode(source, "openai-responses", model="m")
    for _, event in events(data):
        validate_strictly(event)
    back = decode_all(data, "openai-responses")
    if provider == "openai-responses":
        assert carried(back) == carried(source)
    else:
        assert result_view(back) == result_view(source)
        calls = zip(fastsse.collect(source).tool_calls, fastsse.collect(back).tool_calls, strict=True)
        assert all(back_call.id == call.id for call, back_call in calls if call.id)


def stream_through_sdk(data: bytes) -> tuple[list[Any], Response]:
    client = sdk_client(openai.OpenAI, data)
    with client.responses.stream(model="m", input="hi") as stream:
        seen = list(stream)
        final = stream.get_final_response()
    return seen, final


def test_sdk_stream_helper_reads_the_conversation() -> None:
    data = encode(CONVERSATION, "openai-responses", id="resp_x1", model="m-1", created=5)
    seen, final = stream_through_sdk(data)
    assert [e.sequence_number for e in seen] == list(range(len(seen)))
    assert final.id == "resp_x1" and final.model == "m-1" and final.status == "completed"
    reasoning, message, weather, time = final.output
    assert reasoning.type == "reasoning" and reasoning.content is not None
    assert reasoning.content[0].text == 'The user wants the weather; "Paris"\n'
    assert message.type == "message" and final.output_text == "Let me check\t\u00e9\u2713 \U0001f326."
    assert weather.type == "function_call" and time.type == "function_call"
    assert (weather.call_id, weather.name) == ("call_w", "get_weather")
    assert json.loads(weather.arguments) == {"city": "Paris", "unit": "\u00b0C"}
    assert (time.call_id, time.name, time.arguments) == ("call_t", "get_time", '{"tz": "CET"}')
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.total_tokens) == (31, 42, 73)
    deltas = [e.delta for e in seen if e.type == "response.function_call_arguments.delta"]
    assert "".join(deltas) == '{"city": "Paris", "unit": "\\u00b0C"}{"tz": "CET"}'
    snapshots = [e.snapshot for e in seen if e.type == "response.output_text.delta"]
    assert snapshots == ["Let me ", "Let me check\t\u00e9\u2713 \U0001f326."]


def test_reasoning_summary_parts() -> None:
    chunks = [C(reasoning_delta="Plan: "), C(reasoning_delta="answer."), C("4"), C(done=True)]
    data = encode(chunks, "openai-responses", reasoning_summary=True)
    kinds = [event["type"] for _, event in events(data)]
    assert "response.reasoning_summary_part.added" in kinds and "response.reasoning_text.delta" not in kinds
    assert kinds.count("response.reasoning_summary_text.delta") == 2
    _, final = stream_through_sdk(data)
    reasoning = final.output[0]
    assert reasoning.type == "reasoning" and [s.text for s in reasoning.summary] == ["Plan: answer."]
    assert fastsse.collect(fastsse.iter_chunks([data], "openai-responses")).reasoning == "Plan: answer."


@pytest.mark.parametrize(
    ("finish", "status", "reason"),
    [
        ("length", "incomplete", "max_output_tokens"),
        ("cancelled", "incomplete", "max_output_tokens"),
        ("content_filter", "incomplete", "content_filter"),
        ("stop", "completed", None),
    ],
)
def test_status_and_incomplete_reason(finish: str, status: str, reason: str | None) -> None:
    chunks = [C("cut"), C(done=True, finish_reason=finish, prompt_tokens=1, completion_tokens=2)]  # type: ignore[arg-type]
    data = encode(chunks, "openai-responses")
    terminal = events(data)[-1][1]
    assert terminal["type"] == f"response.{status}"
    body = Response.model_validate_json(encode_response(chunks, "openai-responses"))
    for response in (Response.model_validate(terminal["response"]), body):
        assert response.status == status and response.output_text == "cut"
        assert (response.incomplete_details and response.incomplete_details.reason) == reason


def test_refusal_part() -> None:
    chunks = [C(refusal_delta="I can't "), C(refusal_delta="help."), C(done=True)]
    data = encode(chunks, "openai-responses")
    kinds = [event["type"] for _, event in events(data)]
    assert kinds.count("response.refusal.delta") == 2 and "response.refusal.done" in kinds
    _, final = stream_through_sdk(data)
    message = final.output[0]
    assert message.type == "message" and message.content[0].type == "refusal"
    assert message.content[0].refusal == "I can't help."
    assert fastsse.collect(fastsse.iter_chunks([data], "openai-responses")).refusal == "I can't help."


def test_usage_null_when_unknown_and_envelope_prompt_tokens() -> None:
    assert events(encode([C("x")], "openai-responses"))[-1][1]["response"]["usage"] is None
    usage = events(encode([C("x")], "openai-responses", prompt_tokens=9))[-1][1]["response"]["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (9, 0, 9)


def test_non_streaming_body_through_the_sdk() -> None:
    body = encode_response(
        CONVERSATION,
        "openai-responses",
        id="resp_b",
        model="m",
        response_fields={"instructions": "Be brief.", "tool_choice": "required", "max_output_tokens": 64},
    )
    client = sdk_client(openai.OpenAI, body, content_type="application/json")
    response = client.responses.create(model="m", input="hi")
    assert response.id == "resp_b" and response.status == "completed"
    assert response.instructions == "Be brief." and response.tool_choice == "required"
    assert response.max_output_tokens == 64 and response.parallel_tool_calls is True
    calls = [item for item in response.output if item.type == "function_call"]
    assert [(c.call_id, c.name) for c in calls] == [("call_w", "get_weather"), ("call_t", "get_time")]
    assert response.output_text == "Let me check\t\u00e9\u2713 \U0001f326."
    back = fastsse.collect(fastsse.iter_chunks([body], "openai-responses", content_type="application/json"))
    streamed = fastsse.collect(
        fastsse.iter_chunks([encode(CONVERSATION, "openai-responses")], "openai-responses")
    )
    assert (back.text, back.reasoning, back.tool_calls, back.finish_reason) == (
        streamed.text,
        streamed.reasoning,
        streamed.tool_calls,
        streamed.finish_reason,
    )


def test_logprobs_pass_through() -> None:
    logprobs = [{"token": "Hi", "logprob": -0.5, "bytes": [72, 105], "top_logprobs": []}]
    chunks = [C("Hi", logprobs=logprobs), C(done=True)]
    data = encode(chunks, "openai-responses")
    delta = next(e for _, e in events(data) if e["type"] == "response.output_text.delta")
    assert delta["logprobs"] == logprobs
    assert list(next(iter(fastsse.iter_chunks([data], "openai-responses"))).logprobs or ()) == logprobs
    body = json.loads(encode_response(chunks, "openai-responses"))
    assert body["output"][0]["content"][0]["logprobs"] == logprobs


def test_errors_become_response_failed() -> None:
    failing = [
        C("partial"),
        C(done=True, finish_reason="error", error_code="overloaded", error_message="Busy"),
    ]
    data = encode(failing, "openai-responses")
    kind, failed = events(data)[-1]
    assert kind == "response.failed" and failed["response"]["status"] == "failed"
    assert failed["response"]["error"] == {"code": "overloaded", "message": "Busy"}
    assert [(item["type"], item["status"]) for item in failed["response"]["output"]] == [
        ("message", "incomplete")
    ]
    with pytest.raises(fastsse.ProviderError) as caught:
        list(fastsse.iter_chunks([data], "openai-responses"))
    assert (caught.value.code, caught.value.provider_message) == ("overloaded", "Busy")
    body = json.loads(encode_response(failing, "openai-responses"))
    assert body["error"]["message"] == "Busy" and body["error"]["code"] == "overloaded"


def test_batching_never_changes_the_bytes() -> None:
    whole = encode(CONVERSATION, "openai-responses", id="resp_s", created=1)
    for size in (1, 2, 3):
        encoder = Encoder("openai-responses", id="resp_s", created=1)
        parts = [encoder.encode(CONVERSATION[i : i + size]) for i in range(0, len(CONVERSATION), size)]
        assert b"".join([*parts, encoder.finish()]) == whole


def test_bad_options_are_refused() -> None:
    with pytest.raises(UsageError, match='cannot set "status"'):
        encode([], "openai-responses", response_fields={"status": "x"})
    with pytest.raises(UsageError, match="single choice"):
        encode([C("a", choice_index=1)], "openai-responses")
    interleaved = [C(tool_call_delta=T(i, arguments_delta="{")) for i in (0, 1, 0)]
    with pytest.raises(UsageError, match="cannot interleave"):
        encode(interleaved, "openai-responses")
