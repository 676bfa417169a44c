"""The generation adapter contract (seeds/002): an engine's raw token stream as chunks.

An adapter turns a prompt into an async iterator of :class:`~fastsse.GenerationChunk`s: zero or
more delta chunks whose ``text_delta`` is the engine's raw output text (markers such as
``<think>`` or ``<tool_call>`` included; the server's worker parses them), then exactly one
terminal chunk with ``done=True``, a ``finish_reason`` and the token counts when known.

Closing the iterator (``aclose()``, or cancelling the task that drives it) must stop the
engine's work for that request; an ``async def`` generator gets this for free when it does its
engine clean-up in ``finally``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, TypedDict

from .._fastsse import GenerationChunk

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["OPTION_DEFAULTS", "GenerationAdapter", "GenerationOptions"]


class _Always(TypedDict):
    max_new_tokens: int


class GenerationOptions(_Always, total=False):
    """The keyword arguments of :meth:`GenerationAdapter.generate`: ``max_new_tokens`` always, the
    others when the request set them (a missing ``temperature`` or ``top_p`` means 1.0, a missing
    ``logprobs`` False, any other None)."""

    temperature: float
    top_p: float
    stop: list[str] | None
    frequency_penalty: float | None
    presence_penalty: float | None
    top_k: int | None
    repetition_penalty: float | None
    seed: int | None
    logit_bias: dict[str, float] | None
    logprobs: bool
    top_logprobs: int | None
    response_format: dict[str, Any] | None


#: What an option the server left out means (any other missing option means None), as above.
OPTION_DEFAULTS: dict[str, Any] = {"temperature": 1.0, "top_p": 1.0, "logprobs": False}


class GenerationAdapter(ABC):
    """Base class of generation engines served by :func:`fastsse.server.create_app`.

    Subclasses implement :meth:`generate` as an ``async def`` generator that ``yield``\\ s
    chunks. :meth:`count_tokens` and :meth:`aclose` are optional.
    """

    @abstractmethod
    def generate(self, prompt: str, **options: Unpack[GenerationOptions]) -> AsyncIterator[GenerationChunk]:
        """Stream the raw output for ``prompt`` (chat template already applied).

        Yields delta chunks (``text_delta`` = raw model text), then one terminal chunk
        (``done=True``, ``finish_reason`` of ``stop`` / ``length`` / ``cancelled`` / ``error``,
        ``prompt_tokens`` / ``completion_tokens`` when the engine knows them). Closing the
        iterator must cancel the request in the engine.

        ``options`` are the :class:`GenerationOptions`; an implementation may take them as
        ``**options`` or spell them out as keyword parameters.
        The server passes ``logprobs`` / ``top_logprobs`` and ``response_format`` (OpenAI's
        ``json_object`` / ``json_schema`` object, for an engine that constrains its output) only
        when the request asked for them. An engine that reports logprobs sets each delta
        chunk's ``logprobs`` to the OpenAI token entries of its text (``[{"token", "logprob",
        "bytes", "top_logprobs"}]``); the server hands them on with that text.
        """

    def count_tokens(self, text: str) -> int | None:
        """Tokens in ``text`` for this engine, or None when the adapter cannot tell.

        The server uses it to report prompt tokens up front (Anthropic ``message_start``) and
        usage when a request ends before the engine's terminal chunk (stop string, cancel).
        """
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release the adapter's resources (connections, engine handles). Default: nothing."""
