"""``POST /v1/responses``: an OpenAI Responses request body as a :class:`ChatRequest`.

``input`` is a string (one user message) or a list of items: messages (``role`` with string
content or ``input_text`` / ``output_text`` / ``refusal`` parts), ``function_call`` items (an
assistant's tool calls, by ``call_id``) and ``function_call_output`` items (the results);
``reasoning`` items are not replayed into the prompt. ``instructions`` becomes the system
message. Function ``tools`` (the Responses' flat shape), ``tool_choice``, ``max_output_tokens``,
``temperature``, ``top_p``, ``text.format`` (a structured-output request for the adapter) and
``reasoning`` (``effort: "none"`` turns thinking off; a ``summary`` asks for reasoning as
summary parts) are honoured. The response object repeats the request's fields, as the API does.

``background: true`` needs resumable streams on (see ``_responses_stored``); without them it is
a 400. Not served, each with a 400 naming the parameter: ``previous_response_id`` and
``item_reference`` items (this server keeps no conversations: send the whole conversation),
built-in tools, and non-text content.
"""

from __future__ import annotations

from typing import Any

from ._errors import RequestError
from ._requests import (
    MAX_CHOICES,
    ChatRequest,
    _arguments_object,
    _bool,
    _int,
    _list,
    _object,
    _openai_content,
    _openai_tool_choice,
    _openai_tools,
    _sampling,
    _str,
    _tool_name,
)

__all__ = ["parse_responses"]

# Request fields the response object repeats when the request gave them.
ECHOED_FIELDS = (
    "background",
    "instructions",
    "max_output_tokens",
    "metadata",
    "parallel_tool_calls",
    "previous_response_id",
    "reasoning",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_p",
)
MESSAGE_ROLES = ("system", "developer", "user", "assistant")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")


def _message(item: dict[str, Any], param: str) -> dict[str, Any]:
    role = item.get("role")
    if role not in MESSAGE_ROLES:
        raise RequestError(
            f"'{param}.role' must be one of {', '.join(MESSAGE_ROLES)}; got {role!r}", param=f"{param}.role"
        )
    content = _openai_content(item.get("content"), f"{param}.content", allow_null=False)
    if role == "assistant":
        return {"role": "assistant", "content": content, "tool_calls": []}
    return {"role": "system" if role == "developer" else role, "content": content}


def _input_messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(_list(value, "input")):
        param = f"input[{index}]"
        item = _object(item, param)
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(_message(item, param))
        elif kind == "function_call":
            call = {
                "id": _str(item, "call_id", param=f"{param}.call_id", required=True),
                "name": _tool_name(item.get("name"), f"{param}.name"),
                "arguments": _arguments_object(item.get("arguments", "{}"), f"{param}.arguments"),
            }
            # Calls made in one turn follow the assistant's text: they join its message.
            if not messages or messages[-1]["role"] != "assistant":
                messages.append({"role": "assistant", "content": "", "tool_calls": []})
            messages[-1]["tool_calls"].append(call)
        elif kind == "function_call_output":
            output = item.get("output")
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": _str(item, "call_id", param=f"{param}.call_id", required=True),
                    "content": _openai_content(output, f"{param}.output", allow_null=False),
                }
            )
        elif kind == "reasoning":
            continue  # earlier reasoning is not replayed into the prompt
        else:
            why = (
                "this server keeps no responses"
                if kind == "item_reference"
                else "not supported by this server"
            )
            raise RequestError(f"input item type {kind!r}: {why}", param=f"{param}.type")
    if not messages:
        raise RequestError("'input' must contain at least one message", param="input")
    return messages


def _tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Responses function tools are flat (``{"type": "function", "name", ...}``): read them as
    Chat Completions ones."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return _openai_tools(body)
    nested = [
        {"type": "function", "function": tool}
        if isinstance(tool, dict) and tool.get("type") == "function"
        else tool
        for tool in tools
    ]
    return _openai_tools({"tools": nested})


def _tool_choice(value: Any, tools: list[dict[str, Any]]) -> str:
    if isinstance(value, dict) and value.get("type") == "function":  # flat here too
        value = {"type": "function", "function": value}
    return _openai_tool_choice(value, tools)


def _text_format(value: Any) -> dict[str, Any] | None:
    """``text.format`` as the Chat Completions ``response_format`` adapters take; None for text."""
    if value is None:
        return None
    text_format = _object(_object(value, "text").get("format") or {"type": "text"}, "text.format")
    kind = text_format.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema: dict[str, Any] = {
            "name": _str(text_format, "name", param="text.format.name", required=True),
            "schema": _object(text_format.get("schema"), "text.format.schema"),
        }
        if text_format.get("strict") is not None:
            schema["strict"] = _bool(text_format, "strict")
        return {"type": "json_schema", "json_schema": schema}
    raise RequestError(
        f"'text.format.type' must be text, json_object or json_schema; got {kind!r}", param="text.format.type"
    )


def parse_responses(body: dict[str, Any], *, default_max_tokens: int) -> ChatRequest:
    model = _str(body, "model", required=True) or ""
    for key, why in (
        ("previous_response_id", "this server keeps no responses: send the whole conversation in 'input'"),
        ("conversation", "this server keeps no conversations: send the whole conversation in 'input'"),
    ):
        if body.get(key) is not None:
            raise RequestError(f"'{key}' is not supported: {why}", param=key)
    if body.get("input") is None:
        raise RequestError("'input' is required", param="input")
    messages = _input_messages(body["input"])
    instructions = _str(body, "instructions")
    if instructions:
        messages.insert(0, {"role": "system", "content": instructions})
    tools = _tools(body)
    max_tokens = _int(body, "max_output_tokens", low=1) or default_max_tokens
    sampling = _sampling(body, max_tokens, temperature_high=2.0)
    response_format = _text_format(body.get("text"))
    if response_format is not None:
        sampling["response_format"] = response_format
    thinking, summary = True, False
    if body.get("reasoning") is not None:
        reasoning = _object(body["reasoning"], "reasoning")
        effort = reasoning.get("effort")
        if effort is not None and effort not in REASONING_EFFORTS:
            raise RequestError(
                f"'reasoning.effort' must be one of {', '.join(REASONING_EFFORTS)}; got {effort!r}",
                param="reasoning.effort",
            )
        thinking = effort != "none"
        summary = reasoning.get("summary") is not None or reasoning.get("generate_summary") is not None
    _bool(body, "parallel_tool_calls", default=True)
    if _int(body, "n", low=1, high=MAX_CHOICES) not in (None, 1):
        raise RequestError("'n' is not a Responses parameter: one response per request", param="n")
    fields = {key: body[key] for key in ECHOED_FIELDS if body.get(key) is not None}
    return ChatRequest(
        api="openai",
        model=model,
        messages=messages,
        stream=_bool(body, "stream"),
        include_usage=True,
        tools=tools,
        tool_choice=_tool_choice(body.get("tool_choice"), tools),
        thinking=thinking,
        sampling=sampling,
        format="openai-responses",
        envelope={"response_fields": fields, "reasoning_summary": summary},
        background=_bool(body, "background"),
    )
