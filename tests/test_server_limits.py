"""The server's caps (``ServerLimits``) through uvicorn on loopback, with raw sockets where a
well-behaved client cannot misbehave enough (half-sent headers, a body that never ends)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastsse.adapters import ReplayAdapter
from fastsse.server import ServerLimits, create_app
from fastsse.server._limits import keys_match
from serving import running_server

CHAT = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
MESSAGE = {**CHAT, "max_tokens": 100}
LIMITS = ServerLimits(
    max_body_size=64 * 1024,
    body_timeout=0.5,
    header_timeout=0.5,
    max_concurrent_requests=2,
    max_tokens=1000,
    max_messages=8,
    max_message_bytes=1000,
    offload_body_bytes=100,
)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, ReplayAdapter]]:
    # Slow enough that two streams are still running while the third request arrives.
    adapter = ReplayAdapter(tokens_per_second=20, script=lambda prompt: "tok " * 40)
    app = create_app(adapter, reasoning="think", tools="hermes", model="m", limits=LIMITS)
    with running_server(app, **LIMITS.uvicorn_options()) as url:
        yield url, adapter


@pytest.fixture
def client(server: tuple[str, ReplayAdapter]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0], timeout=10) as client:
        yield client


def raw_connection(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10)


def closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing, or None if it kept the connection open."""
    sock.settimeout(seconds)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return None
    return received


def test_half_sent_headers_are_cut_off(server: tuple[str, ReplayAdapter]) -> None:
    sockets = [raw_connection(server[0]) for _ in range(20)]
    for sock in sockets:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-le")
    for sock in sockets:
        assert closed_within(sock, 5) == b""
        sock.close()


def test_a_body_that_never_ends_gets_408(server: tuple[str, ReplayAdapter]) -> None:
    with raw_connection(server[0]) as sock:
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{")
        answer = closed_within(sock, 5)
    assert answer is not None and answer.startswith(b"HTTP/1.1 408")
    assert b'"timeout_error"' in answer


def test_too_large_a_body_gets_413(client: httpx.Client) -> None:
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 70_000}]}
    response = client.post("/v1/chat/completions", json=big)
    assert response.status_code == 413


def test_request_caps_answer_400_in_the_provider_shape(client: httpx.Client) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("/v1/chat/completions", {**CHAT, "max_tokens": 1e30}, "max_tokens"),
        ("/v1/messages", {**MESSAGE, "max_tokens": 1001}, "max_tokens"),
        ("/v1/chat/completions", {**CHAT, "messages": [{"role": "user", "content": "hi"}] * 9}, "messages"),
        ("/v1/chat/completions", {**CHAT, "messages": [{"role": "user", "content": "é" * 600}]}, "messages"),
    ]
    for path, body, param in cases:
        response = client.post(path, json=body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert param in error["message"]
        if path == "/v1/chat/completions":
            assert error["param"].startswith(param)
        else:
            assert error["type"] == "invalid_request_error"


def _tool(name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    function = {"name": name, "parameters": parameters or {"type": "object", "properties": {}}}
    return {"type": "function", "function": function}


def test_hostile_tools_answer_400_quickly_and_health_keeps_answering(client: httpx.Client) -> None:
    any_of: dict[str, Any] = {"type": "string"}
    for _ in range(40):  # the 731-byte request that used to hang the server for hours
        any_of = {"anyOf": [any_of]}
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(130):  # past serde's recursion limit: used to be a 500 with a traceback
        deep = {"items": deep}
    for parameters in (any_of, deep):
        tools = [_tool("f", {"type": "object", "properties": {"p": parameters}})]
        response = client.post("/v1/chat/completions", json={**CHAT, "tools": tools})
        assert response.status_code == 400, response.text
        assert "max_schema_depth" in response.json()["error"]["message"]
    assert client.get("/health").status_code == 200


def test_tool_names_are_matched_whole_and_never_echoed_in_full(client: httpx.Client) -> None:
    newline = client.post("/v1/chat/completions", json={**CHAT, "tools": [_tool("f\n")]})
    assert newline.status_code == 400 and newline.json()["error"]["param"] == "tools[0].function.name"
    huge = client.post("/v1/chat/completions", json={**CHAT, "tools": [_tool("n" * 60_000)]})
    assert huge.status_code == 400 and len(huge.content) < 1024


def test_a_stop_string_past_the_parser_cap_answers_400(client: httpx.Client) -> None:
    response = client.post("/v1/chat/completions", json={**CHAT, "stop": ["x" * 5000]})
    assert response.status_code == 400 and "max_stop_bytes" in response.json()["error"]["message"]


def test_requests_past_the_concurrency_cap_get_503_overloaded(
    client: httpx.Client, server: tuple[str, ReplayAdapter]
) -> None:
    started = threading.Barrier(3)
    finished: list[int] = []

    def stream() -> None:
        with (
            httpx.Client(base_url=server[0], timeout=10) as own,
            own.stream("POST", "/v1/messages", json={**MESSAGE, "stream": True}) as response,
        ):
            started.wait()
            response.read()
            finished.append(response.status_code)

    threads = [threading.Thread(target=stream) for _ in range(2)]
    for thread in threads:
        thread.start()
    started.wait()
    refused = client.post("/v1/messages", json=MESSAGE)
    assert refused.status_code == 503
    assert refused.json()["error"]["type"] == "overloaded_error"
    assert client.get("/health").status_code == 200
    for thread in threads:
        thread.join()
    assert finished == [200, 200]
    # Slots come back: the next request is served.
    deadline = time.monotonic() + 5
    while (answer := client.post("/v1/messages", json=MESSAGE)).status_code == 503:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert answer.status_code == 200


def test_large_requests_are_prepared_off_the_event_loop(
    client: httpx.Client, server: tuple[str, ReplayAdapter]
) -> None:
    # Above offload_body_bytes (100 here) the template and token count run in a worker thread.
    messages = [{"role": "user", "content": "word " * 150}]
    response = client.post("/v1/chat/completions", json={**CHAT, "messages": messages, "max_tokens": 5})
    assert response.status_code == 200 and response.json()["usage"]["prompt_tokens"] > 150


def test_limits_are_checked_and_keys_compared_in_constant_time() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        ServerLimits(max_tokens=0)
    assert keys_match("sekret", "sekret") and not keys_match("sekret", "sekreT")
    assert not keys_match("", "sekret")


def test_every_limit_is_a_serve_flag() -> None:
    from fastsse.cli import build_parser
    from fastsse.server._limits import limits_from_args

    args = build_parser().parse_args(["serve", "--max-tokens", "5", "--header-timeout", "2.5"])
    limits = limits_from_args(args)
    assert (limits.max_tokens, limits.header_timeout) == (5, 2.5)
    assert limits.max_body_size == ServerLimits().max_body_size
    options = limits.uvicorn_options()
    assert options["limit_concurrency"] == limits.max_connections
    assert options["timeout_graceful_shutdown"] > 0
