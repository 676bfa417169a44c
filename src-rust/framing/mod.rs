//! The framing layer: bytes -> framed events (SSE, NDJSON lines, AWS eventstream messages).
//!
//! Everything here is sans-IO and knows nothing about providers, text parsing or encoders;
//! the provider pipeline sits on top and hands each `WireEvent` to a reducer.

pub mod eventstream;
pub mod ndjson;
pub mod sse;

/// How a provider's bytes are framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Sse,
    Ndjson,
    /// AWS `application/vnd.amazon.eventstream` binary frames.
    EventStream,
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
