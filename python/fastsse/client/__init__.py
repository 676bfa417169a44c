"""A thin streaming client: build and send each provider's streaming request, get chunks back.

```python
from fastsse.client import Client, Message

with Client("anthropic", api_key=...) as client:
    with client.stream(model="claude-sonnet-4-5", messages=[Message("user", "Hi")]) as chunks:
        for chunk in chunks:
            print(chunk.text_delta, end="")
```

Providers: ``openai`` (Chat Completions with ``stream_options.include_usage``, and any
OpenAI-compatible server via ``base_url``), ``openai-responses``, ``anthropic``, ``gemini``
(``:streamGenerateContent?alt=sse``), ``ollama`` (``/api/chat``), ``bedrock`` (ConverseStream;
auth by Bedrock API key, pre-signed headers, or ``sigv4_signer()`` when botocore is installed)
and ``tgi`` (``/generate_stream``, raw ``prompt``). The HTTP library is optional at import
time: httpx or httpx2 (sync and async), or an ``aiohttp.ClientSession`` (async).

In a tool loop, ``Message.from_result(result)`` is the assistant turn to append: it carries the
reasoning and its signature back in each provider's form (docs/multi-turn.md).
"""

from __future__ import annotations

from ._aws import sigv4_signer
from ._providers import PROVIDERS, build_request
from ._request import (
    ChatRequest,
    ContentPart,
    HTTPRequest,
    ImagePart,
    Message,
    TextPart,
    Tool,
    ToolCallSpec,
    ToolChoice,
)
from ._retry import RETRY_STATUSES, Retry
from ._transport import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_TIMEOUT,
    ERROR_BODY_LIMIT,
    AsyncChunkStream,
    AsyncClient,
    ChunkStream,
    Client,
    astream,
    stream,
)

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "ERROR_BODY_LIMIT",
    "PROVIDERS",
    "RETRY_STATUSES",
    "AsyncChunkStream",
    "AsyncClient",
    "ChatRequest",
    "ChunkStream",
    "Client",
    "ContentPart",
    "HTTPRequest",
    "ImagePart",
    "Message",
    "Retry",
    "TextPart",
    "Tool",
    "ToolCallSpec",
    "ToolChoice",
    "astream",
    "build_request",
    "sigv4_signer",
    "stream",
]
