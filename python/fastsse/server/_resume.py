"""Resumable streams: generation detached from the request, events kept in a store by id.

When an app has resumable streams on, a streamed response is made by a **producer** task, not
by the request: the route hands over ``produce(write)`` (a coroutine writing the response's
encoded SSE events), and the producer cuts what it writes into events, numbers them (an
``id: N`` line first in each event, N = 1, 2, 3, ...) and appends them to the store. The request,
and any later ``GET /v1/streams/{id}``, are **readers**: they send the stored events after a
given id, byte for byte, then follow the store until the stream ends.

The producer outlives its request: when no reader has been attached for ``detach_timeout``
seconds it is cancelled (which closes the engine's iterator). It holds a lease in the store,
renewed every third of ``lease`` seconds; readers of a stream whose lease lapsed before its end
(the producing process died) get a ``stream_producer_lost`` error event in the stream's own wire
format. Each stream is capped at ``max_stream_bytes`` and at the store's ``max_events``; a
stream reaching either ends with a ``stream_too_large`` error event and its generation is
cancelled. A store with no room left for its events (its total cap) ends it with
``stream_store_full``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .. import _fastsse
from .._fastsse import GenerationChunk
from ._asgi import Receive, Send
from ._stores import READ_BATCH, StoredEvents, StoreFullError, StoreUnavailableError, StreamStore
from ._streaming import KEEPALIVE_COMMENT, SSE_HEADERS, watch_disconnect

__all__ = ["ERROR_EVENT_ENCODERS", "ResumableStreams", "Write", "error_event"]

logger = logging.getLogger("fastsse.server")

Write = Callable[[bytes], Awaitable[None]]
Produce = Callable[[Write], Awaitable[None]]

# How often a producer with no local reader asks the store when a reader last touched it.
REMOTE_READER_POLL = 0.5
# Events a producer may have numbered but not stored before its generation waits.
STORE_QUEUE = 1024
# The last stored events a producer keeps for the readers in its own process (they read them
# from memory, not from the store); a reader further behind reads the store.
RECENT_EVENTS = 64


SEQUENCE_NUMBER = re.compile(rb'"sequence_number":\d+')

# Wire format name -> a fresh encoder (given the stream id) whose error chunk is that format's
# error event. Routes serving other formats add theirs here (a reader on another replica knows
# only the name). A Responses stream ``strm_X`` holds response ``resp_X``: its error names it.
ERROR_EVENT_ENCODERS: dict[str, Callable[[str], Any]] = {
    "openai": lambda _: _fastsse.Encoder("openai", id="chatcmpl-error", model=""),
    "anthropic": lambda _: _fastsse.Encoder("anthropic", id="msg_error", model=""),
    "openai-responses": lambda stream_id: _fastsse.Encoder(
        "openai-responses", id="resp_" + stream_id.removeprefix("strm_"), model=""
    ),
    "vercel-ui": lambda _: _fastsse.Encoder("vercel-ui", id="msg_error"),
}


def error_event(format: str, code: str, message: str, *, stream_id: str = "", event_id: int = 0) -> bytes:
    """The error event ending stream ``stream_id`` of ``format``, as that format writes errors;
    it is the stream's event ``event_id`` (Responses events number themselves:
    ``sequence_number`` is the event id minus one, so ``starting_after`` and ``Last-Event-ID``
    agree)."""
    encoder = ERROR_EVENT_ENCODERS.get(format, ERROR_EVENT_ENCODERS["openai"])(stream_id or "strm_error")
    encoder.encode([])  # the preamble: already sent with the stream
    chunk = GenerationChunk(done=True, finish_reason="error", error_code=code, error_message=message)
    event = bytes(encoder.encode([chunk]) + encoder.finish())
    if format == "openai-responses" and event_id > 0:
        event = SEQUENCE_NUMBER.sub(b'"sequence_number":%d' % (event_id - 1), event, count=1)
    return event


class StreamTooLargeError(Exception):
    """A stream reached one of its caps (the message names it)."""


class _Producer:
    """One stream's producer: numbers events, stores them, holds the lease, watches readers.

    Events are stored by a job of their own (group commit): the generation queues them and goes
    on, and each store round trip takes every event queued meanwhile. When the store keeps up
    that is one append per write; when it falls behind (a busy Redis, a loaded replica) appends
    grow instead of queuing up round trips. The generation waits only when ``STORE_QUEUE``
    events are queued (backpressure).
    """

    def __init__(self, streams: ResumableStreams, stream_id: str, format: str, detached: bool) -> None:
        self.streams = streams
        self.stream_id = stream_id
        self.format = format
        self.detached = detached  # runs to its end with or without readers (no detach timeout)
        self.cancel_asked = anyio.Event()  # set by a cancel request in this process
        self.next_id = 1
        self.size = 0
        self.pending = b""
        self.ended_by: str | None = None
        self.finished = False  # the stream's end is stored: nothing may follow it
        self.queued: list[tuple[int, bytes]] = []  # numbered, not stored yet
        self.stored_id = 0  # the last event id the store holds
        self.recent: deque[tuple[int, bytes]] = deque(maxlen=RECENT_EVENTS)  # the last ones stored
        self.ending = False  # the jobs ended: readers here read the rest (and the end) from the store
        self.storing = False  # a batch is on its way to the store
        self.queue_changed = anyio.Event()
        self.readers_changed = anyio.Event()  # set when a reader here leaves
        self.last_local_reader = 0.0  # time.monotonic() when one last left
        self.task: asyncio.Task[None] | None = None

    async def write(self, data: bytes) -> None:
        data = self.pending + data
        cut = data.rfind(b"\n\n")
        if cut < 0:
            self.pending = data
            return
        self.pending = data[cut + 2 :]
        events: list[tuple[int, bytes]] = []
        next_id, size = self.next_id, self.size
        for raw in data[:cut].split(b"\n\n"):
            if not raw or raw.startswith(b":"):  # comments are not events
                continue
            event = b"id: %d\n%s\n\n" % (next_id, raw)
            events.append((next_id, event))
            next_id += 1
            size += len(event)
        # Over a cap, none of these events is stored: the error event takes the next id.
        streams = self.streams
        if size > streams.max_stream_bytes:
            raise StreamTooLargeError(f"the stream exceeded max_stream_bytes ({streams.max_stream_bytes})")
        if next_id - 1 > streams.store.max_events:
            raise StreamTooLargeError(f"the stream exceeded max_events ({streams.store.max_events})")
        self.next_id, self.size = next_id, size
        if events:
            self.queued.extend(events)
            self._queue_changed()
            while len(self.queued) >= STORE_QUEUE:
                await self.queue_changed.wait()

    def _queue_changed(self) -> None:
        self.queue_changed.set()
        self.queue_changed = anyio.Event()

    async def _store_queued(self) -> None:
        """The storing job: appends whatever is queued, in one round trip, until cancelled."""
        while True:
            while not self.queued:
                await self.queue_changed.wait()
            batch, self.queued = self.queued, []  # what is written meanwhile waits for the next
            self.storing = True
            await self.streams.store.append(self.stream_id, batch)
            self.recent.extend(batch)
            self.stored_id, self.storing = batch[-1][0], False
            self._queue_changed()

    async def read_here(self, after: int, wait: float) -> StoredEvents | None:
        """What a reader in this process gets without asking the store: the stored events after
        ``after`` (waiting up to ``wait`` for some). None when the store must answer: the reader
        is further behind than ``recent`` holds, or the stream is ending."""
        if after >= self.stored_id and not self.ending:
            changed = self.queue_changed
            with anyio.move_on_after(wait):
                await changed.wait()
        if self.ending:
            return None
        if after >= self.stored_id:
            return StoredEvents([], "open")
        recent = self.recent
        if not recent or recent[0][0] > after + 1:
            return None
        start = after + 1 - recent[0][0]
        return StoredEvents(list(itertools.islice(recent, start, start + READ_BATCH)), "open")

    async def _stored(self) -> None:
        """Wait until every queued event is stored."""
        while self.queued or self.storing:
            await self.queue_changed.wait()

    async def _end_with_error(self, code: str, message: str) -> None:
        store = self.streams.store
        # Shielded and bounded: this often runs while being cancelled.
        with anyio.CancelScope(shield=True), anyio.move_on_after(5.0):
            try:
                # Queued events go first (not a batch cut off on its way: it may be stored or not).
                if self.queued and not self.storing:
                    with contextlib.suppress(StoreFullError):  # no room: dropped, the error says why
                        await store.append(self.stream_id, self.queued)
                        self.stored_id = self.queued[-1][0]
                event_id = self.stored_id + 1
                event = b"id: %d\n%s" % (
                    event_id,
                    error_event(self.format, code, message, stream_id=self.stream_id, event_id=event_id),
                )
                await store.finish(self.stream_id, self.streams.ttl, (event_id, event))
            except Exception as exc:  # best effort: readers then see the lease lapse
                logger.error("stream %s: could not store its end: %s", self.stream_id, exc)

    async def _keep_lease(self) -> None:
        """Renews the lease; ends (the generation is cancelled) when a cancel was asked, here or,
        as the renewal learns, on another replica."""
        streams = self.streams
        while True:
            with anyio.move_on_after(streams.lease / 3):
                await self.cancel_asked.wait()
            if self.cancel_asked.is_set() or await streams.store.renew(self.stream_id, streams.lease):
                self.ended_by = "cancelled"
                return

    def reader_left(self) -> None:
        """Called when a reader in this process leaves (the watcher's clock starts again)."""
        self.last_local_reader = time.monotonic()
        self.readers_changed.set()

    async def _watch_readers(self) -> None:
        """Ends (the generation is cancelled) once no reader, here or on another replica, was
        attached for ``detach_timeout`` seconds. Event-driven while readers are attached here:
        thousands of streams cost nothing until their readers leave."""
        streams = self.streams
        last_seen = time.monotonic()
        last_asked = 0.0
        while True:
            if streams.local_readers.get(self.stream_id):
                self.readers_changed = anyio.Event()
                await self.readers_changed.wait()
                continue
            now = time.monotonic()
            last_seen = max(last_seen, self.last_local_reader)
            if now - last_asked >= REMOTE_READER_POLL:
                last_asked = now
                touched = await streams.store.last_touch(self.stream_id)
                if touched is not None:
                    last_seen = max(last_seen, now - (time.time() - touched))
            idle = time.monotonic() - last_seen
            if idle >= streams.detach_timeout:
                self.ended_by = "detach_timeout"
                logger.info(
                    "stream %s: no reader for %.3f s, cancelling its generation", self.stream_id, idle
                )
                return
            # Wake at the deadline, or to ask the store about remote readers, or when a reader
            # attaches here and leaves again.
            self.readers_changed = anyio.Event()
            with anyio.move_on_after(min(streams.detach_timeout - idle, REMOTE_READER_POLL)):
                await self.readers_changed.wait()

    async def _produce(self, produce: Produce) -> None:
        try:
            await produce(self.write)
            await self.write(b"")
            if self.pending.strip():  # a last event without its blank line
                await self.write(b"\n\n")
        except Exception:
            await self._stored()  # the events before the failure (a cap, a bug) are kept
            raise
        await self._stored()
        await self.streams.store.finish(self.stream_id, self.streams.ttl)
        self.finished = True

    async def _end_of_jobs_for_readers(self) -> None:
        """Tells the readers here, when the jobs end (however they end), to read the store."""
        try:
            await anyio.sleep_forever()
        finally:
            self.ending = True
            self._queue_changed()

    async def run(self, produce: Produce) -> None:
        """Produce the stream; the first of the four jobs to end (the generation, the storing
        job or the lease keeper failing, the reader watcher deciding to detach) ends the others."""
        failure: Exception | None = None

        async def first_to_end(job: Callable[[], Awaitable[None]], scope: anyio.CancelScope) -> None:
            nonlocal failure
            try:
                await job()
            except Exception as exc:
                failure = exc
            scope.cancel()

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._end_of_jobs_for_readers)
                jobs = [lambda: self._produce(produce), self._store_queued, self._keep_lease]
                if not self.detached:
                    jobs.append(self._watch_readers)
                for job in jobs:
                    group.start_soon(first_to_end, job, group.cancel_scope)
        except asyncio.CancelledError:
            if not self.finished:
                await self._end_with_error("stream_producer_lost", "the server producing this stream stopped")
            raise
        if isinstance(failure, StreamTooLargeError):
            await self._end_with_error("stream_too_large", str(failure))
        elif isinstance(failure, StoreFullError):
            await self._end_with_error("stream_store_full", str(failure))
        elif isinstance(failure, StoreUnavailableError):
            logger.error("stream %s: the store failed, generation cancelled: %s", self.stream_id, failure)
        elif failure is not None:
            logger.error("stream %s: producing failed", self.stream_id, exc_info=failure)
            await self._end_with_error("stream_producer_failed", f"{type(failure).__name__}: {failure}")
        elif self.ended_by == "detach_timeout":
            timeout = self.streams.detach_timeout
            await self._end_with_error(
                "stream_detach_timeout", f"no reader for {timeout:g} s: the generation was cancelled"
            )
        elif self.ended_by == "cancelled":
            await self._end_with_error("stream_cancelled", "the stream was cancelled on request")


class ResumableStreams:
    """The resumable-streams half of an app: a store, its producers and readers.

    ``detach_timeout``: seconds a generation goes on with no reader attached; ``ttl``: seconds a
    finished stream stays readable; ``lease``: seconds after which a producer that stopped
    renewing is declared lost; ``max_stream_bytes``: the cap on one stream's stored events.
    """

    def __init__(
        self,
        store: StreamStore,
        *,
        detach_timeout: float = 300.0,
        ttl: float = 600.0,
        lease: float = 5.0,
        max_stream_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        for name, value in (("detach_timeout", detach_timeout), ("ttl", ttl), ("lease", lease)):
            if value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value}")
        self.store = store
        self.detach_timeout = detach_timeout
        self.ttl = ttl
        self.lease = lease
        self.max_stream_bytes = max_stream_bytes
        self.local_readers: dict[str, int] = {}
        self.producers: dict[str, _Producer] = {}  # by stream id: those running here

    async def start(
        self, produce: Produce, *, format: str, stream_id: str | None = None, detached: bool = False
    ) -> str:
        """Create a stream (``stream_id``, or a new id) and start its producer; returns the
        stream id. ``detached``: it runs to its end even with no reader (no detach timeout)."""
        stream_id = stream_id or "strm_" + uuid.uuid4().hex
        await self.store.create(stream_id, format=format, lease=self.lease)
        producer = self.producers[stream_id] = _Producer(self, stream_id, format, detached)
        producer.task = asyncio.get_running_loop().create_task(producer.run(produce))
        producer.task.add_done_callback(lambda _: self.producers.pop(stream_id, None))
        return stream_id

    async def serve(
        self,
        send: Send,
        receive: Receive,
        produce: Produce,
        *,
        format: str,
        keepalive: float,
        headers: list[tuple[bytes, bytes]] | None = None,
        stream_id: str | None = None,
        detached: bool = False,
    ) -> bool:
        """Start ``produce`` (see ``start``) and follow it as this response; True when it completed."""
        stream_id = await self.start(produce, format=format, stream_id=stream_id, detached=detached)
        return await self.follow(
            send, receive, stream_id, 0, format=format, keepalive=keepalive, headers=headers
        )

    async def follow(
        self,
        send: Send,
        receive: Receive,
        stream_id: str,
        after: int,
        *,
        format: str,
        keepalive: float,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> bool:
        """Send the stored events after ``after``, then follow live to the end; True when the
        stream's end was sent, False when the client left first."""
        start_headers = SSE_HEADERS + [(b"x-stream-id", stream_id.encode())] + (headers or [])
        await send({"type": "http.response.start", "status": 200, "headers": start_headers})
        self.local_readers[stream_id] = self.local_readers.get(stream_id, 0) + 1
        completed = False
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(watch_disconnect, receive, group.cancel_scope, [])
                await self._relay(send, stream_id, after, format, keepalive)
                completed = True
                group.cancel_scope.cancel()
        finally:
            count = self.local_readers.pop(stream_id, 1) - 1
            if count:
                self.local_readers[stream_id] = count
            elif (producer := self.producers.get(stream_id)) is not None:
                producer.reader_left()
        if completed:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        return completed

    async def _relay(self, send: Send, stream_id: str, after: int, format: str, keepalive: float) -> None:
        store = self.store

        async def write(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        last_sent = last_touch = time.monotonic()
        try:
            while True:
                now = time.monotonic()
                producer = self.producers.get(stream_id)
                if now - last_touch >= self.lease / 3 and producer is None:
                    # (a producer here knows its readers here: no touch for it)
                    last_touch = now
                    await store.touch(stream_id)
                wait = max(min(keepalive - (now - last_sent), self.lease / 3), 0.0)
                batch = None if producer is None else await producer.read_here(after, wait)
                if batch is None:
                    batch = await store.read(stream_id, after, wait)
                if batch.events:
                    after = batch.events[-1][0]
                    last_sent = time.monotonic()
                    await write(b"".join(data for _, data in batch.events))
                if batch.state == "done":
                    return
                if batch.state == "lost" and stream_id in self.producers:
                    # Its producer runs here, late renewing its lease (an overloaded event
                    # loop): it is not lost; it will write or end the stream.
                    continue
                if batch.state in ("lost", "unknown"):
                    await write(
                        error_event(
                            format,
                            "stream_producer_lost",
                            "the server producing this stream stopped before its end",
                            stream_id=stream_id,
                            event_id=after + 1,
                        )
                    )
                    return
                if time.monotonic() - last_sent >= keepalive:
                    last_sent = time.monotonic()
                    await write(KEEPALIVE_COMMENT)
        except StoreUnavailableError as exc:
            unavailable = error_event(
                format, "stream_store_unavailable", str(exc), stream_id=stream_id, event_id=after + 1
            )
            await write(unavailable)

    async def cancel(self, stream_id: str) -> None:
        """Cancel a stream's generation, wherever it runs (on another replica: within a third of
        the lease); the stream ends with a ``stream_cancelled`` error event."""
        producer = self.producers.get(stream_id)
        if producer is not None:
            producer.cancel_asked.set()
        else:
            await self.store.request_cancel(stream_id)

    async def aclose(self) -> None:
        tasks = [producer.task for producer in self.producers.values() if producer.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        await self.store.aclose()


def parse_after(value: str | None) -> int | None:
    """A ``Last-Event-ID`` / ``after`` value as an event id (None when absent or not one)."""
    if value is None or value == "":
        return 0
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 19 else None
