"""The exception hierarchy, split by blame (docs/ARCHITECTURE.md).

The Rust core raises these through the binding; every message says what was wrong, where
(stream byte offset) and which limit applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._fastsse import GenerationResult

__all__ = [
    "ChecksumError",
    "DeadlineExceededError",
    "EventTooLargeError",
    "FastSSEError",
    "IdleTimeoutError",
    "IncompleteStreamError",
    "InternalError",
    "LimitExceededError",
    "ProtocolError",
    "ProviderError",
    "ProviderHTTPError",
    "ResponseTemplateError",
    "StreamTimeoutError",
    "UnknownNameError",
    "UsageError",
]


class FastSSEError(Exception):
    """Base of every error fastsse raises on purpose.

    ``partial`` is what a stream delivered before the error: the ``GenerationResult`` when the
    error ended a stream read by ``collect`` / ``acollect`` or a ``strict`` stream (typed so on
    ``ProtocolError`` and ``ProviderError``); None when nothing was collected.
    """

    partial: Any = None

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.offset: int | None = context.pop("offset", None)
        for key, value in context.items():
            setattr(self, key, value)


class ProtocolError(FastSSEError, ValueError):
    """The bytes break the wire format (malformed frame, malformed JSON in an event, ...)."""

    partial: GenerationResult | None


class ResponseTemplateError(FastSSEError, ValueError):
    """A Hugging Face response template that cannot be compiled: ``field`` and ``key`` say where
    (``None`` for the template as a whole)."""

    field: str | None
    key: str | None


class EventTooLargeError(ProtocolError):
    """One event (or the unfinished line that would become one) outgrew its cap.

    ``limit`` is the cap in bytes, ``offset`` the stream offset where it was crossed.
    """

    limit: int


class ChecksumError(ProtocolError):
    """A CRC32 in a binary frame (AWS eventstream) did not match: ``expected`` vs ``actual``."""

    expected: int
    actual: int


class UsageError(FastSSEError, RuntimeError):
    """The API was used wrongly (decode after flush, after an error, unknown option, ...)."""


class UnknownNameError(UsageError, ValueError):
    """An unknown provider or format name: both a misuse (``UsageError``) and a bad value
    (``ValueError``), so either ``except`` catches it wherever the name was given."""


class LimitExceededError(FastSSEError, ValueError):
    """An input outgrew a cap that bounds its cost: too many or too long stop strings, a tool
    schema nested too deep or too large, a ``partialArgs`` path index or depth past its cap, ...

    ``limit_name`` names the cap (the README's "Limits and guarantees" lists them all) and
    ``limit`` is its value.
    """

    limit_name: str
    limit: int


class InternalError(FastSSEError):
    """A bug in fastsse's Rust core (a panic), caught at the binding so that it never surfaces
    as a ``BaseException``. ``partial`` holds what the failing call had produced before it
    (a list, possibly empty). Please report it with the input that caused it.
    """

    partial: list[Any]


class ProviderError(FastSSEError):
    """The provider reported an error inside the stream.

    ``code`` is the provider's error code or type, ``provider_message`` its message and ``raw``
    the provider's event as sent (JSON text).
    """

    code: str | None
    provider_message: str
    raw: str
    partial: GenerationResult | None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        provider_message: str | None = None,
        raw: str = "",
        **context: Any,
    ) -> None:
        super().__init__(message, **context)
        self.code = code
        self.provider_message = provider_message if provider_message is not None else message
        self.raw = raw


class ProviderHTTPError(ProviderError):
    """The provider answered the request with an HTTP error status instead of a stream.

    ``status_code`` is the HTTP status, ``headers`` the response headers, ``retry_after`` the
    seconds the server asked to wait (``retry-after-ms`` / ``retry-after``; None if it did not),
    ``code`` and ``provider_message`` what the error body says (when it is JSON in a known shape),
    ``raw`` the body text (capped at 64 KiB).
    """

    status_code: int
    headers: dict[str, str]
    retry_after: float | None


class StreamTimeoutError(FastSSEError, TimeoutError):
    """A chunk stream ran out of time (``fastsse.streams.timeout`` / ``atimeout``).

    Nothing that arrived is lost: ``chunks`` is the stream so far, compacted (text, reasoning
    and each tool call's arguments merged, the latest usage and finish reason kept), and
    ``partial`` is ``fastsse.collect(chunks)``: the partial ``GenerationResult``.
    ``chunks_received`` counts the items passed through, ``limit`` is the limit in seconds
    that was crossed and ``elapsed`` the seconds measured against it.
    """

    partial: Any
    chunks: list[Any]
    chunks_received: int
    limit: float
    elapsed: float


class IdleTimeoutError(StreamTimeoutError):
    """No chunk arrived within ``limit`` seconds of the previous one (or of the first request)."""


class DeadlineExceededError(StreamTimeoutError):
    """The stream as a whole did not finish within ``limit`` seconds of its first use."""


class IncompleteStreamError(ProtocolError):
    """The stream ended before the provider's final event (the connection dropped, a proxy cut
    it). Raised by ``iter_chunks(..., strict=True)``; without ``strict`` the last chunk has
    ``finish_reason="error"`` and ``error_code="incomplete_stream"`` instead. ``partial`` holds
    the result of what arrived."""

    partial: GenerationResult
