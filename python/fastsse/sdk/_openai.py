"""`accelerate(openai.OpenAI(...))`: chat-completion streams decoded by fastsse.

The request still goes through the SDK (`with_streaming_response.create`), so auth, base URL,
headers, retries, timeouts and the HTTP client are the SDK's own; only the response bytes are
decoded here, with the SDK's rules: stop at ``[DONE]``, raise `openai.APIError` for an event
whose JSON has a truthy ``"error"``.
"""

from __future__ import annotations

from typing import Any

from ._events import STOP, EventRule, SDKEventDecoder
from ._forward import Forward
from ._shape import ShapedObject, shape_of
from ._streams import AsyncSDKStream, SDKStream

__all__ = ["accelerate_openai"]


def _chunk_rule(response: Any) -> EventRule:
    import openai
    from openai.types.chat import ChatCompletionChunk

    shape = shape_of(ChatCompletionChunk)

    def rule(sse: Any) -> Any:
        data = sse.data
        if data.startswith("[DONE]"):
            return STOP
        payload = sse.json()  # json.loads's values (integers past 64 bits stay ints), fast
        if type(payload) is not dict:
            return payload
        error = payload.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else None
            if not message or not isinstance(message, str):
                message = "An error occurred during streaming"
            raise openai.APIError(message=message, request=response.request, body=error)
        return ShapedObject(payload, shape)

    return rule


def _sync_completions(completions: Any) -> Forward:
    def create(**kwargs: Any) -> Any:
        if not kwargs.get("stream"):
            return completions.create(**kwargs)
        http_response = completions.with_streaming_response.create(**kwargs).__enter__().http_response
        return SDKStream(http_response, SDKEventDecoder(_chunk_rule(http_response)))

    return Forward(completions, create=create)


def _async_completions(completions: Any) -> Forward:
    async def create(**kwargs: Any) -> Any:
        if not kwargs.get("stream"):
            return await completions.create(**kwargs)
        api_response = await completions.with_streaming_response.create(**kwargs).__aenter__()
        http_response = api_response.http_response
        return AsyncSDKStream(http_response, SDKEventDecoder(_chunk_rule(http_response)))

    return Forward(completions, create=create)


def accelerate_openai(client: Any, is_async: bool) -> Forward:
    from . import accelerate

    completions = (_async_completions if is_async else _sync_completions)(client.chat.completions)
    return Forward(
        client,
        chat=Forward(client.chat, completions=completions),
        with_options=lambda **options: accelerate(client.with_options(**options)),
        copy=lambda **options: accelerate(client.copy(**options)),
    )
