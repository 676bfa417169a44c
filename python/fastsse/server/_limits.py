"""The server's caps: what one request, one connection and the whole process may cost.

``ServerLimits`` gathers them; ``create_app(..., limits=ServerLimits(...))`` applies the
request-level ones and ``ServerLimits.uvicorn_options()`` the connection-level ones (``fastsse
serve`` passes both). Each cap answers in the provider's error shape with the status below, so
the official SDKs raise their usual typed errors, and ``/health`` keeps answering whatever a
client sends.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from ._errors import RequestError
from ._requests import ChatRequest

__all__ = ["ServerLimits", "add_limit_options", "keys_match", "limits_from_args"]

MIB = 1024 * 1024
T = TypeVar("T")


def _cap(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class ServerLimits:
    """Caps with safe defaults; every one is a ``fastsse serve`` flag (``--max-body-size`` ...)."""

    max_body_size: int = _cap(32 * MIB, "request body bytes; more answers 413")
    body_timeout: float = _cap(30.0, "seconds to receive the body after the headers; slower answers 408")
    header_timeout: float = _cap(
        10.0,
        "seconds a connection may take to send a request's headers (after connecting or after its "
        "previous response); then it is closed, so half-sent requests cannot pin file descriptors",
    )
    max_connections: int = _cap(
        2048, "open connections plus requests in flight (uvicorn's limit_concurrency); past it 503"
    )
    max_concurrent_requests: int = _cap(
        1024, "generation requests in flight, streams included; past it 503 in the provider's error shape"
    )
    max_tokens: int = _cap(1 << 20, "upper bound on a client's max_tokens (max_completion_tokens); else 400")
    max_messages: int = _cap(4096, "messages in one request; more answers 400")
    max_message_bytes: int = _cap(8 * MIB, "bytes of text in one message (or a raw prompt); more answers 400")
    offload_body_bytes: int = _cap(
        256 * 1024,
        "requests with at least this much text are prepared (chat template, token count) in a worker "
        "thread, so one large request does not stall the event loop",
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not value > 0:
                raise ValueError(f"ServerLimits.{f.name} must be positive, got {value!r}")

    def check_request(self, request: ChatRequest) -> None:
        """Refuse a parsed request past the per-request caps (HTTP 400, naming the parameter)."""
        max_tokens = request.sampling.get("max_new_tokens")
        if isinstance(max_tokens, int) and max_tokens > self.max_tokens:
            param = "max_tokens"
            raise RequestError(
                f"'{param}' is {max_tokens}; this server allows at most {self.max_tokens}", param=param
            )
        if len(request.messages) > self.max_messages:
            raise RequestError(
                f"'messages' has {len(request.messages)} entries; at most {self.max_messages} are allowed",
                param="messages",
            )
        texts = [request.prompt or ""] + [str(m.get("content") or "") for m in request.messages]
        for index, text in enumerate(texts):
            # Characters first: cheap, and bytes are at most 4 per character.
            if len(text) * 4 > self.max_message_bytes and len(text.encode()) > self.max_message_bytes:
                param = "prompt" if index == 0 else f"messages[{index - 1}].content"
                raise RequestError(
                    f"'{param}' is larger than this server's limit of {self.max_message_bytes} bytes",
                    param=param,
                )

    async def offload(self, request: ChatRequest, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)``, in a worker thread when the request is large (see ``offload_body_bytes``)
        so that rendering or tokenizing it does not hold up other requests' streams."""
        size = sum(len(str(m.get("content") or "")) for m in request.messages) + len(request.prompt or "")
        if size + 1024 * len(request.tools) < self.offload_body_bytes:
            return work(*args)
        return await anyio.to_thread.run_sync(functools.partial(work, *args))

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` enforcing the connection caps."""
        return {
            "http": header_timeout_protocol(self.header_timeout),
            "limit_concurrency": self.max_connections,
            "timeout_keep_alive": min(5.0, self.header_timeout),
            # A SIGTERM ends open streams after this long instead of waiting for them forever.
            "timeout_graceful_shutdown": 10,
        }


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """One ``fastsse serve`` flag per cap: ``--max-body-size``, ``--header-timeout``, ..."""
    group = parser.add_argument_group("limits")
    for cap in fields(ServerLimits):
        flag = "--" + cap.name.replace("_", "-")
        group.add_argument(flag, type=type(cap.default), default=cap.default, help=cap.metadata["help"])


def limits_from_args(args: argparse.Namespace) -> ServerLimits:
    return ServerLimits(**{cap.name: getattr(args, cap.name) for cap in fields(ServerLimits)})


class RequestSlots:
    """At most ``limit`` generation requests at once; the next one gets 503 (overloaded)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        if self.in_use >= self.limit:
            raise RequestError(
                f"the server is at its limit of {self.limit} concurrent requests; retry later", status=503
            )
        self.in_use += 1
        try:
            yield
        finally:
            self.in_use -= 1


async def read_within(seconds: float, reading: Any) -> Any:
    """Await ``reading`` (the request body), answering 408 if it takes longer than ``seconds``."""
    try:
        return await asyncio.wait_for(reading, seconds)
    except asyncio.TimeoutError:
        raise RequestError(
            f"the request body did not arrive within the server's limit of {seconds:g} s", status=408
        ) from None


def keys_match(given: str, expected: str) -> bool:
    """Compare API keys in constant time (no early exit that would leak a matching prefix)."""
    return hmac.compare_digest(given.encode(), expected.encode())


_PROTOCOLS: dict[float, type[asyncio.Protocol]] = {}


def header_timeout_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, closing a connection that has not sent a request's headers within
    ``seconds`` of connecting or of its previous response (uvicorn itself waits forever)."""
    if seconds in _PROTOCOLS:
        return _PROTOCOLS[seconds]
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _armed_for: Any = None

        def _arm(self) -> None:
            self._disarm()
            self._armed_for = self.cycle
            self._header_timer = self.loop.call_later(seconds, self._header_deadline)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_deadline(self) -> None:
            self._header_timer = None
            # A request that started since the timer was armed is the app's business.
            idle = self.cycle is self._armed_for and (self.cycle is None or self.cycle.response_complete)
            if idle and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    HeaderTimeoutProtocol.__name__ = HeaderTimeoutProtocol.__qualname__ = "HeaderTimeoutProtocol"
    _PROTOCOLS[seconds] = HeaderTimeoutProtocol
    return HeaderTimeoutProtocol
