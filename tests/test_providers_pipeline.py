"""The `ChunkDecoder` itself (src-rust/providers/pipeline.rs): options, misuse, limits, the
provider table, and errors that wait until the chunks before them are delivered."""

from __future__ import annotations

import fastsse
import pytest
from fastsse import ChunkDecoder
from provider_fixtures import decode

TEXT_EVENT = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
BODY = b'{"choices":[{"index":0,"message":{"content":"hi"},"finish_reason":"stop"}]}'
# (provider, an event with the text "a", a malformed event after it)
MALFORMED = [
    (
        "openai",
        b'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n',
        b'data: {"choices":[{"index":0,"delta":{"content":"a"}]}\n\n',
    ),
    (
        "gemini",
        b'data: {"candidates":[{"content":{"parts":[{"text":"a"}]}}]}\n\n',
        b'data: {"candidates":[{"content":{"parts":[{"text":"a"}]}]}\n\n',
    ),
    ("ollama", b'{"message":{"content":"a"},"done":false}\n', b'{"message":\n'),
]


def test_provider_table() -> None:
    assert {"openai", "openai-responses", "anthropic"} <= set(fastsse.PROVIDERS)
    for name in fastsse.PROVIDERS:
        caps = fastsse.provider_capabilities(name)
        assert caps.name == name
        assert caps.framing in ("sse", "ndjson", "eventstream")
    assert fastsse.provider_capabilities("anthropic") == fastsse.ProviderCapabilities(
        name="anthropic", framing="sse", streaming=True, tools=True, reasoning=True, usage=True
    )
    with pytest.raises(ValueError, match='unknown provider "nope"'):
        fastsse.provider_capabilities("nope")


@pytest.mark.parametrize(("provider", "good", "bad"), MALFORMED)
def test_malformed_json_is_a_protocol_error_with_offset(provider: str, good: bytes, bad: bytes) -> None:
    chunks, error = decode(provider, [good + bad])
    assert [c.text_delta for c in chunks] == ["a"]
    assert isinstance(error, fastsse.ProtocolError)
    assert error.offset == len(good + bad)
    assert "malformed JSON" in str(error)


def test_unknown_provider_and_bad_options() -> None:
    with pytest.raises(fastsse.UsageError, match="known providers: openai"):
        ChunkDecoder("nope")
    with pytest.raises(ValueError):
        ChunkDecoder("openai", max_event_size=0)
    with pytest.raises(fastsse.UsageError, match="streams text/event-stream"):
        ChunkDecoder("openai", content_type="application/x-ndjson")


def test_accepts_any_bytes_like_object() -> None:
    for data in (TEXT_EVENT, bytearray(TEXT_EVENT), memoryview(TEXT_EVENT)):
        decoder = ChunkDecoder("openai")
        assert [c.text_delta for c in decoder.decode(data)] == ["hi"]
    assert repr(ChunkDecoder("anthropic")) == "ChunkDecoder('anthropic')"


def test_decode_after_flush_is_a_usage_error() -> None:
    decoder = ChunkDecoder("openai")
    decoder.decode(TEXT_EVENT)
    terminal = decoder.flush()
    assert terminal[-1].done
    with pytest.raises(fastsse.UsageError, match="after flush"):
        decoder.decode(TEXT_EVENT)


def test_error_waits_for_the_next_call_when_chunks_came_first() -> None:
    decoder = ChunkDecoder("openai")
    chunks = decoder.decode(TEXT_EVENT + b'data: {"error":{"message":"boom","code":"e1"}}\n\n')
    assert [c.text_delta for c in chunks] == ["hi"]
    with pytest.raises(fastsse.ProviderError) as info:
        decoder.decode(b"")
    assert (info.value.code, info.value.provider_message) == ("e1", "boom")
    with pytest.raises(fastsse.UsageError, match="after the decoder raised"):
        decoder.flush()


def test_event_size_cap() -> None:
    decoder = ChunkDecoder("openai", max_event_size=32)
    assert decoder.max_event_size == 32
    with pytest.raises(fastsse.EventTooLargeError) as info:
        decoder.decode(TEXT_EVENT)
    assert info.value.limit == 32


def test_json_body_detection() -> None:
    sniffing = ChunkDecoder("openai")
    assert not sniffing.json_body
    sniffing.decode(b"  \r\n")
    assert not sniffing.json_body
    sniffing.decode(BODY[:1])
    assert sniffing.json_body
    declared = ChunkDecoder("openai", content_type="application/json")
    assert declared.json_body
    assert declared.decode(BODY) == []  # a body is read whole, at flush
    flushed = declared.flush()
    assert [(c.text_delta, c.done, c.finish_reason) for c in flushed] == [
        ("hi", False, None),
        ("", True, "stop"),
    ]
    assert flushed[0].is_first and flushed[0].raw == BODY.decode()


def test_json_body_cap() -> None:
    decoder = ChunkDecoder("openai", max_event_size=16)
    with pytest.raises(fastsse.EventTooLargeError, match="JSON response body"):
        decoder.decode(BODY)


def test_content_type_parameters_and_case_are_ignored() -> None:
    decoder = ChunkDecoder("anthropic", content_type="Application/JSON; charset=utf-8")
    assert decoder.json_body
    assert not ChunkDecoder("anthropic", content_type="text/event-stream; charset=utf-8").json_body


def test_iter_chunks_reads_content_type_from_headers() -> None:
    class Response:
        def __init__(self) -> None:
            self.headers = {"content-type": "application/json"}
            self.closed = False

        def iter_bytes(self) -> list[bytes]:
            return [BODY]

        def close(self) -> None:
            self.closed = True

    response = Response()
    result = fastsse.collect(fastsse.iter_chunks(response, "openai"))
    assert (result.text, result.finish_reason) == ("hi", "stop")
    assert response.closed
    # An explicit option wins over the header.
    with pytest.raises(fastsse.UsageError):
        list(fastsse.iter_chunks(Response(), "openai", content_type="application/x-ndjson"))
