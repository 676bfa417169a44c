"""``POST /api/chat``: the AI SDK's ``useChat`` request against a fastsse server on 127.0.0.1,
answered with the UI message stream, checked part by part.

Request bodies are built with pydantic-ai's models of the AI SDK's request types (an independent
description of what ``useChat`` sends), when pydantic-ai is installed; the literal JSON otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastsse.adapters import ReplayAdapter
from fastsse.server import FastSSEApp
from support.chat import OPENAI_TOOLS
from test_encode_vercel_ui import parts

QUESTION = "What's the weather in Paris?"


def ui_body(messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A `useChat` submit body; validated by pydantic-ai's request models when it is installed."""
    body = {"id": "chat-1", "trigger": "submit-message", "messages": messages, **extra}
    try:
        from pydantic_ai.ui.vercel_ai.request_types import SubmitMessage
    except ImportError:
        return body
    dumped: dict[str, Any] = SubmitMessage.model_validate(body).model_dump(mode="json", by_alias=True)
    return dumped


def user(text: str, id: str = "u1") -> dict[str, Any]:
    return {"id": id, "role": "user", "parts": [{"type": "text", "text": text}]}


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def test_text_and_reasoning_parts(client: httpx.Client, scripted: ReplayAdapter) -> None:
    response = client.post("/api/chat", json=ui_body([user("Hi!")]))
    assert response.status_code == 200
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    assert response.headers["content-type"].startswith("text/event-stream")
    got = parts(response.content)
    kinds = [part["type"] for part in got]
    assert kinds[:3] == ["start", "start-step", "reasoning-start"] and kinds[-2:] == ["finish-step", "finish"]
    assert got[0]["messageId"].startswith("msg_")
    reasoning = "".join(p["delta"] for p in got if p["type"] == "reasoning-delta")
    text = "".join(p["delta"] for p in got if p["type"] == "text-delta")
    assert reasoning.strip() == "The user greets me; a short friendly answer fits."
    assert text.strip() == "Hello! Nice to meet you — how can I help?"
    assert got[-1] == {"type": "finish", "finishReason": "stop"}
    assert kinds.index("reasoning-end") < kinds.index("text-start")


def test_tool_call_then_answer(client: httpx.Client) -> None:
    first = parts(client.post("/api/chat", json=ui_body([user(QUESTION)], tools=OPENAI_TOOLS)).content)
    start = next(p for p in first if p["type"] == "tool-input-start")
    available = next(p for p in first if p["type"] == "tool-input-available")
    assert start["toolName"] == available["toolName"] == "get_weather"
    assert start["toolCallId"] == available["toolCallId"] and start["toolCallId"].startswith("call_")
    streamed = "".join(p["inputTextDelta"] for p in first if p["type"] == "tool-input-delta")
    assert json.loads(streamed) == available["input"] == {"city": "Paris", "unit": "celsius"}
    assert first[-1] == {"type": "finish", "finishReason": "tool-calls"}
    # The next request carries the call with its output, as useChat sends it after the tool ran.
    assistant = {
        "id": "a1",
        "role": "assistant",
        "parts": [
            {"type": "step-start"},
            {
                "type": "tool-get_weather",
                "toolCallId": available["toolCallId"],
                "state": "output-available",
                "input": available["input"],
                "output": {"temperature_c": 18, "sky": "overcast"},
            },
        ],
    }
    second = parts(
        client.post("/api/chat", json=ui_body([user(QUESTION), assistant], tools=OPENAI_TOOLS)).content
    )
    answer = "".join(p["delta"] for p in second if p["type"] == "text-delta")
    assert "**temperature_c**: 18" in answer and "**sky**: overcast" in answer
    assert second[-1] == {"type": "finish", "finishReason": "stop"}


def test_assistant_steps_become_turns(app: FastSSEApp, client: httpx.Client, replay: ReplayAdapter) -> None:
    """A multi-step assistant message: text, a call with its result, then more text."""
    assistant = {
        "id": "a1",
        "role": "assistant",
        "parts": [
            {"type": "step-start"},
            {"type": "reasoning", "text": "not replayed"},
            {"type": "text", "text": "Let me look."},
            {
                "type": "dynamic-tool",
                "toolName": "get_weather",
                "toolCallId": "call_9",
                "state": "output-error",
                "input": {"city": "Paris", "unit": "celsius"},
                "errorText": "service down",
            },
            {"type": "step-start"},
            {"type": "text", "text": "The service is down."},
        ],
    }
    body = ui_body([user(QUESTION), assistant, user("Try again", id="u2")], tools=OPENAI_TOOLS)
    assert client.post("/api/chat", json=body).status_code == 200
    prompt = replay.records[-1].prompt
    assert "not replayed" not in prompt
    assert prompt.index("Let me look.") < prompt.index("get_weather", prompt.index("Let me look."))
    assert prompt.index("service down") < prompt.index("The service is down.") < prompt.index("Try again")


def test_sampling_fields_reach_the_adapter(client: httpx.Client, replay: ReplayAdapter) -> None:
    body = ui_body([user("Hi!")], temperature=0.2, max_tokens=3, system="Answer tersely.")
    got = parts(client.post("/api/chat", json=body).content)
    assert got[-1] == {"type": "finish", "finishReason": "length"}
    record = replay.records[-1]
    assert record.prompt.startswith("<|im_start|>system\nAnswer tersely.")
    assert record.options["temperature"] == 0.2 and record.options["max_new_tokens"] == 3


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": "x"}, "messages"),
        ({"messages": [{"id": "1", "role": "tool", "parts": []}]}, "messages[0].role"),
        (
            {
                "messages": [
                    {"id": "1", "role": "user", "parts": [{"type": "file", "mediaType": "x", "url": "y"}]}
                ]
            },
            "messages[0].parts[0].type",
        ),
        ({"messages": [{"id": "1", "role": "user", "parts": [{"type": "step-start"}]}]}, "messages"),
    ],
)
def test_bad_requests(client: httpx.Client, body: dict[str, Any], param: str) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 400 and response.json()["error"]["param"] == param
