# Type stubs for the native module (checked by `python -m mypy.stubtest fastsse._fastsse`).
from collections.abc import Mapping, Sequence
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

# --- text parsers (raw model text -> chunks) -----------------------------------------------

@final
class TextParser:
    """Split raw model text into answer text, reasoning and tool calls; cut it at stop strings.

    Feed text as it arrives with ``decode()``; ``flush()`` at the end of generation releases what
    is still held back and ends with the only ``done=True`` chunk. Only the longest suffix that
    may still grow into a marker or stop string is held back; every character is looked at once.

    * ``stop``: a str or a list of str (non-empty). The output ends at the stop string that
      completes earliest (ties: the one listed first); ``include_stop`` keeps it; nothing after it
      is emitted, whatever arrives later (``stopped`` turns True: stop generating). Stop strings
      are matched in answer text only, never inside reasoning or inside a tool call, so a stop
      string never cuts a call; the final chunk carries ``stop_sequence``.
    * ``reasoning``: a name from ``REASONING_FORMATS`` ("think" for ``<think>...</think>``,
      "deepseek-r1" for output that starts inside reasoning, "cot" for prompted chain of thought
      ending at "Answer:" or "Therefore:", ...), or custom markers with ``reasoning_start`` (none:
      the output starts inside reasoning) and ``reasoning_end`` (one or several). Markers are
      dropped; reasoning text goes to ``reasoning_delta``.
    * ``tools``: a name from ``TOOL_FORMATS``. Each call gets one index, a fresh id and its
      name on its first delta only; arguments follow as JSON text in ``arguments_delta`` as they
      arrive (the model's own JSON passed through; XML formats build JSON incrementally, typed
      from ``tool_schemas`` - the request's OpenAI ``tools`` list - when given).
    * Malformed calls never raise: a call whose name was never established is given back as
      text; a problem after its first delta adds a chunk with ``error_code``
      ("tool_call_invalid", "tool_call_incomplete", "tool_call_too_large") and an
      ``error_message`` with the call index and character offsets.
    * ``flush(finish_reason)``: the engine's reason; a matched stop makes it "stop", and "stop"
      becomes "tool_calls" when calls were emitted.
    """

    TOOL_FORMATS: ClassVar[tuple[str, ...]]
    REASONING_FORMATS: ClassVar[tuple[str, ...]]
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
    def decode(self, text: str) -> list[GenerationChunk]: ...
    def flush(self, finish_reason: FinishReason = "stop") -> list[GenerationChunk]: ...
    @property
    def stopped(self) -> bool: ...
    @property
    def stop_sequence(self) -> str | None: ...
    @property
    def tool_call_count(self) -> int: ...
