//! Server-Sent Events framing: the WHATWG "event stream interpretation", exactly.
//!
//! Follows https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation:
//! lines end at CRLF, CR or LF (a CR ending one chunk and an LF starting the next count once), a
//! leading BOM is dropped, invalid UTF-8 becomes U+FFFD, `id` values containing NUL are ignored,
//! `retry` takes ASCII digits only, and blocks whose data buffer is empty dispatch nothing.
//!
//! Cost is linear in the bytes fed, however they are split: the scan of each chunk starts where
//! the previous one stopped and only the unfinished line is copied (into `tail`).

use memchr::memchr2;

use super::Lifecycle;
use crate::error::{Error, Result};
use crate::utf8::decode_lossy as lossy;

mod writer;
pub use writer::{write_event, OutgoingEvent};

/// 64 MiB: large enough for any real LLM event, small enough to stop a runaway stream.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 64 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseConfig {
    /// Cap on the bytes of one event block, counting its unfinished line.
    pub max_event_size: usize,
    /// Dispatch an event left unterminated at end of stream (servers that omit the final blank
    /// line). The standard says to discard it, so this is off by default.
    pub dispatch_unterminated: bool,
}

impl Default for SseConfig {
    fn default() -> Self {
        SseConfig {
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            dispatch_unterminated: false,
        }
    }
}

/// A dispatched event, borrowing the decoder's buffers; valid for the callback only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEventView<'a> {
    pub event: &'a str,
    pub data: &'a str,
    /// The last-event-ID string at dispatch ("" if none was ever set).
    pub id: &'a str,
    /// The value of a valid `retry` field inside this event's block, if any.
    pub retry: Option<u64>,
    /// Stream byte offset just past the line that dispatched the event.
    pub offset: u64,
}

/// An owned event, for callers that keep events around.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
    pub id: String,
    pub retry: Option<u64>,
}

impl From<SseEventView<'_>> for SseEvent {
    fn from(view: SseEventView<'_>) -> Self {
        SseEvent {
            event: view.event.to_owned(),
            data: view.data.to_owned(),
            id: view.id.to_owned(),
            retry: view.retry,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BomState {
    /// Still at the very start: the bytes held in `tail` may be a prefix of a BOM.
    Undecided,
    Done,
}

#[derive(Debug)]
pub struct SseDecoder {
    config: SseConfig,
    /// Bytes of the line still waiting for its terminator (never contains CR or LF).
    tail: Vec<u8>,
    /// The previous chunk ended with CR: an LF opening the next chunk belongs to that break.
    skip_lf: bool,
    bom: BomState,
    data: String,
    event_type: String,
    /// The "last event ID buffer": set by `id` fields, committed at each blank line.
    id_buffer: String,
    last_event_id: String,
    block_retry: Option<u64>,
    retry: Option<u64>,
    /// Bytes of the current event block consumed so far (complete lines only).
    block_bytes: usize,
    /// Stream offset of the first byte of the chunk being decoded.
    consumed: u64,
    lifecycle: Lifecycle,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::new(SseConfig::default())
    }
}

impl SseDecoder {
    pub fn new(config: SseConfig) -> Self {
        SseDecoder {
            config,
            tail: Vec::new(),
            skip_lf: false,
            bom: BomState::Undecided,
            data: String::new(),
            event_type: String::new(),
            id_buffer: String::new(),
            last_event_id: String::new(),
            block_retry: None,
            retry: None,
            block_bytes: 0,
            consumed: 0,
            lifecycle: Lifecycle::new("SSEDecoder"),
        }
    }

    pub fn config(&self) -> &SseConfig {
        &self.config
    }

    /// The last-event-ID string, as committed by the latest blank line.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The latest valid reconnection time (ms) seen in the stream.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Total bytes fed so far.
    pub fn position(&self) -> u64 {
        self.consumed
    }

    /// Decode owned events into `out`.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<SseEvent>) -> Result<()> {
        self.decode_with(input, |view| {
            out.push(view.into());
            Ok(())
        })
    }

    /// End of stream, owned events.
    pub fn flush(&mut self, out: &mut Vec<SseEvent>) -> Result<()> {
        self.flush_with(|view| {
            out.push(view.into());
            Ok(())
        })
    }

    /// Feed bytes; `on_event` sees every event these bytes complete, in order. An error from
    /// the callback stops decoding and poisons the decoder.
    pub fn decode_with<F>(&mut self, input: &[u8], mut on_event: F) -> Result<()>
    where
        F: FnMut(SseEventView<'_>) -> Result<()>,
    {
        self.lifecycle.check("decode")?;
        let result = self.decode_inner(input, &mut on_event);
        self.lifecycle.after_decode(result)
    }

    /// End of stream: an unterminated event is discarded (or dispatched, if configured).
    pub fn flush_with<F>(&mut self, mut on_event: F) -> Result<()>
    where
        F: FnMut(SseEventView<'_>) -> Result<()>,
    {
        self.lifecycle.check("flush")?;
        let result = self.flush_inner(&mut on_event);
        self.lifecycle.after_flush(result)
    }

    fn flush_inner(
        &mut self,
        on_event: &mut dyn FnMut(SseEventView<'_>) -> Result<()>,
    ) -> Result<()> {
        if self.bom == BomState::Undecided {
            // A stream shorter than a BOM: what was held is ordinary text.
            self.bom = BomState::Done;
        }
        if !self.config.dispatch_unterminated {
            return Ok(());
        }
        if !self.tail.is_empty() {
            let line = std::mem::take(&mut self.tail);
            self.process_line(&line);
        }
        self.dispatch(on_event)
    }

    fn decode_inner(
        &mut self,
        mut input: &[u8],
        on_event: &mut dyn FnMut(SseEventView<'_>) -> Result<()>,
    ) -> Result<()> {
        let chunk_start = self.consumed;
        self.consumed += input.len() as u64;
        let mut pos_base = chunk_start;

        if self.bom == BomState::Undecided && self.tail.is_empty() && input.len() >= BOM.len() {
            // The whole BOM-or-not is in this chunk: decide in place, so the first line is
            // scanned straight from `input` like every other.
            self.bom = BomState::Done;
            if input.starts_with(BOM) {
                input = &input[BOM.len()..];
                pos_base += BOM.len() as u64;
            }
        }
        if self.bom == BomState::Undecided {
            // Hold bytes in `tail` until they are known to be (or not be) a BOM.
            let need = BOM.len() - self.tail.len();
            let take = need.min(input.len());
            self.tail.extend_from_slice(&input[..take]);
            input = &input[take..];
            pos_base += take as u64;
            if !BOM.starts_with(&self.tail) {
                self.bom = BomState::Done;
                // The held bytes are ordinary data: re-feed them through the line scanner.
                let held = std::mem::take(&mut self.tail);
                self.scan(&held, chunk_start, on_event)?;
            } else if self.tail.len() == BOM.len() {
                self.bom = BomState::Done;
                self.tail.clear();
            } else {
                return Ok(());
            }
        }
        self.scan(input, pos_base, on_event)
    }

    /// Split `input` into lines, completing the carried-over `tail` first.
    ///
    /// The chunk is validated as UTF-8 once, whole (the long ASCII runs of real streams go at
    /// word speed), then searched with one `memchr2` per line: nothing is copied but the
    /// unfinished last line, and an event whose data is one line inside this chunk is handed to
    /// `on_event` straight from `input` (`pending`), never copied into `data`.
    fn scan<'i>(
        &mut self,
        mut input: &'i [u8],
        mut offset: u64,
        on_event: &mut dyn FnMut(SseEventView<'_>) -> Result<()>,
    ) -> Result<()> {
        if self.skip_lf && !input.is_empty() {
            self.skip_lf = false;
            if input[0] == b'\n' {
                input = &input[1..];
                offset += 1;
            }
        }
        // `valid` is the UTF-8 prefix of `input`, kept in step with it (all of it, but for
        // invalid bytes or a character cut at the chunk's end).
        let mut valid = match std::str::from_utf8(input) {
            Ok(text) => text,
            Err(error) => std::str::from_utf8(&input[..error.valid_up_to()]).unwrap_or_default(),
        };
        // The data of the event being built while it is one valid line of `input` (the usual case).
        let mut pending: Option<&'i str> = None;
        let mut result = Ok(());
        while let Some(end) = memchr2(b'\r', b'\n', input) {
            let after = match input[end] {
                b'\n' => end + 1,
                _ => match input.get(end + 1) {
                    Some(b'\n') => end + 2,
                    Some(_) => end + 1,
                    None => {
                        self.skip_lf = true;
                        end + 1
                    }
                },
            };
            offset += after as u64;
            let line = Line {
                bytes: &input[..end],
                text: valid.get(..end),
            };
            result = if self.tail.is_empty() {
                self.borrowed_line(line, offset, &mut pending, on_event)
            } else {
                self.tail_line(line.bytes, offset)
            };
            input = &input[after..];
            // Line breaks are ASCII, so `after` is a character boundary of `valid` or past it.
            valid = valid.get(after..).unwrap_or_default();
            if result.is_ok() && after == end + 1 && input.first() == Some(&b'\n') {
                // A line ended by LF and followed by LF, the usual end of an event: the blank
                // line needs no search.
                offset += 1;
                input = &input[1..];
                valid = valid.get(1..).unwrap_or_default();
                result = self.borrowed_line(Line::BLANK, offset, &mut pending, on_event);
            }
            if result.is_err() {
                break;
            }
        }
        if let Some(text) = pending {
            // The event continues past this chunk: its data must outlive `input`.
            self.push_data(text);
        }
        result?;
        if !input.is_empty() {
            let pending = self.block_bytes + self.tail.len() + input.len();
            if pending > self.config.max_event_size {
                return Err(self.too_large(offset + input.len() as u64));
            }
            self.tail.extend_from_slice(input);
        }
        Ok(())
    }

    /// A whole line of the current chunk.
    fn borrowed_line<'i>(
        &mut self,
        line: Line<'i>,
        offset: u64,
        pending: &mut Option<&'i str>,
        on_event: &mut dyn FnMut(SseEventView<'_>) -> Result<()>,
    ) -> Result<()> {
        let Line { bytes: line, text } = line;
        self.account(line.len(), offset)?;
        if line.is_empty() {
            let result = self.dispatch_at(pending.take(), offset, on_event);
            self.block_bytes = 0;
            return result;
        }
        self.block_bytes += line.len() + 1;
        let Some((field, value)) = split_field(line) else {
            return Ok(());
        };
        if field == b"data" {
            if pending.is_none() && self.data.is_empty() {
                // The value is the end of the line: its text is the end of the line's text.
                if let Some(text) = text.and_then(|text| text.get(line.len() - value.len()..)) {
                    *pending = Some(text);
                    return Ok(());
                }
            }
            if let Some(earlier) = pending.take() {
                self.push_data(earlier);
            }
            self.push_data(&lossy(value));
        } else {
            self.field(field, value);
        }
        Ok(())
    }

    /// The line that completes the carried-over `tail` (never empty, never a dispatch).
    fn tail_line(&mut self, rest: &[u8], offset: u64) -> Result<()> {
        self.account(self.tail.len() + rest.len(), offset)?;
        let mut line = std::mem::take(&mut self.tail);
        line.extend_from_slice(rest);
        self.block_bytes += line.len() + 1;
        self.process_line(&line);
        line.clear();
        self.tail = line; // keep the allocation for the next long line
        Ok(())
    }

    fn account(&self, line_len: usize, offset: u64) -> Result<()> {
        if self.block_bytes + line_len > self.config.max_event_size {
            return Err(self.too_large(offset));
        }
        Ok(())
    }

    fn too_large(&self, offset: u64) -> Error {
        Error::EventTooLarge {
            what: "SSE event",
            limit: self.config.max_event_size,
            offset,
        }
    }

    fn push_data(&mut self, text: &str) {
        self.data.push_str(text);
        self.data.push('\n');
    }

    fn process_line(&mut self, line: &[u8]) {
        match split_field(line) {
            Some((b"data", value)) => self.push_data(&lossy(value)),
            Some((field, value)) => self.field(field, value),
            None => {}
        }
    }

    /// Every field but `data`.
    fn field(&mut self, field: &[u8], value: &[u8]) {
        match field {
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&lossy(value));
            }
            b"id" if memchr::memchr(0, value).is_none() => {
                self.id_buffer.clear();
                self.id_buffer.push_str(&lossy(value));
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // Digits beyond u64 saturate: the largest delay we can represent.
                let ms = value.iter().fold(0u64, |acc, d| {
                    acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
                self.retry = Some(ms);
                self.block_retry = Some(ms);
            }
            _ => {} // unknown fields are ignored
        }
    }

    fn dispatch(&mut self, on_event: &mut dyn FnMut(SseEventView<'_>) -> Result<()>) -> Result<()> {
        let offset = self.consumed;
        self.dispatch_at(None, offset, on_event)
    }

    /// A blank line: dispatch the event built so far, its data `pending` (one borrowed line) or
    /// in `data`.
    fn dispatch_at(
        &mut self,
        pending: Option<&str>,
        offset: u64,
        on_event: &mut dyn FnMut(SseEventView<'_>) -> Result<()>,
    ) -> Result<()> {
        // Not `!=` alone: comparing two empty strings calls memcmp on dangling pointers, and
        // glibc's masked-load memcmp then takes a slow assist (~100 ns an event).
        if self.last_event_id.len() != self.id_buffer.len()
            || (!self.id_buffer.is_empty() && self.last_event_id != self.id_buffer)
        {
            self.last_event_id.clone_from(&self.id_buffer);
        }
        let retry = self.block_retry.take();
        let data = match pending {
            Some(text) => text,
            None if self.data.is_empty() => {
                self.event_type.clear();
                return Ok(());
            }
            None => &self.data[..self.data.len() - 1], // drop the one trailing LF
        };
        let event = if self.event_type.is_empty() {
            "message"
        } else {
            self.event_type.as_str()
        };
        let result = on_event(SseEventView {
            event,
            data,
            id: &self.last_event_id,
            retry,
            offset,
        });
        self.data.clear();
        self.event_type.clear();
        result
    }
}

/// One line of the chunk being scanned: its bytes, and the same as text when they are valid UTF-8.
#[derive(Clone, Copy)]
struct Line<'i> {
    bytes: &'i [u8],
    text: Option<&'i str>,
}

impl Line<'_> {
    const BLANK: Line<'static> = Line {
        bytes: b"",
        text: Some(""),
    };
}

/// A line's field name and value (one leading space dropped), or None for a comment.
#[inline]
fn split_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    if let Some(value) = line.strip_prefix(b"data:") {
        // The common line, without a search for the colon.
        return Some((b"data", value.strip_prefix(b" ").unwrap_or(value)));
    }
    if line.first() == Some(&b':') {
        return None;
    }
    Some(match memchr::memchr(b':', line) {
        Some(colon) => {
            let value = &line[colon + 1..];
            (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
        }
        None => (line, &line[line.len()..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(parts: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        for part in parts {
            decoder.decode(part, &mut out).unwrap();
        }
        decoder.flush(&mut out).unwrap();
        out
    }

    fn ev(event: &str, data: &str, id: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            id: id.into(),
            retry: None,
        }
    }

    #[test]
    fn simple_event() {
        assert_eq!(
            decode_all(&[b"data: hello\n\n"]),
            vec![ev("message", "hello", "")]
        );
    }

    #[test]
    fn cr_at_chunk_end_dispatches_now() {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        decoder.decode(b"data: a\r\r", &mut out).unwrap();
        assert_eq!(out.len(), 1);
        decoder.decode(b"\ndata: b\r\n\r\n", &mut out).unwrap();
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[1].data, "b");
    }

    #[test]
    fn split_crlf_is_one_break() {
        assert_eq!(
            decode_all(&[b"data: a\r", b"\n", b"\r", b"\n"]),
            vec![ev("message", "a", "")]
        );
    }

    #[test]
    fn bom_split() {
        assert_eq!(
            decode_all(&[b"\xEF", b"\xBB", b"\xBFdata: x\n\n"]),
            vec![ev("message", "x", "")]
        );
        // Only one BOM is stripped; a second one is part of the field name.
        assert_eq!(
            decode_all(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"]),
            vec![]
        );
    }

    #[test]
    fn id_only_block_commits_id_but_dispatches_nothing() {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        decoder.decode(b"id: 7\n\n: ping\n\n", &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(decoder.last_event_id(), "7");
        decoder.decode(b"data: x\n\n", &mut out).unwrap();
        assert_eq!(out, vec![ev("message", "x", "7")]);
    }

    #[test]
    fn limit_covers_unterminated_line() {
        let mut decoder = SseDecoder::new(SseConfig {
            max_event_size: 16,
            ..Default::default()
        });
        let mut out = Vec::new();
        decoder.decode(b"data: 0123456", &mut out).unwrap();
        let err = decoder.decode(b"789abcdef", &mut out).unwrap_err();
        assert!(
            matches!(err, Error::EventTooLarge { limit: 16, .. }),
            "{err}"
        );
        assert!(matches!(
            decoder.decode(b"\n\n", &mut out),
            Err(Error::Usage { .. })
        ));
    }

    #[test]
    fn data_borrowed_from_the_chunk_or_copied_gives_the_same_events() {
        let stream: &[u8] = b"data: one\n\ndata: a\ndata: b\n\ndata: \xff\n\ndata:\n\ndata: x\n";
        let expected = vec![
            ev("message", "one", ""),
            ev("message", "a\nb", ""),
            ev("message", "\u{fffd}", ""),
            ev("message", "", ""),
            ev("message", "x", ""),
        ];
        assert_eq!(decode_all(&[stream, b"\n"]), expected);
        // Each cut leaves a pending one-line event to be copied before the chunk goes away.
        for cut in 0..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(decode_all(&[a, b, b"\n"]), expected, "cut at {cut}");
        }
    }

    #[test]
    fn unterminated_event_discarded_unless_configured() {
        assert_eq!(decode_all(&[b"data: x\n"]), vec![]);
        let mut decoder = SseDecoder::new(SseConfig {
            dispatch_unterminated: true,
            ..Default::default()
        });
        let mut out = Vec::new();
        decoder.decode(b"data: x\ndata: y", &mut out).unwrap();
        decoder.flush(&mut out).unwrap();
        assert_eq!(out, vec![ev("message", "x\ny", "")]);
    }
}
