"""`provider="bedrock"`: every ConverseStream capture (AWS eventstream frames) fed whole, byte
by byte and at random cuts through `fastsse.iter_chunks`, and compared with what botocore's
own eventstream parser and the event JSON add up to."""

from __future__ import annotations

import json
from typing import Any

import fastsse
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_fixtures import DATA, decode, fed_every_way, outcome
from support import eventstream
from support.splits import at_points

CAPTURES = sorted(p.name for p in (DATA / "bedrock").glob("converse-stream-*.bin"))
STOP = {"end_turn": "stop", "tool_use": "tool_calls"}


def read(name: str) -> bytes:
    return (DATA / "bedrock" / name).read_bytes()


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    return eventstream.frame(eventstream.string_headers(headers.items()), payload)


def event(kind: str, body: dict[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps(body).encode())


def botocore_reference(data: bytes) -> dict[str, Any]:
    """The stream as botocore parses its frames, reduced by hand."""
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(data)
    text: list[str] = []
    reasoning: list[str] = []
    tools: dict[int, list[str]] = {}
    result: dict[str, Any] = {}
    for message in buffer:
        kind, body = message.headers[":event-type"], json.loads(message.payload)
        if kind == "contentBlockStart" and "toolUse" in body["start"]:
            tool = body["start"]["toolUse"]
            if tool.get("type") != "server_tool_use":
                tools[body["contentBlockIndex"]] = [tool["toolUseId"], tool["name"], ""]
        elif kind == "contentBlockDelta":
            delta = body["delta"]
            text.append(delta.get("text", ""))
            reasoning.append(delta.get("reasoningContent", {}).get("text", ""))
            if "toolUse" in delta and body["contentBlockIndex"] in tools:
                tools[body["contentBlockIndex"]][2] += delta["toolUse"]["input"]
        elif kind == "messageStop":
            result["finish"] = STOP[body["stopReason"]]
        elif kind == "metadata":
            result["usage"] = (body["usage"]["inputTokens"], body["usage"]["outputTokens"])
    result.update(text="".join(text), reasoning="".join(reasoning), tools=[tuple(t) for t in tools.values()])
    return result


@pytest.mark.parametrize("name", CAPTURES)
def test_every_way_of_feeding_gives_the_same_chunks(name: str) -> None:
    data = read(name)
    whole = fed_every_way("bedrock", data)
    assert whole[1] is None
    declared = outcome("bedrock", [data], content_type="application/vnd.amazon.eventstream")
    assert declared == whole


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(CAPTURES), cuts=st.lists(st.integers(min_value=0), max_size=30))
def test_random_cuts_give_the_same_chunks(name: str, cuts: list[int]) -> None:
    data = read(name)
    assert outcome("bedrock", at_points(data, cuts)) == outcome("bedrock", [data])


@pytest.mark.parametrize("name", CAPTURES)
def test_collect_matches_botocore(name: str) -> None:
    pytest.importorskip("botocore")
    data = read(name)
    want = botocore_reference(data)
    result = fastsse.collect(fastsse.iter_chunks([data], "bedrock"))
    assert (result.text, result.reasoning) == (want["text"], want["reasoning"])
    assert [(t.id, t.name, t.arguments) for t in result.tool_calls] == want["tools"]
    assert result.finish_reason == want["finish"]
    assert (result.prompt_tokens, result.completion_tokens) == want["usage"]


def test_server_tool_blocks_keep_their_raw_events() -> None:
    chunks, _ = decode("bedrock", [read("converse-stream-server-tool.bin")])
    assert [
        c.tool_call_delta.function_name
        for c in chunks
        if c.tool_call_delta and c.tool_call_delta.function_name
    ] == ["final_result"]
    raw_only = [c.raw_json() for c in chunks if not c.done and not c.tool_call_delta and not c.text_delta]
    assert raw_only[0]["start"]["toolUse"]["name"] == "nova_code_interpreter"
    assert raw_only[-1]["delta"]["toolResult"][0]["json"]["stdOut"] == "7006652"


def test_exception_frame_keeps_what_arrived() -> None:
    data = event("messageStart", {"role": "assistant"})
    data += event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}})
    data += frame(
        {
            ":exception-type": "throttlingException",
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        b'{"message":"Too many tokens, please wait before trying again."}',
    )
    with pytest.raises(fastsse.ProviderError) as info:
        fastsse.collect(fastsse.iter_chunks([data], "bedrock"))
    assert info.value.code == "throttlingException"
    assert info.value.provider_message.startswith("Too many tokens")
    assert info.value.partial.text == "Hel"


def test_corrupt_frame_is_a_checksum_error() -> None:
    data = bytearray(read("converse-stream-text.bin"))
    data[200] ^= 0x01
    chunks, error = decode("bedrock", [bytes(data)])
    assert isinstance(error, fastsse.ChecksumError)
    assert error.expected != error.actual
    assert chunks == []  # the first frame is the corrupt one: nothing before it


def test_cut_frame_is_a_protocol_error() -> None:
    data = read("converse-stream-text.bin")
    chunks, error = decode("bedrock", [data[:-5]])
    assert isinstance(error, fastsse.ProtocolError)
    assert "inside an eventstream message" in str(error)
    assert "".join(c.text_delta for c in chunks)


def test_converse_json_body() -> None:
    body = json.dumps(
        {
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [
                        {"text": "Checking."},
                        {
                            "toolUse": {
                                "toolUseId": "tooluse_1",
                                "name": "get_weather",
                                "input": {"city": "Oslo"},
                            }
                        },
                    ],
                }
            },
            "stopReason": "tool_use",
            "usage": {"inputTokens": 30, "outputTokens": 12, "totalTokens": 42},
        }
    ).encode()
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "application/json"}, content=body)
    )
    with httpx.Client(transport=transport) as client, client.stream("POST", "http://t") as response:
        result = fastsse.collect(fastsse.iter_chunks(response, "bedrock"))
    assert result.text == "Checking."
    assert [(t.id, t.name, json.loads(t.arguments)) for t in result.tool_calls] == [
        ("tooluse_1", "get_weather", {"city": "Oslo"})
    ]
    assert (result.finish_reason, result.prompt_tokens, result.completion_tokens) == ("tool_calls", 30, 12)
    # Without a Content-Type the `{` gives the body away (no eventstream frame starts so).
    assert fastsse.collect(fastsse.iter_chunks([body], "bedrock")) == result


def test_provider_declares_eventstream_framing() -> None:
    capabilities = fastsse.provider_capabilities("bedrock")
    assert capabilities.framing == "eventstream"
    assert capabilities.tools and capabilities.reasoning and capabilities.usage
