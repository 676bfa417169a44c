"""fastsse: the fastest correct way to turn LLM output streams into typed events."""

from __future__ import annotations

from . import client, streams
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
    Encoder,
    EventStreamDecoder,
    EventStreamMessage,
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
from .adapters import GenerationAdapter
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
    "PROVIDERS",
    "AsyncDecodingIterator",
    "ChecksumError",
    "ChunkDecoder",
    "DeadlineExceededError",
    "Encoder",
    "EventSource",
    "EventStreamDecoder",
    "EventStreamMessage",
    "EventTooLargeError",
    "FastSSEError",
    "GenerationAdapter",
    "GenerationChunk",
    "GenerationResult",
    "IdleTimeoutError",
    "NDJSONDecoder",
    "ProtocolError",
    "ProviderCapabilities",
    "ProviderError",
    "ProviderHTTPError",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
    "StreamTimeoutError",
    "ToolCall",
    "ToolCallDelta",
    "UsageError",
    "__version__",
    "acollect",
    "aconnect_sse",
    "aiter_chunks",
    "aiter_sse",
    "client",
    "collect",
    "connect_sse",
    "encode",
    "encode_response",
    "iter_chunks",
    "iter_sse",
    "provider_capabilities",
    "streams",
]
