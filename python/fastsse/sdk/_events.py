"""SSE bytes -> SDK-shaped stream events, one FFI crossing per network chunk.

`SDKEventDecoder` follows the `decode(bytes) -> list` / `flush() -> list` decoder protocol, so the
package's own drivers (`iter_decoded`, `AsyncDecodingIterator`) pump it. What differs between the
SDKs is one function per provider (the rule it is made with): which events to skip, where the
stream stops, and what counts as an in-stream error — the same rules as the SDK's own `Stream`.
(Anthropic's streams have their own decoder in the binding, `AnthropicEventDecoder`.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._fastsse import ServerSentEvent, SSEDecoder

__all__ = ["SKIP", "STOP", "SDKEventDecoder"]

SKIP = object()  # the event yields nothing
STOP = object()  # the stream is over ([DONE])


#: sse -> an item, SKIP or STOP; raises the SDK's own error for an in-stream error.
EventRule = Callable[[ServerSentEvent], Any]


class SDKEventDecoder:
    """Bytes in, the items `rule` makes of each SSE event out, in order.

    An error raised by `rule` is held back until the items decoded before it in the same network
    chunk have been handed out (the SDKs yield those first, then raise).
    """

    __slots__ = ("_error", "_rule", "_sse", "_stopped")

    def __init__(self, rule: EventRule) -> None:
        self._sse = SSEDecoder()
        self._rule = rule
        self._stopped = False
        self._error: BaseException | None = None

    def decode(self, data: bytes, /) -> list[Any]:
        return self._items(self._sse.decode(data))

    def flush(self) -> list[Any]:
        return self._items(self._sse.flush())

    def _items(self, events: list[ServerSentEvent]) -> list[Any]:
        if self._error is not None:
            error, self._error = self._error, None
            self._stopped = True
            raise error
        if self._stopped:
            return []
        out: list[Any] = []
        rule = self._rule
        for sse in events:
            try:
                item = rule(sse)
            except Exception as error:
                if not out:
                    self._stopped = True
                    raise
                self._error = error
                break
            if item is SKIP:
                continue
            if item is STOP:
                self._stopped = True
                break
            out.append(item)
        return out
