"""The replay engine: the adapter contract, its tokenizer, and the outputs it writes."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from fastsse import GenerationAdapter, GenerationChunk
from fastsse.adapters import ReplayAdapter, tokenize
from fastsse.server import hermes_template
from hypothesis import given
from hypothesis import strategies as st
from support.chat import WEATHER

# The servers' weather tool with one optional argument more, which the responder leaves out.
WEATHER_TOOL: dict[str, Any] = copy.deepcopy(WEATHER)
WEATHER_TOOL["parameters"]["properties"]["days"] = {"type": "integer", "minimum": 1}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def drain(adapter: GenerationAdapter, prompt: str, **options: object) -> list[GenerationChunk]:
    options.setdefault("max_new_tokens", 10_000)
    return [chunk async for chunk in adapter.generate(prompt, **options)]  # type: ignore[arg-type]


@given(st.text())
def test_tokenize_pieces_join_back_into_the_text(text: str) -> None:
    assert "".join(tokenize(text)) == text
    assert all(tokenize(text))


def test_tokenize_keeps_special_markers_whole() -> None:
    tokens = tokenize("a <think>b</think>\n\n<tool_call>\n{}</tool_call>")
    for marker in ("<think>", "</think>", "<tool_call>", "</tool_call>"):
        assert marker in tokens


@pytest.mark.anyio
async def test_deltas_then_exactly_one_terminal_chunk() -> None:
    adapter = ReplayAdapter(tokens_per_second=None, script=["Hello, world! How are you?"])
    chunks = await drain(adapter, "prompt text here")
    *deltas, terminal = chunks
    assert "".join(c.text_delta for c in deltas) == "Hello, world! How are you?"
    assert all(not c.done for c in deltas) and deltas[0].is_first and not deltas[1].is_first
    assert terminal.done and terminal.finish_reason == "stop" and terminal.text_delta == ""
    assert terminal.completion_tokens == len(deltas)
    assert terminal.prompt_tokens == adapter.count_tokens("prompt text here") == 3
    assert adapter.records[-1].outcome == "stop" and adapter.records[-1].tokens_emitted == len(deltas)


@pytest.mark.anyio
async def test_max_new_tokens_ends_with_length() -> None:
    adapter = ReplayAdapter(tokens_per_second=None, script=["one two three four five"])
    chunks = await drain(adapter, "p", max_new_tokens=3)
    assert "".join(c.text_delta for c in chunks) == "one two three"
    assert chunks[-1].finish_reason == "length" and chunks[-1].completion_tokens == 3


@pytest.mark.anyio
async def test_engine_side_stop_strings_cut_at_the_earliest_match() -> None:
    adapter = ReplayAdapter(tokens_per_second=None, script=["alpha beta END gamma STOP delta"])
    chunks = await drain(adapter, "p", stop=["STOP", "END"])
    assert "".join(c.text_delta for c in chunks) == "alpha beta "
    assert chunks[-1].finish_reason == "stop"


@pytest.mark.anyio
async def test_closing_the_iterator_reaches_the_engine() -> None:
    adapter = ReplayAdapter(tokens_per_second=1000, script=["word " * 500])
    stream = adapter.generate("p", max_new_tokens=10_000)
    for _ in range(3):
        await stream.__anext__()  # type: ignore[attr-defined]
    await stream.aclose()  # type: ignore[attr-defined]
    record = adapter.records[-1]
    assert record.outcome == "closed" and record.tokens_emitted == 3 and record.finished_at is not None


@pytest.mark.anyio
async def test_scripts_are_used_in_turn_and_callables_see_the_prompt() -> None:
    adapter = ReplayAdapter(tokens_per_second=None, script=["first", "second"])
    texts = ["".join(c.text_delta for c in await drain(adapter, "p")) for _ in range(3)]
    assert texts == ["first", "second", "first"]
    echo = ReplayAdapter(tokens_per_second=None, script=lambda prompt: prompt.upper())
    assert "".join(c.text_delta for c in await drain(echo, "abc def")) == "ABC DEF"


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="tokens_per_second"):
        ReplayAdapter(tokens_per_second=0)


# --- what the built-in responder writes for Hermes-template prompts --------------------------


def test_tool_call_from_the_declared_schema() -> None:
    prompt = hermes_template(
        [{"role": "user", "content": "What's the weather in Lyon today?"}],
        tools=[WEATHER_TOOL],
        enable_thinking=True,
    )
    text = ReplayAdapter().text_for(prompt)
    reasoning, _, rest = text.partition("</think>")
    assert reasoning.startswith("<think>\n") and "get_weather" in reasoning
    body = rest.strip().removeprefix("<tool_call>").removesuffix("</tool_call>")
    call = orjson.loads(body)
    assert call == {"name": "get_weather", "arguments": {"city": "Lyon", "unit": "celsius"}}


def test_answer_after_a_tool_response_reports_it() -> None:
    messages = [
        {"role": "user", "content": "What's the weather in Lyon?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "name": "get_weather", "arguments": {"city": "Lyon"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"temperature": 21, "sky": "clear"}'},
    ]
    text = ReplayAdapter().text_for(hermes_template(messages, tools=[WEATHER_TOOL], enable_thinking=True))
    answer = text.partition("</think>")[2]
    assert "<tool_call>" not in text
    assert "**temperature**: 21" in answer and "**sky**: clear" in answer


def test_prose_without_tools_and_no_reasoning_when_thinking_is_off() -> None:
    messages = [{"role": "user", "content": "How does streaming work?"}]
    with_thinking = ReplayAdapter().text_for(hermes_template(messages, tools=[], enable_thinking=True))
    assert with_thinking.startswith("<think>\n") and "</think>\n\n" in with_thinking
    without = ReplayAdapter().text_for(hermes_template(messages, tools=[], enable_thinking=False))
    assert "<think>" not in without and without == with_thinking.partition("</think>\n\n")[2]


def test_one_call_per_place_named_in_the_question() -> None:
    prompt = hermes_template(
        [{"role": "user", "content": "Compare the weather in Paris, Lyon and Nice"}],
        tools=[WEATHER_TOOL],
        enable_thinking=False,
    )
    text = ReplayAdapter().text_for(prompt)
    blocks = [block.strip() for block in text.split("</tool_call>") if block.strip()]
    calls = [orjson.loads(block.removeprefix("<tool_call>")) for block in blocks]
    assert [call["arguments"]["city"] for call in calls] == ["Paris", "Lyon", "Nice"]
    assert text.startswith(
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}'
    )
