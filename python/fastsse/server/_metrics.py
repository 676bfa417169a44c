"""What the server measured, in constant memory: counters and latency histograms.

Latencies go into log-spaced buckets (5 % wide, 10 ns to 100 s), so percentiles are read to
within 5 % however many tokens were served, and a long-running server never grows.
"""

from __future__ import annotations

import math
from typing import Any

from ._worker import GenerationStats

__all__ = ["LatencyHistogram", "ServerMetrics"]


class LatencyHistogram:
    """Counts of durations in buckets ``[LOW * GROWTH**i, LOW * GROWTH**(i+1))``."""

    LOW = 1e-8
    GROWTH = 1.05
    BUCKETS = math.ceil(math.log(1e10) / math.log(GROWTH)) + 1

    def __init__(self) -> None:
        self.counts = [0] * self.BUCKETS
        self.total = 0

    def add(self, seconds: float) -> None:
        index = 0 if seconds <= self.LOW else int(math.log(seconds / self.LOW) / math.log(self.GROWTH)) + 1
        self.counts[min(index, self.BUCKETS - 1)] += 1
        self.total += 1

    def extend(self, values: Any) -> None:
        for value in values:
            self.add(value)

    def percentile(self, q: float) -> float | None:
        """The upper edge of the bucket holding the ``q`` quantile (None when empty)."""
        if not self.total:
            return None
        rank = max(1, math.ceil(q * self.total))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return self.LOW * self.GROWTH**index
        return self.LOW * self.GROWTH ** (self.BUCKETS - 1)  # pragma: no cover - rank <= total


class ServerMetrics:
    """Counters and latency histograms over every generation served (``GET /health``)."""

    def __init__(self) -> None:
        self.requests = 0
        self.active_streams = 0
        self.completed = 0
        self.cancelled = 0
        self.errors = 0
        self.ttft = LatencyHistogram()
        self.inter_token = LatencyHistogram()
        self.parse = LatencyHistogram()

    def record(self, stats: GenerationStats, *, client_left: bool) -> None:
        if client_left or stats.finish_reason == "cancelled":
            self.cancelled += 1
        elif stats.finish_reason == "error":
            self.errors += 1
        else:
            self.completed += 1
        if stats.ttft is not None:
            self.ttft.add(stats.ttft)
        self.inter_token.extend(stats.inter_token)
        self.parse.extend(stats.parse_times)

    def summary(self) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 3)

        parse = self.parse.percentile(0.5)

        return {
            "requests": self.requests,
            "active_streams": self.active_streams,
            "completed": self.completed,
            "cancelled": self.cancelled,
            "errors": self.errors,
            "ttft_p50_ms": ms(self.ttft.percentile(0.5)),
            "ttft_p99_ms": ms(self.ttft.percentile(0.99)),
            "inter_token_p50_ms": ms(self.inter_token.percentile(0.5)),
            "inter_token_p99_ms": ms(self.inter_token.percentile(0.99)),
            # A median: a mean would be dominated by the rare call the OS preempted.
            "parse_p50_ns": None if parse is None else round(parse * 1e9),
        }
