//! AWS `application/vnd.amazon.eventstream` binary framing (Bedrock ConverseStream and others).
//!
//! A message is: a 12-byte prelude (total length u32, headers length u32, CRC32 of those 8
//! bytes), the headers, the payload, then a CRC32 of everything before it. Integers are
//! big-endian. Header: name length u8, name (UTF-8), type u8, value:
//!
//! | type | value                         | type | value                           |
//! |------|-------------------------------|------|---------------------------------|
//! | 0    | bool true (no bytes)          | 5    | int64                           |
//! | 1    | bool false (no bytes)         | 6    | byte array (u16 length + bytes) |
//! | 2    | byte (i8)                     | 7    | string (u16 length + UTF-8)     |
//! | 3    | int16                         | 8    | timestamp (i64 ms since epoch)  |
//! | 4    | int32                         | 9    | uuid (16 bytes)                 |
//!
//! The decoder is sans-IO: feed any split of the bytes. A message that arrives whole inside
//! one chunk is handed out without copying; only a message cut by a chunk boundary is copied,
//! once, into a buffer sized from its (checksummed) prelude. The prelude checksum is checked as
//! soon as its 12 bytes are in, so a corrupt length is reported at once instead of waiting for
//! bytes that will never come.

use crate::error::{Error, Result};
use super::WireEvent;

/// Bytes of the prelude: total length, headers length, prelude CRC.
pub const PRELUDE_LEN: usize = 12;
const CRC_LEN: usize = 4;
/// The smallest message: a prelude and a message CRC, no headers, no payload.
pub const MIN_MESSAGE_LEN: usize = PRELUDE_LEN + CRC_LEN;
/// The largest message AWS sends: a 16 MiB payload, 128 KiB of headers and the framing.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024 + 128 * 1024 + MIN_MESSAGE_LEN;

/// One header value, borrowing the message bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    Bool(bool),
    Byte(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    ByteArray(&'a [u8]),
    String(&'a str),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

impl<'a> HeaderValue<'a> {
    /// The wire type code (0..=9; a `Bool(true)` is 0, `Bool(false)` is 1).
    pub fn type_code(&self) -> u8 {
        match self {
            HeaderValue::Bool(true) => 0,
            HeaderValue::Bool(false) => 1,
            HeaderValue::Byte(_) => 2,
            HeaderValue::Int16(_) => 3,
            HeaderValue::Int32(_) => 4,
            HeaderValue::Int64(_) => 5,
            HeaderValue::ByteArray(_) => 6,
            HeaderValue::String(_) => 7,
            HeaderValue::Timestamp(_) => 8,
            HeaderValue::Uuid(_) => 9,
        }
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            HeaderValue::String(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub name: &'a str,
    pub value: HeaderValue<'a>,
}

/// One decoded message, borrowing the decoder's input or buffer; valid for the callback only.
/// Its headers were validated when it was decoded, so reading them cannot fail.
#[derive(Debug, Clone, Copy)]
pub struct EventStreamMessage<'a> {
    headers: &'a [u8],
    payload: &'a [u8],
    offset: u64,
    total_len: usize,
    /// The headers every consumer reads, found during validation.
    known: KnownHeaders<'a>,
}

/// The first values of the `:`-headers that say what a message is.
#[derive(Debug, Clone, Copy, Default)]
struct KnownHeaders<'a> {
    event_type: Option<HeaderValue<'a>>,
    message_type: Option<HeaderValue<'a>>,
    exception_type: Option<HeaderValue<'a>>,
}

impl<'a> KnownHeaders<'a> {
    fn text(value: Option<HeaderValue<'a>>) -> Option<&'a str> {
        value.and_then(|v| v.as_str())
    }
}

impl<'a> EventStreamMessage<'a> {
    pub fn headers(&self) -> HeaderIter<'a> {
        HeaderIter {
            bytes: self.headers,
            pos: 0,
        }
    }

    /// The first header called `name`, if any.
    pub fn header(&self, name: &str) -> Option<HeaderValue<'a>> {
        self.headers().find(|h| h.name == name).map(|h| h.value)
    }

    /// The string value of header `name` (None when absent or not a string).
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        self.header(name).and_then(|v| v.as_str())
    }

    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// `:event-type`, e.g. "contentBlockDelta".
    pub fn event_type(&self) -> Option<&'a str> {
        KnownHeaders::text(self.known.event_type)
    }

    /// `:message-type`: "event", "exception" or "error".
    pub fn message_type(&self) -> Option<&'a str> {
        KnownHeaders::text(self.known.message_type)
    }

    /// Stream offset of the message's first byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Stream offset just past the message.
    pub fn end_offset(&self) -> u64 {
        self.offset + self.total_len as u64
    }

    /// The message as a provider event: `:event-type` and the payload as UTF-8 text.
    /// An `exception` or `error` message becomes `Error::Provider` (code = the exception type
    /// or error code, message = the payload's `message` field or the error-message header).
    pub fn to_wire_event(&self) -> Result<WireEvent<'a>> {
        let event_type = self.event_type();
        let exception_type = KnownHeaders::text(self.known.exception_type);
        match self.message_type() {
            Some("event") | None => {
                let event = event_type.unwrap_or("");
                let data = std::str::from_utf8(self.payload).map_err(|e| {
                    Error::protocol(
                        format!(
                            "eventstream payload of event {event:?} is not valid UTF-8 (at payload byte {})",
                            e.valid_up_to()
                        ),
                        Some(self.offset),
                    )
                })?;
                Ok(WireEvent {
                    event,
                    data,
                    offset: self.end_offset(),
                })
            }
            Some("exception") => {
                let raw = String::from_utf8_lossy(self.payload).into_owned();
                let code = exception_type.or(event_type).map(str::to_owned);
                let message = exception_message(&raw)
                    .or_else(|| code.clone())
                    .unwrap_or_else(|| "exception without a message".to_owned());
                Err(Error::Provider { code, message, raw })
            }
            Some("error") => {
                let raw = String::from_utf8_lossy(self.payload).into_owned();
                let code = self.header_str(":error-code").map(str::to_owned);
                let message = self
                    .header_str(":error-message")
                    .map(str::to_owned)
                    .or_else(|| exception_message(&raw))
                    .or_else(|| code.clone())
                    .unwrap_or_else(|| "error without a message".to_owned());
                Err(Error::Provider { code, message, raw })
            }
            Some(other) => Err(Error::protocol(
                format!("eventstream message has an unknown :message-type {other:?}"),
                Some(self.offset),
            )),
        }
    }
}

/// The `message` (or `Message`) field of an AWS exception payload.
fn exception_message(payload: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    let body: Body = serde_json::from_str(payload).ok()?;
    body.message.filter(|m| !m.is_empty())
}

/// Iterator over validated header bytes.
#[derive(Debug, Clone)]
pub struct HeaderIter<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        // Validated at decode time; a failure here would mean a bug, so stop rather than panic.
        let (header, next) = parse_header(self.bytes, self.pos).ok()?;
        self.pos = next;
        Some(header)
    }
}

fn be_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// `bytes` as text, if it is valid UTF-8 (header names and values nearly always are ASCII,
/// which the validator's fast path settles).
#[inline]
fn as_str(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// Take `n` bytes at `pos`, or say what was cut short.
#[inline]
fn take<'a>(
    bytes: &'a [u8],
    pos: usize,
    n: usize,
    what: &'static str,
) -> std::result::Result<&'a [u8], (usize, String)> {
    bytes.get(pos..pos + n).ok_or_else(|| {
        (
            pos,
            format!(
                "{what} needs {n} bytes but only {} remain in the headers section",
                bytes.len().saturating_sub(pos)
            ),
        )
    })
}

/// Parse the header at `pos`; returns it and the position after it, or (position, reason).
#[inline]
fn parse_header(
    bytes: &[u8],
    pos: usize,
) -> std::result::Result<(Header<'_>, usize), (usize, String)> {
    let name_len = take(bytes, pos, 1, "header name length")?[0] as usize;
    if name_len == 0 {
        return Err((pos, "header name is empty".to_owned()));
    }
    let name = take(bytes, pos + 1, name_len, "header name")?;
    let name =
        as_str(name).ok_or_else(|| (pos + 1, "header name is not valid UTF-8".to_owned()))?;
    let mut at = pos + 1 + name_len;
    let type_code = take(bytes, at, 1, "header value type")?[0];
    at += 1;
    let fixed = |n: usize| take(bytes, at, n, "header value");
    let (value, len) = match type_code {
        0 => (HeaderValue::Bool(true), 0),
        1 => (HeaderValue::Bool(false), 0),
        2 => (HeaderValue::Byte(fixed(1)?[0] as i8), 1),
        3 => (HeaderValue::Int16(be_u16(fixed(2)?) as i16), 2),
        4 => (HeaderValue::Int32(be_u32(fixed(4)?) as i32), 4),
        5 => (HeaderValue::Int64(be_i64(fixed(8)?)), 8),
        6 | 7 => {
            let n = be_u16(take(bytes, at, 2, "header value length")?) as usize;
            let value = take(bytes, at + 2, n, "header value")?;
            let value = if type_code == 6 {
                HeaderValue::ByteArray(value)
            } else {
                HeaderValue::String(as_str(value).ok_or_else(|| {
                    (
                        at + 2,
                        format!("string value of header {name:?} is not valid UTF-8"),
                    )
                })?)
            };
            (value, 2 + n)
        }
        8 => (HeaderValue::Timestamp(be_i64(fixed(8)?)), 8),
        9 => {
            let mut uuid = [0u8; 16];
            uuid.copy_from_slice(fixed(16)?);
            (HeaderValue::Uuid(uuid), 16)
        }
        other => {
            return Err((
                at - 1,
                format!("header {name:?} has unknown value type {other}"),
            ))
        }
    };
    Ok((Header { name, value }, at + len))
}

/// Check every header; return the values of the ones that say what the message is (the
/// first of each name counts, as in `EventStreamMessage::header`).
fn validate_headers(bytes: &[u8], headers_offset: u64) -> Result<KnownHeaders<'_>> {
    let mut known = KnownHeaders::default();
    let mut pos = 0;
    while pos < bytes.len() {
        match parse_header(bytes, pos) {
            Ok((header, next)) => {
                let slot = match header.name {
                    ":event-type" => &mut known.event_type,
                    ":message-type" => &mut known.message_type,
                    ":exception-type" => &mut known.exception_type,
                    _ => &mut None,
                };
                if slot.is_none() {
                    *slot = Some(header.value);
                }
                pos = next;
            }
            Err((at, reason)) => {
                return Err(Error::protocol(
                    format!("malformed eventstream header: {reason}"),
                    Some(headers_offset + at as u64),
                ))
            }
        }
    }
    Ok(known)
}

/// Check a prelude; returns the message's total length.
fn check_prelude(prelude: &[u8], offset: u64, max_message_size: usize) -> Result<usize> {
    let total = be_u32(&prelude[0..4]) as usize;
    let headers_len = be_u32(&prelude[4..8]) as usize;
    let expected = be_u32(&prelude[8..12]);
    let actual = crc32fast::hash(&prelude[..8]);
    if expected != actual {
        return Err(Error::Checksum {
            what: "eventstream prelude",
            expected,
            actual,
            offset,
        });
    }
    if total < MIN_MESSAGE_LEN {
        return Err(Error::protocol(
            format!(
                "eventstream message declares a total length of {total} bytes, below the minimum of {MIN_MESSAGE_LEN}"
            ),
            Some(offset),
        ));
    }
    if headers_len > total - MIN_MESSAGE_LEN {
        return Err(Error::protocol(
            format!(
                "eventstream headers length {headers_len} does not fit in a message of {total} bytes"
            ),
            Some(offset),
        ));
    }
    if total > max_message_size {
        return Err(Error::EventTooLarge {
            what: "eventstream message",
            limit: max_message_size,
            offset,
        });
    }
    Ok(total)
}

/// Check the message CRC and the headers of a complete frame whose prelude was checked.
fn parse_frame(frame: &[u8], offset: u64) -> Result<EventStreamMessage<'_>> {
    let total = frame.len();
    let headers_len = be_u32(&frame[4..8]) as usize;
    let crc_at = total - CRC_LEN;
    let expected = be_u32(&frame[crc_at..]);
    let actual = crc32fast::hash(&frame[..crc_at]);
    if expected != actual {
        return Err(Error::Checksum {
            what: "eventstream message",
            expected,
            actual,
            offset,
        });
    }
    let headers = &frame[PRELUDE_LEN..PRELUDE_LEN + headers_len];
    let known = validate_headers(headers, offset + PRELUDE_LEN as u64)?;
    Ok(EventStreamMessage {
        headers,
        payload: &frame[PRELUDE_LEN + headers_len..crc_at],
        offset,
        total_len: total,
        known,
    })
}

/// Decode exactly one complete message (all of `bytes`), e.g. a test vector.
pub fn decode_message(bytes: &[u8]) -> Result<EventStreamMessage<'_>> {
    if bytes.len() < PRELUDE_LEN {
        return Err(Error::protocol(
            format!(
                "an eventstream message needs at least {PRELUDE_LEN} bytes of prelude, got {}",
                bytes.len()
            ),
            Some(0),
        ));
    }
    let total = check_prelude(&bytes[..PRELUDE_LEN], 0, usize::MAX)?;
    if total != bytes.len() {
        return Err(Error::protocol(
            format!(
                "eventstream prelude declares {total} bytes but the message has {}",
                bytes.len()
            ),
            Some(0),
        ));
    }
    parse_frame(bytes, 0)
}

/// Append one encoded message to `out` (for tests, benches and re-encoding gateways).
pub fn encode_message(headers: &[Header<'_>], payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; PRELUDE_LEN]);
    for header in headers {
        let name = header.name.as_bytes();
        if name.is_empty() || name.len() > u8::MAX as usize {
            out.truncate(start);
            return Err(Error::usage(format!(
                "eventstream header names must be 1 to 255 bytes, got {}",
                name.len()
            )));
        }
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        out.push(header.value.type_code());
        match header.value {
            HeaderValue::Bool(_) => {}
            HeaderValue::Byte(v) => out.push(v as u8),
            HeaderValue::Int16(v) => out.extend_from_slice(&v.to_be_bytes()),
            HeaderValue::Int32(v) => out.extend_from_slice(&v.to_be_bytes()),
            HeaderValue::Int64(v) | HeaderValue::Timestamp(v) => {
                out.extend_from_slice(&v.to_be_bytes())
            }
            HeaderValue::ByteArray(bytes) => push_sized(out, start, bytes)?,
            HeaderValue::String(text) => push_sized(out, start, text.as_bytes())?,
            HeaderValue::Uuid(uuid) => out.extend_from_slice(&uuid),
        }
    }
    let headers_len = out.len() - start - PRELUDE_LEN;
    out.extend_from_slice(payload);
    let total = out.len() - start + CRC_LEN;
    let (Ok(total32), Ok(headers32)) = (u32::try_from(total), u32::try_from(headers_len)) else {
        out.truncate(start);
        return Err(Error::usage("eventstream message too large to encode"));
    };
    out[start..start + 4].copy_from_slice(&total32.to_be_bytes());
    out[start + 4..start + 8].copy_from_slice(&headers32.to_be_bytes());
    let prelude_crc = crc32fast::hash(&out[start..start + 8]);
    out[start + 8..start + 12].copy_from_slice(&prelude_crc.to_be_bytes());
    let message_crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&message_crc.to_be_bytes());
    Ok(())
}

fn push_sized(out: &mut Vec<u8>, start: usize, bytes: &[u8]) -> Result<()> {
    let Ok(len) = u16::try_from(bytes.len()) else {
        out.truncate(start);
        return Err(Error::usage(format!(
            "eventstream header values are at most 65535 bytes, got {}",
            bytes.len()
        )));
    };
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Incremental eventstream decoder.
#[derive(Debug)]
pub struct EventStreamDecoder {
    max_message_size: usize,
    /// The bytes of a message cut by a chunk boundary (never more than one message).
    partial: Vec<u8>,
    /// Total length of the partial message once its prelude is checked; 0 before that.
    partial_total: usize,
    /// Bytes fed so far (stream offset of the next byte).
    consumed: u64,
    flushed: bool,
    failed: bool,
}

impl Default for EventStreamDecoder {
    fn default() -> Self {
        EventStreamDecoder::new(DEFAULT_MAX_MESSAGE_SIZE)
    }
}

/// A partial buffer above this is released after use rather than kept for the next message.
const KEEP_BUFFER_CAPACITY: usize = 1024 * 1024;

impl EventStreamDecoder {
    pub fn new(max_message_size: usize) -> Self {
        EventStreamDecoder {
            max_message_size,
            partial: Vec::new(),
            partial_total: 0,
            consumed: 0,
            flushed: false,
            failed: false,
        }
    }

    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// Total bytes fed so far.
    pub fn position(&self) -> u64 {
        self.consumed
    }

    /// Feed bytes; `on_message` sees every message they complete, in order. Any error (bad
    /// checksum, bad lengths, a message over the cap, or one returned by the callback)
    /// stops decoding and poisons the decoder.
    pub fn decode_with<F>(&mut self, input: &[u8], mut on_message: F) -> Result<()>
    where
        F: FnMut(EventStreamMessage<'_>) -> Result<()>,
    {
        self.check_usable("decode")?;
        let result = self.decode_inner(input, &mut on_message);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    /// End of stream: an error if a message was left unfinished. Never produces messages;
    /// takes the callback for symmetry with the other decoders.
    pub fn flush_with<F>(&mut self, _on_message: F) -> Result<()>
    where
        F: FnMut(EventStreamMessage<'_>) -> Result<()>,
    {
        self.check_usable("flush")?;
        self.flushed = true;
        if self.partial.is_empty() {
            return Ok(());
        }
        let have = self.partial.len();
        let wanted = if self.partial_total == 0 {
            format!("at least {PRELUDE_LEN}")
        } else {
            self.partial_total.to_string()
        };
        Err(Error::protocol(
            format!(
                "stream ended inside an eventstream message: {have} of {wanted} bytes received"
            ),
            Some(self.consumed - have as u64),
        ))
    }

    /// Decode into owned messages (tests and simple callers).
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<OwnedMessage>) -> Result<()> {
        self.decode_with(input, |message| {
            out.push(OwnedMessage::from(message));
            Ok(())
        })
    }

    pub fn flush(&mut self) -> Result<()> {
        self.flush_with(|_| Ok(()))
    }

    fn check_usable(&self, what: &str) -> Result<()> {
        if self.flushed {
            return Err(Error::usage(format!(
                "EventStreamDecoder.{what}() called after flush(); create a new decoder for a new stream"
            )));
        }
        if self.failed {
            return Err(Error::usage(format!(
                "EventStreamDecoder.{what}() called after the decoder raised an error; the stream cannot be resumed"
            )));
        }
        Ok(())
    }

    fn decode_inner(
        &mut self,
        mut input: &[u8],
        on_message: &mut dyn FnMut(EventStreamMessage<'_>) -> Result<()>,
    ) -> Result<()> {
        while !input.is_empty() {
            if !self.partial.is_empty() {
                input = self.fill_partial(input, on_message)?;
                continue;
            }
            // Whole messages straight from the input, without copying.
            let offset = self.consumed;
            if input.len() >= PRELUDE_LEN {
                let total = check_prelude(&input[..PRELUDE_LEN], offset, self.max_message_size)?;
                if input.len() >= total {
                    let message = parse_frame(&input[..total], offset)?;
                    self.consumed += total as u64;
                    input = &input[total..];
                    on_message(message)?;
                    continue;
                }
                self.partial_total = total;
                self.partial.reserve(total);
            }
            self.partial.extend_from_slice(input);
            self.consumed += input.len() as u64;
            break;
        }
        Ok(())
    }

    /// Add bytes to the message cut by a chunk boundary; returns the input left over.
    fn fill_partial<'i>(
        &mut self,
        mut input: &'i [u8],
        on_message: &mut dyn FnMut(EventStreamMessage<'_>) -> Result<()>,
    ) -> Result<&'i [u8]> {
        let offset = self.consumed - self.partial.len() as u64;
        if self.partial_total == 0 {
            let take = (PRELUDE_LEN - self.partial.len()).min(input.len());
            self.partial.extend_from_slice(&input[..take]);
            self.consumed += take as u64;
            input = &input[take..];
            if self.partial.len() < PRELUDE_LEN {
                return Ok(input);
            }
            self.partial_total = check_prelude(&self.partial, offset, self.max_message_size)?;
            self.partial.reserve(self.partial_total - PRELUDE_LEN);
        }
        let take = (self.partial_total - self.partial.len()).min(input.len());
        self.partial.extend_from_slice(&input[..take]);
        self.consumed += take as u64;
        input = &input[take..];
        if self.partial.len() == self.partial_total {
            let result = parse_frame(&self.partial, offset).and_then(&mut *on_message);
            self.partial.clear();
            self.partial_total = 0;
            if self.partial.capacity() > KEEP_BUFFER_CAPACITY {
                self.partial = Vec::new();
            }
            result?;
        }
        Ok(input)
    }
}

/// An owned header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedHeaderValue {
    Bool(bool),
    Byte(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    ByteArray(Vec<u8>),
    String(String),
    Timestamp(i64),
    Uuid([u8; 16]),
}

impl From<HeaderValue<'_>> for OwnedHeaderValue {
    fn from(value: HeaderValue<'_>) -> Self {
        match value {
            HeaderValue::Bool(v) => OwnedHeaderValue::Bool(v),
            HeaderValue::Byte(v) => OwnedHeaderValue::Byte(v),
            HeaderValue::Int16(v) => OwnedHeaderValue::Int16(v),
            HeaderValue::Int32(v) => OwnedHeaderValue::Int32(v),
            HeaderValue::Int64(v) => OwnedHeaderValue::Int64(v),
            HeaderValue::ByteArray(v) => OwnedHeaderValue::ByteArray(v.to_vec()),
            HeaderValue::String(v) => OwnedHeaderValue::String(v.to_owned()),
            HeaderValue::Timestamp(v) => OwnedHeaderValue::Timestamp(v),
            HeaderValue::Uuid(v) => OwnedHeaderValue::Uuid(v),
        }
    }
}

/// An owned message, for callers that keep messages around.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedMessage {
    pub headers: Vec<(String, OwnedHeaderValue)>,
    pub payload: Vec<u8>,
    pub offset: u64,
}

impl From<EventStreamMessage<'_>> for OwnedMessage {
    fn from(message: EventStreamMessage<'_>) -> Self {
        OwnedMessage {
            headers: message
                .headers()
                .map(|h| (h.name.to_owned(), h.value.into()))
                .collect(),
            payload: message.payload().to_vec(),
            offset: message.offset(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event_type: &str, payload: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode_message(
            &[
                Header {
                    name: ":event-type",
                    value: HeaderValue::String(event_type),
                },
                Header {
                    name: ":content-type",
                    value: HeaderValue::String("application/json"),
                },
                Header {
                    name: ":message-type",
                    value: HeaderValue::String("event"),
                },
            ],
            payload.as_bytes(),
            &mut out,
        )
        .unwrap();
        out
    }

    fn decode_all(decoder: &mut EventStreamDecoder, pieces: &[&[u8]]) -> Result<Vec<OwnedMessage>> {
        let mut out = Vec::new();
        for piece in pieces {
            decoder.decode(piece, &mut out)?;
        }
        decoder.flush()?;
        Ok(out)
    }

    #[test]
    fn round_trips_every_header_type() {
        let headers = [
            Header {
                name: "t",
                value: HeaderValue::Bool(true),
            },
            Header {
                name: "f",
                value: HeaderValue::Bool(false),
            },
            Header {
                name: "b",
                value: HeaderValue::Byte(-3),
            },
            Header {
                name: "s",
                value: HeaderValue::Int16(-300),
            },
            Header {
                name: "i",
                value: HeaderValue::Int32(70000),
            },
            Header {
                name: "l",
                value: HeaderValue::Int64(-1 << 40),
            },
            Header {
                name: "a",
                value: HeaderValue::ByteArray(&[0, 255, 7]),
            },
            Header {
                name: "str",
                value: HeaderValue::String("héllo"),
            },
            Header {
                name: "ts",
                value: HeaderValue::Timestamp(1_700_000_000_123),
            },
            Header {
                name: "u",
                value: HeaderValue::Uuid([9; 16]),
            },
        ];
        let mut bytes = Vec::new();
        encode_message(&headers, b"payload", &mut bytes).unwrap();
        let message = decode_message(&bytes).unwrap();
        assert_eq!(message.headers().collect::<Vec<_>>(), headers);
        assert_eq!(message.payload(), b"payload");
        assert_eq!(message.header("i"), Some(HeaderValue::Int32(70000)));
        assert_eq!(message.header("missing"), None);
    }

    #[test]
    fn messages_split_at_every_byte() {
        let mut stream = event("messageStart", r#"{"role":"assistant"}"#);
        let first_len = stream.len();
        stream.extend(event("contentBlockDelta", r#"{"delta":{"text":"hi"}}"#));
        let whole = decode_all(&mut EventStreamDecoder::default(), &[&stream]).unwrap();
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[1].offset, first_len as u64);
        for cut in 0..=stream.len() {
            let (a, b) = stream.split_at(cut);
            let split = decode_all(&mut EventStreamDecoder::default(), &[a, b]).unwrap();
            assert_eq!(split, whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(
            decode_all(&mut EventStreamDecoder::default(), &bytes).unwrap(),
            whole
        );
    }

    #[test]
    fn prelude_checksum_is_checked_before_the_body_arrives() {
        let mut bytes = event("x", "{}");
        bytes[3] ^= 1; // total length
        let mut decoder = EventStreamDecoder::default();
        let err = decoder.decode(&bytes[..12], &mut Vec::new()).unwrap_err();
        assert!(matches!(
            err,
            Error::Checksum {
                what: "eventstream prelude",
                offset: 0,
                ..
            }
        ));
        // Poisoned afterwards.
        assert!(matches!(
            decoder.decode(b"", &mut Vec::new()),
            Err(Error::Usage { .. })
        ));
    }

    #[test]
    fn message_checksum_reports_the_message_offset() {
        let good = event("a", "{}");
        let mut bad = event("b", "{}");
        let last = bad.len() - 5;
        bad[last] ^= 0x20; // payload byte
        let stream = [good.clone(), bad].concat();
        let err = decode_all(&mut EventStreamDecoder::default(), &[&stream]).unwrap_err();
        match err {
            Error::Checksum {
                what,
                offset,
                expected,
                actual,
            } => {
                assert_eq!(what, "eventstream message");
                assert_eq!(offset, good.len() as u64);
                assert_ne!(expected, actual);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn size_cap() {
        let bytes = event("a", &"x".repeat(100));
        let mut decoder = EventStreamDecoder::new(64);
        let err = decoder.decode(&bytes, &mut Vec::new()).unwrap_err();
        assert!(matches!(
            err,
            Error::EventTooLarge {
                limit: 64,
                offset: 0,
                ..
            }
        ));
    }

    #[test]
    fn bad_lengths_are_protocol_errors() {
        // total length below the minimum, with a valid prelude CRC
        let mut prelude = Vec::new();
        prelude.extend_from_slice(&8u32.to_be_bytes());
        prelude.extend_from_slice(&0u32.to_be_bytes());
        let crc = crc32fast::hash(&prelude);
        prelude.extend_from_slice(&crc.to_be_bytes());
        let err = EventStreamDecoder::default()
            .decode(&prelude, &mut Vec::new())
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Protocol {
                    offset: Some(0),
                    ..
                }
            ),
            "{err:?}"
        );

        // headers length larger than the message
        let mut prelude = Vec::new();
        prelude.extend_from_slice(&20u32.to_be_bytes());
        prelude.extend_from_slice(&5u32.to_be_bytes());
        let crc = crc32fast::hash(&prelude);
        prelude.extend_from_slice(&crc.to_be_bytes());
        let err = EventStreamDecoder::default()
            .decode(&prelude, &mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("does not fit"), "{err}");
    }

    #[test]
    fn malformed_header_is_a_protocol_error_with_offset() {
        let mut bytes = Vec::new();
        encode_message(
            &[Header {
                name: "k",
                value: HeaderValue::Bool(true),
            }],
            b"",
            &mut bytes,
        )
        .unwrap();
        // Change the type code to 42 and fix both CRCs so only the header is wrong.
        bytes[PRELUDE_LEN + 2] = 42;
        let crc_at = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..crc_at]);
        bytes[crc_at..].copy_from_slice(&crc.to_be_bytes());
        let err = decode_message(&bytes).unwrap_err();
        assert_eq!(
            err,
            Error::protocol(
                "malformed eventstream header: header \"k\" has unknown value type 42",
                Some(14)
            )
        );
    }

    #[test]
    fn flush_inside_a_message_is_an_error() {
        let bytes = event("a", "{}");
        for cut in 1..bytes.len() {
            let mut decoder = EventStreamDecoder::default();
            decoder.decode(&bytes[..cut], &mut Vec::new()).unwrap();
            let err = decoder.flush().unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Protocol {
                        offset: Some(0),
                        ..
                    }
                ),
                "cut {cut}: {err:?}"
            );
        }
        let mut decoder = EventStreamDecoder::default();
        decoder.flush().unwrap();
        assert!(matches!(decoder.flush(), Err(Error::Usage { .. })));
    }

    #[test]
    fn wire_event_and_exceptions() {
        let bytes = event("contentBlockDelta", r#"{"delta":{"text":"hi"}}"#);
        let message = decode_message(&bytes).unwrap();
        let wire = message.to_wire_event().unwrap();
        assert_eq!(wire.event, "contentBlockDelta");
        assert_eq!(wire.data, r#"{"delta":{"text":"hi"}}"#);
        assert_eq!(wire.offset, bytes.len() as u64);

        let mut bytes = Vec::new();
        encode_message(
            &[
                Header {
                    name: ":exception-type",
                    value: HeaderValue::String("throttlingException"),
                },
                Header {
                    name: ":message-type",
                    value: HeaderValue::String("exception"),
                },
            ],
            br#"{"message":"Too many requests, please wait."}"#,
            &mut bytes,
        )
        .unwrap();
        let err = decode_message(&bytes).unwrap().to_wire_event().unwrap_err();
        assert_eq!(
            err,
            Error::Provider {
                code: Some("throttlingException".into()),
                message: "Too many requests, please wait.".into(),
                raw: r#"{"message":"Too many requests, please wait."}"#.into(),
            }
        );

        let mut bytes = Vec::new();
        encode_message(
            &[
                Header {
                    name: ":message-type",
                    value: HeaderValue::String("error"),
                },
                Header {
                    name: ":error-code",
                    value: HeaderValue::String("InternalError"),
                },
                Header {
                    name: ":error-message",
                    value: HeaderValue::String("boom"),
                },
            ],
            b"",
            &mut bytes,
        )
        .unwrap();
        let err = decode_message(&bytes).unwrap().to_wire_event().unwrap_err();
        assert!(matches!(
            err,
            Error::Provider { code: Some(ref c), ref message, .. } if c == "InternalError" && message == "boom"
        ));
    }

    #[test]
    fn invalid_utf8_payload_is_a_protocol_error() {
        let mut bytes = Vec::new();
        encode_message(
            &[Header {
                name: ":event-type",
                value: HeaderValue::String("x"),
            }],
            b"\xff\xfe",
            &mut bytes,
        )
        .unwrap();
        let err = decode_message(&bytes).unwrap().to_wire_event().unwrap_err();
        assert!(matches!(err, Error::Protocol { .. }));
    }
}
