"""The ASGI app over raw HTTP: routes, error shapes, keep-alives, backpressure, disconnects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import fastsse
import httpx
import orjson
import pytest
from fastsse.adapters import ReplayAdapter
from fastsse.server import create_app
from serving import running_server
from support.chat import assert_engine_closed_since

CHAT = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
MESSAGE = {**CHAT, "max_tokens": 100}


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[httpx.Client, ReplayAdapter]]:
    """A server per test; options come from ``@pytest.mark.app(adapter=..., **create_app options)``."""
    marker = request.node.get_closest_marker("app")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    adapter = options.pop("adapter", None) or ReplayAdapter(tokens_per_second=None)
    app = create_app(adapter, reasoning="think", tools="hermes", model="m", **options)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, adapter


def test_health_and_models(served: tuple[httpx.Client, ReplayAdapter]) -> None:
    client, _ = served
    health = client.get("/health")
    assert (
        health.status_code == 200 and health.json()["status"] == "ok" and health.json()["active_streams"] == 0
    )
    models = client.get("/v1/models").json()
    assert models["object"] == "list" and [m["id"] for m in models["data"]] == ["m"]
    anthropic_models = client.get("/v1/models", headers={"anthropic-version": "2023-06-01"}).json()
    assert anthropic_models["data"][0]["type"] == "model" and anthropic_models["has_more"] is False


def test_unknown_routes_and_methods(served: tuple[httpx.Client, ReplayAdapter]) -> None:
    client, _ = served
    missing = client.post("/v1/embeddings", json={})
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"
    wrong = client.get("/v1/chat/completions")
    assert wrong.status_code == 405 and "POST" in wrong.json()["error"]["message"]
    wrong_anthropic = client.get("/v1/messages")
    assert wrong_anthropic.status_code == 405 and wrong_anthropic.json()["type"] == "error"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", b""),
        ("/v1/chat/completions", b"\xff\xfe\x00"),
        ("/v1/chat/completions", orjson.dumps({**CHAT, "messages": [{"role": "user", "content": {"a": 1}}]})),
        ("/v1/chat/completions", orjson.dumps({**CHAT, "tools": "all"})),
        ("/v1/chat/completions", orjson.dumps(CHAT)[:-1] + b', "max_tokens": 1e400}'),
        ("/v1/chat/completions", orjson.dumps({**CHAT, "max_tokens": "many"})),
        ("/v1/messages", orjson.dumps({**MESSAGE, "messages": [{"role": "user", "content": [1]}]})),
        ("/v1/messages", orjson.dumps({**MESSAGE, "system": 5})),
        ("/v1/completions", orjson.dumps({"model": "m"})),
    ],
)
def test_bad_bodies_get_400_in_the_providers_shape(
    served: tuple[httpx.Client, ReplayAdapter], path: str, body: bytes
) -> None:
    client, _ = served
    response = client.post(path, content=body)
    assert response.status_code == 400, response.text
    error = response.json()
    if path == "/v1/messages":
        assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    else:
        assert error["error"]["type"] == "invalid_request_error" and error["error"]["message"]


@pytest.mark.app(max_body_size=1000)
def test_oversized_body_is_refused(served: tuple[httpx.Client, ReplayAdapter]) -> None:
    client, _ = served
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 5000}]}
    response = client.post("/v1/chat/completions", json=big)
    assert response.status_code == 413 and "1000 bytes" in response.json()["error"]["message"]


@pytest.mark.app(api_key="sekret")
def test_api_key(served: tuple[httpx.Client, ReplayAdapter]) -> None:
    client, _ = served
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 401
    refused = client.post("/v1/messages", json=MESSAGE, headers={"x-api-key": "wrong"})
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"
    assert client.get("/health").status_code == 200
    assert client.get("/v1/models", headers={"authorization": "Bearer sekret"}).status_code == 200


@pytest.mark.app(
    adapter=ReplayAdapter(tokens_per_second=None, first_token_delay=0.5, script=["late"]), keepalive=0.05
)
def test_idle_streams_get_keepalive_comments(served: tuple[httpx.Client, ReplayAdapter]) -> None:
    client, _ = served
    with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = response.read()
    keepalives = body.count(b": keep-alive\n\n")
    assert keepalives >= 3
    events = list(fastsse.iter_sse([body]))
    assert events[-1].data == "[DONE]"
    assert (
        "".join(
            e.json()["choices"][0]["delta"].get("content", "") for e in events[:-1] if e.json()["choices"]
        )
        == "late"
    )


@pytest.mark.app(adapter=ReplayAdapter(tokens_per_second=None, script=["tok " * 200_000]))
def test_a_client_that_stops_reading_pauses_the_engine(served: tuple[httpx.Client, ReplayAdapter]) -> None:
    client, adapter = served
    body = {**CHAT, "stream": True, "max_tokens": 300_000}
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        raw = response.iter_raw()  # keep the iterator: dropping it would close the response
        next(raw)  # the stream has started; now stop reading
        deadline = time.monotonic() + 30
        while not adapter.records and time.monotonic() < deadline:
            time.sleep(0.01)
        record = adapter.records[-1]
        # The engine runs until the socket buffers and the server's write buffer are full...
        previous = -1
        while record.tokens_emitted != previous and time.monotonic() < deadline:
            previous = record.tokens_emitted
            time.sleep(0.5)
        paused_at = record.tokens_emitted
        # ...then waits: it stays paused while the client does not read.
        time.sleep(0.5)
        assert record.outcome is None and record.tokens_emitted == paused_at
        assert 0 < paused_at < 100_000, "far from the whole output: bounded by the buffers"
        left = time.monotonic()
    assert_engine_closed_since(adapter.records[-1], left)


@pytest.mark.app(adapter=ReplayAdapter(tokens_per_second=20, script=["word " * 100]))
def test_a_client_leaving_a_non_streamed_request_closes_the_engine(
    served: tuple[httpx.Client, ReplayAdapter],
) -> None:
    client, adapter = served
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/chat/completions", json=CHAT, timeout=0.3)
    left = time.monotonic()
    assert_engine_closed_since(adapter.records[-1], left)
    assert adapter.records[-1].tokens_emitted < 100
    health = client.get("/health").json()
    assert health["cancelled"] == 1 and health["active_streams"] == 0


def test_raw_completions_apply_stops_and_report_usage(served: tuple[httpx.Client, ReplayAdapter]) -> None:
    client, adapter = served
    adapter._script = ["<think>raw</think> text <tool_call>{}</tool_call> END more"]
    whole = client.post(
        "/v1/completions", json={"model": "m", "prompt": "p q", "stop": ["END"], "max_tokens": 100}
    )
    result = whole.json()
    assert result["object"] == "text_completion"
    assert result["choices"][0]["text"] == "<think>raw</think> text <tool_call>{}</tool_call> "
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["usage"]["prompt_tokens"] == 2
    body = {
        "model": "m",
        "prompt": "p",
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 3,
    }
    with client.stream("POST", "/v1/completions", json=body) as response:
        events = list(fastsse.iter_sse(response.iter_bytes()))
    assert events[-1].data == "[DONE]"
    payloads = [e.json() for e in events[:-1]]
    assert "".join(p["choices"][0]["text"] for p in payloads if p["choices"]) == "<think>raw</think>"
    assert [p["choices"][0]["finish_reason"] for p in payloads if p["choices"]][-1] == "length"
    assert payloads[-1]["choices"] == [] and payloads[-1]["usage"]["completion_tokens"] == 3


def test_health_reports_what_was_measured(served: tuple[httpx.Client, ReplayAdapter]) -> None:
    client, _ = served
    for _ in range(3):
        with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
            response.read()
    health = client.get("/health").json()
    assert health["requests"] == 3 and health["completed"] == 3 and health["cancelled"] == 0
    assert health["ttft_p50_ms"] > 0 and health["inter_token_p99_ms"] >= health["inter_token_p50_ms"] >= 0
    assert health["parse_p50_ns"] > 0


def _echo_template(
    messages: list[dict[str, Any]], *, tools: list[dict[str, Any]], enable_thinking: bool
) -> str:
    if any(m["role"] == "system" for m in messages):
        raise ValueError("this model takes no system prompt")
    return f"[{len(tools)} tools, thinking={enable_thinking}] " + " | ".join(m["content"] for m in messages)


@pytest.mark.app(
    adapter=ReplayAdapter(tokens_per_second=None, script=lambda prompt: prompt), chat_template=_echo_template
)
def test_a_callable_replaces_the_chat_template(served: tuple[httpx.Client, ReplayAdapter]) -> None:
    client, _ = served
    body = {
        **MESSAGE,
        "messages": [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"}],
    }
    message = client.post("/v1/messages", json=body).json()
    assert message["content"][0]["text"] == "[0 tools, thinking=False] one | two"
    refused = client.post("/v1/messages", json={**body, "system": "be nice"})
    assert refused.status_code == 400 and "no system prompt" in refused.json()["error"]["message"]
