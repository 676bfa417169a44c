"""What a new user trips on with `iter_chunks` / `aiter_chunks`: an HTTP error status, a stream
cut before its end (`strict=True`), the wrong provider name, import cost, typed names. The
responses come from a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import anyio
import fastsse
import httpx
import pytest
from serving import running_server
from support.fake_upstream import request_body

DATA = Path(__file__).parent / "data"
OPENAI_TEXT = (DATA / "openai-chat" / "chat-text.sse").read_bytes()
ERROR_BODY = b'{"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}'
ROUTES: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = {
    "/limited": (429, [(b"content-type", b"application/json"), (b"retry-after-ms", b"1500")], ERROR_BODY),
    "/down": (503, [(b"content-type", b"text/html"), (b"retry-after", b"7")], b"<html>down</html>"),
    "/cut": (200, [(b"content-type", b"text/event-stream")], OPENAI_TEXT[: len(OPENAI_TEXT) // 2]),
    "/whole": (200, [(b"content-type", b"text/event-stream")], OPENAI_TEXT),
}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if await request_body(scope, receive, send) is None:  # lifespan, served to its shutdown
        return
    status, headers, body = ROUTES[scope["path"]]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server(app) as url:
        yield url


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_an_error_status_raises_provider_http_error(base_url: str) -> None:
    with httpx.Client() as http, http.stream("POST", base_url + "/limited") as response:
        with pytest.raises(fastsse.ProviderHTTPError) as info:
            fastsse.iter_chunks(response, "openai")
        assert response.is_closed
    error = info.value
    assert (error.status_code, error.code) == (429, "rate_limit_exceeded")
    assert error.provider_message == "Rate limit reached"
    assert error.retry_after == 1.5 and error.headers["retry-after-ms"] == "1500"
    assert error.raw == ERROR_BODY.decode()


@pytest.mark.anyio
async def test_an_error_status_raises_on_the_first_anext(base_url: str) -> None:
    async with httpx.AsyncClient() as http, http.stream("POST", base_url + "/down") as response:
        stream = fastsse.aiter_chunks(response, "openai")
        with pytest.raises(fastsse.ProviderHTTPError) as info:
            await stream.__anext__()
    assert (info.value.status_code, info.value.retry_after, info.value.raw) == (503, 7.0, "<html>down</html>")


def test_retry_after_forms() -> None:
    from fastsse._http_status import retry_after

    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None


def test_a_cut_stream_ends_with_incomplete_stream_or_raises_when_strict(base_url: str) -> None:
    with httpx.Client() as http:
        with http.stream("POST", base_url + "/cut") as response:
            chunks = list(fastsse.iter_chunks(response, "openai"))
        assert chunks[-1].error_code == "incomplete_stream" and chunks[-1].finish_reason == "error"
        with http.stream("POST", base_url + "/cut") as response:
            stream = fastsse.iter_chunks(response, "openai", strict=True)
            with pytest.raises(fastsse.IncompleteStreamError) as info:
                for _ in stream:
                    pass
        assert info.value.partial.text == fastsse.collect(chunks).text != ""
        assert isinstance(info.value, fastsse.ProtocolError)
        with http.stream("POST", base_url + "/whole") as response:
            whole = fastsse.collect(fastsse.iter_chunks(response, "openai", strict=True))
        assert whole.finish_reason == "stop"


def test_strict_async() -> None:
    async def main() -> None:
        stream = fastsse.aiter_chunks([OPENAI_TEXT[:1200]], "openai", strict=True)
        with pytest.raises(fastsse.IncompleteStreamError):
            async for _ in stream:
                pass

    anyio.run(main)


def test_the_wrong_provider_warns_once_per_stream() -> None:
    anthropic_text = (DATA / "anthropic" / "sdk-basic-text.sse").read_bytes()
    with pytest.warns(fastsse.NoEventsMatchedWarning, match="'openai'"):
        chunks = list(fastsse.iter_chunks(anthropic_text, "openai"))
    assert [c.error_code for c in chunks] == ["incomplete_stream"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(fastsse.iter_chunks(OPENAI_TEXT, "openai"))
        list(fastsse.iter_chunks(b"", "openai"))  # nothing read: nothing to warn about


def test_provider_name_literal_matches_the_registry() -> None:
    assert set(get_args(fastsse.ProviderName)) == set(fastsse.PROVIDERS)


def test_import_fastsse_loads_no_server_client_or_sdk_glue() -> None:
    code = (
        "import sys, fastsse; "
        "print(sorted(m for m in ('uvicorn', 'starlette', 'fastsse.server', 'fastsse.client', "
        "'fastsse.sdk', 'pydantic_core', 'httpx') if m in sys.modules)); "
        "fastsse.server; fastsse.accelerate; print('fastsse.server' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["[]", "True"]


def test_build_info_says_what_was_built() -> None:
    info = fastsse.build_info()
    assert info["version"] == fastsse.__version__
    assert info["profile"] in ("debug", "release") and "python" in info["features"]
