"""The sync stages: each is a generator that owns its upstream, held by a thin ``SyncStage``.

``for item in stage`` runs the stage's generator directly (``__iter__`` returns it), so a stage
costs what the hand-written generator costs; batch delegates to ``itertools.islice`` and
``coalesce_text`` to Rust, which makes them cheaper still. The generator closes the upstream in its
``finally``, so exhaustion, an error, ``close()`` and garbage collection (``for ... : break`` on
a stage built in the ``for``, as with a generator) all release it.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, TypeVar

from .._fastsse import Coalesced, GenerationChunk
from .._resource import SyncResource
from .._sources import close_source
from ._clock import BufferStatistics, Clock

T = TypeVar("T")
U = TypeVar("U")

# How far the sync timeout() reader may run ahead of its consumer (one item per thread switch
# would cost tens of microseconds per chunk).
TIMEOUT_READ_AHEAD = 16


def _owning(items: Iterator[T], upstream: Iterator[Any], source: object) -> Generator[T, None, None]:
    # No reference to the stage: a stage dropped mid-loop is freed at once, closing the upstream.
    try:
        yield None  # type: ignore[misc]  # the priming stop (see SyncStage)
        yield from items
    finally:
        close_source(upstream, source)


class SyncStage(Iterator[T], SyncResource):
    """Base of the sync stages: an iterator that owns its upstream and closes it.

    Closed by ``close()``, ``with``, exhaustion, an error, or garbage collection (so
    ``for chunk in stage: break`` releases the upstream at once in CPython, like a generator).
    The generator is primed here (run to a first bare ``yield``), so that closing or dropping a
    stage that was never iterated runs the generator's ``finally`` too.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Generator[T, None, None]) -> None:
        next(items)  # the priming stop
        self._items = items

    def __iter__(self) -> Iterator[T]:
        return self._items  # the for loop runs the generator itself: no per-item Python call here

    def __next__(self) -> T:
        return next(self._items)

    def close(self) -> None:
        """Stop and close the upstream. Idempotent."""
        self._items.close()


def _stage(source: Iterable[Any], run: Callable[[Iterator[Any]], Iterator[T]]) -> SyncStage[T]:
    upstream = iter(source)
    return SyncStage(_owning(run(upstream), upstream, source))


# map and filter loop in the owning generator itself, as the hand-written generator does (a
# `yield from` of a second generator, or of builtins.map, measured 10-20% slower per item).


def _mapped(fn: Callable[[Any], U], upstream: Iterator[Any], source: object) -> Generator[U, None, None]:
    try:
        yield None  # type: ignore[misc]  # the priming stop (see SyncStage)
        for item in upstream:
            yield fn(item)
    finally:
        close_source(upstream, source)


def _filtered(
    predicate: Callable[[T], object], upstream: Iterator[T], source: object
) -> Generator[T, None, None]:
    try:
        yield None  # type: ignore[misc]  # the priming stop (see SyncStage)
        for item in upstream:
            if predicate(item):
                yield item
    finally:
        close_source(upstream, source)


def map(fn: Callable[[Any], U], chunks: Iterable[Any]) -> SyncStage[U]:
    """``fn(item)`` for each item of ``chunks``."""
    return SyncStage(_mapped(fn, iter(chunks), chunks))


def filter(predicate: Callable[[T], object], chunks: Iterable[T]) -> SyncStage[T]:
    """The items of ``chunks`` for which ``predicate(item)`` is true."""
    return SyncStage(_filtered(predicate, iter(chunks), chunks))


def batch(chunks: Iterable[T], size: int) -> SyncStage[list[T]]:
    """Lists of ``size`` consecutive items (the last one may be shorter)."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    # iter(callable, sentinel): the next `size` items until an empty list.
    return _stage(chunks, lambda upstream: iter(lambda: list(itertools.islice(upstream, size)), []))


def coalesce_text(chunks: Iterable[GenerationChunk], min_chars: int) -> SyncStage[GenerationChunk]:
    """Merge consecutive small text / reasoning deltas until they hold ``min_chars`` characters.

    Never merges across a tool-call delta, a finish, an error or the done chunk (see ``Coalescer``).
    The merging runs in Rust, which also reads the upstream (no Python work per chunk).
    """
    return _stage(chunks, lambda upstream: Coalesced(upstream, min_chars))


# --- stages that read the upstream on a worker thread --------------------------------------------


class _End:
    """What the reader puts after the upstream's last item: its end, or the error it raised."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Reader:
    """The worker-thread side of ``ThreadedStage``: reads the upstream into a bounded buffer.

    The consumer takes everything buffered at once (one lock round trip per batch, not per item)
    and says how many items it has handed out since, so the reader never runs more than ``size``
    items ahead of what the consumer handed out. It holds no reference to the stage, so a stage
    dropped without ``close()`` is still garbage-collected, and closing it stops the reader.
    """

    def __init__(self, upstream: Iterator[Any], source: object, size: int, timed: bool) -> None:
        self.upstream = upstream
        self.source = source
        self.size = size
        self.timed = timed
        self.ready: collections.deque[Any] = collections.deque()  # read, not yet taken
        self.held = 0  # taken by the consumer, not yet reported handed out
        self.lock = threading.Lock()
        self.readable = threading.Condition(self.lock)  # the consumer waits for items
        self.writable = threading.Condition(self.lock)  # the reader waits for room
        self.wants_room = False  # the reader waits for room (read without the lock: a hint)
        self.stopping = False
        self.waiting_since: float | None = None  # set while inside the upstream's next() (timed)
        self.high_water = 0

    def put(self, item: Any) -> bool:
        """Buffer one item (waiting while full: backpressure); False once the consumer stopped."""
        with self.lock:
            while len(self.ready) + self.held >= self.size and not self.stopping:
                self.wants_room = True
                self.writable.wait()
            self.wants_room = False
            if self.stopping:
                return False
            self.ready.append(item)
            filled = len(self.ready) + self.held
            if filled > self.high_water:
                self.high_water = filled
            if len(self.ready) == 1:
                self.readable.notify()
        return True

    def run(self) -> None:
        upstream, timed = self.upstream, self.timed
        try:
            while True:
                if timed:
                    self.waiting_since = time.monotonic()
                try:
                    item = next(upstream)
                except StopIteration:
                    self.put(_End())
                    return
                finally:
                    self.waiting_since = None
                if not self.put(item):
                    return
        except BaseException as exc:
            self.put(_End(exc))
        finally:
            close_source(upstream, self.source)

    def take(self, handed_out: int, timeout: float | None) -> collections.deque[Any] | None:
        """Report `handed_out` items, then take everything buffered, waiting up to `timeout`
        for the first one (None: nothing came)."""
        with self.lock:
            self.held -= handed_out
            if handed_out:
                self.writable.notify()
            if not self.ready:
                self.readable.wait(timeout)
                if not self.ready:  # timed out (or woken for nothing): the caller checks again
                    return None
            batch, self.ready = self.ready, collections.deque()
            self.held += len(batch)
            return batch

    def handed_out(self, count: int) -> None:
        """Report `count` items handed out (called when the reader waits for room)."""
        with self.lock:
            self.held -= count
            self.writable.notify()

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            self.writable.notify()  # a reader waiting for room sees the flag and exits


def _read_threaded(reader: _Reader, clock: Clock | None) -> Generator[Any, None, None]:
    """The consumer side: starts the reader thread on the first ``next()``, stops it when closed
    (the reader then closes the upstream; before it started, this closes it)."""
    started = False
    try:
        yield None  # the priming stop (see SyncStage)
        if clock is not None:
            clock.started = time.monotonic()
        threading.Thread(target=reader.run, name="fastsse-stream-reader", daemon=True).start()
        started = True
        batch: collections.deque[Any] = collections.deque()
        handed = 0  # items handed out since the last report to the reader
        while True:
            if not batch:
                wait: float | None = None
                if clock is not None:
                    now = time.monotonic()
                    since = reader.waiting_since
                    since = now if since is None else since
                    end, is_total = clock.deadline(since)
                    wait = end - now
                    if wait <= 0 and not reader.ready:
                        raise clock.error(now, since, is_total)
                taken = reader.take(handed, None if wait is None else max(wait, 0.0))
                handed = 0
                if taken is None:
                    continue  # re-check: the reader may have moved on to a newer wait
                batch = taken
            item = batch.popleft()
            if type(item) is _End:
                if item.error is not None:
                    raise item.error
                return
            if clock is not None:
                clock.collector.add(item)
            handed += 1
            if reader.wants_room:  # a full buffer: let the reader go on at once
                reader.handed_out(handed)
                handed = 0
            yield item
    finally:
        if started:
            reader.stop()
        else:
            close_source(reader.upstream, reader.source)


class ThreadedStage(SyncStage[T]):
    """Reads the upstream on a daemon thread into a bounded buffer.

    The thread waits while ``size`` items are read and not yet handed out (backpressure: the
    upstream is never read more than ``size`` items, plus the one in hand, ahead of the consumer).
    The consumer waits within the idle/total limits, if any. Closing stops the reader, which then
    closes the upstream; a reader stuck inside the upstream's own ``next()`` can only notice once
    that call returns (pair with the HTTP client's read timeout). A stage never iterated closes the
    upstream itself.
    """

    __slots__ = ("_reader",)

    def __init__(
        self, source: Iterable[T], size: int, idle: float | None = None, total: float | None = None
    ) -> None:
        if size < 1:
            raise ValueError(f"buffer size must be at least 1, got {size}")
        clock = Clock(idle, total) if idle is not None or total is not None else None
        self._reader = _Reader(iter(source), source, size, timed=clock is not None)
        super().__init__(_read_threaded(self._reader, clock))

    def statistics(self) -> BufferStatistics:
        reader = self._reader
        return BufferStatistics(reader.size, len(reader.ready) + reader.held, reader.high_water)


def timeout(chunks: Iterable[T], *, idle: float | None = None, total: float | None = None) -> SyncStage[T]:
    """Raise ``IdleTimeoutError`` when no item comes for ``idle`` seconds, ``DeadlineExceededError``
    when the stream is not over ``total`` seconds after its first ``next()``; both keep the partial
    result. A worker thread reads the upstream, at most ``TIMEOUT_READ_AHEAD`` items ahead;
    ``idle`` counts from the moment it asked the upstream for the next item.
    """
    if idle is None and total is None:
        raise ValueError("timeout() needs idle=, total= or both")
    return ThreadedStage(chunks, TIMEOUT_READ_AHEAD, idle, total)


def buffered(chunks: Iterable[T], size: int) -> ThreadedStage[T]:
    """Read ``chunks`` ahead on a worker thread into a buffer of at most ``size`` items.

    A slow consumer makes the reader wait (backpressure): memory stays bounded.
    ``statistics()`` reports the buffer's current and highest fill.
    """
    return ThreadedStage(chunks, size)
