"""Gateway mode: the official SDKs talk to fastsse, which forwards to a local fake upstream
replaying a recorded stream in the upstream's format; the answer must be the recording's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import fastsse
import httpx
import openai
import orjson
import pytest
from fastsse.adapters import GatewayAdapter
from fastsse.server import create_app
from serving import running_server
from support.fake_upstream import FakeUpstream

DATA = Path(__file__).parent / "data"

# (upstream provider, capture, the base URL suffix fastsse.client expects for it)
UPSTREAMS = [
    ("openai", "openai-chat/chat-tool-call.sse", "/v1"),
    ("openai", "openai-chat/chat-text.sse", "/v1"),
    ("anthropic", "anthropic/thinking-tool-use.sse", ""),
    ("anthropic", "anthropic/text-parallel-tool-use.sse", ""),
    ("gemini", "gemini/function-call-thought-signature.sse", "/v1beta"),
    ("ollama", "ollama/synthetic-chat-thinking-tool-calls.ndjson", ""),
    ("openai-responses", "openai-responses/responses-reasoning-function-call-usage.sse", "/v1"),
]
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def expected(provider: str, capture: str) -> fastsse.GenerationResult:
    """The oracle: the recording decoded directly."""
    return fastsse.collect(fastsse.iter_chunks([(DATA / capture).read_bytes()], provider=provider))


def calls_of(result: fastsse.GenerationResult) -> list[tuple[str, Any]]:
    return [(call.name, orjson.loads(call.arguments or "{}")) for call in result.tool_calls]


@pytest.fixture
def gateway(request: pytest.FixtureRequest) -> Iterator[tuple[str, FakeUpstream]]:
    provider, capture, suffix, options = request.param
    upstream = FakeUpstream(DATA / capture)
    with running_server(upstream) as upstream_url:
        adapter = GatewayAdapter(upstream_url + suffix, provider, api_key="upstream-key")
        with running_server(create_app(adapter, model="gw", **options)) as url:
            yield url, upstream


def cases(options: dict[str, Any] | None = None) -> list[Any]:
    return [
        pytest.param((provider, capture, suffix, options or {}), id=f"{provider}:{Path(capture).stem}")
        for provider, capture, suffix in UPSTREAMS
    ]


@pytest.mark.parametrize("gateway", cases(), indirect=True)
def test_the_openai_sdk_gets_the_upstream_answer(gateway: tuple[str, FakeUpstream]) -> None:
    url, upstream = gateway
    provider, capture = upstream_of(upstream)
    oracle = expected(provider, capture)
    client = openai.OpenAI(base_url=url + "/v1", api_key="k")
    text, reasoning = "", ""
    calls: dict[int, list[str]] = {}
    finish = None
    for chunk in client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[{"type": "function", "function": WEATHER_TOOL}],
        stream=True,
    ):
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text += delta.content or ""
        reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
        for call in delta.tool_calls or ():
            parts = calls.setdefault(call.index, ["", ""])
            parts[0] += (call.function and call.function.name) or ""
            parts[1] += (call.function and call.function.arguments) or ""
        finish = chunk.choices[0].finish_reason or finish
    assert text == oracle.text and reasoning == oracle.reasoning
    assert [(name, orjson.loads(args or "{}")) for name, args in calls.values()] == calls_of(oracle)
    assert finish == ("tool_calls" if oracle.tool_calls else "stop")


@pytest.mark.parametrize("gateway", cases(), indirect=True)
def test_the_anthropic_sdk_gets_the_upstream_answer(gateway: tuple[str, FakeUpstream]) -> None:
    url, upstream = gateway
    provider, capture = upstream_of(upstream)
    oracle = expected(provider, capture)
    client = anthropic.Anthropic(base_url=url, api_key="k")
    with client.messages.stream(
        model="m",
        max_tokens=4000,
        thinking={"type": "enabled", "budget_tokens": 2000},
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[{"name": WEATHER_TOOL["name"], "input_schema": WEATHER_TOOL["parameters"]}],
    ) as stream:
        message = stream.get_final_message()
    blocks = message.content
    assert "".join(b.text for b in blocks if b.type == "text") == oracle.text
    assert "".join(b.thinking for b in blocks if b.type == "thinking") == oracle.reasoning
    assert [(b.name, b.input) for b in blocks if b.type == "tool_use"] == calls_of(oracle)
    assert message.stop_reason == ("tool_use" if oracle.tool_calls else "end_turn")


def upstream_of(upstream: FakeUpstream) -> tuple[str, str]:
    for provider, capture, _ in UPSTREAMS:
        if (DATA / capture).read_bytes() == upstream.capture:
            return provider, capture
    raise AssertionError("unknown capture")


# --- request translation ------------------------------------------------------------------------

CONVERSATION_OPENAI = {
    "model": "m",
    "max_tokens": 3000,
    "stop": ["END"],
    "temperature": 0.5,
    "reasoning_effort": "medium",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
    ],
    "tools": [{"type": "function", "function": WEATHER_TOOL}],
}
CONVERSATION_ANTHROPIC = {
    "model": "m",
    "max_tokens": 3000,
    "stop_sequences": ["END"],
    "temperature": 0.5,
    "thinking": {"type": "enabled", "budget_tokens": 2000},
    "system": "Be brief.",
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "18C"}]},
    ],
    "tools": [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": WEATHER_TOOL["parameters"],
        }
    ],
}


@pytest.mark.parametrize(
    "gateway",
    [pytest.param(("anthropic", "anthropic/sdk-basic-text.sse", "", {}), id="to-anthropic")],
    indirect=True,
)
def test_an_openai_request_is_translated_to_anthropic(gateway: tuple[str, FakeUpstream]) -> None:
    url, upstream = gateway
    httpx.post(url + "/v1/chat/completions", json={**CONVERSATION_OPENAI, "stream": True}).raise_for_status()
    path, _, body = upstream.requests[-1]
    assert path == "/v1/messages"
    assert body["system"] == "Be brief." and body["stop_sequences"] == ["END"] and body["max_tokens"] == 3000
    assert body["temperature"] == 0.5 and body["thinking"] == {"type": "enabled", "budget_tokens": 2999}
    assert body["messages"] == CONVERSATION_ANTHROPIC["messages"]
    assert body["tools"] == CONVERSATION_ANTHROPIC["tools"]


@pytest.mark.parametrize(
    "gateway",
    [pytest.param(("openai", "openai-chat/chat-text.sse", "/v1", {}), id="to-openai")],
    indirect=True,
)
def test_an_anthropic_request_is_translated_to_openai(gateway: tuple[str, FakeUpstream]) -> None:
    url, upstream = gateway
    httpx.post(url + "/v1/messages", json={**CONVERSATION_ANTHROPIC, "stream": True}).raise_for_status()
    path, _, body = upstream.requests[-1]
    assert path == "/v1/chat/completions"
    assert body["stop"] == ["END"] and body["max_tokens"] == 3000 and body["temperature"] == 0.5
    assert body["reasoning_effort"] == "low"  # a 2000-token budget
    assert body["tools"] == CONVERSATION_OPENAI["tools"]
    sent = body["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert sent[2]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert orjson.loads(sent[2]["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert sent[3] == {"role": "tool", "content": "18C", "tool_call_id": "call_1"}


@pytest.mark.parametrize(
    "gateway",
    [pytest.param(("anthropic", "anthropic/thinking-tool-use.sse", "", {"resumable": True}), id="resumable")],
    indirect=True,
)
def test_gateway_streams_resume(gateway: tuple[str, FakeUpstream]) -> None:
    url, _ = gateway
    body = {"model": "m", "max_tokens": 3000, "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    with httpx.stream("POST", url + "/v1/chat/completions", json=body) as response:
        stream_id = response.headers["x-stream-id"]
        head = b""
        for piece in response.iter_raw():
            head += piece
            if head.count(b"\n\n") >= 3:
                break
    head = head[: head.index(b"\n\n", head.index(b"\n\n", head.index(b"\n\n") + 2) + 2) + 2]
    rest = httpx.get(f"{url}/v1/streams/{stream_id}", headers={"Last-Event-ID": "3"}).content
    whole = httpx.get(f"{url}/v1/streams/{stream_id}").content
    assert head + rest == whole
    result = fastsse.collect(fastsse.iter_chunks([head, rest], provider="openai"))
    assert calls_of(result) == calls_of(expected("anthropic", "anthropic/thinking-tool-use.sse"))


# --- upstream errors ------------------------------------------------------------------------------

# (upstream provider, base URL suffix, status, the upstream's error body)
UPSTREAM_ERRORS = [
    (
        "openai",
        "/v1",
        429,
        {
            "error": {
                "message": "Rate limit reached",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        },
    ),
    ("anthropic", "", 529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    (
        "gemini",
        "/v1beta",
        400,
        {"error": {"code": 400, "message": "Invalid model name", "status": "INVALID_ARGUMENT"}},
    ),
    ("ollama", "", 404, {"error": "model 'm' not found"}),
]


@pytest.fixture
def failing_gateway(request: pytest.FixtureRequest) -> Iterator[tuple[str, int, dict[str, Any]]]:
    provider, suffix, status, body = request.param
    upstream = FakeUpstream(orjson.dumps(body), status=status)
    with running_server(upstream) as upstream_url:
        adapter = GatewayAdapter(upstream_url + suffix, provider)
        with running_server(create_app(adapter, model="gw", resumable=True)) as url:
            yield url, status, body


def error_cases() -> list[Any]:
    return [pytest.param(case, id=f"{case[0]}-{case[2]}") for case in UPSTREAM_ERRORS]


def upstream_message(body: dict[str, Any]) -> str:
    error = body["error"]
    return str(error if isinstance(error, str) else error["message"])


@pytest.mark.parametrize("failing_gateway", error_cases(), indirect=True)
@pytest.mark.parametrize("stream", [True, False])
def test_an_upstream_error_reaches_the_openai_sdk_with_its_status(
    failing_gateway: tuple[str, int, dict[str, Any]], stream: bool
) -> None:
    url, status, body = failing_gateway
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}], stream=stream)
    assert caught.value.status_code == status
    assert upstream_message(body) in caught.value.message
    if status == 429:
        assert isinstance(caught.value, openai.RateLimitError) and caught.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize("failing_gateway", error_cases(), indirect=True)
def test_an_upstream_error_reaches_the_anthropic_sdk_with_its_status(
    failing_gateway: tuple[str, int, dict[str, Any]],
) -> None:
    url, status, body = failing_gateway
    client = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as caught:
        with client.messages.stream(
            model="m", max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
        ) as stream:
            stream.get_final_message()
    assert caught.value.status_code == status
    assert upstream_message(body) in caught.value.message
    expected_type = {429: "rate_limit_error", 529: "overloaded_error", 404: "not_found_error"}
    assert caught.value.body["error"]["type"] == expected_type.get(status, "invalid_request_error")  # type: ignore[index]


def test_an_unreachable_upstream_is_a_502() -> None:
    from support.processes import free_port

    adapter = GatewayAdapter(f"http://127.0.0.1:{free_port()}/v1", "openai")
    with running_server(create_app(adapter, model="gw")) as url:
        answer = httpx.post(
            url + "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": True},
        )
    assert answer.status_code == 502 and "unreachable" in answer.json()["error"]["message"]


@pytest.mark.parametrize("gateway", cases(), indirect=True)
def test_the_responses_api_gets_the_upstream_answer(gateway: tuple[str, FakeUpstream]) -> None:
    url, upstream = gateway
    provider, capture = upstream_of(upstream)
    oracle = expected(provider, capture)
    client = openai.OpenAI(base_url=url + "/v1", api_key="k")
    with client.responses.stream(
        model="m", input="Weather in Paris?", tools=[{"type": "function", "strict": False, **WEATHER_TOOL}]
    ) as stream:
        response = stream.get_final_response()
    reasoning = [
        part.text for item in response.output if item.type == "reasoning" for part in item.content or ()
    ]
    calls = [
        (item.name, orjson.loads(item.arguments or "{}"))
        for item in response.output
        if item.type == "function_call"
    ]
    assert response.output_text == oracle.text and "".join(reasoning) == oracle.reasoning
    assert calls == calls_of(oracle) and response.status == "completed"


@pytest.mark.parametrize(
    "gateway",
    [pytest.param(("anthropic", "anthropic/thinking-tool-use.sse", "", {}), id="to-anthropic")],
    indirect=True,
)
def test_a_tool_loop_with_thinking_keeps_the_signed_thinking_upstream(
    gateway: tuple[str, FakeUpstream],
) -> None:
    """The Anthropic SDK's second request carries the thinking block (with its signature) before
    tool_use; the gateway must forward it so that the upstream's signature check passes."""
    url, upstream = gateway
    client = anthropic.Anthropic(base_url=url, api_key="k")
    tool = {"name": "fixed_version", "description": "A tool", "input_schema": {"type": "object"}}
    messages: list[Any] = [{"role": "user", "content": "Which version?"}]
    thinking = {"type": "enabled", "budget_tokens": 2000}

    def turn() -> Any:
        with client.messages.stream(
            model="m",
            max_tokens=3000,
            messages=messages,
            tools=[tool],
            thinking=thinking,  # type: ignore[arg-type,list-item]
        ) as stream:
            return stream.get_final_message()

    message = turn()
    blocks = [block.model_dump(exclude_none=True) for block in message.content]
    assert blocks[0]["type"] == "thinking" and blocks[0]["signature"]
    use = next(block for block in blocks if block["type"] == "tool_use")
    messages += [
        {"role": "assistant", "content": blocks},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"], "content": "1.2"}]},
    ]
    turn()
    sent = upstream.requests[-1][2]["messages"][1]["content"]
    assert sent[0] == {
        "type": "thinking",
        "thinking": blocks[0]["thinking"],
        "signature": blocks[0]["signature"],
    }
    assert sent[-1]["type"] == "tool_use" and sent[-1]["id"] == use["id"]


@pytest.mark.parametrize(
    "gateway",
    [pytest.param(("openai", "openai-chat/chat-text.sse", "/v1", {}), id="to-openai")],
    indirect=True,
)
def test_reasoning_content_and_tool_choice_reach_the_upstream(gateway: tuple[str, FakeUpstream]) -> None:
    url, upstream = gateway
    body = {**CONVERSATION_OPENAI, "stream": True, "tool_choice": "required"}
    body["messages"] = [dict(m) for m in CONVERSATION_OPENAI["messages"]]  # type: ignore[attr-defined]
    body["messages"][2]["reasoning_content"] = "Paris is a city; ask the tool."
    httpx.post(url + "/v1/chat/completions", json=body).raise_for_status()
    sent = upstream.requests[-1][2]
    assert sent["messages"][2]["reasoning_content"] == "Paris is a city; ask the tool."
    assert sent["tool_choice"] == "required"
