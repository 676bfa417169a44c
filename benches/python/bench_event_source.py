"""``fastsse.server.EventSourceResponse`` against sse-starlette's: events/s and CPU per event.

Both responses stream the same async generator of N events, in two setups:

* **in process**: the response called as an ASGI app whose ``send`` only counts bytes, so the
  figure is the response's own cost (encoding, task switches, sends); one CPU, so CPU per event
  is the process's CPU time over N;
* **over loopback**: one Starlette app with both endpoints under uvicorn in its own process;
  this script reads each stream with a plain socket to the end; events/s is N over the wall
  time seen by the client, CPU per event the *server* process's CPU time (/proc) over N.

Items, per case: ``JSON dicts`` (an OpenAI-style chunk; fastsse takes the dict, sse-starlette
gets ``{"data": orjson.dumps(chunk).decode()}``, its fastest usual form) and ``typed events``
(``ServerSentEvent(event=..., id=..., data=...)`` of each library), and ``JSON dicts, one at a
time``: the generator awaits ``asyncio.sleep(0)`` after each item, as a model's tokens arrive, so
fastsse's response finds one event waiting per send instead of a batch. Every round runs every case
with both implementations back to back, alternating which goes first; the table shows medians
of the rounds and the same-run ratio. Each stream's event count is checked.

    python benches/python/bench_event_source.py            # 20,000 events, 7 rounds
    python benches/python/bench_event_source.py --quick    # 5,000 events, 3 rounds
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import fastsse
import orjson
import sse_starlette
from fastsse.server import EventSourceResponse as FastResponse
from sse_starlette import EventSourceResponse as PeerResponse
from sse_starlette import ServerSentEvent as PeerEvent

IMPLEMENTATIONS = ("fastsse", "sse-starlette")
CASES = ("JSON dicts", "typed events", "JSON dicts, one at a time")


def chunk(i: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": f" token{i}"}, "finish_reason": None}],
    }


def items(impl: str, case: str, n: int) -> AsyncIterator[Any]:
    """The async generator a user's endpoint would return, in each library's form."""
    one_at_a_time = case == "JSON dicts, one at a time"

    def item(i: int) -> Any:
        if case == "typed events":
            cls = fastsse.ServerSentEvent if impl == "fastsse" else PeerEvent
            return cls(event="delta", id=str(i), data=f" token{i}")
        return chunk(i) if impl == "fastsse" else {"data": orjson.dumps(chunk(i)).decode()}

    async def generate() -> AsyncIterator[Any]:
        for i in range(n):
            yield item(i)
            if one_at_a_time:  # the way model tokens come: the loop runs between two of them
                await asyncio.sleep(0)

    return generate()


def response(impl: str, case: str, n: int) -> Any:
    cls = FastResponse if impl == "fastsse" else PeerResponse
    return cls(items(impl, case, n))


def count_events(body: bytes) -> int:
    return body.replace(b"\r\n", b"\n").count(b"\n\n")  # sse-starlette ends lines with CRLF


# --- in process -------------------------------------------------------------------------


async def in_process(impl: str, case: str, n: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) to stream n events into a counting ``send``."""
    never = asyncio.Event()
    events = 0

    async def receive() -> dict[str, Any]:
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal events
        events += count_events(message.get("body", b""))

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    started, cpu = time.perf_counter(), time.process_time()
    await response(impl, case, n)(scope, receive, send)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if events != n:
        raise AssertionError(f"{impl} / {case}: {events} events, expected {n}")
    return wall, cpu


# --- over loopback ----------------------------------------------------------------------


def serve(port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    async def endpoint(request: Request) -> Any:
        impl, case = request.path_params["impl"], CASES[int(request.query_params["case"])]
        return response(impl, case, int(request.query_params["n"]))

    app = Starlette(routes=[Route("/{impl}", endpoint)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def over_loopback(port: int, pid: int, impl: str, case: str, n: int) -> tuple[float, float]:
    """(wall seconds at the client, server CPU seconds) for one stream of n events."""
    request = f"GET /{impl}?case={CASES.index(case)}&n={n} HTTP/1.0\r\nHost: bench\r\n\r\n"
    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    parts = []
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(request.encode())
        while part := connection.recv(1 << 20):
            parts.append(part)
    wall = time.perf_counter() - started
    time.sleep(0.05)  # the server finishes its bookkeeping for the request
    cpu = cpu_seconds(pid) - cpu
    events = count_events(b"".join(parts).partition(b"\r\n\r\n")[2])
    if events != n:
        raise AssertionError(f"{impl} / {case} over loopback: {events} events, expected {n}")
    return wall, cpu


def start_server() -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bench server did not start") from None
            time.sleep(0.05)


# --- the run ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    n, rounds = (5_000, 3) if args.quick else (20_000, 7)
    samples: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    server, port = start_server()
    try:
        for impl in IMPLEMENTATIONS:  # warm up both paths once
            for case in CASES:
                asyncio.run(in_process(impl, case, 1000))
                over_loopback(port, server.pid, impl, case, 1000)
        for round_number in range(rounds):
            order = IMPLEMENTATIONS if round_number % 2 == 0 else IMPLEMENTATIONS[::-1]
            for case in CASES:
                for impl in order:
                    key = ("in process", case, impl)
                    samples.setdefault(key, []).append(asyncio.run(in_process(impl, case, n)))
                for impl in order:
                    key = ("over loopback (uvicorn)", case, impl)
                    samples.setdefault(key, []).append(over_loopback(port, server.pid, impl, case, n))
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; "
        f"fastsse {fastsse.__version__}, sse-starlette {sse_starlette.__version__}; "
        f"{n:,} events per stream, medians of {rounds} interleaved rounds\n"
    )
    print("| setup | items | implementation | events/s | CPU per event | fastsse speed-up (CPU) |")
    print("|---|---|---|---:|---:|---:|")
    for setup, case, impl in sorted(
        samples, key=lambda k: (k[0], CASES.index(k[1]), IMPLEMENTATIONS.index(k[2]))
    ):
        runs = samples[setup, case, impl]
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        fast_cpu = statistics.median(c for _, c in samples[setup, case, "fastsse"])
        ratio = f"{cpu / fast_cpu:.1f}x" if impl != "fastsse" and fast_cpu > 0 else ""
        print(f"| {setup} | {case} | {impl} | {n / wall:,.0f} | {cpu / n * 1e6:.2f} µs | {ratio} |")


if __name__ == "__main__":
    main()
