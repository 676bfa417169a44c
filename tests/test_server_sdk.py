"""The official OpenAI and Anthropic SDKs as clients of a fastsse server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from fastsse import GenerationChunk
from fastsse.adapters import ReplayAdapter
from fastsse.server import create_app
from serving import running_server
from support.chat import (
    ANTHROPIC_TOOLS,
    OPENAI_TOOLS,
    QUESTION,
    assert_engine_closed_since,
    leave_mid_stream,
    paced,
)


def expected_usage(replay: ReplayAdapter) -> tuple[int, int]:
    record = replay.records[-1]
    return replay.count_tokens(record.prompt), record.tokens_emitted


# --- OpenAI Chat Completions -----------------------------------------------------------------


def test_openai_text_not_streamed(oai: openai.OpenAI, scripted: ReplayAdapter) -> None:
    response = oai.chat.completions.create(model="replay-1", messages=[{"role": "user", "content": "Hi!"}])
    choice = response.choices[0]
    assert choice.message.content.strip() == "Hello! Nice to meet you — how can I help?"
    assert (choice.message.model_extra or {})[
        "reasoning_content"
    ].strip() == "The user greets me; a short friendly answer fits."
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert response.model == "replay-1" and response.id.startswith("chatcmpl-")
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == expected_usage(scripted)


def test_openai_text_streamed_with_usage(oai: openai.OpenAI, scripted: ReplayAdapter) -> None:
    chunks = list(
        oai.chat.completions.create(
            model="replay-1",
            messages=[{"role": "user", "content": "Hi!"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks if c.choices
    )
    assert content.strip() == "Hello! Nice to meet you — how can I help?"
    assert reasoning.strip() == "The user greets me; a short friendly answer fits."
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == expected_usage(scripted)
    assert len({c.id for c in chunks}) == 1


def test_openai_no_usage_chunk_unless_asked(oai: openai.OpenAI, scripted: ReplayAdapter) -> None:
    chunks = list(
        oai.chat.completions.create(
            model="replay-1", messages=[{"role": "user", "content": "Hi!"}], stream=True
        )
    )
    assert all(c.usage is None and c.choices for c in chunks)


def test_openai_tool_call_streamed(oai: openai.OpenAI) -> None:
    with oai.chat.completions.stream(model="replay-1", messages=QUESTION, tools=OPENAI_TOOLS) as stream:
        fragments = [event for event in stream if event.type == "chunk"]
        completion = stream.get_final_completion()
    deltas = [tc for e in fragments if e.chunk.choices for tc in e.chunk.choices[0].delta.tool_calls or ()]
    assert deltas and deltas[0].id and deltas[0].function.name == "get_weather"
    assert all(d.id is None and (d.function is None or d.function.name is None) for d in deltas[1:])
    assert {d.index for d in deltas} == {0}
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert len(message.tool_calls) == 1
    call = message.tool_calls[0]
    assert call.id == deltas[0].id and call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert not (message.content or "").strip()


def test_openai_parallel_tool_calls(oai: openai.OpenAI) -> None:
    question = [{"role": "user", "content": "Compare the weather in Paris and Lyon"}]
    chunks = list(
        oai.chat.completions.create(model="replay-1", messages=question, tools=OPENAI_TOOLS, stream=True)
    )
    fragments = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or ()]
    firsts = [f for f in fragments if f.id]
    assert [f.index for f in firsts] == [0, 1] and len({f.id for f in firsts}) == 2
    assert all(len(c.choices[0].delta.tool_calls or ()) <= 1 for c in chunks if c.choices)
    arguments = {0: "", 1: ""}
    for fragment in fragments:
        arguments[fragment.index] += fragment.function.arguments or "" if fragment.function else ""
    assert [json.loads(arguments[i])["city"] for i in (0, 1)] == ["Paris", "Lyon"]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    whole = oai.chat.completions.create(model="replay-1", messages=question, tools=OPENAI_TOOLS)
    calls = whole.choices[0].message.tool_calls or []
    assert [json.loads(call.function.arguments)["city"] for call in calls] == ["Paris", "Lyon"]  # type: ignore[union-attr]


def test_anthropic_parallel_tool_use(claude: anthropic.Anthropic) -> None:
    question = [{"role": "user", "content": "Compare the weather in Paris and Lyon"}]
    with claude.messages.stream(
        model="replay-1", max_tokens=1000, messages=question, tools=ANTHROPIC_TOOLS
    ) as stream:  # type: ignore[arg-type]
        message = stream.get_final_message()
    uses = [block for block in message.content if block.type == "tool_use"]
    assert [use.input for use in uses] == [
        {"city": "Paris", "unit": "celsius"},
        {"city": "Lyon", "unit": "celsius"},
    ]
    assert len({use.id for use in uses}) == 2 and message.stop_reason == "tool_use"


def test_openai_tool_call_then_answer(oai: openai.OpenAI) -> None:
    first = oai.chat.completions.create(model="replay-1", messages=QUESTION, tools=OPENAI_TOOLS)
    call = first.choices[0].message.tool_calls[0]
    assert (
        first.choices[0].finish_reason == "tool_calls"
        and json.loads(call.function.arguments)["city"] == "Paris"
    )
    second = oai.chat.completions.create(
        model="replay-1",
        tools=OPENAI_TOOLS,
        messages=[
            *QUESTION,
            {"role": "assistant", "content": None, "tool_calls": [call.model_dump(exclude_none=True)]},
            {"role": "tool", "tool_call_id": call.id, "content": '{"temperature_c": 18, "sky": "overcast"}'},
        ],
    )
    answer = second.choices[0].message.content or ""
    assert second.choices[0].finish_reason == "stop" and not second.choices[0].message.tool_calls
    assert "**temperature_c**: 18" in answer and "**sky**: overcast" in answer


def test_openai_stop_string(oai: openai.OpenAI, scripted: ReplayAdapter) -> None:
    scripted._script = ["First sentence. Second sentence. Third sentence."]
    response = oai.chat.completions.create(model="replay-1", messages=QUESTION, stop=[" Third", "Second"])
    assert response.choices[0].message.content == "First sentence. "
    assert response.choices[0].finish_reason == "stop"
    scripted._script = ["First sentence. Second sentence. Third sentence."]
    streamed = oai.chat.completions.create(model="replay-1", messages=QUESTION, stop="Second", stream=True)
    chunks = list(streamed)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "First sentence. "
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_openai_length(oai: openai.OpenAI) -> None:
    response = oai.chat.completions.create(model="replay-1", messages=QUESTION, max_tokens=5)
    assert response.choices[0].finish_reason == "length" and response.usage is not None
    assert response.usage.completion_tokens == 5


def test_openai_models(oai: openai.OpenAI) -> None:
    assert [m.id for m in oai.models.list()] == ["replay-1"]


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": QUESTION, "temperature": 9}, "temperature"),
        ({"messages": QUESTION, "n": 9}, "n"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            "messages[0].content[0].type",
        ),
    ],
)
def test_openai_bad_requests(oai: openai.OpenAI, options: dict[str, object], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model="replay-1", **options)  # type: ignore[call-overload]
    assert caught.value.status_code == 400
    assert caught.value.type == "invalid_request_error" and caught.value.param == param


def test_openai_client_leaving_mid_stream_closes_the_engine(
    oai: openai.OpenAI, replay: ReplayAdapter
) -> None:
    with paced(replay):
        stream = oai.chat.completions.create(model="replay-1", messages=QUESTION, stream=True)
        leave_mid_stream(stream, 5, replay)
    # The server keeps serving.
    again = oai.chat.completions.create(model="replay-1", messages=QUESTION, tools=OPENAI_TOOLS)
    assert again.choices[0].finish_reason == "tool_calls"


# --- Anthropic Messages ----------------------------------------------------------------------


def test_anthropic_thinking_and_tool_use_streamed(claude: anthropic.Anthropic, replay: ReplayAdapter) -> None:
    with claude.messages.stream(
        model="replay-1",
        max_tokens=4096,
        messages=QUESTION,
        tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
        thinking={"type": "enabled", "budget_tokens": 1024},
    ) as stream:
        events = list(stream)
        message = stream.get_final_message()
    assert events[0].type == "message_start" and events[-1].type == "message_stop"
    kinds = [block.type for block in message.content if block.type != "text" or block.text.strip()]
    assert kinds == ["thinking", "tool_use"]
    thinking = message.content[0]
    assert thinking.type == "thinking" and "get_weather" in thinking.thinking
    tool_use = next(block for block in message.content if block.type == "tool_use")
    assert (
        tool_use.name == "get_weather"
        and tool_use.input == {"city": "Paris", "unit": "celsius"}
        and tool_use.id
    )
    assert message.stop_reason == "tool_use"
    indices = [e.index for e in events if e.type == "content_block_start"]
    assert indices == list(range(len(indices)))
    assert (message.usage.input_tokens, message.usage.output_tokens) == expected_usage(replay)


def test_anthropic_text_without_thinking(claude: anthropic.Anthropic, replay: ReplayAdapter) -> None:
    message = claude.messages.create(
        model="replay-1", max_tokens=4096, messages=[{"role": "user", "content": "How does streaming work?"}]
    )
    assert [block.type for block in message.content] == ["text"]
    text = message.content[0].text  # type: ignore[union-attr]
    assert text.startswith("Streaming sends") or text.startswith("Short answer")
    assert "<think>" not in replay.text_for(replay.records[-1].prompt)
    assert message.stop_reason == "end_turn" and message.id.startswith("msg_")
    assert (message.usage.input_tokens, message.usage.output_tokens) == expected_usage(replay)


def test_anthropic_tool_result_round_trip(claude: anthropic.Anthropic) -> None:
    first = claude.messages.create(
        model="replay-1", max_tokens=1000, messages=QUESTION, tools=ANTHROPIC_TOOLS
    )  # type: ignore[arg-type]
    tool_use = next(block for block in first.content if block.type == "tool_use")
    second = claude.messages.create(
        model="replay-1",
        max_tokens=1000,
        tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
        messages=[
            *QUESTION,
            {"role": "assistant", "content": [tool_use.model_dump()]},  # type: ignore[list-item]
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": '{"temp": 18}'}],
            },
        ],
    )
    assert second.stop_reason == "end_turn" and "**temp**: 18" in second.content[-1].text  # type: ignore[union-attr]


def test_anthropic_stop_sequence(claude: anthropic.Anthropic, scripted: ReplayAdapter) -> None:
    scripted._script = ["Alpha beta. Gamma delta."]
    message = claude.messages.create(
        model="replay-1", max_tokens=100, messages=QUESTION, stop_sequences=["Gamma"]
    )
    assert message.content[0].text == "Alpha beta. "  # type: ignore[union-attr]
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == "Gamma"
    scripted._script = ["Alpha beta. Gamma delta."]
    with claude.messages.stream(
        model="replay-1", max_tokens=100, messages=QUESTION, stop_sequences=["Gamma"]
    ) as stream:
        streamed = stream.get_final_message()
    assert streamed.content[0].text == "Alpha beta. " and streamed.stop_reason == "stop_sequence"  # type: ignore[union-attr]
    assert streamed.stop_sequence == "Gamma"


def test_anthropic_max_tokens(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(model="replay-1", max_tokens=4, messages=QUESTION)
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens == 4


@pytest.mark.parametrize(
    "options",
    [
        {"max_tokens": 10, "messages": [{"role": "system", "content": "x"}]},
        {"max_tokens": 0, "messages": QUESTION},
        {"max_tokens": 10, "messages": QUESTION, "extra_body": {"temperature": 2.0}},
        {"max_tokens": 10, "messages": QUESTION, "thinking": {"type": "enabled", "budget_tokens": 1024}},
    ],
)
def test_anthropic_bad_requests(claude: anthropic.Anthropic, options: dict[str, object]) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.messages.create(model="replay-1", **options)  # type: ignore[call-overload]
    assert caught.value.status_code == 400
    assert caught.value.body["type"] == "error"  # type: ignore[index]
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]


def test_anthropic_client_leaving_mid_stream(claude: anthropic.Anthropic, replay: ReplayAdapter) -> None:
    with paced(replay):
        with claude.messages.stream(model="replay-1", max_tokens=1000, messages=QUESTION) as stream:
            for _, _event in zip(range(6), stream, strict=False):
                pass
            record = replay.records[-1]
            left = time.monotonic()
        assert_engine_closed_since(record, left)
    assert (
        claude.messages.create(model="replay-1", max_tokens=5, messages=QUESTION).stop_reason == "max_tokens"
    )


def test_invalid_json_gets_each_providers_error_shape(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        oai = client.post("/v1/chat/completions", content=b"{not json")
        assert oai.status_code == 400 and oai.json()["error"]["type"] == "invalid_request_error"
        ant = client.post("/v1/messages", content=b"[1]")
        assert ant.status_code == 400 and ant.json()["type"] == "error"
        assert ant.json()["error"]["type"] == "invalid_request_error"


# --- an engine that fails mid-generation -----------------------------------------------------


class FailingEngine(ReplayAdapter):
    """Writes a few tokens, then raises, as an engine losing its GPU would."""

    async def generate(self, prompt: str, **options: Any) -> AsyncIterator[GenerationChunk]:  # type: ignore[override]
        for token in ("Partial", " answer", " then"):
            yield GenerationChunk(token)
        raise RuntimeError("CUDA error: device lost")


@pytest.fixture(scope="module")
def failing_url() -> Iterator[str]:
    with running_server(create_app(FailingEngine(), reasoning="think", tools="hermes")) as url:
        yield url


def test_engine_failure_reaches_the_openai_sdk(failing_url: str) -> None:
    with openai.OpenAI(base_url=f"{failing_url}/v1", api_key="x", max_retries=0) as client:
        stream = client.chat.completions.create(model="m", messages=QUESTION, stream=True)
        received = ""
        with pytest.raises(openai.APIError, match="device lost"):
            for chunk in stream:
                received += chunk.choices[0].delta.content or "" if chunk.choices else ""
        assert received == "Partial answer then"
        with pytest.raises(openai.InternalServerError, match="device lost"):
            client.chat.completions.create(model="m", messages=QUESTION)


def test_engine_failure_reaches_the_anthropic_sdk(failing_url: str) -> None:
    with anthropic.Anthropic(base_url=failing_url, api_key="x", max_retries=0) as client:
        with pytest.raises(anthropic.APIStatusError, match="device lost"):
            with client.messages.stream(model="m", max_tokens=100, messages=QUESTION) as stream:
                for _ in stream:
                    pass
        with pytest.raises(anthropic.InternalServerError, match="device lost"):
            client.messages.create(model="m", max_tokens=100, messages=QUESTION)
