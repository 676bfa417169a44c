"""The embedded default engine: replays realistic raw model output, token by token.

No network, no weights, no key. It "writes" what a Hermes/Qwen3-style reasoning model writes for
the prompt (see ``_replay_script``) or a script you give it, split into token-like pieces and
paced at a configurable rate. Every generation is recorded in :attr:`ReplayAdapter.records`, so
tests and demos can see when the server closed it and why.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from .._fastsse import GenerationChunk
from ._base import OPTION_DEFAULTS, GenerationAdapter, GenerationOptions
from ._replay_harmony import harmony_from_hermes, is_harmony_model
from ._replay_script import respond

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["GenerationRecord", "ReplayAdapter", "tokenize"]

# Markers a tokenizer keeps whole (special tokens) are split off first; the rest is cut into
# GPT-2-like pieces: a word with its leading space, up to 3 digits, a punctuation or underscore
# run, or whitespace. Every character matches one of these, so the pieces join back into the text.
_SPECIAL = re.compile(
    r"(</?think>|</?tool_call>|</?tool_response>|<\|im_(?:start|end)\|>"
    r"|<\|(?:start|end|message|channel|constrain|call|return)\|>)"  # Harmony (gpt-oss)
)
_PIECE = re.compile(r" ?[^\W\d_]+| ?\d{1,3}| ?[^\s\w]+| ?_+|\s+(?=\s)|\s+")
_SUBWORD = 7  # longer words are cut into pieces of at most this many characters
# The options a generation record keeps (those given, and the defaults of the others).
_RECORDED = ("max_new_tokens", "temperature", "top_p", "seed", "logprobs", "top_logprobs", "response_format")


def tokenize(text: str) -> list[str]:
    """Split text into token-like pieces whose concatenation is ``text``."""
    tokens: list[str] = []
    for position, part in enumerate(_SPECIAL.split(text)):
        if position % 2:  # a special marker
            tokens.append(part)
            continue
        for match in _PIECE.finditer(part):
            piece = match.group(0)
            while len(piece) > _SUBWORD:
                tokens.append(piece[:_SUBWORD])
                piece = piece[_SUBWORD:]
            tokens.append(piece)
    return tokens


@dataclass
class GenerationRecord:
    """One generation as the replay engine saw it."""

    prompt: str
    started_at: float  # time.monotonic()
    tokens_emitted: int = 0
    finished_at: float | None = None
    # "stop" / "length" (ran to its end), "closed" (the consumer closed the iterator early).
    outcome: str | None = None
    # The generation options the server passed besides the prompt (sampling, response_format).
    options: dict[str, Any] = field(default_factory=dict)


class ReplayAdapter(GenerationAdapter):
    """Streams scripted raw text at ``tokens_per_second`` (None: as fast as the consumer reads).

    ``script`` is what to write: a callable ``prompt -> text``, a sequence of texts used in
    turn, or None for the built-in reasoning / prose / tool-call responder. ``first_token_delay``
    adds a prefill pause before the first token. ``model``: the built-in responder writes what
    that model writes; a gpt-oss model writes Harmony (serve it with ``tools="harmony"``).
    """

    def __init__(
        self,
        *,
        tokens_per_second: float | None = 60.0,
        first_token_delay: float = 0.0,
        script: Callable[[str], str] | Sequence[str] | None = None,
        max_records: int = 1000,
        model: str | None = None,
    ) -> None:
        if tokens_per_second is not None and tokens_per_second <= 0:
            raise ValueError(f"tokens_per_second must be positive or None, got {tokens_per_second}")
        self.tokens_per_second = tokens_per_second
        self.first_token_delay = first_token_delay
        self._script = script
        self._turn = 0
        self._max_records = max_records
        self.records: list[GenerationRecord] = []
        self.model = model

    def text_for(self, prompt: str) -> str:
        """The full raw output this engine writes for ``prompt``."""
        if self._script is None:
            text = respond(prompt)
            return harmony_from_hermes(text) if is_harmony_model(self.model) else text
        if callable(self._script):
            return self._script(prompt)
        text = self._script[self._turn % len(self._script)]
        self._turn += 1
        return text

    def count_tokens(self, text: str) -> int:
        return len(tokenize(text))

    def _record(self, prompt: str) -> GenerationRecord:
        record = GenerationRecord(prompt=prompt, started_at=time.monotonic())
        self.records.append(record)
        if len(self.records) > self._max_records:
            del self.records[: len(self.records) - self._max_records]
        return record

    async def generate(
        self, prompt: str, **options: Unpack[GenerationOptions]
    ) -> AsyncIterator[GenerationChunk]:
        # Sampling parameters do not change a replay (they are recorded); stop strings are
        # honoured like an engine does (the text before the earliest match, finish reason
        # "stop"); logprobs, when asked, say each token was certain (the replay is).
        settings: dict[str, Any] = {**OPTION_DEFAULTS, **options}
        stop, max_new_tokens = settings.get("stop"), settings["max_new_tokens"]
        logprobs, top_logprobs = settings["logprobs"], settings.get("top_logprobs")
        text = self.text_for(prompt)
        if stop:
            cut = min((at for at in (text.find(s) for s in stop if s) if at >= 0), default=-1)
            if cut >= 0:
                text = text[:cut]
        tokens = tokenize(text)
        finish = "stop"
        if len(tokens) > max_new_tokens:
            tokens, finish = tokens[:max_new_tokens], "length"
        record = self._record(prompt)
        record.options = {key: settings[key] for key in _RECORDED if settings.get(key) is not None}
        interval = 1.0 / self.tokens_per_second if self.tokens_per_second else 0.0
        try:
            if self.first_token_delay:
                await anyio.sleep(self.first_token_delay)
            start = time.monotonic()
            for position, token in enumerate(tokens):
                # Pace against an absolute schedule so sleep overshoot does not accumulate.
                delay = start + position * interval - time.monotonic()
                await anyio.sleep(delay if delay > 0 else 0)
                record.tokens_emitted += 1
                yield GenerationChunk(
                    token,
                    is_first=position == 0,
                    logprobs=_certain(token, top_logprobs) if logprobs else None,
                )
            record.outcome = finish
            yield GenerationChunk(
                done=True,
                finish_reason=finish,  # type: ignore[arg-type]
                prompt_tokens=self.count_tokens(prompt),
                completion_tokens=len(tokens),
            )
        finally:
            if record.outcome is None:
                record.outcome = "closed"
            record.finished_at = time.monotonic()


def _certain(token: str, top_logprobs: int | None) -> list[dict[str, Any]]:
    """OpenAI logprob entries for a token the engine was sure of (log probability 0)."""
    entry: dict[str, Any] = {"token": token, "logprob": 0.0, "bytes": list(token.encode())}
    return [{**entry, "top_logprobs": [entry] if top_logprobs else []}]
