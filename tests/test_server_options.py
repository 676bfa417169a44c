"""Server options a new user reaches for, through the official SDKs: format names checked at
construction, Anthropic-style tool ids, logprobs, ``n`` > 1 and ``response_format``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import openai
import pytest
from fastsse import TextParser
from fastsse.adapters import ReplayAdapter
from fastsse.cli import build_parser
from fastsse.server import create_app
from pydantic import BaseModel
from support.chat import ANTHROPIC_TOOLS, OPENAI_TOOLS, QUESTION, answering

SCRIPT = "<think>\nA greeting.\n</think>\n\nHello there, friend."


class Weather(BaseModel):
    city: str
    celsius: int


@pytest.fixture
def scripted(replay: ReplayAdapter) -> Iterator[ReplayAdapter]:
    with answering(replay, lambda prompt: SCRIPT):
        yield replay


@pytest.mark.parametrize(
    ("option", "names"), [("tools", TextParser.TOOL_FORMATS), ("reasoning", TextParser.REASONING_FORMATS)]
)
def test_unknown_format_names_fail_at_construction_with_the_valid_ones(
    option: str, names: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError) as caught:
        create_app(ReplayAdapter(), **{option: "no-such-format"})
    assert "no-such-format" in str(caught.value)
    assert all(name in str(caught.value) for name in names)
    for name in names:  # every listed name is accepted
        create_app(ReplayAdapter(), **{option: name})


@pytest.mark.parametrize("option", ["--tools", "--reasoning"])
def test_fastsse_serve_refuses_unknown_format_names(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["serve", option, "no-such-format"])
    assert caught.value.code == 2
    error = capsys.readouterr().err
    names = TextParser.TOOL_FORMATS if option == "--tools" else TextParser.REASONING_FORMATS
    assert "no-such-format" in error and all(name in error for name in names)


def test_anthropic_tool_ids_are_toolu_and_openai_ids_call(base_url: str, oai: openai.OpenAI) -> None:
    tool = ANTHROPIC_TOOLS[0]
    with anthropic.Anthropic(base_url=base_url, api_key="unused", max_retries=0) as claude:
        whole = claude.messages.create(model="replay-1", max_tokens=1000, messages=QUESTION, tools=[tool])  # type: ignore[list-item]
        with claude.messages.stream(
            model="replay-1", max_tokens=1000, messages=QUESTION, tools=[tool]
        ) as stream:  # type: ignore[list-item]
            streamed = stream.get_final_message()
    for message in (whole, streamed):
        uses = [block for block in message.content if block.type == "tool_use"]
        assert uses and all(use.id.startswith("toolu_") and len(use.id) > 10 for use in uses), uses
    completion = oai.chat.completions.create(model="replay-1", messages=QUESTION, tools=OPENAI_TOOLS)
    assert completion.choices[0].message.tool_calls[0].id.startswith("call_")  # type: ignore[index]


def test_logprobs_are_forwarded_when_asked(oai: openai.OpenAI, scripted: ReplayAdapter) -> None:
    hi = [{"role": "user", "content": "Hi"}]
    whole = oai.chat.completions.create(model="replay-1", messages=hi, logprobs=True, top_logprobs=2)
    assert (
        scripted.records[-1].options["logprobs"] is True and scripted.records[-1].options["top_logprobs"] == 2
    )
    content = whole.choices[0].logprobs.content  # type: ignore[union-attr]
    assert content is not None
    # Every engine token, markers and reasoning included, in order: the raw text back.
    assert "".join(entry.token for entry in content) == SCRIPT
    assert all(entry.logprob == 0.0 and entry.top_logprobs[0].token == entry.token for entry in content)

    chunks = list(oai.chat.completions.create(model="replay-1", messages=hi, logprobs=True, stream=True))
    streamed = [
        e.token
        for c in chunks
        if c.choices and c.choices[0].logprobs
        for e in c.choices[0].logprobs.content or ()
    ]
    assert "".join(streamed) == SCRIPT
    plain = oai.chat.completions.create(model="replay-1", messages=hi)
    assert plain.choices[0].logprobs is None and not scripted.records[-1].options["logprobs"]


def test_n_choices_stream_interleaved_and_whole(oai: openai.OpenAI, scripted: ReplayAdapter) -> None:
    hi = [{"role": "user", "content": "Hi"}]
    chunks = list(
        oai.chat.completions.create(
            model="replay-1", messages=hi, n=3, stream=True, stream_options={"include_usage": True}
        )
    )
    texts: dict[int, str] = {}
    finishes: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert sorted(texts) == [0, 1, 2]
    assert all(text.strip() == "Hello there, friend." for text in texts.values())
    assert finishes == {0: "stop", 1: "stop", 2: "stop"}
    per_choice = scripted.records[-1].tokens_emitted
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3 * per_choice

    whole = oai.chat.completions.create(model="replay-1", messages=hi, n=2)
    assert [choice.index for choice in whole.choices] == [0, 1]
    assert all((choice.message.content or "").strip() == "Hello there, friend." for choice in whole.choices)
    assert whole.usage is not None and whole.usage.completion_tokens == 2 * per_choice


def test_response_format_reaches_the_adapter(oai: openai.OpenAI, replay: ReplayAdapter) -> None:
    with answering(replay, lambda prompt: '{"city": "Paris", "celsius": 18}'):
        parsed = oai.chat.completions.parse(model="replay-1", messages=QUESTION, response_format=Weather)
        sent = replay.records[-1].options["response_format"]
        assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "Weather"
        assert parsed.choices[0].message.parsed == Weather(city="Paris", celsius=18)
        plain = oai.chat.completions.create(
            model="replay-1", messages=QUESTION, response_format={"type": "json_object"}
        )
        assert replay.records[-1].options["response_format"] == {"type": "json_object"}
        assert json.loads(plain.choices[0].message.content or "") == {"city": "Paris", "celsius": 18}
        oai.chat.completions.create(model="replay-1", messages=QUESTION, response_format={"type": "text"})
        assert "response_format" not in replay.records[-1].options
