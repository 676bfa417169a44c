"""`provider="gemini"`: every Gemini capture fed whole, byte by byte, in LF and CRLF (as sent)
and at random cuts through `fastsse.iter_chunks`, and compared with an independent reduction
of the same events (text, thought parts, function calls incl. streamed `partialArgs`, usage)."""

from __future__ import annotations

import json
import re
from typing import Any

import fastsse
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_fixtures import decode, fed_every_way, fixtures, outcome, wire_bytes
from support.splits import at_points

CAPTURES = fixtures("gemini")


def as_lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def as_crlf(data: bytes) -> bytes:
    return as_lf(data).replace(b"\n", b"\r\n")


def events(data: bytes) -> list[dict[str, Any]]:
    blocks = as_lf(data).decode().split("\n\n")
    return [json.loads(b.removeprefix("data: ")) for b in blocks if b.startswith("data: ")]


def set_path(root: dict[str, Any], path: str, value: Any) -> None:
    """Put `value` at a `$.a.b[0]` path (strings continue: they are appended)."""
    steps: list[str | int] = [
        int(index) if index else key for key, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path)
    ]
    node: Any = root
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        container: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            while len(node) <= step:
                node.append(None)
            if following is None:
                node[step] = node[step] + value if isinstance(node[step], str) else value
            elif node[step] is None:
                node[step] = container
        elif following is None:
            node[step] = node[step] + value if isinstance(node.get(step), str) else value
        else:
            node.setdefault(step, container)
        if following is not None:
            node = node[step]


def reference(data: bytes) -> dict[str, Any]:
    text: list[str] = []
    reasoning: list[str] = []
    calls: list[list[Any]] = []
    finish: str | None = None
    usage: dict[str, int] = {}
    for event in events(data):
        candidate = (event.get("candidates") or [{}])[0]
        for part in candidate.get("content", {}).get("parts", []):
            if "text" in part:
                (reasoning if part.get("thought") else text).append(part["text"])
            call = part.get("functionCall", {})
            if call.get("name"):
                calls.append([call["name"], call.get("args", {})])
            for piece in call.get("partialArgs", []):
                value = next(piece[k] for k in ("stringValue", "numberValue", "boolValue") if k in piece)
                set_path(calls[-1][1], piece["jsonPath"], value)
        finish = candidate.get("finishReason", finish)
        usage.update(event.get("usageMetadata", {}))
    return {
        "text": "".join(text),
        "reasoning": "".join(reasoning),
        "tools": [(name, args) for name, args in calls],
        "finish": "tool_calls" if calls and finish == "STOP" else {"STOP": "stop"}[str(finish)],
        "prompt_tokens": usage["promptTokenCount"] + usage.get("toolUsePromptTokenCount", 0),
        "completion_tokens": usage.get("candidatesTokenCount", 0) + usage.get("thoughtsTokenCount", 0),
    }


def test_all_gemini_captures_are_here() -> None:
    assert len(CAPTURES) == 11


@pytest.mark.parametrize("name", CAPTURES)
def test_every_way_of_feeding_gives_the_same_chunks(name: str) -> None:
    data = wire_bytes(name)
    assert fed_every_way("gemini", data, as_lf(data), as_crlf(data))[1] is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(CAPTURES), cuts=st.lists(st.integers(min_value=0), max_size=30), crlf=st.booleans()
)
def test_random_cuts_give_the_same_chunks(name: str, cuts: list[int], crlf: bool) -> None:
    data = as_crlf(wire_bytes(name)) if crlf else as_lf(wire_bytes(name))
    assert outcome("gemini", at_points(data, cuts)) == outcome("gemini", [data])


@pytest.mark.parametrize("name", CAPTURES)
def test_collect_matches_the_reference(name: str) -> None:
    data = wire_bytes(name)
    result = fastsse.collect(fastsse.iter_chunks([data], "gemini"))
    want = reference(data)
    assert result.text == want["text"]
    assert result.reasoning == want["reasoning"]
    assert [(t.name, json.loads(t.arguments)) for t in result.tool_calls] == want["tools"]
    assert result.finish_reason == want["finish"]
    assert (result.prompt_tokens, result.completion_tokens) == (
        want["prompt_tokens"],
        want["completion_tokens"],
    )


def test_streamed_partial_arguments_arrive_as_json_text_deltas() -> None:
    data = wire_bytes("gemini/vercel-vertex-function-call-nested-partial-args.jsonl")
    chunks, error = decode("gemini", [data])
    assert error is None
    deltas = [c.tool_call_delta for c in chunks if c.tool_call_delta]
    assert deltas[0].function_name == "cookRecipe" and deltas[0].arguments_delta == ""
    pieces = [d.arguments_delta for d in deltas[1:]]
    assert len(pieces) > 60
    assert pieces[0] == '{"recipe":{"ingredients":[{"amount":"16 oz'
    args = json.loads("".join(pieces))
    assert args["recipe"]["steps"][4] == "In a 9x13 baking dish, spread a thin layer of meat sauce."


def test_thought_parts_are_reasoning_and_raw_events_stay_reachable() -> None:
    chunks, _ = decode("gemini", [wire_bytes("gemini/thinking-thought-parts-text.sse")])
    assert chunks[0].is_first and chunks[0].reasoning_delta and not chunks[0].text_delta
    assert chunks[0].raw_json()["candidates"][0]["content"]["parts"][0]["thought"] is True
    terminal = chunks[-1]
    assert terminal.done and terminal.raw_json()["candidates"][0]["finishReason"] == "STOP"


def test_error_object_mid_stream_keeps_what_arrived() -> None:
    data = (
        b'data: {"candidates":[{"content":{"parts":[{"text":"Hel"}]}}]}\r\n\r\n'
        b'data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\r\n\r\n'
    )
    with pytest.raises(fastsse.ProviderError) as info:
        fastsse.collect(fastsse.iter_chunks([data], "gemini"))
    assert (info.value.code, info.value.provider_message) == ("UNAVAILABLE", "The model is overloaded.")
    assert info.value.partial.text == "Hel"


def test_json_body_yields_what_the_stream_yields() -> None:
    """generateContent answers with the same object; a JSON array is the non-SSE stream form."""
    data = wire_bytes("gemini/vercel-function-call-partial-args.jsonl")
    stream = fastsse.collect(fastsse.iter_chunks([data], "gemini"))
    array = json.dumps(events(data)).encode()
    declared = fastsse.collect(fastsse.iter_chunks([array], "gemini", content_type="application/json"))
    assert declared == stream
    body = json.dumps(events(wire_bytes("gemini/text.sse"))[-1]).encode()
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "application/json"}, content=body)
    )
    with httpx.Client(transport=transport) as client, client.stream("POST", "http://t") as response:
        result = fastsse.collect(fastsse.iter_chunks(response, "gemini"))
    assert (result.text, result.finish_reason) == (" is Paris.\n", "stop")
