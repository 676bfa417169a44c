"""``EventSourceResponse``: any iterable of events served as Server-Sent Events, in any ASGI app.

Items are :class:`fastsse.ServerSentEvent`s, strings (the data of a plain event) or any other
JSON-serializable value (the data, as JSON); the iterable may be sync or async. The bytes are
written by the Rust core (:func:`fastsse.encode_sse`), which refuses a CR or LF inside an event
type or id, so no value can inject fields or events into the stream.

Three tasks share the request:

* the **producer** reads the iterable and hands items to the sender; it reads ahead at most one
  batch, so a client that reads slowly holds the iterable back instead of growing memory (a
  sync iterable is read in a worker thread, except a list or tuple, which cannot block);
* the **sender** encodes everything waiting in one call and sends it; when nothing came for
  ``ping`` seconds it sends a ``: ping`` comment, which keeps proxies from closing an idle
  stream; with ``send_timeout``, a send the client does not take within that time drops it;
* the **watcher** waits for ``http.disconnect``; when the client leaves it cancels the others.

When the client leaves or is dropped, the iterable is closed (``aclose()`` / ``close()``, so
its ``finally`` blocks run and a generation behind it stops) and then ``on_disconnect`` is
called. Under Starlette or FastAPI the class is a ``starlette.responses.Response``, so an
endpoint can return it directly; without Starlette it is a plain ASGI application.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.to_thread

from .._fastsse import encode_sse
from ._asgi import Receive, Scope, Send
from ._streaming import SSE_HEADERS

if TYPE_CHECKING:
    from starlette.background import BackgroundTask
    from starlette.responses import Response as _ResponseBase
else:
    try:  # a Starlette Response when Starlette is there, so FastAPI passes it through as is
        from starlette.responses import Response as _ResponseBase
    except ImportError:  # pragma: no cover - plain ASGI
        _ResponseBase = object

__all__ = ["EventSourceResponse"]

logger = logging.getLogger("fastsse.server")

PING_COMMENT = b": ping\n\n"
# How long closing the iterable or running the hook may take once the client has gone.
CLOSE_TIMEOUT = 5.0
_END = object()

Outcome = Literal["completed", "client left", "send timed out"]


class _Relay:
    """Items from the producer to the sender, at most ``max_batch`` of them waiting.

    Also the sender's clock: ``last_sent`` is when bytes last went out, and the pinger asks for
    a ping through ``want_ping``. No cancel scope per event: the sender waits on one event that
    a new item, the end or a due ping sets (scopes cost more than encoding the event).
    """

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max_batch
        self.items: list[Any] = []
        self.ended = False
        self.error: BaseException | None = None
        self.want_ping = False
        self.last_sent = time.monotonic()
        self._ready: anyio.Event | None = None  # set while the sender waits
        self._room: anyio.Event | None = None  # set while the producer waits

    def _wake_sender(self) -> None:
        if self._ready is not None:
            self._ready.set()

    async def put(self, item: Any) -> None:
        self.items.append(item)
        self._wake_sender()
        if len(self.items) >= self.max_batch:
            self._room = anyio.Event()
            await self._room.wait()

    def end(self, error: BaseException | None = None) -> None:
        self.ended = True
        self.error = error
        self._wake_sender()

    def ping(self) -> None:
        self.want_ping = True
        self._wake_sender()

    async def take(self) -> list[Any]:
        """What is waiting, after waiting for something (an item, the end, or a ping)."""
        if not self.items and not self.ended and not self.want_ping:
            self._ready = anyio.Event()
            await self._ready.wait()
            self._ready = None
        batch, self.items = self.items, []
        if self._room is not None:
            self._room.set()
            self._room = None
        return batch


class EventSourceResponse(_ResponseBase):
    """Serve ``content`` (a sync or async iterable of events) as ``text/event-stream``.

    ``ping``: seconds of silence before a ``: ping`` comment (None: never). ``send_timeout``:
    seconds a single send may wait for a client that stopped reading before the client is
    dropped (None: wait forever). ``headers`` are added to (and may replace) the defaults
    ``Content-Type: text/event-stream``, ``Cache-Control: no-cache``, ``X-Accel-Buffering: no``.
    ``on_disconnect`` (sync or async, no arguments) is called after the iterable was closed
    because the client left or was dropped. ``background`` runs after the response, as in
    Starlette. ``max_batch`` caps the items read ahead of the client (and encoded per call).
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        content: Iterable[Any] | AsyncIterable[Any],
        *,
        ping: float | None = 15.0,
        send_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        status_code: int = 200,
        on_disconnect: Callable[[], Awaitable[None] | None] | None = None,
        background: BackgroundTask | None = None,
        max_batch: int = 64,
    ) -> None:
        if ping is not None and ping <= 0:
            raise ValueError(f"ping must be a positive number of seconds or None, got {ping}")
        if send_timeout is not None and send_timeout <= 0:
            raise ValueError(f"send_timeout must be a positive number of seconds or None, got {send_timeout}")
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.content = content
        self.ping = ping
        self.send_timeout = send_timeout
        self.status_code = status_code
        self.on_disconnect = on_disconnect
        self.background = background
        self.max_batch = max_batch
        given = [
            (key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in (headers or {}).items()
        ]
        names = {key for key, _ in given}
        self.raw_headers = [header for header in SSE_HEADERS if header[0] not in names] + given
        self.outcome: Outcome | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        self.outcome = await self._stream(receive, send)
        if self.outcome == "completed":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            # A dropped client's response stays unfinished: the server closes the connection.
            logger.info("event stream ended early: %s", self.outcome)
            await self._run_hook()
        if self.background is not None:
            await self.background()

    async def _stream(self, receive: Receive, send: Send) -> Outcome:
        relay = _Relay(self.max_batch)
        outcome: Outcome = "completed"
        failure: Exception | None = None

        async def watch() -> None:
            nonlocal outcome
            while (await receive())["type"] != "http.disconnect":
                pass
            outcome = "client left"
            group.cancel_scope.cancel()

        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            group.start_soon(self._produce, relay)
            if self.ping is not None:
                group.start_soon(self._ping, relay, self.ping)
            try:
                outcome = await self._send_batches(relay, send)
            except Exception as exc:  # re-raised below, outside the task group (no ExceptionGroup)
                failure = exc
            group.cancel_scope.cancel()
        if failure is not None:
            raise failure
        return outcome

    async def _produce(self, relay: _Relay) -> None:
        content = self.content
        iterator: Iterator[Any] | AsyncIterator[Any] | None = None
        try:
            if isinstance(content, AsyncIterable):
                iterator = aiter(content)
                async for item in iterator:
                    await relay.put(item)
            elif isinstance(content, (list, tuple)):
                for item in content:
                    await relay.put(item)
            else:
                iterator = iter(content)
                # Not abandoned on cancel: the iterable is closed once its current item is out.
                while (item := await anyio.to_thread.run_sync(next, iterator, _END)) is not _END:
                    await relay.put(item)
        except Exception as exc:  # the iterable failed: the sender sends what came before, then raises
            relay.end(exc)
            return
        finally:
            await _close(iterator)
        relay.end()

    async def _ping(self, relay: _Relay, ping: float) -> None:
        """Asks for a ping whenever nothing went out for ``ping`` seconds."""
        while True:
            silent = time.monotonic() - relay.last_sent
            if silent >= ping:
                relay.ping()
                silent = 0.0
            await anyio.sleep(ping - silent)

    async def _send_batches(self, relay: _Relay, send: Send) -> Outcome:
        while True:
            batch = await relay.take()
            refused: Exception | None = None
            if batch:
                body, refused = _encode(batch)
            elif relay.ended:
                if relay.error is not None:
                    raise relay.error
                return "completed"
            else:
                body = PING_COMMENT
            relay.want_ping = False
            message = {"type": "http.response.body", "body": body, "more_body": True}
            if self.send_timeout is None:
                await send(message)
            else:
                with anyio.move_on_after(self.send_timeout) as timer:
                    await send(message)
                if timer.cancelled_caught:
                    return "send timed out"
            relay.last_sent = time.monotonic()
            if refused is not None:
                raise refused

    async def _run_hook(self) -> None:
        if self.on_disconnect is None:
            return
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLOSE_TIMEOUT):
            try:
                result = self.on_disconnect()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("the event source's on_disconnect hook failed")


def _encode(batch: list[Any]) -> tuple[bytes, Exception | None]:
    """The batch's bytes; when an event is refused, the bytes of the events before it and why."""
    try:
        return encode_sse(batch), None
    except Exception as exc:
        valid = []
        for item in batch:
            try:
                valid.append(encode_sse([item]))
            except Exception:
                break
        return b"".join(valid), exc


async def _close(iterator: Iterator[Any] | AsyncIterator[Any] | None) -> None:
    """Close the iterable's iterator (its ``finally`` blocks run), shielded: this runs while
    the request is being cancelled, and must still reach whatever produces the events."""
    with anyio.CancelScope(shield=True), anyio.move_on_after(CLOSE_TIMEOUT):
        try:
            aclose = getattr(iterator, "aclose", None)
            close = getattr(iterator, "close", None)
            if aclose is not None:
                await aclose()
            elif close is not None:
                close()
        except Exception:
            logger.exception("closing the event source's iterable failed")
