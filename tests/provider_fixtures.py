"""Shared helpers of the provider tests: captured streams, ways to feed them, and what the
official SDKs (openai, anthropic over an httpx2 mock transport) accumulate from the same bytes.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastsse
import jiter

DATA = Path(__file__).parent / "data"


def wire_bytes(name: str) -> bytes:
    """A capture as response bytes; `.jsonl` captures get their SSE framing back."""
    raw = (DATA / name).read_bytes()
    if name.endswith(".jsonl"):
        return b"".join(b"data: " + line + b"\n\n" for line in raw.splitlines() if line.strip())
    return raw


def fixtures(directory: str, *, prefix: str = "") -> list[str]:
    return sorted(
        f"{directory}/{path.name}"
        for path in (DATA / directory).iterdir()
        if path.suffix in (".sse", ".jsonl") and path.name.startswith(prefix)
    )


def to_crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def decode(
    provider: str, parts: Iterable[bytes], **options: Any
) -> tuple[list[fastsse.GenerationChunk], Exception | None]:
    """Every chunk a stream yields, and the exception that ended it (if any)."""
    chunks: list[fastsse.GenerationChunk] = []
    try:
        for chunk in fastsse.iter_chunks(list(parts), provider, **options):
            chunks.append(chunk)
    except fastsse.FastSSEError as error:
        return chunks, error
    return chunks, None


ErrorKey = tuple[str, str | None, str]


def error_key(error: Exception | None) -> ErrorKey | None:
    if error is None:
        return None
    return (
        type(error).__name__,
        getattr(error, "code", None),
        getattr(error, "provider_message", str(error)),
    )


def outcome(
    provider: str, parts: Iterable[bytes], **options: Any
) -> tuple[list[fastsse.GenerationChunk], ErrorKey | None]:
    """`decode` with the ending error as its `error_key`, so that two outcomes compare equal."""
    chunks, error = decode(provider, parts, **options)
    return chunks, error_key(error)


def fed_every_way(
    provider: str, data: bytes, *rewritten: bytes
) -> tuple[list[fastsse.GenerationChunk], ErrorKey | None]:
    """The outcome of `data` fed whole, which `data` fed byte by byte and each of `rewritten`
    (the same stream with other line endings) fed whole must equal."""
    whole = outcome(provider, [data])
    assert outcome(provider, [data[i : i + 1] for i in range(len(data))]) == whole
    for other in rewritten:
        assert outcome(provider, [other]) == whole
    return whole


# --- the common view a result is compared in --------------------------------------------


@dataclass
class View:
    text: str = ""
    reasoning: str | None = ""  # None: the SDK does not expose it
    refusal: str = ""
    tools: list[tuple[str | None, str | None, Any]] = field(default_factory=list)
    finish: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def parse_arguments(text: str) -> Any:
    """Arguments as the SDKs see them: parsed, leniently for a call cut off mid-JSON."""
    if not text:
        return {}
    return jiter.from_json(text.encode(), partial_mode=True)


def view_of(result: fastsse.GenerationResult) -> View:
    return View(
        text=result.text,
        reasoning=result.reasoning,
        refusal=result.refusal,
        tools=[(t.id, t.name, parse_arguments(t.arguments)) for t in result.tool_calls],
        finish=result.finish_reason,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
    )


def assert_same(ours: View, sdk: View, name: str) -> None:
    if sdk.reasoning is None:
        ours = View(**{**ours.__dict__, "reasoning": None})
    assert ours == sdk, name


# --- the official SDKs, over a mock transport -------------------------------------------


def _mock_client(factory: Callable[..., Any], body: bytes, content_type: str) -> Any:
    import httpx2

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": content_type}, content=body)

    return factory(
        api_key="test-key",
        base_url="http://sdk.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )


OPENAI_FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}
ANTHROPIC_STOP = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def openai_chat_sdk(body: bytes) -> tuple[list[View], Exception | None]:
    """What openai-python's `ChatCompletionStreamState` accumulates, per choice."""
    import openai
    from openai.lib.streaming.chat import ChatCompletionStreamState

    client = _mock_client(openai.OpenAI, body, "text/event-stream")
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    error: Exception | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns about Mistral's list-valued content
        try:
            for chunk in client.chat.completions.create(model="m", messages=[], stream=True):
                state.handle_chunk(chunk)
        except openai.APIError as exc:
            error = exc
        snapshot = state.current_completion_snapshot
    views = []
    for choice in sorted(snapshot.choices, key=lambda c: c.index):
        message = choice.message
        extra = message.model_extra or {}
        content = message.content
        views.append(
            View(
                text=content if isinstance(content, str) else "",
                reasoning=extra.get("reasoning_content") or extra.get("reasoning") or "",
                refusal=message.refusal or "",
                tools=[
                    (call.id, call.function.name, parse_arguments(call.function.arguments))
                    for call in message.tool_calls or []
                ],
                finish=OPENAI_FINISH.get(choice.finish_reason) if choice.finish_reason else None,
                prompt_tokens=snapshot.usage.prompt_tokens if snapshot.usage else None,
                completion_tokens=snapshot.usage.completion_tokens if snapshot.usage else None,
            )
        )
    return views, error


def openai_chat_final_body(body: bytes) -> bytes:
    """The `chat.completion` object the SDK builds from a stream: a realistic JSON body."""
    import openai
    from openai.lib.streaming.chat import ChatCompletionStreamState

    client = _mock_client(openai.OpenAI, body, "text/event-stream")
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    for chunk in client.chat.completions.create(model="m", messages=[], stream=True):
        state.handle_chunk(chunk)
    completion = json.loads(state.current_completion_snapshot.model_dump_json())
    completion["object"] = "chat.completion"
    return json.dumps(completion).encode()


def anthropic_sdk(body: bytes) -> tuple[View, Exception | None, Any]:
    """What anthropic-sdk-python's `MessageStream` accumulates (its final message)."""
    import anthropic

    client = _mock_client(anthropic.Anthropic, body, "text/event-stream")
    error: Exception | None = None
    message: Any = None
    with client.messages.stream(
        model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}]
    ) as stream:
        try:
            for _ in stream:
                pass
        except anthropic.APIError as exc:
            error = exc
        message = stream.current_message_snapshot
    usage = message.usage
    view = View(
        text="".join(b.text for b in message.content if b.type == "text"),
        reasoning="".join(b.thinking for b in message.content if b.type == "thinking"),
        tools=[(b.id, b.name, b.input) for b in message.content if b.type == "tool_use"],
        finish=ANTHROPIC_STOP.get(message.stop_reason) if message.stop_reason else None,
        prompt_tokens=usage.input_tokens
        + (usage.cache_creation_input_tokens or 0)
        + (usage.cache_read_input_tokens or 0),
        completion_tokens=usage.output_tokens,
    )
    return view, error, message


def openai_responses_sdk(body: bytes) -> View:
    """What openai-python's `ResponseStream` accumulates (its final response)."""
    import openai

    client = _mock_client(openai.OpenAI, body, "text/event-stream")
    with client.responses.stream(model="m", input="x") as stream:
        for _ in stream:
            pass
        response = stream.get_final_response()
    texts, reasoning, refusal, tools = [], [], [], []
    for item in response.output:
        if item.type == "message":
            for part in item.content:
                if part.type == "output_text":
                    texts.append(part.text)
                elif part.type == "refusal":
                    refusal.append(part.refusal)
        elif item.type == "reasoning":
            parts = item.content or item.summary
            reasoning.extend(p.text for p in parts)
        elif item.type == "function_call":
            tools.append((item.call_id, item.name, parse_arguments(item.arguments)))
    if response.status == "incomplete":
        reason = response.incomplete_details.reason if response.incomplete_details else None
        finish = "content_filter" if reason == "content_filter" else "length"
    else:
        finish = "tool_calls" if tools else "stop"
    return View(
        text="".join(texts),
        reasoning="".join(reasoning),
        refusal="".join(refusal),
        tools=tools,
        finish=finish,
        prompt_tokens=response.usage.input_tokens if response.usage else None,
        completion_tokens=response.usage.output_tokens if response.usage else None,
    )


#: Capture folders of tests/data and the provider each is read as (a `responses-*` capture in an
#: OpenAI-compatible folder speaks the Responses API).
CAPTURE_PROVIDERS = {
    "openai-chat": "openai",
    "openai-responses": "openai-responses",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama",
    "bedrock": "bedrock",
    "groq": "openai",
    "deepseek": "openai",
    "mistral": "openai",
}


def capture_params(folders: Iterable[str] = CAPTURE_PROVIDERS, markers: tuple[bytes, ...] = ()) -> list[Any]:
    """`pytest.param(provider, path)` for every stream capture in `folders` (holding one of
    `markers`, when given), with the folder/file as its id."""
    import pytest

    params = []
    for folder in folders:
        for path in sorted((DATA / folder).glob("*")):
            if path.suffix not in (".sse", ".ndjson", ".bin"):
                continue
            if markers and not any(marker in path.read_bytes() for marker in markers):
                continue
            provider = "openai-responses" if path.name.startswith("responses-") else CAPTURE_PROVIDERS[folder]
            params.append(pytest.param(provider, path, id=f"{folder}/{path.name}"))
    return params
