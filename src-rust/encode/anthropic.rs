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

use super::json::{write_key, write_opt_str, write_str, write_u64};
use super::{error_message, generated_call_id, is_error, Envelope, SeenIndices};
use crate::chunk::{FinishReason, GenerationChunk};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Thinking,
    Text,
    /// The tool call index (`ToolCallDelta.index`) the block belongs to.
    ToolUse(u32),
}

/// Where content blocks go: SSE events or a message body under construction. The block
/// index is passed along; blocks start at 0 and are contiguous.
trait BlockSink {
    fn start(&mut self, index: u32, kind: BlockKind, id: &str, name: &str);
    fn thinking(&mut self, index: u32, text: &str);
    fn text(&mut self, index: u32, text: &str);
    fn input_json(&mut self, index: u32, json: &str);
    fn stop(&mut self, index: u32, signature: Option<&str>);
}

/// The message being built: which block is open, and what the stop reason will be.
#[derive(Debug, Default)]
struct MessageState {
    response_id: String,
    open: Option<BlockKind>,
    /// Blocks opened so far (the open block's index is `opened - 1`).
    opened: u32,
    /// Tool calls that got a block, so a late fragment of a closed one is caught.
    calls: SeenIndices,
    /// Signature of the open thinking block, written just before it closes.
    signature: Option<String>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    finish_reason: Option<FinishReason>,
    stop_sequence: Option<String>,
    saw_refusal: bool,
}

impl MessageState {
    fn new(envelope: &Envelope) -> MessageState {
        MessageState {
            response_id: envelope.id.clone(),
            prompt_tokens: envelope.prompt_tokens,
            ..Default::default()
        }
    }

    fn open_index(&self) -> u32 {
        self.opened - 1
    }

    fn close(&mut self, sink: &mut impl BlockSink) {
        if let Some(kind) = self.open.take() {
            let signature = match kind {
                BlockKind::Thinking => self.signature.take(),
                _ => None,
            };
            sink.stop(self.open_index(), signature.as_deref());
        }
    }

    fn open(&mut self, kind: BlockKind, id: &str, name: &str, sink: &mut impl BlockSink) {
        self.close(sink);
        sink.start(self.opened, kind, id, name);
        self.open = Some(kind);
        self.opened += 1;
    }

    fn ensure_open(&mut self, kind: BlockKind, sink: &mut impl BlockSink) {
        if self.open != Some(kind) {
            self.open(kind, "", "", sink);
        }
    }

    /// Usage and stop information of a chunk (everything but its content).
    fn record(&mut self, chunk: &GenerationChunk) -> Result<()> {
        if chunk.choice_index != 0 {
            return Err(Error::usage(format!(
                "anthropic messages have a single choice, got a chunk with choice_index {}",
                chunk.choice_index
            )));
        }
        if chunk.prompt_tokens.is_some() {
            self.prompt_tokens = chunk.prompt_tokens;
        }
        if chunk.completion_tokens.is_some() {
            self.completion_tokens = chunk.completion_tokens;
        }
        if chunk.stop_sequence.is_some() {
            self.stop_sequence.clone_from(&chunk.stop_sequence);
        }
        if self.finish_reason.is_none() {
            self.finish_reason = chunk.finish_reason;
        }
        self.saw_refusal |= !chunk.refusal_delta.is_empty();
        Ok(())
    }

    /// The chunk's content, in the order a model writes it: reasoning, text, a tool call.
    fn content(&mut self, chunk: &GenerationChunk, sink: &mut impl BlockSink) -> Result<()> {
        if !chunk.reasoning_delta.is_empty() {
            self.ensure_open(BlockKind::Thinking, sink);
            sink.thinking(self.open_index(), &chunk.reasoning_delta);
        }
        if let Some(signature) = &chunk.reasoning_signature {
            // A signature with no thinking block open gets an (empty) block of its own.
            self.ensure_open(BlockKind::Thinking, sink);
            self.signature = Some(signature.clone());
        }
        for text in [&chunk.text_delta, &chunk.refusal_delta] {
            if !text.is_empty() {
                self.ensure_open(BlockKind::Text, sink);
                sink.text(self.open_index(), text);
            }
        }
        if let Some(call) = &chunk.tool_call_delta {
            if self.open != Some(BlockKind::ToolUse(call.index)) {
                if !self.calls.insert(call.index) {
                    return Err(Error::usage(format!(
                        "tool call {} got another fragment after its tool_use block closed; \
                         anthropic content blocks cannot interleave",
                        call.index
                    )));
                }
                let generated;
                let id = match &call.id {
                    Some(id) => id.as_str(),
                    None => {
                        generated = generated_call_id("toolu_", &self.response_id, call.index);
                        &generated
                    }
                };
                let name = call.function_name.as_deref().unwrap_or("");
                self.open(BlockKind::ToolUse(call.index), id, name, sink);
            }
            if !call.arguments_delta.is_empty() {
                sink.input_json(self.open_index(), &call.arguments_delta);
            }
        }
        Ok(())
    }

    fn stop_reason(&self) -> &'static str {
        match self.finish_reason {
            Some(FinishReason::Length) | Some(FinishReason::Cancelled) => "max_tokens",
            Some(FinishReason::ContentFilter) => "refusal",
            Some(FinishReason::ToolCalls) => "tool_use",
            None | Some(FinishReason::Stop) | Some(FinishReason::Error) => {
                if self.saw_refusal {
                    "refusal"
                } else if !self.calls.is_empty() {
                    "tool_use"
                } else if self.stop_sequence.is_some() {
                    "stop_sequence"
                } else {
                    "end_turn"
                }
            }
        }
    }

    /// `"stop_reason":...,"stop_sequence":...`
    fn write_stop(&self, out: &mut Vec<u8>) {
        let stop_reason = self.stop_reason();
        out.extend_from_slice(b"\"stop_reason\":");
        write_str(out, stop_reason);
        out.extend_from_slice(b",\"stop_sequence\":");
        let sequence = self.stop_sequence.as_deref();
        write_opt_str(out, sequence.filter(|_| stop_reason == "stop_sequence"));
    }
}

/// `{"type":"error","error":{"type":...,"message":...}}`
fn write_error(chunk: &GenerationChunk, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"type\":\"error\",\"error\":{\"type\":");
    write_str(out, chunk.error_code.as_deref().unwrap_or("api_error"));
    out.extend_from_slice(b",\"message\":");
    write_str(out, error_message(chunk));
    out.extend_from_slice(b"}}");
}

/// Writes blocks as SSE events.
struct EventSink<'a> {
    out: &'a mut Vec<u8>,
}

impl EventSink<'_> {
    fn delta(&mut self, index: u32, kind: &str, field: &str, text: &str) {
        let out = &mut *self.out;
        out.extend_from_slice(
            b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":",
        );
        write_u64(out, index.into());
        out.extend_from_slice(b",\"delta\":{\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",");
        write_key(out, field);
        write_str(out, text);
        out.extend_from_slice(b"}}\n\n");
    }
}

impl BlockSink for EventSink<'_> {
    fn start(&mut self, index: u32, kind: BlockKind, id: &str, name: &str) {
        let out = &mut *self.out;
        out.extend_from_slice(
            b"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":",
        );
        write_u64(out, index.into());
        out.extend_from_slice(b",\"content_block\":");
        match kind {
            BlockKind::Thinking => out
                .extend_from_slice(b"{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}"),
            BlockKind::Text => out.extend_from_slice(b"{\"type\":\"text\",\"text\":\"\"}"),
            BlockKind::ToolUse(_) => {
                out.extend_from_slice(b"{\"type\":\"tool_use\",\"id\":");
                write_str(out, id);
                out.extend_from_slice(b",\"name\":");
                write_str(out, name);
                out.extend_from_slice(b",\"input\":{}}");
            }
        }
        out.extend_from_slice(b"}\n\n");
    }

    fn thinking(&mut self, index: u32, text: &str) {
        self.delta(index, "thinking_delta", "thinking", text);
    }

    fn text(&mut self, index: u32, text: &str) {
        self.delta(index, "text_delta", "text", text);
    }

    fn input_json(&mut self, index: u32, json: &str) {
        self.delta(index, "input_json_delta", "partial_json", json);
    }

    fn stop(&mut self, index: u32, signature: Option<&str>) {
        if let Some(signature) = signature {
            self.delta(index, "signature_delta", "signature", signature);
        }
        let out = &mut *self.out;
        out.extend_from_slice(
            b"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":",
        );
        write_u64(out, index.into());
        out.extend_from_slice(b"}\n\n");
    }
}

/// The streaming encoder (see the module docs for the event sequence).
#[derive(Debug)]
pub struct StreamEncoder {
    id: String,
    model: String,
    ping: bool,
    state: MessageState,
    started: bool,
    ended_by_error: bool,
}

impl StreamEncoder {
    pub fn new(envelope: Envelope) -> StreamEncoder {
        StreamEncoder {
            state: MessageState::new(&envelope),
            id: envelope.id,
            model: envelope.model,
            ping: envelope.ping,
            started: false,
            ended_by_error: false,
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
        write_u64(out, self.state.prompt_tokens.unwrap_or(0));
        out.extend_from_slice(b",\"output_tokens\":0}}}\n\n");
        if self.ping {
            out.extend_from_slice(b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
        }
    }

    pub fn encode_chunk(&mut self, chunk: &GenerationChunk, out: &mut Vec<u8>) -> Result<()> {
        if self.ended_by_error {
            return Ok(());
        }
        self.state.record(chunk)?;
        if is_error(chunk) {
            out.extend_from_slice(b"event: error\ndata: ");
            write_error(chunk, out);
            out.extend_from_slice(b"\n\n");
            self.ended_by_error = true;
            return Ok(());
        }
        self.state.content(chunk, &mut EventSink { out })
    }

    /// Close the open block, then `message_delta` and `message_stop`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.ended_by_error {
            return;
        }
        self.state.close(&mut EventSink { out: &mut *out });
        out.extend_from_slice(
            b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{",
        );
        self.state.write_stop(out);
        out.extend_from_slice(b"},\"usage\":{");
        if let Some(prompt_tokens) = self.state.prompt_tokens {
            out.extend_from_slice(b"\"input_tokens\":");
            write_u64(out, prompt_tokens);
            out.push(b',');
        }
        out.extend_from_slice(b"\"output_tokens\":");
        write_u64(out, self.state.completion_tokens.unwrap_or(0));
        out.extend_from_slice(b"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }
}

// --- non-streaming ---------------------------------------------------------------------------

#[derive(Debug)]
enum Block {
    Thinking {
        thinking: String,
        signature: String,
    },
    Text(String),
    ToolUse {
        id: String,
        name: String,
        arguments: String,
    },
}

/// Collects blocks for a `message` body.
#[derive(Default)]
struct BodySink {
    blocks: Vec<Block>,
}

impl BlockSink for BodySink {
    fn start(&mut self, _index: u32, kind: BlockKind, id: &str, name: &str) {
        self.blocks.push(match kind {
            BlockKind::Thinking => Block::Thinking {
                thinking: String::new(),
                signature: String::new(),
            },
            BlockKind::Text => Block::Text(String::new()),
            BlockKind::ToolUse(_) => Block::ToolUse {
                id: id.to_owned(),
                name: name.to_owned(),
                arguments: String::new(),
            },
        });
    }

    fn thinking(&mut self, _index: u32, text: &str) {
        if let Some(Block::Thinking { thinking, .. }) = self.blocks.last_mut() {
            thinking.push_str(text);
        }
    }

    fn text(&mut self, _index: u32, text: &str) {
        if let Some(Block::Text(buffer)) = self.blocks.last_mut() {
            buffer.push_str(text);
        }
    }

    fn input_json(&mut self, _index: u32, json: &str) {
        if let Some(Block::ToolUse { arguments, .. }) = self.blocks.last_mut() {
            arguments.push_str(json);
        }
    }

    fn stop(&mut self, _index: u32, signature: Option<&str>) {
        if let (
            Some(Block::Thinking {
                signature: slot, ..
            }),
            Some(signature),
        ) = (self.blocks.last_mut(), signature)
        {
            signature.clone_into(slot);
        }
    }
}

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
    let mut state = MessageState::new(envelope);
    let mut sink = BodySink::default();
    for chunk in chunks {
        state.record(chunk)?;
        if is_error(chunk) {
            write_error(chunk, out);
            return Ok(());
        }
        state.content(chunk, &mut sink)?;
    }
    state.close(&mut sink);

    out.extend_from_slice(b"{\"id\":");
    write_str(out, &envelope.id);
    out.extend_from_slice(b",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    write_str(out, &envelope.model);
    out.extend_from_slice(b",\"content\":[");
    for (position, block) in sink.blocks.iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        match block {
            Block::Thinking {
                thinking,
                signature,
            } => {
                out.extend_from_slice(b"{\"type\":\"thinking\",\"thinking\":");
                write_str(out, thinking);
                out.extend_from_slice(b",\"signature\":");
                write_str(out, signature);
            }
            Block::Text(text) => {
                out.extend_from_slice(b"{\"type\":\"text\",\"text\":");
                write_str(out, text);
            }
            Block::ToolUse {
                id,
                name,
                arguments,
            } => {
                out.extend_from_slice(b"{\"type\":\"tool_use\",\"id\":");
                write_str(out, id);
                out.extend_from_slice(b",\"name\":");
                write_str(out, name);
                out.extend_from_slice(b",\"input\":");
                write_tool_input(arguments, out);
            }
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"],");
    state.write_stop(out);
    out.extend_from_slice(b",\"usage\":{\"input_tokens\":");
    write_u64(out, state.prompt_tokens.unwrap_or(0));
    out.extend_from_slice(b",\"output_tokens\":");
    write_u64(out, state.completion_tokens.unwrap_or(0));
    out.extend_from_slice(b"}}");
    Ok(())
}
