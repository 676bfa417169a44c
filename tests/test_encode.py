"""fastsse.encode / encode_response / Encoder: the bytes the official SDKs read.

The openai and anthropic SDKs parse our bytes through their own stream classes over an httpx2
mock transport; hypothesis checks that every event is valid JSON carrying exactly the text it
was given, that batching never changes the bytes, and that fastsse's own provider decoders give the
chunks back (streams and response bodies).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anthropic
import fastsse
import httpx2
import openai
import pytest
from fastsse import Encoder, GenerationChunk, ToolCallDelta, UsageError, encode, encode_response
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.lib.streaming.chat import ChatCompletionStreamState

C = GenerationChunk
T = ToolCallDelta
ClientT = TypeVar("ClientT", openai.OpenAI, anthropic.Anthropic)

CONVERSATION = [
    C(reasoning_delta="The user wants "),
    C(reasoning_delta='the weather; "Paris"\n', reasoning_signature="c2lnbmF0dXJl"),
    C("Let me "),
    C("check\t\u00e9\u2713 \U0001f326."),
    C(tool_call_delta=T(0, id="call_w", function_name="get_weather", arguments_delta="")),
    C(tool_call_delta=T(0, arguments_delta='{"city": "Pa')),
    C(tool_call_delta=T(0, arguments_delta='ris", "unit": "\\u00b0C"}')),
    C(tool_call_delta=T(1, id="call_t", function_name="get_time", arguments_delta='{"tz": "CET"}')),
    C(done=True, finish_reason="tool_calls", prompt_tokens=31, completion_tokens=42),
]


def sdk_client(cls: type[ClientT], body: bytes, content_type: str = "text/event-stream") -> ClientT:
    """An SDK client whose every request is answered with `body`."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": content_type}, content=body)

    transport = httpx2.MockTransport(answer)
    return cls(api_key="test", base_url="http://test", http_client=httpx2.Client(transport=transport))


def events(data: bytes) -> list[tuple[str, Any]]:
    """(event type, parsed data) of every event, split with fastsse's own SSE decoder."""
    decoder = fastsse.SSEDecoder()
    parsed = [*decoder.decode(data), *decoder.flush()]
    assert data.endswith(b"\n\n")
    return [(e.event, e.data if e.data == "[DONE]" else json.loads(e.data)) for e in parsed]


# --- the official SDKs read our streams ----------------------------------------------------------


def test_openai_sdk_accumulates_the_stream() -> None:
    body = encode(CONVERSATION, "openai", model="fast-1", include_usage=True, system_fingerprint="fp_1")
    client = sdk_client(openai.OpenAI, body)
    with client.chat.completions.stream(
        model="fast-1",
        messages=[{"role": "user", "content": "weather?"}],
        stream_options={"include_usage": True},
    ) as stream:
        kinds = [event.type for event in stream]
        completion = stream.get_final_completion()
    assert "tool_calls.function.arguments.done" in kinds
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check\t\u00e9\u2713 \U0001f326."
    assert choice.message.model_extra == {"reasoning_content": 'The user wants the weather; "Paris"\n'}
    calls = choice.message.tool_calls
    assert calls is not None
    assert [(c.id, c.type, c.function.name) for c in calls] == [
        ("call_w", "function", "get_weather"),
        ("call_t", "function", "get_time"),
    ]
    assert [json.loads(c.function.arguments) for c in calls] == [
        {"city": "Paris", "unit": "\u00b0C"},
        {"tz": "CET"},
    ]
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (31, 42)
    assert completion.usage.total_tokens == 73
    assert (completion.model, completion.system_fingerprint) == ("fast-1", "fp_1")


def test_openai_sdk_iterates_chunks() -> None:
    body = encode(
        [C("a"), C("b"), C(done=True, finish_reason="length")], "openai", id="chatcmpl-x", created=5
    )
    client = sdk_client(openai.OpenAI, body)
    chunks = list(client.chat.completions.create(model="m", messages=[], stream=True))
    assert [c.id for c in chunks] == ["chatcmpl-x"] * 4
    assert [c.created for c in chunks] == [5] * 4
    assert [c.choices[0].delta.role for c in chunks] == ["assistant", None, None, None]
    assert [c.choices[0].delta.content for c in chunks] == ["", "a", "b", None]
    assert [c.choices[0].finish_reason for c in chunks] == [None, None, None, "length"]


def test_openai_sdk_reads_the_reasoning_field_option() -> None:
    body = encode([C(reasoning_delta="hm"), C("x")], "openai", reasoning_field="reasoning")
    chunks = list(
        sdk_client(openai.OpenAI, body).chat.completions.create(model="m", messages=[], stream=True)
    )
    assert chunks[1].choices[0].delta.model_extra == {"reasoning": "hm"}


def test_openai_sdk_raises_on_an_error_chunk() -> None:
    failing = [
        C("partial"),
        C(done=True, finish_reason="error", error_code="engine_dead", error_message="boom"),
    ]
    client = sdk_client(openai.OpenAI, encode(failing, "openai"))
    seen = []
    with pytest.raises(openai.APIError, match="boom") as caught:
        for chunk in client.chat.completions.create(model="m", messages=[], stream=True):
            seen.append(chunk.choices[0].delta.content)
    assert seen == ["", "partial"]
    assert caught.value.body == {
        "message": "boom",
        "type": "server_error",
        "param": None,
        "code": "engine_dead",
    }


def test_openai_sdk_reads_the_response_body() -> None:
    body = encode_response(CONVERSATION, "openai", model="fast-1", id="chatcmpl-9", created=3)
    completion = sdk_client(openai.OpenAI, body, "application/json").chat.completions.create(
        model="fast-1", messages=[]
    )
    assert (completion.id, completion.object, completion.created) == ("chatcmpl-9", "chat.completion", 3)
    message = completion.choices[0].message
    assert message.content == "Let me check\t\u00e9\u2713 \U0001f326."
    assert message.model_extra == {"reasoning_content": 'The user wants the weather; "Paris"\n'}
    assert message.tool_calls is not None
    assert [json.loads(c.function.arguments) for c in message.tool_calls] == [
        {"city": "Paris", "unit": "\u00b0C"},
        {"tz": "CET"},
    ]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None and completion.usage.total_tokens == 73


def test_anthropic_sdk_accumulates_the_stream() -> None:
    body = encode(CONVERSATION, "anthropic", model="claude-fast", id="msg_1", ping=True)
    client = sdk_client(anthropic.Anthropic, body)
    with client.messages.stream(model="claude-fast", max_tokens=100, messages=[]) as stream:
        texts = list(stream.text_stream)
        message = stream.get_final_message()
    assert "".join(texts) == "Let me check\t\u00e9\u2713 \U0001f326."
    assert message.id == "msg_1"
    assert message.stop_reason == "tool_use"
    assert [block.type for block in message.content] == ["thinking", "text", "tool_use", "tool_use"]
    thinking, text, weather, time = message.content
    assert thinking.type == "thinking" and text.type == "text"
    assert thinking.thinking == 'The user wants the weather; "Paris"\n'
    assert thinking.signature == "c2lnbmF0dXJl"
    assert text.text == "Let me check\t\u00e9\u2713 \U0001f326."
    assert weather.type == "tool_use" and time.type == "tool_use"
    assert (weather.id, weather.name, weather.input) == (
        "call_w",
        "get_weather",
        {"city": "Paris", "unit": "°C"},
    )
    assert (time.id, time.name, time.input) == ("call_t", "get_time", {"tz": "CET"})
    assert (message.usage.input_tokens, message.usage.output_tokens) == (31, 42)


@pytest.mark.parametrize(
    ("finish", "extra", "stop_reason", "stop_sequence"),
    [
        ("stop", {}, "end_turn", None),
        ("stop", {"stop_sequence": "###"}, "stop_sequence", "###"),
        ("length", {}, "max_tokens", None),
        ("cancelled", {}, "max_tokens", None),
        ("content_filter", {}, "refusal", None),
    ],
)
def test_anthropic_sdk_reads_stop_reasons(
    finish: str, extra: dict[str, Any], stop_reason: str, stop_sequence: str | None
) -> None:
    chunks = [C("hi", **extra), C(done=True, finish_reason=finish, completion_tokens=1)]  # type: ignore[arg-type]
    client = sdk_client(anthropic.Anthropic, encode(chunks, "anthropic"))
    with client.messages.stream(model="m", max_tokens=1, messages=[]) as stream:
        message = stream.get_final_message()
    assert (message.stop_reason, message.stop_sequence) == (stop_reason, stop_sequence)


def test_anthropic_sdk_raises_on_an_error_event() -> None:
    failing = [C("partial"), C(error_code="overloaded_error", error_message="Overloaded")]
    client = sdk_client(anthropic.Anthropic, encode(failing, "anthropic"))
    with pytest.raises(anthropic.APIStatusError, match="Overloaded") as caught:
        with client.messages.stream(model="m", max_tokens=1, messages=[]) as stream:
            for _ in stream:
                pass
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }


def test_anthropic_sdk_reads_the_response_body() -> None:
    chunks = [
        *CONVERSATION[:-1],
        C(tool_call_delta=T(2, id="call_bad", function_name="f", arguments_delta="{oops")),
    ]
    body = encode_response(chunks, "anthropic", model="claude-fast", id="msg_2", prompt_tokens=7)
    message = sdk_client(anthropic.Anthropic, body, "application/json").messages.create(
        model="claude-fast", max_tokens=1, messages=[]
    )
    assert message.id == "msg_2"
    assert [block.type for block in message.content] == [
        "thinking",
        "text",
        "tool_use",
        "tool_use",
        "tool_use",
    ]
    inputs = [block.input for block in message.content if block.type == "tool_use"]
    # Arguments that are not a JSON object become {} (the Messages API requires an object).
    assert inputs == [{"city": "Paris", "unit": "°C"}, {"tz": "CET"}, {}]
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (7, 0)


# --- the Python surface --------------------------------------------------------------------------


def test_encoder_batches_give_the_one_shot_bytes() -> None:
    for format in ("openai", "anthropic"):
        envelope: dict[str, Any] = {"id": "x-1", "model": "m", "created": 1, "include_usage": True}
        encoder = Encoder(format, **envelope)
        assert (encoder.format, encoder.id, encoder.model, encoder.created) == (format, "x-1", "m", 1)
        pieces = [
            encoder.encode([]),
            encoder.encode(CONVERSATION[:3]),
            encoder.encode(iter(CONVERSATION[3:])),
        ]
        pieces.append(encoder.finish())
        assert encoder.finished
        assert b"".join(pieces) == encode(tuple(CONVERSATION), format, **envelope)
        assert pieces[0], "the first call writes the preamble"
        with pytest.raises(UsageError, match="after finish"):
            encoder.encode([C("late")])
        with pytest.raises(UsageError, match="twice"):
            encoder.finish()


def test_defaults_and_bad_arguments() -> None:
    assert Encoder().id.startswith("chatcmpl-") and Encoder("anthropic").id.startswith("msg_")
    assert Encoder().id != Encoder().id
    assert Encoder().created > 1_700_000_000
    with pytest.raises(UsageError, match="unknown encode format"):
        encode([], "gemini")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="reasoning_field"):
        Encoder(reasoning_field="thoughts")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="item 1 is str"):
        encode([C("a"), "b"])  # type: ignore[list-item]
    with pytest.raises(UsageError, match="choice_index 1"):
        encode([C("a", choice_index=1)], "anthropic")


def test_logprobs_given_from_python_pass_through() -> None:
    token = {"token": "hi", "logprob": -0.25, "bytes": [104, 105], "top_logprobs": []}
    chunk = C("hi", logprobs=[token])
    data = events(encode([chunk], "openai"))[1][1]
    assert data["choices"][0]["logprobs"] == {"content": [token], "refusal": None}
    body = json.loads(encode_response([chunk, C(" there", logprobs=(token,))], "openai"))
    assert body["choices"][0]["logprobs"]["content"] == [token, token]


def test_non_streaming_error_body() -> None:
    body = json.loads(encode_response([C("x"), C(done=True, finish_reason="error")], "anthropic"))
    assert body == {"type": "error", "error": {"type": "api_error", "message": "generation failed"}}


# --- properties ----------------------------------------------------------------------------------

# Text with quotes, backslashes, every control character, astral characters and U+2028.
texts = st.one_of(
    st.just(""),
    st.text(max_size=8),
    st.text(alphabet=st.sampled_from('"\\\n\r\t\x00\x1f\x7f\u2028\u00e9\U0001f600{}'), max_size=6),
)


@st.composite
def chunk_sequences(draw: st.DrawFn, *, interleave_calls: bool = True) -> list[GenerationChunk]:
    """Random content chunks then one terminal chunk."""
    chunks: list[GenerationChunk] = []
    next_call = 0
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(["text", "reasoning", "call", "mixed", "refusal"]))
        if kind == "call":
            if interleave_calls:
                index = draw(st.integers(0, 2))
            else:
                # Anthropic blocks cannot interleave: continue the previous call or start a new one.
                previous = chunks[-1].tool_call_delta if chunks else None
                if previous is not None and draw(st.booleans()):
                    index = previous.index
                else:
                    index, next_call = next_call, next_call + 1
            chunks.append(
                C(
                    tool_call_delta=T(
                        index,
                        id=f"call_{index}",
                        function_name=draw(texts) or "f",
                        arguments_delta=draw(texts),
                    )
                )
            )
        elif kind == "mixed":
            chunks.append(C(draw(texts), reasoning_delta=draw(texts)))
        elif kind == "refusal":
            chunks.append(C(refusal_delta=draw(texts)))
        elif kind == "text":
            chunks.append(C(draw(texts)))
        else:
            chunks.append(C(reasoning_delta=draw(texts)))
    finish = draw(st.sampled_from(["stop", "length", "tool_calls", "content_filter"]))
    tokens = draw(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)))
    chunks.append(C(done=True, finish_reason=finish, prompt_tokens=tokens[0], completion_tokens=tokens[1]))  # type: ignore[arg-type]
    return chunks


def joined(chunks: Iterable[GenerationChunk], field: Callable[[GenerationChunk], str]) -> str:
    return "".join(field(c) for c in chunks)


@settings(max_examples=150, deadline=None)
@given(chunk_sequences(), st.lists(st.integers(0, 12), max_size=3))
def test_openai_events_are_json_and_carry_the_text(chunks: list[GenerationChunk], cuts: list[int]) -> None:
    data = encode(chunks, "openai", include_usage=True, id="chatcmpl-p", created=1)
    parsed = events(data)
    assert parsed[-1] == ("message", "[DONE]")
    deltas = [choice["delta"] for _, e in parsed[:-1] for choice in e["choices"]]
    assert joined(chunks, lambda c: c.text_delta) == "".join(d.get("content", "") for d in deltas)
    assert joined(chunks, lambda c: c.reasoning_delta) == "".join(
        d.get("reasoning_content", "") for d in deltas
    )
    assert joined(chunks, lambda c: c.refusal_delta) == "".join(d.get("refusal", "") for d in deltas)
    fragments = [call for d in deltas for call in d.get("tool_calls", [])]
    assert [f["function"]["arguments"] for f in fragments] == [
        c.tool_call_delta.arguments_delta for c in chunks if c.tool_call_delta
    ]
    assert parsed[-2][1]["usage"]["total_tokens"] == chunks[-1].prompt_tokens + chunks[-1].completion_tokens  # type: ignore[operator]
    assert_batches_do_not_matter(chunks, cuts, "openai")
    json.loads(encode_response(chunks, "openai"))


@settings(max_examples=150, deadline=None)
@given(chunk_sequences(interleave_calls=False), st.lists(st.integers(0, 12), max_size=3))
def test_anthropic_events_are_json_and_carry_the_text(chunks: list[GenerationChunk], cuts: list[int]) -> None:
    data = encode(chunks, "anthropic", id="msg_p")
    parsed = events(data)
    open_index = -1
    text = thinking = arguments = ""
    for name, event in parsed:
        assert event["type"] == name
        if name == "content_block_start":
            assert event["index"] == open_index + 1, "indices are contiguous"
            open_index = event["index"]
        elif name == "content_block_delta":
            assert event["index"] == open_index
            delta = event["delta"]
            text += delta.get("text", "")
            thinking += delta.get("thinking", "")
            arguments += delta.get("partial_json", "")
    assert text == joined(chunks, lambda c: c.text_delta + c.refusal_delta)
    assert thinking == joined(chunks, lambda c: c.reasoning_delta)
    assert arguments == joined(
        chunks, lambda c: c.tool_call_delta.arguments_delta if c.tool_call_delta else ""
    )
    assert [name for name, _ in parsed[-2:]] == ["message_delta", "message_stop"]
    assert_batches_do_not_matter(chunks, cuts, "anthropic")
    json.loads(encode_response(chunks, "anthropic"))


def assert_batches_do_not_matter(chunks: Sequence[GenerationChunk], cuts: list[int], format: str) -> None:
    envelope: dict[str, Any] = {"id": "x_1", "created": 1, "include_usage": True}
    encoder = Encoder(format, **envelope)  # type: ignore[arg-type]
    pieces, start = [], 0
    for cut in [*sorted(cuts), len(chunks)]:
        cut = min(max(cut, start), len(chunks))
        pieces.append(encoder.encode(chunks[start:cut]))
        start = cut
    pieces.append(encoder.finish())
    assert b"".join(pieces) == encode(chunks, format, **envelope)  # type: ignore[arg-type]


# --- round trips through fastsse's own decoders ---------------------------------------------------


def segments(chunks: Iterable[GenerationChunk]) -> list[tuple[Any, ...]]:
    """The content in order, independent of chunk boundaries: adjacent text merged, each tool
    call's fragments merged into one (index, id, name, arguments)."""
    out: list[tuple[Any, ...]] = []
    for chunk in chunks:
        for kind, value in (("reasoning", chunk.reasoning_delta), ("text", chunk.text_delta)):
            if not value:
                continue
            if out and out[-1][0] == kind:
                out[-1] = (kind, out[-1][1] + value)
            else:
                out.append((kind, value))
        call = chunk.tool_call_delta
        if call is not None:
            if out and out[-1][0] == "call" and out[-1][1] == call.index:
                _, index, call_id, name, arguments = out[-1]
                out[-1] = (
                    "call",
                    index,
                    call_id or call.id,
                    name or call.function_name,
                    arguments + call.arguments_delta,
                )
            else:
                out.append(("call", call.index, call.id, call.function_name, call.arguments_delta))
    return out


def outcome(chunks: Sequence[GenerationChunk]) -> tuple[Any, ...]:
    finish = [c.finish_reason for c in chunks if c.finish_reason is not None]
    prompt = [c.prompt_tokens for c in chunks if c.prompt_tokens is not None]
    completion = [c.completion_tokens for c in chunks if c.completion_tokens is not None]
    return finish[-1:], prompt[-1:], completion[-1:]


@st.composite
def round_trip_sequences(draw: st.DrawFn) -> list[GenerationChunk]:
    """What both formats can express: no refusal; finish reasons consistent with tool calls."""
    chunks = [c for c in draw(chunk_sequences(interleave_calls=False)) if not c.refusal_delta and not c.done]
    has_calls = any(c.tool_call_delta for c in chunks)
    finish = "tool_calls" if has_calls else draw(st.sampled_from(["stop", "length"]))
    chunks.append(
        C(done=True, finish_reason=finish, prompt_tokens=3, completion_tokens=draw(st.integers(0, 99)))
    )
    return chunks


@pytest.mark.parametrize("format", ["openai", "anthropic"])
@settings(max_examples=100, deadline=None)
@given(chunks=round_trip_sequences(), split=st.integers(1, 64))
def test_round_trip_through_the_provider_decoders(
    format: str, chunks: list[GenerationChunk], split: int
) -> None:
    data = encode(chunks, format, include_usage=True)  # type: ignore[arg-type]
    pieces = [data[i : i + split] for i in range(0, len(data), split)]
    decoded = list(fastsse.iter_chunks(pieces, provider=format))
    expected = segments(chunks)
    if format == "anthropic":
        # A tool_use block always has an input object: no arguments at all read back as {}.
        expected = [(*s[:4], s[4] or "{}") if s[0] == "call" else s for s in expected]
    assert segments(decoded) == expected
    assert outcome(decoded) == outcome(chunks)


@st.composite
def response_sequences(draw: st.DrawFn) -> list[GenerationChunk]:
    """Text, reasoning and tool calls whose arguments are JSON objects (streamed in pieces)."""
    chunks = [c for c in draw(round_trip_sequences()) if not c.tool_call_delta and not c.done]
    values = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none())
    for index in range(draw(st.integers(0, 2))):
        arguments = json.dumps(draw(st.dictionaries(st.text(max_size=4), values, max_size=3)))
        cut = draw(st.integers(0, len(arguments)))
        chunks.append(C(tool_call_delta=T(index, id=f"call_{index}", function_name=f"f{index}")))
        chunks.append(C(tool_call_delta=T(index, arguments_delta=arguments[:cut])))
        chunks.append(C(tool_call_delta=T(index, arguments_delta=arguments[cut:])))
    finish = "tool_calls" if any(c.tool_call_delta for c in chunks) else "stop"
    chunks.append(C(done=True, finish_reason=finish, prompt_tokens=3, completion_tokens=4))
    return chunks


def result_summary(result: Any) -> tuple[Any, ...]:
    calls = [(c.id, c.name, json.loads(c.arguments)) for c in result.tool_calls]
    return (result.text, result.reasoning, calls, result.finish_reason)


@pytest.mark.parametrize("format", ["openai", "anthropic"])
@settings(max_examples=60, deadline=None)
@given(chunks=response_sequences())
def test_response_round_trip_through_the_provider_decoders(
    format: str, chunks: list[GenerationChunk]
) -> None:
    body = encode_response(chunks, format, id="x_1", model="m")  # type: ignore[arg-type]
    decoded = fastsse.iter_chunks([body], provider=format, content_type="application/json")
    result = fastsse.collect(decoded)
    assert result_summary(result) == result_summary(fastsse.collect(chunks))
    assert (result.prompt_tokens, result.completion_tokens) == (3, 4)


@pytest.mark.parametrize("format", ["openai", "anthropic"])
def test_errors_round_trip_as_provider_errors(format: str) -> None:
    failing = [
        C("partial"),
        C(done=True, finish_reason="error", error_code="overloaded_error", error_message="Busy"),
    ]
    received = []
    with pytest.raises(fastsse.ProviderError) as caught:
        for chunk in fastsse.iter_chunks([encode(failing, format)], provider=format):  # type: ignore[arg-type]
            received.append(chunk.text_delta)
    assert "partial" in received
    assert (caught.value.code, caught.value.provider_message) == ("overloaded_error", "Busy")
    body = encode_response(failing, format)  # type: ignore[arg-type]
    with pytest.raises(fastsse.ProviderError) as caught:
        list(fastsse.iter_chunks([body], provider=format, content_type="application/json"))
    assert (caught.value.code, caught.value.provider_message) == ("overloaded_error", "Busy")


def test_anthropic_stop_sequence_round_trips() -> None:
    chunks = [C("done ###", stop_sequence="###"), C(done=True, finish_reason="stop")]
    for data, content_type in (
        (encode(chunks, "anthropic"), "text/event-stream"),
        (encode_response(chunks, "anthropic"), "application/json"),
    ):
        decoded = fastsse.iter_chunks([data], provider="anthropic", content_type=content_type)
        result = fastsse.collect(decoded)
        assert (result.text, result.finish_reason, result.stop_sequence) == ("done ###", "stop", "###")


# --- gateway: real captured streams decoded, re-encoded in either format, read back ---------------

DATA = Path(__file__).parent / "data"
CAPTURES = [
    *(
        (path, "openai")
        for folder in ("openai-chat", "groq", "mistral")
        for path in sorted(DATA.glob(f"{folder}/*.sse"))
    ),
    (DATA / "deepseek/reasoner-reasoning-content.sse", "openai"),
    (DATA / "deepseek/responses-reasoning-function-call.sse", "openai-responses"),
    *((path, "anthropic") for path in sorted(DATA.glob("anthropic/*.sse"))),
    *((path, "openai-responses") for path in sorted(DATA.glob("openai-responses/*.sse"))),
]


def decode_all(data: bytes, provider: str) -> list[GenerationChunk]:
    """Every chunk of a stream; a provider error becomes an error chunk, as a gateway would."""
    chunks = []
    try:
        chunks.extend(fastsse.iter_chunks([data], provider=provider))
    except fastsse.ProviderError as error:
        chunks.append(C(error_code=error.code, error_message=error.provider_message))
    return chunks


def gateway_view(result: Any, target: str) -> dict[str, Any]:
    """What the target format can carry. Anthropic has no refusal field: refusal text is text
    and the stop reason says `refusal` (read back as content_filter)."""
    finish = result.finish_reason
    text, refusal = result.text, result.refusal
    if target == "anthropic" and refusal:
        text, refusal, finish = text + refusal, "", "content_filter"
    return {
        "text": text,
        "reasoning": result.reasoning,
        "refusal": refusal,
        "tool_calls": [(c.index, c.id, c.name, c.arguments) for c in result.tool_calls],
        "finish_reason": finish,
        "usage": (result.prompt_tokens, result.completion_tokens),
        "error": (result.error_code, result.error_message),
    }


@pytest.mark.parametrize("target", ["openai", "anthropic"])
@pytest.mark.parametrize(("path", "provider"), CAPTURES, ids=lambda v: getattr(v, "name", v))
def test_real_captures_survive_re_encoding(path: Path, provider: str, target: str) -> None:
    chunks = decode_all(path.read_bytes(), provider)
    if target == "anthropic" and any(c.choice_index for c in chunks):
        with pytest.raises(UsageError, match="single choice"):
            encode(chunks, target)
        return
    data = encode(chunks, target, include_usage=True)  # type: ignore[arg-type]
    source, back = fastsse.collect(chunks), fastsse.collect(decode_all(data, target))
    assert gateway_view(back, "openai") == gateway_view(source, target)
    for source_choice, back_choice in zip(source.choices, back.choices, strict=True):
        assert gateway_view(back_choice, "openai") == gateway_view(source_choice, target)
    if source.error_message is None:
        assert_sdk_reads(data, target, back)


def assert_sdk_reads(data: bytes, target: str, expected: Any) -> None:
    """The official SDK accumulates the same text and tool calls from our bytes."""
    if target == "openai":
        # The SDK's own accumulator (`.stream()` without its final parse, which rejects `length`).
        state: ChatCompletionStreamState[object] = ChatCompletionStreamState()
        for chunk in sdk_client(openai.OpenAI, data).chat.completions.create(
            model="m", messages=[], stream=True
        ):
            state.handle_chunk(chunk)
        message = state.current_completion_snapshot.choices[0].message
        assert (message.content or "") == expected.text
        calls = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]  # type: ignore[union-attr]
    else:
        anthropic_client = sdk_client(anthropic.Anthropic, data)
        with anthropic_client.messages.stream(model="m", max_tokens=1, messages=[]) as anthropic_stream:
            final = anthropic_stream.get_final_message()
        assert "".join(b.text for b in final.content if b.type == "text") == expected.text
        calls = [(b.id, b.name, json.dumps(b.input)) for b in final.content if b.type == "tool_use"]
    assert [(c[0], c[1]) for c in calls] == [(c.id, c.name) for c in expected.tool_calls]
    for (_, _, arguments), call in zip(calls, expected.tool_calls, strict=True):
        if target == "openai":
            assert arguments == call.arguments
        elif is_json(call.arguments):  # the Anthropic SDK parses (partial) arguments itself
            assert json.loads(arguments) == json.loads(call.arguments or "{}")


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
