"""``POST /v1/responses``: the openai SDK's ``responses.create`` and ``responses.stream`` against a
fastsse server on 127.0.0.1 (uvicorn), reading text, reasoning, function calls, usage and status."""

from __future__ import annotations

import json
from typing import Any

import fastsse
import httpx
import openai
import pytest
from fastsse.adapters import ReplayAdapter
from fastsse.server import create_app
from serving import running_server
from support.chat import SCRIPTED, WEATHER
from test_server_resume import read_events
from test_server_sdk import expected_usage

TOOLS: list[Any] = [{"type": "function", "strict": False, **WEATHER}]
QUESTION = "What's the weather in Paris?"
ANSWER = "Hello! Nice to meet you — how can I help?"
THOUGHT = "The user greets me; a short friendly answer fits."


def reasoning_text(response: Any) -> str:
    items = [item for item in response.output if item.type == "reasoning"]
    return "".join(part.text for item in items for part in (item.content or []) + item.summary)


def test_text_and_reasoning_not_streamed(oai: openai.OpenAI, scripted: ReplayAdapter) -> None:
    response = oai.responses.create(model="replay-1", input="Hi!", instructions="Be kind.")
    assert response.status == "completed" and response.id.startswith("resp_")
    assert response.output_text.strip() == ANSWER
    assert reasoning_text(response).strip() == THOUGHT
    assert response.instructions == "Be kind." and response.model == "replay-1"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == expected_usage(scripted)
    assert scripted.records[-1].prompt.startswith("<|im_start|>system\nBe kind.")


def test_text_and_reasoning_streamed(oai: openai.OpenAI, scripted: ReplayAdapter) -> None:
    events = list(oai.responses.create(model="replay-1", input="Hi!", stream=True))
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    thought = "".join(e.delta for e in events if e.type == "response.reasoning_text.delta")
    assert (text.strip(), thought.strip()) == (ANSWER, THOUGHT)
    final = events[-1].response  # type: ignore[union-attr]
    assert final.output_text.strip() == ANSWER and final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == expected_usage(scripted)


def test_stream_helper_with_a_function_call(oai: openai.OpenAI) -> None:
    with oai.responses.stream(model="replay-1", input=QUESTION, tools=TOOLS) as stream:
        deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather" and calls[0].call_id.startswith("call_")
    assert json.loads(calls[0].arguments) == {"city": "Paris", "unit": "celsius"}
    assert "".join(deltas) == calls[0].arguments
    assert final.status == "completed" and final.tools[0].name == "get_weather"  # type: ignore[union-attr]


def test_function_call_output_round_trip(oai: openai.OpenAI) -> None:
    first = oai.responses.create(model="replay-1", input=QUESTION, tools=TOOLS)
    call = next(item for item in first.output if item.type == "function_call")
    second = oai.responses.create(
        model="replay-1",
        tools=TOOLS,
        input=[
            {"role": "user", "content": QUESTION},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {
                "type": "function_call_output",
                "call_id": call.call_id,
                "output": '{"temperature_c": 18, "sky": "overcast"}',
            },
        ],
    )
    assert not [item for item in second.output if item.type == "function_call"]
    assert "**temperature_c**: 18" in second.output_text and "**sky**: overcast" in second.output_text


def test_parallel_calls_and_tool_choice_none(oai: openai.OpenAI) -> None:
    question = "Compare the weather in Paris and Lyon"
    response = oai.responses.create(model="replay-1", input=question, tools=TOOLS)
    calls = [item for item in response.output if item.type == "function_call"]
    assert [json.loads(c.arguments)["city"] for c in calls] == ["Paris", "Lyon"]
    assert len({c.call_id for c in calls}) == 2
    unchosen = oai.responses.create(model="replay-1", input=question, tools=TOOLS, tool_choice="none")
    assert not [item for item in unchosen.output if item.type == "function_call"]
    assert unchosen.tool_choice == "none"


def test_max_output_tokens_is_incomplete(oai: openai.OpenAI) -> None:
    response = oai.responses.create(model="replay-1", input=QUESTION, max_output_tokens=5)
    assert response.status == "incomplete" and response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage is not None and response.usage.output_tokens == 5
    assert response.max_output_tokens == 5
    events = list(oai.responses.create(model="replay-1", input=QUESTION, max_output_tokens=5, stream=True))
    assert events[-1].type == "response.incomplete"


def test_reasoning_summary_and_effort(oai: openai.OpenAI, scripted: ReplayAdapter) -> None:
    with oai.responses.stream(model="replay-1", input="Hi!", reasoning={"summary": "auto"}) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_response()
    assert "response.reasoning_summary_text.delta" in kinds and "response.reasoning_text.delta" not in kinds
    reasoning = next(item for item in final.output if item.type == "reasoning")
    assert reasoning.summary[0].text.strip() == THOUGHT
    assert final.reasoning is not None and final.reasoning.summary == "auto"
    scripted._script = [SCRIPTED]
    oai.responses.create(model="replay-1", input="Hi!", reasoning={"effort": "none"})
    assert scripted.records[-1].prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_our_client_reads_our_server(base_url: str, scripted: ReplayAdapter) -> None:
    body = {"model": "replay-1", "input": "Hi!", "stream": True}
    with httpx.Client() as client, client.stream("POST", f"{base_url}/v1/responses", json=body) as response:
        result = fastsse.collect(fastsse.iter_chunks(response, provider="openai-responses"))
    assert (result.text.strip(), result.reasoning.strip(), result.finish_reason) == (ANSWER, THOUGHT, "stop")


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"input": []}, "input"),
        ({"input": "x", "previous_response_id": "resp_1"}, "previous_response_id"),
        ({"input": "x", "background": True}, "background"),
        ({"input": "x", "tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type"),
        ({"input": [{"role": "user", "content": [{"type": "input_image"}]}]}, "input[0].content[0].type"),
        ({"input": "x", "tool_choice": "required"}, "tool_choice"),
        ({"input": "x", "reasoning": {"effort": "huge"}}, "reasoning.effort"),
    ],
)
def test_bad_requests(oai: openai.OpenAI, options: dict[str, Any], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.responses.create(model="replay-1", **options)
    assert caught.value.status_code == 400 and caught.value.param == param


def test_streams_resume_through_the_shared_stream_helper() -> None:
    """With resumable=True, a Responses stream and a UI stream get ids and resume byte for byte."""
    app = create_app(ReplayAdapter(tokens_per_second=400), reasoning="think", model="m", resumable=True)
    routes = [
        ("/v1/responses", {"model": "m", "input": QUESTION, "stream": True}, "openai-responses"),
        (
            "/api/chat",
            {"messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": QUESTION}]}]},
            None,
        ),
    ]
    with running_server(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        for path, body, provider in routes:
            with client.stream("POST", path, json=body) as response:
                stream_id = response.headers["x-stream-id"]
                if provider is None:
                    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
                first = read_events(response, 5)
            last_id = first[-1].split(b"\n", 1)[0].removeprefix(b"id: ").decode()
            rest = client.get(f"/v1/streams/{stream_id}", headers={"Last-Event-ID": last_id}).content
            whole = client.get(f"/v1/streams/{stream_id}").content
            assert b"".join(first) + rest == whole and whole.count(b"\nid: ") + 1 > 10
            if provider is not None:
                result = fastsse.collect(fastsse.iter_chunks([whole], provider=provider))
                assert len(result.text) > 100 and result.finish_reason == "stop"
            else:
                assert whole.endswith(b"data: [DONE]\n\n")
