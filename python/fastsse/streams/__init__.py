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

The sync stages are generators held by a thin ``SyncStage`` (``for`` runs the generator itself, so a
stage costs what the hand-written generator costs). The async stages are ``OwningAsyncIterator``
resources (``aclose()`` + ``async with``, the package's one async iterator base), never async
generators, and run on anyio, so asyncio and trio both work. The sync ``timeout`` and
``buffered`` read the upstream on a worker thread (a blocking ``next()`` cannot be interrupted
otherwise); that thread is the only one touching the upstream, and it closes it.
"""

from __future__ import annotations

from .._fastsse import Coalescer, Collector
from .._resource import CLOSE_GRACE_SECONDS
from ._async import AsyncBuffer, AsyncStage, abatch, abuffered, acoalesce_text, afilter, amap, atimeout
from ._clock import BufferStatistics
from ._sync import (
    TIMEOUT_READ_AHEAD,
    SyncStage,
    ThreadedStage,
    batch,
    buffered,
    coalesce_text,
    filter,
    map,
    timeout,
)

__all__ = [
    "CLOSE_GRACE_SECONDS",
    "TIMEOUT_READ_AHEAD",
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

#: The one collector (``fastsse.Collector``): ``add(item)`` for each item (non-chunks are only
#: counted), ``count``, ``chunks()`` (the stream so far, compacted: per choice one text, reasoning
#: and refusal chunk, one delta per tool call with its whole arguments, one with the finish
#: reason and latest usage) and ``snapshot()`` (the partial ``GenerationResult``).
PartialCollector = Collector
