"""Resumable streams under load: 1,000 concurrent streams, each dropped once and resumed.

A fastsse server runs in its own process (``--serve``, started by this script) with resumable
streams on, in-memory or on a real ``redis-server`` (started on a free loopback port), and the
replay engine writing, per request, distinct word tokens (" aaa", " aab", ...). Every client
opens its stream, reads a random number of events, drops the connection, and resumes it with
``GET /v1/streams/{id}`` and ``Last-Event-ID`` on a new connection, to the end. Checked for
every stream: the ids seen are 1, 2, 3, ... with no gap or repeat, and the joined deltas are
exactly the engine's text (nothing lost, repeated or reordered). Reported: wall time, resume
latency (from the GET to its first event), the server's RSS idle -> peak, and for Redis its
``used_memory`` before -> peak. Each case is bounded in time (``--timeout``).

    python benches/python/bench_resume.py            # 1,000 streams x 20 tokens at 1/s, memory and redis
    python benches/python/bench_resume.py --quick    # 200 streams x 30 tokens
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import fastsse
import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parents[2] / "tests"))
from bench_server import cpu_seconds, memory_kib, percentile, words
from support.processes import RedisServer, free_port, wait_until


def serve(port: int, rate: float, tokens: int, store: str) -> None:
    import uvicorn
    from fastsse.adapters import ReplayAdapter
    from fastsse.server import MemoryStore, RedisStore, ServerLimits, create_app

    text = "".join(words(tokens))
    adapter = ReplayAdapter(tokens_per_second=rate or None, script=lambda prompt: text)
    stream_store = MemoryStore() if store == "memory" else RedisStore(store)
    limits = ServerLimits(max_concurrent_requests=4096)  # the default 512 would refuse most streams
    app = create_app(adapter, model="bench", store=stream_store, stream_ttl=120, limits=limits)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, backlog=4096)


@dataclass
class Stream:
    drop_after: int
    ids: list[int] = field(default_factory=list)
    deltas: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    resume_latency: float | None = None  # None: the first connection had read to the end
    error: str | None = None


async def read_response(
    port: int, request: bytes, stream: Stream, *, stop_after: int | None
) -> tuple[str, float]:
    """Send ``request``, decode the SSE body into ``stream``; stop (drop the connection) after
    ``stop_after`` events. Returns the ``x-stream-id`` header and the first event's arrival."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    first = 0.0
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            body = await asyncio.wait_for(reader.read(1000), 5)
            status = head.partition(b"\r\n")[0].decode()
            raise RuntimeError(f"{status}: {body.decode(errors='replace')}")
        headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
        stream_id = headers[b"x-stream-id"].decode()
        decoder = fastsse.SSEDecoder()
        seen = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            for event in decoder.decode(data[:-2]):
                first = first or time.perf_counter()
                seen += 1
                payload = {} if event.data == "[DONE]" else orjson.loads(event.data)
                if "error" in payload:  # the stream ended with a typed error
                    stream.error = stream.error or f"error event: {payload['error']}"
                    continue
                if not payload:  # [DONE]
                    if event.id:  # (after an error event it comes in the error's block)
                        stream.ids.append(int(event.id))
                    continue
                stream.ids.append(int(event.id))
                choices = payload["choices"]
                if choices:
                    stream.deltas.append(choices[0]["delta"].get("content") or "")
                    stream.finish_reason = choices[0].get("finish_reason") or stream.finish_reason
            if stop_after is not None and seen >= stop_after:
                break  # the client drops: whole events only were taken
        return stream_id, first
    finally:
        writer.close()


async def one_stream(port: int, tokens: int, drop_after: int, delay: float) -> Stream:
    await asyncio.sleep(delay)
    stream = Stream(drop_after)
    body = orjson.dumps(
        {
            "model": "bench",
            "messages": [{"role": "user", "content": "go"}],
            "stream": True,
            "max_tokens": tokens,
        }
    )
    post = (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n%s" % (len(body), body)
    )
    try:
        stream_id, _ = await read_response(port, post, stream, stop_after=drop_after)
        last_id = stream.ids[-1]
        get = b"GET /v1/streams/%s HTTP/1.1\r\nhost: bench\r\nlast-event-id: %d\r\n\r\n" % (
            stream_id.encode(),
            last_id,
        )
        asked = time.perf_counter()
        _, first = await read_response(port, get, stream, stop_after=None)
        if first:  # (a client behind may have read the whole stream before dropping)
            stream.resume_latency = first - asked
    except Exception as exc:  # counted as a bad stream, with its reason
        stream.error = f"{type(exc).__name__}: {exc}"
    return stream


def run_case(
    label: str, store: str, streams: int, tokens: int, rate: float, timeout: float, ramp: float
) -> dict[str, object]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(port),
            "--rate",
            str(rate),
            "--tokens",
            str(tokens),
            "--store",
            store,
        ]
    )
    try:
        base_url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            if server.poll() is not None:
                raise RuntimeError("the server exited")
            try:
                return httpx.get(f"{base_url}/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, "the bench server start")
        redis_before = redis_memory(store)
        idle_kib = memory_kib(server.pid, "VmRSS")
        server_cpu = cpu_seconds(server.pid)
        # Each stream drops somewhere in its first three quarters (the preamble is event 1).
        chooser = random.Random(7)
        drops = [chooser.randint(1, max(1, tokens * 3 // 4)) for _ in range(streams)]

        async def load() -> list[Stream]:
            # Streams start over ``ramp`` seconds (as clients arrive), all open together after it.
            starts = [ramp * index / streams for index in range(streams)]
            runs = (one_stream(port, tokens, drop, at) for drop, at in zip(drops, starts, strict=True))
            return list(await asyncio.gather(*runs))

        started = time.perf_counter()
        results = asyncio.run(asyncio.wait_for(load(), timeout))
        wall = time.perf_counter() - started
        server_cpu = cpu_seconds(server.pid) - server_cpu
        peak_kib = memory_kib(server.pid, "VmHWM")
        redis_peak = redis_memory(store, peak=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    expected = "".join(words(tokens))
    bad = [
        r
        for r in results
        if r.error
        or r.ids != list(range(1, len(r.ids) + 1))
        or "".join(r.deltas) != expected
        or r.finish_reason != "stop"
    ]
    latencies = sorted(r.resume_latency for r in results if not r.error and r.resume_latency is not None)
    events = sum(len(r.ids) for r in results)
    return {
        "store": label,
        "wall_s": wall,
        "events": events,
        "resume_p50_ms": statistics.median(latencies) * 1000,
        "resume_p99_ms": percentile(latencies, 0.99) * 1000,
        "idle_mib": idle_kib / 1024,
        "peak_mib": peak_kib / 1024,
        "redis": ""
        if redis_before is None
        else f"{redis_before / 2**20:.1f} -> {redis_peak / 2**20:.1f} MiB",
        "server_cpu_us_per_event": server_cpu / max(events, 1) * 1e6,
        "bad": len(bad),
        "read_to_the_end": sum(1 for r in results if not r.error and r.resume_latency is None),
        "first_bad": next((r.error or f"ids {r.ids[:5]}... deltas {len(r.deltas)}" for r in bad), ""),
    }


def redis_memory(store: str, *, peak: bool = False) -> int | None:
    if store == "memory":
        return None
    import redis

    info = redis.Redis.from_url(store).info("memory")
    return int(info["used_memory_peak" if peak else "used_memory"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="200 streams x 30 tokens")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--rate", type=float, default=1.0, help="engine tokens/s per stream (0: unpaced)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one case may take")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds over which the streams start")
    parser.add_argument("--stores", default="memory,redis", help="the stores to run: memory, redis or both")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--store", default="memory", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.rate, args.tokens, args.store)
        return
    streams, tokens = (200, 30) if args.quick else (args.streams, args.tokens)
    print(
        f"fastsse resumable streams: {streams} concurrent streams x {tokens} tokens at "
        f"{args.rate:g} tokens/s (started over {args.ramp:g} s), each dropped once at a random event and "
        "resumed with Last-Event-ID; "
        f"uvicorn, loopback, {os.cpu_count()} CPUs\n"
    )
    print(
        "| store | wall | events delivered | resume latency p50 | p99 | server RSS idle -> peak "
        "| Redis used_memory -> peak | server CPU / event | lost / repeated / reordered |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    stores = args.stores.split(",")
    cases: list[tuple[str, RedisServer | None]] = [("memory", None)] if "memory" in stores else []
    if "redis" in stores and shutil.which("redis-server"):
        cases.append(("redis", RedisServer()))
    elif "redis" in stores:
        print("(redis-server is missing: `make setup` installs it; the Redis case is skipped)")
    failed = False
    for label, redis_server in cases:
        store = "memory"
        if redis_server is not None:
            redis_server.start()
            store = redis_server.url
        try:
            row = run_case(label, store, streams, tokens, args.rate, args.timeout, args.ramp)
        finally:
            if redis_server is not None:
                redis_server.close()
        failed |= bool(row["bad"])
        print(
            f"| {row['store']} | {row['wall_s']:.1f} s | {row['events']:,} | {row['resume_p50_ms']:.1f} ms "
            f"| {row['resume_p99_ms']:.1f} ms | {row['idle_mib']:.0f} -> {row['peak_mib']:.0f} MiB "
            f"| {row['redis'] or 'n/a'} | {row['server_cpu_us_per_event']:.0f} µs "
            f"| {row['bad']} of {streams} streams |",
            flush=True,
        )
        if row["read_to_the_end"]:
            print(f"  ({row['read_to_the_end']} first connections had read to the end: no resume latency)")
        if row["bad"]:
            print(f"  first bad stream: {row['first_bad']}")
    if failed:
        sys.exit("some streams lost, repeated or reordered events")


if __name__ == "__main__":
    main()
