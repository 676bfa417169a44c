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

mod encode;
mod header;

pub use encode::encode_message;
pub use header::{Header, HeaderIter, HeaderValue, OwnedHeaderValue};

use super::lifecycle::Lifecycle;
use super::WireEvent;
use crate::error::{Error, Result};
use header::{be_u32, validate_headers, KnownHeaders};

/// Bytes of the prelude: total length, headers length, prelude CRC.
pub const PRELUDE_LEN: usize = 12;
pub(crate) const CRC_LEN: usize = 4;
/// The smallest message: a prelude and a message CRC, no headers, no payload.
pub const MIN_MESSAGE_LEN: usize = PRELUDE_LEN + CRC_LEN;
/// The largest message AWS sends: a 16 MiB payload, 128 KiB of headers and the framing.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024 + 128 * 1024 + MIN_MESSAGE_LEN;

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
impl<'a> EventStreamMessage<'a> {
    pub fn headers(&self) -> HeaderIter<'a> {
        HeaderIter::new(self.headers)
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

    /// What the message is: an event (its `:event-type` and the payload as UTF-8 text), or
    /// an `exception` / `error` frame, which the framing reports as a `Fault` and leaves to
    /// the provider to map (a framer does not know what a provider's exceptions look like).
    pub fn kind(&self) -> Result<MessageKind<'a>> {
        let event_type = self.event_type();
        let fault = |kind| {
            Ok(MessageKind::Fault(Fault {
                kind,
                code: match kind {
                    FaultKind::Exception => {
                        KnownHeaders::text(self.known.exception_type).or(event_type)
                    }
                    FaultKind::Error => self.header_str(":error-code"),
                },
                message: match kind {
                    FaultKind::Exception => None,
                    FaultKind::Error => self.header_str(":error-message"),
                },
                payload: self.payload,
                offset: self.offset,
            }))
        };
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
                Ok(MessageKind::Event(WireEvent {
                    event,
                    data,
                    offset: self.end_offset(),
                }))
            }
            Some("exception") => fault(FaultKind::Exception),
            Some("error") => fault(FaultKind::Error),
            Some(other) => Err(Error::protocol(
                format!("eventstream message has an unknown :message-type {other:?}"),
                Some(self.offset),
            )),
        }
    }
}

/// A message classified by its `:message-type`.
#[derive(Debug, Clone, Copy)]
pub enum MessageKind<'a> {
    Event(WireEvent<'a>),
    Fault(Fault<'a>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `:message-type: exception` (a modeled service exception, named by `:exception-type`).
    Exception,
    /// `:message-type: error` (`:error-code` and `:error-message` headers).
    Error,
}

/// An `exception` or `error` frame: the peer reports a failure inside the stream.
#[derive(Debug, Clone, Copy)]
pub struct Fault<'a> {
    pub kind: FaultKind,
    /// `:exception-type` (else `:event-type`) of an exception, `:error-code` of an error.
    pub code: Option<&'a str>,
    /// `:error-message` of an error frame.
    pub message: Option<&'a str>,
    pub payload: &'a [u8],
    /// Stream offset of the frame's first byte.
    pub offset: u64,
}

/// The CRC-32 of `bytes[..crc_at]` must be the one stored (big-endian) at `crc_at`.
fn check_crc(what: &'static str, bytes: &[u8], crc_at: usize, offset: u64) -> Result<()> {
    let expected = be_u32(&bytes[crc_at..]);
    let actual = crc32fast::hash(&bytes[..crc_at]);
    if expected != actual {
        return Err(Error::Checksum {
            what,
            expected,
            actual,
            offset,
        });
    }
    Ok(())
}

/// Check a prelude; returns the message's total length.
fn check_prelude(prelude: &[u8], offset: u64, max_message_size: usize) -> Result<usize> {
    let total = be_u32(&prelude[0..4]) as usize;
    let headers_len = be_u32(&prelude[4..8]) as usize;
    check_crc("eventstream prelude", prelude, 8, offset)?;
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
    check_crc("eventstream message", frame, crc_at, offset)?;
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
    lifecycle: Lifecycle,
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
            lifecycle: Lifecycle::new("EventStreamDecoder"),
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
        self.lifecycle.check("decode")?;
        let result = self.decode_inner(input, &mut on_message);
        self.lifecycle.after_decode(result)
    }

    /// End of stream: an error if a message was left unfinished. Never produces messages;
    /// takes the callback for symmetry with the other decoders.
    pub fn flush_with<F>(&mut self, _on_message: F) -> Result<()>
    where
        F: FnMut(EventStreamMessage<'_>) -> Result<()>,
    {
        self.lifecycle.check("flush")?;
        let result = self.unfinished_message();
        self.lifecycle.after_flush(result)
    }

    /// An error if the stream stopped inside a message.
    fn unfinished_message(&self) -> Result<()> {
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
                // No reserve of the declared length: the buffer grows as bytes arrive, so a
                // prelude announcing a huge frame costs nothing until the bytes come.
                self.partial_total = total;
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

    /// A message whose headers are all strings, as (name, value) pairs.
    fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
        let headers: Vec<Header<'_>> = headers
            .iter()
            .map(|&(name, value)| Header {
                name,
                value: HeaderValue::String(value),
            })
            .collect();
        let mut out = Vec::new();
        encode_message(&headers, payload, &mut out).unwrap();
        out
    }

    fn event(event_type: &str, payload: &str) -> Vec<u8> {
        let headers = [
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ];
        frame(&headers, payload.as_bytes())
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

    /// A prelude (total and headers lengths) with its valid CRC, and nothing after it.
    fn prelude(total_length: u32, headers_length: u32) -> Vec<u8> {
        let mut prelude = Vec::new();
        prelude.extend_from_slice(&total_length.to_be_bytes());
        prelude.extend_from_slice(&headers_length.to_be_bytes());
        let crc = crc32fast::hash(&prelude);
        prelude.extend_from_slice(&crc.to_be_bytes());
        prelude
    }

    #[test]
    fn bad_lengths_are_protocol_errors() {
        let decode = |bytes: &[u8]| {
            EventStreamDecoder::default()
                .decode(bytes, &mut Vec::new())
                .unwrap_err()
        };
        // total length below the minimum
        let err = decode(&prelude(8, 0));
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
        let err = decode(&prelude(20, 5));
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
    fn message_kinds() {
        let bytes = event("contentBlockDelta", r#"{"delta":{"text":"hi"}}"#);
        let message = decode_message(&bytes).unwrap();
        let MessageKind::Event(wire) = message.kind().unwrap() else {
            panic!("an event message is an event")
        };
        assert_eq!(wire.event, "contentBlockDelta");
        assert_eq!(wire.data, r#"{"delta":{"text":"hi"}}"#);
        assert_eq!(wire.offset, bytes.len() as u64);

        let bytes = frame(
            &[
                (":exception-type", "throttlingException"),
                (":message-type", "exception"),
            ],
            br#"{"message":"Too many requests, please wait."}"#,
        );
        let MessageKind::Fault(fault) = decode_message(&bytes).unwrap().kind().unwrap() else {
            panic!("an exception message is a fault")
        };
        assert_eq!(fault.kind, FaultKind::Exception);
        assert_eq!(fault.code, Some("throttlingException"));
        assert_eq!(fault.message, None);
        assert_eq!(
            fault.payload,
            br#"{"message":"Too many requests, please wait."}"#
        );

        let bytes = frame(
            &[
                (":message-type", "error"),
                (":error-code", "InternalError"),
                (":error-message", "boom"),
            ],
            b"",
        );
        let MessageKind::Fault(fault) = decode_message(&bytes).unwrap().kind().unwrap() else {
            panic!("an error message is a fault")
        };
        assert_eq!(fault.kind, FaultKind::Error);
        assert_eq!(fault.code, Some("InternalError"));
        assert_eq!(fault.message, Some("boom"));
    }

    #[test]
    fn invalid_utf8_payload_is_a_protocol_error() {
        let bytes = frame(&[(":event-type", "x")], b"\xff\xfe");
        let err = decode_message(&bytes).unwrap().kind().unwrap_err();
        assert!(matches!(err, Error::Protocol { .. }));
    }
}
