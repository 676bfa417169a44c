"""fastsse: the fastest correct way to turn LLM output streams into typed events."""

from __future__ import annotations

from ._chunks import (
    PROVIDERS,
    ChunkDecoder,
    GenerationResult,
    ProviderCapabilities,
    ToolCall,
    acollect,
    aiter_chunks,
    collect,
    iter_chunks,
    provider_capabilities,
)
from ._fastsse import (
    EventStreamDecoder,
    EventStreamMessage,
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
    EventTooLargeError,
    FastSSEError,
    ProtocolError,
    ProviderError,
    UsageError,
)

__all__ = [
    "PROVIDERS",
    "AsyncDecodingIterator",
    "ChecksumError",
    "ChunkDecoder",
    "EventSource",
    "EventStreamDecoder",
    "EventStreamMessage",
    "EventTooLargeError",
    "FastSSEError",
    "GenerationChunk",
    "GenerationResult",
    "NDJSONDecoder",
    "ProtocolError",
    "ProviderCapabilities",
    "ProviderError",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
    "ToolCall",
    "ToolCallDelta",
    "UsageError",
    "__version__",
    "acollect",
    "aconnect_sse",
    "aiter_chunks",
    "aiter_sse",
    "collect",
    "connect_sse",
    "iter_chunks",
    "iter_sse",
    "provider_capabilities",
]
