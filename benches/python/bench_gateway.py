"""What the gateway costs: CPU and latency per chunk it adds between a client and an upstream.

A fake upstream (its own process, uvicorn) replays a recorded stream, one event per write. The
client (this process, plain asyncio HTTP/1.1 and fastsse's decoders, so it costs little) reads
it three ways: **direct** (decoding the upstream's own format), through **fastsse serve
--upstream-provider** (re-encoded as OpenAI Chat Completions), and through **LiteLLM's proxy**
(``litellm --config``) when it is installed: ``--litellm PATH`` to its executable, else the one
``make bench`` installs in ``.venv-litellm/``, else ``litellm`` on ``PATH``.

* latency: the upstream paces its events (``--gap``) and records when it wrote each one; the
  client records when each text / reasoning delta arrived. Per delta, arrival minus the write
  of the upstream event carrying it (one clock: ``CLOCK_MONOTONIC`` is system-wide on Linux);
  streams are read one at a time, so nothing queues. Added = path's median minus direct's.
* CPU: the upstream unpaced, ``--concurrency`` streams at once for ``--rounds`` rounds; the
  gateway process's user + system CPU time over the deltas it relayed.

Interleaved: the cases run in rounds, each round every path once; medians over rounds.

    python benches/python/bench_gateway.py                 # with LiteLLM if it is found
    python benches/python/bench_gateway.py --litellm /path/to/litellm
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import fastsse
import httpx
import orjson

ROOT = Path(__file__).parents[2]
TESTS = ROOT / "tests"
#: Where `make bench` installs LiteLLM: a venv of its own, since its pins fight the dev dependencies.
BENCH_LITELLM = ROOT / ".venv-litellm" / "bin" / "litellm"
sys.path.insert(0, str(TESTS))
from bench_server import cpu_seconds, percentile  # noqa: E402
from support.processes import free_port, wait_until  # noqa: E402

# (upstream provider, capture, base URL suffix, LiteLLM model prefix)
UPSTREAMS = [
    ("openai", "openai-chat/chat-json-response-format-long.sse", "/v1", "openai/gpt-4o-mini"),
    ("anthropic", "anthropic/thinking-signature-text.sse", "", "anthropic/claude-sonnet-4-20250514"),
]


def serve_upstream(port: int, capture: str, gap: float) -> None:
    import uvicorn
    from support.fake_upstream import FakeUpstream

    app = FakeUpstream(TESTS / "data" / capture, piece=0, gap=gap)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


NATIVE_PATHS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}


@dataclass
class Route:
    """One way from the client to the upstream: where to POST, the format that comes back."""

    name: str
    port: int
    path: str
    provider: str  # the wire format the client decodes
    model: str = "m"
    pid: int | None = None  # the gateway's process (None: direct)


# LiteLLM offline: its bundled model price map, no telemetry.
# The client sends KEY to every path (the fake upstream and fastsse ignore it; LiteLLM requires a
# master key).
KEY = "sk-bench-5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5"
LITELLM_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_TELEMETRY": "False",
    "LITELLM_LOG": "ERROR",
    "LITELLM_MASTER_KEY": KEY,
}


def start(command: list[str], url: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}
    )

    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited: {process.communicate()[1].decode()[-2000:]}")
        try:
            return httpx.get(url, timeout=1).status_code < 500
        except httpx.TransportError:
            return False

    wait_until(healthy, f"{' '.join(command[:3])} start", timeout=120)
    return process


async def chunked_body(port: int, path: str, body: bytes) -> AsyncIterator[bytes]:
    """POST ``body`` and yield the response body's pieces as they arrive (HTTP/1.1, chunked)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST %s HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
            b"authorization: Bearer %s\r\nanthropic-version: 2023-06-01\r\n"
            b"content-length: %d\r\n\r\n%s" % (path.encode(), KEY.encode(), len(body), body)
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") or b"chunked" not in head.lower():
            raise RuntimeError(f"unexpected response head: {head[:300]!r}")
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                return
            yield data[:-2]
    finally:
        writer.close()


async def one_stream(route: Route) -> list[float]:
    """Arrival times of the stream's text and reasoning deltas, in order."""
    decoder = fastsse.ChunkDecoder(route.provider)
    body = {
        "model": route.model,
        "messages": [{"role": "user", "content": "go"}],
        "stream": True,
        "max_tokens": 4000,
    }
    arrivals: list[float] = []
    async for piece in chunked_body(route.port, route.path, orjson.dumps(body)):
        now = time.monotonic()
        arrivals.extend(now for chunk in decoder.decode(piece) if chunk.text_delta or chunk.reasoning_delta)
    decoder.flush()
    return arrivals


def delta_events(provider: str, capture: str) -> list[int]:
    """For each text / reasoning delta of the capture, the index of the upstream event holding it."""
    from support.fake_upstream import FakeUpstream

    decoder = fastsse.ChunkDecoder(provider)
    owners: list[int] = []
    for index, piece in enumerate(FakeUpstream(TESTS / "data" / capture, piece=0).pieces):
        owners.extend(index for chunk in decoder.decode(piece) if chunk.text_delta or chunk.reasoning_delta)
    return owners


async def latencies(route: Route, upstream_port: int, owners: list[int], streams: int) -> list[float]:
    """Per delta: its arrival minus the upstream's write of the event holding it."""
    out: list[float] = []
    async with httpx.AsyncClient() as http:
        for _ in range(streams):
            arrivals = await one_stream(route)
            sent = (await http.get(f"http://127.0.0.1:{upstream_port}/")).json()
            if len(arrivals) != len(owners):
                raise RuntimeError(
                    f"{route.name}: {len(arrivals)} deltas arrived, the capture has {len(owners)}"
                )
            out.extend(arrived - sent[owner] for arrived, owner in zip(arrivals, owners, strict=True))
    return out


async def load(route: Route, concurrency: int) -> int:
    results = await asyncio.gather(*(one_stream(route) for _ in range(concurrency)))
    return sum(map(len, results))


def launch(
    processes: list[subprocess.Popen[bytes]],
    upstream: tuple[str, str, str, str],
    gap: float,
    litellm: str | None,
) -> tuple[list[Route], int]:
    """Start a fake upstream pacing its events ``gap`` apart and the gateways in front of it;
    returns the routes (direct first) and the upstream's port."""
    provider, capture, suffix, litellm_model = upstream
    upstream_port = free_port()
    command = [
        sys.executable,
        __file__,
        "--serve-upstream",
        str(upstream_port),
        "--capture",
        capture,
        "--gap",
        str(gap),
    ]
    processes.append(start(command, f"http://127.0.0.1:{upstream_port}/"))
    upstream_url = f"http://127.0.0.1:{upstream_port}{suffix}"
    routes = [Route("direct", upstream_port, NATIVE_PATHS[provider], provider)]
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "fastsse",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--upstream",
        upstream_url,
        "--upstream-provider",
        provider,
    ]
    processes.append(start(command, f"http://127.0.0.1:{port}/health"))
    routes.append(Route("fastsse gateway", port, "/v1/chat/completions", "openai", pid=processes[-1].pid))
    if litellm:
        port = free_port()
        config = Path(tempfile.mkdtemp(prefix="bench-litellm-")) / "config.yaml"
        config.write_text(
            "model_list:\n  - model_name: up\n    litellm_params:\n"
            f"      model: {litellm_model}\n      api_base: {upstream_url}\n      api_key: k\n"
        )
        command = [litellm, "--config", str(config), "--port", str(port), "--num_workers", "1"]
        processes.append(start(command, f"http://127.0.0.1:{port}/health/liveliness", LITELLM_ENV))
        routes.append(Route("LiteLLM proxy", port, "/v1/chat/completions", "openai", "up", processes[-1].pid))
    return routes, upstream_port


def run_upstream(upstream: tuple[str, str, str, str], args: argparse.Namespace) -> list[str]:
    provider, capture = upstream[:2]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        paced, paced_port = launch(processes, upstream, args.gap, args.litellm)
        unpaced, _ = launch(processes, upstream, 0.0, args.litellm)
        owners = delta_events(provider, capture)
        for route in paced + unpaced:  # warm every path up (imports, first connections)
            asyncio.run(load(route, 2))
        latency: dict[str, list[float]] = {route.name: [] for route in paced}
        cpu: dict[str, list[float]] = {route.name: [] for route in unpaced[1:]}
        for _ in range(args.rounds):  # interleaved: every path once per round
            for route in paced:
                latency[route.name] += asyncio.run(latencies(route, paced_port, owners, args.streams))
            for route in unpaced[1:]:
                assert route.pid is not None
                before = cpu_seconds(route.pid)
                deltas = asyncio.run(load(route, args.concurrency))
                cpu[route.name].append((cpu_seconds(route.pid) - before) / deltas * 1e6)
        direct = statistics.median(latency["direct"])
        fastsse_cpu = statistics.median(cpu["fastsse gateway"])
        lines = []
        for route in paced:
            values = sorted(latency[route.name])
            median = statistics.median(values)
            added = "" if route.name == "direct" else f"+{(median - direct) * 1e3:.2f} ms"
            route_cpu = statistics.median(cpu[route.name]) if route.name in cpu else None
            ratio = f"{route_cpu / fastsse_cpu:.1f}x" if route_cpu and route.name != "fastsse gateway" else ""
            p99 = percentile(values, 0.99)
            lines.append(
                f"| {provider} → openai | {route.name} | {median * 1e3:.2f} ms | {p99 * 1e3:.2f} ms "
                f"| {added} | {'—' if route_cpu is None else f'{route_cpu:.0f} µs'} | {ratio} |"
            )
        return lines
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds and streams")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--streams", type=int, default=5, help="sequential streams per round (latency)")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent streams per round (CPU)")
    parser.add_argument(
        "--gap", type=float, default=0.005, help="seconds between the paced upstream's events"
    )
    found = str(BENCH_LITELLM) if BENCH_LITELLM.exists() else shutil.which("litellm")
    parser.add_argument("--litellm", default=found, help="LiteLLM's executable")
    parser.add_argument("--serve-upstream", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--capture", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_upstream:
        serve_upstream(args.serve_upstream, args.capture, args.gap)
        return
    if args.quick:
        args.rounds, args.streams, args.concurrency = 2, 2, 20
    peers = "fastsse gateway and LiteLLM proxy" if args.litellm else "fastsse gateway (LiteLLM not installed)"
    print(
        f"gateway cost: {peers} vs direct; upstream = fake replaying a capture, one event per write, "
        f"{args.gap * 1e3:g} ms apart (latency) or unpaced x {args.concurrency} streams (CPU); "
        f"{args.rounds} interleaved rounds; {os.cpu_count()} CPUs\n"
    )
    print(
        "| upstream → client | path | latency per delta p50 | p99 | added p50 | gateway CPU per delta "
        "| vs fastsse |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for upstream in UPSTREAMS:
        for line in run_upstream(upstream, args):
            print(line, flush=True)


if __name__ == "__main__":
    main()
