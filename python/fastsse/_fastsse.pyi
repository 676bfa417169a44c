# Type stubs for the native module (checked by `python -m mypy.stubtest fastsse._fastsse`).
import datetime
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Literal, TypeAlias, TypeVar, final

from typing_extensions import Buffer

__version__: str

def build_info() -> dict[str, Any]: ...

FinishReason = Literal["stop", "length", "cancelled", "tool_calls", "content_filter", "error"]

_Item = TypeVar("_Item")

class _Decoder(Generic[_Item]):
    """What every incremental decoder has: ``decode`` per network chunk, ``flush`` at the end."""

    def decode(self, data: Buffer) -> list[_Item]: ...
    def flush(self) -> list[_Item]: ...

class _Value:
    """What the frozen value classes share: positional pattern matching and ``==`` by value."""

    __match_args__: ClassVar[tuple[str, ...]]
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...

# --- framing -------------------------------------------------------------------------------

@final
class ServerSentEvent(_Value):
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
    def __hash__(self) -> int: ...

@final
class SSEDecoder(_Decoder[ServerSentEvent]):
    def __new__(cls, *, max_event_size: int = ..., dispatch_unterminated: bool = False) -> SSEDecoder: ...
    @property
    def last_event_id(self) -> str: ...
    @property
    def retry(self) -> int | None: ...
    @property
    def max_event_size(self) -> int: ...

def encode_sse(events: Iterable[ServerSentEvent | str | Any]) -> bytes: ...

@final
class NDJSONDecoder(_Decoder[str]):
    def __new__(cls, *, max_line_size: int = ...) -> NDJSONDecoder: ...
    @property
    def max_line_size(self) -> int: ...

# --- unified chunks ------------------------------------------------------------------------

@final
class ToolCallDelta(_Value):
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
    def __hash__(self) -> int: ...

@final
class GenerationChunk(_Value):
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
        redacted_thinking: str | None = None,
        citations: Any = None,
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
    @property
    def redacted_thinking(self) -> str | None: ...
    @property
    def citations(self) -> Any: ...
    def raw_json(self) -> Any: ...
    def replace(self, **changes: Any) -> GenerationChunk: ...
    def __replace__(self, **changes: Any) -> GenerationChunk: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

# --- providers (pipeline: bytes -> provider reducer -> unified chunks) ----------------------

PROVIDERS: tuple[str, ...]

@final
class ChunkDecoder(_Decoder[GenerationChunk]):
    def __new__(
        cls,
        provider: str,
        *,
        content_type: str | None = None,
        max_event_size: int = ...,
    ) -> ChunkDecoder: ...
    @property
    def provider(self) -> str: ...
    @property
    def max_event_size(self) -> int: ...
    @property
    def json_body(self) -> bool: ...

def provider_capabilities(name: str) -> dict[str, Any]: ...

# --- collect: chunks -> GenerationResult, at any point of the stream --------------------------

@final
class Collector:
    def __new__(cls) -> Collector: ...
    def add(self, item: object) -> None: ...
    def extend(self, items: Iterable[object]) -> None: ...
    @property
    def count(self) -> int: ...
    def snapshot(self) -> GenerationResult: ...
    def result(self) -> GenerationResult: ...
    def chunks(self) -> list[GenerationChunk]: ...
    def through(self, chunks: list[Any]) -> CollectingIterator: ...

@final
class CollectingIterator:
    def __iter__(self) -> CollectingIterator: ...
    def __next__(self) -> Any: ...

# --- stream stages: the native part of fastsse.streams ----------------------------------------

@final
class Coalescer:
    def __new__(cls, min_chars: int) -> Coalescer: ...
    @property
    def min_chars(self) -> int: ...
    def push(self, chunk: GenerationChunk) -> tuple[GenerationChunk, ...]: ...
    def flush(self) -> tuple[GenerationChunk, ...]: ...

@final
class Coalesced:
    def __new__(cls, upstream: Iterable[GenerationChunk], min_chars: int) -> Coalesced: ...
    def __iter__(self) -> Coalesced: ...
    def __next__(self) -> GenerationChunk: ...

@final
class ToolCall(_Value):
    def __new__(
        cls, id: str | None, name: str | None, arguments: str, index: int = 0, *, complete: bool = True
    ) -> ToolCall: ...
    @property
    def id(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def arguments(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def complete(self) -> bool: ...
    @property
    def parsed_arguments(self) -> Any: ...

@final
class GenerationResult(_Value):
    def __new__(
        cls,
        text: str = "",
        reasoning: str = "",
        tool_calls: Iterable[ToolCall] | None = None,
        finish_reason: FinishReason | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        refusal: str = "",
        stop_sequence: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        reasoning_signature: str | None = None,
        choice_index: int = 0,
        choices: Iterable[GenerationResult] | None = None,
        redacted_thinking: Iterable[str] | None = None,
        citations: Iterable[Any] | None = None,
    ) -> GenerationResult: ...
    @property
    def text(self) -> str: ...
    @property
    def reasoning(self) -> str: ...
    @property
    def refusal(self) -> str: ...
    @property
    def tool_calls(self) -> list[ToolCall]: ...
    @property
    def completed_tool_calls(self) -> list[ToolCall]: ...
    @property
    def finish_reason(self) -> FinishReason | None: ...
    @property
    def prompt_tokens(self) -> int | None: ...
    @property
    def completion_tokens(self) -> int | None: ...
    @property
    def stop_sequence(self) -> str | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def reasoning_signature(self) -> str | None: ...
    @property
    def choice_index(self) -> int: ...
    @property
    def choices(self) -> tuple[GenerationResult, ...]: ...
    @property
    def redacted_thinking(self) -> tuple[str, ...]: ...
    @property
    def citations(self) -> tuple[Any, ...]: ...
    def replace(self, **changes: Any) -> GenerationResult: ...
    def __replace__(self, **changes: Any) -> GenerationResult: ...

# --- encode: GenerationChunks -> OpenAI / Anthropic / Responses / AI SDK UI wire bytes -------

EncodeFormat = Literal["openai", "anthropic", "openai-responses", "vercel-ui"]
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
        reasoning_summary: bool = False,
        response_fields: Mapping[str, Any] | None = None,
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
    reasoning_summary: bool = False,
    response_fields: Mapping[str, Any] | None = None,
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
    reasoning_summary: bool = False,
    response_fields: Mapping[str, Any] | None = None,
) -> bytes: ...

# --- AWS eventstream framing (Bedrock) -------------------------------------------------------

_HeaderValue: TypeAlias = bool | int | bytes | str | datetime.datetime | uuid.UUID

@final
class EventStreamMessage(_Value):
    def __new__(
        cls, headers: dict[str, _HeaderValue] | None = None, payload: Buffer | None = None
    ) -> EventStreamMessage: ...
    @property
    def headers(self) -> dict[str, _HeaderValue]: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def event_type(self) -> str | None: ...
    @property
    def message_type(self) -> str | None: ...
    def json(self) -> Any: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class EventStreamDecoder(_Decoder[EventStreamMessage]):
    def __new__(cls, *, max_message_size: int = ...) -> EventStreamDecoder: ...
    @property
    def max_message_size(self) -> int: ...

# --- text parsers (raw model text -> chunks) -----------------------------------------------

def formats_for_model(name: str) -> tuple[str | None, str | None]:
    """``(tools, reasoning)`` names for a model name such as "Qwen/Qwen3-Coder-30B-A3B-Instruct":
    patterns matched case-insensitively after the organisation prefix, the longest winning;
    ``(None, None)`` for unknown names."""

@final
class TextParser:
    """Split raw model text into answer text, reasoning and tool calls; cut it at stop strings.

    Feed text as it arrives with ``decode()``; ``flush()`` at the end of generation releases what
    is still held back and ends with the only ``done=True`` chunk. Only the longest suffix that
    may still grow into a marker or stop string is held back (ordinary text leaves in the same
    call); every character is looked at once; output never depends on how the text was split.

    * ``stop``: a str or a list of non-empty str. The output ends at the stop string that
      completes earliest (ties: the one listed first); ``include_stop`` keeps it; nothing after
      it is emitted, whatever arrives later (``stopped`` turns True: stop generating). Stop
      strings are matched in answer text only - never inside reasoning, a tool call or a marker
      - so a stop string never cuts a call; the final chunk carries ``stop_sequence``.
    * ``reasoning``: a name from ``REASONING_FORMATS``: "think" (``<think>...</think>``),
      "deepseek-r1" / "qwen3" / "olmo3" / "nemotron" / "step3" / "deepseek-v3.1" / "ernie45" ...
      (output starts inside reasoning; a leading ``<think>`` is dropped), "mistral" (``[THINK]``),
      "seed-oss", "kimi" (``◁think▷``), "cohere" (``<|START_RESPONSE|>`` markers dropped too),
      "gemma4" (``<|channel>thought``), "hunyuan" (``<answer>`` dropped), "minimax-m2"
      (append-think: reasoning and markers stay in the text), "granite" (plain phrases), "cot"
      (prompted chain of thought: reasoning until "Answer:" or "Therefore:"). Or custom markers:
      ``reasoning_start`` (none: the output starts inside reasoning) and ``reasoning_end`` (one or
      several). Markers are dropped; reasoning text goes to ``reasoning_delta``. A tool-call
      opener inside open reasoning ends it and starts the call (prose that merely names the
      opener, never becoming a call, stays reasoning).
    * ``tools``: a name from ``TOOL_FORMATS``: "hermes" (``<tool_call>{json}</tool_call>``),
      "qwen3-coder" (``<function=f><parameter=k>v``, also Seed-OSS), "mistral" (``[TOOL_CALLS]``
      v13, v11 and the JSON array), "llama3-json" (optional ``<|python_tag|>``; else only when
      the answer starts with ``{``), "pythonic" (``[f(a=1)]`` when the answer starts with ``[``,
      or in Llama 4 / Olmo 3 / LFM2 markers), "deepseek-v3" (V3 and V3.1), "kimi-k2" (the model's
      ``functions.f:0`` id is forwarded), "glm-4.5" (4.5 to 4.7). Each call gets one index, an id
      and its name on its first delta only; arguments follow as JSON text in ``arguments_delta``
      as they arrive: the model's own JSON passed through, checked once in a single pass; XML
      formats build JSON as they go, typing values with ``tool_schemas`` - the request's
      ``tools`` list (OpenAI shape; Anthropic ``input_schema`` also read); a value without a
      schema type stays a string, except in "glm-4.5" / "glm-4.7" / "minimax-m2", which read
      it as JSON when it is JSON (as vLLM and smg do).
    * Malformed calls never raise. A call whose name was never established (not a call after
      all, or cut off before the name) is given back as text, as the model wrote it. After its
      first delta, a problem adds one chunk with ``error_code`` ("tool_call_invalid",
      "tool_call_incomplete", "tool_call_too_large") and an ``error_message`` with the call
      index, name and character offsets; deltas already sent stand.
    * ``tools="harmony"`` or ``reasoning="harmony"`` (either or both): gpt-oss Harmony, decoded with
      its special tokens kept. ``analysis`` goes to ``reasoning_delta``; ``final`` and a
      ``commentary`` preamble to ``text_delta`` (stop strings apply there); ``to=functions.NAME``
      is a call whose JSON streams as it arrives (complete at end of stream without ``<|call|>``).
      A header that cannot be read adds a chunk with ``error_code`` "harmony_header_invalid" (or
      "harmony_header_too_large", past 512 bytes) and its content stays text.
      ``decode_tokens(ids)`` takes gpt-oss token ids instead of text (the o200k_harmony
      vocabulary is built in: nothing is downloaded).
    * ``max_buffer_size`` caps what a call may hold back (raw text before its name is known, a
      typed value); a call that outgrows it is given back as text or flagged as too large.
    * ``flush(finish_reason)``: the engine's reason; a matched stop makes it "stop", and "stop"
      becomes "tool_calls" when calls were emitted.
    """

    TOOL_FORMATS: ClassVar[tuple[str, ...]]
    REASONING_FORMATS: ClassVar[tuple[str, ...]]
    @classmethod
    def for_model(cls, name: str, **options: Any) -> TextParser:
        """A parser for the formats the model ``name`` writes (``formats_for_model``);
        ``options`` are constructor arguments and override them."""
    def __new__(
        cls,
        *,
        stop: str | Sequence[str] | None = None,
        include_stop: bool = False,
        reasoning: str | None = None,
        tools: str | None = None,
        reasoning_start: str | Sequence[str] | None = None,
        reasoning_end: str | Sequence[str] | None = None,
        tool_schemas: Sequence[Mapping[str, Any]] | None = None,
        max_buffer_size: int = ...,
    ) -> TextParser: ...
    @classmethod
    def from_response_template(
        cls,
        template: Mapping[str, Any] | str | os.PathLike[str],
        *,
        prefix: str | None = None,
        stop: str | Sequence[str] | None = None,
        include_stop: bool = False,
        tool_schemas: Sequence[Mapping[str, Any]] | None = None,
        max_buffer_size: int = ...,
    ) -> TextParser:
        """A parser for the format a Hugging Face response template declares.

        ``template``: the ``response_template`` dict, JSON text (a template or a whole tokenizer
        config), or a path to a ``tokenizer_config.json`` or the checkpoint directory holding one.
        Its ``thinking`` field becomes the reasoning markers, ``tool_calls`` the closest tool-call
        grammar with the template's markers, an explicit ``content`` field's delimiters are
        removed and a leftover ``content`` field's close markers end the output (stop strings,
        after the caller's ``stop``). ``prefix`` is the prompt: when its last assistant turn
        left reasoning open, the output starts inside reasoning. What markers cannot express is
        refused with ``ResponseTemplateError`` (``field``, ``key``); see docs/formats.md.
        """
    def decode(self, text: str) -> list[GenerationChunk]: ...
    def decode_tokens(self, ids: Sequence[int]) -> list[GenerationChunk]: ...
    def flush(self, finish_reason: FinishReason = "stop") -> list[GenerationChunk]: ...
    @property
    def stopped(self) -> bool: ...
    @property
    def stop_sequence(self) -> str | None: ...
    @property
    def tool_call_count(self) -> int: ...

def _panic_for_tests(message: str) -> None:
    """Test hook: panics inside the core's guard; raises ``fastsse.InternalError``."""

# --- SDK-shaped views (fastsse.sdk: accelerate(anthropic.Anthropic())) -------------------

@final
class AnthropicEventDecoder:
    """SSE bytes -> the anthropic SDK's Messages stream events, one call per network chunk.

    ``mode``: "raw" (``messages.create(stream=True)``), "helper" (``messages.stream``) or "text"
    (its ``text_stream``: the text of text deltas only); ``hooks``: ``fastsse.sdk._anthropic.Hooks``.
    A content block gathering more than ``max_block_bytes`` (64 MiB) raises ``LimitExceededError``.
    """

    def __new__(
        cls, mode: str, hooks: Any, *, max_event_size: int = ..., max_block_bytes: int = ...
    ) -> AnthropicEventDecoder: ...
    def decode(self, data: bytes | bytearray | memoryview) -> list[Any]: ...
    def flush(self) -> list[Any]: ...
    def final_message(self) -> Any: ...
    def message_snapshot(self) -> Any: ...
    @property
    def mode(self) -> str: ...
    @mode.setter
    def mode(self, mode: str) -> None: ...

class _SdkView:
    """What every native view has: its ``type`` (a class attribute), conversions through the
    SDK's own model, and ``==``."""

    type: str
    def sdk_model(self) -> Any:
        """The SDK's own pydantic model for this event (built on each call)."""
    def model_dump(self, **options: Any) -> Any: ...
    def model_dump_json(self, **options: Any) -> Any: ...
    def to_dict(self, **options: Any) -> Any: ...
    def to_json(self, **options: Any) -> Any: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class RawContentBlockDeltaEvent(_SdkView):
    """The SDK's ``RawContentBlockDeltaEvent``, as a native view."""

    @property
    def index(self) -> int: ...
    @property
    def delta(self) -> TextDelta | InputJSONDelta | ThinkingDelta | SignatureDelta: ...

@final
class TextDelta(_SdkView):
    @property
    def text(self) -> str: ...

@final
class InputJSONDelta(_SdkView):
    @property
    def partial_json(self) -> str: ...

@final
class ThinkingDelta(_SdkView):
    @property
    def thinking(self) -> str: ...

@final
class SignatureDelta(_SdkView):
    @property
    def signature(self) -> str: ...

@final
class TextEvent(_SdkView):
    """The ``messages.stream`` helper's ``TextEvent``; ``snapshot`` is made when read."""

    @property
    def text(self) -> str: ...
    @property
    def snapshot(self) -> str: ...

@final
class ThinkingEvent(_SdkView):
    @property
    def thinking(self) -> str: ...
    @property
    def snapshot(self) -> str: ...

@final
class InputJsonEvent(_SdkView):
    """The helper's ``InputJsonEvent``; ``snapshot`` (the tool input so far) is parsed when read."""

    @property
    def partial_json(self) -> str: ...
    @property
    def snapshot(self) -> Any: ...

@final
class SignatureEvent(_SdkView):
    @property
    def signature(self) -> Any: ...
