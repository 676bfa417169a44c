"""`GenerationChunk.replace()`: a changed copy that keeps every other field (raw, logprobs and the
reasoning signature included), as `copy.replace` / `dataclasses.replace` do for dataclasses."""

from __future__ import annotations

from pathlib import Path

import fastsse
import pytest
from fastsse import GenerationChunk, ToolCallDelta

DATA = Path(__file__).parent / "data"


def test_replace_keeps_every_other_field() -> None:
    chunk = GenerationChunk(
        "hi",
        reasoning_delta="r",
        reasoning_signature="sig",
        done=True,
        finish_reason="stop",
        prompt_tokens=1,
        completion_tokens=2,
        tool_call_delta=ToolCallDelta(0, "c", "function", "f", "{}"),
        error_code="e",
        error_message="m",
        logprobs=[{"token": "hi"}],
        choice_index=2,
        stop_sequence="END",
        raw='{"x": 1}',
    )
    copy = chunk.replace(text_delta="ho")
    assert copy.text_delta == "ho" and copy == chunk.replace(text_delta="ho")
    for name in (
        "reasoning_signature",
        "finish_reason",
        "tool_call_delta",
        "logprobs",
        "raw",
        "stop_sequence",
    ):
        assert getattr(copy, name) == getattr(chunk, name), name
    assert chunk.replace() == chunk and chunk.replace(finish_reason=None).finish_reason is None
    assert chunk.replace(logprobs=None).logprobs is None


def test_replace_keeps_provider_logprobs_and_checks_names() -> None:
    data = (DATA / "openai-chat" / "chat-content-logprobs.sse").read_bytes()
    chunk = next(c for c in fastsse.iter_chunks(data, "openai") if c.logprobs)
    assert chunk.replace(text_delta="x").logprobs == chunk.logprobs
    with pytest.raises(TypeError, match="colour"):
        chunk.replace(colour="red")
    with pytest.raises(ValueError, match="finish_reason"):
        chunk.replace(finish_reason="over")
