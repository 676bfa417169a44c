"""From unified chunks to response bytes, per API.

Chat Completions and Messages use the Rust encoders (``fastsse.Encoder`` for streams,
``fastsse.encode_response`` for whole bodies). The raw-text ``/v1/completions`` route, which
exists so one fastsse server can be another's upstream engine, is encoded here: its chunks are
plain text and a finish reason.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from .. import _fastsse
from .._fastsse import GenerationChunk
from ._requests import ChatRequest
from ._streaming import EncoderLike

__all__ = ["TextCompletionEncoder", "envelope", "response_body", "stream_encoder", "text_completion_body"]


# The response id's prefix in each wire format.
ID_PREFIXES = {"openai": "chatcmpl-", "anthropic": "msg_", "openai-responses": "resp_", "vercel-ui": "msg_"}


def envelope(request: ChatRequest, *, prompt_tokens: int | None, reasoning_field: str) -> dict[str, Any]:
    """Identifiers and options fixed for one response (``fastsse.encode``'s keywords)."""
    prefix = ID_PREFIXES[request.wire_format]
    fields: dict[str, Any] = {
        "id": prefix + uuid.uuid4().hex[:24],
        "model": request.model,
        "created": int(time.time()),
        "include_usage": request.include_usage,
        "prompt_tokens": prompt_tokens,
    }
    if request.wire_format == "openai":
        fields["reasoning_field"] = reasoning_field
    return {**fields, **request.envelope}


def stream_encoder(request: ChatRequest, fields: dict[str, Any]) -> EncoderLike:
    encoder: EncoderLike = _fastsse.Encoder(request.wire_format, **fields)  # type: ignore[arg-type]
    return encoder


def response_body(request: ChatRequest, chunks: list[GenerationChunk], fields: dict[str, Any]) -> bytes:
    body: bytes = _fastsse.encode_response(chunks, request.wire_format, **fields)  # type: ignore[arg-type]
    return body


# --- /v1/completions -------------------------------------------------------------------------


def _finish_reason(chunk: GenerationChunk) -> str:
    reason = chunk.finish_reason or "stop"
    # The completions API knows stop / length / content_filter; an aborted request says "abort"
    # as vLLM does.
    return {"tool_calls": "stop", "cancelled": "abort"}.get(reason, reason)


class TextCompletionEncoder:
    """``text_completion`` SSE events: one per batch of text, a finish event, usage, [DONE]."""

    def __init__(self, *, id: str, model: str, created: int, include_usage: bool) -> None:
        self._head = {"id": id, "object": "text_completion", "created": created, "model": model}
        self._include_usage = include_usage
        self._usage: dict[str, int] | None = None

    def _event(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        return b"data: " + orjson.dumps({**self._head, "choices": choices, **extra}) + b"\n\n"

    def encode(self, chunks: list[GenerationChunk]) -> bytes:
        text = "".join(chunk.text_delta + chunk.reasoning_delta for chunk in chunks)
        out = []
        if text:
            out.append(self._event([{"index": 0, "text": text, "logprobs": None, "finish_reason": None}]))
        for chunk in chunks:
            if chunk.done and chunk.finish_reason == "error":
                error = {"message": chunk.error_message or "generation failed", "type": "server_error"}
                out.append(b"data: " + orjson.dumps({"error": {**error, "code": chunk.error_code}}) + b"\n\n")
            if chunk.done:
                out.append(
                    self._event(
                        [{"index": 0, "text": "", "logprobs": None, "finish_reason": _finish_reason(chunk)}]
                    )
                )
                prompt, completion = chunk.prompt_tokens or 0, chunk.completion_tokens or 0
                self._usage = {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                }
        return b"".join(out)

    def finish(self) -> bytes:
        usage = b""
        if self._include_usage and self._usage is not None:
            usage = self._event([], usage=self._usage)
        return usage + b"data: [DONE]\n\n"


def text_completion_body(chunks: list[GenerationChunk], *, id: str, model: str, created: int) -> bytes:
    text = "".join(chunk.text_delta + chunk.reasoning_delta for chunk in chunks)
    terminal = chunks[-1]
    prompt, completion = terminal.prompt_tokens or 0, terminal.completion_tokens or 0
    return orjson.dumps(
        {
            "id": id,
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": [
                {"index": 0, "text": text, "logprobs": None, "finish_reason": _finish_reason(terminal)}
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }
    )
