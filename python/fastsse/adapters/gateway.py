"""Gateway mode: forward chat requests to an upstream provider and stream its answer back.

A request that reached the server in the OpenAI Chat Completions or Anthropic Messages form
(already validated into the server's normalized request) is translated into the upstream's
request form by ``fastsse.client`` — messages, system prompt, tools, tool calls and results,
stop sequences, max tokens, temperature / top_p, and thinking — and the upstream's stream is
decoded by fastsse into typed chunks, which the server re-encodes in the client's format (with
resumable streams, the gateway's streams are resumable too).

Thinking is translated between the two forms: Anthropic's ``thinking.budget_tokens`` becomes an
OpenAI ``reasoning_effort`` (up to 4k tokens ``low``, up to 16k ``medium``, else ``high``), and
``reasoning_effort`` becomes a budget of 1024 / 4096 / 16384 tokens (kept below
``max_tokens``, as Anthropic requires).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from .._fastsse import GenerationChunk
from ..client import AsyncChunkStream, AsyncClient, ChatRequest, Message, Tool, ToolCallSpec
from ..client._providers import TOOL_CHOICES
from ..errors import UsageError
from ._base import GenerationAdapter

if TYPE_CHECKING:
    from ..server._requests import ChatRequest as ServerRequest

__all__ = ["UPSTREAM_PROVIDERS", "GatewayAdapter"]

UPSTREAM_PROVIDERS = ("openai", "anthropic", "gemini", "ollama", "openai-responses")

# reasoning_effort <-> Anthropic thinking budget (tokens).
EFFORT_BUDGETS = {"minimal": 1024, "low": 1024, "medium": 4096, "high": 16384}
_EFFORT_CEILINGS = (("low", 4096), ("medium", 16384))
MIN_THINKING_BUDGET = 1024


def effort_for_budget(budget: int) -> str:
    return next((effort for effort, ceiling in _EFFORT_CEILINGS if budget <= ceiling), "high")


def _messages(normalized: list[dict[str, Any]]) -> list[Message]:
    """The server's normalized messages as the client's (tool results get their call's name)."""
    names: dict[str, str] = {}
    out = []
    for message in normalized:
        calls = tuple(
            ToolCallSpec(call["id"], call["name"], orjson.dumps(call["arguments"]).decode())
            for call in message.get("tool_calls") or ()
        )
        names.update((call.id, call.name) for call in calls)
        call_id = message.get("tool_call_id")
        out.append(
            Message(
                message["role"],
                message.get("content") or "",
                calls,
                call_id,
                names.get(call_id) if call_id else None,
                # What the client's assistant turns reasoned, sent back as the upstream wants it.
                reasoning=message.get("reasoning") or "",
                reasoning_signature=message.get("reasoning_signature"),
                redacted_thinking=tuple(message.get("redacted_thinking") or ()),
            )
        )
    return out


def _thinking(body: dict[str, Any], upstream: str, max_tokens: int) -> dict[str, Any]:
    """The upstream's request fields asking for the thinking the client asked for."""
    thinking = body.get("thinking") if isinstance(body.get("thinking"), dict) else None
    effort = body.get("reasoning_effort") if isinstance(body.get("reasoning_effort"), str) else None
    if thinking is not None and thinking.get("type") == "disabled":
        return {}
    if upstream == "anthropic":
        if thinking is not None:
            return {"thinking": thinking}
        if effort in EFFORT_BUDGETS and max_tokens > MIN_THINKING_BUDGET:
            budget = max(min(EFFORT_BUDGETS[effort], max_tokens - 1), MIN_THINKING_BUDGET)
            return {"thinking": {"type": "enabled", "budget_tokens": budget}}
        return {}
    if thinking is not None and effort is None:
        effort = effort_for_budget(int(thinking.get("budget_tokens") or EFFORT_BUDGETS["medium"]))
    if effort is None:
        return {}
    if upstream == "openai":
        return {"reasoning_effort": effort}
    if upstream == "openai-responses":
        return {"reasoning": {"effort": effort}}
    if upstream == "ollama":
        return {"think": True}
    return {}


def _tool_choice(choice: str, upstream: str) -> Any:
    """The server's tool_choice for the upstream, where it has that mode (``active_tools``
    already dropped the tools that "none" or a named choice exclude)."""
    if choice in ("auto", "none"):
        return None
    form = TOOL_CHOICES.get(upstream)
    if choice == "required":
        return "required" if form is not None and form.required is not None else None
    return {"name": choice} if form is not None and form.named is not None else None


class GatewayAdapter(GenerationAdapter):
    """Forwards whole chat requests to ``base_url`` speaking ``provider``'s API.

    ``provider``: one of ``UPSTREAM_PROVIDERS``; ``base_url`` as ``fastsse.client`` takes it
    (OpenAI's ends with ``/v1``); ``model`` replaces the client's model name when set;
    ``api_key`` authenticates upstream. ``http_client`` (an ``httpx.AsyncClient``) is used as
    given; otherwise one is made and closed by :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str,
        provider: str = "openai",
        *,
        model: str | None = None,
        api_key: str | None = None,
        http_client: Any = None,
        timeout: Any = None,
    ) -> None:
        if provider not in UPSTREAM_PROVIDERS:
            raise ValueError(
                f"unknown upstream provider {provider!r}: one of {', '.join(UPSTREAM_PROVIDERS)}"
            )
        self.provider = provider
        self.model = model
        options: dict[str, Any] = {
            "base_url": base_url,
            "api_key": api_key or "none",
            "http_client": http_client,
        }
        if timeout is not None:
            options["timeout"] = timeout
        self._client = AsyncClient(provider, **options)

    def upstream_request(self, request: ServerRequest, body: dict[str, Any]) -> ChatRequest:
        """The client request forwarded upstream for the server's ``request`` (raw ``body``)."""
        max_tokens = int(request.sampling["max_new_tokens"])
        extra: dict[str, Any] = _thinking(body, self.provider, max_tokens)
        if "top_p" in request.sampling and self.provider in ("openai", "anthropic", "openai-responses"):
            extra["top_p"] = request.sampling["top_p"]
        return ChatRequest(
            model=self.model or request.model,
            messages=_messages(request.messages),
            max_tokens=max_tokens,
            temperature=request.sampling.get("temperature"),
            tools=[
                Tool(t["name"], t.get("description") or "", t["parameters"]) for t in request.active_tools
            ],
            stop=list(request.stop),
            extra_body=extra,
            tool_choice=_tool_choice(request.tool_choice, self.provider),
        )

    async def open(self, request: ServerRequest, body: dict[str, Any]) -> AsyncChunkStream:
        """Send the request upstream and wait for its answer's status: the open stream of typed
        chunks (the last one ``done``; closing it stops the upstream). An error status raises
        ``ProviderHTTPError`` before anything is streamed, so the server can answer it in the
        client's error shape; an unreachable upstream raises the HTTP client's error."""
        return await self._client.stream(self.upstream_request(request, body)).open()

    def generate(self, prompt: str, **sampling: Any) -> AsyncIterator[GenerationChunk]:
        raise UsageError("the gateway forwards whole chat requests (chat()), not templated prompts")

    async def aclose(self) -> None:
        await self._client.aclose()
