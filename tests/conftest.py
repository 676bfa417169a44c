"""Fixtures shared by the server tests: the official SDKs as clients of the module's `base_url`
fixture (a fastsse server on 127.0.0.1, see serving.py). A module may define its own."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest


@pytest.fixture
def oai(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0) as client:
        yield client


@pytest.fixture
def claude(base_url: str) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=base_url, api_key="unused", max_retries=0) as client:
        yield client
