"""`accelerate(anthropic.Anthropic(...))`: Messages streams decoded by fastsse.

`messages.create(..., stream=True)` yields views shaped like the SDK's raw stream events.
`messages.stream(...)` is the SDK's helper without its per-event cost: the message is kept as
plain JSON while the stream runs (text appended, tool input bytes buffered, never re-parsed per
delta) and the SDK's own `ParsedMessage` is built once, when the stream ends. The events it
yields have the SDK's shapes (raw events plus ``text`` / ``input_json`` / ``citation`` /
``thinking`` / ``signature`` / ``content_block_stop`` / ``message_stop``); an ``input_json``
event's ``snapshot`` is parsed only when read. Calls with ``output_format`` go to the SDK as is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any

from ._events import SKIP, EventRule, SDKEventDecoder, loads
from ._forward import Forward
from ._shape import ShapedObject, _converter, plain, shape_of
from ._streams import AsyncSDKStream, SDKStream

__all__ = ["accelerate_anthropic"]

_TRACKS_TOOL_INPUT = ("tool_use", "server_tool_use")
# Usage counts a message_delta overwrites only when present (cumulative totals, as in the SDK).
_OPTIONAL_USAGE = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "server_tool_use",
    "output_tokens_details",
)


def _event_rule(client: Any, response: Any, convert: Callable[[Any], Any]) -> EventRule:
    """The SDK's `Stream` rules: skip pings and events without a name, raise on ``error``."""

    def rule(sse: Any) -> Any:
        event = sse.event
        if event == "ping" or event == "message":  # "message": the stream named no event
            return SKIP
        if event == "error":
            body: Any = sse.data
            try:
                body = loads(sse.data)
                message = f"{body}"
            except Exception:
                message = sse.data or f"Error code: {response.status_code}"
            raise client._make_status_error(message, body=body, response=response)
        if not sse.data:
            return SKIP
        return convert(loads(sse.data))

    return rule


class _Types:
    """The SDK classes the helper's events and final message are shaped after (looked up once)."""

    def __init__(self) -> None:
        from anthropic.lib.streaming import _types as events
        from anthropic.types import RawMessageStreamEvent
        from anthropic.types.parsed_message import ParsedContentBlock, ParsedMessage

        self.message = ParsedMessage
        self.raw_event = _converter(RawMessageStreamEvent, "anthropic") or (lambda value: value)
        self.content_block = _converter(ParsedContentBlock, "anthropic") or (lambda value: value)
        self.text = shape_of(events.TextEvent)
        self.thinking = shape_of(events.ThinkingEvent)
        self.signature = shape_of(events.SignatureEvent)
        self.citation = shape_of(events.CitationEvent)
        self.input_json = shape_of(events.InputJsonEvent)
        self.block_stop = shape_of(events.ParsedContentBlockStopEvent)
        self.message_stop = shape_of(events.ParsedMessageStopEvent)


_TYPES: list[_Types] = []


def _types() -> _Types:
    if not _TYPES:
        _TYPES.append(_Types())
    return _TYPES[0]


class _InputJsonEvent(ShapedObject):
    """An ``input_json`` event whose ``snapshot`` (the tool input parsed so far) is parsed on read."""

    __slots__ = ("_buffer", "_initial", "_length")

    def __init__(self, raw: dict[str, Any], buffer: bytearray, initial: Any) -> None:
        super().__init__(raw, _types().input_json)
        self._buffer, self._length, self._initial = buffer, len(buffer), initial

    @property
    def snapshot(self) -> Any:
        raw = self.__dict__
        if "snapshot" not in raw:
            raw["snapshot"] = _parse_partial(bytes(self._buffer[: self._length]), self._initial)
        return raw["snapshot"]

    def sdk_model(self) -> Any:
        _ = self.snapshot
        return super().sdk_model()


def _parse_partial(buffer: bytes, initial: Any) -> Any:
    if not buffer:
        return initial
    from jiter import from_json

    try:
        return from_json(buffer, partial_mode=True)
    except ValueError as error:
        raise ValueError(
            "Unable to parse tool parameter JSON from model. Please retry your request or adjust your "
            f"prompt. Error: {error}. JSON: {buffer.decode('utf-8')}"
        ) from error


class MessageAccumulator:
    """The message so far as plain JSON, updated the way the SDK updates its snapshot."""

    def __init__(self) -> None:
        self.types = _types()
        self.message: dict[str, Any] | None = None
        self.blocks: list[dict[str, Any]] = []
        self.json_buffers: dict[int, bytearray] = {}
        self.final: Any = None

    def add(self, payload: Any) -> list[Any]:
        """Take one event's JSON; return the events the SDK's helper yields for it."""
        types = self.types
        kind = payload.get("type") if type(payload) is dict else None
        if self.message is None and kind != "message_start":
            return [types.raw_event(payload)]
        if kind == "content_block_delta":
            return self._delta(payload)
        if kind == "message_start":
            message = dict(payload["message"])
            message["usage"] = dict(message.get("usage") or {})
            self.blocks = message["content"] = [dict(block) for block in message.get("content") or []]
            self.message = message
        elif kind == "content_block_start":
            self.blocks.append(dict(payload["content_block"]))
        elif kind == "content_block_stop":
            block = self._finish_block(payload["index"])
            raw = {"type": "content_block_stop", "index": payload["index"], "content_block": block}
            return [ShapedObject(raw, types.block_stop)]
        elif kind == "message_delta":
            self._message_delta(payload)
        elif kind == "message_stop":
            return [
                ShapedObject({"type": "message_stop", "message": self.final_message()}, types.message_stop)
            ]
        return [types.raw_event(payload)]

    def _delta(self, payload: dict[str, Any]) -> list[Any]:
        types = self.types
        index = payload["index"]
        delta = payload["delta"]
        block = self.blocks[index]
        kind, block_kind = delta.get("type"), block.get("type")
        out = [types.raw_event(payload)]
        if kind == "text_delta" and block_kind == "text":
            text = delta["text"]
            block["text"] = snapshot = block.get("text", "") + text
            out.append(ShapedObject({"type": "text", "text": text, "snapshot": snapshot}, types.text))
        elif kind == "input_json_delta" and block_kind in _TRACKS_TOOL_INPUT:
            partial_json = delta["partial_json"]
            buffer = self.json_buffers.get(index)
            if buffer is None:
                buffer = self.json_buffers[index] = bytearray()
            buffer += partial_json.encode()
            raw = {"type": "input_json", "partial_json": partial_json}
            out.append(_InputJsonEvent(raw, buffer, block.get("input")))
        elif kind == "citations_delta" and block_kind == "text":
            citations = block.get("citations") or []
            citations.append(delta["citation"])
            block["citations"] = citations
            raw = {"type": "citation", "citation": delta["citation"], "snapshot": list(citations)}
            out.append(ShapedObject(raw, types.citation))
        elif kind == "thinking_delta" and block_kind == "thinking":
            thinking = delta["thinking"]
            block["thinking"] = snapshot = block.get("thinking", "") + thinking
            out.append(
                ShapedObject({"type": "thinking", "thinking": thinking, "snapshot": snapshot}, types.thinking)
            )
        elif kind == "signature_delta" and block_kind == "thinking":
            block["signature"] = delta["signature"]
            out.append(ShapedObject({"type": "signature", "signature": delta["signature"]}, types.signature))
        return out

    def _finish_block(self, index: int) -> dict[str, Any]:
        block = self.blocks[index]
        buffer = self.json_buffers.pop(index, None)
        if buffer:
            block["input"] = _parse_partial(bytes(buffer), block.get("input"))
        return block

    def _message_delta(self, payload: dict[str, Any]) -> None:
        assert self.message is not None
        message = self.message
        delta = payload.get("delta") or {}
        usage = payload.get("usage") or {}
        message["stop_reason"] = delta.get("stop_reason")
        message["stop_sequence"] = delta.get("stop_sequence")
        message["stop_details"] = delta.get("stop_details")
        if delta.get("container") is not None:
            message["container"] = delta["container"]
        message["usage"]["output_tokens"] = usage.get("output_tokens")
        for key in _OPTIONAL_USAGE:
            if usage.get(key) is not None:
                message["usage"][key] = usage[key]

    def final_message(self) -> Any:
        """The SDK's own `ParsedMessage`, built once from the JSON gathered so far."""
        if self.final is None:
            if self.message is None:
                raise RuntimeError("the stream ended before its message_start event")
            for index in list(self.json_buffers):
                self._finish_block(index)
            self.final = self.types.message.construct(**plain(self.message))
        return self.final


def _final_text(message: Any) -> str:
    texts = [block.text for block in message.content if block.type == "text"]
    if not texts:
        kinds = ",".join(block.type for block in message.content)
        raise RuntimeError(
            ".get_final_text() can only be called when the API returns a `text` content block.\n"
            f"The API returned {kinds} content block type(s) that you can access by calling "
            "get_final_message().content"
        )
    return "".join(texts)


def _text_of(payload: Any) -> str | None:
    if type(payload) is dict and payload.get("type") == "content_block_delta":
        delta = payload.get("delta")
        if type(delta) is dict and delta.get("type") == "text_delta":
            text: str = delta["text"]
            return text
    return None


class MessageStream:
    """What `accelerate(client).messages.stream(...)` enters: the SDK `MessageStream`'s surface."""

    def __init__(self, payloads: SDKStream) -> None:
        self._payloads = payloads
        self._accumulator = MessageAccumulator()
        self._events = self._iter_events()
        self.text_stream: Iterator[str] = self._iter_text()

    @property
    def response(self) -> Any:
        return self._payloads.response

    @property
    def request_id(self) -> str | None:
        value: str | None = self.response.headers.get("request-id")
        return value

    def _iter_events(self) -> Iterator[Any]:
        add = self._accumulator.add
        for payload in self._payloads:
            yield from add(payload)

    def _iter_text(self) -> Iterator[str]:
        add = self._accumulator.add
        for payload in self._payloads:
            text = _text_of(payload)  # before add(), which turns the payload into views
            add(payload)
            if text is not None:
                yield text

    def __iter__(self) -> Iterator[Any]:
        return self._events

    def __next__(self) -> Any:
        return next(self._events)

    def until_done(self) -> None:
        for _ in self._events:
            pass

    def get_final_message(self) -> Any:
        self.until_done()
        return self._accumulator.final_message()

    def get_final_text(self) -> str:
        return _final_text(self.get_final_message())

    @property
    def current_message_snapshot(self) -> Any:
        """Built on each read (the stream itself keeps plain JSON, not a model)."""
        accumulator = self._accumulator
        if accumulator.final is not None:
            return accumulator.final
        assert accumulator.message is not None
        return accumulator.types.message.construct(**plain(accumulator.message))

    def close(self) -> None:
        self._payloads.close()

    def __enter__(self) -> MessageStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncMessageStream:
    """The async twin of `MessageStream` (what `AsyncAnthropic`'s `messages.stream` enters)."""

    def __init__(self, payloads: AsyncSDKStream) -> None:
        self._payloads = payloads
        self._accumulator = MessageAccumulator()
        self._pending: list[Any] = []
        self.text_stream: AsyncIterator[str] = self._iter_text()

    @property
    def response(self) -> Any:
        return self._payloads.response

    def __aiter__(self) -> AsyncMessageStream:
        return self

    async def __anext__(self) -> Any:
        while not self._pending:
            payload = await self._payloads.__anext__()
            self._pending = self._accumulator.add(payload)
            self._pending.reverse()
        return self._pending.pop()

    async def _iter_text(self) -> AsyncIterator[str]:
        add = self._accumulator.add
        async for payload in self._payloads:
            text = _text_of(payload)  # before add(), which turns the payload into views
            add(payload)
            if text is not None:
                yield text

    async def until_done(self) -> None:
        async for _ in self:
            pass

    async def get_final_message(self) -> Any:
        await self.until_done()
        return self._accumulator.final_message()

    async def get_final_text(self) -> str:
        return _final_text(await self.get_final_message())

    async def close(self) -> None:
        await self._payloads.aclose()

    async def __aenter__(self) -> AsyncMessageStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def _stream_headers(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The headers the SDK's `messages.stream` helper adds, so the server sees the same request."""
    return {
        **kwargs,
        "extra_headers": {
            "X-Stainless-Helper-Method": "stream",
            "X-Stainless-Stream-Helper": "messages",
            **(kwargs.get("extra_headers") or {}),
        },
    }


class _StreamManager:
    def __init__(self, open_stream: Callable[[], MessageStream]) -> None:
        self._open = open_stream
        self._stream: MessageStream | None = None

    def __enter__(self) -> MessageStream:
        self._stream = self._open()
        return self._stream

    def __exit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            self._stream.close()


class _AsyncStreamManager:
    def __init__(self, open_stream: Callable[[], Any]) -> None:
        self._open = open_stream
        self._stream: AsyncMessageStream | None = None

    async def __aenter__(self) -> AsyncMessageStream:
        self._stream = await self._open()
        return self._stream

    async def __aexit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            await self._stream.close()


def _sync_messages(client: Any, messages: Any) -> Forward:
    def open_payloads(kwargs: dict[str, Any], convert: Callable[[Any], Any]) -> SDKStream:
        response = messages.with_streaming_response.create(**kwargs).__enter__().http_response
        return SDKStream(response, SDKEventDecoder(_event_rule(client, response, convert)))

    def create(**kwargs: Any) -> Any:
        if not kwargs.get("stream"):
            return messages.create(**kwargs)
        return open_payloads(kwargs, _types().raw_event)

    def stream(**kwargs: Any) -> Any:
        if kwargs.get("output_format") is not None:
            return messages.stream(**kwargs)
        request = {**_stream_headers(kwargs), "stream": True}
        return _StreamManager(lambda: MessageStream(open_payloads(request, _identity)))

    return Forward(messages, create=create, stream=stream)


def _async_messages(client: Any, messages: Any) -> Forward:
    async def open_payloads(kwargs: dict[str, Any], convert: Callable[[Any], Any]) -> AsyncSDKStream:
        api_response = await messages.with_streaming_response.create(**kwargs).__aenter__()
        response = api_response.http_response
        return AsyncSDKStream(response, SDKEventDecoder(_event_rule(client, response, convert)))

    async def create(**kwargs: Any) -> Any:
        if not kwargs.get("stream"):
            return await messages.create(**kwargs)
        return await open_payloads(kwargs, _types().raw_event)

    def stream(**kwargs: Any) -> Any:
        if kwargs.get("output_format") is not None:
            return messages.stream(**kwargs)
        request = {**_stream_headers(kwargs), "stream": True}

        async def open_stream() -> AsyncMessageStream:
            return AsyncMessageStream(await open_payloads(request, _identity))

        return _AsyncStreamManager(open_stream)

    return Forward(messages, create=create, stream=stream)


def _identity(value: Any) -> Any:
    return value


def accelerate_anthropic(client: Any, is_async: bool) -> Forward:
    from . import accelerate

    messages = (_async_messages if is_async else _sync_messages)(client, client.messages)
    return Forward(
        client,
        messages=messages,
        with_options=lambda **options: accelerate(client.with_options(**options)),
        copy=lambda **options: accelerate(client.copy(**options)),
    )
