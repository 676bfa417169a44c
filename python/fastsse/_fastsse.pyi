# Type stubs for the native module (checked by `python -m mypy.stubtest fastsse._fastsse`).
from collections.abc import Iterable
from typing import Any, ClassVar, Literal, final

from typing_extensions import Buffer

__version__: str

FinishReason = Literal["stop", "length", "cancelled", "tool_calls", "content_filter", "error"]

# --- framing -------------------------------------------------------------------------------

@final
class ServerSentEvent:
    __match_args__: ClassVar[tuple[str, ...]]
    def __new__(
        cls,
        event: str | None = None,
        data: str | None = None,
        id: str | None = None,
        retry: int | None = None,
    ) -> ServerSentEvent: ...
    @property
    def event(self) -> str: ...
    @property
    def data(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def retry(self) -> int | None: ...
    def json(self) -> Any: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SSEDecoder:
    def __new__(cls, *, max_event_size: int = ..., dispatch_unterminated: bool = False) -> SSEDecoder: ...
    def decode(self, data: Buffer) -> list[ServerSentEvent]: ...
    def flush(self) -> list[ServerSentEvent]: ...
    @property
    def last_event_id(self) -> str: ...
    @property
    def retry(self) -> int | None: ...
    @property
    def max_event_size(self) -> int: ...

@final
class NDJSONDecoder:
    def __new__(cls, *, max_line_size: int = ...) -> NDJSONDecoder: ...
    def decode(self, data: Buffer) -> list[str]: ...
    def flush(self) -> list[str]: ...
    @property
    def max_line_size(self) -> int: ...

# --- unified chunks ------------------------------------------------------------------------

@final
class ToolCallDelta:
    __match_args__: ClassVar[tuple[str, ...]]
    def __new__(
        cls,
        index: int,
        id: str | None = None,
        type: Literal["function"] = "function",
        function_name: str | None = None,
        arguments_delta: str = ...,
    ) -> ToolCallDelta: ...
    @property
    def index(self) -> int: ...
    @property
    def id(self) -> str | None: ...
    @property
    def type(self) -> Literal["function"]: ...
    @property
    def function_name(self) -> str | None: ...
    @property
    def arguments_delta(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class GenerationChunk:
    __match_args__: ClassVar[tuple[str, ...]]
    def __new__(
        cls,
        text_delta: str = ...,
        *,
        reasoning_delta: str = ...,
        reasoning_signature: str | None = None,
        refusal_delta: str = ...,
        done: bool = False,
        is_first: bool = False,
        finish_reason: FinishReason | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        tool_call_delta: ToolCallDelta | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        logprobs: Any = None,
        choice_index: int = 0,
        stop_sequence: str | None = None,
        raw: str | None = None,
    ) -> GenerationChunk: ...
    @property
    def text_delta(self) -> str: ...
    @property
    def reasoning_delta(self) -> str: ...
    @property
    def reasoning_signature(self) -> str | None: ...
    @property
    def refusal_delta(self) -> str: ...
    @property
    def done(self) -> bool: ...
    @property
    def is_first(self) -> bool: ...
    @property
    def finish_reason(self) -> FinishReason | None: ...
    @property
    def prompt_tokens(self) -> int | None: ...
    @property
    def completion_tokens(self) -> int | None: ...
    @property
    def tool_call_delta(self) -> ToolCallDelta | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def logprobs(self) -> Any: ...
    @property
    def choice_index(self) -> int: ...
    @property
    def stop_sequence(self) -> str | None: ...
    @property
    def raw(self) -> str | None: ...
    def raw_json(self) -> Any: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

# --- providers (pipeline: bytes -> provider reducer -> unified chunks) ----------------------

PROVIDERS: tuple[str, ...]

@final
class ChunkDecoder:
    def __new__(
        cls, provider: str, *, content_type: str | None = None, max_event_size: int = ...
    ) -> ChunkDecoder: ...
    def decode(self, data: Buffer) -> list[GenerationChunk]: ...
    def flush(self) -> list[GenerationChunk]: ...
    @property
    def provider(self) -> str: ...
    @property
    def max_event_size(self) -> int: ...
    @property
    def json_body(self) -> bool: ...

def provider_capabilities(name: str) -> dict[str, Any]: ...

# --- encode: GenerationChunks -> OpenAI / Anthropic wire bytes ------------------------------

EncodeFormat = Literal["openai", "anthropic"]
ReasoningField = Literal["reasoning_content", "reasoning"]

@final
class Encoder:
    def __new__(
        cls,
        format: EncodeFormat = "openai",
        *,
        id: str | None = None,
        model: str = "",
        created: int | None = None,
        system_fingerprint: str | None = None,
        include_usage: bool = False,
        reasoning_field: ReasoningField = "reasoning_content",
        prompt_tokens: int | None = None,
        ping: bool = False,
    ) -> Encoder: ...
    def encode(self, chunks: Iterable[GenerationChunk]) -> bytes: ...
    def finish(self) -> bytes: ...
    @property
    def format(self) -> EncodeFormat: ...
    @property
    def id(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def created(self) -> int: ...
    @property
    def finished(self) -> bool: ...

def encode(
    chunks: Iterable[GenerationChunk],
    format: EncodeFormat = "openai",
    *,
    id: str | None = None,
    model: str = "",
    created: int | None = None,
    system_fingerprint: str | None = None,
    include_usage: bool = False,
    reasoning_field: ReasoningField = "reasoning_content",
    prompt_tokens: int | None = None,
    ping: bool = False,
) -> bytes: ...
def encode_response(
    chunks: Iterable[GenerationChunk],
    format: EncodeFormat = "openai",
    *,
    id: str | None = None,
    model: str = "",
    created: int | None = None,
    system_fingerprint: str | None = None,
    include_usage: bool = False,
    reasoning_field: ReasoningField = "reasoning_content",
    prompt_tokens: int | None = None,
    ping: bool = False,
) -> bytes: ...
