"""gpt-oss end to end: the replay engine writes Harmony (as `--model openai/gpt-oss-20b` does), the
server reads it with `tools="harmony"`, and the official OpenAI and Anthropic SDKs receive reasoning,
text and tool calls over uvicorn on 127.0.0.1 - never a Harmony marker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from fastsse.adapters import ReplayAdapter
from fastsse.server import FastSSEApp, create_app
from serving import running_server
from support.processes import fastsse_serve

MODEL = "openai/gpt-oss-20b"
WEATHER = {
    "name": "get_weather",
    "description": "Returns the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius"]}},
        "required": ["city", "unit"],
    },
}
OPENAI_TOOLS: Any = [{"type": "function", "function": WEATHER}]
ANTHROPIC_TOOLS: Any = [
    {"name": WEATHER["name"], "description": WEATHER["description"], "input_schema": WEATHER["parameters"]}
]
PARIS: Any = [{"role": "user", "content": "What's the weather in Paris?"}]
PROSE: Any = [{"role": "user", "content": "How does streaming work?"}]


@pytest.fixture(scope="module")
def replay() -> ReplayAdapter:
    return ReplayAdapter(tokens_per_second=None, model=MODEL)


@pytest.fixture(scope="module", params=[{"tools": "harmony"}, {"reasoning": "harmony"}])
def base_url(request: pytest.FixtureRequest, replay: ReplayAdapter) -> Iterator[str]:
    app: FastSSEApp = create_app(replay, model=MODEL, **request.param)
    with running_server(app) as url:
        yield url


def test_the_replay_engine_writes_harmony_for_gpt_oss(replay: ReplayAdapter) -> None:
    written = replay.text_for("<|im_start|>user\nHow does streaming work?<|im_end|>\n<|im_start|>assistant\n")
    assert written.startswith("<|channel|>analysis<|message|>The user asks")
    assert "<|end|><|start|>assistant<|channel|>final<|message|>" in written
    assert "<think>" not in written
    assert "<think>" in ReplayAdapter(model="Qwen/Qwen3-8B").text_for("How does streaming work?")


def test_openai_reasoning_then_tool_call_streamed(oai: openai.OpenAI, replay: ReplayAdapter) -> None:
    chunks = list(oai.chat.completions.create(model=MODEL, messages=PARIS, tools=OPENAI_TOOLS, stream=True))
    assert "<|channel|>" in replay.text_for(replay.records[-1].prompt)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    reasoning = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
    assert reasoning.startswith('The user asks: "What\'s the weather in Paris?"') and "<|" not in reasoning
    assert not "".join(d.content or "" for d in deltas).strip()
    fragments = [tc for d in deltas for tc in d.tool_calls or ()]
    assert fragments[0].id and fragments[0].function and fragments[0].function.name == "get_weather"
    assert all(f.id is None and (f.function is None or f.function.name is None) for f in fragments[1:])
    arguments = "".join(f.function.arguments or "" for f in fragments if f.function)
    assert json.loads(arguments) == {"city": "Paris", "unit": "celsius"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_openai_parallel_calls_are_consecutive_messages(oai: openai.OpenAI) -> None:
    question: Any = [{"role": "user", "content": "Compare the weather in Paris and Lyon"}]
    whole = oai.chat.completions.create(model=MODEL, messages=question, tools=OPENAI_TOOLS)
    calls = whole.choices[0].message.tool_calls or []
    assert [json.loads(call.function.arguments)["city"] for call in calls] == ["Paris", "Lyon"]  # type: ignore[union-attr]
    assert len({call.id for call in calls}) == 2 and whole.choices[0].finish_reason == "tool_calls"


def test_openai_reasoning_then_answer(oai: openai.OpenAI) -> None:
    chunks = list(oai.chat.completions.create(model=MODEL, messages=PROSE, stream=True))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    reasoning = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
    text = "".join(d.content or "" for d in deltas)
    assert reasoning.startswith("The user asks") and reasoning.endswith("short and structured.")
    assert text.startswith(("Streaming sends", "Short answer")) and "<|" not in text
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_anthropic_thinking_and_tool_use(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model=MODEL,
        max_tokens=4096,
        messages=PARIS,
        tools=ANTHROPIC_TOOLS,
        thinking={"type": "enabled", "budget_tokens": 1024},
    ) as stream:
        events = list(stream)
        message = stream.get_final_message()
    assert [block.type for block in message.content] == ["thinking", "tool_use"]
    thinking, tool_use = message.content
    assert thinking.type == "thinking" and "get_weather" in thinking.thinking
    assert tool_use.type == "tool_use" and tool_use.name == "get_weather"
    assert tool_use.input == {"city": "Paris", "unit": "celsius"} and tool_use.id
    assert message.stop_reason == "tool_use"
    starts = [e.index for e in events if e.type == "content_block_start"]
    assert starts == list(range(len(starts)))


def test_anthropic_thinking_and_text(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model=MODEL, max_tokens=4096, messages=PROSE, thinking={"type": "enabled", "budget_tokens": 1024}
    )
    assert [block.type for block in message.content] == ["thinking", "text"]
    text = message.content[1].text  # type: ignore[union-attr]
    assert text.startswith(("Streaming sends", "Short answer")) and "<|" not in text
    assert message.stop_reason == "end_turn"


def test_fastsse_serve_model_gpt_oss_reads_harmony() -> None:
    # `--model` alone: the replay engine writes Harmony and the formats follow the model.
    with fastsse_serve("--model", MODEL, "--rate", "0") as (url, _):
        with openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0) as client:
            chunks = list(
                client.chat.completions.create(model=MODEL, messages=PARIS, tools=OPENAI_TOOLS, stream=True)
            )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    reasoning = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
    assert reasoning.startswith("The user asks") and "<|" not in reasoning
    arguments = "".join(
        tc.function.arguments or "" for d in deltas for tc in d.tool_calls or () if tc.function
    )
    assert json.loads(arguments) == {"city": "Paris", "unit": "celsius"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
