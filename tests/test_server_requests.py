"""Request validation: every bad field is a RequestError naming it; good bodies normalize."""

from __future__ import annotations

from typing import Any

import pytest
from fastsse.server._errors import RequestError
from fastsse.server._requests import (
    parse_anthropic_messages,
    parse_completions,
    parse_json,
    parse_openai_chat,
)

USER = [{"role": "user", "content": "hi"}]
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]


def openai(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "messages": USER, **fields}


def anthropic(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 100, "messages": USER, **fields}


BAD_OPENAI = [
    ({"messages": USER}, "model"),
    ({"model": 3, "messages": USER}, "model"),
    ({"model": "m"}, "messages"),
    (openai(messages=[]), "messages"),
    (openai(messages="hi"), "messages"),
    (openai(messages=[{"role": "wizard", "content": "x"}]), "messages[0].role"),
    (openai(messages=[{"role": "user"}]), "messages[0].content"),
    (openai(messages=[{"role": "user", "content": [{"type": "image_url"}]}]), "messages[0].content[0].type"),
    (openai(messages=[{"role": "tool", "content": "x"}]), "messages[0].tool_call_id"),
    (
        openai(
            messages=[
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": "{"}}],
                }
            ]
        ),
        "messages[0].tool_calls[0].function.arguments",
    ),
    (openai(temperature=3), "temperature"),
    (openai(temperature="hot"), "temperature"),
    (openai(temperature=True), "temperature"),
    (openai(top_p=1.5), "top_p"),
    (openai(max_tokens=0), "max_tokens"),
    (openai(max_completion_tokens=2.5), "max_completion_tokens"),
    (openai(n=0), "n"),
    (openai(n=9), "n"),
    (openai(stream="yes"), "stream"),
    (openai(stream_options={"include_usage": True}), "stream_options"),
    (openai(stop=[""]), "stop"),
    (openai(stop=["a"] * 17), "stop"),
    (openai(stop=[1]), "stop"),
    (openai(presence_penalty=-3), "presence_penalty"),
    (openai(logit_bias={"1": 500}), "logit_bias"),
    (openai(top_logprobs=3), "top_logprobs"),
    (openai(logprobs=True, top_logprobs=21), "top_logprobs"),
    (openai(tools=[{"type": "retrieval"}]), "tools[0].type"),
    (openai(tools=[{"type": "function", "function": {"name": "has space"}}]), "tools[0].function.name"),
    (openai(tools=TOOLS + TOOLS), "tools"),
    (openai(tool_choice="sometimes"), "tool_choice"),
    (openai(tool_choice="required"), "tool_choice"),
    (openai(tools=TOOLS, tool_choice={"type": "function", "function": {"name": "g"}}), "tool_choice"),
    (openai(response_format={"type": "json_schema"}), "response_format.json_schema"),
    (openai(response_format={"type": "json_schema", "json_schema": {}}), "response_format.json_schema.name"),
    (openai(response_format={"type": "xml"}), "response_format.type"),
    (openai(response_format="json"), "response_format"),
]


@pytest.mark.parametrize(("body", "param"), BAD_OPENAI)
def test_openai_bad_fields_name_the_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_openai_chat(body, default_max_tokens=100)
    assert caught.value.param == param and caught.value.status == 400
    assert caught.value.message


BAD_ANTHROPIC = [
    ({"model": "m", "messages": USER}, "max_tokens"),
    (anthropic(max_tokens=-1), "max_tokens"),
    (anthropic(messages=None), "messages"),
    (anthropic(messages=[{"role": "system", "content": "x"}]), "messages[0].role"),
    (
        anthropic(messages=[{"role": "user", "content": [{"type": "image", "source": {}}]}]),
        "messages[0].content[0].type",
    ),
    (
        anthropic(messages=[{"role": "user", "content": [{"type": "tool_use", "id": "1", "name": "f"}]}]),
        "messages[0].content[0].type",
    ),
    (anthropic(temperature=1.5), "temperature"),
    (anthropic(stop_sequences="STOP"), "stop_sequences"),
    (anthropic(system=[{"type": "image"}]), "system[0].type"),
    (anthropic(tools=[{"name": "f"}]), "tools[0].input_schema"),
    (anthropic(tools=[{"type": "web_search_20250305", "name": "web_search"}]), "tools[0].type"),
    (anthropic(tool_choice={"type": "any"}), "tool_choice"),
    (anthropic(tool_choice={"type": "sometimes"}), "tool_choice.type"),
    (anthropic(thinking={"type": "enabled"}), "thinking.budget_tokens"),
    (anthropic(thinking={"type": "enabled", "budget_tokens": 10}), "thinking.budget_tokens"),
    (anthropic(thinking={"type": "enabled", "budget_tokens": 2048}), "max_tokens"),
    (anthropic(thinking={"type": "maybe"}), "thinking.type"),
]


@pytest.mark.parametrize(("body", "param"), BAD_ANTHROPIC)
def test_anthropic_bad_fields_name_the_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_anthropic_messages(body)
    assert caught.value.param == param and caught.value.status == 400


@pytest.mark.parametrize("raw", [b"", b"{", b"[1, 2]", b"null", b'"text"', b"\xff\xfe"])
def test_body_must_be_a_json_object(raw: bytes) -> None:
    with pytest.raises(RequestError, match="JSON"):
        parse_json(raw)


def test_openai_request_normalizes() -> None:
    request = parse_openai_chat(
        openai(
            messages=[
                {
                    "role": "developer",
                    "content": [{"type": "text", "text": "Be "}, {"type": "text", "text": "brief."}],
                },
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            ],
            stream=True,
            stream_options={"include_usage": True},
            stop="END",
            max_tokens=50,
            temperature=0.5,
            seed=7,
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "f"}},
        ),
        default_max_tokens=100,
    )
    assert request.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "name": "f", "arguments": {"a": 1}}],
        },
        {"role": "tool", "content": "sunny", "tool_call_id": "c1"},
    ]
    assert request.stream and request.include_usage and request.stop == ["END"]
    assert request.sampling == {"max_new_tokens": 50, "temperature": 0.5, "seed": 7}
    assert request.tool_choice == "f" and [t["name"] for t in request.active_tools] == ["f"]


def test_openai_defaults() -> None:
    request = parse_openai_chat(openai(), default_max_tokens=123)
    assert request.sampling == {"max_new_tokens": 123}
    assert (
        not request.stream
        and not request.include_usage
        and request.stop == []
        and request.tool_choice == "auto"
    )
    none = parse_openai_chat(openai(tools=TOOLS, tool_choice="none"), default_max_tokens=1)
    assert none.active_tools == [] and len(none.tools) == 1


def test_anthropic_request_normalizes() -> None:
    request = parse_anthropic_messages(
        anthropic(
            system=[{"type": "text", "text": "Be brief."}],
            messages=[
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "hmm", "signature": "s"},
                        {"type": "text", "text": "Checking."},
                        {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "t1",
                            "content": [{"type": "text", "text": "sunny"}],
                        },
                        {"type": "text", "text": "thanks"},
                    ],
                },
            ],
            tools=[{"name": "f", "input_schema": {"type": "object"}}],
            tool_choice={"type": "any"},
            stop_sequences=["END"],
            thinking={"type": "enabled", "budget_tokens": 1024},
            max_tokens=2000,
            top_k=5,
        )
    )
    assert request.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "weather?", "tool_calls": []},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [{"id": "t1", "name": "f", "arguments": {"a": 1}}],
            "reasoning": "hmm",  # kept for a gateway; no prompt replays it
            "reasoning_signature": "s",
        },
        {"role": "tool", "tool_call_id": "t1", "content": "sunny"},
        {"role": "user", "content": "thanks", "tool_calls": []},
    ]
    assert request.thinking and request.tool_choice == "required" and request.stop == ["END"]
    assert request.sampling == {"max_new_tokens": 2000, "top_k": 5}
    assert not parse_anthropic_messages(anthropic()).thinking


def test_completions_request() -> None:
    request = parse_completions(
        {"model": "m", "prompt": ["once"], "max_tokens": 5, "stop": ["x"], "logprobs": 2}
    )
    assert request.prompt == "once" and request.stop == ["x"]
    assert request.sampling == {"max_new_tokens": 5, "logprobs": True, "top_logprobs": 2}
    for bad, param in [
        ({"model": "m", "prompt": 3}, "prompt"),
        ({"model": "m", "prompt": "p", "echo": True}, "echo"),
    ]:
        with pytest.raises(RequestError) as caught:
            parse_completions(bad)
        assert caught.value.param == param
