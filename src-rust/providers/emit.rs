//! Bookkeeping every reducer needs: tool-call indices, the chunk shapes every format makes,
//! exactly one terminal chunk carrying the finish reason and token counts, and one wording
//! for malformed events. `is_first` and `raw` are not set here: the pipeline
//! (`pipeline::stamp`) stamps them on every reducer's chunks, so a reducer only sets `raw`
//! when it attaches another event's text (the terminal chunk's finish event).

use std::sync::Arc;

use crate::chunk::{FinishReason, GenerationChunk, RareFields, ToolCallDelta};
use crate::providers::Chunks;
use serde::Deserialize;

use super::json;
use crate::error::{Error, Result};

/// How a stream ended, as far as the provider said.
#[derive(Debug, Default)]
pub(crate) struct Ending {
    pub finish_reason: Option<FinishReason>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub stop_sequence: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// The event that carried the finish reason.
    pub raw: Option<Arc<str>>,
}

impl Ending {
    /// The terminal chunk (every reducer's terminal chunks are made here). A stream that
    /// ended before the provider's final event gets `finish_reason="error"` with code
    /// `incomplete_stream`.
    pub fn into_chunk(self, provider: &str) -> GenerationChunk {
        let (finish_reason, error_code, error_message) = match self.finish_reason {
            Some(reason) => (reason, self.error_code, self.error_message),
            None => incomplete_stream(provider),
        };
        GenerationChunk {
            done: true,
            finish_reason: Some(finish_reason),
            rare: RareFields {
                prompt_tokens: self.prompt_tokens,
                completion_tokens: self.completion_tokens,
                stop_sequence: self.stop_sequence,
                error_code,
                error_message,
                ..RareFields::NONE
            }
            .into(),
            raw: self.raw,
            ..Default::default()
        }
    }
}

#[derive(Debug)]
pub(crate) struct Emitter {
    provider: &'static str,
    next_tool_index: u32,
    pub ending: Ending,
    terminal_sent: bool,
}

impl Emitter {
    pub fn new(provider: &'static str) -> Self {
        Emitter {
            provider,
            next_tool_index: 0,
            ending: Ending::default(),
            terminal_sent: false,
        }
    }

    pub fn text(&mut self, text: impl Into<String>, out: &mut Chunks) {
        let text = text.into();
        if !text.is_empty() {
            out.push(GenerationChunk::text(text));
        }
    }

    pub fn reasoning(&mut self, text: impl Into<String>, out: &mut Chunks) {
        let text = text.into();
        if !text.is_empty() {
            out.push(GenerationChunk::reasoning(text));
        }
    }

    /// A chunk with no content whose `raw` carries model output we do not map (signatures,
    /// redacted reasoning, server-side tool activity), so callers can still reach it.
    pub fn raw_only(&mut self, out: &mut Chunks) {
        out.push(GenerationChunk::default());
    }

    /// Open a tool call: a chunk with its index, id and name and no arguments yet.
    /// Returns the index to use for the call's argument chunks.
    pub fn start_tool_call(
        &mut self,
        id: Option<&str>,
        name: Option<&str>,
        out: &mut Chunks,
    ) -> u32 {
        let index = self.next_tool_index;
        self.next_tool_index += 1;
        let delta = ToolCallDelta {
            index,
            id: id.map(str::to_owned),
            function_name: name.map(str::to_owned),
            arguments_delta: String::new(),
        };
        out.push(GenerationChunk::tool_call(delta));
        index
    }

    pub fn tool_arguments(&mut self, index: u32, arguments: impl Into<String>, out: &mut Chunks) {
        let arguments = arguments.into();
        if arguments.is_empty() {
            return;
        }
        let delta = ToolCallDelta {
            index,
            arguments_delta: arguments,
            ..Default::default()
        };
        out.push(GenerationChunk::tool_call(delta));
    }

    /// Whether any tool call was started.
    pub fn made_tool_calls(&self) -> bool {
        self.next_tool_index > 0
    }

    /// Record the finish reason and the event that carried it.
    pub fn set_finish(&mut self, reason: FinishReason, raw: &str) {
        self.ending.finish_reason = Some(reason);
        self.ending.raw = Some(Arc::from(raw));
    }

    /// Whether the terminal chunk was sent (later events add nothing).
    pub fn finished(&self) -> bool {
        self.terminal_sent
    }

    /// Append the terminal chunk, once; later calls add nothing. A stream that ended before
    /// the provider's final event gets `finish_reason="error"` with code `incomplete_stream`.
    pub fn finish(&mut self, out: &mut Chunks) -> Result<()> {
        if self.terminal_sent {
            return Ok(());
        }
        self.terminal_sent = true;
        out.push(std::mem::take(&mut self.ending).into_chunk(self.provider));
        Ok(())
    }

    /// Malformed JSON (or a JSON shape the format does not allow) in an event.
    pub fn bad_json(&self, error: impl std::fmt::Display, offset: u64) -> Error {
        json::malformed(self.provider, None, offset, error)
    }

    /// Parse an event's JSON, with the one malformed-JSON wording.
    pub fn parse<'a, T: Deserialize<'a>>(&self, data: &'a str, offset: u64) -> Result<T> {
        json::parse(self.provider, data, offset)
    }
}

/// The terminal fields of a stream that ended before the provider's final event: every
/// reducer words it this one way.
fn incomplete_stream(provider: &str) -> (FinishReason, Option<String>, Option<String>) {
    (
        FinishReason::Error,
        Some("incomplete_stream".to_owned()),
        Some(format!(
            "the {provider} stream ended before the provider's final event"
        )),
    )
}

/// `raw` for the chunks made from a part of an event (an element of a JSON array body, the
/// inner event of a wrapper): that part's text, shared. Chunks that have `raw` keep it.
pub(crate) fn attach_raw(chunks: &mut [GenerationChunk], text: &str) {
    let mut shared: Option<Arc<str>> = None;
    for chunk in chunks.iter_mut().filter(|chunk| chunk.raw.is_none()) {
        chunk.raw = Some(shared.get_or_insert_with(|| Arc::from(text)).clone());
    }
}

/// Sum of the counts that are present (None when none is).
pub(crate) fn sum_present(counts: &[Option<u64>]) -> Option<u64> {
    counts
        .iter()
        .flatten()
        .copied()
        .reduce(|a, b| a.saturating_add(b))
}
