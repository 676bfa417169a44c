"""The official `openai` / `anthropic` SDKs, one line away from fastsse's decoding speed.

```python
client = fastsse.accelerate(openai.OpenAI())        # or AsyncOpenAI, Anthropic, AsyncAnthropic
for chunk in client.chat.completions.create(model=..., messages=..., stream=True):
    print(chunk.choices[0].delta.content or "", end="")
```

`accelerate(client)` returns an object that answers like `client`. Requests still go through the
SDK (its auth, base URL, headers, retries, timeouts and HTTP client); the streaming calls' bytes
are decoded by fastsse into views shaped like the SDK's models (see `ShapedObject`; Anthropic's
deltas are native views made by the binding, all listed in `VIEW_TYPES`):

- OpenAI: `chat.completions.create(..., stream=True)` yields `ChatCompletionChunk`-shaped views.
- Anthropic: `messages.create(..., stream=True)` yields raw-stream-event-shaped views;
  `messages.stream(...)` enters a helper with `text_stream`, event iteration,
  `get_final_message()` (the SDK's own `ParsedMessage`, built once at the end) and
  `get_final_text()`.

Everything else (non-streaming calls, other resources) is the SDK's, untouched. The views are not
pydantic models: `isinstance(chunk, ChatCompletionChunk)` is False, while attribute reads,
`model_dump()`, `to_dict()` and `to_json()` give what the SDK gives for the same bytes.
"""

from __future__ import annotations

from typing import Any

from ._native import NATIVE_VIEWS
from ._shape import ShapedObject

__all__ = ["VIEW_TYPES", "ShapedObject", "accelerate"]

#: Every class an accelerated stream's items belong to: `ShapedObject`, and the binding's native
#: views of the Anthropic deltas (named after the SDK classes they are shaped like).
VIEW_TYPES: tuple[type, ...] = (ShapedObject, *NATIVE_VIEWS)


def _sdk_classes(client: Any) -> tuple[str, bool] | None:
    """("openai" | "anthropic", is_async) for an SDK client, else None."""
    package = type(client).__module__.partition(".")[0]
    if package == "openai":
        import openai

        if isinstance(client, openai.AsyncOpenAI):
            return package, True
        if isinstance(client, openai.OpenAI):
            return package, False
    elif package == "anthropic":
        import anthropic

        if isinstance(client, anthropic.AsyncAnthropic):
            return package, True
        if isinstance(client, anthropic.Anthropic):
            return package, False
    return None


def accelerate(client: Any) -> Any:
    """A client like `client` whose streaming calls fastsse decodes (see the module doc)."""
    found = _sdk_classes(client)
    if found is None:
        raise TypeError(
            "fastsse.accelerate() takes an openai.OpenAI, openai.AsyncOpenAI, anthropic.Anthropic or "
            f"anthropic.AsyncAnthropic client, got {type(client).__module__}.{type(client).__qualname__}"
        )
    package, is_async = found
    if package == "openai":
        from ._openai import accelerate_openai

        return accelerate_openai(client, is_async)
    from ._anthropic import accelerate_anthropic

    return accelerate_anthropic(client, is_async)
