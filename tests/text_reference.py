"""A straightforward pure-Python implementation of `fastsse.TextParser`'s semantics for stop
strings, reasoning markers and Hermes tool calls.

It is what one would write without the Rust core: keep the unprocessed text in a buffer, look
for the markers with `str.find`, hold back the longest suffix that is a prefix of a marker, walk
the JSON of a tool call character by character (streaming the arguments as they arrive) and
validate the arguments once with `json.loads` when the call ends. It is linear too (the buffer
only ever holds text that may still be part of a marker). Used as the oracle of
`test_text_reference.py` on well-formed streams and as the baseline of
`benches/python/bench_text.py`. Malformed JSON is only detected at the end of a call here, so
on invalid calls its output differs from the Rust parser's (which stops at the first bad byte).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

TOOL_OPEN = "<tool_call>"
TOOL_CLOSE = "</tool_call>"
JSON_WS = " \t\n\r"


@dataclass(slots=True)
class RefToolCallDelta:
    index: int
    id: str | None = None
    function_name: str | None = None
    arguments_delta: str = ""


@dataclass(slots=True)
class RefChunk:
    text_delta: str = ""
    reasoning_delta: str = ""
    done: bool = False
    is_first: bool = False
    finish_reason: str | None = None
    tool_call_delta: RefToolCallDelta | None = None
    error_code: str | None = None
    error_message: str | None = None
    stop_sequence: str | None = None


class _Markers:
    """Earliest-completing marker (ties by list order) and the held-back suffix length."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = patterns
        self.longest = max((len(p) for p in patterns), default=0)
        self.firsts = {p[0] for p in patterns}

    def search(self, buf: str) -> tuple[int, int, int] | None:
        best: tuple[int, int, int] | None = None
        for index, pattern in enumerate(self.patterns):
            start = buf.find(pattern)
            if start >= 0:
                end = start + len(pattern)
                if best is None or end < best[2]:
                    best = (index, start, end)
        return best

    def held(self, buf: str) -> int:
        # The earliest position in the tail where a marker could begin and still be growing.
        for i in range(max(0, len(buf) - self.longest + 1), len(buf)):
            if buf[i] in self.firsts:
                suffix = buf[i:]
                if any(p.startswith(suffix) and len(p) > len(suffix) for p in self.patterns):
                    return len(buf) - i
        return 0


@dataclass(slots=True)
class _Call:
    """The Hermes call being read: a character-level walk of its JSON envelope."""

    raw: str = TOOL_OPEN
    phase: str = "open"  # open, json, close
    depth: int = 0
    in_string: bool = False
    escape: bool = False
    expect_key: bool = False
    key: str = ""
    member: str = ""  # "key", "name", "args", "skip" or "" between members
    scalar: bool = False  # the member is a number or literal (ends at the next delimiter)
    buffer: str = ""
    name_raw: str = ""
    args: str = ""
    args_sent: int = 0
    args_seen: bool = False
    index: int = -1
    close_matched: int = 0
    call_id: str = field(default_factory=lambda: "call_" + secrets.token_hex(12))


class ReferenceTextParser:
    def __init__(
        self,
        *,
        stop: list[str] | None = None,
        include_stop: bool = False,
        reasoning_start: list[str] | None = None,
        reasoning_end: list[str] | None = None,
        starts_inside: bool = False,
        hermes: bool = False,
    ) -> None:
        self.stop = list(stop or [])
        if any(not s for s in self.stop):
            raise ValueError("stop strings must be non-empty")
        self.include_stop = include_stop
        starts = list(reasoning_start or [])
        ends = list(reasoning_end or [])
        self.kinds = [("reasoning", s) for s in starts]
        self.kinds += [("tool", TOOL_OPEN)] if hermes else []
        self.kinds += [("stop", s) for s in self.stop]
        self.answer = _Markers([p for _, p in self.kinds])
        self.reasoning_kinds = [("end", e) for e in ends] + [("start", s) for s in starts]
        # A call opened inside reasoning ends it; one that never gets a name is read again as
        # reasoning.
        self.reasoning_kinds += [("tool", TOOL_OPEN)] if hermes else []
        self.opened_in_reasoning = False
        self.reread = ""
        self.reasoning = _Markers([p for _, p in self.reasoning_kinds])
        self.mode = "reasoning" if starts_inside else "answer"
        self.reasoning_blank = True
        self.buf = ""
        self.out: list[RefChunk] = []
        self.first_sent = False
        self.calls = 0
        self.call: _Call | None = None
        self.stopped: str | None = None
        self.flushed = False

    # -- output -----------------------------------------------------------------------------

    def _push(self, chunk: RefChunk) -> None:
        if not self.first_sent:
            chunk.is_first = True
            self.first_sent = True
        self.out.append(chunk)

    def _text(self, text: str) -> None:
        if text:
            if self.out and self.out[-1].text_delta:
                self.out[-1].text_delta += text
            else:
                self._push(RefChunk(text_delta=text))

    def _reasoning(self, text: str) -> None:
        if text:
            self.reasoning_blank = self.reasoning_blank and not text.strip()
            if self.out and self.out[-1].reasoning_delta:
                self.out[-1].reasoning_delta += text
            else:
                self._push(RefChunk(reasoning_delta=text))

    def _arguments(self, call: _Call, text: str) -> None:
        if not text:
            return
        last = self.out[-1].tool_call_delta if self.out else None
        if last is not None and last.index == call.index:
            last.arguments_delta += text
        else:
            self._push(RefChunk(tool_call_delta=RefToolCallDelta(call.index, arguments_delta=text)))

    # -- modes ------------------------------------------------------------------------------

    def decode(self, text: str) -> list[RefChunk]:
        if self.flushed:
            raise RuntimeError("decode() after flush()")
        self.out = []
        if self.stopped is not None:
            return self.out
        self._run(self.buf + text)
        return self.out

    def _run(self, buf: str) -> None:
        while buf and self.stopped is None:
            if self.mode == "tool":
                used = self._tool(buf)
                buf, self.reread = self.reread + buf[used:], ""
                if self.mode == "tool":
                    break
                continue
            markers = self.answer if self.mode == "answer" else self.reasoning
            emit = self._text if self.mode == "answer" else self._reasoning
            found = markers.search(buf)
            if found is None:
                keep = markers.held(buf)
                emit(buf[: len(buf) - keep])
                buf = buf[len(buf) - keep :]
                break
            index, start, end = found
            emit(buf[:start])
            buf = buf[end:]
            if self.mode == "answer":
                kind, pattern = self.kinds[index]
                if kind == "reasoning":
                    self.mode = "reasoning"
                    self.reasoning_blank = True
                elif kind == "tool":
                    self.mode = "tool"
                    self.call = _Call()
                else:
                    if self.include_stop:
                        self._text(pattern)
                    self.stopped = pattern
            else:
                kind, pattern = self.reasoning_kinds[index]
                if kind == "end":
                    self.mode = "answer"
                elif kind == "tool":
                    self.mode = "tool"
                    self.call = _Call()
                    self.opened_in_reasoning = True
                elif not self.reasoning_blank:
                    self._reasoning(pattern)
        self.buf = buf if self.stopped is None else ""

    def _announce(self, call: _Call) -> bool:
        try:
            name = json.loads(call.name_raw)
        except ValueError:
            return False
        if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name.strip()):
            return False
        call.index = self.calls
        self.calls += 1
        self.opened_in_reasoning = False
        delta = RefToolCallDelta(call.index, call.call_id, name.strip(), call.args)
        call.args_sent = len(call.args)
        self._push(RefChunk(tool_call_delta=delta))
        return True

    def _fallback(self, call: _Call) -> None:
        if self.opened_in_reasoning:
            # Not a call after all: the opener is reasoning, the rest is read again.
            self._reasoning(TOOL_OPEN)
            self.reread = call.raw[len(TOOL_OPEN) :]
            self.mode = "reasoning"
        else:
            self._text(call.raw)
            self.mode = "answer"
        self.opened_in_reasoning = False
        self.call = None

    def _tool(self, buf: str) -> int:
        """Consume Hermes call text from `buf`; return how much was used."""
        call = self.call
        assert call is not None
        i = 0
        n = len(buf)
        while i < n:
            ch = buf[i]
            if call.phase == "open":
                if ch in JSON_WS:
                    call.raw += ch
                    i += 1
                    continue
                if ch != "{":
                    self._fallback(call)
                    return i
                call.phase = "json"
                continue
            if call.phase == "close":
                if call.close_matched == 0 and ch in JSON_WS:
                    i += 1
                    continue
                if TOOL_CLOSE[call.close_matched] == ch:
                    call.close_matched += 1
                    i += 1
                    if call.close_matched == len(TOOL_CLOSE):
                        self.mode, self.call = "answer", None
                        return i
                    continue
                self._text(TOOL_CLOSE[: call.close_matched])
                self.mode, self.call = "answer", None
                return i
            # The envelope, one character at a time.
            if call.scalar and call.depth == 1 and (ch in ",}" or ch in JSON_WS):
                call.scalar = False
                self._member_end(call)
            if call.index < 0:
                call.raw += ch
            i += 1
            if call.in_string:
                if call.escape:
                    call.escape = False
                elif ch == "\\":
                    call.escape = True
                elif ch == '"':
                    call.in_string = False
                self._member_text(call, ch)
                if not call.in_string and call.depth == 1:
                    self._member_end(call)
                continue
            if ch in JSON_WS:
                if call.depth > 1:
                    self._member_text(call, ch)
                continue
            if call.depth == 1 and call.member == "" and ch in ",:":
                call.expect_key = ch == ","
                continue
            if call.depth == 1 and call.member == "":
                self._member_start(call)
            if ch == '"':
                call.in_string = True
                self._member_text(call, ch)
                continue
            if ch in "{[":
                call.depth += 1
                if call.depth == 1:
                    call.expect_key = True
                    continue
                self._member_text(call, ch)
                continue
            if ch in "}]":
                call.depth -= 1
                if call.depth == 0:
                    if call.member:
                        self._member_end(call)
                    self._envelope_end(call)
                    return i if self.mode != "tool" else self._after_envelope(buf, i)
                self._member_text(call, ch)
                if call.depth == 1:
                    self._member_end(call)
                continue
            if call.depth == 1 and call.member not in ("", "key"):
                call.scalar = True
            self._member_text(call, ch)
        self._flush_args(call)
        return n

    def _after_envelope(self, buf: str, i: int) -> int:
        return i + self._tool(buf[i:]) if i < len(buf) else i

    def _member_start(self, call: _Call) -> None:
        if call.expect_key:
            call.member, call.buffer = "key", ""
            return
        call.member = {"name": "name", "arguments": "args", "parameters": "args"}.get(call.key, "skip")
        if call.member == "name" and call.name_raw:
            call.member = "skip"
        if call.member == "args" and call.args_seen:
            call.member = "skip"

    def _member_text(self, call: _Call, ch: str) -> None:
        if call.member == "key":
            call.buffer += ch
        elif call.member == "name":
            call.name_raw += ch
        elif call.member == "args":
            call.args += ch

    def _member_end(self, call: _Call) -> None:
        if call.member == "key":
            call.key = json.loads(call.buffer)
            call.expect_key = False
        elif call.member == "name":
            if call.index < 0 and self._announce(call):
                call.raw = ""
        elif call.member == "args":
            call.args_seen = True
            self._flush_args(call)
        call.member = ""

    def _flush_args(self, call: _Call) -> None:
        if call.index >= 0 and call.args_sent < len(call.args):
            self._arguments(call, call.args[call.args_sent :])
            call.args_sent = len(call.args)

    def _envelope_end(self, call: _Call) -> None:
        if call.index < 0:
            self._fallback(call)
            return
        if not call.args_seen:
            call.args = "{}"
            call.args_seen = True
            self._flush_args(call)
        try:
            json.loads(call.args)  # validated once, at the end of the call
        except ValueError as exc:
            self._push(RefChunk(error_code="tool_call_invalid", error_message=str(exc)))
        call.phase = "close"

    def flush(self, finish_reason: str = "stop") -> list[RefChunk]:
        if self.flushed:
            raise RuntimeError("flush() called twice")
        self.flushed = True
        self.out = []
        while self.stopped is None and self.call is not None and self.call.index < 0:
            if not self.opened_in_reasoning:
                break
            self._fallback(self.call)
            self._run(self.reread)
            self.reread = ""
        if self.stopped is None:
            if self.mode == "answer":
                self._text(self.buf)
            elif self.mode == "reasoning":
                self._reasoning(self.buf)
            elif self.call is not None:
                if self.call.index < 0:
                    self._text(self.call.raw)
                elif self.call.phase != "close":
                    self._push(RefChunk(error_code="tool_call_incomplete", error_message="stream ended"))
        reason = "stop" if self.stopped is not None else finish_reason
        if reason == "stop" and self.calls:
            reason = "tool_calls"
        self.out.append(RefChunk(done=True, finish_reason=reason, stop_sequence=self.stopped))
        return self.out
