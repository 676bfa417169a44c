"""An engine behind an OpenAI-compatible ``/v1/completions`` endpoint (vLLM, SGLang, llama.cpp,
TGI's OpenAI layer, or another fastsse server), read as raw text.

The completions endpoint returns the model's text as written — markers included — so the
server's worker can split reasoning and tool calls itself. Closing the iterator closes the HTTP
response, which is how those engines learn to abort the request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from .._fastsse import GenerationChunk
from .._sse import aiter_sse
from ..errors import ProviderError
from ._base import OPTION_DEFAULTS, GenerationAdapter, GenerationOptions

if TYPE_CHECKING:
    from typing import Unpack

    import httpx

    from .._fastsse import FinishReason

__all__ = ["OpenAICompatibleAdapter"]

_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "eos": "stop",
    "length": "length",
    "abort": "cancelled",
    "content_filter": "content_filter",
    "error": "error",
}


class OpenAICompatibleAdapter(GenerationAdapter):
    """Proxy generations to ``{base_url}/completions`` with ``stream: true``.

    ``base_url`` ends with ``/v1`` (as in the OpenAI SDK). ``model`` is sent as the request's
    model; ``extra_body`` is merged into every request (engine-specific options). Pass your
    own ``httpx.AsyncClient`` to control pooling and timeouts; otherwise one is created and
    closed by :meth:`aclose`. Needs ``httpx`` (the ``fastsse[httpx]`` extra).
    """

    def __init__(
        self,
        base_url: str,
        *,
        model: str = "default",
        api_key: str | None = None,
        extra_body: dict[str, Any] | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 600.0,
    ) -> None:
        import httpx

        self.url = base_url.rstrip("/") + "/completions"
        self.model = model
        self.extra_body = dict(extra_body or {})
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=10.0))
        self._headers = headers

    def _request_body(self, prompt: str, max_new_tokens: int, **params: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": max_new_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.pop("logprobs", False):
            # The completions API takes the number of alternatives as `logprobs`.
            body["logprobs"] = params.pop("top_logprobs", None) or 0
        params.pop("top_logprobs", None)
        if not params.get("stop"):  # an empty list: no stop strings
            params.pop("stop", None)
        body.update({key: value for key, value in params.items() if value is not None})
        body.update(self.extra_body)
        return body

    async def generate(
        self, prompt: str, **options: Unpack[GenerationOptions]
    ) -> AsyncIterator[GenerationChunk]:
        settings: dict[str, Any] = {**OPTION_DEFAULTS, **options}
        body = self._request_body(prompt, **settings)
        async with self._client.stream(
            "POST",
            self.url,
            content=orjson.dumps(body),
            headers={
                **self._headers,
                "content-type": "application/json",
                "accept": "text/event-stream",
            },
        ) as response:
            if response.status_code != 200:
                raw = (await response.aread()).decode("utf-8", "replace")
                raise _upstream_error(response.status_code, raw)
            finish: FinishReason | None = None
            prompt_tokens = completion_tokens = None
            first = True
            events = aiter_sse(response)
            try:
                async for event in events:
                    if event.data == "[DONE]":
                        break
                    payload = orjson.loads(event.data)
                    if not isinstance(payload, dict):
                        continue
                    if "error" in payload:
                        raise _upstream_error(200, event.data)
                    usage = payload.get("usage")
                    if isinstance(usage, dict):
                        prompt_tokens = usage.get("prompt_tokens", prompt_tokens)
                        completion_tokens = usage.get("completion_tokens", completion_tokens)
                    for choice in payload.get("choices") or ():
                        text = choice.get("text") or ""
                        if text:
                            entries = _chat_logprobs(choice.get("logprobs"))
                            yield GenerationChunk(text, is_first=first, logprobs=entries)
                            first = False
                        reason = choice.get("finish_reason")
                        if reason is not None:
                            finish = _FINISH_REASONS.get(reason, "stop")
            finally:
                await events.aclose()
        yield GenerationChunk(
            done=True,
            finish_reason=finish or "stop",
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _chat_logprobs(value: Any) -> list[dict[str, Any]] | None:
    """The completions API's logprobs (parallel ``tokens`` / ``token_logprobs`` /
    ``top_logprobs`` lists) as Chat Completions token entries."""
    if not isinstance(value, dict) or not value.get("tokens"):
        return None

    def entry(token: str, logprob: Any) -> dict[str, Any]:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    logprobs = value.get("token_logprobs") or []
    tops = value.get("top_logprobs") or []
    entries = []
    for position, token in enumerate(value["tokens"]):
        top = tops[position] if position < len(tops) and isinstance(tops[position], dict) else {}
        logprob = logprobs[position] if position < len(logprobs) else None
        entries.append(
            {
                **entry(token, logprob),
                "top_logprobs": [entry(alternative, value) for alternative, value in top.items()],
            }
        )
    return entries


def _upstream_error(status: int, raw: str) -> ProviderError:
    message, code = raw, None
    try:
        body = orjson.loads(raw)
        error = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(error, dict):
            message = str(error.get("message", raw))
            code = error.get("type") or error.get("code")
    except orjson.JSONDecodeError:
        pass
    return ProviderError(
        f"upstream completions endpoint failed (HTTP {status}): {message}",
        code=None if code is None else str(code),
        provider_message=message,
        raw=raw,
        status_code=status,
    )
