"""EventSourceResponse in real apps: FastAPI and Starlette under uvicorn on 127.0.0.1, httpx (and
httpx-sse, an independent decoder) as the client; a plain ASGI run under trio."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import trio
from fastapi import FastAPI
from fastsse import ServerSentEvent, iter_sse
from fastsse.server import EventSourceResponse
from httpx_sse import connect_sse
from serving import running_server
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

# (item given to the response, the bytes it must become, what a decoder reads back)
FRAMING = [
    ("plain", b"data: plain\n\n", ("message", "plain", "")),
    ({"a": [1, "é"]}, b'data: {"a":[1,"\xc3\xa9"]}\n\n', ("message", '{"a":[1,"\u00e9"]}', "")),
    (
        ServerSentEvent(event="delta", data="one\ntwo", id="7", retry=1500),
        b"event: delta\nid: 7\nretry: 1500\ndata: one\ndata: two\n\n",
        ("delta", "one\ntwo", "7"),
    ),
    (ServerSentEvent(data="a\r\nb\rc"), b"data: a\ndata: b\ndata: c\n\n", ("message", "a\nb\nc", "7")),
    (ServerSentEvent(data=" lead\n"), b"data:  lead\ndata: \n\n", ("message", " lead\n", "7")),
    ("", b"data: \n\n", ("message", "", "7")),
]
INJECTIONS = {
    "event": ServerSentEvent(event="x\nevent: admin", data="injected"),
    "id": ServerSentEvent(id="1\n\ndata: injected", data="x"),
    "id-cr": ServerSentEvent(id="1\rdata: injected", data="x"),
}


class Tracker:
    """What the server side saw of one stream: the iterable closed, the hook called."""

    def __init__(self) -> None:
        self.closed = threading.Event()
        self.hooked = threading.Event()
        self.sent = 0
        self.responses: list[EventSourceResponse] = []

    def hook(self) -> None:
        assert self.closed.is_set(), "the hook must run after the iterable was closed"
        self.hooked.set()

    def wait(self, timeout: float = 5.0) -> None:
        assert self.closed.wait(timeout), "the iterable was not closed"
        assert self.hooked.wait(timeout), "on_disconnect was not called"


TRACKERS: dict[str, Tracker] = {}


def tracker(name: str) -> Tracker:
    TRACKERS[name] = Tracker()
    return TRACKERS[name]


async def endless_async(track: Tracker, size: int, pause: float) -> AsyncIterator[str]:
    try:
        while True:
            track.sent += 1
            yield "x" * size
            await asyncio.sleep(pause)
    finally:
        track.closed.set()


def endless_sync(track: Tracker) -> Iterator[dict[str, int]]:
    try:
        while True:
            track.sent += 1
            yield {"n": track.sent}
            time.sleep(0.01)
    finally:
        track.closed.set()


def make_fastapi() -> FastAPI:
    app = FastAPI()

    @app.get("/framing")
    async def framing() -> EventSourceResponse:
        async def items() -> AsyncIterator[Any]:
            for item, _, _ in FRAMING:
                yield item

        return EventSourceResponse(items(), headers={"X-Stream": "framing"})

    @app.get("/sync")
    def sync_list() -> EventSourceResponse:
        def items() -> Iterator[Any]:
            yield from (item for item, _, _ in FRAMING)

        return EventSourceResponse(items())

    @app.get("/inject/{field}")
    async def inject(field: str) -> EventSourceResponse:
        return EventSourceResponse(["before", INJECTIONS[field], "after"])

    @app.get("/ping")
    async def ping(gap: float) -> EventSourceResponse:
        async def items() -> AsyncIterator[str]:
            yield "first"
            await asyncio.sleep(gap)
            yield "second"

        return EventSourceResponse(items(), ping=0.1)

    @app.get("/endless/{name}")
    async def endless(name: str, size: int = 16, send_timeout: float | None = None) -> EventSourceResponse:
        track = tracker(name)
        content = endless_sync(track) if name.startswith("sync") else endless_async(track, size, 0.005)
        response = EventSourceResponse(content, send_timeout=send_timeout, on_disconnect=track.hook)
        track.responses.append(response)
        return response

    return app


async def starlette_endpoint(request: Request) -> EventSourceResponse:
    async def items() -> AsyncIterator[str]:
        yield "from starlette"

    return EventSourceResponse(items(), headers={"Cache-Control": "no-store"})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = make_fastapi()
    app.mount("/plain", Starlette(routes=[Route("/events", starlette_endpoint)]))
    with running_server(app) as url:
        yield url


def test_framing_bytes_headers_and_an_independent_decoder(base_url: str) -> None:
    response = httpx.get(f"{base_url}/framing")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-stream"] == "framing"
    assert response.content == b"".join(wire for _, wire, _ in FRAMING)
    with httpx.Client() as client, connect_sse(client, "GET", f"{base_url}/framing") as source:
        seen = [(event.event, event.data, event.id) for event in source.iter_sse()]
    assert seen == [decoded for _, _, decoded in FRAMING]
    ours = [(event.event, event.data, event.id) for event in iter_sse([response.content])]
    assert ours == seen


def test_sync_iterables_give_the_same_stream(base_url: str) -> None:
    assert httpx.get(f"{base_url}/sync").content == b"".join(wire for _, wire, _ in FRAMING)


def test_starlette_route_and_replaced_default_header(base_url: str) -> None:
    response = httpx.get(f"{base_url}/plain/events")
    assert response.content == b"data: from starlette\n\n"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-accel-buffering"] == "no"


@pytest.mark.parametrize("field", sorted(INJECTIONS))
def test_line_breaks_in_event_or_id_are_refused(base_url: str, field: str) -> None:
    with httpx.stream("GET", f"{base_url}/inject/{field}") as response:
        received = b""
        with pytest.raises(httpx.RemoteProtocolError):
            for piece in response.iter_bytes():
                received += piece
    # What came before is delivered; the bad event and everything after it never are.
    assert received == b"data: before\n\n"


def test_ping_comments_fill_silence_only(base_url: str) -> None:
    started = time.monotonic()
    silent = httpx.get(f"{base_url}/ping", params={"gap": 0.45}).content
    assert time.monotonic() - started >= 0.45
    pings = silent.count(b": ping\n\n")
    assert 2 <= pings <= 5, silent
    assert silent.replace(b": ping\n\n", b"") == b"data: first\n\ndata: second\n\n"
    assert httpx.get(f"{base_url}/ping", params={"gap": 0.0}).content == b"data: first\n\ndata: second\n\n"


@pytest.mark.parametrize("name", ["async-leave", "sync-leave"])
def test_client_leaving_closes_the_iterable_then_calls_the_hook(base_url: str, name: str) -> None:
    with httpx.stream("GET", f"{base_url}/endless/{name}") as response:
        events = 0
        for _ in response.iter_lines():
            events += 1
            if events == 6:
                break
    track = TRACKERS[name]
    track.wait()
    assert track.responses[0].outcome == "client left"
    sent = track.sent
    time.sleep(0.1)
    assert track.sent == sent, "the iterable kept running after the client left"


def test_send_timeout_drops_a_client_that_stops_reading(base_url: str) -> None:
    port = int(base_url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        request = "GET /endless/stuck?size=65536&send_timeout=0.3 HTTP/1.1\r\nHost: test\r\n\r\n"
        sock.sendall(request.encode())
        # Never read: the socket buffers fill, uvicorn pauses the send, the timeout drops us.
        deadline = time.monotonic() + 5
        while "stuck" not in TRACKERS and time.monotonic() < deadline:
            time.sleep(0.01)
        track = TRACKERS["stuck"]
        track.wait(timeout=10)
        assert track.responses[0].outcome == "send timed out"
        # Read ahead is capped: the iterable stopped soon after the socket filled.
        assert track.sent < 200


def test_the_response_runs_under_trio() -> None:
    """Plain ASGI on trio: a server's receive/send played by trio channels."""
    closed: list[bool] = []

    async def items() -> AsyncIterator[Any]:
        try:
            for item, _, _ in FRAMING:
                yield item
                await trio.sleep(0)
            await trio.sleep(0.25)  # silence: one ping
            yield "late"
        finally:
            closed.append(True)

    async def main() -> list[Any]:
        messages: list[Any] = []

        async def receive() -> dict[str, Any]:
            await trio.sleep_forever()
            raise AssertionError

        async def send(message: Any) -> None:
            messages.append(message)

        await EventSourceResponse(items(), ping=0.2)({"type": "http"}, receive, send)
        return messages

    messages = trio.run(main)
    assert messages[0]["type"] == "http.response.start"
    body = b"".join(message.get("body", b"") for message in messages[1:])
    assert body == b"".join(wire for _, wire, _ in FRAMING) + b": ping\n\ndata: late\n\n"
    assert messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert closed == [True]


def test_bad_options_are_refused() -> None:
    for options in ({"ping": 0}, {"send_timeout": -1}, {"max_batch": 0}):
        with pytest.raises(ValueError):
            EventSourceResponse([], **options)
