"""`provider="openai"`: every Chat Completions capture (OpenAI, Azure, OpenRouter, DeepSeek,
Groq, Mistral) fed whole, byte by byte, in CRLF and at random cuts, and compared with what
openai-python accumulates from the same bytes."""

from __future__ import annotations

import json
from dataclasses import replace

import fastsse
import httpx
import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_fixtures import (
    assert_same,
    decode,
    fed_every_way,
    fixtures,
    openai_chat_final_body,
    openai_chat_sdk,
    outcome,
    to_crlf,
    view_of,
    wire_bytes,
)
from support.splits import at_points

CAPTURES = [
    *fixtures("openai-chat"),
    *fixtures("deepseek", prefix="reasoner"),
    *fixtures("deepseek", prefix="vercel"),
    *fixtures("groq"),
    *fixtures("mistral"),
]
# Where openai-python's snapshot has no usage but the stream does carry it:
SDK_LOSES_USAGE = {
    # a chunk after the usage chunk says `"usage": null`, which the snapshot takes as "none"
    "openai-chat/chat-gpt5-moderation-obfuscation.sse": (13, 11),
    # Groq sends usage only inside its `x_groq` object
    "groq/compound-web-search-executed-tools.sse": (5003, 359),
}
MISTRAL_PARTS = {"mistral/magistral-thinking-content-parts.sse", "mistral/vercel-reasoning.jsonl"}
# Captures openai-python's accumulator cannot read (checked by test_sdk_fails_where_expected);
# their own tests below use an oracle written with `json`.
SDK_FAILS = {
    "mistral/vercel-reasoning.jsonl": "list-valued content (test_mistral_content_parts)",
    "mistral/vercel-tool-call.jsonl": "a tool call without `index` (test_mistral_index_less_tool_call)",
}
ERRORS = {"openai-chat/openrouter-comments-mid-stream-error.sse", "groq/mid-stream-error-event.sse"}


def test_all_openai_compatible_captures_are_here() -> None:
    assert len(CAPTURES) == 28


@pytest.mark.parametrize("name", CAPTURES)
def test_every_way_of_feeding_gives_the_same_chunks(name: str) -> None:
    data = wire_bytes(name)
    whole = fed_every_way("openai", data, to_crlf(data))
    assert (whole[1] is not None) == (name in ERRORS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(CAPTURES),
    cuts=st.lists(st.integers(min_value=0), max_size=30),
    crlf=st.booleans(),
)
def test_random_cuts_give_the_same_chunks(name: str, cuts: list[int], crlf: bool) -> None:
    data = wire_bytes(name)
    if crlf:
        data = to_crlf(data)
    assert outcome("openai", at_points(data, cuts)) == outcome("openai", [data])


@pytest.mark.parametrize("name", [n for n in CAPTURES if n not in SDK_FAILS])
def test_collect_matches_the_openai_sdk(name: str) -> None:
    data = wire_bytes(name)
    sdk_views, sdk_error = openai_chat_sdk(data)
    try:
        result = fastsse.collect(fastsse.iter_chunks([data], "openai"))
        error = None
    except fastsse.ProviderError as exc:
        result, error = exc.partial, exc
    assert (error is None) == (sdk_error is None), name
    if error is not None:
        assert sdk_error is not None
        assert error.provider_message == sdk_error.message
    ours = [view_of(choice) for choice in result.choices]
    if error is not None:
        # A failed stream has no terminal chunk, so the partial result has no finish reason
        # (the SDK's snapshot keeps a `finish_reason` that arrived before the error).
        assert all(view.finish is None for view in ours)
        sdk_views = [replace(v, finish=None) for v in sdk_views]
    if name in MISTRAL_PARTS:
        # The SDK keeps the plain-string content and drops the `thinking` parts.
        sdk_views = [replace(v, reasoning=None) for v in sdk_views]
    if name in SDK_LOSES_USAGE:
        # A chunk after the usage chunk says `"usage": null`; the SDK's snapshot takes that
        # as "no usage", fastsse keeps the counts the stream did send.
        assert (ours[0].prompt_tokens, ours[0].completion_tokens) == SDK_LOSES_USAGE[name]
        sdk_views = [
            replace(v, prompt_tokens=ours[0].prompt_tokens, completion_tokens=ours[0].completion_tokens)
            for v in sdk_views
        ]
    assert len(ours) == len(sdk_views)
    for view, sdk_view in zip(ours, sdk_views, strict=True):
        assert_same(view, sdk_view, name)


@pytest.mark.parametrize("name", sorted(SDK_FAILS))
def test_sdk_fails_where_expected(name: str) -> None:
    with pytest.raises((RuntimeError, TypeError)):
        openai_chat_sdk(wire_bytes(name))


def test_mistral_index_less_tool_call() -> None:
    result = fastsse.collect(fastsse.iter_chunks([wire_bytes("mistral/vercel-tool-call.jsonl")], "openai"))
    assert result.tool_calls == [
        fastsse.ToolCall(id="gSIMJiOkT", name="weather", arguments='{"location": "San Francisco"}', index=0)
    ]
    assert (result.finish_reason, result.prompt_tokens, result.completion_tokens) == ("tool_calls", 124, 22)


@pytest.mark.parametrize("name", sorted(MISTRAL_PARTS))
def test_mistral_content_parts(name: str) -> None:
    """Magistral's `content` is a string or a list of `text` / `thinking` parts; the SDK's
    accumulator fails on the lists, so the oracle here reads the events with `json`."""
    text, reasoning = [], []
    for line in wire_bytes(name).decode().splitlines():
        if not line.startswith("data: {"):
            continue
        content = json.loads(line[6:])["choices"][0]["delta"].get("content")
        if isinstance(content, str):
            text.append(content)
        for part in content if isinstance(content, list) else []:
            if part["type"] == "text":
                text.append(part["text"])
            elif part["type"] == "thinking":
                reasoning.extend(inner["text"] for inner in part["thinking"])
    result = fastsse.collect(fastsse.iter_chunks([wire_bytes(name)], "openai"))
    assert (result.text, result.reasoning) == ("".join(text), "".join(reasoning))
    assert result.reasoning and result.text and result.finish_reason == "stop"


def test_mid_stream_error_keeps_what_arrived() -> None:
    data = wire_bytes("openai-chat/openrouter-comments-mid-stream-error.sse")
    with pytest.raises(fastsse.ProviderError) as info:
        fastsse.collect(fastsse.iter_chunks([data], "openai"))
    error = info.value
    assert error.code == "400"
    assert error.provider_message == "Token limit reached"
    assert json.loads(error.raw)["error"]["code"] == 400
    assert error.partial.reasoning == "We need to respond to a greeting. The user"


def test_chunks_keep_their_raw_event_and_first_content_flag() -> None:
    chunks, _ = decode("openai", [wire_bytes("openai-chat/chat-text.sse")])
    assert chunks[0].is_first and not any(c.is_first for c in chunks[1:])
    assert chunks[0].raw_json()["choices"][0]["delta"]["content"] == chunks[0].text_delta
    terminal = chunks[-1]
    assert terminal.done and terminal.finish_reason == "stop"
    assert terminal.raw_json()["choices"][0]["finish_reason"] == "stop"


def test_logprobs_are_parsed_lazily_into_tuples() -> None:
    chunks, _ = decode("openai", [wire_bytes("openai-chat/chat-content-logprobs.sse")])
    first = next(c for c in chunks if c.text_delta)
    assert first.logprobs[0]["token"] == "Foo"
    assert isinstance(first.logprobs, tuple)


@pytest.mark.parametrize(
    "name",
    [n for n in CAPTURES if n not in {*ERRORS, *SDK_FAILS, *SDK_LOSES_USAGE, *MISTRAL_PARTS}],
)
def test_json_body_yields_what_the_stream_yields(name: str) -> None:
    """The SDK's own `chat.completion` built from the stream, sent back as a JSON body."""
    stream = fastsse.collect(fastsse.iter_chunks([wire_bytes(name)], "openai"))
    body = openai_chat_final_body(wire_bytes(name))
    declared = fastsse.collect(fastsse.iter_chunks([body], "openai", content_type="application/json"))
    sniffed = fastsse.collect(fastsse.iter_chunks([body[:3], body[3:]], "openai"))
    assert declared == sniffed
    assert [view_of(c) for c in declared.choices] == [view_of(c) for c in stream.choices]


def test_json_body_from_an_httpx_response_is_detected_by_content_type() -> None:
    body = openai_chat_final_body(wire_bytes("openai-chat/chat-tool-call.sse"))
    expected = fastsse.collect(fastsse.iter_chunks([body], "openai", content_type="application/json"))
    for module in (httpx, httpx2):
        transport = module.MockTransport(
            lambda request, m=module: m.Response(
                200, headers={"content-type": "application/json"}, content=body
            )
        )
        with module.Client(transport=transport) as client, client.stream("POST", "http://t/v1") as response:
            assert fastsse.collect(fastsse.iter_chunks(response, "openai")) == expected


def test_json_error_body_raises_provider_error() -> None:
    body = (
        b'{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}'
    )
    with pytest.raises(fastsse.ProviderError) as info:
        list(fastsse.iter_chunks([body], "openai", content_type="application/json"))
    assert info.value.code == "invalid_api_key"
    assert info.value.provider_message == "Incorrect API key"


@pytest.mark.anyio
async def test_aiter_chunks_over_an_async_httpx_response() -> None:
    data = wire_bytes("openai-chat/chat-parallel-tool-calls.sse")
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=data)
    )
    async with (
        httpx.AsyncClient(transport=transport) as client,
        client.stream("POST", "http://t") as response,
    ):
        result = await fastsse.acollect(fastsse.aiter_chunks(response, "openai"))
    assert [t.name for t in result.tool_calls] == ["GetWeatherArgs", "get_stock_price"]
    assert result.finish_reason == "tool_calls"
