"""fastsse: the fastest correct way to turn LLM output streams into typed events."""

from __future__ import annotations

from ._fastsse import (
    Encoder,
    GenerationChunk,
    NDJSONDecoder,
    ServerSentEvent,
    SSEDecoder,
    ToolCallDelta,
    __version__,
    encode,
    encode_response,
)
from ._iter import AsyncDecodingIterator
from ._sse import EventSource, SSEError, aconnect_sse, aiter_sse, connect_sse, iter_sse
from .errors import (
    ChecksumError,
    EventTooLargeError,
    FastSSEError,
    ProtocolError,
    ProviderError,
    UsageError,
)

__all__ = [
    "AsyncDecodingIterator",
    "ChecksumError",
    "Encoder",
    "EventSource",
    "EventTooLargeError",
    "FastSSEError",
    "GenerationChunk",
    "NDJSONDecoder",
    "ProtocolError",
    "ProviderError",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
    "ToolCallDelta",
    "UsageError",
    "__version__",
    "aconnect_sse",
    "aiter_sse",
    "connect_sse",
    "encode",
    "encode_response",
    "iter_sse",
]
