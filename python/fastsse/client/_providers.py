"""Per provider: endpoint, authentication headers, and the unified request as its JSON body."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from ..errors import UsageError
from ._request import ChatRequest, HTTPRequest, ImagePart, Message, TextPart, Tool, parse_arguments

__all__ = ["PROVIDERS", "ProviderSpec", "build_request", "error_details"]

# Anthropic requires max_tokens; the unified shape leaves it optional.
ANTHROPIC_DEFAULT_MAX_TOKENS = 4096
ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    default_base_url: str  # may hold "{region}" (bedrock)
    api_key_env: tuple[str, ...]  # read when no api_key is given
    auth: Callable[[str], dict[str, str]]
    build: Callable[[ChatRequest], tuple[str, dict[str, Any]]]  # -> (path, JSON body)
    accept: str | None = None


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != [] and value != {}:
        body[key] = value


def _split_system(messages: list[Message]) -> tuple[list[str], list[Message]]:
    system = [m.text() for m in messages if m.role == "system"]
    return system, [m for m in messages if m.role != "system"]


def _b64(data: bytes | None) -> str:
    return base64.b64encode(data or b"").decode("ascii")


def _data_url(image: ImagePart) -> str:
    return image.url or f"data:{image.media_type};base64,{_b64(image.data)}"


def _no_image_urls(provider: str, image: ImagePart) -> None:
    if image.url is not None:
        raise UsageError(f"{provider} takes images as bytes, not URLs: pass ImagePart(data=, media_type=)")


@dataclass(frozen=True)
class ToolChoiceForm:
    """How one provider writes each ``tool_choice`` mode; None: the provider has no such mode.
    ``OMIT`` means "send nothing" (the provider's default is that mode)."""

    auto: Any
    none: Any
    required: Any
    named: Callable[[str], Any] | None


OMIT: Any = object()

TOOL_CHOICES: dict[str, ToolChoiceForm] = {
    "openai": ToolChoiceForm(
        "auto", "none", "required", lambda n: {"type": "function", "function": {"name": n}}
    ),
    "openai-responses": ToolChoiceForm("auto", "none", "required", lambda n: {"type": "function", "name": n}),
    "anthropic": ToolChoiceForm(
        {"type": "auto"}, {"type": "none"}, {"type": "any"}, lambda n: {"type": "tool", "name": n}
    ),
    "gemini": ToolChoiceForm(
        {"mode": "AUTO"},
        {"mode": "NONE"},
        {"mode": "ANY"},
        lambda n: {"mode": "ANY", "allowedFunctionNames": [n]},
    ),
    "bedrock": ToolChoiceForm({"auto": {}}, None, {"any": {}}, lambda n: {"tool": {"name": n}}),
    "ollama": ToolChoiceForm(OMIT, None, None, None),
}


def _tool_choice(provider: str, request: ChatRequest) -> Any:
    """The provider's form of ``request.tool_choice``, or ``OMIT``."""
    chosen = request.tool_choice_mode()
    if chosen is None:
        return OMIT
    mode, name = chosen
    form = TOOL_CHOICES[provider]
    value = form.named(name) if form.named is not None and name is not None else getattr(form, mode, None)
    if value is None:
        raise UsageError(f"{provider} has no tool_choice {mode!r}")
    return value


# --- OpenAI Chat Completions (and every OpenAI-compatible server) ------------------------------


def _openai_tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "parameters": dict(tool.parameters)}
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def _openai_content(message: Message) -> Any:
    if isinstance(message.content, str):
        return message.content
    return [
        {"type": "text", "text": part.text}
        if isinstance(part, TextPart)
        else {"type": "image_url", "image_url": {"url": _data_url(part)}}
        for part in message.content
    ]


def _openai_message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": _openai_content(message)}
    if message.role == "assistant" and message.reasoning:
        # OpenAI-compatible servers that stream reasoning (DeepSeek, vLLM) want it back, and
        # DeepSeek requires it on turns with tool calls; OpenAI itself streams none.
        out["reasoning_content"] = message.reasoning
    if message.role == "assistant" and message.tool_calls:
        out["content"] = out["content"] or None
        out["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in message.tool_calls
        ]
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id
    return out


def _openai_body(request: ChatRequest) -> tuple[str, dict[str, Any]]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_openai_message(m) for m in request.normalized_messages()],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    _put(body, "max_tokens", request.max_tokens)
    _put(body, "temperature", request.temperature)
    _put(body, "stop", request.stop_list())
    _put(body, "tools", [_openai_tool(t) for t in request.normalized_tools()])
    if (choice := _tool_choice("openai", request)) is not OMIT:
        body["tool_choice"] = choice
    return "/chat/completions", body


# --- OpenAI Responses --------------------------------------------------------------------------


def _responses_content(message: Message) -> Any:
    if isinstance(message.content, str):
        return message.content
    text_type = "output_text" if message.role == "assistant" else "input_text"
    return [
        {"type": text_type, "text": part.text}
        if isinstance(part, TextPart)
        else {"type": "input_image", "image_url": _data_url(part)}
        for part in message.content
    ]


def _responses_input(messages: list[Message]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            items.append(
                {"type": "function_call_output", "call_id": message.tool_call_id, "output": message.content}
            )
            continue
        if message.content or not message.tool_calls:
            items.append({"role": message.role, "content": _responses_content(message)})
        for call in message.tool_calls:
            items.append(
                {"type": "function_call", "call_id": call.id, "name": call.name, "arguments": call.arguments}
            )
    return items


def _responses_body(request: ChatRequest) -> tuple[str, dict[str, Any]]:
    if request.stop_list():
        raise UsageError("the OpenAI Responses API has no stop sequences; leave `stop` empty")
    tools = []
    for tool in request.normalized_tools():
        spec: dict[str, Any] = {"type": "function", "name": tool.name, "parameters": dict(tool.parameters)}
        if tool.description:
            spec["description"] = tool.description
        tools.append(spec)
    body: dict[str, Any] = {
        "model": request.model,
        "input": _responses_input(request.normalized_messages()),
        "stream": True,
    }
    _put(body, "max_output_tokens", request.max_tokens)
    _put(body, "temperature", request.temperature)
    _put(body, "tools", tools)
    if (choice := _tool_choice("openai-responses", request)) is not OMIT:
        body["tool_choice"] = choice
    return "/responses", body


# --- Anthropic Messages ------------------------------------------------------------------------


def _anthropic_part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if part.url is not None:
        return {"type": "image", "source": {"type": "url", "url": part.url}}
    source = {"type": "base64", "media_type": part.media_type, "data": _b64(part.data)}
    return {"type": "image", "source": source}


def _anthropic_blocks(message: Message) -> list[dict[str, Any]]:
    """Thinking first (with its signature: Anthropic verifies it and, with thinking on, wants
    it before the tool_use of the turn), then redacted thinking, content parts, tool calls."""
    blocks: list[dict[str, Any]] = []
    if message.role == "assistant":
        if message.reasoning_signature:
            blocks.append(
                {"type": "thinking", "thinking": message.reasoning, "signature": message.reasoning_signature}
            )
        blocks.extend({"type": "redacted_thinking", "data": data} for data in message.redacted_thinking)
    blocks.extend(_anthropic_part(part) for part in message.parts())
    blocks.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": parse_arguments(call)}
        for call in message.tool_calls
    )
    return blocks


def _anthropic_messages(messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            block = {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.text()}
            previous = out[-1] if out else None
            if previous is not None and previous["role"] == "user" and isinstance(previous["content"], list):
                previous["content"].append(block)  # results of parallel calls share one turn
            else:
                out.append({"role": "user", "content": [block]})
            continue
        blocks = _anthropic_blocks(message)
        if len(blocks) == 1 and blocks[0]["type"] == "text":
            out.append({"role": message.role, "content": blocks[0]["text"]})
        else:
            out.append({"role": message.role, "content": blocks or message.text()})
    return out


def _anthropic_body(request: ChatRequest) -> tuple[str, dict[str, Any]]:
    system, messages = _split_system(request.normalized_messages())
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens if request.max_tokens is not None else ANTHROPIC_DEFAULT_MAX_TOKENS,
        "messages": _anthropic_messages(messages),
        "stream": True,
    }
    _put(body, "system", "\n\n".join(system) if system else None)
    _put(body, "temperature", request.temperature)
    _put(body, "stop_sequences", request.stop_list())
    tools = []
    for tool in request.normalized_tools():
        spec: dict[str, Any] = {"name": tool.name, "input_schema": dict(tool.parameters)}
        if tool.description:
            spec["description"] = tool.description
        tools.append(spec)
    _put(body, "tools", tools)
    if (choice := _tool_choice("anthropic", request)) is not OMIT:
        body["tool_choice"] = choice
    return "/v1/messages", body


def _anthropic_auth(key: str) -> dict[str, str]:
    return {"x-api-key": key}


# --- Gemini ------------------------------------------------------------------------------------


def _gemini_part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"text": part.text}
    if part.url is not None:
        return {"fileData": {"mimeType": part.media_type, "fileUri": part.url}}
    return {"inlineData": {"mimeType": part.media_type, "data": _b64(part.data)}}


def _gemini_contents(messages: list[Message]) -> list[dict[str, Any]]:
    names = {call.id: call.name for m in messages for call in m.tool_calls}
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            name = message.name or names.get(message.tool_call_id or "")
            if not name:
                raise UsageError("Gemini needs the function name of a tool result: set Message.name")
            part = {"functionResponse": {"name": name, "response": {"content": message.text()}}}
            if out and out[-1]["role"] == "user" and "functionResponse" in out[-1]["parts"][0]:
                out[-1]["parts"].append(part)
            else:
                out.append({"role": "user", "parts": [part]})
            continue
        parts = [_gemini_part(part) for part in message.parts()]
        calls = [{"functionCall": {"name": c.name, "args": parse_arguments(c)}} for c in message.tool_calls]
        if message.role == "assistant" and message.reasoning_signature:
            # Back on the part it came with: the first function call (Gemini 3 rejects a turn
            # whose first call lacks it), else the last part. Thought text is not sent back.
            if not calls and not parts:
                parts.append({"text": ""})
            signed: dict[str, Any] = calls[0] if calls else parts[-1]
            signed["thoughtSignature"] = message.reasoning_signature
        out.append({"role": "model" if message.role == "assistant" else "user", "parts": parts + calls})
    return out


def _gemini_path(model: str) -> str:
    model = model.removeprefix("models/")
    if not model:
        raise UsageError("gemini needs a model name, e.g. model='gemini-2.5-flash'")
    return f"/models/{quote(model, safe='')}:streamGenerateContent?alt=sse"


def _gemini_body(request: ChatRequest) -> tuple[str, dict[str, Any]]:
    system, messages = _split_system(request.normalized_messages())
    body: dict[str, Any] = {"contents": _gemini_contents(messages)}
    if system:
        body["systemInstruction"] = {"parts": [{"text": text} for text in system]}
    config: dict[str, Any] = {}
    _put(config, "maxOutputTokens", request.max_tokens)
    _put(config, "temperature", request.temperature)
    _put(config, "stopSequences", request.stop_list())
    _put(body, "generationConfig", config)
    declarations = []
    for tool in request.normalized_tools():
        spec: dict[str, Any] = {"name": tool.name, "parameters": dict(tool.parameters)}
        if tool.description:
            spec["description"] = tool.description
        declarations.append(spec)
    if declarations:
        body["tools"] = [{"functionDeclarations": declarations}]
    if (choice := _tool_choice("gemini", request)) is not OMIT:
        body["toolConfig"] = {"functionCallingConfig": choice}
    return _gemini_path(request.model), body


def _gemini_auth(key: str) -> dict[str, str]:
    return {"x-goog-api-key": key}


# --- Ollama ------------------------------------------------------------------------------------


def _ollama_message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.text()}
    images = [part for part in message.parts() if isinstance(part, ImagePart)]
    for image in images:
        _no_image_urls("ollama", image)
    _put(out, "images", [_b64(image.data) for image in images])
    if message.role == "assistant" and message.reasoning:
        out["thinking"] = message.reasoning
    if message.tool_calls:
        out["tool_calls"] = [
            {"function": {"name": call.name, "arguments": parse_arguments(call)}}
            for call in message.tool_calls
        ]
    if message.role == "tool" and message.name:
        out["tool_name"] = message.name
    return out


def _ollama_body(request: ChatRequest) -> tuple[str, dict[str, Any]]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_ollama_message(m) for m in request.normalized_messages()],
        "stream": True,
    }
    options: dict[str, Any] = {}
    _put(options, "num_predict", request.max_tokens)
    _put(options, "temperature", request.temperature)
    _put(options, "stop", request.stop_list())
    _put(body, "options", options)
    _put(body, "tools", [_openai_tool(t) for t in request.normalized_tools()])
    _tool_choice("ollama", request)  # only "auto" (the default) exists
    return "/api/chat", body


# --- Bedrock ConverseStream --------------------------------------------------------------------


BEDROCK_IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}


def _bedrock_part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"text": part.text}
    image_format = BEDROCK_IMAGE_FORMATS.get(part.media_type)
    if image_format is None:
        raise UsageError(f"bedrock takes png, jpeg, gif or webp images, not {part.media_type!r}")
    if part.url is not None:
        if not part.url.startswith("s3://"):
            raise UsageError("bedrock reads images from bytes or s3:// URLs only")
        return {"image": {"format": image_format, "source": {"s3Location": {"uri": part.url}}}}
    return {"image": {"format": image_format, "source": {"bytes": _b64(part.data)}}}


def _bedrock_messages(messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            block = {"toolResult": {"toolUseId": message.tool_call_id, "content": [{"text": message.text()}]}}
            if out and out[-1]["role"] == "user" and "toolResult" in out[-1]["content"][0]:
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
            continue
        content: list[dict[str, Any]] = []
        if message.role == "assistant":
            # Reasoning goes back unmodified, with its signature, before the turn's text and
            # tool use; reasoning without a signature cannot be verified and is left out.
            if message.reasoning_signature:
                reasoning = {"text": message.reasoning, "signature": message.reasoning_signature}
                content.append({"reasoningContent": {"reasoningText": reasoning}})
            content.extend({"reasoningContent": {"redactedContent": d}} for d in message.redacted_thinking)
        content.extend(_bedrock_part(part) for part in message.parts())
        content.extend(
            {"toolUse": {"toolUseId": c.id, "name": c.name, "input": parse_arguments(c)}}
            for c in message.tool_calls
        )
        out.append({"role": message.role, "content": content})
    return out


def _bedrock_body(request: ChatRequest) -> tuple[str, dict[str, Any]]:
    if not request.model:
        raise UsageError("bedrock needs a model id, e.g. model='us.amazon.nova-micro-v1:0'")
    system, messages = _split_system(request.normalized_messages())
    body: dict[str, Any] = {"messages": _bedrock_messages(messages)}
    _put(body, "system", [{"text": text} for text in system])
    config: dict[str, Any] = {}
    _put(config, "maxTokens", request.max_tokens)
    _put(config, "temperature", request.temperature)
    _put(config, "stopSequences", request.stop_list())
    _put(body, "inferenceConfig", config)
    tools = []
    for tool in request.normalized_tools():
        spec: dict[str, Any] = {"name": tool.name, "inputSchema": {"json": dict(tool.parameters)}}
        if tool.description:
            spec["description"] = tool.description
        tools.append({"toolSpec": spec})
    if tools:
        body["toolConfig"] = {"tools": tools}
        if (choice := _tool_choice("bedrock", request)) is not OMIT:
            body["toolConfig"]["toolChoice"] = choice
    # botocore percent-encodes the model id in the path (":" -> %3A); SigV4 signs that form.
    return f"/model/{quote(request.model, safe='')}/converse-stream", body


# --- Text Generation Inference -----------------------------------------------------------------


def _tgi_body(request: ChatRequest) -> tuple[str, dict[str, Any]]:
    if request.prompt is None:
        raise UsageError(
            "tgi's /generate_stream takes raw text: pass prompt= (already chat-templated), or use "
            "provider 'openai' with TGI's OpenAI-compatible /v1/chat/completions for messages"
        )
    if request.tools or request.tool_choice is not None:
        raise UsageError("tgi's /generate_stream has no tools; use provider 'openai' with TGI's /v1 API")
    parameters: dict[str, Any] = {"details": True}
    _put(parameters, "max_new_tokens", request.max_tokens)
    _put(parameters, "temperature", request.temperature)
    _put(parameters, "stop", request.stop_list())
    return "/generate_stream", {"inputs": request.prompt, "parameters": parameters}


PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec(
            "openai",
            "https://api.openai.com/v1",
            ("OPENAI_API_KEY",),
            _bearer,
            _openai_body,
            "text/event-stream",
        ),
        ProviderSpec(
            "openai-responses",
            "https://api.openai.com/v1",
            ("OPENAI_API_KEY",),
            _bearer,
            _responses_body,
            "text/event-stream",
        ),
        ProviderSpec(
            "anthropic",
            "https://api.anthropic.com",
            ("ANTHROPIC_API_KEY",),
            _anthropic_auth,
            _anthropic_body,
            "text/event-stream",
        ),
        ProviderSpec(
            "gemini",
            "https://generativelanguage.googleapis.com/v1beta",
            ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
            _gemini_auth,
            _gemini_body,
            "text/event-stream",
        ),
        ProviderSpec("ollama", "http://127.0.0.1:11434", (), _bearer, _ollama_body),
        ProviderSpec(
            "bedrock",
            "https://bedrock-runtime.{region}.amazonaws.com",
            ("AWS_BEARER_TOKEN_BEDROCK",),
            _bearer,
            _bedrock_body,
        ),
        ProviderSpec("tgi", "http://127.0.0.1:8080", (), _bearer, _tgi_body, "text/event-stream"),
    )
}


def provider_spec(provider: str) -> ProviderSpec:
    try:
        return PROVIDERS[provider]
    except KeyError:
        raise UsageError(
            f"unknown provider {provider!r}; expected one of {', '.join(sorted(PROVIDERS))}"
        ) from None


def build_request(
    provider: str,
    request: ChatRequest,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    region: str | None = None,
) -> HTTPRequest:
    """The streaming HTTP request for ``provider``: method, URL, headers and JSON body.

    ``base_url`` defaults to the provider's public endpoint (OpenAI's includes ``/v1``, like
    the SDK's). ``api_key`` defaults to the provider's usual environment variable; without one
    no auth header is sent (local servers, pre-signed requests). ``headers`` come last and win.
    ``region`` (or ``AWS_REGION`` / ``AWS_DEFAULT_REGION``) picks Bedrock's endpoint.
    """
    spec = provider_spec(provider)
    path, body = spec.build(request)
    _merge_into(body, request.extra_body)
    if base_url is None:
        base_url = spec.default_base_url
        if "{region}" in base_url:
            region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            if not region:
                raise UsageError("bedrock needs region= (or AWS_REGION), or a base_url")
            base_url = base_url.format(region=region)
    out = {"content-type": "application/json"}
    if spec.accept:
        out["accept"] = spec.accept
    if provider == "anthropic":
        out["anthropic-version"] = ANTHROPIC_VERSION
    if api_key is None:
        api_key = next((os.environ[name] for name in spec.api_key_env if os.environ.get(name)), None)
    if api_key:
        out.update(spec.auth(api_key))
    for name, value in (headers or {}).items():
        out[name.lower()] = value
    return HTTPRequest("POST", base_url.rstrip("/") + path, out, body)


def _merge_into(body: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """``extra`` into ``body``: objects on both sides merge key by key, anything else replaces
    (so ``generationConfig.thinkingConfig`` can join the ``generationConfig`` built here)."""
    for key, value in extra.items():
        old = body.get(key)
        if isinstance(old, dict) and isinstance(value, Mapping):
            merged = dict(old)
            _merge_into(merged, value)
            body[key] = merged
        else:
            body[key] = value


def error_details(body: bytes) -> tuple[str | None, str]:
    """``(code, message)`` from an error response body, in whichever provider's shape it is."""
    text = body.decode("utf-8", "replace")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, text.strip()[:500] or "(empty body)"
    if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict):
        parsed = parsed[0]  # Gemini sometimes wraps the error in a list
    if not isinstance(parsed, dict):
        return None, text.strip()[:500]
    error = parsed.get("error", parsed)
    if isinstance(error, str):  # ollama, tgi: {"error": "...", "error_type": "..."}
        return _str_or_none(parsed.get("error_type") or parsed.get("type")), error
    if not isinstance(error, dict):
        return None, text.strip()[:500]
    # openai {"error": {message, type, code}}; anthropic {"type":"error","error":{type,message}};
    # gemini {"error": {code, message, status}}; bedrock {"message": ...} (+ x-amzn-errortype)
    code = error.get("status") or error.get("code") or error.get("type") or parsed.get("__type")
    message = error.get("message") or error.get("Message") or text.strip()[:500]
    return _str_or_none(code), str(message)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
