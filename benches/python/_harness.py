"""Tiny timing harness shared by the Python benches: medians of repeated runs, one table."""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping
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


def cut(data: bytes, low: int, high: int, seed: int = 7) -> list[bytes]:
    """``data`` as network reads of random sizes from ``low`` to ``high`` bytes (the same reads
    for the same seed, so every contender gets the same pieces)."""
    rng = random.Random(seed)
    pieces, start = [], 0
    while start < len(data):
        end = min(len(data), start + rng.randint(low, high))
        pieces.append(data[start:end])
        start = end
    return pieces


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


def medians_ns(cases: Mapping[str, Callable[[], object]], *, loops: int, repeat: int) -> dict[str, float]:
    """Median ns per call of each case, `loops` calls a run (`measure_interleaved`: the cases take
    turns in every round, so a noisy neighbour on the machine slows them all alike)."""

    def looped(fn: Callable[[], object]) -> Callable[[], int]:
        def run() -> int:
            for _ in range(loops):
                fn()
            return loops

        return run

    seconds = measure_interleaved({name: looped(fn) for name, fn in cases.items()}, repeat=repeat)
    return {name: run / loops * 1e9 for name, run in seconds.items()}


def versus_fastsse(results: dict[str, float]) -> Iterator[tuple[str, float, str]]:
    """Each case's name, time and time over fastsse's ("" for fastsse itself), for a table row."""
    fast = results["fastsse"]
    for name, value in results.items():
        yield name, value, "" if name == "fastsse" else f"{value / fast:.1f}x"


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
