"""Validate OpenAI / Anthropic request bodies into one normalized :class:`ChatRequest`.

Everything a client can get wrong becomes a :class:`RequestError` naming the parameter (the
server answers 400 in the provider's shape), never an exception from deep inside the server.
Messages are normalized to one shape the chat template renders:

``{"role": "system"|"user"|"assistant"|"tool", "content": str,
   "tool_calls": [{"id", "name", "arguments": dict}],   # assistant only
   "tool_call_id": str}``                                # tool only
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ._errors import Api, RequestError

__all__ = ["ChatRequest", "parse_anthropic_messages", "parse_completions", "parse_json", "parse_openai_chat"]

MAX_STOP_STRINGS = 16
MAX_TOOLS = 128
# Choices per request (`n`): each is a whole generation, so the cap bounds one request's work.
MAX_CHOICES = 8
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
_TOOL_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


@dataclass
class ChatRequest:
    """What the worker needs from a request, whichever API it came through."""

    api: Api
    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    include_usage: bool = False
    stop: list[str] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    # "auto", "none", "required", or the name of the one function the model must call.
    tool_choice: str = "auto"
    thinking: bool = True
    # Keyword arguments for GenerationAdapter.generate besides the prompt.
    sampling: dict[str, Any] = field(default_factory=dict)
    prompt: str | None = None  # set for raw completions (no chat template)
    n: int = 1  # choices: n generations, interleaved by choice_index
    # The encoder's wire format when it is not the API's own ("openai-responses", "vercel-ui"),
    # and the encoder keywords the route adds (e.g. the request fields a response repeats).
    format: str | None = None
    envelope: dict[str, Any] = field(default_factory=dict)
    background: bool = False  # Responses: run to the end into the stream store, read or not

    @property
    def wire_format(self) -> str:
        return self.format or self.api

    @property
    def active_tools(self) -> list[dict[str, Any]]:
        """The tools the model is offered (none when tool_choice is "none")."""
        if self.tool_choice == "none":
            return []
        if self.tool_choice in ("auto", "required"):
            return self.tools
        return [tool for tool in self.tools if tool["name"] == self.tool_choice]


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RequestError(f"request body must be a JSON object, got {type(value).__name__}")
    return value


# --- field readers ---------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _str(body: dict[str, Any], key: str, *, param: str | None = None, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise RequestError(f"'{param or key}' is required", param=param or key)
        return None
    if not isinstance(value, str):
        raise RequestError(f"'{param or key}' must be a string, got {_type_name(value)}", param=param or key)
    return value


def _bool(body: dict[str, Any], key: str, default: bool = False) -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RequestError(f"'{key}' must be a boolean, got {_type_name(value)}", param=key)
    return value


def _int(
    body: dict[str, Any],
    key: str,
    *,
    low: int | None = None,
    high: int | None = None,
    param: str | None = None,
) -> int | None:
    name = param or key
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise RequestError(f"'{name}' must be an integer, got {_type_name(value)}", param=name)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise RequestError(f"'{name}' must be {bounds}, got {value}", param=name)
    return value


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise RequestError(f"'{key}' must be a number, got {_type_name(value)}", param=key)
    if not low <= value <= high:
        raise RequestError(f"'{key}' must be between {low:g} and {high:g}, got {value}", param=key)
    return float(value)


def _object(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RequestError(f"'{param}' must be an object, got {_type_name(value)}", param=param)
    return value


def _list(value: Any, param: str) -> list[Any]:
    if not isinstance(value, list):
        raise RequestError(f"'{param}' must be an array, got {_type_name(value)}", param=param)
    return value


def _stop(value: Any, param: str, *, allow_string: bool = True) -> list[str]:
    if value is None:
        return []
    stops = [value] if allow_string and isinstance(value, str) else _list(value, param)
    if len(stops) > MAX_STOP_STRINGS:
        raise RequestError(
            f"'{param}' has {len(stops)} entries; at most {MAX_STOP_STRINGS} are allowed", param=param
        )
    for index, stop in enumerate(stops):
        if not isinstance(stop, str) or not stop:
            raise RequestError(f"'{param}[{index}]' must be a non-empty string", param=param)
    return list(stops)


def _sampling(body: dict[str, Any], max_new_tokens: int, *, temperature_high: float) -> dict[str, Any]:
    params: dict[str, Any] = {"max_new_tokens": max_new_tokens}
    temperature = _number(body, "temperature", 0.0, temperature_high)
    top_p = _number(body, "top_p", 0.0, 1.0)
    if temperature is not None:
        params["temperature"] = temperature
    if top_p is not None:
        params["top_p"] = top_p
    optional = {
        "frequency_penalty": _number(body, "frequency_penalty", -2.0, 2.0),
        "presence_penalty": _number(body, "presence_penalty", -2.0, 2.0),
        "repetition_penalty": _number(body, "repetition_penalty", 0.0, 10.0),
        "top_k": _int(body, "top_k", low=-1),
        "seed": _int(body, "seed"),
    }
    params.update({key: value for key, value in optional.items() if value is not None})
    return params


def _tool_parameters(value: Any, param: str) -> dict[str, Any]:
    if value is None:
        return {"type": "object", "properties": {}}
    return _object(value, param)


def _tool_name(value: Any, param: str) -> str:
    if not isinstance(value, str) or not _TOOL_NAME.fullmatch(value):  # `$` would allow a final "\n"
        got = repr(value[:64]) if isinstance(value, str) else _type_name(value)
        raise RequestError(
            f"'{param}' must be 1-128 letters, digits, '_', '-', '.' or ':', got {got}", param=param
        )
    return value


def _check_tools(tools: list[dict[str, Any]], param: str) -> None:
    if len(tools) > MAX_TOOLS:
        raise RequestError(f"'{param}' has {len(tools)} tools; at most {MAX_TOOLS} are allowed", param=param)
    names = [tool["name"] for tool in tools]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RequestError(f"'{param}' declares {duplicates[0]!r} more than once", param=param)


def _arguments_object(text: Any, param: str) -> dict[str, Any]:
    """An assistant turn's tool-call arguments (a JSON object, or text holding one)."""
    if isinstance(text, dict):
        return text
    if not isinstance(text, str):
        raise RequestError(f"'{param}' must be a JSON string, got {_type_name(text)}", param=param)
    try:
        value = orjson.loads(text) if text.strip() else {}
    except orjson.JSONDecodeError:
        raise RequestError(f"'{param}' is not valid JSON: {text[:80]!r}", param=param) from None
    return _object(value, param)


# --- OpenAI Chat Completions -----------------------------------------------------------------


def _openai_content(value: Any, param: str, *, allow_null: bool) -> str:
    if value is None:
        if allow_null:
            return ""
        raise RequestError(f"'{param}' is required", param=param)
    if isinstance(value, str):
        return value
    parts = _list(value, param)
    texts = []
    for index, part in enumerate(parts):
        part = _object(part, f"{param}[{index}]")
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text"):
            texts.append(_str(part, "text", param=f"{param}[{index}].text", required=True) or "")
        elif kind == "refusal":
            texts.append(_str(part, "refusal", param=f"{param}[{index}].refusal", required=True) or "")
        else:
            raise RequestError(
                f"content part type {kind!r} is not supported by this server (text only)",
                param=f"{param}[{index}].type",
            )
    return "".join(texts)


def _openai_message(message: Any, index: int) -> dict[str, Any]:
    param = f"messages[{index}]"
    message = _object(message, param)
    role = message.get("role")
    if role in ("system", "developer"):
        return {
            "role": "system",
            "content": _openai_content(message.get("content"), f"{param}.content", allow_null=False),
        }
    if role == "user":
        return {
            "role": "user",
            "content": _openai_content(message.get("content"), f"{param}.content", allow_null=False),
        }
    if role == "tool":
        tool_call_id = _str(message, "tool_call_id", param=f"{param}.tool_call_id", required=True)
        content = _openai_content(message.get("content"), f"{param}.content", allow_null=False)
        return {"role": "tool", "content": content, "tool_call_id": tool_call_id}
    if role == "assistant":
        calls = []
        for call_index, call in enumerate(_list(message.get("tool_calls") or [], f"{param}.tool_calls")):
            call_param = f"{param}.tool_calls[{call_index}]"
            call = _object(call, call_param)
            function = _object(call.get("function"), f"{call_param}.function")
            calls.append(
                {
                    "id": _str(call, "id", param=f"{call_param}.id", required=True),
                    "name": _tool_name(function.get("name"), f"{call_param}.function.name"),
                    "arguments": _arguments_object(
                        function.get("arguments", "{}"), f"{call_param}.function.arguments"
                    ),
                }
            )
        content = _openai_content(message.get("content"), f"{param}.content", allow_null=True)
        out = {"role": "assistant", "content": content, "tool_calls": calls}
        if isinstance(message.get("reasoning_content"), str) and message["reasoning_content"]:
            out["reasoning"] = message["reasoning_content"]  # for a gateway to send back
        return out
    raise RequestError(
        f"'{param}.role' must be one of system, developer, user, assistant, tool; got {role!r}",
        param=f"{param}.role",
    )


def _read_tools(
    body: dict[str, Any], read: Callable[[dict[str, Any], str], dict[str, Any]]
) -> list[dict[str, Any]]:
    """The request's ``tools``, each object read by ``read(tool, param)``, checked together."""
    tools = []
    for index, tool in enumerate(_list(body.get("tools") or [], "tools")):
        param = f"tools[{index}]"
        tools.append(read(_object(tool, param), param))
    _check_tools(tools, "tools")
    return tools


def _tool(
    declaration: dict[str, Any],
    param: str,
    schema_key: str,
    read_schema: Callable[[Any, str], dict[str, Any]],
) -> dict[str, Any]:
    """A tool as the worker takes it, from the object holding its name, description and schema."""
    return {
        "name": _tool_name(declaration.get("name"), f"{param}.name"),
        "description": _str(declaration, "description", param=f"{param}.description") or "",
        "parameters": read_schema(declaration.get(schema_key), f"{param}.{schema_key}"),
    }


def _declared(name: str, tools: list[dict[str, Any]]) -> str:
    """``name``, which ``tool_choice`` forces, when ``tools`` declares it."""
    if all(tool["name"] != name for tool in tools):
        raise RequestError(f"'tool_choice' names {name!r}, which is not in 'tools'", param="tool_choice")
    return name


def _openai_tool(tool: dict[str, Any], param: str) -> dict[str, Any]:
    if tool.get("type", "function") != "function":
        raise RequestError(
            f"'{param}.type' must be 'function', got {tool.get('type')!r}", param=f"{param}.type"
        )
    function = _object(tool.get("function"), f"{param}.function")
    return _tool(function, f"{param}.function", "parameters", _tool_parameters)


def _openai_tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    return _read_tools(body, _openai_tool)


def _openai_tool_choice(value: Any, tools: list[dict[str, Any]]) -> str:
    if value is None:
        return "auto"
    if isinstance(value, str):
        if value not in ("none", "auto", "required"):
            raise RequestError(
                f"'tool_choice' must be none, auto, required or an object; got {value!r}", param="tool_choice"
            )
        choice = value
    else:
        function = _object(_object(value, "tool_choice").get("function"), "tool_choice.function")
        choice = _declared(_tool_name(function.get("name"), "tool_choice.function.name"), tools)
    if choice in ("required",) and not tools:
        raise RequestError("'tool_choice' is 'required' but no 'tools' were given", param="tool_choice")
    return choice


def _response_format(value: Any) -> dict[str, Any] | None:
    """The requested output format for the adapter (constrained decoding is the engine's job);
    None for plain text, which needs nothing from it."""
    if value is None:
        return None
    response_format = _object(value, "response_format")
    kind = response_format.get("type")
    if kind not in RESPONSE_FORMATS:
        raise RequestError(
            f"'response_format.type' must be one of {', '.join(RESPONSE_FORMATS)}; got {kind!r}",
            param="response_format.type",
        )
    if kind == "json_schema":
        schema = _object(response_format.get("json_schema"), "response_format.json_schema")
        _str(schema, "name", param="response_format.json_schema.name", required=True)
    return None if kind == "text" else response_format


def _include_usage(body: dict[str, Any], stream: bool) -> bool:
    """``stream_options.include_usage`` (OpenAI allows ``stream_options`` on streams only)."""
    if body.get("stream_options") is None:
        return False
    if not stream:
        raise RequestError("'stream_options' is only allowed when 'stream' is true", param="stream_options")
    return _bool(_object(body["stream_options"], "stream_options"), "include_usage")


def parse_openai_chat(body: dict[str, Any], *, default_max_tokens: int) -> ChatRequest:
    model = _str(body, "model", required=True) or ""
    raw_messages = body.get("messages")
    if raw_messages is None:
        raise RequestError("'messages' is required", param="messages")
    messages = [
        _openai_message(message, index) for index, message in enumerate(_list(raw_messages, "messages"))
    ]
    if not messages:
        raise RequestError("'messages' must contain at least one message", param="messages")
    stream = _bool(body, "stream")
    include_usage = _include_usage(body, stream)
    n = _int(body, "n", low=1, high=MAX_CHOICES) or 1
    response_format = _response_format(body.get("response_format"))
    max_tokens = _int(body, "max_completion_tokens", low=1)
    if max_tokens is None:
        max_tokens = _int(body, "max_tokens", low=1)
    sampling = _sampling(body, max_tokens or default_max_tokens, temperature_high=2.0)
    logit_bias = body.get("logit_bias")
    if logit_bias is not None:
        for token, bias in _object(logit_bias, "logit_bias").items():
            if not isinstance(bias, (int, float)) or isinstance(bias, bool) or not -100 <= bias <= 100:
                raise RequestError(
                    f"'logit_bias[{token}]' must be a number between -100 and 100", param="logit_bias"
                )
        sampling["logit_bias"] = {str(k): float(v) for k, v in logit_bias.items()}
    if _bool(body, "logprobs"):
        sampling["logprobs"] = True
        top_logprobs = _int(body, "top_logprobs", low=0, high=20)
        if top_logprobs is not None:
            sampling["top_logprobs"] = top_logprobs
    elif body.get("top_logprobs") is not None:
        raise RequestError("'top_logprobs' needs 'logprobs' set to true", param="top_logprobs")
    if response_format is not None:
        sampling["response_format"] = response_format
    _bool(body, "parallel_tool_calls", default=True)
    tools = _openai_tools(body)
    return ChatRequest(
        api="openai",
        model=model,
        messages=messages,
        stream=stream,
        include_usage=include_usage,
        stop=_stop(body.get("stop"), "stop"),
        tools=tools,
        tool_choice=_openai_tool_choice(body.get("tool_choice"), tools),
        sampling=sampling,
        n=n,
    )


# --- OpenAI Completions (raw text) -----------------------------------------------------------


def parse_completions(body: dict[str, Any], *, default_max_tokens: int = 16) -> ChatRequest:
    model = _str(body, "model", required=True) or ""
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise RequestError("'prompt' must be a string (one prompt per request)", param="prompt")
    for key in ("echo",):
        if _bool(body, key):
            raise RequestError(f"'{key}' is not supported by this server", param=key)
    if _int(body, "n", low=1) not in (None, 1) or _int(body, "best_of", low=1) not in (None, 1):
        raise RequestError("'n' and 'best_of' must be 1: one completion per request", param="n")
    if body.get("suffix") is not None:
        raise RequestError("'suffix' is not supported by this server", param="suffix")
    stream = _bool(body, "stream")
    include_usage = _include_usage(body, stream)
    sampling = _sampling(body, _int(body, "max_tokens", low=1) or default_max_tokens, temperature_high=2.0)
    logprobs = _int(body, "logprobs", low=0, high=20)
    if logprobs is not None:
        sampling.update(logprobs=True, top_logprobs=logprobs)
    return ChatRequest(
        api="openai",
        model=model,
        messages=[],
        stream=stream,
        include_usage=include_usage,
        stop=_stop(body.get("stop"), "stop"),
        sampling=sampling,
        prompt=prompt,
    )


# --- Anthropic Messages ----------------------------------------------------------------------


def _anthropic_text(value: Any, param: str) -> str:
    """Text of a string or of a list of text blocks (system prompt, tool_result content)."""
    if isinstance(value, str):
        return value
    texts = []
    for index, block in enumerate(_list(value, param)):
        block = _object(block, f"{param}[{index}]")
        if block.get("type") != "text":
            raise RequestError(
                f"block type {block.get('type')!r} is not supported here (text only)",
                param=f"{param}[{index}].type",
            )
        texts.append(_str(block, "text", param=f"{param}[{index}].text", required=True) or "")
    return "".join(texts)


def _anthropic_message(message: Any, index: int) -> list[dict[str, Any]]:
    """One Anthropic message becomes one or more normalized messages (tool results split off)."""
    param = f"messages[{index}]"
    message = _object(message, param)
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise RequestError(
            f"'{param}.role' must be 'user' or 'assistant', got {role!r}", param=f"{param}.role"
        )
    content = message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content, "tool_calls": []}]
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    reasoning: dict[str, Any] = {}  # kept for a gateway to send back; no prompt replays it
    for block_index, block in enumerate(_list(content, f"{param}.content")):
        block_param = f"{param}.content[{block_index}]"
        block = _object(block, block_param)
        kind = block.get("type")
        if kind == "text":
            texts.append(_str(block, "text", param=f"{block_param}.text", required=True) or "")
        elif kind == "thinking" and role == "assistant":
            reasoning["reasoning"] = reasoning.get("reasoning", "") + str(block.get("thinking") or "")
            if isinstance(block.get("signature"), str):
                reasoning["reasoning_signature"] = block["signature"]
        elif kind == "redacted_thinking" and role == "assistant":
            reasoning.setdefault("redacted_thinking", []).append(str(block.get("data") or ""))
        elif kind == "tool_use" and role == "assistant":
            calls.append(
                {
                    "id": _str(block, "id", param=f"{block_param}.id", required=True),
                    "name": _tool_name(block.get("name"), f"{block_param}.name"),
                    "arguments": _object(block.get("input", {}), f"{block_param}.input"),
                }
            )
        elif kind == "tool_result" and role == "user":
            results.append(
                {
                    "role": "tool",
                    "tool_call_id": _str(
                        block, "tool_use_id", param=f"{block_param}.tool_use_id", required=True
                    ),
                    "content": _anthropic_text(block.get("content", ""), f"{block_param}.content"),
                }
            )
        else:
            raise RequestError(
                f"content block type {kind!r} is not supported in a {role} message by this server",
                param=f"{block_param}.type",
            )
    normalized = list(results)
    if texts or calls or reasoning or not results:
        normalized.append({"role": role, "content": "".join(texts), "tool_calls": calls, **reasoning})
    return normalized


def _anthropic_tool(tool: dict[str, Any], param: str) -> dict[str, Any]:
    if tool.get("type", "custom") != "custom":
        raise RequestError(
            f"tool type {tool.get('type')!r} is not supported by this server (custom tools only)",
            param=f"{param}.type",
        )
    return _tool(tool, param, "input_schema", _object)


def _anthropic_tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    return _read_tools(body, _anthropic_tool)


def _anthropic_tool_choice(value: Any, tools: list[dict[str, Any]]) -> str:
    if value is None:
        return "auto"
    choice = _object(value, "tool_choice")
    kind = choice.get("type")
    if kind == "auto":
        return "auto"
    if kind == "none":
        return "none"
    if kind == "any":
        if not tools:
            raise RequestError("'tool_choice' is 'any' but no 'tools' were given", param="tool_choice")
        return "required"
    if kind == "tool":
        return _declared(_tool_name(choice.get("name"), "tool_choice.name"), tools)
    raise RequestError(
        f"'tool_choice.type' must be auto, any, tool or none; got {kind!r}", param="tool_choice.type"
    )


def _anthropic_thinking(value: Any, max_tokens: int) -> bool:
    if value is None:
        return False
    thinking = _object(value, "thinking")
    kind = thinking.get("type")
    if kind == "disabled":
        return False
    if kind == "adaptive":
        return True
    if kind != "enabled":
        raise RequestError(
            f"'thinking.type' must be enabled, disabled or adaptive; got {kind!r}", param="thinking.type"
        )
    budget = _int(thinking, "budget_tokens", low=1024, param="thinking.budget_tokens")
    if budget is None:
        raise RequestError(
            "'thinking.budget_tokens' is required when thinking is enabled", param="thinking.budget_tokens"
        )
    if budget >= max_tokens:
        raise RequestError(
            f"'max_tokens' ({max_tokens}) must be greater than 'thinking.budget_tokens' ({budget})",
            param="max_tokens",
        )
    return True


def parse_anthropic_messages(body: dict[str, Any]) -> ChatRequest:
    model = _str(body, "model", required=True) or ""
    max_tokens = _int(body, "max_tokens", low=1)
    if max_tokens is None:
        raise RequestError("'max_tokens' is required", param="max_tokens")
    raw_messages = body.get("messages")
    if raw_messages is None:
        raise RequestError("'messages' is required", param="messages")
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system is not None:
        messages.append({"role": "system", "content": _anthropic_text(system, "system")})
    raw_list = _list(raw_messages, "messages")
    if not raw_list:
        raise RequestError("'messages' must contain at least one message", param="messages")
    for index, message in enumerate(raw_list):
        messages += _anthropic_message(message, index)
    tools = _anthropic_tools(body)
    return ChatRequest(
        api="anthropic",
        model=model,
        messages=messages,
        stream=_bool(body, "stream"),
        # Anthropic streams always report usage (message_start / message_delta).
        include_usage=True,
        stop=_stop(body.get("stop_sequences"), "stop_sequences", allow_string=False),
        tools=tools,
        tool_choice=_anthropic_tool_choice(body.get("tool_choice"), tools),
        thinking=_anthropic_thinking(body.get("thinking"), max_tokens),
        sampling=_sampling(body, max_tokens, temperature_high=1.0),
    )
