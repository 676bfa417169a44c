"""Tiny timing harness shared by the Python benches: medians of repeated runs, one table."""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import fastsse

if fastsse.build_info()["profile"] != "release":
    # A debug build is 5-50x slower: its numbers say nothing about fastsse.
    print(
        "WARNING: fastsse is a debug build; benchmark a release build (`make bench-python`)",
        file=sys.stderr,
    )


@dataclass
class Result:
    case: str
    impl: str
    seconds: float  # median of the runs
    items: int

    @property
    def ns_per_item(self) -> float:
        return self.seconds / self.items * 1e9


def measure(
    fn: Callable[[], int],
    *,
    repeat: int,
    expected: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Median time of `fn()` on `clock` (wall time unless told, e.g. `time.process_time` for the
    CPU time of a loop that does no real I/O); `fn` returns the number of items it produced."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = clock()
        produced = fn()
        times.append(clock() - start)
        if expected is not None and produced != expected:
            raise AssertionError(f"produced {produced} items, expected {expected}")
    return statistics.median(times)


def measure_interleaved(
    cases: dict[str, Callable[[], int]],
    *,
    repeat: int,
    expected: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median time of each case, the cases taking turns `repeat` times (load that comes and goes
    hits all of them alike). `clock=time.process_time` measures CPU time instead of wall time,
    which a shared machine disturbs less."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            gc.collect()
            start = clock()
            produced = fn()
            times[name].append(clock() - start)
            if expected is not None and produced != expected:
                raise AssertionError(f"{name}: produced {produced} items, expected {expected}")
    return {name: statistics.median(runs) for name, runs in times.items()}


def table(results: list[Result]) -> str:
    """Markdown table; the last column is each peer's time over fastsse's for the same case."""
    by_key = {(r.case, r.impl): r for r in results}
    lines = [
        "| case | implementation | median | per item | fastsse speed-up |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results:
        fast = by_key.get((r.case, "fastsse"))
        ratio = f"{r.seconds / fast.seconds:.1f}x" if fast and r.impl != "fastsse" else ""
        lines.append(
            f"| {r.case} | {r.impl} | {r.seconds * 1e3:.2f} ms | {r.ns_per_item:,.0f} ns | {ratio} |"
        )
    return "\n".join(lines)
