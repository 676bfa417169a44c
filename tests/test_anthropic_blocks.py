"""Anthropic's redacted thinking and citations reach Python: on the chunk (`redacted_thinking`,
`citations`) and in the collected result, which a multi-turn caller sends back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastsse
from fastsse import GenerationChunk, GenerationResult

ANTHROPIC = Path(__file__).parent / "data" / "anthropic"


def _events(name: str) -> list[Any]:
    lines = (ANTHROPIC / name).read_text().splitlines()
    return [json.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]


def _pieces(name: str) -> list[bytes]:
    data = (ANTHROPIC / name).read_bytes()
    return [data[i : i + 61] for i in range(0, len(data), 61)]


def test_redacted_thinking_reaches_chunks_and_the_result() -> None:
    name = "redacted-thinking-text.sse"
    want = tuple(
        e["content_block"]["data"]
        for e in _events(name)
        if e.get("content_block", {}).get("type") == "redacted_thinking"
    )
    assert len(want) == 2
    chunks = list(fastsse.iter_chunks(_pieces(name), "anthropic"))
    assert tuple(c.redacted_thinking for c in chunks if c.redacted_thinking) == want
    result = fastsse.collect(chunks)
    assert result.redacted_thinking == want
    assert result.text.startswith("I notice that you've sent")


def test_citations_reach_chunks_the_result_and_snapshots() -> None:
    name = "web-search-citations.sse"
    want = tuple(
        e["delta"]["citation"] for e in _events(name) if e.get("delta", {}).get("type") == "citations_delta"
    )
    assert want
    stream = fastsse.iter_chunks(_pieces(name), "anthropic")
    seen: list[GenerationChunk] = []
    for chunk in stream:
        seen.append(chunk)
        if chunk.citations is not None:
            assert isinstance(chunk.citations, tuple) and len(chunk.citations) == 1
            assert stream.snapshot().citations[-1] == chunk.citations[0]
    assert stream.snapshot().citations == want == fastsse.collect(seen).citations


def test_result_fields_construct_replace_and_compare() -> None:
    result = GenerationResult(text="a", redacted_thinking=["x", "y"], citations=[{"url": "u"}])
    assert result.redacted_thinking == ("x", "y") and result.citations == ({"url": "u"},)
    assert result.replace(text="b").redacted_thinking == ("x", "y")
    assert result != GenerationResult(text="a")
    assert "redacted_thinking=('x', 'y')" in repr(result)
    assert "citations" not in repr(GenerationResult(text="a"))
    assert GenerationResult().redacted_thinking == () == GenerationResult().citations
