"""fastsse.client in a multi-turn tool loop with thinking, on every provider.

Each provider is a fake upstream on 127.0.0.1 (uvicorn) that checks every request the way
the real API does for what a tool loop sends back, and answers with a real capture:

* anthropic: with ``thinking`` on, the assistant turn that made the tool call starts with the
  ``thinking`` block, its text and ``signature`` unchanged (Anthropic verifies it), before
  ``tool_use``; ``tool_choice`` may not force a tool; tool results come first in the next turn.
* bedrock (Claude through ConverseStream): the same, as ``reasoningContent.reasoningText``.
* gemini: the first ``functionCall`` part of the model turn carries the ``thoughtSignature`` it
  came with (Gemini 3 answers 400 without it); each ``functionResponse`` names its call.
* openai (a DeepSeek-style server that streams ``reasoning_content``): the assistant turn with
  tool calls carries its ``reasoning_content`` back; each tool message answers a call id.
* ollama: tool calls go back with object arguments, results with ``tool_name``.

Every provider also gets the user's image in its own shape and ``tool_choice="auto"`` in its own
form. What a check expects is read from the capture itself (not from fastsse). A loop that
drops the reasoning gets the provider's 400, so the checks are shown to bite.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import fastsse
import pytest
from fastsse.client import (
    AsyncClient,
    ChatRequest,
    Client,
    ImagePart,
    Message,
    TextPart,
    Tool,
    ToolCallSpec,
    build_request,
)
from fastsse.client._providers import OMIT
from fastsse.errors import ProviderHTTPError, UsageError
from provider_fixtures import wire_bytes
from serving import running_server
from support.fake_upstream import FakeUpstream, request_body

# The smallest valid PNG (1x1, transparent).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
TOOLS = [
    Tool(name, "A tool the captures call.", {"type": "object", "properties": {}})
    for name in ("fixed_version", "get_country", "get_temperature", "get_weather")
]
Problems = list[str]


# --- what each capture issued, read without fastsse -------------------------------------------


def sse_json(data: bytes) -> list[dict[str, Any]]:
    return [
        json.loads(line[5:]) for line in data.splitlines() if line.startswith(b"data:") and line[5:].strip()
    ]


def anthropic_issued(data: bytes) -> dict[str, str]:
    events = [e for e in sse_json(data) if e["type"] == "content_block_delta"]
    return {
        "thinking": "".join(e["delta"].get("thinking", "") for e in events),
        "signature": "".join(e["delta"].get("signature", "") for e in events),
    }


def bedrock_frames(data: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event type, payload) of each AWS eventstream frame, read by the format's layout."""
    at = 0
    while at < len(data):
        total, headers_length = struct.unpack(">II", data[at : at + 8])
        headers, event_type = data[at + 12 : at + 12 + headers_length], ""
        i = 0
        while i < len(headers):
            name = headers[i + 1 : i + 1 + headers[i]].decode()
            i += 1 + headers[i] + 1  # name, then the value type (7: string)
            (size,) = struct.unpack(">H", headers[i : i + 2])
            if name == ":event-type":
                event_type = headers[i + 2 : i + 2 + size].decode()
            i += 2 + size
        yield event_type, json.loads(data[at + 12 + headers_length : at + total - 4])
        at += total


def bedrock_issued(data: bytes) -> dict[str, str]:
    reasoning = [
        p["delta"]["reasoningContent"]
        for kind, p in bedrock_frames(data)
        if kind == "contentBlockDelta" and "reasoningContent" in p["delta"]
    ]
    return {
        "thinking": "".join(r.get("text", "") for r in reasoning),
        "signature": "".join(r.get("signature", "") for r in reasoning),
    }


def gemini_issued(data: bytes) -> dict[str, str]:
    parts = [p for e in sse_json(data) for c in e["candidates"] for p in c["content"]["parts"]]
    call = next(p for p in parts if "functionCall" in p)
    return {"signature": call["thoughtSignature"], "name": call["functionCall"]["name"]}


def deepseek_issued(data: bytes) -> dict[str, str]:
    deltas = [c["delta"] for e in sse_json(data) if e.get("choices") for c in e["choices"]]
    return {"reasoning": "".join(d.get("reasoning_content") or "" for d in deltas)}


def ollama_issued(data: bytes) -> dict[str, str]:
    lines = [json.loads(line) for line in data.splitlines() if line.strip()]
    return {"thinking": "".join(line["message"].get("thinking", "") for line in lines)}


# --- the checks each provider makes -------------------------------------------------------------


def check_image(found: Any, want: Any, where: str) -> Problems:
    return [] if found == want else [f"{where}: expected the image as {want!r}, got {found!r}"]


def claude_thinking_first(
    i: int, thinking_on: bool, first: tuple[str, str | None] | None, issued: dict[str, str]
) -> Problems:
    """Claude's rule (Anthropic and Bedrock): with thinking on, an assistant turn with tool use
    starts with its thinking, text and signature unchanged. ``first``: (text, signature) of the
    thinking block that opens the turn, ("", None) for a redacted one, None when none does."""
    if thinking_on and first is None:
        return [
            f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
            "`tool_use`. When `thinking` is enabled, a final `assistant` message must start with a "
            "thinking block."
        ]
    if first is not None and first[1] is not None and first != (issued["thinking"], issued["signature"]):
        return [f"messages.{i}.content.0: Invalid `signature` in `thinking` block"]
    return []


def anthropic_checks(body: dict[str, Any], issued: dict[str, str]) -> Problems:
    problems: Problems = []
    thinking_on = body.get("thinking", {}).get("type") == "enabled"
    if thinking_on and body.get("tool_choice", {"type": "auto"})["type"] not in ("auto", "none"):
        problems.append("Thinking may not be enabled when tool_choice forces tool use.")
    messages = body["messages"]
    first = messages[0]["content"]
    problems += check_image(
        first[1] if isinstance(first, list) and len(first) > 1 else None,
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG).decode()},
        },
        "messages.0.content.1",
    )
    for i, message in enumerate(messages):
        blocks = message["content"] if isinstance(message["content"], list) else []
        uses = [b["id"] for b in blocks if b["type"] == "tool_use"]
        if message["role"] != "assistant" or not uses:
            continue
        opening = blocks[0]
        first = {
            "thinking": (opening.get("thinking"), opening.get("signature")),
            "redacted_thinking": ("", None),
        }.get(opening["type"])
        problems += claude_thinking_first(i, thinking_on, first, issued)
        results = messages[i + 1]["content"] if i + 1 < len(messages) else []
        ids = [b.get("tool_use_id") for b in results[: len(uses)]] if isinstance(results, list) else []
        if ids != uses:
            problems.append(f"messages.{i + 1}: tool_use ids {uses} need tool_result blocks first, got {ids}")
    return problems


def bedrock_checks(body: dict[str, Any], issued: dict[str, str]) -> Problems:
    problems: Problems = []
    thinking_on = body.get("additionalModelRequestFields", {}).get("thinking", {}).get("type") == "enabled"
    if body["toolConfig"].get("toolChoice") != {"auto": {}}:
        problems.append(
            f"toolConfig.toolChoice: expected {{'auto': {{}}}}, got {body['toolConfig'].get('toolChoice')}"
        )
    messages = body["messages"]
    problems += check_image(
        messages[0]["content"][1] if len(messages[0]["content"]) > 1 else None,
        {"image": {"format": "png", "source": {"bytes": base64.b64encode(PNG).decode()}}},
        "messages.0.content.1",
    )
    for i, message in enumerate(messages):
        blocks = message["content"]
        uses = [b["toolUse"]["toolUseId"] for b in blocks if "toolUse" in b]
        if message["role"] != "assistant" or not uses:
            continue
        reasoning = blocks[0].get("reasoningContent")
        first = None
        if reasoning is not None:
            text = reasoning.get("reasoningText", {})
            first = (text.get("text", ""), text.get("signature"))
        problems += claude_thinking_first(i, thinking_on, first, issued)
        results = messages[i + 1]["content"] if i + 1 < len(messages) else []
        if [b.get("toolResult", {}).get("toolUseId") for b in results] != uses:
            problems.append(f"messages.{i + 1}: every toolUse needs its toolResult")
    return problems


def gemini_checks(body: dict[str, Any], issued: dict[str, str]) -> Problems:
    problems: Problems = []
    if body.get("toolConfig") != {"functionCallingConfig": {"mode": "AUTO"}}:
        problems.append(f"toolConfig: expected mode AUTO, got {body.get('toolConfig')}")
    contents = body["contents"]
    problems += check_image(
        contents[0]["parts"][1] if len(contents[0]["parts"]) > 1 else None,
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}},
        "contents[0].parts[1]",
    )
    for i, content in enumerate(contents):
        calls = [p for p in content["parts"] if "functionCall" in p]
        if content["role"] != "model" or not calls:
            continue
        if calls[0].get("thoughtSignature") != issued["signature"]:
            problems.append(
                f"Function call is missing a thought_signature in functionCall parts (contents[{i}]). "
                "This is required for tools to work correctly."
            )
        replies = contents[i + 1]["parts"] if i + 1 < len(contents) else []
        names = [p.get("functionResponse", {}).get("name") for p in replies]
        if names != [c["functionCall"]["name"] for c in calls]:
            problems.append(f"contents[{i + 1}]: each functionCall needs a functionResponse of the same name")
    return problems


def openai_checks(body: dict[str, Any], issued: dict[str, str]) -> Problems:
    problems: Problems = []
    if body.get("tool_choice") != "auto":
        problems.append(f"tool_choice: expected 'auto', got {body.get('tool_choice')!r}")
    messages = body["messages"]
    problems += check_image(
        messages[0]["content"][1] if isinstance(messages[0]["content"], list) else None,
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
        },
        "messages[0].content[1]",
    )
    for i, message in enumerate(messages):
        calls = message.get("tool_calls") or []
        if message["role"] != "assistant" or not calls:
            continue
        if message.get("reasoning_content") != issued["reasoning"]:
            problems.append(
                f"Missing `reasoning_content` field in the assistant message at message index {i}: "
                "in thinking mode it must be passed back on turns with tool calls."
            )
        answered = [m.get("tool_call_id") for m in messages[i + 1 : i + 1 + len(calls)]]
        if answered != [c["id"] for c in calls]:
            problems.append(f"messages[{i}]: each tool call needs a tool message with its id")
    return problems


def ollama_checks(body: dict[str, Any], issued: dict[str, str]) -> Problems:
    problems: Problems = []
    messages = body["messages"]
    if messages[0].get("images") != [base64.b64encode(PNG).decode()]:
        problems.append(f"messages[0].images: expected the base64 image, got {messages[0].get('images')!r}")
    for i, message in enumerate(messages):
        calls = message.get("tool_calls") or []
        if message["role"] != "assistant" or not calls:
            continue
        if not all(isinstance(c["function"]["arguments"], dict) for c in calls):
            problems.append("json: cannot unmarshal string into Go struct field .arguments of type map")
        if message.get("thinking", issued["thinking"]) != issued["thinking"]:
            problems.append(f"messages[{i}].thinking differs from what the model thought")
        names = [m.get("tool_name") for m in messages[i + 1 : i + 1 + len(calls)]]
        if names != [c["function"]["name"] for c in calls]:
            problems.append(f"messages[{i}]: each tool result needs its tool_name")
    return problems


# --- the fake upstreams -------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    """One provider's API in a two-request tool loop: ``answers[i]`` (captures) answers request
    ``i`` when ``checks`` finds nothing wrong; otherwise a 400 with ``error_body(problems)``."""

    path: str
    answers: tuple[str, str]
    content_type: bytes
    issued: Callable[[bytes], dict[str, str]]
    checks: Callable[[dict[str, Any], dict[str, str]], Problems]
    error_body: Callable[[str], dict[str, Any]]
    model: str
    thinking: dict[str, Any]  # the switch, as extra_body


SSE, NDJSON, EVENTSTREAM = (
    b"text/event-stream",
    b"application/x-ndjson",
    b"application/vnd.amazon.eventstream",
)
CLAUDE_THINKING = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
TABLE = {
    "anthropic": Provider(
        "/v1/messages",
        ("anthropic/thinking-tool-use.sse", "anthropic/sdk-basic-text.sse"),
        SSE,
        anthropic_issued,
        anthropic_checks,
        lambda m: {"type": "error", "error": {"type": "invalid_request_error", "message": m}},
        "claude-sonnet-4-5",
        CLAUDE_THINKING,
    ),
    "bedrock": Provider(
        f"/model/{quote(BEDROCK_MODEL, safe='')}/converse-stream",
        ("bedrock/converse-stream-composed-reasoning-tool-use.bin", "bedrock/converse-stream-text.bin"),
        EVENTSTREAM,
        bedrock_issued,
        bedrock_checks,
        lambda m: {"message": m},
        BEDROCK_MODEL,
        {"additionalModelRequestFields": CLAUDE_THINKING},
    ),
    "gemini": Provider(
        "/models/gemini-3-pro-preview:streamGenerateContent",
        ("gemini/function-call-thought-signature.sse", "gemini/text.sse"),
        SSE,
        gemini_issued,
        gemini_checks,
        lambda m: {"error": {"code": 400, "message": m, "status": "INVALID_ARGUMENT"}},
        "gemini-3-pro-preview",
        {"generationConfig": {"thinkingConfig": {"includeThoughts": True}}},
    ),
    "openai": Provider(  # a DeepSeek-style server: streams reasoning_content, wants it back
        "/chat/completions",
        ("deepseek/vercel-reasoning-tool-call.jsonl", "deepseek/reasoner-reasoning-content.sse"),
        SSE,
        deepseek_issued,
        openai_checks,
        lambda m: {"error": {"message": m, "type": "invalid_request_error"}},
        "deepseek-reasoner",
        {"thinking": {"type": "enabled"}},
    ),
    "ollama": Provider(
        "/api/chat",
        ("ollama/synthetic-chat-thinking-tool-calls.ndjson", "ollama/chat-stream.ndjson"),
        NDJSON,
        ollama_issued,
        ollama_checks,
        lambda m: {"error": m},
        "qwen3:8b",
        {"think": True},
    ),
}


class Upstream:
    """The fake API of one provider (an ASGI app): checks each request, then answers it with
    the next capture through ``FakeUpstream`` (or with the provider's 400)."""

    def __init__(self, provider: str) -> None:
        self.spec = TABLE[provider]
        self.answers = [wire_bytes(name) for name in self.spec.answers]
        self.issued = self.spec.issued(self.answers[0])
        self.requests: list[dict[str, Any]] = []
        self.options = {"model": self.spec.model, "extra_body": self.spec.thinking}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await request_body(scope, receive, send)
        if body is None:
            return
        assert scope["raw_path"].decode() == self.spec.path, scope["raw_path"]
        turn = len(self.requests)
        self.requests.append(json.loads(body))
        history = self.requests[-1].get("messages") or self.requests[-1].get("contents") or []
        if turn >= len(self.answers) or len(history) < 1 + 2 * turn or (turn == 0 and len(history) > 1):
            problems = [f"request {turn} has {len(history)} turns: the loop lost or repeated one"]
        else:
            problems = self.spec.checks(self.requests[-1], self.issued)
        if problems:
            error = json.dumps(self.spec.error_body("; ".join(problems))).encode()
            reply = FakeUpstream(error, status=400)
        else:
            reply = FakeUpstream(self.answers[turn], piece=101)
            reply.content_type = self.spec.content_type

        async def replayed() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await reply(scope, replayed, send)


PROVIDERS = ["anthropic", "bedrock", "gemini", "openai", "ollama"]


def question() -> Message:
    return Message(
        "user", [TextPart("Which tool should I call for this picture?"), ImagePart(PNG, "image/png")]
    )


def tool_results(result: fastsse.GenerationResult) -> list[Message]:
    return [
        Message("tool", f"result of {call.name}", tool_call_id=call.id or "", name=call.name)
        for call in result.tool_calls
    ]


def run_loop(client: Client, options: dict[str, Any], strip: bool = False) -> list[fastsse.GenerationResult]:
    """The documented loop: stream, keep the assistant turn, answer its calls, ask again."""
    messages = [question()]
    results = []
    for _ in range(4):
        with client.stream(messages=messages, tools=TOOLS, tool_choice="auto", **options) as chunks:
            for _chunk in chunks:
                pass
            result = chunks.snapshot()
        results.append(result)
        turn = Message.from_result(result)
        if strip:  # what a loop that forgets the reasoning sends
            turn = Message("assistant", turn.content, turn.tool_calls)
        messages.append(turn)
        if not result.tool_calls:
            break
        messages.extend(tool_results(result))
    return results


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tool_loop_with_thinking(provider: str) -> None:
    fake = Upstream(provider)
    with running_server(fake) as url, Client(provider, base_url=url, api_key="k") as client:
        first, second = run_loop(client, fake.options)
    assert len(fake.requests) == 2
    assert first.finish_reason == "tool_calls" and first.tool_calls
    assert second.finish_reason == "stop" and second.text and not second.tool_calls
    signature = fake.issued.get("signature")
    assert first.reasoning_signature == signature  # None where the provider has none (openai, ollama)


@pytest.mark.parametrize("provider", ["anthropic", "bedrock", "gemini", "openai"])
def test_a_loop_that_drops_the_reasoning_gets_the_providers_400(provider: str) -> None:
    fake = Upstream(provider)
    with running_server(fake) as url, Client(provider, base_url=url, api_key="k") as client:
        with pytest.raises(ProviderHTTPError) as info:
            run_loop(client, fake.options, strip=True)
    assert info.value.status_code == 400
    assert (
        "thinking" in str(info.value)
        or "thought_signature" in str(info.value)
        or "reasoning" in str(info.value)
    )


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_tool_loop_async(anyio_backend: str) -> None:
    fake = Upstream("anthropic")
    with running_server(fake) as url:
        async with AsyncClient("anthropic", base_url=url, api_key="k") as client:
            messages = [question()]
            for _ in range(2):
                async with client.stream(
                    messages=messages, tools=TOOLS, tool_choice="auto", **fake.options
                ) as chunks:
                    result = fastsse.collect([chunk async for chunk in chunks])
                messages.append(Message.from_result(result))
                messages.extend(tool_results(result))
    assert len(fake.requests) == 2 and result.text


# --- the request of each provider, field by field -----------------------------------------------


def body_of(provider: str, request: ChatRequest) -> dict[str, Any]:
    return build_request(provider, request, base_url="http://127.0.0.1:9", api_key="k").body


ASSISTANT = Message(
    "assistant",
    "Let me look.",
    [ToolCallSpec("call_1", "get_weather", '{"city": "Paris"}'), ToolCallSpec("call_2", "get_weather", "{}")],
    reasoning="I should call the tool.",
    reasoning_signature="c2lnbmF0dXJl",
    redacted_thinking=("cmVkYWN0ZWQ=",),
)


def test_assistant_turn_per_provider() -> None:
    request = ChatRequest(model="m", messages=[Message("user", "Hi"), ASSISTANT], tools=TOOLS)
    assert body_of("anthropic", request)["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "I should call the tool.", "signature": "c2lnbmF0dXJl"},
        {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="},
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {}},
    ]
    assert body_of("bedrock", request)["messages"][1]["content"][:3] == [
        {
            "reasoningContent": {
                "reasoningText": {"text": "I should call the tool.", "signature": "c2lnbmF0dXJl"}
            }
        },
        {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
        {"text": "Let me look."},
    ]
    # Gemini: the signature on the first call only (parallel calls), no thought text.
    assert body_of("gemini", request)["contents"][1]["parts"] == [
        {"text": "Let me look."},
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
            "thoughtSignature": "c2lnbmF0dXJl",
        },
        {"functionCall": {"name": "get_weather", "args": {}}},
    ]
    openai = body_of("openai", request)["messages"][1]
    assert openai["reasoning_content"] == "I should call the tool." and openai["content"] == "Let me look."
    assert body_of("ollama", request)["messages"][1]["thinking"] == "I should call the tool."
    assert "reasoning" not in json.dumps(body_of("openai-responses", request)["input"])


def test_gemini_signature_without_calls_goes_on_the_last_part() -> None:
    for content, parts in [
        ("Done.", [{"text": "Done.", "thoughtSignature": "s"}]),
        ("", [{"text": "", "thoughtSignature": "s"}]),
    ]:
        turn = Message("assistant", content, reasoning="hidden", reasoning_signature="s")
        request = ChatRequest(model="m", messages=[Message("user", "Hi"), turn])
        assert body_of("gemini", request)["contents"][1]["parts"] == parts


def test_reasoning_without_a_signature_is_not_sent_where_it_would_be_verified() -> None:
    turn = Message("assistant", "Hi.", reasoning="from another provider")
    request = ChatRequest(model="m", messages=[Message("user", "Hi"), turn])
    assert body_of("anthropic", request)["messages"][1] == {"role": "assistant", "content": "Hi."}
    assert body_of("bedrock", request)["messages"][1]["content"] == [{"text": "Hi."}]
    assert body_of("gemini", request)["contents"][1]["parts"] == [{"text": "Hi."}]


@pytest.mark.parametrize(
    ("provider", "where", "forms"),
    [
        (
            "openai",
            ("tool_choice",),
            ["auto", "none", "required", {"type": "function", "function": {"name": "get_weather"}}],
        ),
        (
            "openai-responses",
            ("tool_choice",),
            ["auto", "none", "required", {"type": "function", "name": "get_weather"}],
        ),
        (
            "anthropic",
            ("tool_choice",),
            [{"type": "auto"}, {"type": "none"}, {"type": "any"}, {"type": "tool", "name": "get_weather"}],
        ),
        (
            "gemini",
            ("toolConfig", "functionCallingConfig"),
            [
                {"mode": "AUTO"},
                {"mode": "NONE"},
                {"mode": "ANY"},
                {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
            ],
        ),
        (
            "bedrock",
            ("toolConfig", "toolChoice"),
            [{"auto": {}}, None, {"any": {}}, {"tool": {"name": "get_weather"}}],
        ),
        ("ollama", (), [OMIT, None, None, None]),
    ],
)
def test_tool_choice_per_provider(provider: str, where: tuple[str, ...], forms: list[Any]) -> None:
    choices: list[Any] = ["auto", "none", "required", {"name": "get_weather"}]
    for choice, form in zip(choices, forms, strict=True):
        request = ChatRequest(model="m", messages=[Message("user", "Hi")], tools=TOOLS, tool_choice=choice)
        if form is None:
            with pytest.raises(UsageError, match=f"{provider} has no tool_choice"):
                body_of(provider, request)
            continue
        body = body_of(provider, request)
        if form is OMIT:
            assert "tool_choice" not in body
            continue
        for key in where:
            body = body[key]
        assert body == form, choice
    # OpenAI's own dict form is understood too.
    openai_form = {"type": "function", "function": {"name": "get_weather"}}
    request = ChatRequest(model="m", messages=[Message("user", "Hi")], tools=TOOLS, tool_choice=openai_form)
    assert request.tool_choice_mode() == ("named", "get_weather")


@pytest.mark.parametrize(
    ("choice", "match"),
    [
        ("any", "expected 'auto'"),
        ({"name": "nope"}, "not one of the request's tools"),
        ({"x": 1}, "names no tool"),
    ],
)
def test_bad_tool_choices(choice: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        body_of(
            "openai",
            ChatRequest(model="m", messages=[Message("user", "Hi")], tools=TOOLS, tool_choice=choice),
        )
    with pytest.raises(UsageError, match="tool_choice needs tools"):
        body_of("openai", ChatRequest(model="m", messages=[Message("user", "Hi")], tool_choice="auto"))


def test_image_parts_per_provider() -> None:
    by_url = Message("user", [TextPart("What is it?"), ImagePart(url="https://example.com/cat.png")])
    request = ChatRequest(model="m", messages=[by_url])
    assert body_of("openai", request)["messages"][0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/cat.png"},
    }
    assert body_of("openai-responses", request)["input"][0]["content"] == [
        {"type": "input_text", "text": "What is it?"},
        {"type": "input_image", "image_url": "https://example.com/cat.png"},
    ]
    assert body_of("anthropic", request)["messages"][0]["content"][1] == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.png"},
    }
    assert body_of("gemini", request)["contents"][0]["parts"][1] == {
        "fileData": {"mimeType": "image/png", "fileUri": "https://example.com/cat.png"}
    }
    for provider, match in [("bedrock", "s3:// URLs only"), ("ollama", "not URLs")]:
        with pytest.raises(UsageError, match=match):
            body_of(provider, request)
    s3 = ChatRequest(
        model="m", messages=[Message("user", [ImagePart(url="s3://b/cat.jpg", media_type="image/jpeg")])]
    )
    assert body_of("bedrock", s3)["messages"][0]["content"] == [
        {"image": {"format": "jpeg", "source": {"s3Location": {"uri": "s3://b/cat.jpg"}}}}
    ]
    # A data: URL becomes bytes, so it works everywhere.
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert ImagePart(url=data_url) == ImagePart(PNG, "image/png")
    with pytest.raises(UsageError, match=r"either data= .* or url="):
        ImagePart()


def test_dict_messages_with_parts_and_reasoning() -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    messages: list[Any] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Hi"},
                {"type": "image_url", "image_url": {"url": data_url}},
            ],
        },
        {"role": "assistant", "content": "Hello", "reasoning_content": "greet back"},
    ]
    body = body_of("ollama", ChatRequest(model="m", messages=messages))
    assert body["messages"][0] == {
        "role": "user",
        "content": "Hi",
        "images": [base64.b64encode(PNG).decode()],
    }
    assert body["messages"][1] == {"role": "assistant", "content": "Hello", "thinking": "greet back"}
    with pytest.raises(UsageError, match="unsupported content part type 'audio'"):
        body_of("openai", ChatRequest(model="m", messages=[{"role": "user", "content": [{"type": "audio"}]}]))


def test_extra_body_merges_objects_key_by_key() -> None:
    request = ChatRequest(
        model="m",
        messages=[Message("user", "Hi")],
        max_tokens=5,
        extra_body={"generationConfig": {"thinkingConfig": {"includeThoughts": True}}, "labels": {"a": "b"}},
    )
    body = body_of("gemini", request)
    assert body["generationConfig"] == {"maxOutputTokens": 5, "thinkingConfig": {"includeThoughts": True}}
    assert body["labels"] == {"a": "b"}
    replaced = ChatRequest(model="m", messages=[Message("user", "Hi")], extra_body={"messages": []})
    assert body_of("openai", replaced)["messages"] == []


def redacted_issued(provider: str, data: bytes) -> list[str]:
    """Each redacted thinking item of a capture, read without fastsse."""
    if provider == "anthropic":
        return [
            e["content_block"]["data"]
            for e in sse_json(data)
            if e["type"] == "content_block_start" and e["content_block"]["type"] == "redacted_thinking"
        ]
    return [
        p["delta"]["reasoningContent"]["redactedContent"]
        for kind, p in bedrock_frames(data)
        if kind == "contentBlockDelta" and "redactedContent" in p["delta"].get("reasoningContent", {})
    ]


@pytest.mark.parametrize(
    ("provider", "capture"),
    [
        ("anthropic", "anthropic/redacted-thinking-text.sse"),
        ("bedrock", "bedrock/converse-stream-redacted-reasoning.bin"),
    ],
)
def test_redacted_thinking_goes_back_unchanged(provider: str, capture: str) -> None:
    data = wire_bytes(capture)
    issued = redacted_issued(provider, data)
    assert len(issued) == 2
    result = fastsse.collect(fastsse.iter_chunks([data], provider))  # type: ignore[arg-type]
    assert list(result.redacted_thinking) == issued
    turn = Message.from_result(result)
    request = ChatRequest(model="m", messages=[Message("user", "Hi"), turn, Message("user", "And?")])
    sent = body_of(provider, request)["messages"][1]["content"]
    if provider == "anthropic":
        assert sent[:2] == [{"type": "redacted_thinking", "data": d} for d in issued]
        assert sent[2] == {"type": "text", "text": result.text}
    else:
        assert sent[:2] == [{"reasoningContent": {"redactedContent": d}} for d in issued]
        assert sent[2] == {"text": result.text}
