"""`provider="ollama"`: the real langchaingo NDJSON captures and SYNTHETIC thinking/tool-call
streams fed whole, byte by byte, in CRLF and at random cuts through `fastsse.iter_chunks`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import fastsse
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_fixtures import DATA, fed_every_way, outcome
from support.splits import at_points

CAPTURES = sorted(f"ollama/{p.name}" for p in (DATA / "ollama").glob("*.ndjson"))
STREAMS = [n for n in CAPTURES if "error" not in n]


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in read(name).splitlines() if line.strip()]


def test_all_ollama_captures_are_here() -> None:
    assert len(CAPTURES) == 6
    assert {Path(n).name for n in CAPTURES} >= {
        "chat-stream.ndjson",
        "generate-stream.ndjson",
        "chat-done-reason-length.ndjson",
    }


@pytest.mark.parametrize("name", STREAMS)
def test_every_way_of_feeding_gives_the_same_chunks(name: str) -> None:
    data = read(name)
    no_final_newline = data.rstrip(b"\n")
    assert fed_every_way("ollama", data, data.replace(b"\n", b"\r\n"), no_final_newline)[1] is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(STREAMS), cuts=st.lists(st.integers(min_value=0), max_size=30))
def test_random_cuts_give_the_same_chunks(name: str, cuts: list[int]) -> None:
    data = read(name)
    assert outcome("ollama", at_points(data, cuts)) == outcome("ollama", [data])


@pytest.mark.parametrize("name", STREAMS)
def test_collect_matches_the_lines(name: str) -> None:
    rows = lines(name)
    result = fastsse.collect(fastsse.iter_chunks([read(name)], "ollama"))
    text = "".join(str(r.get("response") or (r.get("message") or {}).get("content") or "") for r in rows)
    last = rows[-1]
    assert result.text == text
    assert result.prompt_tokens == last["prompt_eval_count"]
    assert result.completion_tokens == last["eval_count"]
    expected = {"length": "length"}.get(
        str(last["done_reason"]), "tool_calls" if result.tool_calls else "stop"
    )
    assert result.finish_reason == expected


def test_thinking_and_whole_tool_calls() -> None:
    result = fastsse.collect(
        fastsse.iter_chunks([read("ollama/synthetic-chat-thinking-tool-calls.ndjson")], "ollama")
    )
    assert result.reasoning == "The user wants the weather in Paris and Tōkyō."
    assert [(t.id, t.name, json.loads(t.arguments)) for t in result.tool_calls] == [
        ("call_k3j2", "get_weather", {"city": "Paris", "unit": "celsius"}),
        (None, "get_weather", {"city": "Tōkyō", "days": [1, 2], "detail": {"hourly": True}}),
    ]
    assert result.finish_reason == "tool_calls"


def test_error_line_keeps_what_arrived() -> None:
    with pytest.raises(fastsse.ProviderError) as info:
        fastsse.collect(
            fastsse.iter_chunks([read("ollama/synthetic-chat-error-mid-stream.ndjson")], "ollama")
        )
    assert info.value.code is None
    assert "unexpected EOF" in info.value.provider_message
    assert info.value.partial.text == "Once"


def test_non_streaming_body_through_httpx() -> None:
    body = json.dumps(
        {
            "model": "llama3.2",
            "message": {"role": "assistant", "content": "Paris.", "thinking": "Easy."},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 12,
            "eval_count": 3,
        }
    ).encode()
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "application/json"}, content=body)
    )
    with httpx.Client(transport=transport) as client, client.stream("POST", "http://t/api/chat") as response:
        result = fastsse.collect(fastsse.iter_chunks(response, "ollama"))
    assert (result.text, result.reasoning, result.finish_reason) == ("Paris.", "Easy.", "stop")
    assert (result.prompt_tokens, result.completion_tokens) == (12, 3)
    # The same object as an NDJSON stream line gives the same result.
    assert fastsse.collect(fastsse.iter_chunks([body], "ollama")) == result


@pytest.mark.anyio
async def test_aiter_chunks_over_an_async_source() -> None:
    data = read("ollama/chat-done-reason-length.ndjson")

    async def source() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 100):
            yield data[i : i + 100]

    async with fastsse.aiter_chunks(source(), "ollama") as chunks:
        result = await fastsse.acollect(chunks)
    assert result.finish_reason == "length"
    assert result.completion_tokens == 50
