"""Fixtures shared by the server tests: a module-scoped fastsse server on 127.0.0.1 (the replay
engine, hermes tools, think reasoning; see serving.py) and the official SDKs as its clients. A module
may define its own `replay`, `app` or `base_url`; `scripted` makes the replay engine write
support.chat's SCRIPTED for one test."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest
from fastsse.adapters import ReplayAdapter
from fastsse.server import FastSSEApp, create_app
from serving import running_server
from support.chat import SCRIPTED, answering
from support.processes import RedisServer


@pytest.fixture(scope="module")
def replay() -> ReplayAdapter:
    return ReplayAdapter(tokens_per_second=None)


@pytest.fixture(scope="module")
def app(replay: ReplayAdapter) -> FastSSEApp:
    return create_app(replay, reasoning="think", tools="hermes", model="replay-1")


@pytest.fixture(scope="module")
def base_url(app: FastSSEApp) -> Iterator[str]:
    with running_server(app) as url:
        yield url


@pytest.fixture
def scripted(replay: ReplayAdapter) -> Iterator[ReplayAdapter]:
    """The shared adapter answers with SCRIPTED (or what the test sets) for one test."""
    with answering(replay, [SCRIPTED]):
        yield replay


@pytest.fixture
def oai(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0) as client:
        yield client


@pytest.fixture
def claude(base_url: str) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=base_url, api_key="unused", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A real ``redis-server`` on a free loopback port, for the module's tests."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()
