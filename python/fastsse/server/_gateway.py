"""Gateway requests: the upstream is asked before the response starts.

A gateway's upstream may refuse a request (a bad model name, a rate limit, an outage). Its
answer's status is awaited before the server sends its own, so the client gets the upstream's
status with the message in its own API's error shape — the official SDKs then raise the same
typed exception (``RateLimitError``, ``BadRequestError``, ...) as if they had called the
upstream directly — instead of a 200 stream holding an error event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from .._fastsse import GenerationChunk
from ..client._resume import is_drop
from ..errors import ProviderHTTPError
from ._errors import RequestError

if TYPE_CHECKING:
    from ..adapters.gateway import GatewayAdapter
    from ..client import AsyncChunkStream
    from ._requests import ChatRequest

__all__ = ["UpstreamStreams"]

Source = Callable[[], AsyncIterator[GenerationChunk]]


class UpstreamStreams:
    """The upstream streams of one gateway request (one per choice), opened by :meth:`open`."""

    def __init__(self, gateway: GatewayAdapter, request: ChatRequest, body: dict[str, Any]) -> None:
        self.gateway = gateway
        self.request = request
        self.body = body
        self.streams: list[AsyncChunkStream] = []

    async def open(self) -> list[Source]:
        """Open one upstream stream per choice; an upstream error becomes a ``RequestError``
        with the upstream's status (502 when it cannot be reached)."""
        try:
            for _ in range(self.request.n):
                self.streams.append(await self.gateway.open(self.request, self.body))
        except ProviderHTTPError as exc:
            await self.aclose()
            message = f"the upstream answered HTTP {exc.status_code}: {exc.provider_message}"
            raise RequestError(message, status=exc.status_code, code=exc.code) from None
        except Exception as exc:
            await self.aclose()
            if not is_drop(exc):
                raise
            raise RequestError(
                f"the upstream is unreachable: {type(exc).__name__}: {exc}", status=502
            ) from None
        return [_source_of(stream) for stream in self.streams]

    async def aclose(self) -> None:
        """Close the streams (for a request refused before its generation ran; idempotent)."""
        for stream in self.streams:
            await stream.aclose()


def _source_of(stream: AsyncChunkStream) -> Source:
    def source() -> AsyncIterator[GenerationChunk]:
        return stream

    return source
