"""`ToolCall.parsed_arguments` (the core's incremental partial-JSON parser): after every chunk
of every capture it equals what the SDKs' own partial parser (jiter, `partial_mode`) makes of
the same text, with unfinished strings kept as far as they go; `completed_tool_calls` are
whole and never change afterwards."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import fastsse
import jiter
import pytest
from fastsse import GenerationChunk, ToolCallDelta
from provider_fixtures import capture_params

DATA = Path(__file__).parent / "data"
TOOL_MARKERS = (b"arguments", b"input_json_delta", b"functionCall", b"toolUse", b"tool_calls")
TOOL_CAPTURES = capture_params(markers=TOOL_MARKERS)
NUMBER_TAIL = "0123456789.eE+-"


def sdk_partial(text: str) -> Any:
    """What jiter (the openai and anthropic SDKs' parser) makes of a prefix, strings kept."""
    if not text.strip():
        return {}
    return jiter.from_json(text.encode(), partial_mode="trailing-strings")


def assert_like_sdk(parsed: Any, text: str) -> None:
    # jiter keeps a number that may still grow ("12" of "123"); fastsse leaves it out.
    candidates = [sdk_partial(text)]
    if text and text[-1] in NUMBER_TAIL:
        candidates.append(sdk_partial(text.rstrip(NUMBER_TAIL)))
    assert parsed in candidates, (text[-80:], parsed)


def tool_chunk(index: int, arguments: str, call_id: str | None = None) -> GenerationChunk:
    delta = ToolCallDelta(index, call_id, "function", "f" if call_id else None, arguments)
    return GenerationChunk(tool_call_delta=delta)


@pytest.mark.parametrize(("provider", "path"), TOOL_CAPTURES)
def test_parsed_arguments_match_the_sdk_parser_after_every_chunk(provider: str, path: Path) -> None:
    stream = fastsse.iter_chunks(path.read_bytes(), provider=provider)
    final: dict[int, str] = {}
    completed_seen: dict[int, Any] = {}
    calls_checked = 0
    try:
        for _ in stream:
            snapshot = stream.snapshot()
            for call in snapshot.tool_calls:
                assert_like_sdk(call.parsed_arguments, call.arguments)
                calls_checked += 1
            for call in snapshot.completed_tool_calls:
                completed_seen.setdefault(call.index, (call.arguments, call.parsed_arguments))
    except fastsse.ProviderError:
        pass
    result = stream.snapshot()
    for call in result.tool_calls:
        final[call.index] = call.arguments
        if call.arguments.strip() and call.complete:
            try:
                whole = json.loads(call.arguments)
            except ValueError:
                continue  # the capture cut the call off mid-JSON
            assert call.parsed_arguments == whole
    # A call reported complete never changed afterwards.
    for index, (arguments, _) in completed_seen.items():
        assert final[index] == arguments
    assert calls_checked or not result.tool_calls


VALUES = [
    {"path": 'a"b\\c\u00e9\U0001f600\n', "n": [1, -2.5e3, 0, 10**30, 1.5e300, True, False, None]},
    {"nested": {"deep": [[{"x": []}, {}], "s"]}, "empty": "", "dup": 1},
    [1, "two", {"three": 3.25}],
    "just a string",
]


@pytest.mark.parametrize("value", VALUES)
def test_every_split_gives_the_sdk_value_at_every_prefix(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value)
    text = text.replace('"dup": 1', '"dup": 0, "dup": 1')
    cuts = sorted(random.Random(7).sample(range(1, len(text)), len(text) // 5))
    for pieces in (
        [text],
        list(text),
        [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)],
    ):
        collector = fastsse.Collector()
        so_far = ""
        for piece in pieces:
            if not piece:
                continue
            collector.add(tool_chunk(0, piece, "c" if not so_far else None))
            so_far += piece
            call = collector.snapshot().tool_calls[0]
            assert call.arguments == so_far
            assert_like_sdk(call.parsed_arguments, so_far)
        assert collector.snapshot().tool_calls[0].parsed_arguments == json.loads(text)


def test_an_old_snapshot_keeps_its_own_prefix() -> None:
    collector = fastsse.Collector()
    collector.add(tool_chunk(0, '{"a": "x', "c"))
    old = collector.snapshot()
    collector.add(tool_chunk(0, 'yz", "b": [1'))
    new = collector.snapshot()
    assert new.tool_calls[0].parsed_arguments == {"a": "xyz", "b": []}
    assert old.tool_calls[0].parsed_arguments == {"a": "x"}
    assert not new.tool_calls[0].complete and new.completed_tool_calls == []
    collector.add(tool_chunk(0, "]}"))
    done = collector.snapshot().completed_tool_calls[0].parsed_arguments
    assert done == {"a": "xyz", "b": [1]}
    # A complete call is converted once: later snapshots share the value (read-only).
    assert collector.snapshot().tool_calls[0].parsed_arguments is done


def test_big_argument_read_after_every_delta_stays_correct() -> None:
    body = "".join(f"line {i}: " + "x" * (i % 50) + "\\n" for i in range(2000))
    text = json.dumps({"path": "f.txt", "items": list(range(300))})[:-1] + ', "content": "' + body + '"}'
    collector = fastsse.Collector()
    for at in range(0, len(text), 13):
        collector.add(tool_chunk(0, text[at : at + 13], "c" if at == 0 else None))
        parsed = collector.snapshot().tool_calls[0].parsed_arguments
        assert at < 13 or parsed["path"] == "f.txt"
    assert parsed == json.loads(text)


def test_an_unfinished_string_read_as_it_grows() -> None:
    """Each read reuses the last read's string as its prefix: ASCII, then not, then ASCII again."""
    pieces = ['{"a": [1], "s": "', "ab" * 40, "c", "\\u00e9", "d" * 30, "\\ud83d", "\\ude00", "x", '"}']
    collector = fastsse.Collector()
    so_far = ""
    reads = []
    for piece in pieces:
        collector.add(tool_chunk(0, piece, "c" if not so_far else None))
        so_far += piece
        first = collector.snapshot().tool_calls[0].parsed_arguments
        again = collector.snapshot().tool_calls[0].parsed_arguments
        assert first == again
        assert_like_sdk(first, so_far)
        reads.append(first)
    assert reads[-1] == {"a": [1], "s": "ab" * 40 + "cé" + "d" * 30 + "😀x"}
    assert reads[1]["s"] == "ab" * 40  # an old read keeps its value


def test_invalid_or_too_deep_arguments_raise_typed_errors() -> None:
    call = fastsse.ToolCall("c", "f", '{"a": tru3}')
    with pytest.raises(fastsse.ProtocolError, match="not valid JSON") as info:
        call.parsed_arguments  # noqa: B018
    assert info.value.offset == 9
    with pytest.raises(fastsse.LimitExceededError, match="deeper than 256 levels") as too_deep:
        fastsse.ToolCall("c", "f", "[" * 300).parsed_arguments  # noqa: B018
    assert (too_deep.value.limit_name, too_deep.value.limit) == ("max_arguments_depth", 256)
    assert fastsse.ToolCall("c", "f", "").parsed_arguments == {}
    assert fastsse.ToolCall("c", "f", "[" * 200).parsed_arguments == json.loads("[" * 200 + "]" * 200)
