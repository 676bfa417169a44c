"""Shared helpers for the text-parser tests: the corpus in tests/data/text, aggregation of a
chunk stream into what a client would assemble, and the stream-shape rules."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import fastsse

CORPUS_DIR = Path(__file__).parent / "data" / "text"

PARSER_OPTIONS = (
    "stop",
    "include_stop",
    "reasoning",
    "tools",
    "reasoning_start",
    "reasoning_end",
    "tool_schemas",
    "max_buffer_size",
)


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.json"))


def load_cases(path: Path) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(id, merged config, case) for every case of one corpus file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    cases = []
    for case in data["cases"]:
        config = {**data["config"], **case.get("config", {})}
        cases.append((f"{path.stem}: {case['name']}", config, case))
    return cases


def all_cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [c for path in corpus_files() for c in load_cases(path)]


def make_parser(config: dict[str, Any]) -> fastsse.TextParser:
    options = {k: v for k, v in config.items() if k in PARSER_OPTIONS}
    if "response_template" in config:
        # A Hugging Face response template (tests/data/response_templates) sets the formats.
        path = CORPUS_DIR.parent / config["response_template"]
        return fastsse.TextParser.from_response_template(path, prefix=config.get("prefix"), **options)
    return fastsse.TextParser(**options)


def run(config: dict[str, Any], pieces: Iterable[str]) -> list[fastsse.GenerationChunk]:
    parser = make_parser(config)
    chunks: list[fastsse.GenerationChunk] = []
    for piece in pieces:
        chunks.extend(parser.decode(piece))
    chunks.extend(parser.flush(config.get("flush", "stop")))
    return chunks


def aggregate(chunks: Sequence[fastsse.GenerationChunk]) -> dict[str, Any]:
    """What a client assembles from the stream."""
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        delta = chunk.tool_call_delta
        if delta is None:
            continue
        call = calls.setdefault(delta.index, {"name": None, "id": None, "arguments": ""})
        if delta.function_name is not None:
            call["name"] = delta.function_name
            call["id"] = delta.id
        call["arguments"] += delta.arguments_delta
    final = chunks[-1]
    return {
        "text": "".join(c.text_delta for c in chunks),
        "reasoning": "".join(c.reasoning_delta for c in chunks),
        "calls": [calls[i] for i in sorted(calls)],
        "errors": [c.error_code for c in chunks if c.error_code is not None],
        "finish_reason": final.finish_reason,
        "stop_sequence": final.stop_sequence,
    }


def check_shape(chunks: Sequence[fastsse.GenerationChunk]) -> None:
    """The rules of a well-formed stream (TOOL_FORMATS.md, 'A well-formed OpenAI tool-call stream')."""
    assert chunks, "flush() must return at least the final chunk"
    assert chunks[-1].done and chunks[-1].finish_reason is not None
    assert all(not c.done for c in chunks[:-1]), "done=True only on the last chunk"
    seen: dict[int, str] = {}
    first_content = [c for c in chunks if c.text_delta or c.reasoning_delta or c.tool_call_delta]
    assert [c for c in chunks if c.is_first] == first_content[:1]
    for chunk in chunks[:-1]:
        kinds = [
            bool(chunk.text_delta),
            bool(chunk.reasoning_delta),
            chunk.tool_call_delta is not None,
            chunk.error_code is not None,
        ]
        assert sum(kinds) == 1, f"one kind of content per chunk: {chunk!r}"
        delta = chunk.tool_call_delta
        if delta is None:
            continue
        if delta.index not in seen:
            assert delta.index == len(seen), "indices are dense and in order"
            assert delta.id and delta.function_name, "id and name on the first delta"
            assert delta.id not in seen.values(), "ids are unique"
            seen[delta.index] = delta.id
        else:
            assert delta.id is None and delta.function_name is None, "id/name only once"
            assert delta.arguments_delta, "no empty argument deltas"
    if chunks[-1].error_code is None:
        assert not chunks[-1].text_delta and chunks[-1].tool_call_delta is None


def without_ids(aggregate: dict[str, Any]) -> dict[str, Any]:
    """Generated ids are random: compare aggregates of separate runs without them."""
    return {**aggregate, "calls": [{**c, "id": None} for c in aggregate["calls"]]}


def check_expect(got: dict[str, Any], expect: dict[str, Any]) -> None:
    assert got["text"] == expect["text"]
    assert got["reasoning"] == expect["reasoning"]
    assert got["errors"] == expect["errors"]
    assert got["finish_reason"] == expect["finish_reason"]
    assert got["stop_sequence"] == expect["stop_sequence"]
    assert [c["name"] for c in got["calls"]] == [c["name"] for c in expect["calls"]]
    for mine, want in zip(got["calls"], expect["calls"], strict=True):
        if "arguments_raw" in want:
            assert mine["arguments"] == want["arguments_raw"]
        if "arguments" in want:
            assert json.loads(mine["arguments"]) == want["arguments"]
        if "id" in want:
            assert mine["id"] == want["id"]
