"""Load run: many concurrent streams over loopback against a fastsse server under uvicorn.

The server runs in its own process (``--serve``, started by this script) with the replay engine
writing, per request, 500 distinct word tokens (" aaa", " aab", ...). The client opens all streams
at once (plain asyncio HTTP/1.1 + fastsse's SSE decoder), records the arrival time of every
content delta, and checks that each stream's deltas are exactly the engine's tokens in order (zero lost or
reordered). Reported: aggregate tokens/s, p50/p99 inter-token latency seen by the clients,
TTFT, and the server's peak memory (VmHWM) against its idle baseline.

    python benches/python/bench_server.py            # 200 streams x 500 tokens, paced and unpaced
    python benches/python/bench_server.py --quick    # 50 streams x 100 tokens
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import string
import subprocess
import sys
import time
from dataclasses import dataclass, field

import fastsse
import httpx
import orjson


def words(count: int) -> list[str]:
    """``count`` distinct one-token words: " aaa", " aab", ..."""
    letters = itertools.product(string.ascii_lowercase, repeat=3)
    return [" " + "".join(next(letters)) for _ in range(count)]


def serve(port: int, rate: float, tokens: int) -> None:
    import uvicorn
    from fastsse.adapters import ReplayAdapter
    from fastsse.server import create_app

    text = "".join(words(tokens))
    adapter = ReplayAdapter(tokens_per_second=rate or None, script=lambda prompt: text)
    app = create_app(adapter, reasoning="think", tools="hermes", model="bench")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int, field_name: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field_name} not found for pid {pid}")


@dataclass
class StreamResult:
    deltas: list[str] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    started: float = 0.0
    finish_reason: str | None = None


async def one_stream(port: int, tokens: int) -> StreamResult:
    """One streamed chat request over a plain asyncio connection.

    The client is kept lean (HTTP/1.1 by hand, fastsse's SSE decoder, orjson) so that the
    run measures the server rather than the client's HTTP library.
    """
    result = StreamResult(started=time.perf_counter())
    body = orjson.dumps(
        {
            "model": "bench",
            "messages": [{"role": "user", "content": "go"}],
            "stream": True,
            "max_tokens": tokens,
        }
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") or b"transfer-encoding: chunked" not in head.lower():
            raise RuntimeError(f"unexpected response head: {head!r}")
        decoder = fastsse.SSEDecoder()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            arrived = time.perf_counter()
            for event in decoder.decode(data[:-2]):
                if event.data == "[DONE]":
                    continue
                choices = orjson.loads(event.data)["choices"]
                if not choices:
                    continue
                delta = choices[0]["delta"].get("content")
                if delta:
                    result.deltas.append(delta)
                    result.arrivals.append(arrived)
                if choices[0].get("finish_reason"):
                    result.finish_reason = choices[0]["finish_reason"]
    finally:
        writer.close()
    return result


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


async def load(port: int, streams: int, tokens: int) -> tuple[list[StreamResult], float]:
    await one_stream(port, 5)  # warm up
    started = time.perf_counter()
    results = await asyncio.gather(*(one_stream(port, tokens) for _ in range(streams)))
    return list(results), time.perf_counter() - started


def run_case(streams: int, tokens: int, rate: float) -> dict[str, object]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--rate", str(rate), "--tokens", str(tokens)]
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base_url}/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.05)
        idle_kib = memory_kib(server.pid, "VmRSS")
        server_cpu = cpu_seconds(server.pid)
        client_cpu = time.process_time()
        results, wall = asyncio.run(load(port, streams, tokens))
        server_cpu = cpu_seconds(server.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
        peak_kib = memory_kib(server.pid, "VmHWM")
        health = httpx.get(f"{base_url}/health").json()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # The words are distinct, so the joined deltas equal the engine's text only when no delta was
    # lost, duplicated or reordered.
    expected = "".join(words(tokens))
    bad = sum(
        1 for r in results if "".join(r.deltas) != expected or r.finish_reason not in ("stop", "length")
    )
    gaps = sorted(b - a for r in results for a, b in itertools.pairwise(r.arrivals))
    ttfts = sorted(r.arrivals[0] - r.started for r in results if r.arrivals)
    delivered = sum(len(r.deltas) for r in results)
    return {
        "streams": streams,
        "tokens": tokens,
        "rate": f"{rate:g}/s" if rate else "unpaced",
        "tokens_per_s": delivered / wall,
        "gap_p50_ms": percentile(gaps, 0.5) * 1000,
        "gap_p99_ms": percentile(gaps, 0.99) * 1000,
        "ttft_p50_ms": statistics.median(ttfts) * 1000,
        "ttft_p99_ms": percentile(ttfts, 0.99) * 1000,
        "idle_mib": idle_kib / 1024,
        "peak_mib": peak_kib / 1024,
        "bad_streams": bad,
        "server_cpu_us_per_token": server_cpu / max(delivered, 1) * 1e6,
        "client_cpu_us_per_token": client_cpu / max(delivered, 1) * 1e6,
        "delivered": delivered,
        "server_parse_ns": health["parse_p50_ns"],
        "server_gap_p50_ms": health["inter_token_p50_ms"],
        "server_gap_p99_ms": health["inter_token_p99_ms"],
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="50 streams x 100 tokens")
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--rate", type=float, default=None, help="engine tokens/s per stream (0: unpaced)")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.rate or 0.0, args.tokens)
        return
    streams, tokens = (50, 100) if args.quick else (args.streams, args.tokens)
    rates = [args.rate] if args.rate is not None else [50.0, 0.0]
    print(
        f"fastsse server load run: {streams} concurrent streams x {tokens} tokens, uvicorn, loopback, "
        f"{os.cpu_count()} CPUs\n"
    )
    print(
        "| engine pace | tokens/s (all streams) | inter-token p50 | p99 | TTFT p50 | p99 "
        "| server RSS idle -> peak | server CPU / token | client CPU / token | lost/reordered |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    failed = False
    lines: list[str] = []
    for rate in rates:
        row = run_case(streams, tokens, rate)
        failed |= bool(row["bad_streams"])
        print(
            f"| {row['rate']} | {row['tokens_per_s']:,.0f} | {row['gap_p50_ms']:.2f} ms "
            f"| {row['gap_p99_ms']:.2f} ms "
            f"| {row['ttft_p50_ms']:.1f} ms | {row['ttft_p99_ms']:.1f} ms | {row['idle_mib']:.0f} -> "
            f"{row['peak_mib']:.0f} MiB | {row['server_cpu_us_per_token']:.0f} µs "
            f"| {row['client_cpu_us_per_token']:.0f} µs | {row['bad_streams']} of {streams} streams |",
            flush=True,
        )
        lines.append(
            f"- {row['rate']}: server-side inter-token gaps p50 {row['server_gap_p50_ms']} ms, "
            f"p99 {row['server_gap_p99_ms']} ms; TextParser {row['server_parse_ns']} ns per token (median); "
            f"wall {row['wall_s']:.1f} s"
        )
    print("\n" + "\n".join(lines))
    if failed:
        sys.exit("some streams lost or reordered deltas")


if __name__ == "__main__":
    main()
