"""Merging runs of small text / reasoning / refusal deltas: the sans-IO core of ``coalesce_text``."""

from __future__ import annotations

from .._fastsse import GenerationChunk

__all__ = ["Coalescer"]


class Coalescer:
    """Merges runs of small text / reasoning / refusal deltas into chunks of ``min_chars``.

    ``push(chunk) -> list``, ``flush() -> list``. Only chunks that carry one kind of delta
    (plus, optionally, running usage counts) are merged, and only with neighbours of the same
    kind and ``choice_index``; a tool-call delta, a finish reason, the done chunk, an error,
    logprobs, a stop sequence or a reasoning signature first releases what is pending, then
    passes through unchanged.
    Order is preserved. A merged chunk has ``raw=None``; a run of one is passed through as is.
    """

    def __init__(self, min_chars: int) -> None:
        if min_chars < 1:
            raise ValueError(f"min_chars must be at least 1, got {min_chars}")
        self.min_chars = min_chars
        self._run: list[GenerationChunk] = []
        self._pieces: list[str] = []  # the run's deltas (one kind per run)
        self._run_kind = ""
        self._run_chars = 0
        self._prompt_tokens: int | None = None
        self._completion_tokens: int | None = None

    @staticmethod
    def _classify(chunk: GenerationChunk) -> tuple[str, str] | None:
        """``(kind, delta)``: kind ``"text"``, ``"reasoning"``, ``"refusal"`` or ``""`` (no
        delta); None for a chunk that is never merged. Each field is read once (a native read)."""
        if (
            chunk.tool_call_delta is not None
            or chunk.done
            or chunk.finish_reason is not None
            or chunk.error_message is not None
            or chunk.error_code is not None
            or chunk.stop_sequence is not None
            or chunk.logprobs is not None
            or chunk.reasoning_signature is not None
        ):
            return None
        text = chunk.text_delta
        reasoning = chunk.reasoning_delta
        refusal = chunk.refusal_delta
        if text:
            return None if reasoning or refusal else ("text", text)
        if reasoning:
            return None if refusal else ("reasoning", reasoning)
        return ("refusal", refusal) if refusal else ("", "")

    @classmethod
    def _kind(cls, chunk: GenerationChunk) -> str | None:
        classified = cls._classify(chunk)
        return None if classified is None else classified[0]

    def push(self, chunk: GenerationChunk) -> list[GenerationChunk]:
        classified = self._classify(chunk)
        if classified is None:
            out = self._release()
            out.append(chunk)
            return out
        kind, delta = classified
        out = []
        run = self._run
        if run and (
            (kind and self._run_kind and kind != self._run_kind) or chunk.choice_index != run[0].choice_index
        ):
            out = self._release()
            run = self._run
        run.append(chunk)
        if kind:
            self._run_kind = kind
            self._pieces.append(delta)
            self._run_chars += len(delta)
        prompt_tokens = chunk.prompt_tokens
        if prompt_tokens is not None:  # running totals: the latest value wins
            self._prompt_tokens = prompt_tokens
        completion_tokens = chunk.completion_tokens
        if completion_tokens is not None:
            self._completion_tokens = completion_tokens
        if self._run_chars >= self.min_chars:
            out.extend(self._release())
        return out

    def flush(self) -> list[GenerationChunk]:
        return self._release()

    def _release(self) -> list[GenerationChunk]:
        run, kind, pieces = self._run, self._run_kind, self._pieces
        prompt_tokens, completion_tokens = self._prompt_tokens, self._completion_tokens
        self._run, self._pieces, self._run_kind, self._run_chars = [], [], "", 0
        self._prompt_tokens = self._completion_tokens = None
        if len(run) <= 1:
            return run
        merged = "".join(pieces)
        first = run[0]
        return [
            GenerationChunk(
                merged if kind == "text" else "",
                reasoning_delta=merged if kind == "reasoning" else "",
                refusal_delta=merged if kind == "refusal" else "",
                is_first=first.is_first,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                choice_index=first.choice_index,
            )
        ]
