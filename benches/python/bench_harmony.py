"""gpt-oss Harmony through Python: `fastsse.TextParser(tools="harmony")` side by side with
openai-harmony's `StreamableParser` (the parser vLLM and SGLang run for gpt-oss).

    python benches/python/bench_harmony.py [--quick]

One realistic gpt-oss answer (analysis, a commentary preamble, two function calls) is fed one
token at a time, as an engine hands it over: openai-harmony gets the token id and is asked for
the channel, recipient and content delta (what a server reads after every token); fastsse gets
the same id (`decode_tokens`) or the token's text (`decode`) and returns chunks, whose fields are
read. Both run in the same process, interleaved, outputs checked equal first; medians.
openai-harmony loads its o200k vocabulary from the tiktoken-rs crate (no download).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastsse
from _harness import Result, table

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from harmony_vocabulary import load_encoding

REASONING = (
    "The user wants the weather in Paris and the Louvre's opening hours. I should call get_weather "
    "with the city and a unit; they write from France, so celsius is the natural choice. For the "
    "opening hours a web search is better than guessing, because museums change their schedules "
    "on holidays. Two independent calls, so I can make them in parallel."
)
STREAM = (
    f"<|channel|>analysis<|message|>{REASONING}<|end|>"
    "<|start|>assistant<|channel|>commentary<|message|>Let me look up both at once.<|end|>"
    "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
    '{"city": "Paris", "unit": "celsius"}<|call|>'
    "<|start|>assistant<|channel|>commentary to=functions.search_web <|constrain|>json<|message|>"
    '{"query": "Louvre opening hours today", "max_results": 5}'
)


def run_oracle(harmony: Any, encoding: Any, ids: list[int]) -> dict[str, Any]:
    parser = harmony.StreamableParser(encoding, role=harmony.Role.ASSISTANT)
    view: dict[str, Any] = {"text": "", "reasoning": "", "calls": {}}
    for token in ids:
        parser.process(token)
        delta = parser.last_content_delta
        recipient = parser.current_recipient
        channel = parser.current_channel
        if not delta:
            continue
        if recipient and recipient.startswith("functions."):
            view["calls"][len(parser.messages)] = view["calls"].get(len(parser.messages), "") + delta
        elif recipient or channel == "analysis":
            view["reasoning"] += delta
        else:
            view["text"] += delta
    parser.process_eos()
    return view


def run_oracle_process_only(harmony: Any, encoding: Any, ids: list[int]) -> int:
    """The floor of the peer: process() alone, no field read (a server cannot stream like this)."""
    parser = harmony.StreamableParser(encoding, role=harmony.Role.ASSISTANT)
    for token in ids:
        parser.process(token)
    parser.process_eos()
    return len(parser.messages)


def consume(chunks: list[fastsse.GenerationChunk], view: dict[str, Any]) -> None:
    for chunk in chunks:
        view["text"] += chunk.text_delta
        view["reasoning"] += chunk.reasoning_delta
        call = chunk.tool_call_delta
        if call is not None:
            view["calls"][call.index] = view["calls"].get(call.index, "") + call.arguments_delta


def run_tokens(ids: list[int]) -> dict[str, Any]:
    parser = fastsse.TextParser(tools="harmony")
    view: dict[str, Any] = {"text": "", "reasoning": "", "calls": {}}
    for token in ids:
        consume(parser.decode_tokens([token]), view)
    consume(parser.flush(), view)
    return view


def run_text(pieces: list[str]) -> dict[str, Any]:
    parser = fastsse.TextParser(tools="harmony")
    view: dict[str, Any] = {"text": "", "reasoning": "", "calls": {}}
    for piece in pieces:
        consume(parser.decode(piece), view)
    consume(parser.flush(), view)
    return view


def summary(view: dict[str, Any]) -> tuple[str, str, list[Any]]:
    return view["text"], view["reasoning"], [json.loads(a) for a in view["calls"].values()]


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--quick", action="store_true")
    args = options.parse_args()
    loaded = load_encoding()
    if isinstance(loaded, str):
        print(f"skipped: {loaded}")
        return
    harmony, encoding = loaded
    ids = encoding.encode(STREAM, allowed_special="all")
    pieces = [encoding.decode([token]) for token in ids]
    assert "".join(pieces) == STREAM
    runs: dict[str, Callable[[], Any]] = {
        "fastsse": lambda: run_tokens(ids),
        "fastsse decode(text)": lambda: run_text(pieces),
        "openai-harmony": lambda: run_oracle(harmony, encoding, ids),
    }
    expected = summary(runs["openai-harmony"]())
    for name, fn in runs.items():
        assert summary(fn()) == expected, name
    runs["openai-harmony process() only"] = lambda: run_oracle_process_only(harmony, encoding, ids)
    repeat = 30 if args.quick else 300
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):  # interleaved: every round times each implementation once
        for name, fn in runs.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    case = f"gpt-oss answer, {len(ids)} tokens one at a time"
    results = [Result(case, name, statistics.median(t), len(ids)) for name, t in times.items()]
    print(f"Python {platform.python_version()}, {platform.machine()}, {repeat} interleaved rounds\n")
    print(table(results))


if __name__ == "__main__":
    main()
