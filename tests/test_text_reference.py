"""The Rust parser against the pure-Python reference (tests/text_reference.py) on random
well-formed streams: text, reasoning sections, Hermes calls and stop strings, cut at random
points. Each decode() call must produce the same chunks (ids aside): same content, same
hold-back, same merging."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

from fastsse import TextParser
from hypothesis import given, settings
from hypothesis import strategies as st
from text_reference import ReferenceTextParser

STOPS = ["\n\nUser:", "<|im_end|>", "STOP", "。"]

words = st.sampled_from(
    [
        "Hello",
        " world",
        "\n",
        "<",
        "<t",
        "</",
        "User",
        ":",
        "日本",
        "🙂",
        " a<b ",
        "{",
        "}",
        "ST",
        "STO",
        "<|im",
    ]
)
texts = st.lists(words, max_size=6).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text('ab"\\\n é🙂<>', max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text("xyz", max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def hermes_call(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(["get_weather", "search", "f"]))
    arguments = draw(st.dictionaries(st.text("abc", min_size=1, max_size=4), json_values, max_size=3))
    separators = draw(st.sampled_from([(", ", ": "), (",", ":")]))
    args_text = json.dumps(arguments, ensure_ascii=draw(st.booleans()), separators=separators)
    members = [f'"name": {json.dumps(name)}', f'"arguments": {args_text}']
    if draw(st.booleans()):
        members.reverse()
    blank = draw(st.sampled_from(["", "\n"]))
    return f"<tool_call>{blank}{{{', '.join(members)}}}{blank}</tool_call>"


@st.composite
def streams(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.booleans()):
        # Inside the reasoning: text, a call (it ends the reasoning) or prose naming the opener.
        mentions = st.sampled_from(["<tool_call> is the tag", "<tool_call>\nnot json "])
        inside = draw(st.one_of(texts, hermes_call(), mentions))
        parts.append(f"<think>{draw(texts)}{inside}</think>")
    for _ in range(draw(st.integers(0, 4))):
        parts.append(draw(st.one_of(texts, hermes_call())))
    return "".join(parts)


def normalized(chunk: Any) -> tuple[Any, ...]:
    delta = chunk.tool_call_delta
    call = None
    if delta is not None:
        call = (delta.index, delta.id is not None, delta.function_name, delta.arguments_delta)
    return (
        chunk.text_delta,
        chunk.reasoning_delta,
        call,
        chunk.error_code,
        chunk.done,
        chunk.is_first,
        chunk.finish_reason,
        chunk.stop_sequence,
    )


@settings(max_examples=300, deadline=None)
@given(
    text=streams(),
    cuts=st.lists(st.integers(0, 400), max_size=20),
    stops=st.lists(st.sampled_from(STOPS), max_size=4, unique=True),
    reasoning=st.booleans(),
)
def test_same_chunks_as_the_reference(text: str, cuts: list[int], stops: list[str], reasoning: bool) -> None:
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    rust = TextParser(stop=stops, reasoning="think" if reasoning else None, tools="hermes")
    python = ReferenceTextParser(
        stop=stops,
        reasoning_start=["<think>"] if reasoning else [],
        reasoning_end=["</think>"] if reasoning else [],
        hermes=True,
    )
    for a, b in pairwise(bounds):
        piece = text[a:b]
        assert [normalized(c) for c in rust.decode(piece)] == [normalized(c) for c in python.decode(piece)]
    assert [normalized(c) for c in rust.flush()] == [normalized(c) for c in python.flush()]


@settings(max_examples=100, deadline=None)
@given(text=st.text("ab<>/thinkUser:\n", max_size=60), cuts=st.lists(st.integers(0, 60), max_size=10))
def test_reasoning_that_starts_inside(text: str, cuts: list[int]) -> None:
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    rust = TextParser(reasoning="deepseek-r1", stop=["User:"])
    python = ReferenceTextParser(
        reasoning_start=["<think>"], reasoning_end=["</think>"], starts_inside=True, stop=["User:"]
    )
    for a, b in pairwise(bounds):
        assert [normalized(c) for c in rust.decode(text[a:b])] == [
            normalized(c) for c in python.decode(text[a:b])
        ]
    assert [normalized(c) for c in rust.flush()] == [normalized(c) for c in python.flush()]
