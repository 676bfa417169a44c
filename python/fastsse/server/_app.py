"""The ASGI application: OpenAI- and Anthropic-compatible routes over one generation adapter.

Routes: ``POST /v1/chat/completions`` (OpenAI Chat Completions), ``POST /v1/messages``
(Anthropic Messages), ``POST /v1/responses`` (OpenAI Responses), ``POST /api/chat`` (the AI
SDK's ``useChat``, answered with the UI message stream), ``POST /v1/completions`` (raw text, for
chaining servers), ``GET /v1/models`` and ``GET /health``. Plain ASGI, no framework: run it
under any ASGI server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from ..adapters.gateway import GatewayAdapter
from ..errors import LimitExceededError
from ._asgi import ClientGone, Receive, Scope, Send, read_body, route_path, send_bytes
from ._errors import Api, RequestError, error_body
from ._gateway import UpstreamStreams
from ._limits import RequestSlots, ServerLimits, keys_match, read_within
from ._metrics import ServerMetrics
from ._requests import ChatRequest, parse_anthropic_messages, parse_completions, parse_json, parse_openai_chat
from ._responses_api import parse_responses
from ._responses_stored import queued_response, serve_stored_response, stream_id_of
from ._resume import ResumableStreams, parse_after
from ._stores import StoreFullError, StoreUnavailableError, StreamStore, open_store
from ._streaming import EncoderLike, collect_response, sse_producer, stream_response
from ._template import ChatTemplate, hermes_template
from ._ui import serve_page
from ._ui_chat import UI_STREAM_HEADERS, parse_ui_chat
from ._wire import TextCompletionEncoder, envelope, response_body, stream_encoder, text_completion_body
from ._worker import Choices, Generation, GenerationLike, make_parser

if TYPE_CHECKING:
    from ..adapters import GenerationAdapter

__all__ = ["FastSSEApp", "ServerMetrics", "create_app"]

logger = logging.getLogger("fastsse.server")


class FastSSEApp:
    """The ASGI app :func:`create_app` returns. ``metrics`` holds what it measured."""

    def __init__(
        self,
        adapter: GenerationAdapter,
        *,
        reasoning: str | None = None,
        tools: str | None = None,
        chat_template: ChatTemplate = hermes_template,
        model: str = "fastsse",
        reasoning_field: str = "reasoning_content",
        default_max_tokens: int = 4096,
        keepalive: float = 15.0,
        max_body_size: int = 32 * 1024 * 1024,
        api_key: str | None = None,
        ui: bool = False,
        resumable: bool = False,
        store: str | StreamStore | None = None,
        detach_timeout: float = 300.0,
        stream_ttl: float = 600.0,
        stream_lease: float = 5.0,
        max_stream_bytes: int = 16 * 1024 * 1024,
        limits: ServerLimits | None = None,
    ) -> None:
        if keepalive <= 0:
            raise ValueError(f"keepalive must be a positive number of seconds, got {keepalive}")
        try:  # an unknown format name fails here, not in every request
            make_parser(stop=(), reasoning=reasoning, tools=tools)
        except ValueError as exc:
            raise ValueError(f"create_app: {exc}") from None
        self.adapter = adapter
        # Harmony (gpt-oss) reads its channels itself: a request without tools still needs it.
        self.reasoning = "harmony" if tools == "harmony" and reasoning is None else reasoning
        self.tools = tools
        self.chat_template = chat_template
        self.model = model
        self.reasoning_field = reasoning_field
        self.keepalive = keepalive
        self.limits = limits if limits is not None else ServerLimits(max_body_size=max_body_size)
        self.max_body_size = self.limits.max_body_size
        self.default_max_tokens = min(default_max_tokens, self.limits.max_tokens)
        self._slots = RequestSlots(self.limits.max_concurrent_requests)
        self.api_key = api_key
        self.ui = ui
        self.metrics = ServerMetrics()
        # Resumable streams (on with resumable=True or a store): None when off.
        self.resumable: ResumableStreams | None = None
        if resumable or store is not None:
            self.resumable = ResumableStreams(
                open_store(store),
                detach_timeout=detach_timeout,
                ttl=stream_ttl,
                lease=stream_lease,
                max_stream_bytes=max_stream_bytes,
            )
        self._created = int(time.time())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets: not served
            return
        path = route_path(scope).rstrip("/") or "/"
        api: Api = "anthropic" if path == "/v1/messages" else "openai"
        if path.startswith("/v1/streams/") and b"anthropic-version" in dict(scope.get("headers") or []):
            api = "anthropic"
        started = False

        async def tracked_send(message: Any) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._route(scope, path, api, receive, tracked_send)
        except RequestError as exc:
            if not started:
                await send_bytes(
                    send, exc.status, error_body(api, exc.status, exc.message, exc.param, exc.code)
                )
        except ClientGone:
            return
        except LimitExceededError as exc:  # a stop string or tool schema past the parser's caps
            if not started:
                await send_bytes(send, 400, error_body(api, 400, RequestError(exc.message).message))
        except Exception:
            logger.exception("request %s %s failed", scope.get("method"), path)
            if not started:
                await send_bytes(send, 500, error_body(api, 500, "internal server error"))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.adapter.aclose()
                if self.resumable is not None:
                    await self.resumable.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _check_key(self, scope: Scope) -> None:
        if self.api_key is None:
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-api-key", b"").decode("latin-1")
        bearer = headers.get(b"authorization", b"").decode("latin-1")
        if bearer.lower().startswith("bearer "):
            given = given or bearer[7:].strip()
        if not keys_match(given, self.api_key):
            raise RequestError("invalid or missing API key", status=401)

    async def _route(self, scope: Scope, path: str, api: Api, receive: Receive, send: Send) -> None:
        method = scope["method"]
        routes: dict[str, tuple[str, Callable[..., Any]]] = {
            "/v1/chat/completions": ("POST", self._chat_completions),
            "/v1/messages": ("POST", self._messages),
            "/v1/responses": ("POST", self._responses),
            "/api/chat": ("POST", self._ui_chat),
            "/v1/completions": ("POST", self._completions),
            "/v1/models": ("GET", self._models),
            "/health": ("GET", self._health),
        }
        if self.resumable is not None and path.startswith("/v1/responses/"):  # stored responses
            self._check_key(scope)
            await serve_stored_response(self.resumable, scope, receive, send, keepalive=self.keepalive)
            return
        if self.resumable is not None and path.startswith("/v1/streams/"):
            routes[path] = ("GET", lambda scope, send: self._resume_stream(scope, receive, send))
        if self.ui:
            routes["/"] = ("GET", serve_page)
        if path not in routes:
            raise RequestError(f"no route for {method} {path}", status=404)
        allowed, handler = routes[path]
        if method != allowed:
            raise RequestError(f"{path} accepts {allowed}, not {method}", status=405)
        if path not in ("/health", "/"):  # the page is public; what it calls is not
            self._check_key(scope)
        if allowed == "GET":
            await handler(scope, send)
            return
        async with self._slots.admit():
            raw = await read_within(self.limits.body_timeout, read_body(receive, self.max_body_size))
            body = parse_json(raw)
            await handler(body, receive, send)

    async def _models(self, scope: Scope, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        entry: dict[str, Any]
        body: dict[str, Any]
        if b"anthropic-version" in headers:
            created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._created))
            entry = {"type": "model", "id": self.model, "display_name": self.model, "created_at": created}
            body = {"data": [entry], "has_more": False, "first_id": self.model, "last_id": self.model}
        else:
            entry = {"id": self.model, "object": "model", "created": self._created, "owned_by": "fastsse"}
            body = {"object": "list", "data": [entry]}
        await send_bytes(send, 200, orjson.dumps(body))

    async def _health(self, scope: Scope, send: Send) -> None:
        body = {"status": "ok", "model": self.model, **self.metrics.summary()}
        await send_bytes(send, 200, orjson.dumps(body))

    async def _resume_stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``GET /v1/streams/{id}``: the stream's events after ``Last-Event-ID`` (or ``?after=``)."""
        assert self.resumable is not None
        stream_id = scope["path"].rstrip("/").rpartition("/")[2]
        headers = dict(scope.get("headers") or [])
        query = dict(
            part.partition("=")[::2] for part in scope.get("query_string", b"").decode("latin-1").split("&")
        )
        given = headers.get(b"last-event-id", b"").decode("latin-1") or query.get("after")
        after = parse_after(given)
        if after is None:
            message = f"Last-Event-ID must be an event id of the stream, got {given!r}"
            raise RequestError(message, param="after")
        try:
            format = await self.resumable.store.format_of(stream_id)
        except StoreUnavailableError as exc:
            raise RequestError(str(exc), status=503) from None
        if format is None:
            raise RequestError(f"no stream {stream_id!r} (unknown, or expired)", status=404)
        await self.resumable.follow(send, receive, stream_id, after, format=format, keepalive=self.keepalive)

    async def _chat_completions(self, body: dict[str, Any], receive: Receive, send: Send) -> None:
        await self._generate(
            parse_openai_chat(body, default_max_tokens=self.default_max_tokens), receive, send, body
        )

    async def _messages(self, body: dict[str, Any], receive: Receive, send: Send) -> None:
        await self._generate(parse_anthropic_messages(body), receive, send, body)

    async def _responses(self, body: dict[str, Any], receive: Receive, send: Send) -> None:
        request = parse_responses(body, default_max_tokens=self.default_max_tokens)
        await self._generate(request, receive, send, body)

    async def _ui_chat(self, body: dict[str, Any], receive: Receive, send: Send) -> None:
        request = parse_ui_chat(body, model=self.model, default_max_tokens=self.default_max_tokens)
        await self._generate(request, receive, send, body)

    async def _completions(self, body: dict[str, Any], receive: Receive, send: Send) -> None:
        await self._generate(parse_completions(body), receive, send)

    def _prompt(self, request: ChatRequest) -> str:
        if request.prompt is not None:
            return request.prompt
        try:
            return self.chat_template(
                request.messages, tools=request.active_tools, enable_thinking=request.thinking
            )
        except Exception as exc:  # a template refusing the conversation is the client's problem
            raise RequestError(f"the chat template rejected the messages: {exc}", param="messages") from None

    async def _generate(
        self, request: ChatRequest, receive: Receive, send: Send, body: dict[str, Any] | None = None
    ) -> None:
        self.metrics.requests += 1
        self.limits.check_request(request)
        if request.background and self.resumable is None:
            message = "'background' needs resumable streams: start the server with --resumable or --store"
            raise RequestError(message, param="background")
        raw_text = request.prompt is not None
        # Gateway mode: the whole request goes upstream, typed chunks come back.
        gateway = self.adapter if isinstance(self.adapter, GatewayAdapter) and not raw_text else None
        prompt = "" if gateway is not None else await self.limits.offload(request, self._prompt, request)
        upstream = None if gateway is None else UpstreamStreams(gateway, request, body or {})
        sources = None if upstream is None else await upstream.open()
        generations = [
            Generation(
                self.adapter,
                prompt,
                request.sampling,
                stop=request.stop,
                reasoning=None if raw_text else self.reasoning,
                tools=self.tools if request.active_tools and not raw_text else None,
                tool_schemas=request.active_tools,
                drop_reasoning=request.api == "anthropic" and not request.thinking,
                tool_id_prefix="toolu_" if request.api == "anthropic" else None,
                source=None if sources is None else sources[index],
            )
            for index in range(request.n)
        ]
        generation: GenerationLike = generations[0] if request.n == 1 else Choices(generations)
        fields = envelope(
            request,
            prompt_tokens=await self.limits.offload(request, self.adapter.count_tokens, prompt),
            reasoning_field=self.reasoning_field,
        )
        # A Responses stream in the store has its response's id (GET /v1/responses/{id} reads it).
        stream_id = stream_id_of(fields["id"]) if request.wire_format == "openai-responses" else None
        if request.background and not request.stream and self.resumable is not None:
            produce = sse_producer(generation, stream_encoder(request, fields))
            assert stream_id is not None
            await queued_response(self.resumable, produce, stream_encoder(request, fields), send, stream_id)
            return
        if request.stream:
            encoder: EncoderLike
            if raw_text:
                encoder = TextCompletionEncoder(
                    id="cmpl-" + fields["id"].partition("-")[2],
                    model=request.model,
                    created=fields["created"],
                    include_usage=request.include_usage,
                )
            else:
                encoder = stream_encoder(request, fields)
            self.metrics.active_streams += 1
            try:
                stats, client_left = await stream_response(
                    send,
                    receive,
                    generation,
                    encoder,
                    keepalive=self.keepalive,
                    headers=UI_STREAM_HEADERS if request.wire_format == "vercel-ui" else None,
                    resumable=self.resumable,
                    format=request.wire_format,
                    stream_id=stream_id,
                    detached=request.background,
                )
            except (StoreFullError, StoreUnavailableError) as exc:
                if upstream is not None:
                    await upstream.aclose()
                raise RequestError(str(exc), status=503) from None
            finally:
                self.metrics.active_streams -= 1
            self.metrics.record(stats, client_left=client_left)
            return

        def build(chunks: list[Any]) -> bytes:
            if raw_text:
                return text_completion_body(
                    chunks,
                    id="cmpl-" + fields["id"].partition("-")[2],
                    model=request.model,
                    created=fields["created"],
                )
            return response_body(request, chunks, fields)

        payload, stats = await collect_response(receive, generation, build)
        self.metrics.record(stats, client_left=payload is None)
        if payload is None:
            return
        if stats.finish_reason == "error":
            await send_bytes(send, 500, error_body(request.api, 500, f"generation failed: {stats.error}"))
            return
        await send_bytes(send, 200, payload)


def create_app(
    adapter: GenerationAdapter,
    *,
    reasoning: str | None = None,
    tools: str | None = None,
    chat_template: ChatTemplate = hermes_template,
    model: str = "fastsse",
    **options: Any,
) -> FastSSEApp:
    """An ASGI app serving ``adapter`` as OpenAI- and Anthropic-compatible endpoints.

    ``reasoning`` / ``tools`` name the formats the model writes (``TextParser``'s names, e.g.
    ``"think"`` and ``"hermes"``); ``chat_template`` renders messages and tools into the prompt
    (default: ChatML with Hermes tool calls); ``model`` is the name ``/v1/models`` lists.
    Options: ``reasoning_field`` (``"reasoning_content"`` or ``"reasoning"``),
    ``default_max_tokens``, ``keepalive`` (seconds of silence before a keep-alive comment),
    ``max_body_size`` and ``api_key`` (required from clients when set); ``ui=True`` serves a
    chat page at ``GET /`` (``?q=TEXT`` asks TEXT on load). ``limits`` (a ``ServerLimits``)
    caps body size and time, concurrent requests, ``max_tokens``, messages.

    Resumable streams: ``resumable=True`` (in-memory store) or ``store=`` (a ``StreamStore``,
    ``"memory"`` or a ``redis://HOST:PORT/DB`` URL) run each streamed generation detached from
    its request; responses carry ``x-stream-id`` and an SSE ``id`` per event, and ``GET
    /v1/streams/{id}`` with ``Last-Event-ID`` resumes them. ``detach_timeout`` (seconds a
    generation goes on with no reader), ``stream_ttl`` (seconds a finished stream stays
    readable), ``stream_lease`` (seconds before a silent producer is declared lost) and
    ``max_stream_bytes`` tune it.
    """
    return FastSSEApp(
        adapter, reasoning=reasoning, tools=tools, chat_template=chat_template, model=model, **options
    )
