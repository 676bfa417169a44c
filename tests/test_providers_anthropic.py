"""`provider="anthropic"`: every Messages capture fed whole, byte by byte, in CRLF and at
random cuts, and compared with what anthropic-sdk-python's `MessageStream` accumulates."""

from __future__ import annotations

import json
import warnings

import fastsse
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_fixtures import (
    anthropic_sdk,
    decode,
    error_key,
    fed_every_way,
    fixtures,
    outcome,
    to_crlf,
    view_of,
    wire_bytes,
)
from support.splits import at_points

CAPTURES = fixtures("anthropic")


def test_all_anthropic_captures_are_here() -> None:
    assert len(CAPTURES) == 24


@pytest.mark.parametrize("name", CAPTURES)
def test_every_way_of_feeding_gives_the_same_chunks(name: str) -> None:
    data = wire_bytes(name)
    assert fed_every_way("anthropic", data, to_crlf(data))[1] is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(CAPTURES), cuts=st.lists(st.integers(min_value=0), max_size=30), crlf=st.booleans()
)
def test_random_cuts_give_the_same_chunks(name: str, cuts: list[int], crlf: bool) -> None:
    data = wire_bytes(name)
    if crlf:
        data = to_crlf(data)
    assert outcome("anthropic", at_points(data, cuts)) == outcome("anthropic", [data])


@pytest.mark.parametrize("name", CAPTURES)
def test_collect_matches_the_anthropic_sdk(name: str) -> None:
    data = wire_bytes(name)
    sdk_view, sdk_error, _ = anthropic_sdk(data)
    assert sdk_error is None
    result = fastsse.collect(fastsse.iter_chunks([data], "anthropic"))
    assert view_of(result) == sdk_view, name
    assert len(result.choices) == 1


def test_server_tools_stay_out_of_tool_calls_but_keep_their_raw_events() -> None:
    data = wire_bytes("anthropic/thinking-web-search-citations.sse")
    chunks, _ = decode("anthropic", [data])
    assert not any(c.tool_call_delta for c in chunks)
    _, _, message = anthropic_sdk(data)
    queries = [b.input["query"] for b in message.content if b.type == "server_tool_use"]
    # The server tool's input is streamed as input_json_delta events: each is a raw-only chunk.
    partial_json = "".join(
        event["delta"]["partial_json"]
        for c in chunks
        if c.raw
        and (event := c.raw_json())["type"] == "content_block_delta"
        and event["delta"]["type"] == "input_json_delta"
    )
    assert all(query in partial_json for query in queries)
    signature = [c for c in chunks if c.raw and '"signature_delta"' in c.raw]
    assert len(signature) == 1 and not signature[0].text_delta
    assert signature[0].reasoning_signature == signature[0].raw_json()["delta"]["signature"]
    thinking = next(b for b in message.content if b.type == "thinking")
    assert fastsse.collect(chunks).reasoning_signature == thinking.signature


def test_stop_sequence_reaches_the_result() -> None:
    result = fastsse.collect(fastsse.iter_chunks([wire_bytes("anthropic/stop-sequence.sse")], "anthropic"))
    assert (result.finish_reason, result.stop_sequence) == ("stop", "```")


def test_error_event_raises_and_keeps_what_arrived() -> None:
    text = wire_bytes("anthropic/thinking-text.sse").decode()
    cut = text.index("event: content_block_stop")
    error_event = (
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    data = (text[:cut] + error_event).encode()
    with pytest.raises(fastsse.ProviderError) as info:
        fastsse.collect(fastsse.iter_chunks([data], "anthropic"))
    error = info.value
    assert (error.code, error.provider_message) == ("overloaded_error", "Overloaded")
    assert json.loads(error.raw)["error"]["type"] == "overloaded_error"
    assert len(error.partial.reasoning) == 218
    assert error.partial.finish_reason is None
    # The SDK raises on the same bytes too.
    _, sdk_error, _ = anthropic_sdk(data)
    assert sdk_error is not None


@pytest.mark.parametrize("name", CAPTURES)
def test_json_body_yields_what_the_stream_yields(name: str) -> None:
    """The SDK's final `Message`, serialized, is what a non-streaming request returns."""
    data = wire_bytes(name)
    _, _, message = anthropic_sdk(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic: blocks newer than the SDK's union
        body = message.model_dump_json().encode()
    streamed = fastsse.collect(fastsse.iter_chunks([data], "anthropic"))
    declared = fastsse.collect(fastsse.iter_chunks([body], "anthropic", content_type="application/json"))
    sniffed = fastsse.collect(fastsse.iter_chunks([b" \n", body], "anthropic"))
    assert declared == sniffed
    ours, expected = view_of(declared), view_of(streamed)
    assert ours == expected, name


def test_json_body_from_an_httpx_response_and_errors() -> None:
    body = b'{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}'
    transport = httpx.MockTransport(
        lambda request: httpx.Response(401, headers={"content-type": "application/json"}, content=body)
    )
    with (
        httpx.Client(transport=transport) as client,
        client.stream("POST", "http://t/v1/messages") as response,
    ):
        with pytest.raises(fastsse.ProviderError) as info:
            list(fastsse.iter_chunks(response, "anthropic"))
    assert info.value.code == "authentication_error"


def test_cut_stream_ends_with_an_error_terminal() -> None:
    text = wire_bytes("anthropic/sdk-text-tool-use.sse")
    result = fastsse.collect(fastsse.iter_chunks([text[: len(text) // 2]], "anthropic"))
    assert result.finish_reason == "error"
    assert result.error_code == "incomplete_stream"


def test_different_partitions_give_one_raw_per_event() -> None:
    chunks, _ = decode("anthropic", [wire_bytes("anthropic/sdk-text-tool-use.sse")])
    assert error_key(None) is None
    announcement = next(c for c in chunks if c.tool_call_delta)
    call = announcement.tool_call_delta
    assert (call.id, call.function_name, call.arguments_delta) == (
        "toolu_01NRLabsLyVHZPKxbKvkfSMn",
        "get_weather",
        "",
    )
    assert announcement.raw_json()["type"] == "content_block_start"
