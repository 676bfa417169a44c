"""fastsse.EventStreamDecoder: AWS eventstream framing (Bedrock), against the aws-sdk-go codec
vectors and real ConverseStream captures, whole, byte by byte and at random split points."""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from pathlib import Path

import fastsse
import pytest
from fastsse import ChecksumError, EventStreamDecoder, EventStreamMessage, ProtocolError, UsageError
from hypothesis import given, settings
from hypothesis import strategies as st
from support import eventstream
from support.splits import at_points, decode_all

DATA = Path(__file__).parent / "data" / "bedrock"
VECTORS = DATA / "codec-vectors"
POSITIVE = sorted(p.stem for p in (VECTORS / "positive").glob("*.bin"))
NEGATIVE = sorted(p.stem for p in (VECTORS / "negative").glob("*.bin"))
CAPTURES = sorted(DATA.glob("converse-stream-*.bin"))


def decode_pieces(
    pieces: list[bytes] | list[bytearray] | list[memoryview], **options: int
) -> list[EventStreamMessage]:
    return decode_all(EventStreamDecoder(**options), pieces)


def expected_value(header: dict[str, object]) -> object:
    kind, value = header["type"], header["value"]
    if kind in (6,):
        return base64.b64decode(str(value))
    if kind == 7:
        return base64.b64decode(str(value)).decode()
    if kind == 8:
        assert isinstance(value, int)
        return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
            milliseconds=value
        )
    if kind == 9:
        return uuid.UUID(bytes=base64.b64decode(str(value)))
    return value


@pytest.mark.parametrize("name", POSITIVE)
def test_positive_vector(name: str) -> None:
    data = (VECTORS / "positive" / f"{name}.bin").read_bytes()
    want = json.loads((VECTORS / "positive" / f"{name}.json").read_text())
    [message] = decode_pieces([data])
    assert message.payload == base64.b64decode(want["payload"])
    assert message.headers == {h["name"]: expected_value(h) for h in want["headers"]}
    # Python types follow the header types.
    for header in want["headers"]:
        value = message.headers[header["name"]]
        kind = {0: bool, 1: bool, 2: int, 3: int, 4: int, 5: int, 6: bytes, 7: str}.get(header["type"])
        if kind is not None:
            assert type(value) is kind


def test_all_header_types() -> None:
    data = (VECTORS / "positive" / "all_headers.bin").read_bytes()
    [message] = decode_pieces([data])
    headers = message.headers
    assert headers["bool true"] is True and headers["bool false"] is False
    assert headers["byte"] == -49
    assert headers["byte buf"] == b"I'm a little teapot!"
    assert headers["timestamp"] == datetime.datetime(
        1970, 1, 1, 2, 24, 35, 309000, tzinfo=datetime.timezone.utc
    )
    assert headers["uuid"] == uuid.UUID("01020304-0506-0708-090a-0b0c0d0e0f10")
    assert message == EventStreamMessage(headers, b"{'foo':'bar'}")
    assert message.event_type is None


@pytest.mark.parametrize("name", NEGATIVE)
def test_negative_vector(name: str) -> None:
    data = (VECTORS / "negative" / f"{name}.bin").read_bytes()
    expected = (VECTORS / "negative" / f"{name}.txt").read_text().strip()
    for pieces in ([data], [data[i : i + 1] for i in range(len(data))]):
        with pytest.raises(ChecksumError) as info:
            decode_pieces(pieces)
        error = info.value
        assert expected.split()[0].lower() in str(error)  # "prelude" / "message"
        assert error.expected != error.actual
        assert error.offset == 0
        assert isinstance(error, ProtocolError) and isinstance(error, ValueError)


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_captures_whole_and_byte_by_byte(path: Path) -> None:
    data = path.read_bytes()
    whole = decode_pieces([data])
    assert whole and all(m.message_type == "event" for m in whole)
    assert whole[0].event_type == "messageStart"
    assert whole[-1].event_type == "metadata"
    assert all(isinstance(m.json(), dict) for m in whole)
    assert decode_pieces([data[i : i + 1] for i in range(len(data))]) == whole
    assert decode_pieces([bytearray(data)]) == whole
    assert decode_pieces([memoryview(data)]) == whole


STREAM = b"".join(p.read_bytes() for p in CAPTURES[:3])
WHOLE = decode_pieces([STREAM])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_random_splits_give_identical_messages(cuts: list[int]) -> None:
    assert decode_pieces(at_points(STREAM, cuts)) == WHOLE


def encode(headers: list[tuple[str, str]], payload: bytes) -> bytes:
    """A minimal encoder (string headers only) to build test frames independently."""
    return eventstream.frame(eventstream.string_headers(headers), payload)


def test_size_cap() -> None:
    frame = encode([(":event-type", "x")], b"y" * 1000)
    with pytest.raises(fastsse.EventTooLargeError) as info:
        decode_pieces([frame], max_message_size=512)
    assert info.value.limit == 512
    assert decode_pieces([frame], max_message_size=len(frame))[0].payload == b"y" * 1000
    with pytest.raises(ValueError):
        EventStreamDecoder(max_message_size=3)


def test_truncated_stream_and_misuse() -> None:
    frame = encode([(":event-type", "x")], b"{}")
    decoder = EventStreamDecoder()
    assert decoder.decode(frame[:-3]) == []
    with pytest.raises(ProtocolError, match="stream ended inside an eventstream message"):
        decoder.flush()
    with pytest.raises(UsageError):
        decoder.decode(b"")


def test_poisoned_after_error() -> None:
    decoder = EventStreamDecoder()
    bad = bytearray(encode([], b"{}"))
    bad[-1] ^= 1
    with pytest.raises(ChecksumError):
        decoder.decode(bytes(bad))
    with pytest.raises(UsageError):
        decoder.decode(encode([], b"{}"))


def test_message_value_object() -> None:
    message = EventStreamMessage(
        {":event-type": "messageStop", ":message-type": "event"}, b'{"stopReason":"end_turn"}'
    )
    assert message.event_type == "messageStop"
    assert message.json() == {"stopReason": "end_turn"}
    assert repr(message).startswith("EventStreamMessage(headers={")
    match message:
        case EventStreamMessage(headers, payload):
            assert payload.startswith(b"{")
            assert headers[":message-type"] == "event"
    # The headers dict handed out is a copy: the message stays immutable.
    message.headers["x"] = 1
    assert "x" not in message.headers
    with pytest.raises(TypeError):
        hash(message)
    assert EventStreamMessage() == EventStreamMessage({}, b"")


def _botocore_view(value: object) -> object:
    """Our header value as botocore represents it (timestamps as ms, uuids as bytes)."""
    if isinstance(value, datetime.datetime):
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return (value - epoch) // datetime.timedelta(milliseconds=1)
    if isinstance(value, uuid.UUID):
        return value.bytes
    return value


@pytest.mark.parametrize(
    "path", [*CAPTURES, *sorted((VECTORS / "positive").glob("*.bin"))], ids=lambda p: p.name
)
def test_same_messages_as_botocore(path: Path) -> None:
    eventstream = pytest.importorskip("botocore.eventstream")
    buffer = eventstream.EventStreamBuffer()
    buffer.add_data(path.read_bytes())
    theirs = [(message.headers, message.payload) for message in buffer]
    ours = [
        ({k: _botocore_view(v) for k, v in m.headers.items()}, m.payload)
        for m in decode_pieces([path.read_bytes()])
    ]
    assert ours == theirs
