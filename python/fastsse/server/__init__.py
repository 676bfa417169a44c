"""The server side of fastsse: an engine's raw text served as OpenAI / Anthropic streams.

``create_app(adapter, reasoning="think", tools="hermes")`` returns a plain ASGI app; run it under
any ASGI server (``fastsse serve`` uses uvicorn, the ``fastsse[server]`` extra).
"""

from __future__ import annotations

from ._app import FastSSEApp, create_app
from ._background import background_server
from ._event_source import EventSourceResponse
from ._limits import ServerLimits
from ._metrics import ServerMetrics
from ._redis_store import RedisStore
from ._resume import ResumableStreams
from ._stores import MemoryStore, StoredEvents, StoreFullError, StoreUnavailableError, StreamStore
from ._template import ChatTemplate, hermes_template
from ._worker import Generation, GenerationStats

__all__ = [
    "ChatTemplate",
    "EventSourceResponse",
    "FastSSEApp",
    "Generation",
    "GenerationStats",
    "MemoryStore",
    "RedisStore",
    "ResumableStreams",
    "ServerLimits",
    "ServerMetrics",
    "StoreFullError",
    "StoreUnavailableError",
    "StoredEvents",
    "StreamStore",
    "background_server",
    "create_app",
    "hermes_template",
]
