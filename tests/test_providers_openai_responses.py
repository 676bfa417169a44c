"""`provider="openai-responses"`: every Responses capture fed whole, byte by byte, in CRLF and at
random cuts, and compared with what openai-python's `ResponseStream` accumulates."""

from __future__ import annotations

import json

import fastsse
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_fixtures import (
    decode,
    fed_every_way,
    fixtures,
    openai_responses_sdk,
    outcome,
    to_crlf,
    view_of,
    wire_bytes,
)
from support.splits import at_points

CAPTURES = [*fixtures("openai-responses"), *fixtures("deepseek", prefix="responses")]
ERROR = "openai-responses/responses-error-insufficient-quota.jsonl"
MULTI = "openai-responses/responses-reasoning-encrypted-function-calls.jsonl"


def streams_of(name: str) -> list[bytes]:
    """One stream per response (the vercel capture holds four in a row)."""
    events = wire_bytes(name).split(b"\n\n")
    streams: list[bytes] = []
    for event in events:
        if not event.strip():
            continue
        created = b'"type":"response.created"'
        if not streams or (created in event and created in streams[-1]):
            streams.append(b"")
        streams[-1] += event + b"\n\n"
    return streams


SINGLE = [n for n in CAPTURES if n not in (ERROR, MULTI)]
STREAMS = [(n, i) for n in [*SINGLE, MULTI] for i in range(len(streams_of(n)))]


def test_all_responses_captures_are_here() -> None:
    assert len(CAPTURES) == 12
    assert len(streams_of(MULTI)) == 4


@pytest.mark.parametrize("name", CAPTURES)
def test_every_way_of_feeding_gives_the_same_chunks(name: str) -> None:
    data = wire_bytes(name)
    fed_every_way("openai-responses", data, to_crlf(data))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(CAPTURES), cuts=st.lists(st.integers(min_value=0), max_size=30), crlf=st.booleans()
)
def test_random_cuts_give_the_same_chunks(name: str, cuts: list[int], crlf: bool) -> None:
    data = to_crlf(wire_bytes(name)) if crlf else wire_bytes(name)
    assert outcome("openai-responses", at_points(data, cuts)) == outcome("openai-responses", [data])


@pytest.mark.parametrize(("name", "index"), STREAMS)
def test_collect_matches_the_openai_sdk(name: str, index: int) -> None:
    data = streams_of(name)[index]
    result = fastsse.collect(fastsse.iter_chunks([data], "openai-responses"))
    assert view_of(result) == openai_responses_sdk(data)


def test_error_event_raises_provider_error() -> None:
    with pytest.raises(fastsse.ProviderError) as info:
        fastsse.collect(fastsse.iter_chunks([wire_bytes(ERROR)], "openai-responses"))
    assert info.value.code == "insufficient_quota"
    assert info.value.provider_message.startswith("You exceeded your current quota")
    assert info.value.partial.text == ""


@pytest.mark.parametrize("name", SINGLE)
def test_completed_response_as_json_body_matches_the_stream(name: str) -> None:
    data = wire_bytes(name)
    completed = next(
        json.loads(line[6:])
        for line in data.decode().splitlines()
        if line.startswith("data: ") and '"type":"response.completed"' in line
    )
    body = json.dumps(completed["response"]).encode()
    from_body = fastsse.collect(
        fastsse.iter_chunks([body], "openai-responses", content_type="application/json")
    )
    from_stream = fastsse.collect(fastsse.iter_chunks([data], "openai-responses"))
    ours, expected = view_of(from_body), view_of(from_stream)
    if not ours.reasoning:  # the stored response may omit what the stream showed
        expected.reasoning = ""
    assert ours == expected


def test_server_tool_items_and_annotations_are_raw_only_chunks() -> None:
    chunks, _ = decode(
        "openai-responses", [wire_bytes("openai-responses/responses-web-search-annotation.sse")]
    )
    raw_types = [c.raw_json()["type"] for c in chunks if not c.done and not c.text_delta]
    assert raw_types == [
        "response.output_item.done",
        "response.output_item.done",
        "response.output_text.annotation.added",
    ]
    assert all(c.raw_json()["item"]["type"] == "web_search_call" for c in chunks[:2] if not c.text_delta)
