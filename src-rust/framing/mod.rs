//! The framing layer: bytes -> framed events (SSE, NDJSON lines, AWS eventstream messages).
//!
//! Everything here is sans-IO and knows nothing about providers, text parsing or encoders;
//! the provider pipeline sits on top and hands each `WireEvent` to a reducer.

pub mod eventstream;
mod lifecycle;
pub mod ndjson;
pub mod sse;

pub use lifecycle::Lifecycle;

/// How a provider's bytes are framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Sse,
    Ndjson,
    /// AWS `application/vnd.amazon.eventstream` binary frames.
    EventStream,
}

impl Framing {
    /// The media type a response in this framing is sent with.
    pub fn content_type(self) -> &'static str {
        match self {
            Framing::Sse => "text/event-stream",
            Framing::Ndjson => "application/x-ndjson",
            Framing::EventStream => "application/vnd.amazon.eventstream",
        }
    }
}

/// What a Content-Type header says about a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// One whole JSON document (the non-streaming form).
    Json,
    Framed(Framing),
    Unknown,
}

/// Media types (lower case, without parameters) and what they mean.
const CONTENT_TYPES: &[(&str, BodyKind)] = &[
    ("application/json", BodyKind::Json),
    ("text/event-stream", BodyKind::Framed(Framing::Sse)),
    ("application/x-ndjson", BodyKind::Framed(Framing::Ndjson)),
    ("application/ndjson", BodyKind::Framed(Framing::Ndjson)),
    ("application/jsonl", BodyKind::Framed(Framing::Ndjson)),
    ("application/x-jsonlines", BodyKind::Framed(Framing::Ndjson)),
    (
        "application/vnd.amazon.eventstream",
        BodyKind::Framed(Framing::EventStream),
    ),
];

/// Classify a Content-Type header value (parameters and case ignored; `*/*+json` is JSON).
pub fn body_kind(content_type: &str) -> BodyKind {
    let media = content_type.split(';').next().unwrap_or("").trim();
    CONTENT_TYPES
        .iter()
        .find(|(name, _)| media.eq_ignore_ascii_case(name))
        .map(|&(_, kind)| kind)
        .unwrap_or_else(|| {
            let is_json_suffix = media.len() >= 5
                && media.is_char_boundary(media.len() - 5)
                && media[media.len() - 5..].eq_ignore_ascii_case("+json");
            if is_json_suffix {
                BodyKind::Json
            } else {
                BodyKind::Unknown
            }
        })
}

/// One framed event as a reducer sees it; borrows the framer's buffers.
#[derive(Debug, Clone, Copy)]
pub struct WireEvent<'a> {
    /// SSE `event:` type ("message" by default), the eventstream `:event-type` header, or "" for NDJSON.
    pub event: &'a str,
    /// The event payload: SSE data, one NDJSON line, or an eventstream payload as UTF-8.
    pub data: &'a str,
    /// Stream byte offset where this event ended, for error messages.
    pub offset: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let cases = [
            (
                "text/event-stream; charset=utf-8",
                BodyKind::Framed(Framing::Sse),
            ),
            ("Application/X-NDJSON", BodyKind::Framed(Framing::Ndjson)),
            (
                "application/vnd.amazon.eventstream",
                BodyKind::Framed(Framing::EventStream),
            ),
            (
                "Text/Event-Stream;charset=UTF-8",
                BodyKind::Framed(Framing::Sse),
            ),
            ("application/json", BodyKind::Json),
            ("application/json; charset=utf-8", BodyKind::Json),
            ("application/problem+json", BodyKind::Json),
            ("text/plain", BodyKind::Unknown),
            ("", BodyKind::Unknown),
            ("é+json", BodyKind::Json),
            ("éjson", BodyKind::Unknown),
        ];
        for (header, kind) in cases {
            assert_eq!(body_kind(header), kind, "{header:?}");
        }
        for framing in [Framing::Sse, Framing::Ndjson, Framing::EventStream] {
            assert_eq!(body_kind(framing.content_type()), BodyKind::Framed(framing));
        }
    }
}
