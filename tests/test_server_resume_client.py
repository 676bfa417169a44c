"""fastsse.client resumes a dropped stream by itself; iter_sse / aiter_sse expose the resume point."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import fastsse
import httpx
import pytest
from fastsse.adapters import ReplayAdapter
from fastsse.client import AsyncClient, Client, Message
from fastsse.client._resume import ResumePoint
from fastsse.errors import ProviderError
from fastsse.server import create_app
from serving import running_server
from support.dropping_proxy import dropping_proxy

QUESTION = [Message("user", "Is it worth writing a parser in Rust?")]
# (provider, base URL suffix): the client's request shapes the server answers.
PROVIDERS = [("openai", "/v1"), ("anthropic", "")]


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    app = create_app(ReplayAdapter(tokens_per_second=1500), reasoning="think", tools="hermes", resumable=True)
    with running_server(app) as url:
        yield url


def uninterrupted(server_url: str, provider: str, stream_id: str) -> fastsse.GenerationResult:
    """The whole stored stream, decoded: what the dropped one must add up to."""
    whole = httpx.get(f"{server_url}/v1/streams/{stream_id}").content
    return fastsse.collect(fastsse.iter_chunks([whole], provider=provider))


@pytest.mark.parametrize(("provider", "suffix"), PROVIDERS)
@pytest.mark.parametrize("cuts", [[3000], [700, 2500], [400]])
def test_the_sync_client_resumes_a_dropped_stream(
    server_url: str, provider: str, suffix: str, cuts: list[int]
) -> None:
    with (
        dropping_proxy(server_url, cuts) as (proxy_url, proxy),
        Client(provider, base_url=proxy_url + suffix, api_key="k") as client,
        client.stream(model="m", messages=QUESTION, max_tokens=500) as chunks,
    ):
        stream_id = chunks.response.headers["x-stream-id"]
        result = fastsse.collect(chunks)
    assert proxy.connections == len(cuts) + 1  # each cut made one resume
    assert result == uninterrupted(server_url, provider, stream_id)
    assert len(result.text) > 100 and result.finish_reason == "stop"


@pytest.mark.parametrize(("provider", "suffix"), PROVIDERS)
def test_the_async_client_resumes_a_dropped_stream(server_url: str, provider: str, suffix: str) -> None:
    async def main() -> tuple[fastsse.GenerationResult, str, int]:
        with dropping_proxy(server_url, [1500, 4000]) as (proxy_url, proxy):
            async with AsyncClient(provider, base_url=proxy_url + suffix, api_key="k") as client:
                async with client.stream(model="m", messages=QUESTION, max_tokens=500) as chunks:
                    stream_id = chunks.response.headers["x-stream-id"]
                    return await fastsse.acollect(chunks), stream_id, proxy.connections

    result, stream_id, connections = anyio.run(main)
    assert connections == 3 and result == uninterrupted(server_url, provider, stream_id)


def test_a_stream_that_keeps_dropping_gives_up_with_a_typed_error(server_url: str) -> None:
    with (
        dropping_proxy(server_url, [2000] + [0] * 10) as (proxy_url, _),
        Client("openai", base_url=proxy_url + "/v1", api_key="k") as client,
    ):
        import fastsse.client._resume as resume

        chunks = client.stream(model="m", messages=QUESTION)
        original = resume.MAX_BACKOFF
        resume.MAX_BACKOFF = 0.01
        try:
            with pytest.raises(ProviderError) as caught:
                list(chunks)
        finally:
            resume.MAX_BACKOFF = original
    assert caught.value.code == "stream_resume_failed" and "5 attempts" in str(caught.value)


def test_streams_without_a_stream_id_are_not_resumed() -> None:
    app = create_app(ReplayAdapter(tokens_per_second=1500))  # not resumable
    with (
        running_server(app) as url,
        dropping_proxy(url, [2000]) as (proxy_url, proxy),
        Client("openai", base_url=proxy_url + "/v1") as client,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            list(client.stream(model="m", messages=QUESTION))
        assert proxy.connections == 1


# --- the resume point, sans-IO ---------------------------------------------------------------

STREAM = b"".join(
    [
        b"id: 1\ndata: a\n\n",
        b": keep-alive\n\n",
        b"retry: 250\nid: 2\ndata: b\n\n",
        b"id: 3\nevent: message_stop\ndata: {}\n\n",
    ]
)


@pytest.mark.parametrize("split", range(1, len(STREAM)))
def test_the_resume_point_passes_whole_events_and_tracks_the_last_id(split: int) -> None:
    point = ResumePoint()
    passed = point.take(STREAM[:split])
    # Whatever was passed on is whole events, and the id is the last whole event's.
    assert passed == STREAM[: passed.rfind(b"\n\n") + 2] if passed else True
    seen = [event.id for event in fastsse.iter_sse([passed])]
    assert point.last_event_id == (seen[-1] if seen else "")
    assert not point.ended
    passed += point.take(STREAM[split:])
    assert passed == STREAM and point.last_event_id == "3" and point.ended and point.retry == 0.25


def drive(events: Any) -> tuple[list[str], str, int | None]:
    ids = [event.id for event in events]
    return ids, events.last_event_id, events.retry


def test_iter_sse_and_aiter_sse_expose_the_last_event_id_and_retry() -> None:
    pieces = [STREAM[:30], STREAM[30:]]
    events = fastsse.iter_sse(pieces)
    assert (events.last_event_id, events.retry) == ("", None)
    first = next(events)
    assert (first.data, events.last_event_id, events.retry) == ("a", "1", None)
    assert drive(events) == (["2", "3"], "3", 250)

    async def main() -> tuple[list[str], str, int | None]:
        async def source() -> Any:
            for piece in pieces:
                yield piece

        events = fastsse.aiter_sse(source())
        ids = [event.id async for event in events]
        return ids, events.last_event_id, events.retry

    assert anyio.run(main) == (["1", "2", "3"], "3", 250)
