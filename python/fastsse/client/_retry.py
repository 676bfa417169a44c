"""Retrying a request the provider answered with "too many requests" or a server error.

Off by default: a ``Client`` retries only when given ``retry=Retry(...)``. Only the request is
retried, never a stream that already started (a dropped fastsse stream resumes instead, see
``_resume``). Each wait honours the server's ``retry-after-ms`` / ``retry-after`` when it sends
one, else backs off exponentially with jitter; every wait is capped by ``max_wait``, and the
number of retries by ``attempts``, so a failing provider costs a bounded time.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["RETRY_STATUSES", "Retry"]

#: Request timeout, conflict (Anthropic's "overloaded" lock), rate limit and server errors.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


@dataclass(frozen=True)
class Retry:
    """How a ``Client`` retries a request answered with one of ``statuses``.

    ``attempts`` retries at most (after the first try); the n-th wait is the server's
    ``retry-after`` if it sent one, else ``backoff * 2**n`` with up to 25% jitter; never more
    than ``max_wait`` seconds.
    """

    attempts: int = 2
    statuses: frozenset[int] = RETRY_STATUSES
    backoff: float = 0.5
    max_wait: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 0 or self.backoff < 0 or self.max_wait < 0:
            raise ValueError(f"Retry needs attempts, backoff and max_wait >= 0, got {self}")

    def wait(self, retry: int, headers: Mapping[str, str]) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        from .._http_status import retry_after

        asked = retry_after(headers)
        if asked is None:
            asked = self.backoff * 2**retry * (1 - 0.25 * random.random())
        return min(self.max_wait, asked)


def status_of(response: Any) -> int:
    status: int = response.status_code if hasattr(response, "status_code") else response.status
    return status


def send_retrying(retry: Retry | None, send: Callable[[], Any], sleep: Callable[[float], None]) -> Any:
    """``send()`` again while the answer's status is retryable and attempts remain."""
    response = send()
    tries = 0
    while retry is not None and tries < retry.attempts and status_of(response) in retry.statuses:
        wait = retry.wait(tries, response.headers)
        response.close()
        sleep(wait)
        tries += 1
        response = send()
    return response


async def asend_retrying(
    retry: Retry | None,
    send: Callable[[], Awaitable[Any]],
    close: Callable[[Any], Awaitable[None]],
    sleep: Callable[[float], Awaitable[None]],
) -> Any:
    """The async twin of ``send_retrying``."""
    response = await send()
    tries = 0
    while retry is not None and tries < retry.attempts and status_of(response) in retry.statuses:
        wait = retry.wait(tries, response.headers)
        await close(response)
        await sleep(wait)
        tries += 1
        response = await send()
    return response
