"""Resumable streams on the in-memory store: ids, detached generation, resume, lease, caps."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import anyio
import fastsse
import httpx
import openai
import pytest
from fastsse.adapters import ReplayAdapter
from fastsse.server import MemoryStore, create_app
from fastsse.server._resume import ResumableStreams
from serving import running_server

CHAT = {"model": "m", "messages": [{"role": "user", "content": "What is the weather in Paris?"}]}
MESSAGE = {**CHAT, "max_tokens": 400}
ROUTES = [("/v1/chat/completions", CHAT), ("/v1/messages", MESSAGE)]


def events_of(raw: bytes) -> list[bytes]:
    """The raw events of an SSE body (each with its blank line), comments dropped."""
    return [part + b"\n\n" for part in raw.split(b"\n\n") if part and not part.startswith(b":")]


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[httpx.Client, ReplayAdapter, Any]]:
    marker = request.node.get_closest_marker("app")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    adapter = options.pop("adapter", None) or ReplayAdapter(tokens_per_second=400)
    options.setdefault("resumable", True)
    app = create_app(adapter, reasoning="think", tools="hermes", model="m", **options)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, adapter, app


def read_events(response: httpx.Response, count: int) -> list[bytes]:
    """The first ``count`` events of a streaming response (then the caller closes it)."""
    buffer = b""
    for piece in response.iter_raw():
        buffer += piece
        if len(events_of(buffer)) > count:
            break
    cut = 0
    for _ in range(count):
        while buffer.startswith(b":", cut):  # keep-alive comments before an event
            cut = buffer.index(b"\n\n", cut) + 2
        cut = buffer.index(b"\n\n", cut) + 2
    return events_of(buffer[:cut])


@pytest.mark.parametrize(("path", "body"), ROUTES)
def test_every_event_has_an_ordered_id_and_the_stream_an_id_header(
    served: tuple[httpx.Client, ReplayAdapter, Any], path: str, body: dict[str, Any]
) -> None:
    client, _, _ = served
    with client.stream("POST", path, json={**body, "stream": True}) as response:
        raw = response.read()
        assert response.headers["x-stream-id"].startswith("strm_")
    ids = [event.id for event in fastsse.iter_sse([raw])]
    assert ids == [str(n) for n in range(1, len(ids) + 1)] and len(ids) > 10
    assert all(event.startswith(b"id: ") for event in events_of(raw))


@pytest.mark.parametrize(("path", "body"), ROUTES)
@pytest.mark.parametrize("form", ["header", "query"])
def test_a_dropped_client_resumes_byte_for_byte(
    served: tuple[httpx.Client, ReplayAdapter, Any], path: str, body: dict[str, Any], form: str
) -> None:
    client, adapter, _ = served
    with client.stream("POST", path, json={**body, "stream": True}) as response:
        stream_id = response.headers["x-stream-id"]
        first = read_events(response, 5)
    last_id = first[-1].split(b"\n", 1)[0].removeprefix(b"id: ").decode()
    options: dict[str, Any] = (
        {"headers": {"Last-Event-ID": last_id}} if form == "header" else {"params": {"after": last_id}}
    )
    rest = client.get(f"/v1/streams/{stream_id}", **options).content
    whole = client.get(f"/v1/streams/{stream_id}").content
    assert b"".join(first) + rest == whole
    assert adapter.records[-1].outcome == "stop"  # the generation went on without a reader
    # The combined stream decodes to the uninterrupted answer.
    provider = "anthropic" if path == "/v1/messages" else "openai"
    resumed = fastsse.collect(fastsse.iter_chunks([b"".join(first), rest], provider=provider))
    straight = fastsse.collect(fastsse.iter_chunks([whole], provider=provider))
    assert resumed == straight and len(straight.text) > 100 and straight.finish_reason == "stop"


def test_the_openai_sdk_reads_a_resumed_stream(served: tuple[httpx.Client, ReplayAdapter, Any]) -> None:
    client, _, _ = served
    with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        stream_id = response.headers["x-stream-id"]
    sdk = openai.OpenAI(base_url=str(client.base_url) + "/v1", api_key="k")
    whole = client.get(f"/v1/streams/{stream_id}")
    # The SDK's own decoder accepts the stored events (id lines included) as a chat stream.
    chunks = list(openai.Stream(cast_to=openai.types.chat.ChatCompletionChunk, response=whole, client=sdk))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert any(chunk.choices and chunk.choices[0].finish_reason == "stop" for chunk in chunks)


def test_unknown_streams_are_404_in_the_callers_shape(
    served: tuple[httpx.Client, ReplayAdapter, Any],
) -> None:
    client, _, _ = served
    missing = client.get("/v1/streams/strm_nope")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"
    anthropic = client.get("/v1/streams/strm_nope", headers={"anthropic-version": "2023-06-01"})
    assert anthropic.status_code == 404 and anthropic.json()["type"] == "error"
    bad = client.get("/v1/streams/strm_nope", headers={"Last-Event-ID": "x1"})
    assert bad.status_code == 400


@pytest.mark.app(stream_ttl=1.0)
def test_a_finished_stream_is_readable_for_its_ttl_then_gone(
    served: tuple[httpx.Client, ReplayAdapter, Any],
) -> None:
    client, _, _ = served
    response = client.post("/v1/messages", json={**MESSAGE, "stream": True})
    stream_id = response.headers["x-stream-id"]
    assert client.get(f"/v1/streams/{stream_id}").content == response.content
    time.sleep(1.0)  # the TTL runs from the stream's end, which came before the response ended
    gone = client.get(f"/v1/streams/{stream_id}", headers={"anthropic-version": "2023-06-01"})
    assert gone.status_code == 404 and gone.json()["error"]["type"] == "not_found_error"


@pytest.mark.app(resumable=False)
def test_streams_are_not_resumable_unless_asked(served: tuple[httpx.Client, ReplayAdapter, Any]) -> None:
    client, _, _ = served
    with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        raw = response.read()
        assert "x-stream-id" not in response.headers
    assert b"id: " not in raw
    assert client.get("/v1/streams/strm_x").status_code == 404


@pytest.mark.app(adapter=ReplayAdapter(tokens_per_second=50), detach_timeout=0.3)
def test_a_generation_without_reader_is_cancelled_after_the_detach_timeout(
    served: tuple[httpx.Client, ReplayAdapter, Any], caplog: pytest.LogCaptureFixture
) -> None:
    client, adapter, _ = served
    caplog.set_level(logging.INFO, logger="fastsse.server")
    with client.stream("POST", "/v1/messages", json={**MESSAGE, "stream": True}) as response:
        stream_id = response.headers["x-stream-id"]
        read_events(response, 2)
        left = time.monotonic()
    deadline = time.monotonic() + 10
    while adapter.records[-1].finished_at is None and time.monotonic() < deadline:
        time.sleep(0.005)
    record = adapter.records[-1]
    assert record.outcome == "closed" and record.finished_at is not None
    decisions = [r for r in caplog.records if stream_id in r.getMessage() and "no reader" in r.getMessage()]
    assert len(decisions) == 1
    decided = decisions[0].created - (time.time() - time.monotonic())  # on the monotonic clock
    # The 0.3 s count from when the server saw the client leave (after it left); the upper
    # margin covers a loaded machine.
    assert 0.3 - 0.01 <= decided - left < 0.3 + 1.0
    # Once decided, the cancellation reaches the engine within 100 ms.
    assert record.finished_at - decided < 0.1
    tail = events_of(client.get(f"/v1/streams/{stream_id}").content)[-1]
    assert tail.startswith(b"id: ") and b"event: error" in tail and b"stream_detach_timeout" in tail


@pytest.mark.app(adapter=ReplayAdapter(tokens_per_second=100), detach_timeout=0.3)
def test_a_resumed_reader_keeps_the_generation_alive(served: tuple[httpx.Client, ReplayAdapter, Any]) -> None:
    client, adapter, _ = served
    with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        stream_id = response.headers["x-stream-id"]
        read_events(response, 2)
    body = client.get(f"/v1/streams/{stream_id}", headers={"Last-Event-ID": "2"}).content
    assert body.endswith(b"data: [DONE]\n\n") and adapter.records[-1].outcome == "stop"


def ids_of(raw: bytes) -> list[str]:
    return [event.id for event in fastsse.iter_sse([raw])]


def assert_generation_closed(adapter: ReplayAdapter) -> None:
    deadline = time.monotonic() + 10
    while adapter.records[-1].outcome is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert adapter.records[-1].outcome == "closed"


@pytest.mark.app(max_stream_bytes=2000)
def test_a_stream_over_its_byte_cap_ends_with_a_typed_error(
    served: tuple[httpx.Client, ReplayAdapter, Any],
) -> None:
    client, adapter, _ = served
    raw = client.post("/v1/chat/completions", json={**CHAT, "stream": True}).content
    tail = events_of(raw)
    assert b'"code":"stream_too_large"' in tail[-2] and b"max_stream_bytes (2000)" in tail[-2]
    assert tail[-1].endswith(b"data: [DONE]\n\n")
    assert sum(map(len, tail[:-2])) <= 2000
    # No id skipped before the error ([DONE] comes in the error's block, so it repeats its id).
    assert ids_of(raw)[:-1] == [str(n) for n in range(1, len(tail))]
    assert_generation_closed(adapter)


@pytest.mark.app(store=MemoryStore(max_events=5))
def test_a_stream_over_the_stores_event_cap_ends_with_a_typed_error(
    served: tuple[httpx.Client, ReplayAdapter, Any],
) -> None:
    client, adapter, _ = served
    raw = client.post("/v1/messages", json={**MESSAGE, "stream": True}).content
    assert ids_of(raw) == ["1", "2", "3", "4", "5", "6"]
    assert b"stream_too_large" in events_of(raw)[-1] and b"max_events (5)" in events_of(raw)[-1]
    assert_generation_closed(adapter)


@pytest.mark.app(store=MemoryStore(max_total_bytes=3000))
def test_a_store_out_of_room_ends_the_stream_and_refuses_new_ones(
    served: tuple[httpx.Client, ReplayAdapter, Any],
) -> None:
    client, adapter, app = served
    raw = client.post("/v1/chat/completions", json={**CHAT, "stream": True}).content
    error = events_of(raw)[-2]
    assert b'"code":"stream_store_full"' in error and b"max_total_bytes limit (3000)" in error
    assert ids_of(raw)[:-1] == [str(n) for n in range(1, len(events_of(raw)))]
    assert_generation_closed(adapter)
    store = app.resumable.store
    assert store.total_bytes <= 3000 + len(error) + 16
    refused = client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    assert refused.status_code == 503 and "max_total_bytes" in refused.json()["error"]["message"]


@pytest.mark.app(store=MemoryStore(max_streams=1), adapter=ReplayAdapter(tokens_per_second=50))
def test_a_full_store_refuses_new_streams_with_503(served: tuple[httpx.Client, ReplayAdapter, Any]) -> None:
    client, _, _ = served
    with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        read_events(response, 1)
        refused = client.post("/v1/messages", json={**MESSAGE, "stream": True})
    assert refused.status_code == 503 and "max_streams" in refused.json()["error"]["message"]


# --- a producer that dies, in one process ---------------------------------------------------


@pytest.mark.parametrize("format", ["openai", "anthropic"])
def test_readers_of_a_lost_producer_get_the_events_then_a_typed_error(format: str) -> None:
    """A producer that stops renewing its lease (its process died) leaves readers the events it
    stored and then, once the lease lapsed, ``stream_producer_lost`` in the stream's format."""

    async def main() -> tuple[list[bytes], float]:
        store = MemoryStore()
        streams = ResumableStreams(store, lease=0.3)
        await store.create("strm_dead", format=format, lease=streams.lease)
        stored = [b"id: 1\ndata: {}\n\n", b"id: 2\ndata: {}\n\n"]
        await store.append("strm_dead", list(enumerate(stored, start=1)))
        sent: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message.get("body", b""))

        async def receive() -> dict[str, Any]:
            await anyio.sleep_forever()
            raise AssertionError

        started = time.monotonic()
        completed = await streams.follow(send, receive, "strm_dead", 0, format=format, keepalive=10)
        assert completed
        return sent, time.monotonic() - started

    sent, took = anyio.run(main)
    body = b"".join(sent)
    assert body.startswith(b"id: 1\ndata: {}\n\nid: 2\ndata: {}\n\n")
    assert b"stream_producer_lost" in body and took < 0.3 + 0.2
    if format == "anthropic":
        assert b"event: error" in body
    else:
        assert body.endswith(b"data: [DONE]\n\n") and b'"code":"stream_producer_lost"' in body


def test_closing_the_app_right_after_a_stream_ended_adds_nothing_to_it() -> None:
    """A producer cancelled (server shutdown) after storing its stream's end must not append an
    error event after that end."""

    async def main() -> bytes:
        store = MemoryStore()
        streams = ResumableStreams(store)
        sent: list[bytes] = []

        async def produce(write: Any) -> None:
            await write(b"data: {}\n\ndata: [DONE]\n\n")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message.get("body", b""))

        async def receive() -> dict[str, Any]:
            await anyio.sleep_forever()
            raise AssertionError

        await streams.serve(send, receive, produce, format="openai", keepalive=10)
        stream_id = next(iter(store._streams))
        await streams.aclose()  # cancels the producer while it winds down
        stored = await store.read(stream_id, 0, 0)
        return b"".join(data for _, data in stored.events)

    assert anyio.run(main) == b"id: 1\ndata: {}\n\nid: 2\ndata: [DONE]\n\n"


def test_a_reader_never_declares_a_producer_running_in_its_process_lost() -> None:
    """An overloaded event loop may renew a lease late; a producer running in the reader's own
    process is alive whatever its lease says, so the reader waits for its events."""

    class LateRenewals(MemoryStore):
        async def renew(self, stream_id: str, lease: float) -> None:
            pass  # every renewal comes too late

    async def main() -> bytes:
        streams = ResumableStreams(LateRenewals(), lease=0.1)
        sent: list[bytes] = []

        async def produce(write: Any) -> None:
            for n in range(5):
                await anyio.sleep(0.1)  # the lease lapses between events
                await write(b"data: %d\n\n" % n)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message.get("body", b""))

        async def receive() -> dict[str, Any]:
            await anyio.sleep_forever()
            raise AssertionError

        assert await streams.serve(send, receive, produce, format="openai", keepalive=10)
        await streams.aclose()
        return b"".join(sent)

    body = anyio.run(main)
    assert body == b"".join(b"id: %d\ndata: %d\n\n" % (n + 1, n) for n in range(5))
