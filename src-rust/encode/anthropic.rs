//! Anthropic Messages: SSE events (each with its `event:` line — the Anthropic SDK drops events
//! without one) and `message` bodies.
//!
//! Stream: `message_start` (message with id, model, empty content, `usage.input_tokens` from
//! the envelope's `prompt_tokens`, else 0), an optional `ping`, then content blocks with
//! contiguous indices — `thinking` (`thinking_delta`s, then a `signature_delta` before its
//! `content_block_stop` when a chunk carried `reasoning_signature`), `text` (`text_delta`s;
//! refusal text goes here too) and `tool_use` (`input_json_delta`s of the model's own argument
//! text) — opened and closed as the kind of content changes; `finish()` closes the open block
//! and writes `message_delta` (stop reason, cumulative usage: `output_tokens`, plus
//! `input_tokens` when the chunks reported them) and `message_stop`.
//!
//! Stop reasons: stop -> `end_turn` (`stop_sequence` with the matched string when a chunk
//! carried one; `tool_use` when tool calls were written; `refusal` when refusal text was),
//! length -> `max_tokens`, tool_calls -> `tool_use`, content_filter -> `refusal`, cancelled ->
//! `max_tokens` (cut short; Anthropic has no cancelled value). An error chunk becomes
//! `event: error` with `{"type": "error", "error": {"type": <error_code or "api_error">,
//! "message": ...}}` and ends the stream, as the API does (no `message_stop` after it).
//!
//! Limits: Anthropic has one choice per message (`choice_index` must be 0), and a block cannot
//! be reopened: a tool-call fragment for a call whose block already closed is a usage error.
//! Streamed tool arguments are passed through unchecked (the SDK parses them as they arrive);
//! in a non-streaming `message`, `input` must be a JSON object: arguments that are not one
//! (invalid or truncated JSON, an array, ...) are written as `{}`.

use serde_json::value::RawValue;

use super::blocks::{Block, BlockKind, BlockSink, Blocks, Message, Step};
use super::json::{write_opt_str, write_str, write_u64};
use super::{error_message, Envelope};
use crate::chunk::{FinishReason, GenerationChunk};
use crate::error::Result;

const FORMAT: &str = "anthropic";

fn new_message(envelope: &Envelope) -> Message {
    // Refusal text goes to a text block: Anthropic has no refusal block.
    Message::new(
        Blocks::new(FORMAT, "toolu_", &envelope.id, true),
        envelope.prompt_tokens,
    )
}

fn stop_reason(message: &Message) -> &'static str {
    let outcome = &message.outcome;
    match outcome.finish_reason {
        Some(FinishReason::Length) | Some(FinishReason::Cancelled) => "max_tokens",
        Some(FinishReason::ContentFilter) => "refusal",
        Some(FinishReason::ToolCalls) => "tool_use",
        None | Some(FinishReason::Stop) | Some(FinishReason::Error) => {
            if outcome.saw_refusal {
                "refusal"
            } else if message.blocks.called_tools() {
                "tool_use"
            } else if outcome.usage.stop_sequence.is_some() {
                "stop_sequence"
            } else {
                "end_turn"
            }
        }
    }
}

/// `"stop_reason":...,"stop_sequence":...`
fn write_stop(message: &Message, out: &mut Vec<u8>) {
    let stop_reason = stop_reason(message);
    out.extend_from_slice(b"\"stop_reason\":");
    write_str(out, stop_reason);
    out.extend_from_slice(b",\"stop_sequence\":");
    let sequence = message.outcome.usage.stop_sequence.as_deref();
    write_opt_str(out, sequence.filter(|_| stop_reason == "stop_sequence"));
}

/// `{"type":"error","error":{"type":...,"message":...}}`
fn write_error(chunk: &GenerationChunk, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"type\":\"error\",\"error\":{\"type\":");
    write_str(out, chunk.rare.error_code.as_deref().unwrap_or("api_error"));
    out.extend_from_slice(b",\"message\":");
    write_str(out, error_message(chunk));
    out.extend_from_slice(b"}}");
}

/// Writes blocks as SSE events.
struct EventSink<'a> {
    out: &'a mut Vec<u8>,
}

impl EventSink<'_> {
    fn write_delta(&mut self, index: u32, kind: &str, field: &str, text: &str) {
        let out = &mut *self.out;
        out.extend_from_slice(
            b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":",
        );
        write_u64(out, index.into());
        out.extend_from_slice(b",\"delta\":{\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",\"");
        out.extend_from_slice(field.as_bytes());
        out.extend_from_slice(b"\":");
        write_str(out, text);
        out.extend_from_slice(b"}}\n\n");
    }
}

impl BlockSink for EventSink<'_> {
    fn start(&mut self, block: &Block) {
        let out = &mut *self.out;
        out.extend_from_slice(
            b"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":",
        );
        write_u64(out, block.index.into());
        out.extend_from_slice(b",\"content_block\":");
        match block.kind {
            BlockKind::Reasoning => out
                .extend_from_slice(b"{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}"),
            BlockKind::Text | BlockKind::Refusal => {
                out.extend_from_slice(b"{\"type\":\"text\",\"text\":\"\"}")
            }
            BlockKind::ToolCall(_) => {
                out.extend_from_slice(b"{\"type\":\"tool_use\",\"id\":");
                write_str(out, &block.call_id);
                out.extend_from_slice(b",\"name\":");
                write_str(out, &block.name);
                out.extend_from_slice(b",\"input\":{}}");
            }
        }
        out.extend_from_slice(b"}\n\n");
    }

    fn delta(&mut self, block: &Block, text: &str, _logprobs: Option<&str>) {
        let (kind, field) = match block.kind {
            BlockKind::Reasoning => ("thinking_delta", "thinking"),
            BlockKind::Text | BlockKind::Refusal => ("text_delta", "text"),
            BlockKind::ToolCall(_) => ("input_json_delta", "partial_json"),
        };
        self.write_delta(block.index, kind, field, text);
    }

    fn stop(&mut self, block: &Block, signature: Option<&str>) {
        if let Some(signature) = signature {
            self.write_delta(block.index, "signature_delta", "signature", signature);
        }
        let out = &mut *self.out;
        out.extend_from_slice(
            b"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":",
        );
        write_u64(out, block.index.into());
        out.extend_from_slice(b"}\n\n");
    }
}

/// The streaming encoder (see the module docs for the event sequence).
#[derive(Debug)]
pub struct StreamEncoder {
    id: String,
    model: String,
    ping: bool,
    message: Message,
    started: bool,
}

impl StreamEncoder {
    pub fn new(envelope: Envelope) -> StreamEncoder {
        StreamEncoder {
            message: new_message(&envelope),
            id: envelope.id,
            model: envelope.model,
            ping: envelope.ping,
            started: false,
        }
    }

    /// The preamble: `message_start` (and `ping`), once.
    pub fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        out.extend_from_slice(
            b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":",
        );
        write_str(out, &self.id);
        out.extend_from_slice(b",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
        write_str(out, &self.model);
        out.extend_from_slice(
            b",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":",
        );
        write_u64(out, self.message.outcome.usage.prompt_tokens.unwrap_or(0));
        out.extend_from_slice(b",\"output_tokens\":0}}}\n\n");
        if self.ping {
            out.extend_from_slice(b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
        }
    }

    pub fn encode_chunk(&mut self, chunk: &GenerationChunk, out: &mut Vec<u8>) -> Result<()> {
        match self.message.step(chunk)? {
            Step::Ignore => Ok(()),
            Step::Fail => {
                out.extend_from_slice(b"event: error\ndata: ");
                write_error(chunk, out);
                out.extend_from_slice(b"\n\n");
                Ok(())
            }
            Step::Write => self.message.blocks.content(chunk, &mut EventSink { out }),
        }
    }

    /// Close the open block, then `message_delta` and `message_stop`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.message.failed() {
            return;
        }
        self.message.blocks.close(&mut EventSink { out: &mut *out });
        out.extend_from_slice(
            b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{",
        );
        write_stop(&self.message, out);
        out.extend_from_slice(b"},\"usage\":{");
        if let Some(prompt_tokens) = self.message.outcome.usage.prompt_tokens {
            out.extend_from_slice(b"\"input_tokens\":");
            write_u64(out, prompt_tokens);
            out.push(b',');
        }
        out.extend_from_slice(b"\"output_tokens\":");
        write_u64(
            out,
            self.message.outcome.usage.completion_tokens.unwrap_or(0),
        );
        out.extend_from_slice(b"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }
}

// --- non-streaming ---------------------------------------------------------------------------

/// Tool `input`: the model's arguments when they are one JSON object, else `{}`.
fn write_tool_input(arguments: &str, out: &mut Vec<u8>) {
    let arguments = arguments.trim();
    match serde_json::from_str::<&RawValue>(arguments) {
        Ok(value) if value.get().starts_with('{') => out.extend_from_slice(value.get().as_bytes()),
        _ => out.extend_from_slice(b"{}"),
    }
}

/// A `message` body for the whole chunk sequence (or the error body).
pub fn write_response<'a, I>(chunks: I, envelope: &Envelope, out: &mut Vec<u8>) -> Result<()>
where
    I: IntoIterator<Item = &'a GenerationChunk>,
{
    let mut message = new_message(envelope);
    let Some(collected) = message.collect(chunks, |failed| write_error(failed, out))? else {
        return Ok(());
    };

    out.extend_from_slice(b"{\"id\":");
    write_str(out, &envelope.id);
    out.extend_from_slice(b",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    write_str(out, &envelope.model);
    out.extend_from_slice(b",\"content\":[");
    for (position, whole) in collected.blocks.iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        match whole.block.kind {
            BlockKind::Reasoning => {
                out.extend_from_slice(b"{\"type\":\"thinking\",\"thinking\":");
                write_str(out, &whole.text);
                out.extend_from_slice(b",\"signature\":");
                write_str(out, whole.signature.as_deref().unwrap_or(""));
            }
            BlockKind::Text | BlockKind::Refusal => {
                out.extend_from_slice(b"{\"type\":\"text\",\"text\":");
                write_str(out, &whole.text);
            }
            BlockKind::ToolCall(_) => {
                out.extend_from_slice(b"{\"type\":\"tool_use\",\"id\":");
                write_str(out, &whole.block.call_id);
                out.extend_from_slice(b",\"name\":");
                write_str(out, &whole.block.name);
                out.extend_from_slice(b",\"input\":");
                write_tool_input(&whole.text, out);
            }
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"],");
    write_stop(&message, out);
    out.extend_from_slice(b",\"usage\":{\"input_tokens\":");
    write_u64(out, message.outcome.usage.prompt_tokens.unwrap_or(0));
    out.extend_from_slice(b",\"output_tokens\":");
    write_u64(out, message.outcome.usage.completion_tokens.unwrap_or(0));
    out.extend_from_slice(b"}}");
    Ok(())
}
