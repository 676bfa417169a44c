"""`snapshot()` on the iterators of `iter_chunks` / `aiter_chunks` (and the native `Collector`):
the `GenerationResult` of what was read so far, equal to `collect()` of those chunks, on every
capture; old snapshots never change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import fastsse
import pytest
from fastsse import GenerationChunk, ToolCallDelta
from provider_fixtures import capture_params
from serving import running_server
from support.fake_upstream import request_body

DATA = Path(__file__).parent / "data"
CAPTURES = capture_params()


@pytest.mark.filterwarnings("error::fastsse.NoEventsMatchedWarning")
@pytest.mark.parametrize(("provider", "path"), CAPTURES)
def test_snapshot_after_every_chunk_equals_collect_so_far(provider: str, path: Path) -> None:
    data = path.read_bytes()
    parts = [data[i : i + 97] for i in range(0, len(data), 97)]
    stream = fastsse.iter_chunks(parts, provider=provider)
    seen: list[GenerationChunk] = []
    snapshots: list[tuple[fastsse.GenerationResult, fastsse.GenerationResult]] = []
    try:
        for chunk in stream:
            seen.append(chunk)
            snapshot = stream.snapshot()
            assert snapshot == fastsse.collect(seen)
            snapshots.append((snapshot, fastsse.collect(seen)))
    except fastsse.ProviderError:
        pass  # a provider error mid-stream: what came before it is the stream under test
    assert stream.snapshot() == fastsse.collect(seen)
    # Snapshots taken earlier still show what they showed (the buffers are append-only).
    for old, expected in snapshots[:: max(1, len(snapshots) // 7)]:
        assert old == expected
        for call, expected_call in zip(old.tool_calls, expected.tool_calls, strict=True):
            assert call.arguments == expected_call.arguments


def test_snapshot_before_reading_is_empty_and_choices_are_kept() -> None:
    stream = fastsse.iter_chunks((DATA / "openai-chat" / "chat-n3-choices.sse").read_bytes(), "openai")
    empty = stream.snapshot()
    assert empty == fastsse.GenerationResult(choices=(fastsse.GenerationResult(),))
    chunks = list(stream)
    final = stream.snapshot()
    assert len(final.choices) == 3
    assert final == fastsse.collect(chunks)
    assert [c.choice_index for c in final.choices] == [0, 1, 2]


def test_async_iterator_snapshot() -> None:
    data = (DATA / "anthropic" / "thinking-tool-use.sse").read_bytes()

    async def main() -> tuple[fastsse.GenerationResult, list[GenerationChunk]]:
        seen = []
        async with fastsse.aiter_chunks([data[:500], data[500:]], provider="anthropic") as stream:
            async for chunk in stream:
                seen.append(chunk)
                assert stream.snapshot() == fastsse.collect(seen)
            return stream.snapshot(), seen

    final, seen = anyio.run(main)
    assert final == fastsse.collect(seen)
    assert final.tool_calls and final.tool_calls[0].complete


def test_collector_counts_other_items_and_compacts() -> None:
    collector = fastsse.Collector()
    collector.add("not a chunk")
    collector.extend(
        [
            GenerationChunk("Hel"),
            GenerationChunk("lo"),
            GenerationChunk(tool_call_delta=ToolCallDelta(0, "c1", "function", "f", '{"a":')),
            GenerationChunk(tool_call_delta=ToolCallDelta(0, None, "function", None, " [1, 2]}")),
            GenerationChunk(done=True, finish_reason="tool_calls", prompt_tokens=3),
        ]
    )
    assert collector.count == 6
    result = collector.snapshot()
    assert result.text == "Hello"
    assert result.tool_calls == [fastsse.ToolCall("c1", "f", '{"a": [1, 2]}', 0)]
    assert result.tool_calls[0].parsed_arguments == {"a": [1, 2]}
    assert fastsse.collect(collector.chunks()) == result


def test_result_replace_and_match() -> None:
    result = fastsse.GenerationResult("hi", finish_reason="stop")
    assert result.replace(text="ho") == fastsse.GenerationResult("ho", finish_reason="stop")
    with pytest.raises(ValueError, match="no field"):
        result.replace(colour="red")
    with pytest.raises(ValueError, match="finish_reason"):
        fastsse.GenerationResult(finish_reason="done")  # type: ignore[arg-type]
    match result:
        case fastsse.GenerationResult(text, reasoning):
            assert (text, reasoning) == ("hi", "")


async def _capture_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if await request_body(scope, receive, send) is None:  # lifespan, served to its shutdown
        return
    body = (DATA / "openai-chat" / "chat-parallel-tool-calls.sse").read_bytes()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
    )
    await send({"type": "http.response.body", "body": body})


def test_client_streams_have_snapshot_too() -> None:
    from fastsse.client import AsyncClient, Client

    with running_server(_capture_app) as url:
        with Client("openai", base_url=url + "/v1", api_key="k") as client:
            stream = client.stream(model="m", prompt="hi")
            assert stream.snapshot() == fastsse.GenerationResult(choices=(fastsse.GenerationResult(),))
            seen = []
            for chunk in stream:
                seen.append(chunk)
                assert stream.snapshot() == fastsse.collect(seen)
            assert len(stream.snapshot().completed_tool_calls) == 2

        async def main() -> fastsse.GenerationResult:
            async with AsyncClient("openai", base_url=url + "/v1", api_key="k") as client:
                async with client.stream(model="m", prompt="hi") as chunks:
                    async for _ in chunks:
                        pass
                    return chunks.snapshot()

        assert anyio.run(main) == fastsse.collect(seen)
