"""The unified request shape, and the HTTP request built from it (no HTTP library needed)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from ..errors import UsageError

__all__ = [
    "ChatRequest",
    "ContentPart",
    "HTTPRequest",
    "ImagePart",
    "Message",
    "TextPart",
    "Tool",
    "ToolCallSpec",
    "ToolChoice",
]

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class TextPart:
    """A piece of text in a message's content."""

    text: str


@dataclass(frozen=True)
class ImagePart:
    """An image in a message's content: its bytes (``data`` + ``media_type``) or a ``url``.

    Bytes work with every provider that takes images. A ``url`` (``https://`` or
    ``gs://`` / ``s3://`` for the clouds that read them) is passed as a reference where the
    provider accepts one (OpenAI, Anthropic, Gemini ``fileData``, Bedrock ``s3Location``); a
    ``data:`` URL is turned into bytes.
    """

    data: bytes | None = None
    media_type: str = "image/png"
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise UsageError("an ImagePart takes either data= (bytes) or url=, not both or neither")
        if self.url is not None and self.url.startswith("data:"):
            media_type, data = _parse_data_url(self.url)
            object.__setattr__(self, "data", data)
            object.__setattr__(self, "media_type", media_type)
            object.__setattr__(self, "url", None)


ContentPart = TextPart | ImagePart

# None: the provider's default; "auto" / "none" / "required" (call some tool); or a tool's
# name as {"name": ...} (OpenAI's {"type": "function", "function": {"name": ...}} works too).
ToolChoice = Literal["auto", "none", "required"] | Mapping[str, Any]


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
    """One conversation turn. ``content`` is text, or a sequence of ``TextPart`` /
    ``ImagePart`` (images in user turns).

    ``assistant`` turns may carry ``tool_calls``; a ``tool`` turn answers one of them by
    ``tool_call_id`` (and ``name``, which Gemini and Ollama need). An assistant turn also
    carries what the model reasoned, so that it can be sent back: ``reasoning`` (text),
    ``reasoning_signature`` (Anthropic / Bedrock thinking signature, Gemini
    ``thoughtSignature``) and ``redacted_thinking`` (opaque redacted-thinking data).
    ``Message.from_result(result)`` fills all three from a stream's ``GenerationResult``.
    """

    role: Role
    content: str | Sequence[ContentPart] = ""
    tool_calls: Sequence[ToolCallSpec] = ()
    tool_call_id: str | None = None
    name: str | None = None
    reasoning: str = ""
    reasoning_signature: str | None = None
    redacted_thinking: Sequence[str] = ()

    @classmethod
    def from_result(cls, result: Any) -> Message:
        """The assistant turn a stream produced (a ``fastsse.GenerationResult``), ready to be
        the next request's history: text, tool calls, reasoning, its signature and redacted reasoning."""
        return cls(
            "assistant",
            result.text,
            tuple(as_tool_call(call) for call in result.tool_calls),
            reasoning=result.reasoning,
            reasoning_signature=result.reasoning_signature,
            redacted_thinking=tuple(result.redacted_thinking),
        )

    def parts(self) -> list[ContentPart]:
        """The content as parts (a text content is one ``TextPart``, none when empty)."""
        if isinstance(self.content, str):
            return [TextPart(self.content)] if self.content else []
        return list(self.content)

    def text(self) -> str:
        """The text of the content (its text parts joined)."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content if isinstance(part, TextPart))

    def has_images(self) -> bool:
        return not isinstance(self.content, str) and any(isinstance(p, ImagePart) for p in self.content)


@dataclass(frozen=True)
class ChatRequest:
    """What to ask, in one shape for every provider (converted by ``fastsse.client``).

    ``stop`` lists stop strings; ``extra_body`` is merged last into the JSON body the provider
    receives (for fields this shape does not cover, such as Anthropic's ``thinking``): a key
    whose old and new values are both objects is merged key by key, any other key is replaced.
    ``prompt`` is for ``tgi``, whose ``/generate_stream`` takes raw (already chat-templated)
    text instead of messages. ``tool_choice``: ``"auto"``, ``"none"``, ``"required"`` or
    ``{"name": tool}``, translated per provider (see ``docs/multi-turn.md``).
    """

    model: str = ""
    messages: Sequence[Message | Mapping[str, Any]] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    tools: Sequence[Tool | Mapping[str, Any]] = ()
    stop: Sequence[str] | str = ()
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    prompt: str | None = None
    tool_choice: ToolChoice | None = None

    def normalized_messages(self) -> list[Message]:
        return [as_message(message) for message in self.messages]

    def normalized_tools(self) -> list[Tool]:
        return [as_tool(tool) for tool in self.tools]

    def stop_list(self) -> list[str]:
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    def tool_choice_mode(self) -> tuple[str, str | None] | None:
        """``tool_choice`` as (mode, tool name): mode is auto, none, required or named."""
        choice = self.tool_choice
        if choice is None:
            return None
        if not self.tools:
            raise UsageError("tool_choice needs tools")
        if isinstance(choice, str):
            if choice not in ("auto", "none", "required"):
                raise UsageError(
                    f"tool_choice {choice!r}: expected 'auto', 'none', 'required' or {{'name': tool}}"
                )
            return choice, None
        spec = choice.get("function", choice)
        name = spec.get("name") if isinstance(spec, Mapping) else None
        if not isinstance(name, str) or not name:
            raise UsageError(f"tool_choice {dict(choice)!r} names no tool: use {{'name': tool}}")
        if name not in {tool.name for tool in self.normalized_tools()}:
            raise UsageError(f"tool_choice names {name!r}, which is not one of the request's tools")
        return "named", name


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


def _parse_data_url(url: str) -> tuple[str, bytes]:
    """``data:image/png;base64,...`` -> (media type, bytes)."""
    header, _, payload = url.partition(",")
    media_type = header[len("data:") :].removesuffix(";base64") or "application/octet-stream"
    if not header.endswith(";base64"):
        raise UsageError("only base64 data: URLs are supported for images")
    try:
        return media_type, base64.b64decode(payload, validate=True)
    except binascii.Error as exc:
        raise UsageError(f"the image data: URL is not valid base64: {exc}") from None


def as_part(part: ContentPart | Mapping[str, Any]) -> ContentPart:
    """A part, or a dict in OpenAI's shape: ``{"type": "text", "text"}`` or
    ``{"type": "image_url", "image_url": {"url"}}``."""
    if isinstance(part, (TextPart, ImagePart)):
        return part
    kind = part.get("type")
    if kind in ("text", "input_text"):
        return TextPart(str(part["text"]))
    if kind in ("image_url", "input_image"):
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        if not isinstance(url, str):
            raise UsageError(f"an image part needs a URL: {dict(part)!r}")
        return ImagePart(url=url)
    raise UsageError(f"unsupported content part type {kind!r} (text and image_url are supported)")


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
        if not isinstance(content, Sequence):
            raise UsageError(f"message content must be text or a list of parts, got {type(content).__name__}")
        content = tuple(as_part(part) for part in content)
    reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
    return Message(
        "system" if role == "developer" else role,
        content,
        tuple(as_tool_call(call) for call in message.get("tool_calls") or ()),
        message.get("tool_call_id"),
        message.get("name"),
        reasoning if isinstance(reasoning, str) else "",
        message.get("reasoning_signature"),
        tuple(message.get("redacted_thinking") or ()),
    )


def parse_arguments(call: ToolCallSpec) -> Any:
    """The arguments as a JSON value, for providers that want an object rather than text."""
    try:
        return orjson.loads(call.arguments or "{}")
    except orjson.JSONDecodeError as exc:
        raise UsageError(
            f"tool call {call.id or call.name!r} has arguments that are not JSON: {exc}"
        ) from None
