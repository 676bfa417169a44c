//! OpenAI Chat Completions: `chat.completion.chunk` SSE events and `chat.completion` bodies.
//!
//! Stream, per choice: a role chunk (`delta: {"role": "assistant", "content": ""}`), one chunk
//! per content-carrying `GenerationChunk` (reasoning in the configured field, `content`,
//! `refusal`, one `tool_calls` entry), then a finish chunk with an empty delta. `finish()`
//! writes the `choices: []` usage chunk when `include_usage` is set, then `data: [DONE]`.
//!
//! Finish reasons: stop, length, tool_calls and content_filter pass through. OpenAI has no
//! value for `cancelled`, which is written as `length` (the output was cut short). A choice
//! that emitted tool calls and stopped is written as `tool_calls`, which is what agent loops
//! test for. `error` is not a finish reason here: an error chunk becomes
//! `data: {"error": {"message", "type": "server_error", "param": null, "code"}}` (the shape
//! the OpenAI SDK raises `APIError` for; vLLM sends the same), followed only by `[DONE]`.
//!
//! Usage (the `choices: []` chunk and the response body) reports the latest `prompt_tokens` /
//! `completion_tokens` any chunk carried, 0 when none did.
//!
//! Tool calls: id, `type` and `function.name` are written on a call's first fragment only
//! (a missing id becomes `call_<response id tail>_<index>`); later fragments carry
//! `function.arguments` alone, exactly the model's text.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{write_key, write_opt_str, write_str, write_u64};
use super::{error_message, generated_call_id, is_error, Envelope, SeenIndices};
use crate::chunk::{FinishReason, GenerationChunk, ToolCallDelta, Usage};
use crate::error::{Error, Result};

/// The finish reason OpenAI clients understand for a choice.
fn finish_reason_name(reason: Option<FinishReason>, had_tool_calls: bool) -> &'static str {
    match reason {
        None | Some(FinishReason::Stop) | Some(FinishReason::Error) if had_tool_calls => {
            "tool_calls"
        }
        None | Some(FinishReason::Stop) | Some(FinishReason::Error) => "stop",
        Some(FinishReason::Length) | Some(FinishReason::Cancelled) => "length",
        Some(FinishReason::ToolCalls) => "tool_calls",
        Some(FinishReason::ContentFilter) => "content_filter",
    }
}

/// `{"error":{"message":...,"type":"server_error","param":null,"code":...}}`: an OpenAI error
/// body, and the data of the error event that ends a stream.
pub(crate) fn write_error_body(chunk: &GenerationChunk, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"error\":{\"message\":");
    write_str(out, error_message(chunk));
    out.extend_from_slice(b",\"type\":\"server_error\",\"param\":null,\"code\":");
    write_opt_str(out, chunk.rare.error_code.as_deref());
    out.extend_from_slice(b"}}");
}

/// `logprobs` of a choice: the chunk holds the token array (or a whole logprobs object).
fn write_logprobs(logprobs: Option<&str>, out: &mut Vec<u8>) {
    match logprobs.map(str::trim) {
        Some(raw) if raw.starts_with('[') => {
            out.extend_from_slice(b"{\"content\":");
            out.extend_from_slice(raw.as_bytes());
            out.extend_from_slice(b",\"refusal\":null}");
        }
        Some(raw) if !raw.is_empty() => out.extend_from_slice(raw.as_bytes()),
        _ => out.extend_from_slice(b"null"),
    }
}

fn write_usage(usage: &Usage, out: &mut Vec<u8>) {
    let prompt = usage.prompt_tokens.unwrap_or(0);
    let completion = usage.completion_tokens.unwrap_or(0);
    out.extend_from_slice(b"{\"prompt_tokens\":");
    write_u64(out, prompt);
    out.extend_from_slice(b",\"completion_tokens\":");
    write_u64(out, completion);
    out.extend_from_slice(b",\"total_tokens\":");
    write_u64(out, prompt.saturating_add(completion));
    out.push(b'}');
}

/// `{"id":...,"object":"<object>","created":...,"model":...[,"system_fingerprint":...]`
fn write_header(envelope: &Envelope, object: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"id\":");
    write_str(out, &envelope.id);
    out.extend_from_slice(b",\"object\":");
    write_str(out, object);
    out.extend_from_slice(b",\"created\":");
    write_u64(out, envelope.created);
    out.extend_from_slice(b",\"model\":");
    write_str(out, &envelope.model);
    if let Some(fingerprint) = &envelope.system_fingerprint {
        out.extend_from_slice(b",\"system_fingerprint\":");
        write_str(out, fingerprint);
    }
}

#[derive(Debug)]
struct ChoiceState {
    index: u32,
    finished: bool,
    calls: SeenIndices,
}

/// The streaming encoder (see the module docs for the event sequence).
#[derive(Debug)]
pub struct StreamEncoder {
    /// Everything before a choice object: `data: {"id":...,"model":...,"choices":[`.
    prefix: Vec<u8>,
    response_id: String,
    reasoning_key: &'static str,
    include_usage: bool,
    choices: Vec<ChoiceState>,
    usage: Usage,
    started: bool,
    ended_by_error: bool,
}

impl StreamEncoder {
    pub fn new(envelope: Envelope) -> StreamEncoder {
        let mut prefix = b"data: ".to_vec();
        write_header(&envelope, "chat.completion.chunk", &mut prefix);
        prefix.extend_from_slice(b",\"choices\":[");
        StreamEncoder {
            prefix,
            reasoning_key: envelope.reasoning_field.as_str(),
            include_usage: envelope.include_usage,
            usage: Usage::new(envelope.prompt_tokens),
            response_id: envelope.id,
            choices: Vec::new(),
            started: false,
            ended_by_error: false,
        }
    }

    /// The preamble: choice 0's role chunk, once.
    pub fn start(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            self.choice_position(0, out);
        }
    }

    /// Position of the choice in `self.choices`, writing its role chunk when it is new.
    fn choice_position(&mut self, index: u32, out: &mut Vec<u8>) -> usize {
        if let Some(position) = self.choices.iter().position(|c| c.index == index) {
            return position;
        }
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(b"{\"index\":");
        write_u64(out, index.into());
        out.extend_from_slice(
            b",\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
        );
        self.choices.push(ChoiceState {
            index,
            finished: false,
            calls: SeenIndices::default(),
        });
        self.choices.len() - 1
    }

    pub fn encode_chunk(&mut self, chunk: &GenerationChunk, out: &mut Vec<u8>) -> Result<()> {
        if self.ended_by_error {
            return Ok(());
        }
        self.usage.take_latest(&chunk.rare);
        if is_error(chunk) {
            out.extend_from_slice(b"data: ");
            write_error_body(chunk, out);
            out.extend_from_slice(b"\n\n");
            self.ended_by_error = true;
            return Ok(());
        }
        let position = self.choice_position(chunk.choice_index, out);
        if chunk.has_content() || chunk.rare.logprobs.is_some() {
            self.write_delta(position, chunk, out);
        }
        if (chunk.done || chunk.finish_reason.is_some()) && !self.choices[position].finished {
            self.write_finish(position, chunk.finish_reason, out);
        }
        Ok(())
    }

    fn write_delta(&mut self, position: usize, chunk: &GenerationChunk, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(b"{\"index\":");
        write_u64(out, chunk.choice_index.into());
        out.extend_from_slice(b",\"delta\":{");
        let mut separator = false;
        let mut field = |out: &mut Vec<u8>, key: &str| {
            if separator {
                out.push(b',');
            }
            separator = true;
            write_key(out, key);
        };
        if !chunk.reasoning_delta.is_empty() {
            field(out, self.reasoning_key);
            write_str(out, &chunk.reasoning_delta);
        }
        if !chunk.text_delta.is_empty() {
            field(out, "content");
            write_str(out, &chunk.text_delta);
        }
        if !chunk.rare.refusal_delta.is_empty() {
            field(out, "refusal");
            write_str(out, &chunk.rare.refusal_delta);
        }
        if let Some(call) = &chunk.tool_call_delta {
            field(out, "tool_calls");
            out.push(b'[');
            let first_fragment = self.choices[position].calls.insert(call.index);
            self.write_tool_call_fragment(call, first_fragment, out);
            out.push(b']');
        }
        out.extend_from_slice(b"},\"logprobs\":");
        write_logprobs(chunk.rare.logprobs.as_deref(), out);
        out.extend_from_slice(b",\"finish_reason\":null}]}\n\n");
    }

    fn write_tool_call_fragment(&self, call: &ToolCallDelta, first: bool, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"index\":");
        write_u64(out, call.index.into());
        if first {
            out.extend_from_slice(b",\"id\":");
            match &call.id {
                Some(id) => write_str(out, id),
                None => write_str(
                    out,
                    &generated_call_id("call_", &self.response_id, call.index),
                ),
            }
            out.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
            write_str(out, call.function_name.as_deref().unwrap_or(""));
            out.extend_from_slice(b",\"arguments\":");
        } else {
            out.extend_from_slice(b",\"function\":{\"arguments\":");
        }
        write_str(out, &call.arguments_delta);
        out.extend_from_slice(b"}}");
    }

    fn write_finish(&mut self, position: usize, reason: Option<FinishReason>, out: &mut Vec<u8>) {
        let choice = &mut self.choices[position];
        choice.finished = true;
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(b"{\"index\":");
        write_u64(out, choice.index.into());
        out.extend_from_slice(b",\"delta\":{},\"logprobs\":null,\"finish_reason\":");
        write_str(out, finish_reason_name(reason, !choice.calls.is_empty()));
        out.extend_from_slice(b"}]}\n\n");
    }

    /// Finish chunks for open choices, the usage chunk when asked for, `[DONE]`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.ended_by_error {
            for position in 0..self.choices.len() {
                if !self.choices[position].finished {
                    self.write_finish(position, None, out);
                }
            }
            if self.include_usage {
                out.extend_from_slice(&self.prefix);
                out.extend_from_slice(b"],\"usage\":");
                write_usage(&self.usage, out);
                out.extend_from_slice(b"}\n\n");
            }
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
    }
}

// --- non-streaming ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct CallAccumulator {
    index: u32,
    id: Option<String>,
    name: Option<String>,
    arguments: String,
}

#[derive(Debug, Default)]
struct ChoiceAccumulator<'a> {
    index: u32,
    text: String,
    reasoning: String,
    refusal: String,
    calls: Vec<CallAccumulator>,
    /// The token entries of each chunk's logprobs array, without the brackets.
    logprob_items: Vec<&'a str>,
    has_logprobs: bool,
    finish_reason: Option<FinishReason>,
}

/// The token entries of a chunk's logprobs (an array, or an object with a `content` array).
fn logprob_items(raw: &str) -> Result<Option<&str>> {
    #[derive(Deserialize)]
    struct LogprobsObject<'a> {
        #[serde(borrow)]
        content: Option<&'a RawValue>,
    }
    let raw = raw.trim();
    let array = if raw.starts_with('[') {
        raw
    } else {
        let object: LogprobsObject<'_> = serde_json::from_str(raw).map_err(|error| {
            Error::usage(format!(
                "chunk logprobs must be a JSON array or object: {error}"
            ))
        })?;
        match object.content {
            Some(content) if content.get().starts_with('[') => content.get(),
            _ => return Ok(None),
        }
    };
    let inner = array
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(|| Error::usage("chunk logprobs is not a complete JSON array"))?
        .trim();
    Ok((!inner.is_empty()).then_some(inner))
}

/// A `chat.completion` body for the whole chunk sequence (or the error body).
pub fn write_response<'a, I>(chunks: I, envelope: &Envelope, out: &mut Vec<u8>) -> Result<()>
where
    I: IntoIterator<Item = &'a GenerationChunk>,
{
    let mut choices: Vec<ChoiceAccumulator<'a>> = Vec::new();
    let mut usage = Usage::new(envelope.prompt_tokens);
    for chunk in chunks {
        usage.take_latest(&chunk.rare);
        if is_error(chunk) {
            write_error_body(chunk, out);
            return Ok(());
        }
        let choice = match choices.iter().position(|c| c.index == chunk.choice_index) {
            Some(position) => &mut choices[position],
            None => {
                choices.push(ChoiceAccumulator {
                    index: chunk.choice_index,
                    ..Default::default()
                });
                choices.last_mut().expect("just pushed")
            }
        };
        choice.reasoning.push_str(&chunk.reasoning_delta);
        choice.text.push_str(&chunk.text_delta);
        choice.refusal.push_str(&chunk.rare.refusal_delta);
        if let Some(delta) = &chunk.tool_call_delta {
            // Fragments of one call come together: look at the latest call first.
            let position = match choice.calls.last() {
                Some(last) if last.index == delta.index => Some(choice.calls.len() - 1),
                _ => choice.calls.iter().position(|c| c.index == delta.index),
            };
            let call = match position {
                Some(position) => &mut choice.calls[position],
                None => {
                    choice.calls.push(CallAccumulator {
                        index: delta.index,
                        ..Default::default()
                    });
                    choice.calls.last_mut().expect("just pushed")
                }
            };
            if call.id.is_none() {
                call.id.clone_from(&delta.id);
            }
            if call.name.is_none() {
                call.name.clone_from(&delta.function_name);
            }
            call.arguments.push_str(&delta.arguments_delta);
        }
        if let Some(raw) = chunk.rare.logprobs.as_deref() {
            choice.has_logprobs = true;
            choice.logprob_items.extend(logprob_items(raw)?);
        }
        if chunk.finish_reason.is_some() && choice.finish_reason.is_none() {
            choice.finish_reason = chunk.finish_reason;
        }
    }
    if choices.is_empty() {
        choices.push(ChoiceAccumulator::default());
    }
    choices.sort_by_key(|c| c.index);

    write_header(envelope, "chat.completion", out);
    out.extend_from_slice(b",\"choices\":[");
    for (position, choice) in choices.iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        write_choice(choice, envelope, out);
    }
    out.extend_from_slice(b"],\"usage\":");
    write_usage(&usage, out);
    out.push(b'}');
    Ok(())
}

fn write_choice(choice: &ChoiceAccumulator<'_>, envelope: &Envelope, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"index\":");
    write_u64(out, choice.index.into());
    out.extend_from_slice(b",\"message\":{\"role\":\"assistant\",\"content\":");
    // OpenAI writes `null` content next to tool calls or a refusal, "" otherwise.
    if choice.text.is_empty() && (!choice.calls.is_empty() || !choice.refusal.is_empty()) {
        out.extend_from_slice(b"null");
    } else {
        write_str(out, &choice.text);
    }
    if !choice.reasoning.is_empty() {
        out.push(b',');
        write_key(out, envelope.reasoning_field.as_str());
        write_str(out, &choice.reasoning);
    }
    out.extend_from_slice(b",\"refusal\":");
    write_opt_str(
        out,
        (!choice.refusal.is_empty()).then_some(&*choice.refusal),
    );
    if !choice.calls.is_empty() {
        out.extend_from_slice(b",\"tool_calls\":[");
        for (position, call) in choice.calls.iter().enumerate() {
            if position > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"id\":");
            match &call.id {
                Some(id) => write_str(out, id),
                None => write_str(out, &generated_call_id("call_", &envelope.id, call.index)),
            }
            out.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
            write_str(out, call.name.as_deref().unwrap_or(""));
            out.extend_from_slice(b",\"arguments\":");
            write_str(out, &call.arguments);
            out.extend_from_slice(b"}}");
        }
        out.push(b']');
    }
    out.extend_from_slice(b"},\"logprobs\":");
    if choice.has_logprobs {
        out.extend_from_slice(b"{\"content\":[");
        for (position, items) in choice.logprob_items.iter().enumerate() {
            if position > 0 {
                out.push(b',');
            }
            out.extend_from_slice(items.as_bytes());
        }
        out.extend_from_slice(b"],\"refusal\":null}");
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b",\"finish_reason\":");
    write_str(
        out,
        finish_reason_name(choice.finish_reason, !choice.calls.is_empty()),
    );
    out.push(b'}');
}
