"""The default chat template: ChatML turns with Hermes-style tool declarations and calls.

This is the prompt layout of Hermes 2 Pro, Qwen2.5 and Qwen3 (JSON tools): tools declared as
JSON lines inside ``<tools></tools>`` in the system turn, the model's calls written as
``<tool_call>{"name": ..., "arguments": ...}</tool_call>``, and tool results handed back inside
``<tool_response></tool_response>`` in a user turn. With thinking off, the generation turn
starts with an empty ``<think></think>`` pair, which Qwen3 reads as "answer directly".

A server for another model family passes its own template to ``create_app(chat_template=...)``:
any callable with this signature.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

__all__ = ["ChatTemplate", "hermes_template"]


class ChatTemplate(Protocol):
    """Renders normalized messages and tool definitions into the prompt text.

    ``messages``: dicts with ``role`` (system, user, assistant, tool), ``content`` (str),
    ``tool_calls`` (assistant: ``[{"id", "name", "arguments": dict}]``) and ``tool_call_id``
    (tool). ``tools``: ``[{"name", "description", "parameters": JSON schema}]``.
    """

    def __call__(
        self, messages: list[dict[str, Any]], *, tools: list[dict[str, Any]], enable_thinking: bool
    ) -> str: ...


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _tools_section(tools: list[dict[str, Any]]) -> str:
    declarations = "\n".join(
        _json(
            {
                "type": "function",
                "function": {
                    "name": tool["name"],
                    "description": tool.get("description", ""),
                    "parameters": tool.get("parameters", {"type": "object", "properties": {}}),
                },
            }
        )
        for tool in tools
    )
    return (
        "# Tools\n\nYou may call one or more of the functions below to answer. Their signatures "
        f"are given inside <tools></tools>, one JSON object per line:\n<tools>\n{declarations}\n</tools>\n\n"
        "To call a function, write a JSON object with its name and arguments between "
        "<tool_call></tool_call> tags:\n<tool_call>\n"
        '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
    )


def hermes_template(
    messages: list[dict[str, Any]], *, tools: list[dict[str, Any]], enable_thinking: bool = True
) -> str:
    parts: list[str] = []
    rest = messages
    system = ""
    if messages and messages[0]["role"] == "system":
        system, rest = messages[0]["content"], messages[1:]
    if tools:
        system = f"{system}\n\n{_tools_section(tools)}" if system else _tools_section(tools)
    if system:
        parts.append(f"<|im_start|>system\n{system}<|im_end|>\n")
    open_tool_turn = False
    for message in rest:
        role = message["role"]
        if role == "tool":
            # Consecutive tool results share one user turn, each in its own tags.
            if not open_tool_turn:
                parts.append("<|im_start|>user")
                open_tool_turn = True
            parts.append(f"\n<tool_response>\n{message['content']}\n</tool_response>")
            continue
        if open_tool_turn:
            parts.append("<|im_end|>\n")
            open_tool_turn = False
        if role == "assistant":
            text = message.get("content") or ""
            calls = [
                "<tool_call>\n"
                + _json({"name": call["name"], "arguments": call["arguments"]})
                + "\n</tool_call>"
                for call in message.get("tool_calls") or ()
            ]
            body = "\n".join(([text] if text else []) + calls)
            parts.append(f"<|im_start|>assistant\n{body}<|im_end|>\n")
        else:
            # A system message after the first is passed on as a system turn in place.
            parts.append(f"<|im_start|>{role}\n{message['content']}<|im_end|>\n")
    if open_tool_turn:
        parts.append("<|im_end|>\n")
    parts.append("<|im_start|>assistant\n")
    if not enable_thinking:
        parts.append("<think>\n\n</think>\n\n")
    return "".join(parts)
