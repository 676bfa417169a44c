"""fastsse.client: the request each provider gets, and the response it hands back.

Every provider's request (method, URL, headers, JSON body) is checked as sent through an
httpx / httpx2 MockTransport, sync and async (asyncio and trio), plus aiohttp against a local
server. Responses are recorded provider streams from tests/data/ (licenses in its README).
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import hashlib
import hmac
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlsplit

import anyio
import fastsse
import httpx
import httpx2
import pytest
from fastsse.client import (
    AsyncClient,
    ChatRequest,
    Client,
    HTTPRequest,
    Message,
    Tool,
    ToolCallSpec,
    build_request,
    sigv4_signer,
)
from fastsse.errors import ProviderHTTPError, UsageError

DATA = Path(__file__).parent / "data"
HTTP_MODULES = [pytest.param(httpx, id="httpx"), pytest.param(httpx2, id="httpx2")]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
REQUEST = ChatRequest(
    model="m-1",
    messages=[
        Message("system", "Be brief."),
        Message("user", "Weather in Paris?"),
        Message("assistant", "", tool_calls=[ToolCallSpec("call_1", "get_weather", '{"city": "Paris"}')]),
        Message("tool", "18C, sunny", tool_call_id="call_1", name="get_weather"),
    ],
    max_tokens=64,
    temperature=0.5,
    tools=[Tool("get_weather", "Current weather", SCHEMA)],
    stop=["\n\n"],
    extra_body={"seed": 7},
)
TOOL_ARGS = '{"city": "Paris"}'
# REQUEST's tools as OpenAI Chat Completions sends them (Ollama takes the same shape).
OPENAI_WIRE_TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "parameters": SCHEMA, "description": "Current weather"},
    }
]

# A short /generate_stream body in TGI's documented event shape. SYNTHETIC: no TGI capture
# exists in shared/fixtures.
TGI_STREAM = (
    b'data:{"index":1,"token":{"id":22557,"text":"Hello","logprob":-0.31,"special":false},'
    b'"generated_text":null,"details":null}\n\n'
    b'data:{"index":2,"token":{"id":28808,"text":"!","logprob":-0.02,"special":false},'
    b'"generated_text":null,"details":null}\n\n'
    b'data:{"index":3,"token":{"id":2,"text":"</s>","logprob":-0.01,"special":true},'
    b'"generated_text":"Hello!","details":{"finish_reason":"eos_token","generated_tokens":3,"seed":null}}\n\n'
)


@dataclasses.dataclass
class Case:
    provider: str
    request: ChatRequest
    options: dict[str, Any]
    url: str
    headers: dict[str, str]
    body: dict[str, Any]
    fixture: str
    content_type: str


CASES = [
    Case(
        "openai",
        REQUEST,
        {"api_key": "sk-test"},
        "https://api.openai.com/v1/chat/completions",
        {"authorization": "Bearer sk-test", "accept": "text/event-stream"},
        {
            "model": "m-1",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": TOOL_ARGS},
                        }
                    ],
                },
                {"role": "tool", "content": "18C, sunny", "tool_call_id": "call_1"},
            ],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": 64,
            "temperature": 0.5,
            "stop": ["\n\n"],
            "tools": OPENAI_WIRE_TOOLS,
            "seed": 7,
        },
        "openai-chat/chat-tool-call.sse",
        "text/event-stream",
    ),
    Case(
        "openai-responses",
        dataclasses.replace(REQUEST, stop=()),
        {"api_key": "sk-test", "base_url": "https://gateway.test/openai/v1/"},
        "https://gateway.test/openai/v1/responses",
        {"authorization": "Bearer sk-test", "accept": "text/event-stream"},
        {
            "model": "m-1",
            "input": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Paris?"},
                {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": TOOL_ARGS},
                {"type": "function_call_output", "call_id": "call_1", "output": "18C, sunny"},
            ],
            "stream": True,
            "max_output_tokens": 64,
            "temperature": 0.5,
            "tools": [
                {
                    "type": "function",
                    "name": "get_weather",
                    "parameters": SCHEMA,
                    "description": "Current weather",
                }
            ],
            "seed": 7,
        },
        "openai-responses/responses-text-no-sequence-number.sse",
        "text/event-stream",
    ),
    Case(
        "anthropic",
        REQUEST,
        {"api_key": "sk-ant-test"},
        "https://api.anthropic.com/v1/messages",
        {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01", "accept": "text/event-stream"},
        {
            "model": "m-1",
            "max_tokens": 64,
            "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "call_1",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        }
                    ],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "18C, sunny"}],
                },
            ],
            "stream": True,
            "system": "Be brief.",
            "temperature": 0.5,
            "stop_sequences": ["\n\n"],
            "tools": [{"name": "get_weather", "input_schema": SCHEMA, "description": "Current weather"}],
            "seed": 7,
        },
        "anthropic/sdk-basic-text.sse",
        "text/event-stream",
    ),
    Case(
        "gemini",
        REQUEST,
        {"api_key": "AIza-test"},
        "https://generativelanguage.googleapis.com/v1beta/models/m-1:streamGenerateContent?alt=sse",
        {"x-goog-api-key": "AIza-test", "accept": "text/event-stream"},
        {
            "contents": [
                {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
                {
                    "role": "model",
                    "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
                },
                {
                    "role": "user",
                    "parts": [
                        {"functionResponse": {"name": "get_weather", "response": {"content": "18C, sunny"}}}
                    ],
                },
            ],
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "generationConfig": {"maxOutputTokens": 64, "temperature": 0.5, "stopSequences": ["\n\n"]},
            "tools": [
                {
                    "functionDeclarations": [
                        {"name": "get_weather", "parameters": SCHEMA, "description": "Current weather"}
                    ]
                }
            ],
            "seed": 7,
        },
        "gemini/text.sse",
        "text/event-stream",
    ),
    Case(
        "ollama",
        REQUEST,
        {},
        "http://127.0.0.1:11434/api/chat",
        {},
        {
            "model": "m-1",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
                },
                {"role": "tool", "content": "18C, sunny", "tool_name": "get_weather"},
            ],
            "stream": True,
            "options": {"num_predict": 64, "temperature": 0.5, "stop": ["\n\n"]},
            "tools": OPENAI_WIRE_TOOLS,
            "seed": 7,
        },
        "ollama/chat-stream.ndjson",
        "application/x-ndjson",
    ),
    Case(
        "bedrock",
        dataclasses.replace(REQUEST, model="us.amazon.nova-micro-v1:0"),
        {"api_key": "bedrock-api-key", "region": "eu-west-3"},
        "https://bedrock-runtime.eu-west-3.amazonaws.com/model/us.amazon.nova-micro-v1%3A0/converse-stream",
        {"authorization": "Bearer bedrock-api-key"},
        {
            "messages": [
                {"role": "user", "content": [{"text": "Weather in Paris?"}]},
                {
                    "role": "assistant",
                    "content": [
                        {
                            "toolUse": {
                                "toolUseId": "call_1",
                                "name": "get_weather",
                                "input": {"city": "Paris"},
                            }
                        }
                    ],
                },
                {
                    "role": "user",
                    "content": [{"toolResult": {"toolUseId": "call_1", "content": [{"text": "18C, sunny"}]}}],
                },
            ],
            "system": [{"text": "Be brief."}],
            "inferenceConfig": {"maxTokens": 64, "temperature": 0.5, "stopSequences": ["\n\n"]},
            "toolConfig": {
                "tools": [
                    {
                        "toolSpec": {
                            "name": "get_weather",
                            "inputSchema": {"json": SCHEMA},
                            "description": "Current weather",
                        }
                    }
                ]
            },
            "seed": 7,
        },
        "bedrock/converse-stream-text-tool-use.bin",
        "application/vnd.amazon.eventstream",
    ),
    Case(
        "tgi",
        ChatRequest(prompt="<s>[INST] Say hello [/INST]", max_tokens=20, temperature=0.7, stop=["</s>"]),
        {"base_url": "http://tgi.local:3000"},
        "http://tgi.local:3000/generate_stream",
        {"accept": "text/event-stream"},
        {
            "inputs": "<s>[INST] Say hello [/INST]",
            "parameters": {"details": True, "max_new_tokens": 20, "temperature": 0.7, "stop": ["</s>"]},
        },
        "",
        "text/event-stream",
    ),
]
CASE_PARAMS = [pytest.param(case, id=case.provider) for case in CASES]


def stream_bytes(case: Case) -> bytes:
    return TGI_STREAM if case.provider == "tgi" else (DATA / case.fixture).read_bytes()


class Recorder:
    """A MockTransport handler: records each request, answers with ``body`` in small pieces,
    and notes whether the response stream was closed."""

    def __init__(self, module: ModuleType, body: bytes, status: int = 200, content_type: str = "") -> None:
        self.module = module
        self.body = body
        self.status = status
        self.content_type = content_type
        self.requests: list[Any] = []
        self.closed = 0

    def pieces(self) -> list[bytes]:
        return [self.body[i : i + 97] for i in range(0, len(self.body), 97)]

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        recorder = self

        class Body(self.module.SyncByteStream, self.module.AsyncByteStream):  # type: ignore[name-defined,misc]
            def __iter__(self) -> Iterator[bytes]:
                yield from recorder.pieces()

            async def __aiter__(self) -> AsyncIterator[bytes]:
                for piece in recorder.pieces():
                    await anyio.lowlevel.checkpoint()
                    yield piece

            def close(self) -> None:
                recorder.closed += 1

            async def aclose(self) -> None:
                recorder.closed += 1

        headers = {"content-type": self.content_type} if self.content_type else {}
        return self.module.Response(self.status, headers=headers, stream=Body())

    @property
    def request(self) -> Any:
        assert len(self.requests) == 1
        return self.requests[0]


def check_request(sent: Any, case: Case) -> None:
    assert sent.method == "POST"
    assert str(sent.url) == case.url
    assert sent.headers["content-type"] == "application/json"
    for name, value in case.headers.items():
        assert sent.headers[name] == value, name
    if "authorization" not in case.headers:
        assert "authorization" not in sent.headers
    assert json.loads(sent.content) == case.body


# --- request building --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("module", HTTP_MODULES)
def test_request_per_provider_sync(case: Case, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "AWS_BEARER_TOKEN_BEDROCK",
    ):
        monkeypatch.delenv(name, raising=False)
    recorder = Recorder(module, stream_bytes(case), content_type=case.content_type)
    with module.Client(transport=module.MockTransport(recorder)) as http:
        client = Client(case.provider, http_client=http, **case.options)
        with client.stream(case.request) as chunks:
            check_request(recorder.request, case)
            assert chunks.response.status_code == 200
            assert b"".join(chunks.response.iter_bytes()) == stream_bytes(case)  # delivered intact
        assert recorder.closed == 1
    assert client.build_request(case.request) == build_request(case.provider, case.request, **case.options)


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("module", HTTP_MODULES)
async def test_request_per_provider_async(case: Case, module: ModuleType) -> None:
    recorder = Recorder(module, stream_bytes(case), content_type=case.content_type)
    async with module.AsyncClient(transport=module.MockTransport(recorder)) as http:
        client = AsyncClient(case.provider, http_client=http, **case.options)
        async with client.stream(case.request) as chunks:
            check_request(recorder.request, case)
            assert b"".join([piece async for piece in chunks.response.aiter_bytes()]) == stream_bytes(case)
        assert recorder.closed == 1


def test_request_fields_and_dict_forms() -> None:
    """Messages and tools as OpenAI-style dicts, keyword fields, and fastsse.ToolCall-like objects."""

    class ToolCallLike:  # what fastsse.collect() returns in GenerationResult.tool_calls
        id = "call_9"
        name = "lookup"
        arguments = '{"q": 1}'

    messages = [
        {"role": "developer", "content": "Rules."},
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [ToolCallLike()]},
        {"role": "tool", "tool_call_id": "call_9", "content": "42"},
        {"role": "tool", "tool_call_id": "call_9", "content": "43"},
    ]
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": SCHEMA}}]
    client = Client("anthropic", api_key="k")
    built = client.build_request(model="claude", messages=messages, tools=tools, stop="END")
    assert built.body["system"] == "Rules."
    assert built.body["stop_sequences"] == ["END"]
    assert built.body["max_tokens"] == 4096  # Anthropic requires it; documented default
    assert built.body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "call_9", "name": "lookup", "input": {"q": 1}},
        ],
    }
    assert built.body["messages"][2]["content"] == [  # parallel results share one user turn
        {"type": "tool_result", "tool_use_id": "call_9", "content": "42"},
        {"type": "tool_result", "tool_use_id": "call_9", "content": "43"},
    ]
    assert built.body["tools"] == [{"name": "lookup", "input_schema": SCHEMA}]
    gemini = build_request(
        "gemini", ChatRequest(model="models/gemini-2.5-flash", messages=messages), api_key="k"
    )
    assert gemini.url.endswith("/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    assert gemini.body["contents"][2]["parts"][1]["functionResponse"]["name"] == "lookup"  # from the call id
    assert isinstance(gemini.content(), bytes) and json.loads(gemini.content()) == gemini.body


def test_api_keys_and_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    monkeypatch.setenv("GEMINI_API_KEY", "gem-env")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    request = ChatRequest(model="m", messages=[Message("user", "hi")])
    assert build_request("openai", request).headers["authorization"] == "Bearer from-env"
    assert build_request("openai", request, api_key="explicit").headers["authorization"] == "Bearer explicit"
    assert build_request("gemini", request).headers["x-goog-api-key"] == "gem-env"
    overridden = build_request(
        "anthropic", request, api_key="k", headers={"Anthropic-Version": "2024-01-01", "X-Trace": "1"}
    )
    assert overridden.headers["anthropic-version"] == "2024-01-01" and overridden.headers["x-trace"] == "1"
    local = build_request("ollama", request, base_url="http://gpu-box:11434/")
    assert local.url == "http://gpu-box:11434/api/chat" and "authorization" not in local.headers
    with pytest.raises(UsageError, match="region"):
        build_request("bedrock", request)
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert build_request("bedrock", request).url.startswith(
        "https://bedrock-runtime.ap-south-1.amazonaws.com/"
    )
    presigned = build_request(
        "bedrock",
        request,
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=...", "X-Amz-Date": "20250101T000000Z"},
    )
    assert presigned.headers["authorization"].startswith("AWS4-HMAC-SHA256")
    assert presigned.headers["x-amz-date"] == "20250101T000000Z"


@pytest.mark.parametrize(
    ("provider", "request_", "match"),
    [
        ("cohere", ChatRequest(model="m"), "unknown provider 'cohere'"),
        ("tgi", ChatRequest(messages=[Message("user", "hi")]), "prompt="),
        ("tgi", ChatRequest(prompt="x", tools=[Tool("t")]), "no tools"),
        ("openai-responses", ChatRequest(model="m", stop=["x"]), "no stop sequences"),
        ("gemini", ChatRequest(model="", messages=[]), "model name"),
        ("gemini", ChatRequest(model="g", messages=[Message("tool", "1", tool_call_id="?")]), "Message.name"),
        ("anthropic", ChatRequest(model="c", messages=[{"role": "robot", "content": "x"}]), "role"),
        (
            "openai",
            ChatRequest(model="c", messages=[{"role": "user", "content": [{"type": "image"}]}]),
            "text",
        ),
        ("openai", ChatRequest(model="c", tools=[{"description": "no name"}]), "name"),
        (
            "anthropic",
            ChatRequest(
                model="c", messages=[Message("assistant", tool_calls=[ToolCallSpec("i", "f", "{bad")])]
            ),
            "not JSON",
        ),
        ("bedrock", ChatRequest(model=""), "model id"),
    ],
)
def test_bad_requests_are_usage_errors(provider: str, request_: ChatRequest, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        build_request(provider, request_, region="us-east-1")


# --- timeouts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", HTTP_MODULES)
def test_timeouts_reach_the_transport(module: ModuleType) -> None:
    def sent_timeout(**options: Any) -> dict[str, float | None]:
        recorder = Recorder(module, b"data: {}\n\n")
        with module.Client(transport=module.MockTransport(recorder), timeout=3.0) as http:
            with Client("openai", http_client=http, api_key="k", **options).stream(model="m") as chunks:
                assert chunks.response.status_code == 200
        return dict(recorder.request.extensions["timeout"])

    assert sent_timeout() == {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}  # the client's own
    assert sent_timeout(timeout=42.0) == {"connect": 42.0, "read": 42.0, "write": 42.0, "pool": 42.0}
    custom = httpx.Timeout(5.0, read=None)  # an httpx Timeout works with an httpx2 client too
    assert sent_timeout(timeout=custom) == {"connect": 5.0, "read": None, "write": 5.0, "pool": 5.0}

    recorder = Recorder(module, b"")
    owned = Client("openai", api_key="k")
    owned._http = module.Client(transport=module.MockTransport(recorder))  # our own client: defaults apply
    owned._owns_http = True
    with owned, owned.stream(model="m"):
        pass
    assert recorder.request.extensions["timeout"] == {
        "connect": 10.0,
        "read": 600.0,
        "write": 600.0,
        "pool": 600.0,
    }


# --- HTTP errors -------------------------------------------------------------------------------

ERROR_BODIES = [
    ("openai", 429,
     b'{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}',
     "rate_limit_exceeded", "Rate limit reached"),
    ("anthropic", 529,
     b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
     "overloaded_error", "Overloaded"),
    ("gemini", 400,
     b'[{"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}]',
     "INVALID_ARGUMENT", "API key not valid."),
    ("ollama", 404,
     b'{"error": "model \\"llama9\\" not found, try pulling it first"}',
     None, 'model "llama9" not found, try pulling it first'),
    ("tgi", 422,
     b'{"error": "Input validation error: `inputs` must not be empty", "error_type": "validation"}',
     "validation", "Input validation error: `inputs` must not be empty"),
    ("bedrock", 403,
     b'{"message": "The security token included in the request is invalid."}',
     "UnrecognizedClientException", "The security token included in the request is invalid."),
    ("openai", 502, b"<html>Bad gateway</html>", None, "<html>Bad gateway</html>"),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "status", "body", "code", "message"), ERROR_BODIES)
@pytest.mark.parametrize("module", HTTP_MODULES)
def test_http_errors_are_provider_http_errors(
    module: ModuleType, provider: str, status: int, body: bytes, code: str | None, message: str
) -> None:
    recorder = Recorder(module, body, status=status, content_type="application/json")

    def handler(request: Any) -> Any:
        response = recorder(request)
        if provider == "bedrock":
            response.headers["x-amzn-errortype"] = "UnrecognizedClientException:http://internal.amazon.com/"
        return response

    request = ChatRequest(model="m", prompt="p", messages=[Message("user", "hi")])
    with module.Client(transport=module.MockTransport(handler)) as http:
        stream = Client(provider, http_client=http, api_key="k", region="us-east-1").stream(request)
        with pytest.raises(ProviderHTTPError) as info:
            next(stream)
    error = info.value
    assert isinstance(error, fastsse.ProviderError)
    assert (error.status_code, error.code, error.provider_message) == (status, code, message)
    assert error.raw == body.decode() and f"HTTP {status}" in str(error)
    assert recorder.closed == 1
    assert list(stream) == []  # the failed stream is closed


@pytest.mark.anyio
async def test_http_errors_async_and_body_cap() -> None:
    body = b'{"error": {"message": "' + b"x" * 200_000 + b'"}}'
    recorder = Recorder(httpx, body, status=500)
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as http:
        with pytest.raises(ProviderHTTPError) as info:
            async with AsyncClient("openai", http_client=http, api_key="k").stream(model="m"):
                pass
    assert info.value.status_code == 500 and len(info.value.raw) == fastsse.client.ERROR_BODY_LIMIT
    assert recorder.closed == 1


# --- closing -----------------------------------------------------------------------------------


def test_closing_and_garbage_collection_close_the_response() -> None:
    recorder = Recorder(httpx, b"data: x\n\n" * 100)
    with httpx.Client(transport=httpx.MockTransport(recorder)) as http:
        client = Client("openai", http_client=http, api_key="k")
        stream = client.stream(model="m").open()
        stream.close()
        stream.close()
        assert recorder.closed == 1
        with pytest.raises(UsageError, match="closed"):
            stream.open()
        client.stream(model="m").open()  # dropped without close()
        gc.collect()
        assert recorder.closed == 2
        assert not http.is_closed  # a client passed in is never closed by fastsse


@pytest.mark.anyio
async def test_cancellation_closes_the_response() -> None:
    class Stalling(httpx.AsyncByteStream):
        closed = False

        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"data: {}\n\n"
            await anyio.sleep_forever()

        async def aclose(self) -> None:
            await anyio.lowlevel.checkpoint()
            Stalling.closed = True

    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=Stalling()))
    async with httpx.AsyncClient(transport=transport) as http:
        stream = AsyncClient("openai", http_client=http, api_key="k").stream(model="m")
        with anyio.move_on_after(0.2):
            async with stream:
                async for _ in fastsse.aiter_sse(stream.response):
                    pass
    assert Stalling.closed


def test_one_shot_stream_closes_its_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(httpx, b"data: {}\n\n")
    transport = httpx.MockTransport(recorder)
    made: list[httpx.Client] = []

    class Made(httpx.Client):
        def __init__(self) -> None:
            super().__init__(transport=transport)
            made.append(self)

    monkeypatch.setattr(httpx, "Client", Made)
    with fastsse.client.stream("ollama", model="llama3.2", messages=[Message("user", "hi")]) as chunks:
        assert chunks.response.status_code == 200
    assert made and made[0].is_closed and recorder.closed == 1
    assert recorder.request.extensions["timeout"]["read"] == fastsse.client.DEFAULT_TIMEOUT


# --- optional dependencies ---------------------------------------------------------------------


def test_imports_without_httpx() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["httpx"] = sys.modules["httpx2"] = None  # as if not installed
        import fastsse, fastsse.client
        assert "aiohttp" not in sys.modules and "botocore" not in sys.modules
        request = fastsse.client.build_request("openai", fastsse.client.ChatRequest(model="m"), api_key="k")
        assert request.url == "https://api.openai.com/v1/chat/completions"
        try:
            fastsse.client.Client("openai", api_key="k").stream(model="m").open()
        except ImportError as exc:
            assert "pip install 'fastsse[httpx]'" in str(exc), exc
        else:
            raise AssertionError("expected ImportError")
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# --- aiohttp -----------------------------------------------------------------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # aiohttp runs on asyncio only
@pytest.mark.anyio
async def test_aiohttp_session(anyio_backend: str) -> None:
    import aiohttp
    from aiohttp import web

    body = (DATA / "anthropic/sdk-basic-text.sse").read_bytes()
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append((request.method, request.path_qs, dict(request.headers), await request.read()))
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for i in range(0, len(body), 50):
            await response.write(body[i : i + 50])
        return response

    async def failing(request: web.Request) -> web.Response:
        return web.json_response(
            {"type": "error", "error": {"type": "not_found_error", "message": "no"}}, status=404
        )

    app = web.Application()
    app.router.add_post("/v1/messages", handler)
    app.router.add_post("/bad/v1/messages", failing)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session:
            client = AsyncClient(
                "anthropic", http_client=session, api_key="k", base_url=f"http://127.0.0.1:{port}"
            )
            request = ChatRequest(model="claude", messages=[Message("user", "hi")], max_tokens=10)
            async with client.stream(request) as chunks:
                events = [event async for event in fastsse.aiter_sse(chunks.response)]
                response = chunks.response
            assert events == list(fastsse.iter_sse(body))
            assert response.closed
            method, path, headers, sent = seen[0]
            assert (method, path) == ("POST", "/v1/messages")
            assert headers["x-api-key"] == "k" and headers["anthropic-version"] == "2023-06-01"
            assert json.loads(sent) == client.build_request(request).body

            bad = AsyncClient(
                "anthropic", http_client=session, api_key="k", base_url=f"http://127.0.0.1:{port}/bad"
            )
            with pytest.raises(ProviderHTTPError) as info:
                await bad.stream(request).open()
            assert (info.value.status_code, info.value.code) == (404, "not_found_error")
    finally:
        await runner.cleanup()


# --- Bedrock SigV4 (through botocore) ----------------------------------------------------------


def _sigv4_reference(request: Any, secret: str, region: str) -> str:
    """SigV4 computed from the AWS specification, independently of botocore."""
    authorization = request.headers["authorization"]
    signed_headers = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    amz_date = request.headers["x-amz-date"]
    url = urlsplit(str(request.url))
    canonical_uri = quote(url.path, safe="/~")  # non-S3 services: the encoded path is encoded again
    canonical_headers = "".join(f"{name}:{request.headers[name].strip()}\n" for name in signed_headers)
    canonical_request = "\n".join(
        ["POST", canonical_uri, url.query, canonical_headers, ";".join(signed_headers),
         hashlib.sha256(request.content).hexdigest()]
    )  # fmt: skip
    scope = f"{amz_date[:8]}/{region}/bedrock/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, "bedrock", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_bedrock_sigv4_signer() -> None:
    pytest.importorskip("botocore", reason="SigV4 signing needs botocore (a dev dependency)")
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    signer = sigv4_signer(credentials=("AKIDEXAMPLE", secret, "session-token"))
    recorder = Recorder(httpx, (DATA / "bedrock/converse-stream-text-tool-use.bin").read_bytes())
    with httpx.Client(transport=httpx.MockTransport(recorder)) as http:
        client = Client("bedrock", http_client=http, region="us-west-2", signer=signer)
        with client.stream(model="anthropic.claude-3-haiku-20240307-v1:0", messages=[Message("user", "hi")]):
            pass
    sent = recorder.request
    assert sent.url.raw_path == b"/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
    authorization = sent.headers["authorization"]
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d")
    assert authorization.startswith(
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{today}/us-west-2/bedrock/aws4_request"
    )
    assert sent.headers["x-amz-security-token"] == "session-token"
    assert authorization.endswith("Signature=" + _sigv4_reference(sent, secret, "us-west-2"))
    with pytest.raises(UsageError, match="region"):
        sigv4_signer(credentials=("a", "b"))(
            HTTPRequest("POST", "https://proxy.test/model/x/converse-stream", {}, {})
        )


# --- chunk iteration ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_chunks_sync(case: Case) -> None:
    body = stream_bytes(case)
    recorder = Recorder(httpx, body, content_type=case.content_type)
    expected = list(fastsse.iter_chunks(body, provider=case.provider))
    assert expected
    with httpx.Client(transport=httpx.MockTransport(recorder)) as http:
        with Client(case.provider, http_client=http, **case.options).stream(case.request) as chunks:
            assert list(chunks) == expected
    assert recorder.closed == 1


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize("module", HTTP_MODULES)
async def test_chunks_async(case: Case, module: ModuleType) -> None:
    body = stream_bytes(case)
    recorder = Recorder(module, body, content_type=case.content_type)
    expected = list(fastsse.iter_chunks(body, provider=case.provider))
    async with module.AsyncClient(transport=module.MockTransport(recorder)) as http:
        async with AsyncClient(case.provider, http_client=http, **case.options).stream(
            case.request
        ) as chunks:
            assert [chunk async for chunk in chunks] == expected
    assert recorder.closed == 1


@pytest.mark.anyio
async def test_chunks_early_exit_closes_the_response() -> None:
    body = (DATA / "openai-chat/chat-tool-call.sse").read_bytes()
    recorder = Recorder(httpx, body)
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as http:
        async with AsyncClient("openai", http_client=http, api_key="k").stream(model="m") as chunks:
            async for _ in chunks:
                break
    assert recorder.closed == 1


@pytest.mark.anyio
async def test_stream_utilities_over_the_client_close_the_response() -> None:
    body = (DATA / "anthropic/sdk-basic-text.sse").read_bytes()
    recorder = Recorder(httpx, body)
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as http:
        client = AsyncClient("anthropic", http_client=http, api_key="k")
        async with fastsse.streams.acoalesce_text(client.stream(model="c"), 1000) as merged:
            texts = [chunk.text_delta async for chunk in merged]
        assert recorder.closed == 1
        whole = fastsse.collect(fastsse.iter_chunks(body, provider="anthropic"))
        assert "".join(texts) == whole.text and len([t for t in texts if t]) == 1

        async with fastsse.streams.atimeout(client.stream(model="c"), idle=5, total=30) as chunks:
            async for _ in chunks:
                break
        assert recorder.closed == 2


def test_sync_timeout_over_the_client() -> None:
    body = (DATA / "openai-chat/chat-tool-call.sse").read_bytes()
    recorder = Recorder(httpx, body)
    with httpx.Client(transport=httpx.MockTransport(recorder)) as http:
        chunks = Client("openai", http_client=http, api_key="k").stream(model="m")
        got = list(fastsse.streams.timeout(chunks, idle=5, total=30))
    assert got == list(fastsse.iter_chunks(body, provider="openai"))
    assert recorder.closed == 1
