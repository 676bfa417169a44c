"""An HTTP error status instead of a stream: `ProviderHTTPError`, for `iter_chunks` and the client.

A response with status >= 400 carries the provider's error body, not events; decoding it as a
stream would yield nothing useful. Its body is read (capped at `ERROR_BODY_LIMIT`), the
response closed, and `ProviderHTTPError` raised with the status, the headers, `retry_after`
(seconds, from `retry-after-ms` / `retry-after`) and what the body says.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

from ._sources import http_response_of
from .errors import ProviderHTTPError

__all__ = ["ERROR_BODY_LIMIT", "araise_for_status", "raise_for_status", "retry_after", "status_error"]

#: The most of an error body kept (and read) before raising.
ERROR_BODY_LIMIT = 64 * 1024


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks to wait: `retry-after-ms` (OpenAI, Anthropic), then `retry-after`
    (seconds or an HTTP date); None when absent or unreadable."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def status_error(status: int, headers: Mapping[str, str], body: bytes, url: str) -> ProviderHTTPError:
    """The error for an HTTP error response, with what its body says in any provider's shape."""
    from .client._providers import error_details

    code, message = error_details(body)
    code = code or headers.get("x-amzn-errortype", "").partition(":")[0] or None
    return ProviderHTTPError(
        f"HTTP {status} from {url}: {message}",
        code=code,
        provider_message=message,
        raw=body.decode("utf-8", "replace"),
        status_code=status,
        headers=dict(headers.items()),
        retry_after=retry_after(headers),
    )


def _status(response: Any) -> int | None:
    status = getattr(response, "status_code", None)
    if status is None:
        status = getattr(response, "status", None)  # aiohttp
    return status if isinstance(status, int) else None


def raise_for_status(source: Any) -> None:
    """Raise `ProviderHTTPError` when `source` is an HTTP response with an error status."""
    response = http_response_of(source)
    status = _status(response)
    if status is None or status < 400 or not hasattr(response, "iter_bytes"):
        return
    body = bytearray()
    try:
        for piece in response.iter_bytes():
            body += piece
            if len(body) >= ERROR_BODY_LIMIT:
                break
    finally:
        response.close()
    raise status_error(status, response.headers, bytes(body[:ERROR_BODY_LIMIT]), str(response.url))


async def araise_for_status(source: Any) -> None:
    """The async twin of `raise_for_status` (httpx / httpx2 and aiohttp responses)."""
    response = http_response_of(source)
    status = _status(response)
    if status is None or status < 400:
        return
    if hasattr(response, "release"):  # aiohttp
        body: bytes = await response.content.read(ERROR_BODY_LIMIT)
        response.release()
    elif hasattr(response, "aiter_bytes"):
        buffer = bytearray()
        try:
            async for piece in response.aiter_bytes():
                buffer += piece
                if len(buffer) >= ERROR_BODY_LIMIT:
                    break
        finally:
            await response.aclose()
        body = bytes(buffer[:ERROR_BODY_LIMIT])
    else:
        return
    raise status_error(status, response.headers, body[:ERROR_BODY_LIMIT], str(response.url))
