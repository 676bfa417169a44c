"""Run Rust criterion benches and print their key numbers as one markdown table.

    python benches/criterion_table.py [--quick] [BENCH ...]     # default: every bench below
    python benches/criterion_table.py --formats text_formats    # one row per tool format

The benches are built first, in one `cargo bench --no-run` (the first time, this compiles the core
and the peers with fat LTO: minutes). Then each runs as `cargo bench --bench NAME --features
bench-peers -- --noplot` (criterion's own report goes to standard error), and every benchmark it
wrote (each `target/criterion/**/new/estimates.json` it created or rewrote) becomes a row: its id,
the median time per iteration, the time per element or the bytes per second (from the throughput
the bench declares), and, where the group has a `fastsse` benchmark on the same parameter, each
other benchmark's time over fastsse's. `--quick` passes criterion's `--quick` (stop once the
estimate is stable: a shorter, noisier run).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRITERION = ROOT / "target" / "criterion"

#: The criterion benches (Cargo.toml `[[bench]]`).
BENCHES = ["sse", "encode", "eventstream", "text", "text_formats", "providers", "harmony"]
#: One feature set for every bench (the peers that text and text_formats compare against), so the
#: fat-LTO library is built once for all of them.
FEATURES = "bench-peers"


@dataclass
class Row:
    bench: str
    group: str
    name: str  # the function id, with its parameter if any
    median_ns: float
    throughput: dict[str, int] | None


def estimate_times() -> dict[Path, int]:
    """Every criterion estimate on disk, with when it was written (ns)."""
    return {path: path.stat().st_mtime_ns for path in CRITERION.glob("**/new/estimates.json")}


def measured_since(bench: str, before: dict[Path, int]) -> list[Row]:
    """The rows of the estimates written since `before` was taken: `bench`'s own, exactly (a time
    window would also catch the previous bench's last estimates)."""
    rows = []
    for estimates, written in sorted(estimate_times().items()):
        if before.get(estimates) == written:
            continue
        info = json.loads((estimates.parent / "benchmark.json").read_text())
        median = json.loads(estimates.read_text())["median"]["point_estimate"]
        name = "/".join(p for p in (info.get("function_id"), info.get("value_str")) if p)
        rows.append(Row(bench, info["group_id"], name or info["group_id"], median, info.get("throughput")))
    return rows


def duration(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def rate(row: Row) -> str:
    if not row.throughput:
        return ""
    if "Elements" in row.throughput:
        return f"{duration(row.median_ns / row.throughput['Elements'])} per element"
    if "Bytes" in row.throughput:
        return f"{row.throughput['Bytes'] / row.median_ns * 1e9 / 2**30:.2f} GiB/s"
    return ""


def table(rows: list[Row]) -> str:
    # A peer's time is compared with fastsse's on the same input: same group, same parameter.
    def case(r: Row) -> tuple[str, str, str]:
        return r.bench, r.group, r.name.partition("/")[2]

    fastsse = {case(r): r for r in rows if r.name.partition("/")[0] == "fastsse"}
    lines = [
        "| bench | group | benchmark | median | throughput | time vs fastsse |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        own = fastsse.get(case(r))
        ratio = f"{r.median_ns / own.median_ns:.1f}x" if own is not None and own is not r else ""
        lines.append(f"| {r.bench} | {r.group} | {r.name} | {duration(r.median_ns)} | {rate(r)} | {ratio} |")
    return "\n".join(lines)


#: The line `benches/text_formats.rs` writes when a peer read a stream wrong (so it has no time).
LEFT_OUT = re.compile(r"^(?P<format>\S+): tool-parser announced .*; left out$", re.M)


def formats_table(rows: list[Row], left_out: Collection[str] = ()) -> str:
    """The `text_formats` bench as one row per format: fastsse per delta, vs hermes, and the peer
    (`left_out`: the formats whose peer parser ran but did not announce the stream's calls)."""
    per_delta: dict[str, dict[str, float]] = {}
    deltas: dict[str, int] = {}
    for r in rows:
        if r.group.startswith("format/") and r.throughput and "Elements" in r.throughput:
            fmt = r.group.removeprefix("format/")
            per_delta.setdefault(fmt, {})[r.name] = r.median_ns / r.throughput["Elements"]
            deltas[fmt] = r.throughput["Elements"]
    hermes = per_delta.get("hermes", {}).get("fastsse")
    lines = [
        "| format | deltas | fastsse ns per delta | vs hermes | tool-parser ns per delta "
        "| fastsse speed-up |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for fmt, times in per_delta.items():
        own = times.get("fastsse")
        if own is None:
            continue
        versus = f"{own / hermes:.2f}x" if hermes else ""
        peer = times.get("tool-parser")
        if peer is not None:
            peer_cells = f"{peer:,.0f} | {peer / own:.1f}x"
        else:
            peer_cells = "no calls announced | " if fmt in left_out else "— | "
        lines.append(f"| {fmt} | {deltas[fmt]} | {own:,.0f} | {versus} | {peer_cells} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("benches", nargs="*", default=BENCHES, choices=BENCHES)
    parser.add_argument("--quick", action="store_true", help="criterion's --quick mode")
    parser.add_argument("--formats", action="store_true", help="the text_formats table, one row per format")
    parser.add_argument("--features", default=FEATURES, help=f"cargo features (default {FEATURES!r})")
    args = parser.parse_args()
    features = ["--features", args.features] if args.features else []
    # Build every bench binary in one cargo call first: their fat-LTO links run in parallel.
    build = ["cargo", "bench", "--no-run", *features, *(f"--bench={bench}" for bench in args.benches)]
    print(f"criterion_table: {' '.join(build)}", file=sys.stderr, flush=True)
    if subprocess.run(build, cwd=ROOT, stdout=sys.stderr).returncode != 0:
        return 1
    rows: list[Row] = []
    left_out: set[str] = set()
    for bench in args.benches:
        before = estimate_times()
        command = ["cargo", "bench", "--bench", bench, *features, "--", "--noplot"]
        if args.quick:
            command.append("--quick")
        print(f"criterion_table: {' '.join(command)}", file=sys.stderr, flush=True)
        # Criterion's report goes to standard error; keep a copy to find the peers left out.
        run = subprocess.run(command, cwd=ROOT, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
        sys.stderr.write(run.stderr)
        if run.returncode != 0:
            return 1
        left_out.update(m["format"] for m in LEFT_OUT.finditer(run.stderr))
        rows += measured_since(bench, before)
    mode = "criterion --quick" if args.quick else "criterion defaults of each bench"
    print(f"Rust core, release (bench) profile, {mode}; medians per iteration.\n")
    print(formats_table(rows, left_out) if args.formats else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
