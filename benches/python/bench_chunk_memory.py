"""What keeping many `GenerationChunk`s costs: bytes per chunk and the time of one `gc.collect()`.

Decodes an OpenAI stream of one-word text deltas again and again (a network read of 1-16 KiB at a
time) and keeps every chunk in one list, then reports:

* `sys.getsizeof(chunk)`: the object itself (CPython's GC header + the pyclass's basic size; the
  strings' bytes are separate allocations);
* the resident memory the kept chunks added, per chunk (object + text + the shared `raw` event);
* how many of them the cyclic GC tracks, and the median time of a full `gc.collect()` with them
  alive, next to the same collection without them and with a list of as many `None`s (a
  collection walks every list item, tracked or not: that is the floor).

    python benches/python/bench_chunk_memory.py            # 1,000,000 chunks
    python benches/python/bench_chunk_memory.py --quick    # 100,000 chunks
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time

import fastsse
from _harness import cut  # (importing it warns when fastsse is a debug build)

WORDS = [" the", " model", " streams", " one", " delta", " at", " a", " time", "."]
HEAD = (
    '{"id":"chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL","object":"chat.completion.chunk","created":1727346168,'
    '"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":'
)
EVENTS_PER_STREAM = 10_000


def stream_reads() -> list[bytes]:
    tail = ',"logprobs":null,"finish_reason":null}]}\n\n'
    events = [f'data: {HEAD}{{"content":"{WORDS[i % len(WORDS)]}"}}{tail}' for i in range(EVENTS_PER_STREAM)]
    data = "".join(events).encode()
    return cut(data, 1024, 16 * 1024)


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def full_collection_seconds(repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 chunks instead of 1,000,000")
    args = parser.parse_args()
    count = 100_000 if args.quick else 1_000_000
    reads = stream_reads()
    gc.collect()
    collect_without = full_collection_seconds()
    references = [None] * count  # the floor: a full collection walks every list item
    collect_floor = full_collection_seconds()
    del references
    before = resident_bytes()
    start = time.perf_counter()
    kept: list[fastsse.GenerationChunk] = []
    while len(kept) < count:
        kept.extend(chunk for chunk in fastsse.iter_chunks(reads, "openai") if chunk.text_delta)
    del kept[count:]
    build = time.perf_counter() - start
    gc.collect()
    added = resident_bytes() - before
    collect_with = full_collection_seconds()
    sample = kept[len(kept) // 2]
    tracked = sum(map(gc.is_tracked, kept))
    raw_bytes = sum(len(chunk.raw or "") for chunk in kept[:10_000]) / 10_000
    print(
        f"fastsse {fastsse.__version__} ({fastsse.build_info()['profile']}), Python {sys.version.split()[0]}"
    )
    print()
    print(f"| {count:,} kept text chunks | value |")
    print("|---|---:|")
    print(f"| `sys.getsizeof(chunk)` | {sys.getsizeof(sample)} B |")
    per_chunk = f"resident memory added, per chunk (object, text, `raw` of {raw_bytes:.0f} B)"
    print(f"| {per_chunk} | {added / count:.0f} B |")
    print(f"| chunks tracked by the cyclic GC | {tracked:,} |")
    print(f"| one full `gc.collect()` with them kept | {collect_with * 1e3:.1f} ms |")
    print(f"| one full `gc.collect()` without them | {collect_without * 1e3:.1f} ms |")
    floor = f"one full `gc.collect()` with a list of {count:,} `None`s (the floor)"
    print(f"| {floor} | {collect_floor * 1e3:.1f} ms |")
    print(f"| decoding them (iter_chunks, GC on) | {build / count * 1e9:.0f} ns per chunk |")


if __name__ == "__main__":
    main()
