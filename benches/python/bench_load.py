"""Load, fault and soak run against a fastsse server with its default ``ServerLimits``.

The server runs in its own process under uvicorn (started by this script with ``--serve``),
with the replay engine and the connection options ``ServerLimits.uvicorn_options()`` gives
``fastsse serve``. The client is plain asyncio HTTP/1.1 (no client library in the way). Phases:

1. ``streams``: N concurrent streamed chat requests; each must end with ``[DONE]``.
2. ``disconnects``: N streams whose clients leave after the first bytes.
3. ``half-open``: N connections that send half a request's headers and stop; the server must
   close them (header timeout), and its open file descriptors must come back down.
4. ``soak``: W workers for S seconds sending a mix of good and hostile requests (malformed JSON,
   a 5 MB tool name, the 40-deep ``anyOf`` schema, a schema nested 200 deep, a 1 MB stop
   string, ``max_tokens: 1e30``, half-sent bodies, disconnects); every answer must be the
   expected status, and ``/health`` is probed throughout (its worst latency is reported).

Reported per phase: requests, unexpected answers, server RSS (start / peak / end) and open fds.

    python benches/python/bench_load.py                 # 1,000 streams, 90 s soak
    python benches/python/bench_load.py --quick         # 100 streams, 10 s soak
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from bench_server import memory_kib

HEADER_TIMEOUT = 2.0  # seconds; short so the half-open phase does not wait long


def serve(port: int) -> None:
    import uvicorn
    from fastsse.adapters import ReplayAdapter
    from fastsse.server import ServerLimits, create_app

    limits = ServerLimits(header_timeout=HEADER_TIMEOUT, body_timeout=HEADER_TIMEOUT)
    adapter = ReplayAdapter(tokens_per_second=40, script=lambda prompt: "word " * 60)
    app = create_app(adapter, reasoning="think", tools="hermes", model="bench", limits=limits)
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="error", access_log=False, **limits.uvicorn_options()
    )


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Phase:
    name: str
    requests: int = 0
    unexpected: Counter[str] = field(default_factory=Counter)
    rss_start: int = 0
    rss_end: int = 0
    peak: int = 0
    fds_end: int = 0
    seconds: float = 0.0
    note: str = ""


def request(path: str, body: bytes, *, extra: bytes = b"") -> bytes:
    return (
        b"POST %s HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: %d\r\n%s\r\n%s" % (path.encode(), len(body), extra, body)
    )


CHAT: dict[str, Any] = {"model": "bench", "messages": [{"role": "user", "content": "go"}]}


def chat(**fields: Any) -> bytes:
    return request("/v1/chat/completions", orjson.dumps({**CHAT, **fields}))


def tool(name: str, parameters: Any = None) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters or {"type": "object"}}}


def nested(key: str, depth: int) -> Any:
    schema: Any = {"type": "string"}
    for _ in range(depth):
        schema = {key: [schema]} if key == "anyOf" else {key: schema}
    return {"type": "object", "properties": {"p": schema}}


# name -> (request bytes, expected status). Built once: the hostile bodies are large.
MIX: dict[str, tuple[bytes, int]] = {
    "stream": (chat(stream=True), 200),
    "complete": (chat(max_tokens=20), 200),
    "malformed-json": (request("/v1/chat/completions", b'{"model": "bench", "messages": [}'), 400),
    "5mb-tool-name": (chat(tools=[tool("n" * 5_000_000)]), 400),
    "any-of-40": (chat(tools=[tool("f", nested("anyOf", 40))]), 400),
    "schema-200-deep": (chat(tools=[tool("f", nested("items", 200))]), 400),
    "1mb-stop": (chat(stop=["x" * 1_000_000]), 400),
    "max-tokens-1e30": (chat(max_tokens=1e30), 400),
    "unknown-route": (request("/v1/embeddings", b"{}"), 404),
}


async def exchange(port: int, payload: bytes, *, leave_after_first: bool = False) -> tuple[int, bytes]:
    """Send ``payload``; the status and body (read to the end), or (-1, b"") if the client left."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if leave_after_first:
            await reader.read(1)
            return -1, b""
        return status, await reader.read()
    finally:
        writer.close()


class Server:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen([sys.executable, __file__, "--serve", str(self.port)])
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.peak = 0

    def rss(self) -> int:
        value = memory_kib(self.process.pid, "VmRSS")
        self.peak = max(self.peak, value)
        return value

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM: must still be honoured after all this
        self.process.wait(timeout=30)


async def phase(server: Server, name: str, work: Any) -> Phase:
    result = Phase(name, rss_start=server.rss())
    server.peak = result.rss_start
    watching = True

    async def watch() -> None:
        while watching:
            server.rss()
            await asyncio.sleep(0.2)

    watcher = asyncio.create_task(watch())
    started = time.perf_counter()
    await work(result)
    result.seconds = time.perf_counter() - started
    watching = False
    await watcher
    await asyncio.sleep(0.5)
    result.rss_end, result.peak, result.fds_end = server.rss(), server.peak, open_fds(server.process.pid)
    return result


async def streams(server: Server, count: int, result: Phase) -> None:
    outcomes = await asyncio.gather(
        *(exchange(server.port, MIX["stream"][0]) for _ in range(count)), return_exceptions=True
    )
    for outcome in outcomes:
        result.requests += 1
        if isinstance(outcome, BaseException):
            result.unexpected[type(outcome).__name__] += 1
        elif outcome[0] != 200 or b"data: [DONE]" not in outcome[1]:
            result.unexpected[f"status {outcome[0]}"] += 1


async def disconnects(server: Server, count: int, result: Phase) -> None:
    outcomes = await asyncio.gather(
        *(exchange(server.port, MIX["stream"][0], leave_after_first=True) for _ in range(count)),
        return_exceptions=True,
    )
    for outcome in outcomes:
        result.requests += 1
        if isinstance(outcome, BaseException):
            result.unexpected[type(outcome).__name__] += 1


async def half_open(server: Server, count: int, result: Phase) -> None:
    connections = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(count)]
    for _, writer in connections:
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-le")
    await asyncio.sleep(0.2)
    before = open_fds(server.process.pid)
    for reader, writer in connections:
        result.requests += 1
        try:
            closed = await asyncio.wait_for(reader.read(), HEADER_TIMEOUT + 5)
            if closed:
                result.unexpected["answered"] += 1
        except asyncio.TimeoutError:
            result.unexpected["left open"] += 1
        writer.close()
    result.note = f"server fds with them open: {before}"


async def soak(server: Server, seconds: float, workers: int, result: Phase) -> None:
    deadline = time.monotonic() + seconds
    kinds = [*MIX, "half-sent-body", "disconnect"]
    weights = [30, 20, 5, 1, 5, 5, 2, 5, 3, 3, 5]
    health: list[float] = []
    rng = random.Random(13)

    async def worker() -> None:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            result.requests += 1
            try:
                if kind == "disconnect":
                    await exchange(server.port, MIX["stream"][0], leave_after_first=True)
                    continue
                if kind == "half-sent-body":
                    payload, expected = MIX["complete"][0][:-10], 408
                else:
                    payload, expected = MIX[kind]
                status, _ = await exchange(server.port, payload)
                if status != expected:
                    result.unexpected[f"{kind}: {status}"] += 1
            except Exception as exc:  # a reset or a refused connection is a failure too
                result.unexpected[f"{kind}: {type(exc).__name__}"] += 1

    async def probe() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /health HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n")
            answer = await reader.read()
            writer.close()
            health.append(time.perf_counter() - started)
            if not answer.startswith(b"HTTP/1.1 200"):
                result.unexpected["health"] += 1
            await asyncio.sleep(0.5)

    await asyncio.gather(probe(), *(worker() for _ in range(workers)))
    health.sort()
    median, worst = health[len(health) // 2] * 1e3, health[-1] * 1e3
    result.note = f"/health: {len(health)} probes, median {median:.1f} ms, worst {worst:.0f} ms"


async def main(streams_count: int, soak_seconds: float, workers: int) -> list[Phase]:
    server = Server()
    try:
        n = streams_count
        phases = [
            await phase(server, f"{n} concurrent streams", lambda r: streams(server, n, r)),
            await phase(server, f"{n} disconnects", lambda r: disconnects(server, n, r)),
            await phase(server, "500 half-open connections", lambda r: half_open(server, 500, r)),
            await phase(server, f"{soak_seconds:g} s soak", lambda r: soak(server, soak_seconds, workers, r)),
        ]
    finally:
        started = time.perf_counter()
        server.stop()
        print(f"SIGTERM honoured in {time.perf_counter() - started:.2f} s")
    return phases


def report(phases: list[Phase]) -> None:
    print("| phase | requests | unexpected | RSS start → peak → end (MiB) | server fds after | notes |")
    print("|---|---:|---:|---|---:|---|")
    for p in phases:
        unexpected = sum(p.unexpected.values())
        detail = ", ".join(f"{k} x{v}" for k, v in p.unexpected.most_common(4))
        rss = f"{p.rss_start / 1024:.0f} → {p.peak / 1024:.0f} → {p.rss_end / 1024:.0f}"
        note = "; ".join(filter(None, [p.note, detail, f"{p.seconds:.1f} s"]))
        print(f"| {p.name} | {p.requests:,} | {unexpected} | {rss} | {p.fds_end} | {note} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="100 streams and a 10 s soak")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--soak", type=float, default=90.0, help="soak seconds")
    parser.add_argument("--workers", type=int, default=32, help="soak concurrency")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        sys.exit(0)
    if args.quick:
        args.streams, args.soak = 100, 10.0
    report(asyncio.run(main(args.streams, args.soak, args.workers)))
