"""The idle and total time limits of a stream, and the statistics of a buffer (shared by the sync
and async stages)."""

from __future__ import annotations

from typing import NamedTuple

from .._fastsse import Collector
from ..errors import DeadlineExceededError, IdleTimeoutError, StreamTimeoutError

__all__ = ["BufferStatistics", "Clock"]


class Clock:
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
