"""`provider="tgi"`: SYNTHETIC `/generate_stream` streams (TGI's documented `StreamResponse`
shape; no public capture exists) fed whole, byte by byte, in CRLF and at random cuts."""

from __future__ import annotations

import json
from typing import Any

import fastsse
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_fixtures import DATA, fed_every_way, outcome, to_crlf
from support.splits import at_points

STREAMS = sorted(f"tgi/{p.name}" for p in (DATA / "tgi").glob("*.sse"))
OK_STREAMS = [n for n in STREAMS if "error" not in n]


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def events(name: str) -> list[dict[str, Any]]:
    blocks = read(name).decode().split("\n\n")
    return [json.loads(b.split(":", 1)[1]) for b in blocks if b.startswith("data:")]


@pytest.mark.parametrize("name", STREAMS)
def test_every_way_of_feeding_gives_the_same_chunks(name: str) -> None:
    data = read(name)
    fed_every_way("tgi", data, to_crlf(data))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(STREAMS), cuts=st.lists(st.integers(min_value=0), max_size=20))
def test_random_cuts_give_the_same_chunks(name: str, cuts: list[int]) -> None:
    data = read(name)
    assert outcome("tgi", at_points(data, cuts)) == outcome("tgi", [data])


@pytest.mark.parametrize("name", OK_STREAMS)
def test_text_is_the_non_special_tokens(name: str) -> None:
    rows = events(name)
    result = fastsse.collect(fastsse.iter_chunks([read(name)], "tgi"))
    tokens = [r["token"] for r in rows]
    assert result.text == "".join(t["text"] for t in tokens if not t["special"])
    details = rows[-1]["details"] or {}
    assert result.completion_tokens == details.get("generated_tokens")
    assert result.prompt_tokens == details.get("prompt_tokens")
    reason = details.get("finish_reason")
    assert result.finish_reason == ("length" if reason == "length" else "stop")


def test_error_event_keeps_what_arrived() -> None:
    with pytest.raises(fastsse.ProviderError) as info:
        fastsse.collect(fastsse.iter_chunks([read("tgi/generate-stream-error.sse")], "tgi"))
    assert info.value.code == "generation"
    assert "CUDA out of memory" in info.value.provider_message
    assert info.value.partial.text == " The answer"


def test_generate_json_body() -> None:
    body = (DATA / "tgi" / "generate.json").read_bytes()
    for data in (body, b"[" + body + b"]"):
        result = fastsse.collect(fastsse.iter_chunks([data], "tgi", content_type="application/json"))
        assert result.text == " Deep learning is a subset of machine learning."
        assert (result.finish_reason, result.completion_tokens) == ("stop", 10)
    assert fastsse.collect(fastsse.iter_chunks([body], "tgi")).text == result.text  # sniffed


def test_capabilities() -> None:
    capabilities = fastsse.provider_capabilities("tgi")
    assert (capabilities.framing, capabilities.tools, capabilities.reasoning) == ("sse", False, False)
