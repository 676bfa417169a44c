"""TextParser as an object: options, errors, properties, and what is held back."""

from __future__ import annotations

import fastsse
import pytest
from fastsse import GenerationChunk, TextParser


def texts(chunks: list[GenerationChunk]) -> str:
    return "".join(c.text_delta for c in chunks)


def test_lists_the_supported_names() -> None:
    assert "hermes" in TextParser.TOOL_FORMATS
    assert {"think", "deepseek-r1", "cot"} <= set(TextParser.REASONING_FORMATS)
    for name in TextParser.TOOL_FORMATS:
        TextParser(tools=name)
    for name in TextParser.REASONING_FORMATS:
        TextParser(reasoning=name)


def test_ordinary_text_leaves_in_the_same_call() -> None:
    parser = TextParser(stop=["</answer>"], reasoning="think", tools="hermes")
    assert texts(parser.decode("Hello")) == "Hello"
    assert texts(parser.decode(" wor")) == " wor"
    # Only the longest suffix that can still grow into a marker is held.
    assert texts(parser.decode("ld <")) == "ld "
    assert texts(parser.decode("b>")) == "<b>"
    assert texts(parser.decode("</ans")) == ""
    assert texts(parser.decode("wer")) == ""
    assert texts(parser.decode("s")) == "</answers"


def test_flush_releases_what_is_held_and_ends_with_one_done_chunk() -> None:
    parser = TextParser(stop=["STOP"])
    assert parser.decode("abc ST") == [GenerationChunk("abc ", is_first=True)]
    final = parser.flush("length")
    assert final == [GenerationChunk("ST"), GenerationChunk(done=True, finish_reason="length")]


def test_stop_ends_everything() -> None:
    parser = TextParser(stop=["\n\n"])
    assert not parser.stopped and parser.stop_sequence is None
    assert texts(parser.decode("one\n\ntwo")) == "one"
    assert parser.stopped and parser.stop_sequence == "\n\n"
    assert parser.decode("three") == []
    assert parser.flush("length") == [GenerationChunk(done=True, finish_reason="stop", stop_sequence="\n\n")]


def test_stop_accepts_a_single_string() -> None:
    parser = TextParser(stop="END", include_stop=True)
    assert texts(parser.decode("aENDb")) == "aEND"


def test_tool_calls_make_the_finish_reason_tool_calls() -> None:
    parser = TextParser(tools="hermes")
    chunks = parser.decode('<tool_call>{"name": "f", "arguments": {}}</tool_call>')
    assert parser.tool_call_count == 1
    delta = chunks[0].tool_call_delta
    assert delta is not None and delta.function_name == "f" and delta.arguments_delta == "{}"
    assert delta.id is not None and delta.id.startswith("call_") and len(delta.id) == 29
    assert parser.flush()[-1].finish_reason == "tool_calls"


def test_ids_are_fresh_per_call_and_per_parser() -> None:
    ids = set()
    for _ in range(3):
        parser = TextParser(tools="hermes")
        for chunk in parser.decode('<tool_call>{"name": "f"}</tool_call>' * 3):
            if chunk.tool_call_delta is not None:
                ids.add(chunk.tool_call_delta.id)
    assert len(ids) == 9


def test_errors_are_typed() -> None:
    with pytest.raises(ValueError, match="unknown tool-call format"):
        TextParser(tools="nope")
    with pytest.raises(ValueError, match="unknown reasoning format"):
        TextParser(reasoning="nope")
    with pytest.raises(ValueError, match="empty"):
        TextParser(stop=["ok", ""])
    with pytest.raises(TypeError):
        TextParser(stop=[1])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="not both"):
        TextParser(reasoning="think", reasoning_end="x")
    with pytest.raises(ValueError, match="reasoning_end"):
        TextParser(reasoning_start="<a>")
    with pytest.raises(ValueError, match="tool_schemas"):
        TextParser(tools="qwen3-coder", tool_schemas=[{"type": "function"}])
    with pytest.raises(ValueError, match="max_buffer_size"):
        TextParser(max_buffer_size=0)
    parser = TextParser()
    with pytest.raises(ValueError, match="finish_reason"):
        parser.flush("eos")  # type: ignore[arg-type]


def test_misuse_raises_usage_error() -> None:
    parser = TextParser()
    parser.flush()
    with pytest.raises(fastsse.UsageError, match="after flush"):
        parser.decode("x")
    with pytest.raises(fastsse.UsageError, match="twice"):
        parser.flush()


def test_custom_reasoning_markers() -> None:
    parser = TextParser(reasoning_end=["Answer:", "Therefore:"])
    chunks = parser.decode("6 times 7 is 42. Answer: 42") + parser.flush()
    assert "".join(c.reasoning_delta for c in chunks) == "6 times 7 is 42. "
    assert texts(chunks) == " 42"


def test_max_buffer_size_gives_a_nameless_call_back_as_text() -> None:
    parser = TextParser(tools="hermes", max_buffer_size=64)
    text = '<tool_call>{"arguments": {"data": "' + "x" * 200 + '"}, "name": "f"}</tool_call>'
    chunks = parser.decode(text) + parser.flush()
    assert texts(chunks) == text
    assert all(c.tool_call_delta is None for c in chunks)


def test_surrogate_free_unicode_round_trips() -> None:
    parser = TextParser(stop=["🙃"], reasoning="think")
    chunks = []
    for ch in "<think>日本</think>é🙂🙃x":
        chunks += parser.decode(ch)
    chunks += parser.flush()
    assert "".join(c.reasoning_delta for c in chunks) == "日本"
    assert texts(chunks) == "é🙂"


def test_call_ids_follow_the_format() -> None:
    parser = TextParser(tools="mistral")
    chunks = parser.decode('[TOOL_CALLS]f[ARGS]{"a": 1}') + parser.flush()
    delta = chunks[0].tool_call_delta
    assert delta is not None and delta.id is not None
    assert len(delta.id) == 9 and delta.id.isalnum()
    parser = TextParser(tools="kimi-k2")
    chunks = parser.decode(
        "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0"
        "<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>"
    )
    delta = chunks[0].tool_call_delta
    assert delta is not None and delta.id == "functions.f:0" and delta.function_name == "f"


def test_schema_types_xml_values() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "book",
                "parameters": {
                    "type": "object",
                    "properties": {"seats": {"type": "integer"}, "note": {"type": "string"}},
                },
            },
        }
    ]
    text = (
        "<tool_call>\n<function=book>\n<parameter=seats>\n2\n</parameter>\n"
        "<parameter=note>\n42\n</parameter>\n</function>\n</tool_call>"
    )
    for schemas, expected in [(tools, '{"seats": 2, "note": "42"}'), (None, '{"seats": "2", "note": "42"}')]:
        parser = TextParser(tools="qwen3-coder", tool_schemas=schemas)
        chunks = parser.decode(text) + parser.flush()
        arguments = "".join(c.tool_call_delta.arguments_delta for c in chunks if c.tool_call_delta)
        assert arguments == expected


def test_error_messages_point_at_the_offending_character() -> None:
    text = 'Hi! <tool_call>{"name": "f", "arguments": {"a": 1,}}</tool_call>'
    parser = TextParser(tools="hermes")
    chunks = [c for ch in text for c in parser.decode(ch)] + parser.flush()
    errors = [c for c in chunks if c.error_code is not None]
    assert [c.error_code for c in errors] == ["tool_call_invalid"]
    message = errors[0].error_message
    assert message is not None
    assert "tool call 0 (f) starting at character 4" in message
    at = int(message.split("invalid JSON at character ")[1].split(":")[0])
    assert text[at] == "}" and text[at - 1] == ","
