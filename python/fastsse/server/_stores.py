"""Where resumable streams live: the encoded events of each stream, in order, by event id.

A store holds, per stream, its wire format name, its events (``(id, bytes)`` with ids 1, 2, 3,
...), whether it ended, the producer's lease and the last time a reader was attached. Two
stores share one contract:

* :class:`MemoryStore` — one process, no setup (the default);
* :class:`RedisStore` — Redis Streams, shared by every replica pointed at the same server
  (``XADD`` with ``MAXLEN``, ``XREAD BLOCK`` for followers, ``EXPIRE`` on finished streams, the
  lease as a key with a ``PX`` expiry).

Both are bounded, and each bound refuses with a ``StoreFullError`` naming it:

* ``max_streams`` streams held at once (open, or finished within their TTL; a stream past its
  TTL, or whose producer's lease lapsed more than a grace period ago, no longer counts): a new
  stream is refused (the server answers 503);
* ``max_events`` events per stream: the producer ends a stream reaching it with a
  ``stream_too_large`` error event (as it does at its ``max_stream_bytes``, see ``_resume``);
  Redis's ``MAXLEN`` is set just above it, so no stored event is ever trimmed;
* in total: ``MemoryStore(max_total_bytes=...)``; for Redis, the server's own ``maxmemory`` (with
  the default ``noeviction`` policy Redis refuses writes past it, which the store reports as
  full). A producer refused for room ends its stream with a ``stream_store_full`` error event.

The last event of a stream (``finish``'s ``last``, an error event) is stored past the caps: it
is small, one per stream, and it is what tells readers why the stream ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from ..errors import FastSSEError

__all__ = [
    "MemoryStore",
    "RedisStore",
    "StoreFullError",
    "StoreUnavailableError",
    "StoredEvents",
    "StreamStore",
    "open_store",
]

StreamState = Literal["open", "done", "lost", "unknown"]

# Events returned by one read at most (a reader far behind catches up in several reads).
READ_BATCH = 512


class StoreFullError(FastSSEError):
    """The store is at one of its caps (``limit`` names it): no room for a new stream (the
    server answers 503) or for a stream's next events (the stream ends with an error event)."""


class StoreUnavailableError(FastSSEError):
    """The store cannot be reached (Redis down or restarted)."""


@dataclass
class StoredEvents:
    """What one read returns: events after the given id, and the stream's state after them.

    ``done``: the producer finished and these are the last events; ``lost``: the producer's
    lease lapsed before it finished; ``unknown``: no such stream (never made, or expired).
    """

    events: list[tuple[int, bytes]]
    state: StreamState


class StreamStore(ABC):
    """The contract of a stream store (see the module docstring)."""

    @abstractmethod
    async def create(self, stream_id: str, *, format: str, lease: float) -> None:
        """Start a stream held by a producer for ``lease`` seconds; ``StoreFullError`` when full."""

    @abstractmethod
    async def append(self, stream_id: str, events: list[tuple[int, bytes]]) -> None:
        """Add events (ids increasing, continuing the stream's last id)."""

    @abstractmethod
    async def renew(self, stream_id: str, lease: float) -> None:
        """Extend the producer's lease to ``lease`` seconds from now."""

    max_streams: int
    max_events: int

    @abstractmethod
    async def finish(self, stream_id: str, ttl: float, last: tuple[int, bytes] | None = None) -> None:
        """Mark the stream ended, after ``last`` (an error event, stored past the caps); it stays
        readable for ``ttl`` seconds."""

    @abstractmethod
    async def format_of(self, stream_id: str) -> str | None:
        """The stream's wire format name, or None when there is no such stream."""

    @abstractmethod
    async def read(self, stream_id: str, after: int, wait: float) -> StoredEvents:
        """Events with id > ``after``; waits up to ``wait`` seconds when there are none yet."""

    @abstractmethod
    async def touch(self, stream_id: str) -> None:
        """Record that a reader is attached now (the producer's detach timer reads this)."""

    @abstractmethod
    async def last_touch(self, stream_id: str) -> float | None:
        """``time.time()`` of the last ``touch``, or None."""

    async def aclose(self) -> None:  # noqa: B027 - nothing to release by default
        """Release connections."""


# --- in memory -----------------------------------------------------------------------------------


@dataclass
class _MemoryStream:
    format: str
    lease_until: float
    events: list[bytes] = field(default_factory=list)  # event id N is events[N - 1]
    done: bool = False
    expires_at: float = float("inf")
    touched: float | None = None
    changed: anyio.Event = field(default_factory=anyio.Event)


class MemoryStore(StreamStore):
    """Streams in this process's memory: what a single server needs, nothing to set up.

    Clocks: leases and TTLs use ``time.monotonic``; ``touch`` times are ``time.time``.
    """

    def __init__(
        self, *, max_streams: int = 10_000, max_events: int = 100_000, max_total_bytes: int = 1 << 30
    ) -> None:
        for name, value in (
            ("max_streams", max_streams),
            ("max_events", max_events),
            ("max_total_bytes", max_total_bytes),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self.max_streams = max_streams
        self.max_events = max_events
        self.max_total_bytes = max_total_bytes
        self.total_bytes = 0  # of every held stream's events
        self._streams: dict[str, _MemoryStream] = {}

    def _expired(self, stream: _MemoryStream, now: float) -> bool:
        return now >= stream.expires_at or (not stream.done and now >= stream.lease_until + stream_grace())

    def _drop(self, stream_id: str) -> None:
        stream = self._streams.pop(stream_id)
        self.total_bytes -= sum(map(len, stream.events))

    def _purge(self) -> None:
        now = time.monotonic()
        for stream_id in [key for key, stream in self._streams.items() if self._expired(stream, now)]:
            self._drop(stream_id)

    def _get(self, stream_id: str) -> _MemoryStream | None:
        stream = self._streams.get(stream_id)
        if stream is not None and time.monotonic() >= stream.expires_at:
            self._drop(stream_id)
            return None
        return stream

    def _full(self, extra: int) -> StoreFullError | None:
        """The cap a new stream (``extra == 0``) or ``extra`` more bytes would pass, if any."""
        if extra == 0 and len(self._streams) >= self.max_streams:
            message = f"the stream store holds {len(self._streams)} streams, its max_streams limit"
            return StoreFullError(message, limit="max_streams")
        if self.total_bytes + max(extra, 1) > self.max_total_bytes:
            message = (
                f"the stream store holds {self.total_bytes} bytes of events: {extra} more would pass"
                f" its max_total_bytes limit ({self.max_total_bytes})"
            )
            return StoreFullError(message, limit="max_total_bytes")
        return None

    async def create(self, stream_id: str, *, format: str, lease: float) -> None:
        if self._full(0) is not None:
            self._purge()
        if (full := self._full(0)) is not None:
            raise full
        self._streams[stream_id] = _MemoryStream(format=format, lease_until=time.monotonic() + lease)

    def _notify(self, stream: _MemoryStream) -> None:
        stream.changed.set()
        stream.changed = anyio.Event()

    def _add(self, stream: _MemoryStream, events: list[tuple[int, bytes]]) -> None:
        stream.events.extend(data for _, data in events)
        self.total_bytes += sum(len(data) for _, data in events)
        self._notify(stream)

    async def append(self, stream_id: str, events: list[tuple[int, bytes]]) -> None:
        size = sum(len(data) for _, data in events)
        if self._full(size) is not None:
            self._purge()
        if (full := self._full(size)) is not None:
            raise full
        self._add(self._streams[stream_id], events)

    async def renew(self, stream_id: str, lease: float) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.lease_until = time.monotonic() + lease

    async def finish(self, stream_id: str, ttl: float, last: tuple[int, bytes] | None = None) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None:
            if last is not None:
                self._add(stream, [last])
            stream.done = True
            stream.expires_at = time.monotonic() + ttl
            self._notify(stream)

    async def format_of(self, stream_id: str) -> str | None:
        stream = self._get(stream_id)
        return None if stream is None else stream.format

    async def read(self, stream_id: str, after: int, wait: float) -> StoredEvents:
        stream = self._get(stream_id)
        if stream is None:
            return StoredEvents([], "unknown")
        if after >= len(stream.events) and not stream.done and wait > 0:
            # Wake on the next change, or when the lease would lapse, whichever comes first.
            with anyio.move_on_after(min(wait, max(stream.lease_until - time.monotonic(), 0.0) + 0.01)):
                await stream.changed.wait()
        end = min(len(stream.events), after + READ_BATCH)
        events = [(index + 1, stream.events[index]) for index in range(max(after, 0), end)]
        state: StreamState = "open"
        if end >= len(stream.events):
            if stream.done:
                state = "done"
            elif time.monotonic() >= stream.lease_until:
                state = "lost"
        return StoredEvents(events, state)

    async def touch(self, stream_id: str) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.touched = time.time()

    async def last_touch(self, stream_id: str) -> float | None:
        stream = self._streams.get(stream_id)
        return None if stream is None else stream.touched


def stream_grace() -> float:
    """How long a stream whose producer was lost stays readable (so resumers see the error)."""
    return 60.0


# --- Redis -------------------------------------------------------------------------------------


class RedisStore(StreamStore):
    """Streams in Redis, shared by every replica using the same ``url`` (``redis://HOST:PORT/DB``).

    Keys, under ``prefix``: ``{id}`` the Redis stream (entry ``N-0`` holds event N in field
    ``d``; the terminator is an entry with field ``end``), ``{id}:meta`` the format, ``{id}:lease``
    the producer's lease (``PX`` expiry), ``{id}:touch`` the last reader time, and ``live`` a
    sorted set of every held stream scored by when it may be dropped (the ``max_streams`` count).
    Each stream's ``MAXLEN`` is ``max_events`` plus its error event and end marker. The total is
    bounded by the Redis server's ``maxmemory``. Needs the ``redis`` package.

    Followers: a reader that caught up does not hold a connection in ``XREAD BLOCK``; each
    append also ``PUBLISH``es the stream's id on ``{prefix}changed`` (in the same round trip),
    and one subscriber per store wakes the readers of that stream, which then read without
    blocking. So thousands of waiting readers cost no connection; if a notification is missed
    (the subscriber reconnecting), readers still look again within their wait. Commands share a
    pool of ``max_connections``; past it they wait up to ``connection_wait`` seconds for a free
    connection (then ``StoreUnavailableError``) instead of failing at once.
    """

    def __init__(
        self,
        url: str,
        *,
        max_streams: int = 10_000,
        max_events: int = 100_000,
        prefix: str = "fastsse:stream:",
        max_connections: int = 2000,
        connection_wait: float = 10.0,
        client: Any = None,
    ) -> None:
        if client is None:
            import redis.asyncio

            pool = redis.asyncio.BlockingConnectionPool.from_url(
                url, max_connections=max_connections, timeout=connection_wait, socket_connect_timeout=15.0
            )
            client = redis.asyncio.Redis.from_pool(pool)
        self.url = url
        self.max_streams = max_streams
        self.max_events = max_events
        self.prefix = prefix
        self._redis = client
        self._changed: dict[str, anyio.Event] = {}  # stream id -> set on its next change
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = anyio.Event()

    def _key(self, stream_id: str, part: str = "") -> str:
        return f"{self.prefix}{stream_id}{part}"

    @asynccontextmanager
    async def _reachable(self) -> AsyncIterator[None]:
        import redis.exceptions

        try:
            yield
        except redis.exceptions.OutOfMemoryError as exc:
            message = f"the Redis stream store at {self.url} is full (its maxmemory): {exc}"
            raise StoreFullError(message, limit="maxmemory") from exc
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            message = f"the Redis stream store at {self.url} is unreachable: {exc}"
            raise StoreUnavailableError(message) from exc

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        async with self._reachable():
            return await getattr(self._redis, method)(*args, **kwargs)

    async def _pipeline(self, build: Any, *, transaction: bool = True) -> Any:
        async with self._reachable(), self._redis.pipeline(transaction=transaction) as pipe:
            build(pipe)
            return await pipe.execute()

    async def create(self, stream_id: str, *, format: str, lease: float) -> None:
        live = self._key("", "live")
        now = time.time()
        _, held = await self._pipeline(lambda pipe: pipe.zremrangebyscore(live, "-inf", now).zcard(live))
        if held >= self.max_streams:
            raise StoreFullError(
                f"the Redis stream store holds {held} streams, its max_streams limit", limit="max_streams"
            )
        lease_ms = int(lease * 1000)
        grace = int(stream_grace())

        def build(pipe: Any) -> None:
            pipe.zadd(live, {stream_id: now + lease + stream_grace()})
            pipe.set(self._key(stream_id, ":meta"), format, ex=grace + int(lease) + 1)
            pipe.set(self._key(stream_id, ":lease"), b"1", px=lease_ms)

        await self._pipeline(build)

    async def append(self, stream_id: str, events: list[tuple[int, bytes]]) -> None:
        key = self._key(stream_id)

        def build(pipe: Any) -> None:
            for event_id, data in events:
                pipe.xadd(key, {b"d": data}, id=f"{event_id}-0", maxlen=self._maxlen, approximate=False)
            pipe.publish(self._key("", "changed"), stream_id)

        await self._pipeline(build)

    async def renew(self, stream_id: str, lease: float) -> None:
        grace = stream_grace()

        def build(pipe: Any) -> None:
            pipe.set(self._key(stream_id, ":lease"), b"1", px=int(lease * 1000))
            for part in ("", ":meta"):
                pipe.expire(self._key(stream_id, part), int(lease + grace) + 1)
            pipe.zadd(self._key("", "live"), {stream_id: time.time() + lease + grace})

        await self._pipeline(build)

    @property
    def _maxlen(self) -> int:
        return self.max_events + 2  # room for the error event and the end marker

    async def finish(self, stream_id: str, ttl: float, last: tuple[int, bytes] | None = None) -> None:
        key = self._key(stream_id)
        seconds = max(int(ttl), 1)

        def build(pipe: Any) -> None:
            if last is not None:
                pipe.xadd(key, {b"d": last[1]}, id=f"{last[0]}-0", maxlen=self._maxlen, approximate=False)
            pipe.xadd(key, {b"end": b"1"}, id="*", maxlen=self._maxlen, approximate=False)
            for part in ("", ":meta", ":touch"):
                pipe.expire(self._key(stream_id, part), seconds)
            pipe.delete(self._key(stream_id, ":lease"))
            pipe.zadd(self._key("", "live"), {stream_id: time.time() + seconds})
            pipe.publish(self._key("", "changed"), stream_id)

        # Not a transaction: when Redis is out of memory and refuses the events, the lease is
        # still dropped and the expiries still set.
        await self._pipeline(build, transaction=False)

    async def format_of(self, stream_id: str) -> str | None:
        value = await self._call("get", self._key(stream_id, ":meta"))
        return None if value is None else bytes(value).decode()

    async def _listen(self) -> None:
        """The subscriber: wakes the readers of each stream named on ``{prefix}changed``."""
        import redis.exceptions

        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._key("", "changed"))
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        changed = self._changed.pop(bytes(message["data"]).decode(), None)
                        if changed is not None:
                            changed.set()
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                await anyio.sleep(0.5)  # Redis restarting: readers look again within their wait

    async def _next_change(self, stream_id: str) -> anyio.Event:
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen())
            with anyio.move_on_after(2.0):
                await self._subscribed.wait()
        return self._changed.setdefault(stream_id, anyio.Event())

    async def read(self, stream_id: str, after: int, wait: float) -> StoredEvents:
        key = self._key(stream_id)
        # Taken before reading, so a change between the read and the wait is not missed.
        changed = await self._next_change(stream_id) if wait > 0 else None
        events, state = self._entries(await self._call("xread", {key: f"{after}-0"}, count=READ_BATCH))
        if state == "done" or events:
            return StoredEvents(events, state)
        if changed is not None:
            with anyio.move_on_after(wait):
                await changed.wait()
            if not changed.is_set() and self._changed.get(stream_id) is changed:
                del self._changed[stream_id]  # nothing came: do not keep it for a stream gone quiet
            reply = await self._call("xread", {key: f"{after}-0"}, count=READ_BATCH)
            events, state = self._entries(reply)
            if state == "done" or events:
                return StoredEvents(events, state)
        lease, meta = await self._pipeline(
            lambda pipe: pipe.exists(self._key(stream_id, ":lease")).exists(self._key(stream_id, ":meta"))
        )
        if lease:
            return StoredEvents([], "open")
        # The lease is gone: the producer finished (its end may have landed since the read above)
        # or died. Look once more before declaring it lost.
        events, state = self._entries(await self._call("xread", {key: f"{after}-0"}, count=READ_BATCH))
        if state == "done" or events:
            return StoredEvents(events, state)
        return StoredEvents([], "lost" if meta else "unknown")

    @staticmethod
    def _entries(reply: Any) -> tuple[list[tuple[int, bytes]], StreamState]:
        events: list[tuple[int, bytes]] = []
        for entry_id, fields in reply[0][1] if reply else []:
            if b"end" in fields:
                return events, "done"
            events.append((int(bytes(entry_id).partition(b"-")[0]), bytes(fields[b"d"])))
        return events, "open"

    async def touch(self, stream_id: str) -> None:
        await self._call("set", self._key(stream_id, ":touch"), repr(time.time()), ex=3600)

    async def last_touch(self, stream_id: str) -> float | None:
        value = await self._call("get", self._key(stream_id, ":touch"))
        return None if value is None else float(value)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()


def open_store(spec: str | StreamStore | None) -> StreamStore:
    """A store from ``create_app(store=...)``: a store, ``"memory"``, or a ``redis://`` URL."""
    if isinstance(spec, StreamStore):
        return spec
    if spec is None or spec == "memory":
        return MemoryStore()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(spec)
    raise ValueError(f"unknown stream store {spec!r}: use 'memory' or a redis:// URL")
