"""`fastsse.accelerate(client)`: the official SDKs are the oracles.

Every OpenAI-chat-compatible and Anthropic capture in tests/data is served to the plain SDK client
and to the accelerated one (over an httpx2 MockTransport, and over HTTP from a loopback server
that sends the capture in small pieces); an SDK-style loop must read the same value for every
declared field and extra, and `model_dump()` / `to_dict()` / `to_json()` must be equal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import fastsse
import httpx2
import openai
import pydantic
import pytest
from fastsse import accelerate
from fastsse.sdk import VIEW_TYPES
from provider_fixtures import DATA, fixtures
from serving import running_server
from support.fake_upstream import request_body

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # the SDKs' own serializer warnings

OPENAI_CAPTURES = [
    *fixtures("openai-chat", prefix="chat-"),
    *fixtures("openai-chat", prefix="openrouter-"),
    "deepseek/reasoner-reasoning-content.sse",
    *[name for name in fixtures("groq") if name.endswith(".sse")],
    *[name for name in fixtures("mistral") if name.endswith(".sse")],
    "sdk/openai-big-integers.sse",  # integers past 64 bits, which the SDK keeps as ints
]
ANTHROPIC_CAPTURES = [
    *fixtures("anthropic"),
    "sse/anthropic-thinking-tool-use.sse",
    "sdk/anthropic-big-integers.sse",  # integers past 64 bits, which the SDK keeps as ints
]
MESSAGES = [{"role": "user", "content": "hi"}]


def assert_same(expected: Any, actual: Any, path: str = "item") -> None:
    """`actual` reads like the SDK's `expected`: every declared field and extra, recursively."""
    if isinstance(expected, pydantic.BaseModel):
        assert isinstance(actual, (*VIEW_TYPES, pydantic.BaseModel)), path
        for name in [*type(expected).model_fields, *(expected.model_extra or {})]:
            if not hasattr(expected, name):
                assert not hasattr(actual, name), f"{path}.{name}"
                continue
            assert_same(getattr(expected, name), getattr(actual, name), f"{path}.{name}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            assert_same(want, got, f"{path}[{index}]")
    else:
        assert actual == expected and type(actual) is type(expected), f"{path}: {actual!r} != {expected!r}"


def assert_same_dumps(expected: Any, actual: Any) -> None:
    if not isinstance(expected, pydantic.BaseModel):
        assert actual == expected
        return
    assert actual.model_dump() == expected.model_dump()
    assert actual.model_dump(exclude_none=True) == expected.model_dump(exclude_none=True)
    assert actual.to_dict() == expected.to_dict()
    assert actual.to_json() == expected.to_json()


def assert_same_run(plain: tuple[list[Any], Any], fast: tuple[list[Any], Any]) -> None:
    (want, want_error), (got, got_error) = plain, fast
    assert len(got) == len(want)
    for index, (expected, actual) in enumerate(zip(want, got, strict=True)):
        assert_same(expected, actual, f"item[{index}]")
        assert_same_dumps(expected, actual)
    assert type(got_error) is type(want_error)
    assert str(got_error) == str(want_error)


def read_all(items: Callable[[], Any]) -> tuple[list[Any], Exception | None]:
    out: list[Any] = []
    try:
        for item in items():
            out.append(item)
    except (openai.APIError, anthropic.APIError) as error:
        return out, error
    return out, None


async def aread_all(items: Callable[[], Any]) -> tuple[list[Any], Exception | None]:
    out: list[Any] = []
    try:
        async for item in await items():
            out.append(item)
    except (openai.APIError, anthropic.APIError) as error:
        return out, error
    return out, None


def serve(body: bytes) -> httpx2.MockTransport:
    return httpx2.MockTransport(
        lambda request: httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    )


def aserve(body: bytes) -> httpx2.MockTransport:
    async def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return httpx2.MockTransport(handler)


def sdk_client(
    factory: Any, transport: Any, is_async: bool = False, base_url: str = "http://sdk.test/v1"
) -> Any:
    http_client = (httpx2.AsyncClient if is_async else httpx2.Client)(transport=transport)
    return factory(api_key="test-key", base_url=base_url, http_client=http_client, max_retries=0)


# --- OpenAI chat completions ------------------------------------------------------------------


def chat_stream(client: Any) -> Any:
    return client.chat.completions.create(model="m", messages=MESSAGES, stream=True)


@pytest.mark.parametrize("name", OPENAI_CAPTURES)
def test_openai_chunks_read_like_the_sdks(name: str) -> None:
    body = (DATA / name).read_bytes()
    plain = sdk_client(openai.OpenAI, serve(body))
    assert_same_run(read_all(lambda: chat_stream(plain)), read_all(lambda: chat_stream(accelerate(plain))))


@pytest.mark.parametrize("name", OPENAI_CAPTURES)
def test_async_openai_chunks_read_like_the_sdks(name: str) -> None:
    body = (DATA / name).read_bytes()

    async def run() -> None:
        plain = sdk_client(openai.AsyncOpenAI, aserve(body), is_async=True)
        fast = accelerate(plain)
        assert_same_run(
            await aread_all(lambda: chat_stream(plain)), await aread_all(lambda: chat_stream(fast))
        )

    asyncio.run(run())


# --- Anthropic messages -----------------------------------------------------------------------


def messages_create(client: Any) -> Any:
    return client.messages.create(model="m", max_tokens=64, messages=MESSAGES, stream=True)


def helper_run(client: Any) -> tuple[list[Any], Any, list[str], Exception | None]:
    events: list[Any] = []
    try:
        with client.messages.stream(model="m", max_tokens=64, messages=MESSAGES) as stream:
            for event in stream:
                events.append(event)
            final = stream.get_final_message()
    except anthropic.APIError as error:
        return events, None, [], error
    texts = [block.text for block in final.content if block.type == "text"]
    return events, final, texts, None


@pytest.mark.parametrize("name", ANTHROPIC_CAPTURES)
def test_anthropic_raw_events_read_like_the_sdks(name: str) -> None:
    body = (DATA / name).read_bytes()
    plain = sdk_client(anthropic.Anthropic, serve(body))
    assert_same_run(
        read_all(lambda: messages_create(plain)), read_all(lambda: messages_create(accelerate(plain)))
    )


@pytest.mark.parametrize("name", ANTHROPIC_CAPTURES)
def test_anthropic_stream_helper_reads_like_the_sdks(name: str) -> None:
    body = (DATA / name).read_bytes()
    plain = sdk_client(anthropic.Anthropic, serve(body))
    want_events, want_final, want_texts, want_error = helper_run(plain)
    got_events, got_final, got_texts, got_error = helper_run(accelerate(plain))
    assert_same_run((want_events, want_error), (got_events, got_error))
    assert type(got_final) is type(want_final)  # the SDK's own ParsedMessage
    if want_final is not None:
        assert got_final.model_dump() == want_final.model_dump()
        assert got_final.to_dict() == want_final.to_dict()
        assert got_texts == want_texts


@pytest.mark.parametrize("name", ANTHROPIC_CAPTURES)
def test_anthropic_stream_helper_in_small_pieces(name: str) -> None:
    """Split invariance: the helper's events, text and message read in 7-byte network reads."""
    body = (DATA / name).read_bytes()
    pieces = [body[at : at + 7] for at in range(0, len(body), 7)]
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(pieces)
        )
    )
    plain = sdk_client(anthropic.Anthropic, transport)
    want_events, want_final, want_texts, want_error = helper_run(plain)
    got_events, got_final, got_texts, got_error = helper_run(accelerate(plain))
    assert_same_run((want_events, want_error), (got_events, got_error))
    assert got_texts == want_texts
    if want_final is not None:
        assert got_final.model_dump() == want_final.model_dump()


@pytest.mark.parametrize("name", ANTHROPIC_CAPTURES)
def test_anthropic_text_stream_and_final_text(name: str) -> None:
    body = (DATA / name).read_bytes()
    plain = sdk_client(anthropic.Anthropic, serve(body))

    def run(client: Any) -> tuple[list[str], str | None]:
        with client.messages.stream(model="m", max_tokens=64, messages=MESSAGES) as stream:
            texts = list(stream.text_stream)
            try:
                return texts, stream.get_final_text()
            except RuntimeError as error:  # no text block: the same error
                return texts, str(error)

    assert run(accelerate(plain)) == run(plain)


@pytest.mark.parametrize("name", ANTHROPIC_CAPTURES)
def test_async_anthropic_reads_like_the_sdks(name: str) -> None:
    body = (DATA / name).read_bytes()

    async def helper(client: Any) -> tuple[list[Any], list[str], Any]:
        async with client.messages.stream(model="m", max_tokens=64, messages=MESSAGES) as stream:
            events = [event async for event in stream]
            return events, [], await stream.get_final_message()

    async def text(client: Any) -> list[str]:
        async with client.messages.stream(model="m", max_tokens=64, messages=MESSAGES) as stream:
            return [piece async for piece in stream.text_stream]

    async def run() -> None:
        plain = sdk_client(anthropic.AsyncAnthropic, aserve(body), is_async=True)
        fast = accelerate(plain)
        assert_same_run(
            await aread_all(lambda: messages_create(plain)), await aread_all(lambda: messages_create(fast))
        )
        want_events, _, want_final = await helper(plain)
        got_events, _, got_final = await helper(fast)
        assert_same_run((want_events, None), (got_events, None))
        assert got_final.model_dump() == want_final.model_dump()
        assert await text(fast) == await text(plain)

    asyncio.run(run())


@pytest.mark.parametrize("piece", [None, 1, 37])
def test_anthropic_error_event_mid_stream(piece: int | None) -> None:
    """The events before an in-stream ``error`` are handed out, then the SDK's own error is raised."""
    body = (DATA / "anthropic/sdk-basic-text.sse").read_bytes()
    cut = body.index(b"event: content_block_stop")
    error = (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    body = body[:cut] + error + body[cut:]
    pieces = [body] if piece is None else [body[at : at + piece] for at in range(0, len(body), piece)]
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(pieces)
        )
    )
    plain = sdk_client(anthropic.Anthropic, transport)
    want, got = read_all(lambda: messages_create(plain)), read_all(lambda: messages_create(accelerate(plain)))
    assert isinstance(got[1], anthropic.APIStatusError) and len(got[0]) == 5
    assert_same_run(want, got)
    want_helper, got_helper = helper_run(plain), helper_run(accelerate(plain))
    assert_same_run((want_helper[0], want_helper[3]), (got_helper[0], got_helper[3]))


def test_anthropic_block_cap_is_a_typed_error() -> None:
    from fastsse._fastsse import AnthropicEventDecoder
    from fastsse.sdk._anthropic import Hooks

    body = (DATA / "anthropic/sdk-basic-text.sse").read_bytes()  # its text block gathers 12 bytes
    for mode in ("helper", "text"):
        assert AnthropicEventDecoder(mode, Hooks(None, None), max_block_bytes=12).decode(body)
        capped = AnthropicEventDecoder(mode, Hooks(None, None), max_block_bytes=11)
        assert capped.decode(body)  # the events before the error first, as the SDK hands them out
        with pytest.raises(fastsse.LimitExceededError, match="max_block_bytes") as caught:
            capped.flush()
        assert caught.value.limit_name == "max_block_bytes" and caught.value.limit == 11
    assert AnthropicEventDecoder("raw", Hooks(None, None), max_block_bytes=1).decode(body)  # keeps none


def test_openai_big_integers_stay_ints() -> None:
    body = (DATA / "sdk/openai-big-integers.sse").read_bytes()
    chunks = list(chat_stream(accelerate(sdk_client(openai.OpenAI, serve(body)))))
    assert chunks[0].created == 123456789012345678901234567890
    assert chunks[2].sequence == -18446744073709551617
    assert chunks[-1].usage.prompt_tokens == 18446744073709551621


def test_anthropic_big_integers_stay_ints() -> None:
    body = (DATA / "sdk/anthropic-big-integers.sse").read_bytes()
    fast = accelerate(sdk_client(anthropic.Anthropic, serve(body)))
    events = list(messages_create(fast))
    assert events[0].message.usage.input_tokens == 18446744073709551621
    assert events[3].sequence == 123456789012345678901234567890
    assert events[-2].usage.output_tokens == 99999999999999999999999
    with fast.messages.stream(model="m", max_tokens=64, messages=MESSAGES) as stream:
        final = stream.get_final_message()
    assert final.content[1].input == {"n": 340282366920938463463374607431768211457, "m": -(2**64) - 1}
    assert final.usage.input_tokens == 18446744073709551621


def test_anthropic_delta_views_are_native_and_read_like_the_sdks() -> None:
    body = (DATA / "anthropic/thinking-signature-text.sse").read_bytes()
    plain = sdk_client(anthropic.Anthropic, serve(body))
    want = [event for event in messages_create(plain) if event.type == "content_block_delta"]
    got = [event for event in messages_create(accelerate(plain)) if event.type == "content_block_delta"]
    assert {type(event.delta).__name__ for event in got} == {"ThinkingDelta", "SignatureDelta", "TextDelta"}
    for expected, actual in zip(want, got, strict=True):
        assert type(actual).__name__ == type(expected).__name__
        assert type(actual.delta).__name__ == type(expected.delta).__name__
        assert actual.sdk_model() == expected
        assert actual.model_dump_json() == expected.model_dump_json()
        assert actual == actual.sdk_model() or actual == got[got.index(actual)]
        assert type(expected).__name__ in repr(actual)
        with pytest.raises(AttributeError):
            _ = actual.delta.partial_json if expected.delta.type != "input_json_delta" else actual.delta.text


def test_anthropic_text_stream_after_some_events() -> None:
    """Events decoded before `text_stream` was started still give their text."""
    body = (DATA / "anthropic/thinking-signature-text.sse").read_bytes()

    def run(client: Any) -> tuple[list[Any], list[str], Any]:
        with client.messages.stream(model="m", max_tokens=64, messages=MESSAGES) as stream:
            first = [next(iter(stream)) for _ in range(3)]
            texts = list(stream.text_stream)
            return [event.type for event in first], texts, stream.get_final_message().model_dump()

    plain = sdk_client(anthropic.Anthropic, serve(body))
    assert run(accelerate(plain)) == run(plain)


def test_anthropic_current_message_snapshot() -> None:
    """The snapshot shows every event of the network chunks read so far: the SDK's, or ahead of it."""
    body = (DATA / "anthropic/sdk-text-tool-use.sse").read_bytes()

    def run(client: Any) -> tuple[list[Any], Any]:
        snapshots = []
        with client.messages.stream(model="m", max_tokens=64, messages=MESSAGES) as stream:
            for _ in stream:
                snapshots.append(stream.current_message_snapshot.model_dump())
            return snapshots, stream.current_message_snapshot.model_dump()

    plain = sdk_client(anthropic.Anthropic, serve(body))
    (got, got_last), (want, want_last) = run(accelerate(plain)), run(plain)
    assert got_last == want_last == got[-1] == want[-1]
    for ours, sdks in zip(got, want, strict=True):
        for block, sdk_block in zip(ours["content"], sdks["content"], strict=False):
            if block["type"] == "text":
                assert block["text"].startswith(sdk_block["text"])


# --- the SDK's configuration is kept -------------------------------------------------------------


def test_requests_are_the_sdks_own() -> None:
    """Auth, base URL, default headers and the body: what the plain client sends, byte for byte."""
    body = (DATA / "openai-chat/chat-text.sse").read_bytes()
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    plain = openai.OpenAI(
        api_key="sk-secret",
        base_url="http://proxy.test/custom/v1",
        default_headers={"x-team": "a"},
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )
    list(chat_stream(plain))
    list(chat_stream(accelerate(plain)))
    list(chat_stream(accelerate(plain).with_options(timeout=5)))
    sent = [(str(r.url), r.headers["authorization"], r.headers["x-team"], r.content) for r in seen]
    assert sent[0] == sent[1] == sent[2]
    assert sent[0][:3] == ("http://proxy.test/custom/v1/chat/completions", "Bearer sk-secret", "a")


def test_retries_are_the_sdks_own() -> None:
    body = (DATA / "openai-chat/chat-text.sse").read_bytes()
    statuses = iter([429, 503, 200])

    def handler(request: httpx2.Request) -> httpx2.Response:
        status = next(statuses)
        if status != 200:
            return httpx2.Response(
                status, headers={"retry-after-ms": "1"}, json={"error": {"message": "busy"}}
            )
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    client = openai.OpenAI(
        api_key="k", http_client=httpx2.Client(transport=httpx2.MockTransport(handler)), max_retries=2
    )
    chunks = list(chat_stream(accelerate(client)))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_http_errors_are_the_sdks_own() -> None:
    client = sdk_client(
        openai.OpenAI,
        httpx2.MockTransport(lambda request: httpx2.Response(401, json={"error": {"message": "bad key"}})),
    )
    with pytest.raises(openai.AuthenticationError, match="bad key"):
        chat_stream(accelerate(client))


def test_everything_else_is_delegated() -> None:
    completion = {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    }
    client = sdk_client(
        openai.OpenAI, httpx2.MockTransport(lambda request: httpx2.Response(200, json=completion))
    )
    fast = accelerate(client)
    result = fast.chat.completions.create(model="m", messages=MESSAGES)
    assert isinstance(result, openai.types.chat.ChatCompletion)
    assert result.choices[0].message.content == "hi"
    assert fast.api_key == client.api_key and fast.models is client.models


def test_views_are_not_pydantic_models() -> None:
    body = (DATA / "openai-chat/chat-text.sse").read_bytes()
    chunk = next(iter(chat_stream(accelerate(sdk_client(openai.OpenAI, serve(body))))))
    assert not isinstance(chunk, openai.types.chat.ChatCompletionChunk)
    assert isinstance(chunk.sdk_model(), openai.types.chat.ChatCompletionChunk)
    with pytest.raises(AttributeError, match="no_such_field"):
        _ = chunk.no_such_field


def test_accelerate_names_what_it_takes() -> None:
    with pytest.raises(TypeError, match=r"openai\.OpenAI"):
        accelerate(object())


def test_closing_early_releases_the_response() -> None:
    body = (DATA / "openai-chat/chat-text.sse").read_bytes()
    stream = chat_stream(accelerate(sdk_client(openai.OpenAI, serve(body))))
    next(iter(stream))
    stream.close()
    assert stream.response.is_closed


# --- over HTTP: a loopback server sends each capture in small pieces ------------------------------


def capture_app(piece: int = 41) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await request_body(scope, receive, send) is None:  # lifespan, served to its shutdown
            return
        name = dict(scope["headers"])[b"x-capture"].decode()
        body = (DATA / name).read_bytes()
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for start in range(0, len(body), piece):
            await send({"type": "http.response.body", "body": body[start : start + piece], "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


@pytest.fixture(scope="module")
def loopback() -> Iterator[str]:
    with running_server(capture_app()) as url:
        yield url


@pytest.mark.parametrize("name", OPENAI_CAPTURES + ANTHROPIC_CAPTURES)
def test_over_loopback_http(loopback: str, name: str) -> None:
    headers = {"x-capture": name}
    if name in ANTHROPIC_CAPTURES:
        client = anthropic.Anthropic(api_key="k", base_url=loopback, max_retries=0, default_headers=headers)
        run = lambda c: read_all(lambda: messages_create(c))  # noqa: E731
    else:
        client = openai.OpenAI(api_key="k", base_url=loopback, max_retries=0, default_headers=headers)
        run = lambda c: read_all(lambda: chat_stream(c))  # noqa: E731
    assert_same_run(run(client), run(accelerate(client)))
