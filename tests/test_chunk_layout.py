"""`GenerationChunk` layout: small (rare fields out of line), untracked by the cyclic GC when
made by the core, and the same Python API for every field (docs/chunks.md)."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastsse
from fastsse import GenerationChunk, ToolCallDelta

DATA = Path(__file__).parent / "data"

# Half of the 368 bytes a chunk took before the rare fields moved out of line.
MAX_CHUNK_BYTES = 184


def _openai_chunks() -> list[GenerationChunk]:
    data = (DATA / "openai-chat" / "chat-content-logprobs.sse").read_bytes()
    return list(fastsse.iter_chunks(data, "openai"))


def test_a_chunk_takes_at_most_184_bytes() -> None:
    for chunk in [GenerationChunk("hi"), *_openai_chunks()]:
        assert sys.getsizeof(chunk) <= MAX_CHUNK_BYTES


def test_core_chunks_are_not_tracked_by_the_cyclic_gc() -> None:
    chunks = _openai_chunks()
    assert chunks and not any(gc.is_tracked(chunk) for chunk in chunks)
    with_logprobs = next(chunk for chunk in chunks if chunk.logprobs)
    assert isinstance(with_logprobs.logprobs, tuple)  # parsed from its own JSON: still untracked
    assert not gc.is_tracked(with_logprobs)
    assert not gc.is_tracked(with_logprobs.replace(text_delta="x"))


class _Holder:
    chunk: GenerationChunk


def test_python_objects_keep_a_chunk_collectable() -> None:
    made: list[Callable[[_Holder], GenerationChunk]] = [
        lambda holder: GenerationChunk("x").replace(logprobs=[holder]),
        lambda holder: GenerationChunk("x", citations=[holder]),
    ]
    for make in made:
        # Chunks dropped here go to the freelist: the next ones are reused objects.
        del _openai_chunks()[:], [GenerationChunk(str(i)) for i in range(300)][:]
        holder = _Holder()
        chunk = make(holder)
        assert gc.is_tracked(chunk)
        assert not gc.is_tracked(GenerationChunk("plain", logprobs=None))
        holder.chunk = chunk  # a cycle through the chunk's Python objects
        gone = weakref.ref(holder)
        del holder, chunk
        gc.collect()
        assert gone() is None


def test_rare_fields_read_back_and_compare() -> None:
    values: dict[str, Any] = {
        "reasoning_signature": "sig",
        "redacted_thinking": "EqkECkYIBxgCKkA8",
        "refusal_delta": "no",
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "error_code": "e",
        "error_message": "m",
        "stop_sequence": "END",
    }
    plain = GenerationChunk("t", tool_call_delta=ToolCallDelta(1, "c", "function", "f", "{"))
    for name, value in values.items():
        chunk = plain.replace(**{name: value})
        assert getattr(chunk, name) == value and chunk != plain
        assert chunk == GenerationChunk("t", tool_call_delta=plain.tool_call_delta, **{name: value})
        assert f"{name}={value!r}" in repr(chunk)
        assert getattr(plain, name) in (None, "")


def test_citations_are_a_tuple_kept_by_replace() -> None:
    citation = {"type": "web_search_result_location", "url": "https://example.com", "cited_text": "x"}
    chunk = GenerationChunk(citations=[citation])
    assert chunk.citations == (citation,) and chunk.logprobs is None
    assert chunk.replace(text_delta="y").citations == (citation,)
    assert chunk.replace(citations=None).citations is None
    assert chunk != GenerationChunk() and GenerationChunk().citations is None
    assert "citations=({'type'" in repr(chunk)
