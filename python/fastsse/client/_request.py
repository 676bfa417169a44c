"""The unified request shape, and the HTTP request built from it (no HTTP library needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from ..errors import UsageError

__all__ = ["ChatRequest", "HTTPRequest", "Message", "Tool", "ToolCallSpec"]

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class Tool:
    """A function the model may call: ``parameters`` is its JSON Schema (an object schema)."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True)
class ToolCallSpec:
    """A tool call the assistant made earlier in the conversation; ``arguments`` is JSON text."""

    id: str
    name: str
    arguments: str = "{}"


@dataclass(frozen=True)
class Message:
    """One conversation turn. Text content only (multimodal parts: use ``extra_body``).

    ``assistant`` turns may carry ``tool_calls``; a ``tool`` turn answers one of them by
    ``tool_call_id`` (and ``name``, which Gemini and Ollama need).
    """

    role: Role
    content: str = ""
    tool_calls: Sequence[ToolCallSpec] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    """What to ask, in one shape for every provider (converted by ``fastsse.client``).

    ``stop`` lists stop strings; ``extra_body`` is merged last, key by key, into the JSON body
    the provider receives (for fields this shape does not cover). ``prompt`` is for ``tgi``,
    whose ``/generate_stream`` takes raw (already chat-templated) text instead of messages.
    """

    model: str = ""
    messages: Sequence[Message | Mapping[str, Any]] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    tools: Sequence[Tool | Mapping[str, Any]] = ()
    stop: Sequence[str] | str = ()
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    prompt: str | None = None

    def normalized_messages(self) -> list[Message]:
        return [as_message(message) for message in self.messages]

    def normalized_tools(self) -> list[Tool]:
        return [as_tool(tool) for tool in self.tools]

    def stop_list(self) -> list[str]:
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


@dataclass(frozen=True)
class HTTPRequest:
    """A request ready to send: ``body`` is the JSON body as a dict, ``content()`` its bytes."""

    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any]

    def content(self) -> bytes:
        return orjson.dumps(self.body)


def as_tool(tool: Tool | Mapping[str, Any]) -> Tool:
    """A ``Tool``, or a dict in OpenAI's shape (``{"type": "function", "function": {...}}``)
    or flat (``{"name", "description", "parameters"}``)."""
    if isinstance(tool, Tool):
        return tool
    spec = tool.get("function", tool)
    if not isinstance(spec, Mapping) or not spec.get("name"):
        raise UsageError(f"a tool needs a name: {dict(tool)!r}")
    parameters = spec.get("parameters") or {"type": "object", "properties": {}}
    return Tool(str(spec["name"]), str(spec.get("description") or ""), parameters)


def as_tool_call(call: Any) -> ToolCallSpec:
    """A ``ToolCallSpec``, an object with ``id``/``name``/``arguments`` (``fastsse.ToolCall``),
    or a dict in OpenAI's shape or flat."""
    if isinstance(call, ToolCallSpec):
        return call
    if isinstance(call, Mapping):
        spec = call.get("function", call)
        return ToolCallSpec(str(call.get("id") or ""), str(spec["name"]), str(spec.get("arguments") or "{}"))
    return ToolCallSpec(str(call.id or ""), str(call.name), str(call.arguments or "{}"))


def as_message(message: Message | Mapping[str, Any]) -> Message:
    if isinstance(message, Message):
        return message
    role = message.get("role")
    if role not in ("system", "developer", "user", "assistant", "tool"):
        raise UsageError(f"unknown message role {role!r} (system, user, assistant or tool)")
    content = message.get("content")
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise UsageError(
            f"message content must be text, got {type(content).__name__} (multimodal parts: use extra_body)"
        )
    return Message(
        "system" if role == "developer" else role,
        content,
        tuple(as_tool_call(call) for call in message.get("tool_calls") or ()),
        message.get("tool_call_id"),
        message.get("name"),
    )


def parse_arguments(call: ToolCallSpec) -> Any:
    """The arguments as a JSON value, for providers that want an object rather than text."""
    try:
        return orjson.loads(call.arguments or "{}")
    except orjson.JSONDecodeError as exc:
        raise UsageError(
            f"tool call {call.id or call.name!r} has arguments that are not JSON: {exc}"
        ) from None
