"""Where resumable streams live: the encoded events of each stream, in order, by event id.

A store holds, per stream, its wire format name, its events (``(id, bytes)`` with ids 1, 2, 3,
...), whether it ended, the producer's lease and the last time a reader was attached. Two
stores share one contract:

* :class:`MemoryStore` — one process, no setup (the default);
* :class:`~._redis_store.RedisStore` — Redis Streams, shared by every replica pointed at the
  same server (``XADD`` with ``MAXLEN``, ``XREAD``, ``EXPIRE`` on finished streams, the lease as
  a key with a ``PX`` expiry).

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

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal

import anyio

from ..errors import FastSSEError

__all__ = [
    "MemoryStore",
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
    async def renew(self, stream_id: str, lease: float) -> bool:
        """Extend the producer's lease to ``lease`` seconds from now; True when someone asked
        (``request_cancel``) that the stream be cancelled."""

    @abstractmethod
    async def request_cancel(self, stream_id: str) -> None:
        """Ask the stream's producer, wherever it runs, to cancel it (it learns at its next
        ``renew``)."""

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
    cancel_requested: bool = False
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

    async def renew(self, stream_id: str, lease: float) -> bool:
        stream = self._streams.get(stream_id)
        if stream is None:
            return False
        stream.lease_until = time.monotonic() + lease
        return stream.cancel_requested

    async def request_cancel(self, stream_id: str) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.cancel_requested = True

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


def open_store(spec: str | StreamStore | None) -> StreamStore:
    """A store from ``create_app(store=...)``: a store, ``"memory"``, or a ``redis://`` URL."""
    if isinstance(spec, StreamStore):
        return spec
    if spec is None or spec == "memory":
        return MemoryStore()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from ._redis_store import RedisStore

        return RedisStore(spec)
    raise ValueError(f"unknown stream store {spec!r}: use 'memory' or a redis:// URL")
