"""`iter_chunks` / `aiter_chunks` read the official SDKs' raw responses and streams.

Each case feeds the same capture through an SDK object and as plain bytes: the chunks must be equal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anthropic
import fastsse
import httpx2
import openai
import pytest
from provider_fixtures import DATA

MESSAGES = [{"role": "user", "content": "hi"}]
CASES = [
    ("openai", "openai-chat/chat-tool-call.sse", openai.OpenAI, openai.AsyncOpenAI),
    ("anthropic", "anthropic/thinking-tool-use.sse", anthropic.Anthropic, anthropic.AsyncAnthropic),
]


def transport(body: bytes, is_async: bool) -> httpx2.MockTransport:
    def respond(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    async def arespond(request: httpx2.Request) -> httpx2.Response:
        return respond(request)

    return httpx2.MockTransport(arespond if is_async else respond)


def client_for(factory: Any, body: bytes, is_async: bool) -> Any:
    http_client = (httpx2.AsyncClient if is_async else httpx2.Client)(transport=transport(body, is_async))
    return factory(api_key="k", base_url="http://sdk.test/v1", http_client=http_client, max_retries=0)


def resource(client: Any, provider: str) -> tuple[Any, dict[str, Any]]:
    if provider == "openai":
        return client.chat.completions, {"model": "m", "messages": MESSAGES, "stream": True}
    return client.messages, {"model": "m", "max_tokens": 16, "messages": MESSAGES, "stream": True}


def expected_chunks(provider: str, body: bytes) -> list[fastsse.GenerationChunk]:
    return list(fastsse.iter_chunks([body], provider))


SYNC_SOURCES: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "with_streaming_response": lambda api, kwargs: api.with_streaming_response.create(**kwargs),
    "with_raw_response": lambda api, kwargs: api.with_raw_response.create(**kwargs),
    "stream": lambda api, kwargs: api.create(**kwargs),
}


@pytest.mark.parametrize("how", list(SYNC_SOURCES))
@pytest.mark.parametrize(("provider", "name", "factory", "async_factory"), CASES)
def test_sync_sdk_sources(how: str, provider: str, name: str, factory: Any, async_factory: Any) -> None:
    body = (DATA / name).read_bytes()
    api, kwargs = resource(client_for(factory, body, False), provider)
    source = SYNC_SOURCES[how](api, kwargs)
    if how == "with_streaming_response":
        with source as response:
            assert list(fastsse.iter_chunks(response, provider)) == expected_chunks(provider, body)
            assert response.http_response.is_closed
    else:
        assert list(fastsse.iter_chunks(source, provider)) == expected_chunks(provider, body)


@pytest.mark.parametrize("how", ["with_streaming_response", "stream"])
@pytest.mark.parametrize(("provider", "name", "factory", "async_factory"), CASES)
def test_async_sdk_sources(how: str, provider: str, name: str, factory: Any, async_factory: Any) -> None:
    body = (DATA / name).read_bytes()

    async def run() -> list[fastsse.GenerationChunk]:
        api, kwargs = resource(client_for(async_factory, body, True), provider)
        if how == "stream":
            stream = await api.create(**kwargs)
            async with fastsse.aiter_chunks(stream, provider) as chunks:
                return [chunk async for chunk in chunks]
        async with api.with_streaming_response.create(**kwargs) as response:
            assert type(response).__name__ == "AsyncAPIResponse"
            return [chunk async for chunk in fastsse.aiter_chunks(response, provider)]

    assert asyncio.run(run()) == expected_chunks(provider, body)


@pytest.mark.parametrize("source", [object(), "data: {}\n\n", 42])
def test_anything_else_is_a_type_error_saying_what_to_pass(source: Any) -> None:
    with pytest.raises(TypeError, match="with_streaming_response"):
        list(fastsse.iter_chunks(source, "openai"))
