"""Resumable streams on a real Redis shared by two real ``fastsse serve`` replicas."""

from __future__ import annotations

import signal
import time

import fastsse
import httpx
import pytest
from support.processes import RedisServer, fastsse_serve

CHAT = {"model": "m", "messages": [{"role": "user", "content": "Is it worth writing a parser in Rust?"}]}
MESSAGE = {**CHAT, "max_tokens": 400}
# The producer's lease. Long enough that a replica starved of CPU on a busy machine still renews
# it (renewals come every LEASE / 3), short enough to keep the tests quick.
LEASE = 2.0
# Readers look for a lapsed lease every LEASE / 3; the margin covers a loaded machine's delays
# (scheduling, process start-up) and is far below every other timer that could end the stream
# (the 30 s detach timeout, the 60 s grace of a lost stream).
DETECTION_BOUND = LEASE + LEASE / 3 + 3.0


def replica(redis_server: RedisServer, rate: int = 300) -> fastsse_serve:  # type: ignore[valid-type]
    return fastsse_serve(
        "--store",
        redis_server.url,
        "--rate",
        str(rate),
        "--stream-lease",
        str(LEASE),
        "--detach-timeout",
        "30",
    )


def events_of(raw: bytes) -> list[bytes]:
    return [part + b"\n\n" for part in raw.split(b"\n\n") if part and not part.startswith(b":")]


def first_events(response: httpx.Response, count: int) -> bytes:
    buffer = b""
    for piece in response.iter_raw():
        buffer += piece
        if len(events_of(buffer)) > count:
            break
    return b"".join(events_of(buffer)[:count])


@pytest.mark.parametrize(
    ("path", "body", "provider"),
    [("/v1/chat/completions", CHAT, "openai"), ("/v1/messages", MESSAGE, "anthropic")],
)
def test_a_client_dropped_on_one_replica_resumes_on_the_other(
    redis_server: RedisServer, path: str, body: dict[str, object], provider: str
) -> None:
    with replica(redis_server) as (first_url, _), replica(redis_server) as (second_url, _):
        with httpx.stream("POST", first_url + path, json={**body, "stream": True}, timeout=10) as response:
            stream_id = response.headers["x-stream-id"]
            head = first_events(response, 6)
        last_id = events_of(head)[-1].split(b"\n", 1)[0].removeprefix(b"id: ").decode()
        rest = httpx.get(
            f"{second_url}/v1/streams/{stream_id}", headers={"Last-Event-ID": last_id}, timeout=10
        )
        assert rest.status_code == 200 and rest.headers["x-stream-id"] == stream_id
        whole = httpx.get(f"{first_url}/v1/streams/{stream_id}", timeout=10).content
    assert head + rest.content == whole
    resumed = fastsse.collect(fastsse.iter_chunks([head, rest.content], provider=provider))
    straight = fastsse.collect(fastsse.iter_chunks([whole], provider=provider))
    assert resumed == straight and len(straight.text) > 100 and straight.finish_reason == "stop"


@pytest.mark.parametrize(
    ("path", "body", "error_mark"),
    [
        ("/v1/chat/completions", CHAT, b'"code":"stream_producer_lost"'),
        ("/v1/messages", MESSAGE, b"event: error\ndata: "),
    ],
)
def test_resumers_of_a_killed_replica_get_a_typed_error_within_the_lease(
    redis_server: RedisServer, path: str, body: dict[str, object], error_mark: bytes
) -> None:
    with replica(redis_server, rate=40) as (producing_url, producer), replica(redis_server) as (other_url, _):
        with httpx.stream(
            "POST", producing_url + path, json={**body, "stream": True}, timeout=10
        ) as response:
            stream_id = response.headers["x-stream-id"]
            first_events(response, 4)
            producer.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            producer.wait(timeout=10)
        resumed, error_at = b"", None
        with httpx.stream(
            "GET", f"{other_url}/v1/streams/{stream_id}", headers={"Last-Event-ID": "2"}, timeout=30
        ) as response:
            for piece in response.iter_raw():
                resumed += piece
                if error_at is None and b"stream_producer_lost" in resumed:
                    error_at = time.monotonic()
    events = events_of(resumed)
    assert events[0].startswith(b"id: 3\n") and len(events) >= 3  # what was stored, then the error
    error = events[-2] if path == "/v1/chat/completions" else events[-1]
    assert error_mark in error and b"stream_producer_lost" in error
    # The lease lapses at most LEASE after the kill (the last renewal came before it).
    assert error_at is not None and error_at - killed < DETECTION_BOUND


def test_redis_restarted_mid_stream_ends_the_stream_with_a_clear_error(redis_server: RedisServer) -> None:
    with replica(redis_server, rate=40) as (url, _):
        with httpx.stream(
            "POST", url + "/v1/chat/completions", json={**CHAT, "stream": True}, timeout=10
        ) as response:
            body = b""
            restarted = None
            for piece in response.iter_raw():
                body += piece
                if restarted is None and len(events_of(body)) >= 3:
                    redis_server.restart()
                    restarted = time.monotonic()
            assert restarted is not None
            took = time.monotonic() - restarted
        head, error = events_of(body)[0], events_of(body)[-2]
        assert head.startswith(b"id: 1\n")
        assert b"stream_store_unavailable" in error or b"stream_producer_lost" in error
        assert took < DETECTION_BOUND
        # The replica goes on serving with the new Redis.
        again = httpx.post(url + "/v1/chat/completions", json={**CHAT, "stream": True}, timeout=10)
        assert again.content.endswith(b"data: [DONE]\n\n")


def test_a_full_redis_store_answers_503(redis_server: RedisServer) -> None:
    from fastsse.adapters import ReplayAdapter
    from fastsse.server import RedisStore, create_app
    from serving import running_server

    store = RedisStore(redis_server.url, max_streams=1, prefix="fastsse:full-test:")
    app = create_app(ReplayAdapter(tokens_per_second=50), store=store, model="m")
    with running_server(app) as url:
        with httpx.stream("POST", url + "/v1/messages", json={**MESSAGE, "stream": True}) as response:
            first_events(response, 1)
            refused = httpx.post(
                url + "/v1/messages", json={**MESSAGE, "stream": True}, headers={"anthropic-version": "x"}
            )
    assert refused.status_code == 503 and refused.json()["error"]["type"] == "overloaded_error"
    assert "max_streams" in refused.json()["error"]["message"]


def test_a_stream_over_the_redis_event_cap_ends_with_a_typed_error_and_loses_nothing(
    redis_server: RedisServer,
) -> None:
    from fastsse.adapters import ReplayAdapter
    from fastsse.server import RedisStore, create_app
    from serving import running_server

    store = RedisStore(redis_server.url, max_events=5, prefix="fastsse:cap-test:")
    app = create_app(ReplayAdapter(tokens_per_second=400), store=store, model="m")
    with running_server(app) as url:
        raw = httpx.post(url + "/v1/messages", json={**MESSAGE, "stream": True}, timeout=10)
        stream_id = raw.headers["x-stream-id"]
        stored = httpx.get(f"{url}/v1/streams/{stream_id}", timeout=10).content
    ids = [event.id for event in fastsse.iter_sse([raw.content])]
    assert ids == ["1", "2", "3", "4", "5", "6"] and stored == raw.content  # MAXLEN trimmed nothing
    assert b"stream_too_large" in events_of(stored)[-1] and b"max_events (5)" in events_of(stored)[-1]


def test_redis_out_of_memory_is_a_typed_store_full_error(redis_server: RedisServer) -> None:
    """The total cap of the Redis store is the server's ``maxmemory``: past it, new streams get
    a 503 and a producer's next events a ``StoreFullError`` naming it."""
    import anyio
    import redis
    from fastsse.server import RedisStore, StoreFullError
    from fastsse.server._resume import ResumableStreams

    admin = redis.Redis.from_url(redis_server.url)

    async def main() -> None:
        store = RedisStore(redis_server.url, prefix="fastsse:oom-test:")
        try:
            await store.create("strm_oom", format="openai", lease=5)
            await store.append("strm_oom", [(1, b"id: 1\ndata: {}\n\n")])
            admin.config_set("maxmemory", 1)  # anything is past it now
            with pytest.raises(StoreFullError) as caught:
                await store.append("strm_oom", [(2, b"id: 2\ndata: " + b"x" * 1000 + b"\n\n")])
            assert caught.value.limit == "maxmemory" and "maxmemory" in str(caught.value)
            with pytest.raises(StoreFullError):
                await ResumableStreams(store).start(lambda write: anyio.sleep(0), format="openai")
        finally:
            admin.config_set("maxmemory", 0)
            await store.aclose()

    anyio.run(main)


def test_a_stream_read_in_the_process_producing_it_costs_no_xread_per_event(
    redis_server: RedisServer,
) -> None:
    """The producer's own readers take its last stored events from memory: the store is read
    once, for the stream's end, not once per event."""
    import redis
    from fastsse.adapters import ReplayAdapter
    from fastsse.server import RedisStore, create_app
    from serving import running_server

    admin = redis.Redis.from_url(redis_server.url)

    def xreads() -> int:
        return int(admin.info("commandstats").get("cmdstat_xread", {}).get("calls", 0))

    store = RedisStore(redis_server.url, prefix="fastsse:local-test:")
    app = create_app(ReplayAdapter(tokens_per_second=400), store=store, model="m")
    with running_server(app) as url:
        before = xreads()
        response = httpx.post(url + "/v1/chat/completions", json={**CHAT, "stream": True}, timeout=10)
        used = xreads() - before
        stored = httpx.get(f"{url}/v1/streams/{response.headers['x-stream-id']}", timeout=10).content
    assert len(events_of(response.content)) > 50 and used <= 2 and stored == response.content
