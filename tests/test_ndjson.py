"""fastsse.NDJSONDecoder (Ollama framing). Mirrors src-rust/ndjson.rs."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastsse import EventTooLargeError, NDJSONDecoder, UsageError
from hypothesis import given, settings
from hypothesis import strategies as st
from support.splits import at_points, decode_all, one_at_a_time, whole

DATA = Path(__file__).parent / "data"


def decode(pieces: list[bytes], **options: int) -> list[str]:
    return decode_all(NDJSONDecoder(**options), pieces)


def test_lines_blank_lines_crlf_and_missing_final_newline() -> None:
    stream = b'{"a":1}\r\n\n  \n{"b":2}\n{"c":3}'
    for pieces in (whole(stream), one_at_a_time(stream)):
        assert decode(pieces) == ['{"a":1}', '{"b":2}', '{"c":3}']


def test_invalid_utf8_is_replaced() -> None:
    assert decode([b'{"a":"\xff"}\n']) == ['{"a":"\ufffd"}']


def test_line_cap_and_usage() -> None:
    decoder = NDJSONDecoder(max_line_size=8)
    with pytest.raises(EventTooLargeError) as info:
        decoder.decode(b"0123456789")
    assert info.value.limit == 8
    with pytest.raises(UsageError):
        decoder.decode(b"\n")
    done = NDJSONDecoder()
    done.flush()
    with pytest.raises(UsageError):
        done.flush()


def test_real_ollama_capture_every_split() -> None:
    stream = (DATA / "ndjson" / "ollama-chat-stream.ndjson").read_bytes()
    expected = decode([stream])
    assert len(expected) == 22
    assert orjson.loads(expected[-1])["done"] is True
    assert decode(one_at_a_time(stream)) == expected
    for cut in range(0, len(stream), 37):
        assert decode([stream[:cut], stream[cut:]]) == expected


@settings(max_examples=200, deadline=None)
@given(
    stream=st.lists(
        st.sampled_from([b"{", b"}", b"\n", b"\r\n", b" ", b"x", b"\xc3\xa9", b"\xff"]), max_size=50
    ).map(b"".join),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
def test_property_split_invariance(stream: bytes, cuts: list[int]) -> None:
    assert decode(at_points(stream, cuts)) == decode([stream])
