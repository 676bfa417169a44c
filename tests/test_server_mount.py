"""The server mounted under a prefix (a Starlette ``Mount``), reached by the official SDKs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest
from fastsse.server import FastSSEApp
from fastsse.server._asgi import route_path
from serving import running_server
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from support.chat import OPENAI_TOOLS, QUESTION, WEATHER


@pytest.fixture(scope="module")
def base_url(app: FastSSEApp) -> Iterator[str]:
    """conftest's app (the replay engine) mounted at /llm of a site."""
    site = Starlette(
        routes=[
            Route("/", lambda request: PlainTextResponse("the site")),
            Mount("/llm", app=app),
        ]
    )
    with running_server(site) as url:
        yield url


def test_openai_sdk_through_the_mount(base_url: str) -> None:
    with openai.OpenAI(base_url=f"{base_url}/llm/v1", api_key="unused", max_retries=0) as client:
        assert [model.id for model in client.models.list()] == ["replay-1"]
        with client.chat.completions.stream(
            model="replay-1", messages=QUESTION, tools=OPENAI_TOOLS
        ) as stream:
            completion = stream.get_final_completion()
        call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
        assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
        text = client.chat.completions.create(model="replay-1", messages=[{"role": "user", "content": "Hi"}])
        assert text.choices[0].message.content


def test_anthropic_sdk_through_the_mount(base_url: str) -> None:
    with anthropic.Anthropic(base_url=f"{base_url}/llm", api_key="unused", max_retries=0) as client:
        tool = {"name": WEATHER["name"], "description": "", "input_schema": WEATHER["parameters"]}
        with client.messages.stream(
            model="replay-1", max_tokens=1000, messages=QUESTION, tools=[tool]
        ) as stream:  # type: ignore[list-item]
            message = stream.get_final_message()
        uses = [block for block in message.content if block.type == "tool_use"]
        assert uses and uses[0].input == {"city": "Paris", "unit": "celsius"}


def test_the_rest_of_the_site_and_errors_under_the_mount(base_url: str) -> None:
    assert httpx.get(f"{base_url}/").text == "the site"
    assert httpx.get(f"{base_url}/llm/health").json()["status"] == "ok"
    missing = httpx.get(f"{base_url}/llm/v2/nothing")
    assert missing.status_code == 404 and "/v2/nothing" in missing.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "root_path", "route"),
    [
        ("/llm/v1/models", "/llm", "/v1/models"),  # ASGI 3 servers and Starlette: the full path
        ("/v1/models", "/llm", "/v1/models"),  # older servers strip the prefix themselves
        ("/llm", "/llm", "/"),
        ("/llmx/v1", "/llm", "/llmx/v1"),  # a longer name is not under the prefix
        ("/v1/models", "", "/v1/models"),
    ],
)
def test_route_path(path: str, root_path: str, route: str) -> None:
    assert route_path({"path": path, "root_path": root_path}) == route
