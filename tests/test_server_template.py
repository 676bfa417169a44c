"""The default chat template: ChatML turns, Hermes tool declarations, calls and results."""

from __future__ import annotations

import orjson
from fastsse.server import hermes_template

TOOL = {"name": "lookup", "description": "Find a word.", "parameters": {"type": "object", "properties": {}}}


def test_plain_conversation() -> None:
    prompt = hermes_template(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!", "tool_calls": []},
            {"role": "user", "content": "Bye"},
        ],
        tools=[],
        enable_thinking=True,
    )
    assert prompt == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n"
        "<|im_start|>user\nBye<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_tools_are_declared_as_json_lines_in_the_system_turn() -> None:
    prompt = hermes_template(
        [{"role": "user", "content": "x"}], tools=[TOOL, {**TOOL, "name": "other"}], enable_thinking=True
    )
    system = prompt.split("<|im_end|>")[0]
    assert system.startswith("<|im_start|>system\n# Tools")
    declared = system.split("<tools>\n")[1].split("\n</tools>")[0].splitlines()
    assert [orjson.loads(line) for line in declared] == [
        {"type": "function", "function": TOOL},
        {"type": "function", "function": {**TOOL, "name": "other"}},
    ]
    assert "<tool_call>" in system


def test_calls_and_grouped_results() -> None:
    prompt = hermes_template(
        [
            {"role": "user", "content": "look up a and b"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "1", "name": "lookup", "arguments": {"w": "a"}},
                    {"id": "2", "name": "lookup", "arguments": {"w": "b"}},
                ],
            },
            {"role": "tool", "tool_call_id": "1", "content": "A"},
            {"role": "tool", "tool_call_id": "2", "content": "B"},
        ],
        tools=[TOOL],
        enable_thinking=True,
    )
    turns = prompt.split("<|im_start|>")[2:]
    assert turns[1] == (
        'assistant\n<tool_call>\n{"name":"lookup","arguments":{"w":"a"}}\n</tool_call>\n'
        '<tool_call>\n{"name":"lookup","arguments":{"w":"b"}}\n</tool_call><|im_end|>\n'
    )
    assert (
        turns[2]
        == "user\n<tool_response>\nA\n</tool_response>\n<tool_response>\nB\n</tool_response><|im_end|>\n"
    )
    assert turns[3] == "assistant\n"


def test_thinking_off_closes_an_empty_reasoning_block() -> None:
    prompt = hermes_template([{"role": "user", "content": "x"}], tools=[], enable_thinking=False)
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
