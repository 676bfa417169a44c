//! Ollama `/api/chat` and `/api/generate` (NDJSON, `application/x-ndjson`) -> unified chunks.
//!
//! Each line is one JSON object: `/api/chat` puts the new text in `message.content`, reasoning
//! in `message.thinking` and whole tool calls in `message.tool_calls` (arguments as a JSON
//! object); `/api/generate` uses `response` and `thinking`. The last line has `done: true`,
//! `done_reason`, `prompt_eval_count` and `eval_count`. A failure mid-stream is a line
//! `{"error": "..."}`. Each tool call becomes two chunks: id + name, then the arguments text.
//!
//! | Ollama `done_reason` | unified |
//! |---|---|
//! | `stop` (or absent) | `stop`, or `tool_calls` when the response made tool calls |
//! | `length` | `length` |
//! | `load`, `unload` (no generation happened) | `stop` |
//! | anything else | `stop` |
//!
//! Usage: `prompt_tokens` = `prompt_eval_count`, `completion_tokens` = `eval_count`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::emit::Emitter;
use super::json::JStr;
use super::{Reducer, WireEvent};
use crate::chunk::FinishReason;
use crate::error::{Error, Result};
use crate::providers::Chunks;

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Line<'a> {
    message: Option<Message<'a>>,
    /// `/api/generate` text.
    response: Option<JStr<'a>>,
    /// `/api/generate` reasoning.
    thinking: Option<JStr<'a>>,
    #[serde(default)]
    done: bool,
    done_reason: Option<JStr<'a>>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Message<'a> {
    content: Option<JStr<'a>>,
    thinking: Option<JStr<'a>>,
    tool_calls: Option<Vec<ToolCall<'a>>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ToolCall<'a> {
    id: Option<JStr<'a>>,
    function: Function<'a>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Function<'a> {
    name: JStr<'a>,
    arguments: Option<&'a RawValue>,
}

pub struct OllamaReducer {
    emit: Emitter,
}

impl Default for OllamaReducer {
    fn default() -> Self {
        OllamaReducer {
            emit: Emitter::new("ollama"),
        }
    }
}

impl OllamaReducer {
    pub fn new() -> Self {
        Self::default()
    }

    fn reduce(&mut self, data: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        let line: Line<'_> = self.emit.parse(data, offset)?;
        if let Some(error) = line.error {
            return Err(provider_error(error, data));
        }
        if let Some(thinking) = &line.thinking {
            self.emit.reasoning(&**thinking, out);
        }
        if let Some(text) = &line.response {
            self.emit.text(&**text, out);
        }
        if let Some(message) = line.message {
            if let Some(thinking) = &message.thinking {
                self.emit.reasoning(&**thinking, out);
            }
            if let Some(text) = &message.content {
                self.emit.text(&**text, out);
            }
            for call in message.tool_calls.into_iter().flatten() {
                let index =
                    self.emit
                        .start_tool_call(call.id.as_deref(), Some(&call.function.name), out);
                let arguments = arguments_text(call.function.arguments)
                    .map_err(|e| self.emit.bad_json(e, offset))?;
                self.emit.tool_arguments(index, arguments, out);
            }
        }
        if line.done {
            let reason = match line.done_reason.as_deref() {
                Some("length") => FinishReason::Length,
                _ if self.emit.made_tool_calls() => FinishReason::ToolCalls,
                _ => FinishReason::Stop,
            };
            self.emit.set_finish(reason, data);
            self.emit.ending.prompt_tokens = line.prompt_eval_count;
            self.emit.ending.completion_tokens = line.eval_count;
        }
        Ok(())
    }
}

/// The arguments as JSON text: Ollama sends an object; a JSON string holding the text (as
/// OpenAI-style servers do) is unwrapped; absent arguments are `{}`.
fn arguments_text(arguments: Option<&RawValue>) -> std::result::Result<Cow<'_, str>, String> {
    let Some(arguments) = arguments else {
        return Ok(Cow::Borrowed("{}"));
    };
    let text = arguments.get();
    if text.starts_with('"') {
        let inner: String = serde_json::from_str(text).map_err(|e| e.to_string())?;
        return Ok(Cow::Owned(inner));
    }
    if text == "null" {
        return Ok(Cow::Borrowed("{}"));
    }
    Ok(Cow::Borrowed(text))
}

fn provider_error(error: &RawValue, raw: &str) -> Error {
    #[derive(Deserialize)]
    struct Detail {
        message: Option<String>,
        code: Option<serde_json::Value>,
    }
    let text = error.get();
    let (code, message) = if let Ok(message) = serde_json::from_str::<String>(text) {
        (None, message)
    } else if let Ok(detail) = serde_json::from_str::<Detail>(text) {
        let code = detail.code.map(|c| match c {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
        (code, detail.message.unwrap_or_else(|| text.to_owned()))
    } else {
        (None, text.to_owned())
    };
    Error::provider(code, message, raw)
}

impl Reducer for OllamaReducer {
    fn on_event(&mut self, event: &WireEvent<'_>, out: &mut Chunks) -> Result<()> {
        self.reduce(event.data, event.offset, out)
    }

    fn finish(&mut self, out: &mut Chunks) -> Result<()> {
        self.emit.finish(out)
    }

    /// A `"stream": false` body: one object with `done: true`, the whole message and counts.
    fn on_complete_body(&mut self, body: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        self.reduce(body, offset, out)?;
        self.emit.finish(out)
    }
}
