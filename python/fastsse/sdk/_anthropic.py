"""`accelerate(anthropic.Anthropic(...))`: Messages streams decoded by fastsse.

The binding's `AnthropicEventDecoder` does the per-event work, one call per network chunk: it
frames SSE, makes native views (the SDK's attribute names) of the plain deltas, and, for
`messages.stream(...)`, gathers each content block's text, thinking and tool-input JSON in Rust
(never re-parsed per delta). `Hooks` here is what it asks Python for on the rare events: the
message-level JSON, kept the way the SDK updates its snapshot, and the `ShapedObject` views of
the other events. The SDK's own `ParsedMessage` is built once, when the stream ends.

`messages.create(..., stream=True)` yields the SDK's raw stream event shapes; `messages.stream`
yields those plus the helper's ``text`` / ``input_json`` / ``citation`` / ``thinking`` /
``signature`` / ``content_block_stop`` / ``message_stop`` events (an ``input_json`` or ``text``
event's ``snapshot`` is made when read), and its `text_stream` hands out the text deltas' text
straight from the decoder. Calls with ``output_format`` go to the SDK as is.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from .._fastsse import AnthropicEventDecoder
from .._resource import SyncResource
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


class Hooks:
    """What the binding's `AnthropicEventDecoder` asks Python for, on the rare events only.

    The decoder makes the plain deltas' views itself and gathers each content block's text,
    thinking and tool-input JSON in Rust; the message-level JSON, kept the way the SDK updates
    its snapshot, and the views of every other event are made here.
    """

    def __init__(self, client: Any, response: Any) -> None:
        self._client, self._response = client, response
        self.types = types = _types()
        self.raw_event = types.raw_event

    def error(self, data: str) -> BaseException:
        """The SDK's error for an ``error`` event (the SDK `Stream`'s wording)."""
        body: Any = data
        try:
            body = json.loads(data)
            message = f"{body}"
        except Exception:
            message = data or f"Error code: {self._response.status_code}"
        error: BaseException = self._client._make_status_error(message, body=body, response=self._response)
        return error

    @staticmethod
    def start_message(payload: Any) -> dict[str, Any]:
        message = dict(payload["message"])
        message["usage"] = dict(message.get("usage") or {})
        message["content"] = [dict(block) for block in message.get("content") or []]
        return message

    @staticmethod
    def start_block(message: dict[str, Any], payload: Any) -> dict[str, Any]:
        block = dict(payload["content_block"])
        message["content"].append(block)
        return block

    def block_stop(self, payload: Any, block: dict[str, Any]) -> ShapedObject:
        raw = {"type": "content_block_stop", "index": payload["index"], "content_block": block}
        return ShapedObject(raw, self.types.block_stop)

    @staticmethod
    def message_delta(message: dict[str, Any], payload: Any) -> None:
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

    def message_stop(self, message: Any) -> ShapedObject:
        return ShapedObject({"type": "message_stop", "message": message}, self.types.message_stop)

    def citation(self, block: dict[str, Any], delta: Any) -> ShapedObject:
        citations = block.get("citations") or []
        citations.append(delta["citation"])
        block["citations"] = citations
        raw = {"type": "citation", "citation": delta["citation"], "snapshot": list(citations)}
        return ShapedObject(raw, self.types.citation)

    def message(self, message: dict[str, Any]) -> Any:
        """The SDK's own `ParsedMessage` for the message's JSON."""
        return self.types.message.construct(**plain(message))

    @staticmethod
    def parse_partial(buffer: bytes, initial: Any) -> Any:
        return _parse_partial(buffer, initial)


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


class MessageStream(SyncResource):
    """What `accelerate(client).messages.stream(...)` enters: the SDK `MessageStream`'s surface.

    Iterating it hands out the SDK's events; `text_stream` switches the decoder to hand out only
    the text of text deltas (events decoded before the switch still give their text).
    """

    def __init__(self, response: Any, decoder: AnthropicEventDecoder) -> None:
        self._decoder = decoder
        self._payloads = SDKStream(response, decoder)
        self._events = iter(self._payloads)
        self.text_stream: Iterator[str] = self._iter_text()

    @property
    def response(self) -> Any:
        return self._payloads.response

    @property
    def request_id(self) -> str | None:
        value: str | None = self.response.headers.get("request-id")
        return value

    def _iter_text(self) -> Iterator[str]:
        self._decoder.mode = "text"
        for item in self._events:
            if type(item) is str:
                yield item
            elif _is_text_delta(item):
                yield item.delta.text

    def __iter__(self) -> Iterator[Any]:
        return self._events

    def __next__(self) -> Any:
        return next(self._events)

    def until_done(self) -> None:
        for _ in self._events:
            pass

    def get_final_message(self) -> Any:
        self.until_done()
        return self._decoder.final_message()

    def get_final_text(self) -> str:
        return _final_text(self.get_final_message())

    @property
    def current_message_snapshot(self) -> Any:
        """The SDK's model of the message so far, built on each read."""
        return self._decoder.message_snapshot()

    def close(self) -> None:
        self._payloads.close()


def _is_text_delta(event: Any) -> bool:
    return bool(event.type == "content_block_delta" and event.delta.type == "text_delta")


class AsyncMessageStream(AsyncSDKStream):
    """The async twin of `MessageStream` (what `AsyncAnthropic`'s `messages.stream` enters)."""

    def __init__(self, response: Any, decoder: AnthropicEventDecoder) -> None:
        super().__init__(response, decoder)
        self._anthropic_decoder = decoder
        self.text_stream: AsyncIterator[str] = self._iter_text()

    async def _iter_text(self) -> AsyncIterator[str]:
        self._anthropic_decoder.mode = "text"
        async for item in self:
            if type(item) is str:
                yield item
            elif _is_text_delta(item):
                yield item.delta.text

    async def until_done(self) -> None:
        async for _ in self:
            pass

    async def get_final_message(self) -> Any:
        await self.until_done()
        return self._anthropic_decoder.final_message()

    async def get_final_text(self) -> str:
        return _final_text(await self.get_final_message())

    @property
    def current_message_snapshot(self) -> Any:
        """The SDK's model of the message so far, built on each read."""
        return self._anthropic_decoder.message_snapshot()

    async def __aenter__(self) -> AsyncMessageStream:
        return self


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
    def open_response(kwargs: dict[str, Any]) -> Any:
        return messages.with_streaming_response.create(**kwargs).__enter__().http_response

    def create(**kwargs: Any) -> Any:
        if not kwargs.get("stream"):
            return messages.create(**kwargs)
        response = open_response(kwargs)
        return SDKStream(response, AnthropicEventDecoder("raw", Hooks(client, response)))

    def stream(**kwargs: Any) -> Any:
        if kwargs.get("output_format") is not None:
            return messages.stream(**kwargs)
        request = {**_stream_headers(kwargs), "stream": True}

        def open_stream() -> MessageStream:
            response = open_response(request)
            return MessageStream(response, AnthropicEventDecoder("helper", Hooks(client, response)))

        return _StreamManager(open_stream)

    return Forward(messages, create=create, stream=stream)


def _async_messages(client: Any, messages: Any) -> Forward:
    async def open_response(kwargs: dict[str, Any]) -> Any:
        api_response = await messages.with_streaming_response.create(**kwargs).__aenter__()
        return api_response.http_response

    async def create(**kwargs: Any) -> Any:
        if not kwargs.get("stream"):
            return await messages.create(**kwargs)
        response = await open_response(kwargs)
        return AsyncSDKStream(response, AnthropicEventDecoder("raw", Hooks(client, response)))

    def stream(**kwargs: Any) -> Any:
        if kwargs.get("output_format") is not None:
            return messages.stream(**kwargs)
        request = {**_stream_headers(kwargs), "stream": True}

        async def open_stream() -> AsyncMessageStream:
            response = await open_response(request)
            return AsyncMessageStream(response, AnthropicEventDecoder("helper", Hooks(client, response)))

        return _AsyncStreamManager(open_stream)

    return Forward(messages, create=create, stream=stream)


def accelerate_anthropic(client: Any, is_async: bool) -> Forward:
    from . import accelerate

    messages = (_async_messages if is_async else _sync_messages)(client, client.messages)
    return Forward(
        client,
        messages=messages,
        with_options=lambda **options: accelerate(client.with_options(**options)),
        copy=lambda **options: accelerate(client.copy(**options)),
    )
