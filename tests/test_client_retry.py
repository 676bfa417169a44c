"""`fastsse.client.Retry`: a request answered 429 / 5xx is sent again (bounded, honouring
`retry-after`), against a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import fastsse
import pytest
from fastsse.client import AsyncClient, Client, Retry
from serving import running_server
from support.fake_upstream import request_body

STREAM = (Path(__file__).parent / "data" / "openai-chat" / "chat-text.sse").read_bytes()


class FlakyApp:
    """Answers `failures` requests with 429 (retry-after-ms: 20), then streams a capture."""

    def __init__(self) -> None:
        self.failures = 0
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await request_body(scope, receive, send) is None:  # lifespan, served to its shutdown
            return
        self.requests += 1
        if self.requests <= self.failures:
            headers = [(b"content-type", b"application/json"), (b"retry-after-ms", b"20")]
            body = b'{"error": {"message": "slow down", "code": "rate_limit_exceeded"}}'
            await send({"type": "http.response.start", "status": 429, "headers": headers})
        else:
            headers = [(b"content-type", b"text/event-stream")]
            body = STREAM
            await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FlakyApp, str]]:
    app = FlakyApp()
    with running_server(app) as url:
        yield app, url


def test_sync_retries_then_streams(server: tuple[FlakyApp, str]) -> None:
    app, url = server
    app.failures, app.requests = 2, 0
    with Client("openai", base_url=url + "/v1", api_key="k", retry=Retry(attempts=2, backoff=0.01)) as client:
        result = fastsse.collect(client.stream(model="m", prompt="hi"))
    assert app.requests == 3 and result.finish_reason == "stop"


def test_retries_are_bounded_and_off_by_default(server: tuple[FlakyApp, str]) -> None:
    app, url = server
    app.failures, app.requests = 10, 0
    with Client("openai", base_url=url + "/v1", api_key="k", retry=Retry(attempts=1)) as client:
        with pytest.raises(fastsse.ProviderHTTPError) as info:
            next(client.stream(model="m", prompt="hi"))
    assert app.requests == 2 and info.value.status_code == 429 and info.value.retry_after == 0.02
    app.requests = 0
    with Client("openai", base_url=url + "/v1", api_key="k") as client:
        with pytest.raises(fastsse.ProviderHTTPError):
            next(client.stream(model="m", prompt="hi"))
    assert app.requests == 1


def test_async_retries(server: tuple[FlakyApp, str]) -> None:
    app, url = server
    app.failures, app.requests = 1, 0

    async def main() -> fastsse.GenerationResult:
        async with AsyncClient("openai", base_url=url + "/v1", api_key="k", retry=Retry()) as client:
            return await fastsse.acollect(client.stream(model="m", prompt="hi"))

    assert anyio.run(main).finish_reason == "stop" and app.requests == 2


def test_waits_honour_retry_after_and_are_capped() -> None:
    retry = Retry(backoff=1.0, max_wait=5.0)
    assert retry.wait(0, {"retry-after": "3"}) == 3.0
    assert retry.wait(0, {"retry-after": "60"}) == 5.0
    assert 0.75 <= retry.wait(0, {}) <= 1.0 and 3.0 <= retry.wait(2, {}) <= 4.0
    with pytest.raises(ValueError):
        Retry(attempts=-1)
