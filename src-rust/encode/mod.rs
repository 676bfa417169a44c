//! Unified `GenerationChunk`s -> provider wire bytes: the server half of fastsse.
//!
//! Each format is a stream encoder (SSE events, written incrementally, one call per batch of
//! chunks) and, except the UI stream, a one-shot response builder (the non-streaming JSON):
//!
//! * `openai` — Chat Completions: `chat.completion.chunk` events then `data: [DONE]`, or one
//!   `chat.completion` object ([`openai`]).
//! * `anthropic` — Messages: `message_start`, content blocks, `message_delta`, `message_stop`,
//!   every event with its `event:` line, or one `message` object ([`anthropic`]).
//! * `openai-responses` — Responses: `response.created`, output items, `response.completed`,
//!   or one `response` object ([`responses`]).
//! * `vercel-ui` — the AI SDK UI message stream, data-only parts then `data: [DONE]`
//!   ([`vercel_ui`]); streaming only.
//!
//! The three block-structured formats share one content-block state machine ([`blocks`]).
//!
//! JSON is written directly into the output buffer ([`json`]); nothing is parsed or
//! re-serialized except the tool arguments of an Anthropic response, which must be an object.
//!
//! Contract, shared by both formats:
//! * the first `encode` call (even with no chunks) writes the preamble (OpenAI role chunk,
//!   Anthropic `message_start`, `response.created`, UI `start`), so a server can send it before the first token;
//! * a chunk with `finish_reason` (or `done`) ends its choice; `finish()` ends the stream (usage,
//!   `[DONE]`, `message_delta` / `message_stop`), closing whatever is still open;
//! * a chunk with `error_code` / `error_message` (or `finish_reason = "error"`) becomes the
//!   format's error event and ends the stream: later chunks are ignored;
//! * after an `Err`, the stream is broken: discard the encoder.

pub mod anthropic;
pub mod blocks;
pub mod json;
pub mod openai;
pub mod responses;
pub mod vercel_ui;

use crate::chunk::GenerationChunk;
use crate::error::{Error, Result};
pub use responses::ResponseFields;

/// The wire formats the encoders write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenAi,
    Anthropic,
    OpenAiResponses,
    VercelUi,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::OpenAi,
        Format::Anthropic,
        Format::OpenAiResponses,
        Format::VercelUi,
    ];
    pub const NAMES: [&'static str; 4] = ["openai", "anthropic", "openai-responses", "vercel-ui"];

    pub fn parse(name: &str) -> Result<Format> {
        match Format::ALL
            .into_iter()
            .find(|format| format.as_str() == name)
        {
            Some(format) => Ok(format),
            None => Err(Error::usage(format!(
                "unknown encode format {name:?}; expected one of {}",
                Format::NAMES.join(", ")
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::OpenAi => "openai",
            Format::Anthropic => "anthropic",
            Format::OpenAiResponses => "openai-responses",
            Format::VercelUi => "vercel-ui",
        }
    }
}

/// Which OpenAI delta field carries reasoning text: `reasoning_content` (DeepSeek, vLLM,
/// SGLang) or `reasoning` (OpenRouter, newer vLLM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReasoningField {
    #[default]
    ReasoningContent,
    Reasoning,
}

impl ReasoningField {
    pub fn parse(name: &str) -> Result<ReasoningField> {
        match name {
            "reasoning_content" => Ok(ReasoningField::ReasoningContent),
            "reasoning" => Ok(ReasoningField::Reasoning),
            other => Err(Error::usage(format!(
                "reasoning_field must be \"reasoning_content\" or \"reasoning\", got {other:?}"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningField::ReasoningContent => "reasoning_content",
            ReasoningField::Reasoning => "reasoning",
        }
    }
}

/// What surrounds the chunks: identifiers and options fixed for one response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// Response id (`chatcmpl-...` / `msg_...`); also the seed of generated tool-call ids.
    pub id: String,
    pub model: String,
    /// Unix seconds (OpenAI `created`).
    pub created: u64,
    /// OpenAI `system_fingerprint`, written only when set.
    pub system_fingerprint: Option<String>,
    /// OpenAI `stream_options.include_usage`: a `choices: []` usage chunk before `[DONE]`.
    pub include_usage: bool,
    pub reasoning_field: ReasoningField,
    /// Prompt tokens when known up front (Anthropic `message_start` reports them); otherwise
    /// the chunks' `prompt_tokens` are used when they arrive.
    pub prompt_tokens: Option<u64>,
    /// Anthropic: write a `ping` event after `message_start`, as the API does.
    pub ping: bool,
    /// OpenAI Responses: reasoning as `summary_text` parts (what OpenAI's models stream)
    /// instead of `reasoning_text` content (what open-weight model servers stream).
    pub reasoning_summary: bool,
    /// OpenAI Responses: the request fields the response object repeats.
    pub response_fields: ResponseFields,
}

/// A stateful stream encoder: `encode` each batch of chunks, then `finish` once.
#[derive(Debug)]
pub struct Encoder {
    format: Format,
    inner: Inner,
    finished: bool,
}

#[derive(Debug)]
enum Inner {
    OpenAi(openai::StreamEncoder),
    Anthropic(anthropic::StreamEncoder),
    OpenAiResponses(responses::StreamEncoder),
    VercelUi(vercel_ui::StreamEncoder),
}

/// Runs `$body` with `$encoder` bound to whichever format's encoder `$inner` holds (they
/// share `start` / `encode_chunk` / `finish` but no trait: static dispatch, no boxing).
macro_rules! with_encoder {
    ($inner:expr, $encoder:ident => $body:expr) => {
        match $inner {
            Inner::OpenAi($encoder) => $body,
            Inner::Anthropic($encoder) => $body,
            Inner::OpenAiResponses($encoder) => $body,
            Inner::VercelUi($encoder) => $body,
        }
    };
}

impl Encoder {
    pub fn new(format: Format, envelope: Envelope) -> Encoder {
        let inner = match format {
            Format::OpenAi => Inner::OpenAi(openai::StreamEncoder::new(envelope)),
            Format::Anthropic => Inner::Anthropic(anthropic::StreamEncoder::new(envelope)),
            Format::OpenAiResponses => {
                Inner::OpenAiResponses(responses::StreamEncoder::new(envelope))
            }
            Format::VercelUi => Inner::VercelUi(vercel_ui::StreamEncoder::new(envelope)),
        };
        Encoder {
            format,
            inner,
            finished: false,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Append the SSE bytes for `chunks` to `out`.
    pub fn encode<'a, I>(&mut self, chunks: I, out: &mut Vec<u8>) -> Result<()>
    where
        I: IntoIterator<Item = &'a GenerationChunk>,
    {
        if self.finished {
            return Err(Error::usage(
                "Encoder.encode() called after finish(): the stream has ended",
            ));
        }
        with_encoder!(&mut self.inner, encoder => {
            encoder.start(out);
            chunks
                .into_iter()
                .try_for_each(|chunk| encoder.encode_chunk(chunk, out))
        })
    }

    /// Append the end of the stream to `out`; the encoder accepts nothing after this.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<()> {
        if self.finished {
            return Err(Error::usage("Encoder.finish() called twice"));
        }
        self.finished = true;
        with_encoder!(&mut self.inner, encoder => {
            encoder.start(out);
            encoder.finish(out);
        });
        Ok(())
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

/// The whole SSE stream for `chunks` (encode + finish).
pub fn encode<'a, I>(chunks: I, format: Format, envelope: Envelope) -> Result<Vec<u8>>
where
    I: IntoIterator<Item = &'a GenerationChunk>,
{
    let mut out = Vec::with_capacity(1024);
    let mut encoder = Encoder::new(format, envelope);
    encoder.encode(chunks, &mut out)?;
    encoder.finish(&mut out)?;
    Ok(out)
}

/// The provider's non-streaming response body for `chunks`: a `chat.completion`, an Anthropic
/// `message` or a Responses `response` object; when a chunk carries an error, the provider's
/// error body instead (send it with a 5xx status; see [`is_error`]). The UI stream has no
/// non-streaming form: a usage error.
pub fn encode_response<'a, I>(chunks: I, format: Format, envelope: Envelope) -> Result<Vec<u8>>
where
    I: IntoIterator<Item = &'a GenerationChunk>,
{
    let mut out = Vec::with_capacity(1024);
    match format {
        Format::OpenAi => openai::write_response(chunks, &envelope, &mut out)?,
        Format::Anthropic => anthropic::write_response(chunks, &envelope, &mut out)?,
        Format::OpenAiResponses => responses::write_response(chunks, &envelope, &mut out)?,
        Format::VercelUi => {
            return Err(Error::usage(
                "the vercel-ui format is a stream only: use encode(), not encode_response()",
            ))
        }
    }
    Ok(out)
}

/// True when the chunk reports a failure that the formats write as an error event/body.
pub fn is_error(chunk: &GenerationChunk) -> bool {
    chunk.rare.error_code.is_some()
        || chunk.rare.error_message.is_some()
        || chunk.finish_reason == Some(crate::chunk::FinishReason::Error)
}

/// The message of an error chunk; a bare `finish_reason = "error"` gets a generic one.
pub(crate) fn error_message(chunk: &GenerationChunk) -> &str {
    chunk
        .rare
        .error_message
        .as_deref()
        .or(chunk.rare.error_code.as_deref())
        .unwrap_or("generation failed")
}

/// A tool-call id for a call whose first fragment carried none, stable for one response:
/// `<prefix><response id without its own prefix>_<index>`.
pub(crate) fn generated_call_id(prefix: &str, response_id: &str, index: u32) -> String {
    let tail = response_id
        .rsplit_once(['-', '_'])
        .map_or(response_id, |(_, tail)| tail);
    let mut id = String::with_capacity(prefix.len() + tail.len() + 12);
    id.push_str(prefix);
    id.push_str(tail);
    id.push('_');
    id.push_str(itoa::Buffer::new().format(index));
    id
}

/// Tool-call indices already seen. Calls are few and usually numbered in order, so a new
/// index above the largest is recognised without a search.
#[derive(Debug, Default, Clone)]
pub(crate) struct SeenIndices {
    seen: Vec<u32>,
    largest: Option<u32>,
}

impl SeenIndices {
    /// Record `index`; true when it was new.
    pub fn insert(&mut self, index: u32) -> bool {
        let is_new = match self.largest {
            None => true,
            Some(largest) if index > largest => true,
            Some(_) => !self.seen.contains(&index),
        };
        if is_new {
            self.seen.push(index);
            self.largest = self.largest.max(Some(index));
        }
        is_new
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_reasoning_field_names() {
        for name in Format::NAMES {
            assert_eq!(Format::parse(name).unwrap().as_str(), name);
        }
        let err = Format::parse("gemini").unwrap_err().to_string();
        assert!(err.contains("\"gemini\"") && err.contains("openai, anthropic, openai-responses"));
        assert_eq!(
            ReasoningField::parse("reasoning").unwrap(),
            ReasoningField::Reasoning
        );
        assert!(ReasoningField::parse("thinking").is_err());
    }

    #[test]
    fn generated_ids_use_the_response_id_tail() {
        assert_eq!(generated_call_id("call_", "chatcmpl-abc", 2), "call_abc_2");
        assert_eq!(generated_call_id("toolu_", "msg_01x", 0), "toolu_01x_0");
        assert_eq!(generated_call_id("call_", "plain", 1), "call_plain_1");
    }

    #[test]
    fn seen_indices_in_any_order() {
        let mut seen = SeenIndices::default();
        assert!(seen.is_empty());
        assert_eq!(
            [3, 1, 3, 2, 1, 4, 0, 4].map(|i| seen.insert(i)),
            [true, true, false, true, false, true, true, false]
        );
        assert!(!seen.is_empty());
    }

    #[test]
    fn encoder_refuses_use_after_finish() {
        for format in Format::ALL {
            let mut encoder = Encoder::new(format, Envelope::default());
            let mut out = Vec::new();
            encoder.finish(&mut out).unwrap();
            assert!(matches!(
                encoder.encode([].iter(), &mut out),
                Err(Error::Usage { .. })
            ));
            assert!(matches!(encoder.finish(&mut out), Err(Error::Usage { .. })));
        }
    }
}
