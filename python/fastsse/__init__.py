"""fastsse: the fastest correct way to turn LLM output streams into typed events."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import streams
from ._chunks import (
    PROVIDERS,
    AsyncChunkIterator,
    ChunkDecoder,
    ChunkIterator,
    Collector,
    GenerationResult,
    NoEventsMatchedWarning,
    ProviderCapabilities,
    ProviderName,
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
    TextParser,
    ToolCallDelta,
    __version__,
    build_info,
    encode,
    encode_response,
    encode_sse,
    formats_for_model,
)
from ._iter import AsyncDecodingIterator
from ._sse import EventSource, aconnect_sse, aiter_sse, connect_sse, iter_sse
from .errors import (
    ChecksumError,
    DeadlineExceededError,
    EventTooLargeError,
    FastSSEError,
    IdleTimeoutError,
    IncompleteStreamError,
    InternalError,
    LimitExceededError,
    ProtocolError,
    ProviderError,
    ProviderHTTPError,
    ResponseTemplateError,
    StreamTimeoutError,
    UnknownNameError,
    UsageError,
)

if TYPE_CHECKING:
    from . import adapters, client, sdk, server
    from ._sse import SSEError
    from .adapters import GenerationAdapter
    from .sdk import accelerate

# Loaded on first use, so `import fastsse` pulls in neither the server (Starlette) nor the
# HTTP client nor the SDK glue: name -> (module, attribute or None for the module itself).
_LAZY = {
    "adapters": (".adapters", None),
    "client": (".client", None),
    "sdk": (".sdk", None),
    "server": (".server", None),
    "GenerationAdapter": (".adapters", "GenerationAdapter"),
    "accelerate": (".sdk", "accelerate"),
    "SSEError": ("._sse", "SSEError"),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'fastsse' has no attribute {name!r}") from None
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


__all__ = [
    "PROVIDERS",
    "AsyncChunkIterator",
    "AsyncDecodingIterator",
    "ChecksumError",
    "ChunkDecoder",
    "ChunkIterator",
    "Collector",
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
    "IncompleteStreamError",
    "InternalError",
    "LimitExceededError",
    "NDJSONDecoder",
    "NoEventsMatchedWarning",
    "ProtocolError",
    "ProviderCapabilities",
    "ProviderError",
    "ProviderHTTPError",
    "ProviderName",
    "ResponseTemplateError",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
    "StreamTimeoutError",
    "TextParser",
    "ToolCall",
    "ToolCallDelta",
    "UnknownNameError",
    "UsageError",
    "__version__",
    "accelerate",
    "acollect",
    "aconnect_sse",
    "adapters",
    "aiter_chunks",
    "aiter_sse",
    "build_info",
    "client",
    "collect",
    "connect_sse",
    "encode",
    "encode_response",
    "encode_sse",
    "formats_for_model",
    "iter_chunks",
    "iter_sse",
    "provider_capabilities",
    "sdk",
    "server",
    "streams",
]
