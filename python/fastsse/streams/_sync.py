"""The sync stages: each is a generator that owns its upstream, held by a thin ``SyncStage``.

``for item in stage`` runs the stage's generator directly (``__iter__`` returns it), so a stage
costs what the hand-written generator costs; map, filter and batch delegate to the builtins
(``yield from``), which makes them cheaper still. The generator closes the upstream in its
``finally``, so exhaustion, an error, ``close()`` and garbage collection (``for ... : break`` on
a stage built in the ``for``, as with a generator) all release it.
"""

from __future__ import annotations

import builtins
import itertools
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar

from .._fastsse import Coalesced, GenerationChunk
from .._sources import close_source
from ._clock import BufferStatistics, Clock

__all__ = [
    "TIMEOUT_READ_AHEAD",
    "SyncStage",
    "ThreadedStage",
    "batch",
    "buffered",
    "coalesce_text",
    "filter",
    "map",
    "timeout",
]

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


class SyncStage(Iterator[T]):
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

    def __enter__(self) -> SyncStage[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _stage(source: Iterable[Any], run: Callable[[Iterator[Any]], Iterator[T]]) -> SyncStage[T]:
    upstream = iter(source)
    return SyncStage(_owning(run(upstream), upstream, source))


def map(fn: Callable[[Any], U], chunks: Iterable[Any]) -> SyncStage[U]:
    """``fn(item)`` for each item of ``chunks``."""
    return _stage(chunks, lambda upstream: builtins.map(fn, upstream))


def filter(predicate: Callable[[T], object], chunks: Iterable[T]) -> SyncStage[T]:
    """The items of ``chunks`` for which ``predicate(item)`` is true."""
    return _stage(chunks, lambda upstream: builtins.filter(predicate, upstream))


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

_ITEM, _END, _ERROR = 0, 1, 2


class _Reader:
    """The worker-thread side of ``ThreadedStage``: reads the upstream into a bounded queue.

    It holds no reference to the stage, so a stage dropped without ``close()`` is still
    garbage-collected, and closing it stops the reader.
    """

    def __init__(self, upstream: Iterator[Any], source: object, size: int) -> None:
        self.upstream = upstream
        self.source = source
        self.queue: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=size)
        self.stopping = threading.Event()
        self.waiting_since: float | None = None  # set while inside the upstream's next()
        self.high_water = 0

    def put(self, entry: tuple[int, Any]) -> bool:
        if self.stopping.is_set():
            return False
        self.queue.put(entry)  # blocks while full: backpressure
        filled = len(self.queue.queue)  # a racy read is fine for a statistic; qsize() would lock
        if filled > self.high_water:
            self.high_water = filled
        return not self.stopping.is_set()

    def run(self) -> None:
        upstream = self.upstream
        try:
            while not self.stopping.is_set():
                self.waiting_since = time.monotonic()
                try:
                    item = next(upstream)
                except StopIteration:
                    self.put((_END, None))
                    return
                finally:
                    self.waiting_since = None
                if not self.put((_ITEM, item)):
                    return
        except BaseException as exc:
            self.put((_ERROR, exc))
        finally:
            close_source(upstream, self.source)

    def stop(self) -> None:
        self.stopping.set()
        while True:  # wake a reader blocked on a full queue; it sees the flag and exits
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break


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
        while True:
            wait: float | None = None
            if clock is not None:
                now = time.monotonic()
                since = reader.waiting_since
                since = now if since is None else since
                end, is_total = clock.deadline(since)
                wait = end - now
                if wait <= 0 and reader.queue.empty():
                    raise clock.error(now, since, is_total)
            try:
                kind, value = reader.queue.get(timeout=None if wait is None else max(wait, 0.0))
            except queue.Empty:
                continue  # re-check: the reader may have moved on to a newer wait
            if kind == _ITEM:
                if clock is not None:
                    clock.collector.add(value)
                yield value
            elif kind == _END:
                return
            else:
                raise value
    finally:
        if started:
            reader.stop()
        else:
            close_source(reader.upstream, reader.source)


class ThreadedStage(SyncStage[T]):
    """Reads the upstream on a daemon thread into a bounded queue.

    The thread blocks while the queue is full (backpressure: the upstream is never read more
    than ``size`` items, plus the one in hand, ahead of the consumer). The consumer waits within
    the idle/total limits, if any. Closing stops the reader, which then closes the upstream; a
    reader stuck inside the upstream's own ``next()`` can only notice once that call returns
    (pair with the HTTP client's read timeout). A stage never iterated closes the upstream itself.
    """

    __slots__ = ("_reader",)

    def __init__(
        self, source: Iterable[T], size: int, idle: float | None = None, total: float | None = None
    ) -> None:
        if size < 1:
            raise ValueError(f"buffer size must be at least 1, got {size}")
        clock = Clock(idle, total) if idle is not None or total is not None else None
        upstream = iter(source)
        self._reader = _Reader(upstream, source, size)
        super().__init__(_read_threaded(self._reader, clock))

    def statistics(self) -> BufferStatistics:
        reader = self._reader
        return BufferStatistics(reader.queue.maxsize, reader.queue.qsize(), reader.high_water)


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
