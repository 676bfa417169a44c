"""The Responses API's stored responses (``background: true``, retrieve, ``starting_after``,
cancel) on the stream store, with the official openai SDK as the client: in one process on the
in-memory store, and across two ``fastsse serve`` replicas sharing a real ``redis-server``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest
from fastsse import GenerationChunk
from fastsse.adapters import ReplayAdapter
from fastsse.server import create_app
from serving import running_server
from support.processes import RedisServer, fastsse_serve

PROMPT = "Is it worth writing a parser in Rust?"


@pytest.fixture(scope="module")
def stored_url() -> Iterator[str]:
    app = create_app(
        ReplayAdapter(tokens_per_second=300), reasoning="think", model="m", resumable=True, detach_timeout=0.3
    )
    with running_server(app) as url:
        yield url


def sdk(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)


def dumps(events: list[Any]) -> list[dict[str, Any]]:
    return [event.model_dump() for event in events]


def first_events(stream: Any, count: int) -> list[Any]:
    """The first ``count`` events of an SDK stream, then the connection is dropped."""
    events = []
    for event in stream:
        events.append(event)
        if len(events) == count:
            break
    stream.close()
    return events


def test_a_background_stream_dropped_mid_way_resumes_after_its_last_sequence_number(stored_url: str) -> None:
    with sdk(stored_url) as client:
        head = first_events(client.responses.create(model="m", input=PROMPT, background=True, stream=True), 7)
        response_id = head[0].response.id
        assert head[0].response.background is True
        rest = list(
            client.responses.retrieve(response_id, stream=True, starting_after=head[-1].sequence_number)
        )
        whole = list(client.responses.retrieve(response_id, stream=True))
    assert [event.sequence_number for event in head + rest] == list(range(len(whole)))
    assert dumps(head + rest) == dumps(whole) and whole[-1].type == "response.completed"
    assert len(whole[-1].response.output_text) > 100
    # On the wire: the events after sequence number N are the stream's events after id N + 1.
    raw = httpx.get(f"{stored_url}/v1/responses/{response_id}?stream=true", timeout=10).content
    after_3 = httpx.get(f"{stored_url}/v1/responses/{response_id}?stream=true&starting_after=3", timeout=10)
    assert after_3.content.startswith(b"id: 5\n") and raw.endswith(after_3.content)
    stream_id = after_3.headers["x-stream-id"]
    assert stream_id == "strm_" + response_id.removeprefix("resp_")
    assert httpx.get(f"{stored_url}/v1/streams/{stream_id}", timeout=10).content == raw


class GatedEngine(ReplayAdapter):
    """Writes its reasoning and the start of its answer, then waits until ``gate`` opens: the
    tests see a response in progress for as long as they need, on any machine."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    async def generate(self, prompt: str, **options: Any) -> AsyncIterator[GenerationChunk]:  # type: ignore[override]
        for token in ("<think>", "Parsers", " again.", "</think>", "Yes", ","):
            yield GenerationChunk(token)
        while not self.gate.is_set():
            await asyncio.sleep(0.01)
        for token in (" write", " it", " in", " Rust."):
            yield GenerationChunk(token)


@pytest.fixture(scope="module")
def gated() -> Iterator[tuple[str, GatedEngine]]:
    engine = GatedEngine()
    app = create_app(engine, reasoning="think", model="m", resumable=True, detach_timeout=0.3)
    with running_server(app) as url:
        yield url, engine


def test_a_background_request_answers_queued_and_runs_to_its_end_with_no_reader(
    gated: tuple[str, GatedEngine],
) -> None:
    """No reader is ever attached: the generation outlives the detach timeout (0.3 s) and
    ``retrieve`` shows it in progress, with the output items finished so far, then completed."""
    url, engine = gated
    engine.gate.clear()
    with sdk(url) as client:
        queued = client.responses.create(model="m", input=PROMPT, background=True)
        assert queued.status == "queued" and queued.background is True and queued.id.startswith("resp_")
        deadline = time.monotonic() + 10
        current = client.responses.retrieve(queued.id)
        while [item.type for item in current.output] != ["reasoning"]:
            assert time.monotonic() < deadline, current
            time.sleep(0.05)
            current = client.responses.retrieve(queued.id)
        assert current.status == "in_progress" and current.output[0].content[0].text == "Parsers again."
        time.sleep(0.6)  # twice the detach timeout, with no reader
        engine.gate.set()
        streamed = list(client.responses.retrieve(queued.id, stream=True))
        final = client.responses.retrieve(queued.id)
    assert final.status == "completed" and final.output_text == "Yes, write it in Rust."
    assert final.model_dump() == streamed[-1].response.model_dump()


def test_cancel_stops_a_background_response(stored_url: str) -> None:
    with sdk(stored_url) as client:
        queued = client.responses.create(model="m", input=PROMPT, background=True, max_output_tokens=4000)
        cancelled = client.responses.cancel(queued.id)
        retrieved = client.responses.retrieve(queued.id)
        events = list(client.responses.retrieve(queued.id, stream=True))
    assert cancelled.status == "cancelled" and retrieved.status == "cancelled" and retrieved.error is None
    assert events[-1].type == "response.failed" and events[-1].response.error.code == "stream_cancelled"
    assert events[-1].sequence_number == len(events) - 1 and events[-1].response.id == queued.id


def test_unknown_responses_and_bad_sequence_numbers_are_refused(stored_url: str) -> None:
    with sdk(stored_url) as client:
        with pytest.raises(openai.NotFoundError, match="resp_0000"):
            client.responses.retrieve("resp_0000")
        with pytest.raises(openai.NotFoundError):
            client.responses.cancel("not-a-response-id")
        queued = client.responses.create(model="m", input=PROMPT, background=True, max_output_tokens=20)
        with pytest.raises(openai.BadRequestError, match="starting_after"):
            client.responses.retrieve(queued.id, stream=True, extra_query={"starting_after": "x"})
    refused = httpx.delete(f"{stored_url}/v1/responses/{queued.id}", timeout=10)
    assert refused.status_code == 405


def test_background_needs_a_stream_store(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="--resumable") as caught:
        oai.responses.create(model="m", input=PROMPT, background=True)
    assert caught.value.body["param"] == "background"  # type: ignore[index]


def replica(redis_server: RedisServer, rate: int) -> Any:
    return fastsse_serve("--store", redis_server.url, "--rate", str(rate), "--stream-lease", "2")


def test_a_client_dropped_on_one_replica_resumes_on_the_other_by_sequence_number(
    redis_server: RedisServer,
) -> None:
    with replica(redis_server, 300) as (first_url, _), replica(redis_server, 300) as (second_url, _):
        with sdk(first_url) as first, sdk(second_url) as second:
            stream = first.responses.create(model="m", input=PROMPT, background=True, stream=True)
            head = first_events(stream, 9)
            response_id = head[0].response.id
            rest = list(
                second.responses.retrieve(response_id, stream=True, starting_after=head[-1].sequence_number)
            )
            whole = list(first.responses.retrieve(response_id, stream=True))
            state = second.responses.retrieve(response_id)
    assert dumps(head + rest) == dumps(whole) and whole[-1].type == "response.completed"
    assert state.model_dump() == whole[-1].response.model_dump() and len(state.output_text) > 100


def test_a_response_generated_on_one_replica_is_cancelled_from_the_other(redis_server: RedisServer) -> None:
    with replica(redis_server, 40) as (first_url, _), replica(redis_server, 40) as (second_url, _):
        with sdk(first_url) as first, sdk(second_url) as second:
            queued = first.responses.create(model="m", input=PROMPT, background=True)
            asked = time.monotonic()
            cancelled = second.responses.cancel(queued.id)
            took = time.monotonic() - asked
            events = list(first.responses.retrieve(queued.id, stream=True))
    # The producer learns it at its next renewal (every third of the 2 s lease).
    assert cancelled.status == "cancelled" and took < 2.0 + 1.0
    assert events[-1].response.error.code == "stream_cancelled"
