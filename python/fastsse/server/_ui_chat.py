"""``POST /api/chat``: the AI SDK's ``useChat`` request body as a :class:`ChatRequest`.

The body holds ``messages`` as UI messages (``{id, role, parts}``) and whatever the app adds
(``body:`` in ``useChat``'s transport): optional ``tools`` and ``tool_choice`` in OpenAI function
format, ``model``, ``system``, ``stop`` and the sampling fields (``temperature``, ``top_p``,
``max_tokens`` / ``max_output_tokens``, ``seed``, ...). The answer is always the UI message
stream (the AI SDK has no non-streaming form).

Parts become the normalized conversation: ``text`` parts are a message's content; an assistant
message is split into one turn per step (``step-start`` parts), each turn's tool parts
(``tool-<name>`` and ``dynamic-tool``) its tool calls, followed by their results
(``output-available``: the output as JSON text; ``output-error``: the error text).
``reasoning``, ``step-start``, ``source-*`` and ``data-*`` parts are not model input; ``file``
parts are refused (text only).
"""

from __future__ import annotations

from typing import Any

import orjson

from ._errors import RequestError
from ._requests import (
    ChatRequest,
    _int,
    _list,
    _object,
    _openai_tool_choice,
    _openai_tools,
    _sampling,
    _stop,
    _str,
    _tool_name,
)

__all__ = ["UI_STREAM_HEADERS", "parse_ui_chat"]

# The header the AI SDK's transport checks for the protocol version.
UI_STREAM_HEADERS = [(b"x-vercel-ai-ui-message-stream", b"v1")]
UI_ROLES = ("system", "user", "assistant")
SKIPPED_PARTS = ("reasoning", "step-start", "source-url", "source-document")


def _tool_part(part: dict[str, Any], kind: str, param: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A tool part as (the call, its result message or None while it has no output)."""
    name = part.get("toolName") if kind == "dynamic-tool" else kind.removeprefix("tool-")
    call_id = _str(part, "toolCallId", param=f"{param}.toolCallId", required=True) or ""
    arguments = part.get("input")
    call = {
        "id": call_id,
        "name": _tool_name(name, f"{param}.type"),
        "arguments": _object(arguments if arguments is not None else {}, f"{param}.input"),
    }
    state = part.get("state")
    if state == "output-available":
        output = part.get("output")
        content = output if isinstance(output, str) else orjson.dumps(output).decode()
    elif state == "output-error":
        content = _str(part, "errorText", param=f"{param}.errorText") or "the tool failed"
    else:
        return call, None
    return call, {"role": "tool", "tool_call_id": call_id, "content": content}


def _ui_message(message: Any, index: int) -> list[dict[str, Any]]:
    param = f"messages[{index}]"
    message = _object(message, param)
    role = message.get("role")
    if role not in UI_ROLES:
        raise RequestError(
            f"'{param}.role' must be one of {', '.join(UI_ROLES)}; got {role!r}", param=f"{param}.role"
        )
    turns: list[dict[str, Any]] = []
    results: list[list[dict[str, Any]]] = []
    for part_index, part in enumerate(_list(message.get("parts"), f"{param}.parts")):
        part_param = f"{param}.parts[{part_index}]"
        part = _object(part, part_param)
        kind = part.get("type")
        if not isinstance(kind, str):
            raise RequestError(f"'{part_param}.type' must be a string", param=f"{part_param}.type")
        if kind == "step-start" and turns:
            turns.append({"role": role, "content": "", "tool_calls": []})
            results.append([])
            continue
        if kind in SKIPPED_PARTS or kind.startswith("data-"):
            continue
        if not turns:
            turns.append({"role": role, "content": "", "tool_calls": []})
            results.append([])
        if kind == "text":
            turns[-1]["content"] += _str(part, "text", param=f"{part_param}.text", required=True) or ""
        elif (kind.startswith("tool-") or kind == "dynamic-tool") and role == "assistant":
            call, result = _tool_part(part, kind, part_param)
            turns[-1]["tool_calls"].append(call)
            if result is not None:
                results[-1].append(result)
        else:
            raise RequestError(
                f"part type {kind!r} is not supported in a {role} message by this server",
                param=f"{part_param}.type",
            )
    normalized: list[dict[str, Any]] = []
    for turn, turn_results in zip(turns, results, strict=True):
        if turn["content"] or turn["tool_calls"]:
            if role != "assistant":
                del turn["tool_calls"]
            normalized.append(turn)
        normalized += turn_results
    return normalized


def parse_ui_chat(body: dict[str, Any], *, model: str, default_max_tokens: int) -> ChatRequest:
    raw_messages = body.get("messages")
    if raw_messages is None:
        raise RequestError("'messages' is required", param="messages")
    messages: list[dict[str, Any]] = []
    system = _str(body, "system")
    if system:
        messages.append({"role": "system", "content": system})
    for index, message in enumerate(_list(raw_messages, "messages")):
        messages += _ui_message(message, index)
    if not messages:
        raise RequestError("'messages' must contain at least one message with text", param="messages")
    max_tokens = _int(body, "max_output_tokens", low=1) or _int(body, "max_tokens", low=1)
    tools = _openai_tools(body)
    return ChatRequest(
        api="openai",
        model=_str(body, "model") or model,
        messages=messages,
        stream=True,
        stop=_stop(body.get("stop"), "stop"),
        tools=tools,
        tool_choice=_openai_tool_choice(body.get("tool_choice"), tools),
        sampling=_sampling(body, max_tokens or default_max_tokens, temperature_high=2.0),
        format="vercel-ui",
    )
