//! Hugging Face Text Generation Inference `/generate_stream` (SSE) and `/generate` (JSON)
//! -> unified chunks.
//!
//! Every event carries one generated `token` (`text`, `special`); special tokens (EOS and the
//! like) are not text and are skipped. The last event also has `generated_text` and, when the
//! request asked for `details`, `details.finish_reason` and `details.generated_tokens`
//! (newer servers add `details.prompt_tokens`). A failure is an event
//! `{"error": "...", "error_type": "..."}`.
//!
//! | TGI `details.finish_reason` | unified |
//! |---|---|
//! | `eos_token` | `stop` |
//! | `stop_sequence` | `stop` |
//! | `length` | `length` |
//! | no `details` in the final event | `stop` (TGI does not say; it only omits details) |
//!
//! Usage: `completion_tokens` = `generated_tokens`, `prompt_tokens` = `prompt_tokens` when sent.

use serde::Deserialize;

use super::emit::Emitter;
use super::json::JStr;
use super::{Reducer, WireEvent};
use crate::chunk::FinishReason;
use crate::error::{Error, Result};
use crate::providers::Chunks;

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct StreamResponse<'a> {
    token: Option<Token<'a>>,
    generated_text: Option<JStr<'a>>,
    details: Option<Details<'a>>,
    error: Option<JStr<'a>>,
    error_type: Option<JStr<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Token<'a> {
    text: JStr<'a>,
    #[serde(default)]
    special: bool,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Details<'a> {
    finish_reason: Option<JStr<'a>>,
    generated_tokens: Option<u64>,
    prompt_tokens: Option<u64>,
}

/// The `/generate` body: `generated_text` with optional details.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct GenerateResponse<'a> {
    generated_text: Option<JStr<'a>>,
    details: Option<Details<'a>>,
    error: Option<JStr<'a>>,
    error_type: Option<JStr<'a>>,
}

pub struct TgiReducer {
    emit: Emitter,
}

impl Default for TgiReducer {
    fn default() -> Self {
        TgiReducer {
            emit: Emitter::new("tgi"),
        }
    }
}

impl TgiReducer {
    pub fn new() -> Self {
        Self::default()
    }

    fn end(&mut self, details: Option<Details<'_>>, raw: &str) {
        let reason = match details.as_ref().and_then(|d| d.finish_reason.as_deref()) {
            Some("length") => FinishReason::Length,
            _ => FinishReason::Stop,
        };
        self.emit.set_finish(reason, raw);
        if let Some(details) = details {
            self.emit.ending.completion_tokens = details.generated_tokens;
            self.emit.ending.prompt_tokens = details.prompt_tokens;
        }
    }
}

fn provider_error(message: JStr<'_>, kind: Option<JStr<'_>>, raw: &str) -> Error {
    Error::provider(kind.map(JStr::into_string), message, raw)
}

impl Reducer for TgiReducer {
    fn on_event(&mut self, event: &WireEvent<'_>, out: &mut Chunks) -> Result<()> {
        let data = event.data;
        let response: StreamResponse<'_> = self.emit.parse(data, event.offset)?;
        if let Some(message) = response.error {
            return Err(provider_error(message, response.error_type, data));
        }
        if let Some(token) = &response.token {
            if !token.special {
                self.emit.text(&*token.text, out);
            }
        }
        if response.generated_text.is_some() || response.details.is_some() {
            self.end(response.details, data);
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Chunks) -> Result<()> {
        self.emit.finish(out)
    }

    /// A `/generate` body (an object) or the `/` compat body (a one-element array).
    fn on_complete_body(&mut self, body: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        let parsed = if body.trim_start().starts_with('[') {
            let mut items: Vec<GenerateResponse<'_>> = self.emit.parse(body, offset)?;
            if items.len() != 1 {
                return Err(self.emit.bad_json(
                    format!("expected one generation in the body, got {}", items.len()),
                    offset,
                ));
            }
            items.remove(0)
        } else {
            self.emit.parse(body, offset)?
        };
        if let Some(message) = parsed.error {
            return Err(provider_error(message, parsed.error_type, body));
        }
        let Some(text) = parsed.generated_text else {
            return Err(self.emit.bad_json("the body has no generated_text", offset));
        };
        self.emit.text(text, out);
        self.end(parsed.details, body);
        self.emit.finish(out)
    }
}
