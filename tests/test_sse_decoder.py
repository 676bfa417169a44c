"""fastsse.SSEDecoder: the WHATWG event-stream interpretation, however the bytes are split.

Mirrors src-rust/sse/decoder.rs. The conformance table restates the WHATWG rules and the
cases of the WPT `eventsource/format-*` tests; each case is fed whole, byte by byte, at every
two-way split and with empty chunks around it.
"""

from __future__ import annotations

from collections.abc import Iterable

import fastsse
import pytest
from fastsse import EventTooLargeError, ProtocolError, ServerSentEvent, SSEDecoder, UsageError
from hypothesis import given, settings
from hypothesis import strategies as st
from support.reference_sse import reference_decode
from support.splits import (
    all_two_way_splits,
    at_points,
    decode_all,
    one_at_a_time,
    whole,
    with_leading_empty,
)


def decode_pieces(pieces: Iterable[bytes], **options: object) -> tuple[list[ServerSentEvent], SSEDecoder]:
    decoder = SSEDecoder(**options)  # type: ignore[arg-type]
    return decode_all(decoder, pieces), decoder


def E(data: str, event: str = "message", id: str = "", retry: int | None = None) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


# (name, stream, expected events, expected last_event_id, expected decoder.retry)
CONFORMANCE = [
    ("simple", b"data: hello\n\n", [E("hello")], "", None),
    ("two events", b"data: a\n\ndata: b\n\n", [E("a"), E("b")], "", None),
    ("multi-line data joined by LF", b"data: a\ndata: b\n\n", [E("a\nb")], "", None),
    ("CRLF line ends", b"data:test\r\ndata\ndata:test\r\n\r\n", [E("test\n\ntest")], "", None),
    ("CR line ends", b"data: a\rdata: b\r\r", [E("a\nb")], "", None),
    ("mixed line ends", b"data: a\r\ndata: b\rdata: c\n\r\n", [E("a\nb\nc")], "", None),
    (
        "one leading space stripped only",
        b"data:\ttest\rdata: \rdata:test\n\n",
        [E("\ttest\n\ntest")],
        "",
        None,
    ),
    ("two spaces keep one", b"data:  x\n\n", [E(" x")], "", None),
    ("no colon: field with empty value", b"data\n\n", [E("")], "", None),
    ("data: empty values", b"data:\n\ndata\ndata\n\ndata:test\n\n", [E(""), E("\n"), E("test")], "", None),
    ("event type", b"event: update\ndata: x\n\n", [E("x", event="update")], "", None),
    ("empty event type defaults", b"event: \ndata:data\n\n", [E("data")], "", None),
    (
        "event type resets after dispatch",
        b"event: a\ndata: 1\n\ndata: 2\n\n",
        [E("1", "a"), E("2")],
        "",
        None,
    ),
    ("event type reset by empty block", b"event: a\n\ndata: 2\n\n", [E("2")], "", None),
    (
        "id persists",
        b"id: 1\ndata: 1\n\ndata: 2\n\nid\ndata: 3\n\n",
        [E("1", id="1"), E("2", id="1"), E("3")],
        "",
        None,
    ),
    (
        "id with NUL ignored",
        b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
        [E("a", id="1"), E("b", id="1")],
        "1",
        None,
    ),
    ("id-only block commits id", b"id: 9\n\n", [], "9", None),
    ("id needs the blank line", b"data: x\n\nid: 5\n", [E("x")], "", None),
    ("comments", b": hi\ndata: a\n:\n: more\n\n:only\n\n", [E("a")], "", None),
    ("keep-alive after id makes no event", b"id: 4\n\n: ping\n\n: ping\n\n", [], "4", None),
    ("retry valid", b"retry:03000\ndata:x\n\n", [E("x", retry=3000)], "", 3000),
    ("retry bogus ignored", b"retry:3000\nretry:1000x\ndata:x\n\n", [E("x", retry=3000)], "", 3000),
    ("retry empty ignored", b"retry\ndata:x\n\n", [E("x")], "", None),
    ("retry only block dispatches nothing", b"retry: 10\n\n", [], "", 10),
    ("retry with space prefix only", b"retry:  10\ndata: x\n\n", [E("x")], "", None),
    ("retry belongs to its block", b"retry: 5\ndata: a\n\ndata: b\n\n", [E("a", retry=5), E("b")], "", 5),
    (
        "unknown fields",
        b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n",
        [E("test\n\ntest")],
        "",
        None,
    ),
    (
        "field parsing (WPT format-field-parsing)",
        b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5\n"
        b"data:3\rdata:\r\n data:32\ndata:4\n\n",
        [E("\x00\n 2\n1\n3\n\n4")],
        "",
        None,
    ),
    ("NUL in data", b"data:\x00\n\n", [E("\x00")], "", None),
    ("BOM stripped", b"\xef\xbb\xbfdata: 1\n\n", [E("1")], "", None),
    (
        "second BOM is part of a field name",
        b"\xef\xbb\xbf\xef\xbb\xbfdata: 1\n\ndata: 2\n\n",
        [E("2")],
        "",
        None,
    ),
    ("BOM later is data", b"data: \xef\xbb\xbf1\n\n", [E("\ufeff1")], "", None),
    ("unterminated event discarded", b"data: 1\n\ndata: 2", [E("1")], "", None),
    ("unterminated after one line break", b"data: 1\n\ndata: 2\n", [E("1")], "", None),
    ("UTF-8", "data: ok\u2026 \U0001f600\n\n".encode(), [E("ok\u2026 \U0001f600")], "", None),
    ("invalid UTF-8 becomes U+FFFD", b"data: a\xffb\xc3\n\n", [E("a\ufffdb\ufffd")], "", None),
    ("U+2028 is not a line break", "data: a\u2028b\x85c\n\n".encode(), [E("a\u2028b\x85c")], "", None),
    ("colon in value kept", b'data: {"a": "b:c"}\n\n', [E('{"a": "b:c"}')], "", None),
    ("field name is case-sensitive", b"Data: x\nDATA: y\n\n", [], "", None),
    ("space before colon is part of name", b"data : x\n\n", [], "", None),
    ("empty stream", b"", [], "", None),
    ("only blank lines", b"\n\n\r\n\r", [], "", None),
    ("OpenAI [DONE]", b'data: {"x":1}\n\ndata: [DONE]\n\n', [E('{"x":1}'), E("[DONE]")], "", None),
]


@pytest.mark.parametrize(
    ("name", "stream", "expected", "last_id", "retry"), CONFORMANCE, ids=[c[0] for c in CONFORMANCE]
)
def test_conformance_every_split(
    name: str, stream: bytes, expected: list[ServerSentEvent], last_id: str, retry: int | None
) -> None:
    splittings = [
        whole(stream),
        one_at_a_time(stream),
        with_leading_empty(stream),
        *all_two_way_splits(stream),
    ]
    for pieces in splittings:
        events, decoder = decode_pieces(pieces)
        assert events == expected, (name, pieces)
        assert decoder.last_event_id == last_id
        assert decoder.retry == retry


@pytest.mark.parametrize(
    ("name", "stream", "expected", "last_id", "retry"), CONFORMANCE, ids=[c[0] for c in CONFORMANCE]
)
def test_conformance_matches_reference(
    name: str, stream: bytes, expected: list[ServerSentEvent], last_id: str, retry: int | None
) -> None:
    ref = reference_decode(stream)
    assert [E(e.data, e.event, e.id, e.retry) for e in ref.events] == expected
    assert ref.last_event_id == last_id


def test_event_is_returned_by_the_call_that_completes_it() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"data: a\n") == []
    assert decoder.decode(b"\r") == [E("a")]  # a CR ends the event now, not when the next byte comes
    assert decoder.decode(b"\n") == []  # ... and the LF after it belongs to the same break
    assert decoder.decode(b"data: b\r\r") == [E("b")]


def test_dispatch_unterminated_option() -> None:
    events, _ = decode_pieces([b"data: 1\n\ndata: 2\ndata: 3"], dispatch_unterminated=True)
    assert events == [E("1"), E("2\n3")]
    events, _ = decode_pieces([b"data: 1\n\n"], dispatch_unterminated=True)
    assert events == [E("1")]


def test_accepts_bytes_like() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(bytearray(b"data: a\n")) == []
    assert decoder.decode(memoryview(b"xx\n\ndata: b\n\n")[2:]) == [E("a"), E("b")]
    with pytest.raises(TypeError):
        decoder.decode("data: text\n\n")  # type: ignore[arg-type]


def test_event_value_object() -> None:
    event = E("x", "t", "1", 5)
    assert event == ServerSentEvent("t", "x", "1", 5)
    assert event != E("x", "t", "1")
    assert hash(event) == hash(ServerSentEvent(event="t", data="x", id="1", retry=5))
    assert repr(event) == "ServerSentEvent(event='t', data='x', id='1', retry=5)"
    with pytest.raises(AttributeError):
        event.data = "y"  # type: ignore[misc]
    match event:
        case ServerSentEvent("t", data, "1"):
            assert data == "x"
        case _:
            pytest.fail("positional match failed")
    assert ServerSentEvent() == E("")
    assert E('{"a": [1, 2]}').json() == {"a": [1, 2]}
    with pytest.raises(ValueError):
        E("not json").json()


# --- limits and bad input ------------------------------------------------------------------


def test_event_too_large_names_limit_and_offset() -> None:
    decoder = SSEDecoder(max_event_size=64)
    decoder.decode(b"data: ok\n\n")
    with pytest.raises(EventTooLargeError) as info:
        decoder.decode(b"data: " + b"x" * 100 + b"\n\n")
    err = info.value
    assert isinstance(err, ProtocolError) and isinstance(err, ValueError)
    assert err.limit == 64
    assert err.offset is not None and 10 < err.offset <= 10 + 108
    assert "64 bytes" in str(err) and "offset" in str(err)


def test_limit_counts_the_unterminated_line() -> None:
    decoder = SSEDecoder(max_event_size=1024)
    with pytest.raises(EventTooLargeError):
        for _ in range(100):
            decoder.decode(b"x" * 100)  # an endless line, never terminated


def test_limit_counts_the_whole_block() -> None:
    decoder = SSEDecoder(max_event_size=100)
    with pytest.raises(EventTooLargeError):
        for _ in range(20):
            decoder.decode(b"data: 0123456789\n")


def test_many_events_under_the_limit_are_fine() -> None:
    decoder = SSEDecoder(max_event_size=32)
    events = decoder.decode(b"data: 0123456789\n\n" * 1000)
    assert len(events) == 1000


def test_usage_errors() -> None:
    decoder = SSEDecoder()
    decoder.flush()
    with pytest.raises(UsageError):
        decoder.decode(b"data: x\n\n")
    with pytest.raises(UsageError):
        decoder.flush()
    failed = SSEDecoder(max_event_size=4)
    with pytest.raises(EventTooLargeError):
        failed.decode(b"data: xxxxx")
    with pytest.raises(UsageError, match="after the decoder raised"):
        failed.decode(b"\n\n")
    with pytest.raises(ValueError):
        SSEDecoder(max_event_size=0)


def test_random_garbage_never_crashes() -> None:
    import random

    rng = random.Random(1234)
    for _ in range(200):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
        decoder = SSEDecoder()
        for piece in at_points(blob, [rng.randrange(len(blob) + 1) for _ in range(5)]):
            decoder.decode(piece)
        decoder.flush()


def test_long_line_in_small_pieces_is_linear() -> None:
    # 8 MiB in 1 KiB pieces: with rescanning this would take minutes; here it is ~ms.
    line = b"data: " + b"x" * (8 * 1024 * 1024) + b"\n\n"
    decoder = SSEDecoder()
    events = []
    for start in range(0, len(line), 1024):
        events.extend(decoder.decode(line[start : start + 1024]))
    assert len(events) == 1 and len(events[0].data) == 8 * 1024 * 1024


# --- properties ----------------------------------------------------------------------------

SSE_ALPHABET = [
    b"data",
    b"event",
    b"id",
    b"retry",
    b":",
    b" ",
    b"\n",
    b"\r",
    b"\r\n",
    b"x",
    b"7",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xe2\x80\xa8",
    b"\xff",
    b"\xc3",
    "é".encode(),
    "😀".encode(),
]

sse_like_bytes = st.lists(st.sampled_from(SSE_ALPHABET), max_size=60).map(b"".join)


def _valid_event() -> st.SearchStrategy[bytes]:
    text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20)
    field = st.one_of(
        text.map(lambda t: b"data: " + t.encode()),
        text.map(lambda t: b"event: " + t.encode()),
        text.map(lambda t: b"id: " + t.encode()),
        st.integers(0, 10**6).map(lambda n: b"retry: %d" % n),
        text.map(lambda t: b": " + t.encode()),
    )
    newline = st.sampled_from([b"\n", b"\r", b"\r\n"])
    return st.lists(st.tuples(field, newline), min_size=1, max_size=5).flatmap(
        lambda lines: newline.map(lambda end: b"".join(f + n for f, n in lines) + end)
    )


valid_streams = st.lists(_valid_event(), max_size=8).map(b"".join)


def _as_tuples(events: list[ServerSentEvent]) -> list[tuple[str, str, str, int | None]]:
    return [(e.event, e.data, e.id, e.retry) for e in events]


@settings(max_examples=300, deadline=None)
@given(stream=st.one_of(sse_like_bytes, valid_streams), cuts=st.lists(st.integers(0, 2000), max_size=8))
def test_property_split_invariance_and_reference(stream: bytes, cuts: list[int]) -> None:
    expected = reference_decode(stream)
    expected_tuples = [(e.event, e.data, e.id, e.retry) for e in expected.events]
    for pieces in (whole(stream), one_at_a_time(stream), at_points(stream, cuts)):
        events, decoder = decode_pieces(pieces)
        assert _as_tuples(events) == expected_tuples
        assert decoder.last_event_id == expected.last_event_id
        assert decoder.retry == expected.retry


@settings(max_examples=100, deadline=None)
@given(stream=st.one_of(sse_like_bytes, valid_streams), cuts=st.lists(st.integers(0, 2000), max_size=8))
def test_property_dispatch_unterminated_matches_reference(stream: bytes, cuts: list[int]) -> None:
    expected = reference_decode(stream, dispatch_unterminated=True)
    events, _ = decode_pieces(at_points(stream, cuts), dispatch_unterminated=True)
    assert _as_tuples(events) == [(e.event, e.data, e.id, e.retry) for e in expected.events]


def test_public_names() -> None:
    for name in ("ServerSentEvent", "SSEDecoder", "iter_sse", "aiter_sse", "FastSSEError"):
        assert name in fastsse.__all__
