"""fastsse: the fastest correct way to turn LLM output streams into typed events."""

from __future__ import annotations

from . import client, streams
from ._fastsse import (
    GenerationChunk,
    NDJSONDecoder,
    ServerSentEvent,
    SSEDecoder,
    ToolCallDelta,
    __version__,
)
from ._iter import AsyncDecodingIterator
from ._sse import EventSource, SSEError, aconnect_sse, aiter_sse, connect_sse, iter_sse
from .errors import (
    ChecksumError,
    DeadlineExceededError,
    EventTooLargeError,
    FastSSEError,
    IdleTimeoutError,
    ProtocolError,
    ProviderError,
    ProviderHTTPError,
    StreamTimeoutError,
    UsageError,
)

__all__ = [
    "AsyncDecodingIterator",
    "ChecksumError",
    "DeadlineExceededError",
    "EventSource",
    "EventTooLargeError",
    "FastSSEError",
    "GenerationChunk",
    "IdleTimeoutError",
    "NDJSONDecoder",
    "ProtocolError",
    "ProviderError",
    "ProviderHTTPError",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
    "StreamTimeoutError",
    "ToolCallDelta",
    "UsageError",
    "__version__",
    "aconnect_sse",
    "aiter_sse",
    "client",
    "connect_sse",
    "iter_sse",
    "streams",
]
