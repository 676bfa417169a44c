"""Hostile input at the Python boundary: every finding of issue 13, replayed through the binding.

Each reproducer once stalled, aborted or crashed the process (or raised a ``BaseException``);
here each one answers at once, with a typed error naming the limit or a documented result.
"""

from __future__ import annotations

import datetime
import struct
import threading
import zlib
from typing import Any

import fastsse
import orjson
import pytest
from fastsse import _fastsse
from hypothesis import given, settings
from hypothesis import strategies as st
from support import eventstream

# --- the error classes ------------------------------------------------------------------------


def test_limit_and_internal_errors_are_ordinary_exceptions() -> None:
    assert issubclass(fastsse.LimitExceededError, fastsse.FastSSEError)
    assert issubclass(fastsse.LimitExceededError, ValueError)
    assert issubclass(fastsse.InternalError, fastsse.FastSSEError)


def test_a_panic_in_the_core_surfaces_as_internal_error_not_base_exception() -> None:
    # No known input panics any more; the hook panics inside the same guard every call uses.
    with pytest.raises(fastsse.InternalError, match="boom") as caught:
        _fastsse._panic_for_tests("boom")
    assert caught.value.partial == []


def test_an_unknown_provider_is_the_same_error_everywhere() -> None:
    # ChunkDecoder raised UsageError, provider_capabilities ValueError: now one class, both.
    for call in (lambda: fastsse.ChunkDecoder("nope"), lambda: fastsse.provider_capabilities("nope")):
        with pytest.raises(fastsse.UnknownNameError, match='unknown provider "nope"') as caught:
            call()
        assert isinstance(caught.value, fastsse.UsageError) and isinstance(caught.value, ValueError)


# --- 1. tool schemas --------------------------------------------------------------------------


def _tools_with(schema: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = {"type": "object", "properties": {"p": schema}}
    return [{"type": "function", "function": {"name": "f", "parameters": parameters}}]


def _nested_any_of(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"anyOf": [schema]}
    return schema


def test_nested_any_of_is_linear_and_capped() -> None:
    # 40 levels used to cost 2^40 walks (hours, GIL held); now a typed error at once.
    with pytest.raises(fastsse.LimitExceededError) as caught:
        fastsse.TextParser(tools="qwen3-coder", tool_schemas=_tools_with(_nested_any_of(40)))
    assert caught.value.limit_name == "max_schema_depth"
    assert caught.value.limit == 48
    # Within the cap the schema still types the value (20 levels: once 2^20 walks).
    parser = fastsse.TextParser(tools="qwen3-coder", tool_schemas=_tools_with(_nested_any_of(20)))
    text = "<tool_call>\n<function=f>\n<parameter=p>\n42\n</parameter>\n</function>\n</tool_call>"
    result = fastsse.collect(parser.decode(text) + parser.flush())
    assert orjson.loads(result.tool_calls[0].arguments) == {"p": "42"}


@pytest.mark.parametrize("depth", [129, 200, 254])
def test_schemas_past_serde_recursion_limit_get_the_same_typed_error(depth: int) -> None:
    schema: Any = {"type": "string"}
    for _ in range(depth):
        schema = {"items": schema}
    with pytest.raises(fastsse.LimitExceededError) as caught:
        fastsse.TextParser(tools="qwen3-coder", tool_schemas=_tools_with(schema))
    assert caught.value.limit_name == "max_schema_depth"


def test_schema_node_count_is_capped() -> None:
    with pytest.raises(fastsse.LimitExceededError) as caught:
        fastsse.TextParser(tools="glm-4.5", tool_schemas=_tools_with({"enum": list(range(100_001))}))
    assert caught.value.limit_name == "max_schema_nodes"


# --- 2. stop strings --------------------------------------------------------------------------


def test_a_megabyte_stop_string_is_refused_not_compiled() -> None:
    # Used to allocate 1.7 GiB (2 MB aborted the process).
    with pytest.raises(fastsse.LimitExceededError) as caught:
        fastsse.TextParser(stop=["x" * 1_000_000])
    assert (caught.value.limit_name, caught.value.limit) == ("max_stop_bytes", 4096)
    with pytest.raises(fastsse.LimitExceededError) as caught:
        fastsse.TextParser(stop=[f"s{i}" for i in range(65)])
    assert (caught.value.limit_name, caught.value.limit) == ("max_stop_strings", 64)
    with pytest.raises(fastsse.LimitExceededError):
        fastsse.TextParser(reasoning_start="<" * 5000, reasoning_end="</x>")


def test_the_largest_allowed_stop_set_matches_split_anywhere() -> None:
    # 64 strings of 4 KiB: past the dense-table budget, so the sparse automaton answers.
    stops = [f"{i:02d}" + "ab" * 2047 for i in range(64)]
    text = "hello " + stops[63][:-1] + "!" + stops[37] + " tail"
    whole = fastsse.TextParser(stop=stops)
    expected = "hello " + stops[63][:-1] + "!"
    assert fastsse.collect(whole.decode(text) + whole.flush()).text == expected
    assert whole.stop_sequence == stops[37]
    pieces = fastsse.TextParser(stop=stops)
    chunks = [c for i in range(0, len(text), 333) for c in pieces.decode(text[i : i + 333])]
    assert fastsse.collect(chunks + pieces.flush()).text == expected


# --- 3. Gemini partialArgs paths --------------------------------------------------------------


def _gemini_event(path: str) -> bytes:
    part = {"functionCall": {"name": "f", "partialArgs": [{"jsonPath": path, "stringValue": "x"}]}}
    event = {"candidates": [{"content": {"role": "model", "parts": [part]}}]}
    return b"data: " + orjson.dumps(event) + b"\n\n"


def test_a_far_array_index_is_a_typed_error_not_fifty_megabytes() -> None:
    decoder = fastsse.ChunkDecoder("gemini")
    with pytest.raises(fastsse.ProtocolError, match="1024 items past"):
        decoder.decode(_gemini_event("$.a[10000000]"))
    with pytest.raises(fastsse.ProtocolError, match="limit of 64 segments"):
        fastsse.ChunkDecoder("gemini").decode(_gemini_event("$" + ".a" * 65))
    ok = (
        fastsse.ChunkDecoder("gemini").decode(_gemini_event("$.a[2]"))
        + fastsse.ChunkDecoder("gemini").flush()
    )
    arguments = "".join(c.tool_call_delta.arguments_delta for c in ok if c.tool_call_delta)
    assert arguments.startswith('{"a":[null,null,"x"')


# --- 4, 5, 6. TextParser ----------------------------------------------------------------------


# DeepSeek's markers, spelled with escapes (full-width bars, U+2581 for the underscore).
BAR, LOW = "\uff5c", "\u2581"
DEEPSEEK_CALLS = f"<{BAR}tool{LOW}calls{LOW}begin{BAR}>"
DEEPSEEK_CALL = f"<{BAR}tool{LOW}call{LOW}begin{BAR}>function<{BAR}tool{LOW}sep{BAR}>"


def test_a_marker_cut_inside_a_character_is_text_not_a_panic() -> None:
    parser = fastsse.TextParser(tools="deepseek-v3")
    text = f"{DEEPSEEK_CALLS}<{BAR}tool\u2381"  # a marker cut inside a multi-byte character
    chunks = parser.decode(text) + parser.flush()
    assert all(c.error_code is None for c in chunks)


@pytest.mark.parametrize("tools", ["mistral", "deepseek-v3", "glm-4.5"])
def test_output_after_an_over_long_call_name_does_not_depend_on_the_split(tools: str) -> None:
    openers = {"mistral": "[TOOL_CALLS]", "deepseek-v3": DEEPSEEK_CALLS + DEEPSEEK_CALL}
    openers["glm-4.5"] = "<tool_call>"
    text = openers[tools] + "S" * 300 + " STOP yy"

    def run(pieces: list[str]) -> tuple[str, str | None]:
        parser = fastsse.TextParser(tools=tools, stop=["STOP"])
        chunks = [c for piece in pieces for c in parser.decode(piece)] + parser.flush()
        return fastsse.collect(chunks).text, parser.stop_sequence

    whole = run([text])
    assert whole == run(list(text))
    assert whole[1] == "STOP" and "yy" not in whole[0]


def test_many_calls_in_one_piece_cost_what_they_cost_in_pieces() -> None:
    # 20 k calls in one decode() took 200x their cost in 4 KiB pieces (a quadratic offset).
    text = '<tool_call>{"name": "f", "arguments": {"i": 1}}</tool_call>' * 20_000
    whole = fastsse.TextParser(tools="hermes")
    count = sum(1 for c in whole.decode(text) + whole.flush() if c.tool_call_delta and c.tool_call_delta.id)
    assert count == 20_000
    assert whole.tool_call_count == 20_000


# --- 7. integer edges -------------------------------------------------------------------------


def test_an_index_less_call_after_the_last_index_is_an_error_not_a_wrap() -> None:
    def event(call: dict[str, Any]) -> bytes:
        body = {"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}
        return b"data: " + orjson.dumps(body) + b"\n\n"

    decoder = fastsse.ChunkDecoder("openai")
    first = decoder.decode(event({"index": 2**32 - 1, "id": "a", "function": {"name": "f", "arguments": ""}}))
    assert first[0].tool_call_delta is not None and first[0].tool_call_delta.index == 2**32 - 1
    with pytest.raises(fastsse.ProtocolError, match="4294967295"):
        decoder.decode(event({"id": "b", "function": {"name": "g", "arguments": ""}}))


def test_an_out_of_range_timestamp_header_keeps_the_frame() -> None:
    name = b"t"
    header = bytes([len(name)]) + name + bytes([8]) + struct.pack(">q", 2**62)
    good = bytes([1]) + b"u" + bytes([8]) + struct.pack(">q", 0)
    frame = eventstream.frame(header + good, b"{}")
    (message,) = fastsse.EventStreamDecoder().decode(frame)
    assert message.headers["t"] == 2**62  # past datetime's range: milliseconds as an int
    assert message.headers["u"] == datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    assert message.payload == b"{}"


def test_a_huge_declared_frame_reserves_nothing_up_front() -> None:
    # Used to reserve the declared 4 GiB at once and abort.
    decoder = fastsse.EventStreamDecoder(max_message_size=2**32 - 1)
    prelude = struct.pack(">II", 2**32 - 1, 0)
    prelude += struct.pack(">I", zlib.crc32(prelude))
    assert decoder.decode(prelude + b"x" * 1000) == []
    with pytest.raises(fastsse.ProtocolError):
        decoder.flush()


# --- Python-side edges: bad types, huge ints, NUL, surrogates, threads ------------------------

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True),
    st.text(st.characters(codec=None, categories=None)),  # surrogates included
    st.binary(max_size=64),
    st.lists(st.integers(), max_size=3),
)


def _only_ordinary_errors(call: Any) -> None:
    """``call()`` returns or raises an ``Exception`` (never a bare ``BaseException``)."""
    try:
        call()
    except Exception:
        pass


@settings(max_examples=150, deadline=None)
@given(value=ANY_VALUE)
def test_any_python_value_is_answered_with_an_ordinary_exception(value: Any) -> None:
    _only_ordinary_errors(lambda: fastsse.SSEDecoder(max_event_size=value))
    _only_ordinary_errors(lambda: fastsse.SSEDecoder().decode(value))
    _only_ordinary_errors(lambda: fastsse.NDJSONDecoder().decode(value))
    _only_ordinary_errors(lambda: fastsse.EventStreamDecoder().decode(value))
    _only_ordinary_errors(lambda: fastsse.ChunkDecoder("openai").decode(value))
    _only_ordinary_errors(lambda: fastsse.ChunkDecoder(value))
    _only_ordinary_errors(lambda: fastsse.TextParser(stop=value))
    _only_ordinary_errors(lambda: fastsse.TextParser(tools="hermes").decode(value))
    _only_ordinary_errors(lambda: fastsse.TextParser(tool_schemas=[{"name": "f", "parameters": value}]))


@settings(max_examples=100, deadline=None)
@given(text=st.text(st.characters(codec=None, categories=None)))
def test_text_with_nul_and_surrogates_never_escapes_as_base_exception(text: str) -> None:
    for tools in ("hermes", "deepseek-v3", "qwen3-coder"):
        parser = fastsse.TextParser(tools=tools, reasoning="think", stop=["\x00STOP"])
        _only_ordinary_errors(lambda parser=parser: parser.decode(text))
        _only_ordinary_errors(lambda parser=parser: parser.flush())


def test_decoders_used_from_many_threads_stay_consistent() -> None:
    # One decoder per thread must give the serial answer; a decoder shared between threads
    # may refuse a concurrent call (RuntimeError: already borrowed) but never crash.
    event = b'data: {"choices":[{"index":0,"delta":{"content":"%d"}}]}\n\n'
    body = b"".join(event % i for i in range(200))
    expected = "".join(str(i) for i in range(200))
    shared = fastsse.SSEDecoder()
    results: list[str] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            own = fastsse.ChunkDecoder("openai")
            chunks = [c for i in range(0, len(body), 7) for c in own.decode(body[i : i + 7])]
            results.append(fastsse.collect(chunks + own.flush()).text)
            for i in range(0, len(body), 64):
                try:
                    shared.decode(body[i : i + 64])
                except RuntimeError:
                    pass
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and results == [expected] * 8
