//! Bookkeeping every reducer needs: `is_first` on the first chunk with content, the provider
//! event attached to each chunk as `raw` (one shared allocation per event), tool-call
//! indices, and exactly one terminal chunk carrying the finish reason and token counts.

use std::sync::Arc;

use crate::chunk::{FinishReason, GenerationChunk, ToolCallDelta};
use crate::error::{Error, Result};

/// The text of the provider event being reduced; shared by every chunk made from it.
pub(crate) struct RawEvent<'a> {
    text: &'a str,
    shared: Option<Arc<str>>,
}

impl<'a> RawEvent<'a> {
    pub fn new(text: &'a str) -> Self {
        RawEvent { text, shared: None }
    }

    pub fn shared(&mut self) -> Arc<str> {
        self.shared
            .get_or_insert_with(|| Arc::from(self.text))
            .clone()
    }
}

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

pub(crate) struct Emitter {
    provider: &'static str,
    seen_content: bool,
    next_tool_index: u32,
    pub ending: Ending,
    terminal_sent: bool,
}

impl Emitter {
    pub fn new(provider: &'static str) -> Self {
        Emitter {
            provider,
            seen_content: false,
            next_tool_index: 0,
            ending: Ending::default(),
            terminal_sent: false,
        }
    }

    pub fn push(
        &mut self,
        raw: &mut RawEvent<'_>,
        mut chunk: GenerationChunk,
        out: &mut Vec<GenerationChunk>,
    ) {
        if !self.seen_content && chunk.has_content() {
            chunk.is_first = true;
            self.seen_content = true;
        }
        chunk.raw = Some(raw.shared());
        out.push(chunk);
    }

    pub fn text(&mut self, raw: &mut RawEvent<'_>, text: &str, out: &mut Vec<GenerationChunk>) {
        if !text.is_empty() {
            self.push(raw, GenerationChunk::text(text), out);
        }
    }

    pub fn reasoning(
        &mut self,
        raw: &mut RawEvent<'_>,
        text: &str,
        out: &mut Vec<GenerationChunk>,
    ) {
        if !text.is_empty() {
            self.push(raw, GenerationChunk::reasoning(text), out);
        }
    }

    /// A chunk with no content whose `raw` carries model output we do not map (signatures,
    /// redacted reasoning, server-side tool activity), so callers can still reach it.
    pub fn raw_only(&mut self, raw: &mut RawEvent<'_>, out: &mut Vec<GenerationChunk>) {
        self.push(raw, GenerationChunk::default(), out);
    }

    /// Open a tool call: a chunk with its index, id and name and no arguments yet.
    /// Returns the index to use for the call's argument chunks.
    pub fn start_tool_call(
        &mut self,
        raw: &mut RawEvent<'_>,
        id: Option<&str>,
        name: &str,
        out: &mut Vec<GenerationChunk>,
    ) -> u32 {
        let index = self.next_tool_index;
        self.next_tool_index += 1;
        let delta = ToolCallDelta {
            index,
            id: id.map(str::to_owned),
            function_name: Some(name.to_owned()),
            arguments_delta: String::new(),
        };
        self.push(raw, GenerationChunk::tool_call(delta), out);
        index
    }

    pub fn tool_arguments(
        &mut self,
        raw: &mut RawEvent<'_>,
        index: u32,
        arguments: impl Into<String>,
        out: &mut Vec<GenerationChunk>,
    ) {
        let arguments = arguments.into();
        if arguments.is_empty() {
            return;
        }
        let delta = ToolCallDelta {
            index,
            arguments_delta: arguments,
            ..Default::default()
        };
        self.push(raw, GenerationChunk::tool_call(delta), out);
    }

    /// Whether any tool call was started.
    pub fn made_tool_calls(&self) -> bool {
        self.next_tool_index > 0
    }

    /// Record the finish reason and the event that carried it.
    pub fn set_finish(&mut self, reason: FinishReason, raw: &mut RawEvent<'_>) {
        self.ending.finish_reason = Some(reason);
        self.ending.raw = Some(raw.shared());
    }

    /// Append the terminal chunk, once; later calls add nothing. A stream that ended before
    /// the provider's final event gets `finish_reason="error"` with code `incomplete_stream`.
    pub fn finish(&mut self, out: &mut Vec<GenerationChunk>) -> Result<()> {
        if self.terminal_sent {
            return Ok(());
        }
        self.terminal_sent = true;
        let ending = std::mem::take(&mut self.ending);
        let (finish_reason, error_code, error_message) = match ending.finish_reason {
            Some(reason) => (reason, ending.error_code, ending.error_message),
            None => incomplete_stream(self.provider),
        };
        out.push(GenerationChunk {
            done: true,
            finish_reason: Some(finish_reason),
            prompt_tokens: ending.prompt_tokens,
            completion_tokens: ending.completion_tokens,
            stop_sequence: ending.stop_sequence,
            error_code,
            error_message,
            raw: ending.raw,
            ..Default::default()
        });
        Ok(())
    }

    /// Malformed JSON (or a JSON shape the format does not allow) in an event.
    pub fn bad_json(&self, error: impl std::fmt::Display, offset: u64) -> Error {
        Error::protocol(
            format!("malformed {} event: {error}", self.provider),
            Some(offset),
        )
    }
}

/// The terminal fields of a stream that ended before the provider's final event: every
/// reducer words it this one way.
pub(crate) fn incomplete_stream(provider: &str) -> (FinishReason, Option<String>, Option<String>) {
    (
        FinishReason::Error,
        Some("incomplete_stream".to_owned()),
        Some(format!(
            "the {provider} stream ended before the provider's final event"
        )),
    )
}

/// Sum of the counts that are present (None when none is).
pub(crate) fn sum_present(counts: &[Option<u64>]) -> Option<u64> {
    counts
        .iter()
        .flatten()
        .copied()
        .reduce(|a, b| a.saturating_add(b))
}
