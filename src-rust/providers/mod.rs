//! Provider wire formats -> unified `GenerationChunk`s.
//!
//! A provider is a *reducer*: it receives framed events (an SSE event, an NDJSON line or an
//! AWS eventstream message, all presented as a `WireEvent`) and appends unified chunks.
//! Framing is done before it (see `crate::sse`, `crate::ndjson`, `crate::eventstream`).

use crate::chunk::GenerationChunk;
use crate::error::{Error, Result};

pub mod bedrock;
mod emit;
pub mod gemini;
pub mod ollama;
mod partial_args;
pub mod registry;
pub mod tgi;

/// One framed event as the reducer sees it; borrows the framer's buffers.
#[derive(Debug, Clone, Copy)]
pub struct WireEvent<'a> {
    /// SSE `event:` type ("message" by default), the eventstream `:event-type` header, or "" for NDJSON.
    pub event: &'a str,
    /// The event payload: SSE data, one NDJSON line, or an eventstream payload as UTF-8.
    pub data: &'a str,
    /// Stream byte offset where this event ended, for error messages.
    pub offset: u64,
}

/// Turns one provider's events into unified chunks. Implementations keep whatever state the
/// format needs (open content blocks, tool-call indices, running usage) and never do I/O.
pub trait Reducer: Send {
    /// Handle one framed event, appending zero or more chunks to `out`.
    fn on_event(&mut self, event: &WireEvent<'_>, out: &mut Vec<GenerationChunk>) -> Result<()>;

    /// End of stream: append whatever the format still owes (e.g. a terminal chunk).
    fn finish(&mut self, out: &mut Vec<GenerationChunk>) -> Result<()>;

    /// A whole non-streaming response body (`application/json`): append the chunk sequence
    /// the streamed form of that response gives, terminal chunk included (a `finish` after
    /// it adds nothing), so callers never branch on the response type.
    fn on_complete_body(&mut self, body: &str, out: &mut Vec<GenerationChunk>) -> Result<()> {
        let _ = (body, out);
        Err(Error::usage("this provider has no non-streaming form"))
    }
}
