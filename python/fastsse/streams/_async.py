"""The async stages: each an ``OwningAsyncIterator`` over one upstream, on anyio."""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
)
from inspect import isawaitable
from types import GeneratorType, TracebackType
from typing import Any, TypeGuard, TypeVar

import anyio
import anyio.abc

from .._fastsse import Coalescer, GenerationChunk
from .._resource import OwningAsyncIterator, aclose_shielded
from .._sources import close_source
from ..errors import UsageError
from ._clock import BufferStatistics, Clock

T = TypeVar("T")
U = TypeVar("U")


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


class AsyncStage(OwningAsyncIterator[T]):
    """Base of the async stages: an ``OwningAsyncIterator`` (``fastsse._resource``) whose source is
    its upstream, so closing a stage (``aclose()``, ``async with``, exhaustion, an error, or a
    cancelled read) closes the upstream, shielded and bounded by ``CLOSE_GRACE_SECONDS``.
    Accepts an async iterable, or a plain iterable for convenience.

    The items come from the async generator ``_run()``, held and closed by the stage (never handed
    to the event loop's finalizer), which ``async for`` runs directly: ``__aiter__`` returns it, so a
    stage costs what the hand-written async generator costs. Each ``_run`` wraps its loop in
    ``async with self._owning()``, which closes the upstream however the loop ends.
    """

    def __init__(self, source: AsyncIterable[Any] | Iterable[Any]) -> None:
        self._source = source
        self._upstream: AsyncIterator[Any] = _aiter_any(source)
        self._items: AsyncGenerator[T, None] = self._run()

    def _owned(self) -> tuple[object, ...]:
        return (self._upstream, self._source)

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items

    def __anext__(self) -> Coroutine[Any, Any, T]:
        return self._items.__anext__()

    async def _run(self) -> AsyncGenerator[T, None]:
        raise NotImplementedError
        yield  # pragma: no cover - makes this an async generator

    def _owning(self) -> _Owning:
        return _Owning(self)

    async def aclose(self) -> None:
        if self._closed:
            return
        if not getattr(self._items, "ag_running", False):  # (a read pending in another task keeps it running)
            await self._items.aclose()  # leaves `_owning()`, which closes the upstream
        await super().aclose()  # the generator never started, or is running: close here


class _Owning:
    """``async with stage._owning():`` inside a stage's generator: when the loop ends (exhausted,
    failed, cancelled, or closed by ``aclose()``), the stage closes what it owns. No cost per item."""

    __slots__ = ("stage",)

    def __init__(self, stage: AsyncStage[Any]) -> None:
        self.stage = stage

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        # The base class's aclose(): marks the stage closed and closes the upstream (the stage's
        # own aclose() would try to close this generator, which is the one running).
        await OwningAsyncIterator.aclose(self.stage)


_AWAITABLE_BY_TYPE: dict[type, bool] = {}


def _is_awaitable(value: object) -> TypeGuard[Awaitable[Any]]:
    """``inspect.isawaitable`` cached per type (it costs ~0.5 µs, an ABC check, per call); a
    generator is checked each time, since only some (``types.coroutine``) are awaitable."""
    kind = type(value)
    known = _AWAITABLE_BY_TYPE.get(kind)
    if known is None:
        known = isawaitable(value)
        if kind is not GeneratorType and len(_AWAITABLE_BY_TYPE) < 1024:
            _AWAITABLE_BY_TYPE[kind] = known
    return known


class _AMap(AsyncStage[U]):
    def __init__(self, fn: Callable[[Any], U | Awaitable[U]], source: AsyncIterable[Any] | Iterable[Any]):
        self._fn = fn
        super().__init__(source)

    async def _run(self) -> AsyncGenerator[U, None]:
        fn = self._fn
        plain: type | None = None  # the type of the last result that was not awaitable
        async with self._owning():
            async for item in self._upstream:
                result = fn(item)
                if type(result) is plain:  # the common case, checked in ~30 ns
                    yield result  # type: ignore[misc]  # not awaitable: a U
                elif _is_awaitable(result):
                    yield await result
                else:
                    plain = type(result)
                    yield result  # type: ignore[misc]


class _AFilter(AsyncStage[T]):
    def __init__(self, predicate: Callable[[T], object], source: AsyncIterable[T] | Iterable[T]) -> None:
        self._predicate = predicate
        super().__init__(source)

    async def _run(self) -> AsyncGenerator[T, None]:
        predicate = self._predicate
        plain: type | None = None  # as in _AMap
        async with self._owning():
            async for item in self._upstream:
                verdict = predicate(item)
                if type(verdict) is not plain:
                    if _is_awaitable(verdict):
                        verdict = await verdict
                    else:
                        plain = type(verdict)
                if verdict:
                    yield item


class _ABatch(AsyncStage[list[T]]):
    def __init__(self, source: AsyncIterable[T] | Iterable[T], size: int) -> None:
        if size < 1:
            raise ValueError(f"batch size must be at least 1, got {size}")
        self._size = size
        super().__init__(source)

    async def _run(self) -> AsyncGenerator[list[T], None]:
        size = self._size
        async with self._owning():
            items: list[T] = []
            async for item in self._upstream:
                items.append(item)
                if len(items) == size:
                    yield items
                    items = []
            if items:
                yield items


class _ACoalesce(AsyncStage[GenerationChunk]):
    def __init__(
        self, source: AsyncIterable[GenerationChunk] | Iterable[GenerationChunk], min_chars: int
    ) -> None:
        self._coalescer = Coalescer(min_chars)  # validates before taking the source
        super().__init__(source)

    async def _run(self) -> AsyncGenerator[GenerationChunk, None]:
        push = self._coalescer.push  # the merging runs in Rust: one native call per chunk
        async with self._owning():
            async for chunk in self._upstream:
                for ready in push(chunk):
                    yield ready
            for ready in self._coalescer.flush():
                yield ready


class _ATimeout(AsyncStage[T]):
    def __init__(
        self, source: AsyncIterable[T] | Iterable[T], idle: float | None, total: float | None
    ) -> None:
        self._clock = Clock(idle, total)
        super().__init__(source)

    async def _run(self) -> AsyncGenerator[T, None]:
        clock, upstream = self._clock, self._upstream
        async with self._owning():
            while True:
                now = anyio.current_time()
                if clock.started is None:
                    clock.started = now
                end, is_total = clock.deadline(now)
                if end <= now:
                    raise clock.error(now, now, is_total)
                with anyio.CancelScope(deadline=end) as scope:  # never open across the yield
                    try:
                        item: T = await upstream.__anext__()
                    except StopAsyncIteration:
                        return
                if scope.cancelled_caught:
                    raise clock.error(anyio.current_time(), now, is_total)
                clock.collector.add(item)
                yield item


class _Failure:
    """An upstream error, carried through the buffer to be raised in the consumer's task."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class AsyncBuffer(OwningAsyncIterator[T]):
    """A producer task reads the upstream into an anyio memory object stream of ``size`` items.

    The task lives in a task group entered by ``async with`` (structured concurrency: the task
    never outlives the block, and the upstream is closed when the block exits). Upstream errors
    travel through the stream and are raised, unwrapped, by ``__anext__`` in order.
    """

    def __init__(self, source: AsyncIterable[T] | Iterable[T], size: int) -> None:
        if size < 0:
            raise ValueError(f"buffer size must be 0 or more, got {size}")
        self._source = source
        self._upstream: AsyncIterator[T] = _aiter_any(source)
        self._size = size
        self._send, self._receive = anyio.create_memory_object_stream[Any](size)
        self._task_group: anyio.abc.TaskGroup | None = None
        self._producer_scope: anyio.CancelScope | None = None
        self._high_water = 0

    def _owned(self) -> tuple[object, ...]:
        return (self._upstream, self._source)

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
                await aclose_shielded(self._upstream, self._source)

    async def _next(self) -> T:
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

    async def _release(self) -> None:
        self._receive.close()
        if self._producer_scope is not None:
            self._producer_scope.cancel()  # the reader task closes the upstream as it ends
        else:  # never entered: no reader task owns the upstream
            await super()._release()


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
