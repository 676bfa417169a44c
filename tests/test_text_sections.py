"""Reasoning sections: markers split anywhere, minimal hold-back, named and custom formats."""

from __future__ import annotations

import pytest
from fastsse import GenerationChunk, TextParser
from hypothesis import given, settings
from hypothesis import strategies as st


def split(chunks: list[GenerationChunk]) -> tuple[str, str]:
    return "".join(c.reasoning_delta for c in chunks), "".join(c.text_delta for c in chunks)


@settings(max_examples=200, deadline=None)
@given(text=st.text("<think/>ab", max_size=40))
def test_reasoning_hold_back_is_minimal(text: str) -> None:
    markers = ["<think>", "</think>"]
    parser = TextParser(reasoning="think")
    seen = ""
    for n, ch in enumerate(text, 1):
        seen += "".join(c.text_delta + c.reasoning_delta for c in parser.decode(ch))
        visible = text[:n].replace("<think>", "").replace("</think>", "")
        # Everything but a suffix shorter than a marker has left already.
        assert len(visible) - len(seen) < max(map(len, markers))


@pytest.mark.parametrize("cut", range(1, len("<think>a</think>b")))
def test_a_marker_split_anywhere_never_leaks(cut: int) -> None:
    text = "<think>a</think>b"
    parser = TextParser(reasoning="think")
    chunks = parser.decode(text[:cut]) + parser.decode(text[cut:]) + parser.flush()
    assert split(chunks) == ("a", "b")


def test_the_known_leak_case() -> None:
    # 'weighing it</thi' then 'nk>Answer.' must not put '</thi' in reasoning or 'nk>' in text.
    parser = TextParser(reasoning="deepseek-r1")
    chunks = parser.decode("weighing it</thi") + parser.decode("nk>Answer.") + parser.flush()
    assert split(chunks) == ("weighing it", "Answer.")


def test_reasoning_is_released_as_it_arrives() -> None:
    parser = TextParser(reasoning="think")
    assert split(parser.decode("<think>step one, ")) == ("step one, ", "")
    assert split(parser.decode("step two</")) == ("step two", "")
    assert split(parser.decode("think>done")) == ("", "done")


def test_stops_do_not_apply_inside_reasoning() -> None:
    parser = TextParser(reasoning="think", stop=["\n\n"])
    chunks = parser.decode("<think>para one\n\npara two</think>answer\n\nignored") + parser.flush()
    assert split(chunks) == ("para one\n\npara two", "answer")
    assert chunks[-1].stop_sequence == "\n\n"


def test_several_end_markers_for_prompted_chain_of_thought() -> None:
    parser = TextParser(reasoning="cot")
    chunks = parser.decode("Socrates is a man. All men are mortal. Therefore: mortal.") + parser.flush()
    assert split(chunks) == ("Socrates is a man. All men are mortal. ", " mortal.")
