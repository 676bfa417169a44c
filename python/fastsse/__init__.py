"""fastsse: the fastest correct way to turn LLM output streams into typed events."""

from __future__ import annotations

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
from .adapters import GenerationAdapter
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
    "EventSource",
    "EventTooLargeError",
    "FastSSEError",
    "GenerationAdapter",
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
    "iter_sse",
]
