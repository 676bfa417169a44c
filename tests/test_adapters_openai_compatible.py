"""The OpenAI-compatible proxy adapter, against a replay server started in the test.

Chain: client -> proxy server (OpenAICompatibleAdapter, parses reasoning and tool calls) ->
upstream server's raw-text ``/v1/completions`` (ReplayAdapter).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import anyio
import openai
import pytest
from fastsse.adapters import OpenAICompatibleAdapter, ReplayAdapter
from fastsse.errors import ProviderError
from fastsse.server import create_app
from serving import running_server
from support.chat import leave_mid_stream, paced

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Returns the current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[str, ReplayAdapter]]:
    engine = ReplayAdapter(tokens_per_second=None)
    with running_server(create_app(engine, model="engine")) as url:
        yield url, engine


@pytest.fixture(scope="module")
def proxy(upstream: tuple[str, ReplayAdapter]) -> Iterator[openai.OpenAI]:
    adapter = OpenAICompatibleAdapter(f"{upstream[0]}/v1", model="engine")
    app = create_app(adapter, reasoning="think", tools="hermes", model="proxied")
    with (
        running_server(app) as url,
        openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0) as client,
    ):
        yield client


def test_tool_call_through_the_proxy(proxy: openai.OpenAI, upstream: tuple[str, ReplayAdapter]) -> None:
    question = [{"role": "user", "content": "Weather in Oslo?"}]
    response = proxy.chat.completions.create(model="proxied", messages=question, tools=TOOLS)  # type: ignore[arg-type]
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Oslo"}
    assert "get_weather" in (choice.message.model_extra or {})["reasoning_content"]
    engine = upstream[1]
    assert response.usage is not None
    assert response.usage.completion_tokens == engine.records[-1].tokens_emitted
    assert response.usage.prompt_tokens == engine.count_tokens(engine.records[-1].prompt)


def test_streamed_text_and_length_through_the_proxy(proxy: openai.OpenAI) -> None:
    chunks = list(
        proxy.chat.completions.create(
            model="proxied",
            messages=[{"role": "user", "content": "Explain streaming"}],
            stream=True,
            max_tokens=60,
        )
    )
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks)
    assert reasoning.strip().startswith('The user asks: "Explain streaming"')
    assert chunks[-1].choices[0].finish_reason == "length"


def test_leaving_the_proxy_stops_the_upstream_engine(
    proxy: openai.OpenAI, upstream: tuple[str, ReplayAdapter]
) -> None:
    engine = upstream[1]
    with paced(engine):
        stream = proxy.chat.completions.create(
            model="proxied", messages=[{"role": "user", "content": "Explain streaming"}], stream=True
        )
        leave_mid_stream(stream, 5, engine)


def test_upstream_errors_become_provider_errors(upstream: tuple[str, ReplayAdapter]) -> None:
    async def main() -> None:
        adapter = OpenAICompatibleAdapter(f"{upstream[0]}/v1")
        try:
            with pytest.raises(ProviderError) as caught:
                async for _ in adapter.generate("p", max_new_tokens=0):
                    pass
            assert caught.value.status_code == 400  # type: ignore[attr-defined]
            assert (
                caught.value.code == "invalid_request_error" and "max_tokens" in caught.value.provider_message
            )
        finally:
            await adapter.aclose()

    anyio.run(main)


def test_request_body_carries_the_sampling_options() -> None:
    adapter = OpenAICompatibleAdapter("http://127.0.0.1:9/v1", model="x", extra_body={"ignore_eos": True})
    body = adapter._request_body(
        "p", 7, temperature=0.2, stop=["a"], seed=None, logprobs=True, top_logprobs=3, top_k=None
    )
    assert body == {
        "model": "x",
        "prompt": "p",
        "max_tokens": 7,
        "stream": True,
        "stream_options": {"include_usage": True},
        "logprobs": 3,
        "temperature": 0.2,
        "stop": ["a"],
        "ignore_eos": True,
    }
    anyio.run(adapter.aclose)
