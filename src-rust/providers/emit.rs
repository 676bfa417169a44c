//! Bookkeeping every reducer needs: tool-call indices, the chunk shapes every format makes,
//! exactly one terminal chunk carrying the finish reason and token counts, and one wording
//! for malformed events. `is_first` and `raw` are not set here: the pipeline
//! (`pipeline::stamp`) stamps them on every reducer's chunks, so a reducer only sets `raw`
//! when it attaches another event's text (the terminal chunk's finish event).

use crate::chunk::{FinishReason, GenerationChunk, Rare, RareFields, ToolCallDelta};
use crate::providers::Chunks;
use crate::shared_text::SharedText;
use serde::Deserialize;
use serde_json::value::RawValue;

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
    pub raw: Option<SharedText>,
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

/// The two texts a model answers with that carry log-probabilities.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Answer {
    Text,
    Refusal,
}

/// Makes every chunk a reducer sends. One `Emitter` serves one choice (`choice_index`):
/// formats with several choices (OpenAI `n > 1`) keep one per choice.
#[derive(Debug)]
pub(crate) struct Emitter {
    provider: &'static str,
    choice: u32,
    /// One past the highest tool-call index opened (a u64: a wire index may be u32::MAX).
    tool_calls: u64,
    pub ending: Ending,
    terminal_sent: bool,
}

impl Emitter {
    pub fn new(provider: &'static str) -> Self {
        Self::for_choice(provider, 0)
    }

    /// The emitter of choice `choice` of a multi-choice format.
    pub fn for_choice(provider: &'static str, choice: u32) -> Self {
        Emitter {
            provider,
            choice,
            tool_calls: 0,
            ending: Ending::default(),
            terminal_sent: false,
        }
    }

    fn push(&self, chunk: GenerationChunk, out: &mut Chunks) {
        out.push(GenerationChunk {
            choice_index: self.choice,
            ..chunk
        });
    }

    pub fn text(&mut self, text: impl Into<String>, out: &mut Chunks) {
        self.answer(Answer::Text, text, None, out);
    }

    /// Answer text or refusal text with the log-probabilities of its tokens: a chunk when
    /// either is there.
    pub fn answer(
        &mut self,
        kind: Answer,
        text: impl Into<String>,
        logprobs: Option<&RawValue>,
        out: &mut Chunks,
    ) {
        let text = text.into();
        let logprobs = logprobs
            .filter(|raw| !json::is_blank_raw(raw))
            .map(|raw| Box::from(raw.get()));
        if text.is_empty() && logprobs.is_none() {
            return;
        }
        let mut chunk = GenerationChunk {
            rare: Rare::logprobs(logprobs),
            ..Default::default()
        };
        match kind {
            Answer::Text => chunk.text_delta = text,
            Answer::Refusal => chunk.rare.refusal_delta = text,
        }
        self.push(chunk, out);
    }

    pub fn reasoning(&mut self, text: impl Into<String>, out: &mut Chunks) {
        let text = text.into();
        if !text.is_empty() {
            self.push(GenerationChunk::reasoning(text), out);
        }
    }

    /// The signature that closes the reasoning so far (sent even when empty: the event was there).
    pub fn reasoning_signature(&mut self, signature: Option<String>, out: &mut Chunks) {
        let chunk = match signature {
            Some(signature) => GenerationChunk::signature(signature),
            None => GenerationChunk::default(),
        };
        self.push(chunk, out);
    }

    /// A chunk of rare fields only (a redacted reasoning block's data, citations).
    pub fn rare(&mut self, fields: RareFields, out: &mut Chunks) {
        self.push(GenerationChunk::with_rare(fields), out);
    }

    /// A chunk with no content whose `raw` carries model output we do not map (signatures,
    /// redacted reasoning, server-side tool activity), so callers can still reach it.
    pub fn raw_only(&mut self, out: &mut Chunks) {
        self.push(GenerationChunk::default(), out);
    }

    /// Open the next tool call: a chunk with its index, id and name and no arguments yet.
    /// Returns the index to use for the call's argument chunks.
    pub fn start_tool_call(
        &mut self,
        id: Option<&str>,
        name: Option<&str>,
        out: &mut Chunks,
    ) -> u32 {
        // Calls numbered here come one per chunk: far fewer than u32::MAX.
        let index = u32::try_from(self.tool_calls).unwrap_or(u32::MAX);
        let delta = ToolCallDelta {
            index,
            id: id.map(str::to_owned),
            function_name: name.map(str::to_owned),
            arguments_delta: String::new(),
        };
        self.tool_calls = u64::from(index) + 1;
        self.push(GenerationChunk::tool_call(delta), out);
        index
    }

    /// A tool-call fragment whose index the wire gave (OpenAI numbers its calls itself): a
    /// chunk unless it carries nothing; the index counts as used either way.
    pub fn tool_call(&mut self, delta: ToolCallDelta, out: &mut Chunks) {
        self.tool_calls = self.tool_calls.max(u64::from(delta.index) + 1);
        let carries = delta.id.is_some()
            || delta.function_name.is_some()
            || !delta.arguments_delta.is_empty();
        if carries {
            self.push(GenerationChunk::tool_call(delta), out);
        }
    }

    /// The index the next call numbered here would get; `None` past u32::MAX.
    pub fn next_tool_index(&self) -> Option<u32> {
        u32::try_from(self.tool_calls).ok()
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
        self.push(GenerationChunk::tool_call(delta), out);
    }

    /// Whether any tool call was started.
    pub fn made_tool_calls(&self) -> bool {
        self.tool_calls > 0
    }

    /// Record the finish reason and the event that carried it.
    pub fn set_finish(&mut self, reason: FinishReason, raw: &str) {
        self.ending.finish_reason = Some(reason);
        self.ending.raw = Some(SharedText::from(raw));
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
        let chunk = std::mem::take(&mut self.ending).into_chunk(self.provider);
        self.push(chunk, out);
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
    let mut shared: Option<SharedText> = None;
    for chunk in chunks.iter_mut().filter(|chunk| chunk.raw.is_none()) {
        chunk.raw = Some(shared.get_or_insert_with(|| SharedText::from(text)).clone());
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
