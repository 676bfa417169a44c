"""The Redis stream store: streams shared by every replica pointed at the same Redis server.

Three parts:

* :class:`RedisStore` — the store's contract on Redis keys (see its docstring);
* :class:`CommandBatches` — every Redis command of the process goes through it: commands issued
  while earlier ones are on their way are sent together, in one pipeline, on one of a few
  connections (auto-pipelining). Thousands of streams then cost a handful of connections and a
  few round trips per turn of the event loop, instead of one connection and one round trip per
  command; and since batches leave in order, a producer's lease renewal waits only for the
  batches ahead of it, never for a pooled connection that thousands of readers also want;
* :class:`Announcements` — the one subscriber per process that wakes waiting readers: each
  append ``PUBLISH``es ``"{stream id} {last event id}"`` (``"{stream id} end"`` when it ends), so
  a reader that caught up waits without a connection and reads only when there is something
  past its last event.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from ._stores import (
    READ_BATCH,
    StoredEvents,
    StoreFullError,
    StoreUnavailableError,
    StreamState,
    StreamStore,
    stream_grace,
)

__all__ = ["Announcements", "CommandBatches", "RedisStore"]

# One command: the redis-py client method's name and its arguments.
Command = tuple[str, tuple[Any, ...], dict[str, Any]]
# Commands in one pipeline at most (a group of one caller's commands is never split).
MAX_BATCH = 4096


def command(method: str, *args: Any, **kwargs: Any) -> Command:
    return method, args, kwargs


@dataclass
class _Group:
    commands: list[Command]
    done: asyncio.Future[list[Any]]


class CommandBatches:
    """Sends the commands of every task in pipelines, at most ``connections`` at a time.

    ``run(commands)`` queues one caller's commands (sent together, in order, on one
    connection) and returns their replies. A batch leaves as soon as a connection is free and
    takes every group queued meanwhile, so under load batches grow instead of round trips
    queuing up. ``urgent`` groups (lease renewals) go ahead of every other queued group, so
    a renewal waits for at most the batches already out, however much reader traffic is queued.
    A caller cancelled while its batch is out does not disturb the batch (it runs in a task of
    its own) nor the connection.
    """

    def __init__(self, redis: Any, connections: int) -> None:
        if connections < 1:
            raise ValueError(f"connections must be at least 1, got {connections}")
        self._redis = redis
        self._connections = connections
        self._queued: list[_Group] = []
        self._urgent: list[_Group] = []
        self._out = 0  # batches on their way
        self._flush_planned = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, commands: list[Command], *, urgent: bool = False) -> list[Any]:
        done: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._queued).append(_Group(commands, done))
        self._plan_flush()
        return await done

    def _plan_flush(self) -> None:
        waiting = self._queued or self._urgent
        if waiting and self._out < self._connections and not self._flush_planned:
            self._flush_planned = True
            # Next turn of the loop: the groups queued by the tasks running in this one go too.
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_planned = False
        queue = self._urgent + self._queued
        if not queue or self._out >= self._connections:
            return
        size, taken = 0, 0
        for group in queue:
            if taken and size + len(group.commands) > MAX_BATCH:
                break
            size += len(group.commands)
            taken += 1
        batch, urgent_left = queue[:taken], max(len(self._urgent) - taken, 0)
        self._urgent, self._queued = queue[taken : taken + urgent_left], queue[taken + urgent_left :]
        self._out += 1
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._plan_flush()

    async def _send(self, batch: list[_Group]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for group in batch:
                    for method, args, kwargs in group.commands:
                        getattr(pipe, method)(*args, **kwargs)
                replies = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # the connection failed: every caller of the batch learns it
            failure = exc if isinstance(exc, Exception) else StoreUnavailableError("the batch was cancelled")
            for group in batch:
                if not group.done.done():
                    group.done.set_exception(failure)
            if not isinstance(exc, Exception):
                raise
        else:
            start = 0
            for group in batch:
                if not group.done.done():
                    group.done.set_result(replies[start : start + len(group.commands)])
                start += len(group.commands)
        finally:
            self._out -= 1
            self._plan_flush()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task


@dataclass
class _Watch:
    """What this process heard about one stream since it began watching it."""

    changed: anyio.Event = field(default_factory=anyio.Event)  # set (and replaced) on news
    heard: int = 0  # the highest event id announced or read
    known: bool = False  # ``heard`` covers every stored event (a read said so; lost on resubscribe)
    ended: bool = False
    reading: int = 0  # reads of the stream in progress here

    def nothing_past(self, after: int) -> bool:
        """True when the store surely holds nothing past event ``after``: no need to read it."""
        return self.known and not self.ended and self.heard <= after


class Announcements:
    """The subscriber to ``channel``: wakes the readers of each stream named on it.

    ``epoch`` counts (re)subscriptions: what was announced while the subscriber was away is
    not known, so a read tells a watch what is stored only when no resubscription came between.

    A watch lives while reads of its stream are in progress; news for a stream nobody is reading
    drops its watch (the next read starts a new one and reads the news), and when the watches
    outgrow twice what was in use at the last sweep, the unused ones are dropped: memory follows
    the streams being read, not every stream ever read.
    """

    def __init__(self, redis: Any, channel: str) -> None:
        self._redis = redis
        self.channel = channel
        self.watches: dict[str, _Watch] = {}
        self.epoch = 0
        self._sweep_at = 1024
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = anyio.Event()

    async def watch(self, stream_id: str) -> _Watch:
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen())
            with anyio.move_on_after(2.0):
                await self._subscribed.wait()
        watch = self.watches.get(stream_id)
        if watch is None:
            if len(self.watches) >= self._sweep_at:
                self.watches = {key: kept for key, kept in self.watches.items() if kept.reading}
                self._sweep_at = max(1024, 2 * len(self.watches))
            watch = self.watches[stream_id] = _Watch()
        return watch

    def forget(self, stream_id: str, watch: _Watch) -> None:
        if self.watches.get(stream_id) is watch:
            del self.watches[stream_id]

    def _heard(self, data: bytes) -> None:
        stream_id, _, what = data.decode().partition(" ")
        watch = self.watches.get(stream_id)
        if watch is None:
            return
        if what == "end":
            watch.ended = True
        elif what.isdigit():
            watch.heard = max(watch.heard, int(what))
        self._wake(watch)
        if watch.ended or not watch.reading:
            del self.watches[stream_id]

    @staticmethod
    def _wake(watch: _Watch) -> None:
        watch.changed.set()
        watch.changed = anyio.Event()

    async def _listen(self) -> None:
        import redis.exceptions

        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    # Whatever was announced while away is unknown: every reader reads again.
                    self.epoch += 1
                    for watch in self.watches.values():
                        watch.known = False
                        self._wake(watch)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        self._heard(bytes(message["data"]))
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                await anyio.sleep(0.5)  # Redis restarting: readers look again within their wait

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener


class RedisStore(StreamStore):
    """Streams in Redis, shared by every replica using the same ``url`` (``redis://HOST:PORT/DB``).

    Keys, under ``prefix``: ``{id}`` the Redis stream (entry ``N-0`` holds event N in field
    ``d``; the terminator is an entry with field ``end``), ``{id}:meta`` the format, ``{id}:lease``
    the producer's lease (``PX`` expiry), ``{id}:touch`` the last reader time, ``{id}:cancel`` a
    cancel request, and ``live`` a sorted set of every held stream scored by when it may be
    dropped (the ``max_streams`` count).
    Each stream's ``MAXLEN`` is ``max_events`` plus its error event and end marker. The total is
    bounded by the Redis server's ``maxmemory``. Needs the ``redis`` package.

    Every command goes through one :class:`CommandBatches` on ``connections`` connections (plus
    one for the subscriber); the pool waits up to ``connection_wait`` seconds for a connection.
    Followers: a reader that caught up waits for the stream's next announcement (see
    :class:`Announcements`) and holds no connection; if one is missed (the subscriber
    reconnecting), readers still look again within their wait.
    """

    def __init__(
        self,
        url: str,
        *,
        max_streams: int = 10_000,
        max_events: int = 100_000,
        prefix: str = "fastsse:stream:",
        connections: int = 4,
        connection_wait: float = 10.0,
        client: Any = None,
    ) -> None:
        if client is None:
            import redis.asyncio

            pool = redis.asyncio.BlockingConnectionPool.from_url(
                url, max_connections=connections + 2, timeout=connection_wait, socket_connect_timeout=15.0
            )
            client = redis.asyncio.Redis.from_pool(pool)
        self.url = url
        self.max_streams = max_streams
        self.max_events = max_events
        self.prefix = prefix
        self._redis = client
        self._batches = CommandBatches(client, connections)
        self._announcements = Announcements(client, self._key("", "changed"))

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

    async def _run(self, *commands: Command, urgent: bool = False) -> list[Any]:
        """The replies to ``commands``, sent together; the first error among them is raised
        (after every command ran: none is skipped because an earlier one failed)."""
        async with self._reachable():
            replies = await self._batches.run(list(commands), urgent=urgent)
            for reply in replies:
                if isinstance(reply, Exception):
                    raise reply
            return replies

    def _announce(self, stream_id: str, what: str) -> Command:
        return command("publish", self._key("", "changed"), f"{stream_id} {what}")

    async def create(self, stream_id: str, *, format: str, lease: float) -> None:
        live = self._key("", "live")
        now = time.time()
        _, held = await self._run(command("zremrangebyscore", live, "-inf", now), command("zcard", live))
        if held >= self.max_streams:
            raise StoreFullError(
                f"the Redis stream store holds {held} streams, its max_streams limit", limit="max_streams"
            )
        await self._run(
            command("zadd", live, {stream_id: now + lease + stream_grace()}),
            command("set", self._key(stream_id, ":meta"), format, ex=int(stream_grace()) + int(lease) + 1),
            command("set", self._key(stream_id, ":lease"), b"1", px=int(lease * 1000)),
        )

    def _xadd(self, stream_id: str, event_id: int, data: bytes) -> Command:
        key = self._key(stream_id)
        return command("xadd", key, {b"d": data}, id=f"{event_id}-0", maxlen=self._maxlen, approximate=False)

    async def append(self, stream_id: str, events: list[tuple[int, bytes]]) -> None:
        adds = [self._xadd(stream_id, event_id, data) for event_id, data in events]
        await self._run(*adds, self._announce(stream_id, str(events[-1][0])))

    async def renew(self, stream_id: str, lease: float) -> bool:
        keep = int(lease + stream_grace()) + 1
        *_, cancel = await self._run(
            command("set", self._key(stream_id, ":lease"), b"1", px=int(lease * 1000)),
            command("expire", self._key(stream_id), keep),
            command("expire", self._key(stream_id, ":meta"), keep),
            command("zadd", self._key("", "live"), {stream_id: time.time() + lease + stream_grace()}),
            command("exists", self._key(stream_id, ":cancel")),
            urgent=True,  # the lease must not lapse behind reader traffic
        )
        return bool(cancel)

    async def request_cancel(self, stream_id: str) -> None:
        await self._run(command("set", self._key(stream_id, ":cancel"), b"1", ex=int(stream_grace())))

    @property
    def _maxlen(self) -> int:
        return self.max_events + 2  # room for the error event and the end marker

    async def finish(self, stream_id: str, ttl: float, last: tuple[int, bytes] | None = None) -> None:
        key = self._key(stream_id)
        seconds = max(int(ttl), 1)
        # When Redis is out of memory and refuses the events, the lease is still dropped and
        # the expiries still set (each command runs; the first error is raised after).
        await self._run(
            *([] if last is None else [self._xadd(stream_id, *last)]),
            command("xadd", key, {b"end": b"1"}, id="*", maxlen=self._maxlen, approximate=False),
            *(command("expire", self._key(stream_id, part), seconds) for part in ("", ":meta", ":touch")),
            command("delete", self._key(stream_id, ":lease")),
            command("zadd", self._key("", "live"), {stream_id: time.time() + seconds}),
            self._announce(stream_id, "end"),
        )

    async def format_of(self, stream_id: str) -> str | None:
        (value,) = await self._run(command("get", self._key(stream_id, ":meta")))
        return None if value is None else bytes(value).decode()

    async def _xread(
        self, stream_id: str, after: int, watch: _Watch | None
    ) -> tuple[list[tuple[int, bytes]], StreamState]:
        epoch = self._announcements.epoch
        (reply,) = await self._run(command("xread", {self._key(stream_id): f"{after}-0"}, count=READ_BATCH))
        events, state = self._entries(reply)
        if watch is not None and state == "open" and len(events) < READ_BATCH:
            if epoch == self._announcements.epoch:
                # This was all the store held: from here on announcements tell what comes next.
                watch.heard = max(watch.heard, events[-1][0] if events else after)
                watch.known = True
        return events, state

    async def read(self, stream_id: str, after: int, wait: float) -> StoredEvents:
        if wait <= 0:
            return await self._read(stream_id, after, wait, None)
        # Watched (and its wake-up taken) before reading: an append in between is not missed.
        watch = await self._announcements.watch(stream_id)
        watch.reading += 1
        try:
            stored = await self._read(stream_id, after, wait, watch)
        finally:
            watch.reading -= 1
        # The stream ended, or stayed quiet for the whole wait: its watch is not kept when no
        # other read is using it (a quiet stream's next read costs one XREAD).
        if not watch.reading and (stored.state != "open" or not stored.events):
            self._announcements.forget(stream_id, watch)
        return stored

    async def _read(self, stream_id: str, after: int, wait: float, watch: _Watch | None) -> StoredEvents:
        changed = None if watch is None else watch.changed
        if watch is None or not watch.nothing_past(after):
            events, state = await self._xread(stream_id, after, watch)
            if state == "done" or events:
                return StoredEvents(events, state)
        if watch is not None and changed is not None:
            with anyio.move_on_after(wait):
                await changed.wait()
            if changed.is_set() and not watch.nothing_past(after):
                events, state = await self._xread(stream_id, after, watch)
                if state == "done" or events:
                    return StoredEvents(events, state)
        lease, meta = await self._run(
            command("exists", self._key(stream_id, ":lease")),
            command("exists", self._key(stream_id, ":meta")),
        )
        if lease:
            return StoredEvents([], "open")
        # The lease is gone: the producer finished (its end may have landed since the read above)
        # or died. Look once more before declaring it lost.
        events, state = await self._xread(stream_id, after, None)
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
        await self._run(command("set", self._key(stream_id, ":touch"), repr(time.time()), ex=3600))

    async def last_touch(self, stream_id: str) -> float | None:
        (value,) = await self._run(command("get", self._key(stream_id, ":touch")))
        return None if value is None else float(value)

    async def aclose(self) -> None:
        await self._announcements.aclose()
        await self._batches.aclose()
        await self._redis.aclose()
