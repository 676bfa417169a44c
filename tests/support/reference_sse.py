"""A small, obviously-correct SSE decoder written straight from the WHATWG text.

It works on the whole stream at once (no incremental state), which is what makes it easy to
trust; the differential tests compare `fastsse.SSEDecoder` against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class RefEvent:
    event: str
    data: str
    id: str
    retry: int | None


@dataclass(frozen=True)
class RefResult:
    events: list[RefEvent]
    last_event_id: str
    retry: int | None


_LINE_BREAK = re.compile("\r\n|\r|\n")


def reference_decode(stream: bytes, *, dispatch_unterminated: bool = False) -> RefResult:
    text = stream.decode("utf-8", errors="replace")
    if stream.startswith(b"\xef\xbb\xbf"):
        text = text[1:]
    lines = _LINE_BREAK.split(text)
    unterminated = lines.pop()  # text after the last line break: not a complete line
    events: list[RefEvent] = []
    data, event_type, id_buffer, last_id = "", "", "", ""
    retry: int | None = None
    block_retry: int | None = None

    def dispatch() -> None:
        nonlocal data, event_type, last_id, block_retry
        last_id = id_buffer
        this_retry, block_retry = block_retry, None
        if data == "":
            event_type = ""
            return
        events.append(RefEvent(event_type or "message", data.removesuffix("\n"), last_id, this_retry))
        data, event_type = "", ""

    def process(line: str) -> None:
        nonlocal data, event_type, id_buffer, retry, block_retry
        if line.startswith(":"):
            return
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            data += value + "\n"
        elif field == "event":
            event_type = value
        elif field == "id":
            if "\0" not in value:
                id_buffer = value
        elif field == "retry":
            if value and all("0" <= c <= "9" for c in value):
                retry = block_retry = int(value)

    for line in lines:
        if line == "":
            dispatch()
        else:
            process(line)
    if dispatch_unterminated:
        if unterminated:
            process(unterminated)
        dispatch()  # the option treats the end of the stream as a blank line
    return RefResult(events, last_id, retry)
