"""Stream utilities over chunk iterators, sync and async.

Every stage wraps one upstream iterator and owns it: closing the stage (``close()`` /
``aclose()``, leaving ``with`` / ``async with``, finishing, failing, or a cancelled
``__anext__``) closes the upstream, which for fastsse's own iterators closes the HTTP response.

========================  ==============================  =====================================
sync                      async                           what
========================  ==============================  =====================================
``map(fn, chunks)``       ``amap(fn, chunks)``            ``fn`` on each item (``fn`` may be async)
``filter(pred, chunks)``  ``afilter(pred, chunks)``       keep the items ``pred`` accepts
``batch(chunks, n)``      ``abatch(chunks, n)``           lists of up to ``n`` items
``coalesce_text(...)``    ``acoalesce_text(...)``         merge small text/reasoning deltas
``timeout(...)``          ``atimeout(...)``               idle and total time limits
``buffered(chunks, n)``   ``abuffered(chunks, n)``        bounded producer/consumer buffer
========================  ==============================  =====================================

The async stages are resources (``AsyncIterator`` + ``aclose()`` + ``async with``), never
async generators, and run on anyio, so asyncio and trio both work. The sync ``timeout`` and
``buffered`` read the upstream on a worker thread (a blocking ``next()`` cannot be interrupted
otherwise); that thread is the only one touching the upstream, and it closes it.
"""

from __future__ import annotations

import inspect
import itertools
import queue
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

import anyio
import anyio.abc

from ._fastsse import Collector, GenerationChunk
from ._sources import aclose_source, close_source
from .errors import DeadlineExceededError, IdleTimeoutError, StreamTimeoutError, UsageError

__all__ = [
    "AsyncBuffer",
    "AsyncStage",
    "BufferStatistics",
    "Coalescer",
    "PartialCollector",
    "SyncStage",
    "ThreadedStage",
    "abatch",
    "abuffered",
    "acoalesce_text",
    "afilter",
    "amap",
    "atimeout",
    "batch",
    "buffered",
    "coalesce_text",
    "filter",
    "map",
    "timeout",
]

T = TypeVar("T")
U = TypeVar("U")

# How long closing the upstream may take when the close was triggered by a cancellation
# (the close runs shielded, so it must be bounded).
CLOSE_GRACE_SECONDS = 5.0
# How far the sync timeout() reader may run ahead of its consumer (one item per thread switch
# would cost tens of microseconds per chunk).
TIMEOUT_READ_AHEAD = 16


# --- sans-IO helpers shared by the sync and async stages ---------------------------------------


class Coalescer:
    """Merges runs of small text / reasoning / refusal deltas into chunks of ``min_chars``.

    ``push(chunk) -> list``, ``flush() -> list``. Only chunks that carry one kind of delta
    (plus, optionally, running usage counts) are merged, and only with neighbours of the same
    kind and ``choice_index``; a tool-call delta, a finish reason, the done chunk, an error,
    logprobs, a stop sequence or a reasoning signature first releases what is pending, then
    passes through unchanged.
    Order is preserved. A merged chunk has ``raw=None``; a run of one is passed through as is.
    """

    def __init__(self, min_chars: int) -> None:
        if min_chars < 1:
            raise ValueError(f"min_chars must be at least 1, got {min_chars}")
        self.min_chars = min_chars
        self._run: list[GenerationChunk] = []
        self._pieces: list[str] = []  # the run's deltas (one kind per run)
        self._run_kind = ""
        self._run_chars = 0
        self._prompt_tokens: int | None = None
        self._completion_tokens: int | None = None

    @staticmethod
    def _classify(chunk: GenerationChunk) -> tuple[str, str] | None:
        """``(kind, delta)``: kind ``"text"``, ``"reasoning"``, ``"refusal"`` or ``""`` (no
        delta); None for a chunk that is never merged. Each field is read once (a native read)."""
        if (
            chunk.tool_call_delta is not None
            or chunk.done
            or chunk.finish_reason is not None
            or chunk.error_message is not None
            or chunk.error_code is not None
            or chunk.stop_sequence is not None
            or chunk.logprobs is not None
            or chunk.reasoning_signature is not None
        ):
            return None
        text = chunk.text_delta
        reasoning = chunk.reasoning_delta
        refusal = chunk.refusal_delta
        if text:
            return None if reasoning or refusal else ("text", text)
        if reasoning:
            return None if refusal else ("reasoning", reasoning)
        return ("refusal", refusal) if refusal else ("", "")

    @classmethod
    def _kind(cls, chunk: GenerationChunk) -> str | None:
        classified = cls._classify(chunk)
        return None if classified is None else classified[0]

    def push(self, chunk: GenerationChunk) -> list[GenerationChunk]:
        classified = self._classify(chunk)
        if classified is None:
            out = self._release()
            out.append(chunk)
            return out
        kind, delta = classified
        out = []
        run = self._run
        if run and (
            (kind and self._run_kind and kind != self._run_kind) or chunk.choice_index != run[0].choice_index
        ):
            out = self._release()
            run = self._run
        run.append(chunk)
        if kind:
            self._run_kind = kind
            self._pieces.append(delta)
            self._run_chars += len(delta)
        prompt_tokens = chunk.prompt_tokens
        if prompt_tokens is not None:  # running totals: the latest value wins
            self._prompt_tokens = prompt_tokens
        completion_tokens = chunk.completion_tokens
        if completion_tokens is not None:
            self._completion_tokens = completion_tokens
        if self._run_chars >= self.min_chars:
            out.extend(self._release())
        return out

    def flush(self) -> list[GenerationChunk]:
        return self._release()

    def _release(self) -> list[GenerationChunk]:
        run, kind, pieces = self._run, self._run_kind, self._pieces
        prompt_tokens, completion_tokens = self._prompt_tokens, self._completion_tokens
        self._run, self._pieces, self._run_kind, self._run_chars = [], [], "", 0
        self._prompt_tokens = self._completion_tokens = None
        if len(run) <= 1:
            return run
        merged = "".join(pieces)
        first = run[0]
        return [
            GenerationChunk(
                merged if kind == "text" else "",
                reasoning_delta=merged if kind == "reasoning" else "",
                refusal_delta=merged if kind == "refusal" else "",
                is_first=first.is_first,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                choice_index=first.choice_index,
            )
        ]


#: The one collector (``fastsse.Collector``): ``add(item)`` for each item (non-chunks are only
#: counted), ``count``, ``chunks()`` (the stream so far, compacted: per choice one text, reasoning
#: and refusal chunk, one delta per tool call with its whole arguments, one with the finish
#: reason and latest usage) and ``snapshot()`` (the partial ``GenerationResult``).
PartialCollector = Collector


class _Clock:
    """The idle and total limits of one stream, and the typed error when one is crossed."""

    def __init__(self, idle: float | None, total: float | None) -> None:
        for name, value in (("idle", idle), ("total", total)):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds or None, got {value!r}")
        self.idle = idle
        self.total = total
        self.started: float | None = None
        self.collector = Collector()

    def deadline(self, waiting_since: float) -> tuple[float, bool]:
        """The time the current wait must end by, and whether that is the total deadline."""
        assert self.started is not None
        idle_end = waiting_since + self.idle if self.idle is not None else float("inf")
        total_end = self.started + self.total if self.total is not None else float("inf")
        return (total_end, True) if total_end <= idle_end else (idle_end, False)

    def error(self, now: float, waiting_since: float, is_total: bool) -> StreamTimeoutError:
        assert self.started is not None
        received = self.collector.count
        if is_total:
            assert self.total is not None
            elapsed = now - self.started
            cls: type[StreamTimeoutError] = DeadlineExceededError
            message = (
                f"stream not finished within its total deadline of {self.total:g} s "
                f"({elapsed:.3f} s since it was first read; {received} chunk(s) received)"
            )
            limit = self.total
        else:
            assert self.idle is not None
            elapsed = now - waiting_since
            cls = IdleTimeoutError
            message = (
                f"no chunk within the idle timeout of {self.idle:g} s "
                f"(waited {elapsed:.3f} s; {received} chunk(s) received before)"
            )
            limit = self.idle
        return cls(
            message,
            partial=self.collector.snapshot(),
            chunks=self.collector.chunks(),
            chunks_received=received,
            limit=limit,
            elapsed=elapsed,
        )


class BufferStatistics(NamedTuple):
    """``max_size`` of a buffer, items in it now, and the most it ever held (``high_water``)."""

    max_size: int
    current: int
    high_water: int


# --- sync stages -------------------------------------------------------------------------------


class SyncStage(Iterator[T]):
    """Base of the sync stages: an iterator that owns its upstream and closes it.

    Closed by ``close()``, ``with``, exhaustion, an error, or garbage collection (so
    ``for chunk in stage: break`` releases the upstream at once in CPython, like a generator).
    """

    def __init__(self, source: Iterable[Any]) -> None:
        self._source = source
        self._upstream: Iterator[Any] = iter(source)
        self._closed = False

    def __iter__(self) -> SyncStage[T]:
        return self

    def __next__(self) -> T:
        if self._closed:
            raise StopIteration
        try:
            return self._step()
        except BaseException:
            self.close()
            raise

    def _step(self) -> T:
        raise NotImplementedError

    def close(self) -> None:
        """Stop and close the upstream. Idempotent."""
        if self._closed:
            return
        self._closed = True
        close_source(self._upstream, self._source)

    def __enter__(self) -> SyncStage[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            try:
                self.close()
            except Exception:  # pragma: no cover - best effort at garbage collection
                pass


class _Map(SyncStage[U]):
    def __init__(self, fn: Callable[[Any], U], source: Iterable[Any]) -> None:
        super().__init__(source)
        self._fn = fn

    def _step(self) -> U:
        return self._fn(next(self._upstream))


class _Filter(SyncStage[T]):
    def __init__(self, predicate: Callable[[T], object], source: Iterable[T]) -> None:
        super().__init__(source)
        self._predicate = predicate

    def _step(self) -> T:
        upstream, predicate = self._upstream, self._predicate
        while True:
            item: T = next(upstream)
            if predicate(item):
                return item


class _Batch(SyncStage[list[T]]):
    def __init__(self, source: Iterable[T], size: int) -> None:
        if size < 1:
            raise ValueError(f"batch size must be at least 1, got {size}")
        super().__init__(source)
        self._size = size
        self._ended = False

    def _step(self) -> list[T]:
        if self._ended:
            raise StopIteration
        items: list[T] = list(itertools.islice(self._upstream, self._size))
        if len(items) < self._size:
            self._ended = True
            if not items:
                raise StopIteration
        return items


class _Coalesce(SyncStage[GenerationChunk]):
    def __init__(self, source: Iterable[GenerationChunk], min_chars: int) -> None:
        self._coalescer = Coalescer(min_chars)  # validates before taking the source
        super().__init__(source)
        self._ready: list[GenerationChunk] = []
        self._next = 0
        self._ended = False

    def _step(self) -> GenerationChunk:
        while self._next >= len(self._ready):
            if self._ended:
                raise StopIteration
            try:
                chunk = next(self._upstream)
            except StopIteration:
                self._ended = True
                self._ready, self._next = self._coalescer.flush(), 0
                continue
            self._ready, self._next = self._coalescer.push(chunk), 0
        item = self._ready[self._next]
        self._next += 1
        return item


_ITEM, _END, _ERROR = 0, 1, 2


class _Reader:
    """The worker-thread side of ``ThreadedStage``: reads the upstream into a bounded queue.

    It holds no reference to the stage, so a stage dropped without ``close()`` is still
    garbage-collected, and its ``__del__`` stops the reader.
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


class ThreadedStage(SyncStage[T]):
    """Reads the upstream on a daemon thread into a bounded queue.

    The thread blocks while the queue is full (backpressure: the upstream is never read more
    than ``size`` items, plus the one in hand, ahead of the consumer). The consumer waits within
    the idle/total limits, if any. Closing stops the reader, which then closes the upstream; a
    reader stuck inside the upstream's own ``next()`` can only notice once that call returns
    (pair with the HTTP client's read timeout).
    """

    def __init__(
        self, source: Iterable[T], size: int, idle: float | None = None, total: float | None = None
    ) -> None:
        if size < 1:
            raise ValueError(f"buffer size must be at least 1, got {size}")
        self._clock = _Clock(idle, total) if idle is not None or total is not None else None
        super().__init__(source)
        self._size = size
        self._reader = _Reader(self._upstream, source, size)
        self._thread: threading.Thread | None = None

    def statistics(self) -> BufferStatistics:
        return BufferStatistics(self._size, self._reader.queue.qsize(), self._reader.high_water)

    def _step(self) -> T:
        reader = self._reader
        if self._thread is None:
            if self._clock is not None:
                self._clock.started = time.monotonic()
            self._thread = threading.Thread(target=reader.run, name="fastsse-stream-reader", daemon=True)
            self._thread.start()
        clock = self._clock
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
                item: T = value
                return item
            if kind == _END:
                raise StopIteration
            raise value

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is None:
            close_source(self._upstream, self._source)
        else:
            self._reader.stop()


def map(fn: Callable[[Any], U], chunks: Iterable[Any]) -> SyncStage[U]:
    """``fn(item)`` for each item of ``chunks``."""
    return _Map(fn, chunks)


def filter(predicate: Callable[[T], object], chunks: Iterable[T]) -> SyncStage[T]:
    """The items of ``chunks`` for which ``predicate(item)`` is true."""
    return _Filter(predicate, chunks)


def batch(chunks: Iterable[T], size: int) -> SyncStage[list[T]]:
    """Lists of ``size`` consecutive items (the last one may be shorter)."""
    return _Batch(chunks, size)


def coalesce_text(chunks: Iterable[GenerationChunk], min_chars: int) -> SyncStage[GenerationChunk]:
    """Merge consecutive small text / reasoning deltas until they hold ``min_chars`` characters.

    Never merges across a tool-call delta, a finish, an error or the done chunk (see ``Coalescer``).
    """
    return _Coalesce(chunks, min_chars)


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


# --- async stages ------------------------------------------------------------------------------


def _aiter_any(source: AsyncIterable[Any] | Iterable[Any]) -> AsyncIterator[Any]:
    if isinstance(source, AsyncIterable):
        return aiter(source)
    if isinstance(source, Iterable):
        return _SyncAsAsync(iter(source))
    raise TypeError(f"expected an async iterable or an iterable, got {type(source).__name__}")


class _SyncAsAsync(AsyncIterator[Any]):
    def __init__(self, iterator: Iterator[Any]) -> None:
        self._iterator = iterator

    async def __anext__(self) -> Any:
        try:
            return next(self._iterator)
        except StopIteration:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        close_source(self._iterator)


class AsyncStage(AsyncIterator[T]):
    """Base of the async stages: a resource that owns its upstream and closes it.

    Closed by ``aclose()``, ``async with``, exhaustion, an error, or a cancelled ``__anext__``
    (a cancelled read leaves the upstream in an unknown state, so the stage ends there). The
    close runs shielded from the cancellation that caused it, bounded by ``CLOSE_GRACE_SECONDS``.
    Accepts an async iterable, or a plain iterable for convenience.
    """

    def __init__(self, source: AsyncIterable[Any] | Iterable[Any]) -> None:
        self._source = source
        self._upstream: AsyncIterator[Any] = _aiter_any(source)
        self._closed = False

    def __aiter__(self) -> AsyncStage[T]:
        return self

    async def __anext__(self) -> T:
        if self._closed:
            raise StopAsyncIteration
        try:
            return await self._step()
        except BaseException:
            await self.aclose()
            raise

    async def _step(self) -> T:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop and close the upstream (the HTTP response, for fastsse's iterators). Idempotent."""
        if self._closed:
            return
        self._closed = True
        await _close_shielded(self._upstream, self._source)

    async def __aenter__(self) -> AsyncStage[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _close_shielded(upstream: object, source: object) -> None:
    with anyio.move_on_after(CLOSE_GRACE_SECONDS, shield=True):
        await aclose_source(upstream, None if source is upstream else source)


class _AMap(AsyncStage[U]):
    def __init__(self, fn: Callable[[Any], U | Awaitable[U]], source: AsyncIterable[Any] | Iterable[Any]):
        super().__init__(source)
        self._fn = fn

    async def _step(self) -> U:
        result = self._fn(await self._upstream.__anext__())
        if inspect.isawaitable(result):
            awaited: U = await result
            return awaited
        return result


class _AFilter(AsyncStage[T]):
    def __init__(self, predicate: Callable[[T], object], source: AsyncIterable[T] | Iterable[T]) -> None:
        super().__init__(source)
        self._predicate = predicate

    async def _step(self) -> T:
        while True:
            item: T = await self._upstream.__anext__()
            verdict = self._predicate(item)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            if verdict:
                return item


class _ABatch(AsyncStage[list[T]]):
    def __init__(self, source: AsyncIterable[T] | Iterable[T], size: int) -> None:
        if size < 1:
            raise ValueError(f"batch size must be at least 1, got {size}")
        super().__init__(source)
        self._size = size
        self._ended = False

    async def _step(self) -> list[T]:
        if self._ended:
            raise StopAsyncIteration
        items: list[T] = []
        for _ in range(self._size):
            try:
                items.append(await self._upstream.__anext__())
            except StopAsyncIteration:
                self._ended = True
                if items:
                    return items
                raise
        return items


class _ACoalesce(AsyncStage[GenerationChunk]):
    def __init__(
        self, source: AsyncIterable[GenerationChunk] | Iterable[GenerationChunk], min_chars: int
    ) -> None:
        self._coalescer = Coalescer(min_chars)
        super().__init__(source)
        self._ready: list[GenerationChunk] = []
        self._next = 0
        self._ended = False

    async def _step(self) -> GenerationChunk:
        while self._next >= len(self._ready):
            if self._ended:
                raise StopAsyncIteration
            try:
                chunk = await self._upstream.__anext__()
            except StopAsyncIteration:
                self._ended = True
                self._ready, self._next = self._coalescer.flush(), 0
                continue
            self._ready, self._next = self._coalescer.push(chunk), 0
        item = self._ready[self._next]
        self._next += 1
        return item


class _ATimeout(AsyncStage[T]):
    def __init__(
        self, source: AsyncIterable[T] | Iterable[T], idle: float | None, total: float | None
    ) -> None:
        self._clock = _Clock(idle, total)
        super().__init__(source)

    async def _step(self) -> T:
        clock = self._clock
        now = anyio.current_time()
        if clock.started is None:
            clock.started = now
        end, is_total = clock.deadline(now)
        if end <= now:
            raise clock.error(now, now, is_total)
        with anyio.CancelScope(deadline=end) as scope:
            item: T = await self._upstream.__anext__()
        if scope.cancelled_caught:
            raise clock.error(anyio.current_time(), now, is_total)
        clock.collector.add(item)
        return item


class _Failure:
    """An upstream error, carried through the buffer to be raised in the consumer's task."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class AsyncBuffer(AsyncStage[T]):
    """A producer task reads the upstream into an anyio memory object stream of ``size`` items.

    The task lives in a task group entered by ``async with`` (structured concurrency: the task
    never outlives the block, and the upstream is closed when the block exits). Upstream errors
    travel through the stream and are raised, unwrapped, by ``__anext__`` in order.
    """

    def __init__(self, source: AsyncIterable[T] | Iterable[T], size: int) -> None:
        if size < 0:
            raise ValueError(f"buffer size must be 0 or more, got {size}")
        super().__init__(source)
        self._size = size
        self._send, self._receive = anyio.create_memory_object_stream[Any](size)
        self._task_group: anyio.abc.TaskGroup | None = None
        self._producer_scope: anyio.CancelScope | None = None
        self._high_water = 0

    def statistics(self) -> BufferStatistics:
        return BufferStatistics(self._size, self._send.statistics().current_buffer_used, self._high_water)

    async def __aenter__(self) -> AsyncBuffer[T]:
        if self._task_group is not None:
            raise UsageError("abuffered() streams can be entered only once")
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        try:
            await task_group.start(self._produce)
        except BaseException:
            await task_group.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.aclose()
        finally:
            if self._task_group is not None:
                # The body's own exception propagates as is: handing it to the task group
                # would wrap it in an ExceptionGroup. Only a cancellation is passed on.
                if isinstance(exc, anyio.get_cancelled_exc_class()):
                    await self._task_group.__aexit__(exc_type, exc, tb)
                else:
                    await self._task_group.__aexit__(None, None, None)

    async def _produce(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        send = self._send
        with anyio.CancelScope() as scope:
            self._producer_scope = scope
            try:
                task_status.started()
                async with send:
                    try:
                        async for item in self._upstream:
                            try:  # no extra scheduling round trip while there is room
                                send.send_nowait(item)
                            except anyio.WouldBlock:
                                await send.send(item)  # full: wait for the consumer (backpressure)
                            used = send.statistics().current_buffer_used
                            if used > self._high_water:
                                self._high_water = used
                    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                        pass  # the consumer closed its end
                    except Exception as exc:
                        try:
                            await send.send(_Failure(exc))
                        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                            pass
            finally:
                await _close_shielded(self._upstream, self._source)

    async def _step(self) -> T:
        if self._task_group is None:
            raise UsageError(
                "use `async with fastsse.streams.abuffered(...) as chunks:` so its reader task can run"
            )
        try:
            try:
                item = self._receive.receive_nowait()
            except anyio.WouldBlock:
                item = await self._receive.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None
        if isinstance(item, _Failure):
            raise item.error
        result: T = item
        return result

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._receive.close()
        if self._producer_scope is not None:
            self._producer_scope.cancel()  # the reader task closes the upstream as it ends
        else:  # never entered: no reader task owns the upstream
            await _close_shielded(self._upstream, self._source)


def amap(fn: Callable[[Any], U | Awaitable[U]], chunks: AsyncIterable[Any] | Iterable[Any]) -> AsyncStage[U]:
    """``fn(item)`` (awaited if it returns an awaitable) for each item of ``chunks``."""
    return _AMap(fn, chunks)


def afilter(predicate: Callable[[T], object], chunks: AsyncIterable[T] | Iterable[T]) -> AsyncStage[T]:
    """The items for which ``predicate(item)`` (awaited if awaitable) is true."""
    return _AFilter(predicate, chunks)


def abatch(chunks: AsyncIterable[T] | Iterable[T], size: int) -> AsyncStage[list[T]]:
    """Lists of ``size`` consecutive items (the last one may be shorter)."""
    return _ABatch(chunks, size)


def acoalesce_text(
    chunks: AsyncIterable[GenerationChunk] | Iterable[GenerationChunk], min_chars: int
) -> AsyncStage[GenerationChunk]:
    """The async twin of ``coalesce_text``."""
    return _ACoalesce(chunks, min_chars)


def atimeout(
    chunks: AsyncIterable[T] | Iterable[T], *, idle: float | None = None, total: float | None = None
) -> AsyncStage[T]:
    """Raise ``IdleTimeoutError`` when one ``__anext__`` of ``chunks`` takes ``idle`` seconds,
    ``DeadlineExceededError`` when the stream is not over ``total`` seconds after its first
    ``__anext__``; both keep the partial result and close the upstream. No extra task.
    """
    if idle is None and total is None:
        raise ValueError("atimeout() needs idle=, total= or both")
    return _ATimeout(chunks, idle, total)


def abuffered(chunks: AsyncIterable[T] | Iterable[T], size: int) -> AsyncBuffer[T]:
    """A bounded buffer between the upstream (read by a task) and the consumer.

    Use as ``async with abuffered(chunks, 64) as buffered: async for chunk in buffered: ...``.
    The reader waits while ``size`` items are unread (backpressure); ``size=0`` hands each item
    over directly. ``statistics()`` reports the buffer's current and highest fill.
    """
    return AsyncBuffer(chunks, size)
