//! Provider wire formats -> unified `GenerationChunk`s.
//!
//! A provider is a *reducer*: it receives framed events (an SSE event, an NDJSON line or an
//! AWS eventstream message, all presented as a `WireEvent`) and appends unified chunks.
//! Framing is done before it (see `crate::sse`, `crate::ndjson`, `crate::eventstream`).

use crate::chunk::GenerationChunk;
use crate::error::{Error, Result};
use crate::framing::eventstream::Fault;

pub mod bedrock;
mod emit;
pub mod gemini;
pub(crate) mod json;
pub mod ollama;
mod partial_args;
pub mod pipeline;
pub mod registry;
pub mod tgi;

pub mod anthropic;
pub mod openai;
pub mod openai_responses;

pub use crate::framing::{Framing, WireEvent};

/// Where a reducer appends the chunks it makes.
pub type Chunks = Vec<GenerationChunk>;
pub use pipeline::{ChunkDecoder, ChunkDecoderConfig};

/// Turns one provider's events into unified chunks. Implementations keep whatever state the
/// format needs (open content blocks, tool-call indices, running usage) and never do I/O.
pub trait Reducer: Send {
    /// Handle one framed event, appending zero or more chunks to `out`.
    fn on_event(&mut self, event: &WireEvent<'_>, out: &mut Chunks) -> Result<()>;

    /// End of stream: append whatever the format still owes (e.g. a terminal chunk).
    fn finish(&mut self, out: &mut Chunks) -> Result<()>;

    /// An in-band failure frame (AWS eventstream `exception` / `error`); the error to raise.
    fn on_fault(&mut self, fault: &Fault<'_>) -> Error {
        Error::protocol(
            "this provider's streams carry no exception frames, yet one arrived",
            Some(fault.offset),
        )
    }

    /// The non-streaming fallback: the whole `application/json` response body, which must
    /// produce the same chunk sequence as the stream would (the caller then calls `finish`).
    /// `offset` is the stream offset just past the body.
    fn on_complete_body(&mut self, body: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        let _ = (body, offset, out);
        Err(Error::usage(
            "this provider has no non-streaming (application/json) response form; \
             request a stream or pass content_type='text/event-stream'",
        ))
    }
}
