//! Eventstream headers: the ten value types, parsing with the position of any fault, and owned
//! copies for callers that keep messages.

use crate::error::{Error, Result};

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

/// The first values of the `:`-headers that say what a message is.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct KnownHeaders<'a> {
    pub(super) event_type: Option<HeaderValue<'a>>,
    pub(super) message_type: Option<HeaderValue<'a>>,
    pub(super) exception_type: Option<HeaderValue<'a>>,
}

impl<'a> KnownHeaders<'a> {
    pub(super) fn text(value: Option<HeaderValue<'a>>) -> Option<&'a str> {
        value.and_then(|v| v.as_str())
    }
}

/// Iterator over validated header bytes.
#[derive(Debug, Clone)]
pub struct HeaderIter<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> HeaderIter<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        HeaderIter { bytes, pos: 0 }
    }
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

pub(super) fn be_u32(b: &[u8]) -> u32 {
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
pub(super) fn validate_headers(bytes: &[u8], headers_offset: u64) -> Result<KnownHeaders<'_>> {
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
