"""Server metrics: latency histograms read percentiles to 5 % in constant memory."""

from __future__ import annotations

import random

import pytest
from fastsse.server import GenerationStats, ServerMetrics
from fastsse.server._metrics import LatencyHistogram


def test_percentiles_within_the_bucket_width() -> None:
    rng = random.Random(7)
    values = sorted(rng.lognormvariate(-4, 1.5) for _ in range(20_000))
    histogram = LatencyHistogram()
    histogram.extend(values)
    for q in (0.01, 0.5, 0.9, 0.99):
        exact = values[max(0, int(q * len(values)) - 1)]
        estimate = histogram.percentile(q)
        assert estimate is not None and exact <= estimate * 1.0001 and estimate <= exact * 1.06


def test_extremes_and_empty() -> None:
    histogram = LatencyHistogram()
    assert histogram.percentile(0.5) is None
    histogram.extend([0.0, 1e-9, 1e6])
    assert histogram.percentile(0.1) == pytest.approx(LatencyHistogram.LOW)
    assert histogram.percentile(1.0) >= 99  # type: ignore[operator]
    assert len(histogram.counts) == LatencyHistogram.BUCKETS


def test_metrics_count_outcomes() -> None:
    metrics = ServerMetrics()
    done = GenerationStats(finish_reason="stop", ttft=0.01)
    done.inter_token.extend([0.02, 0.02, 0.03])
    done.parse_times.extend([4e-7, 5e-7, 6e-7])
    metrics.record(done, client_left=False)
    metrics.record(GenerationStats(finish_reason="error"), client_left=False)
    metrics.record(GenerationStats(finish_reason="stop"), client_left=True)
    summary = metrics.summary()
    assert (summary["completed"], summary["errors"], summary["cancelled"]) == (1, 1, 1)
    assert summary["ttft_p50_ms"] == pytest.approx(10, rel=0.05)
    assert summary["inter_token_p50_ms"] == pytest.approx(20, rel=0.05)
    assert summary["parse_p50_ns"] == pytest.approx(500, rel=0.05)
