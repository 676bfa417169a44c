//! fastsse core: framing (SSE, NDJSON, AWS eventstream), raw-text parsing, provider reducers
//! and encoders. Pure Rust, sans-IO; the PyO3 binding lives in `python/` behind the `python`
//! feature and is the only code that knows about Python.

pub mod anthropic_delta;
pub mod chunk;
pub mod coalesce;
pub mod collect;
pub mod encode;
pub mod error;
pub mod framing;
pub mod partial_json;
pub mod providers;
pub mod shared_text;
pub mod text;
pub mod utf8;

#[cfg(feature = "python")]
mod python;

pub use chunk::{FinishReason, GenerationChunk, Rare, RareFields, ToolCallDelta};
pub use error::{Error, Result};
// The framers keep their crate-root paths (`_fastsse::sse`, ...) for benches, fuzz targets and tests.
pub use framing::{eventstream, ndjson, sse};
