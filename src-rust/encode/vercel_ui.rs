//! The AI SDK UI message stream (protocol v1, header `x-vercel-ai-ui-message-stream: v1`):
//! data-only SSE events, one JSON part each, that `useChat` reads.
//!
//! Stream: `start` (with `messageId`, the envelope's id) and `start-step`, then per content
//! block (ids: `reasoning-<n>` / `text-<n>`, n the block's position in the message):
//!
//! | block     | parts                                                                             |
//! |-----------|-----------------------------------------------------------------------------------|
//! | reasoning | `reasoning-start`, `reasoning-delta`s, `reasoning-end`                            |
//! | text      | `text-start`, `text-delta`s, `text-end` (refusal text goes here too)              |
//! | tool call | `tool-input-start` (`toolCallId`, `toolName`), `tool-input-delta`s (`inputTextDelta`, the model's own text), then `tool-input-available` with the parsed `input` (`{}` for no arguments) — or `tool-input-error` with the raw text as `input` when the arguments are not JSON |
//!
//! `finish()` closes the open block and writes `finish-step`, `finish` with `finishReason`
//! (stop, length, tool-calls, content-filter; `other` for cancelled; `tool-calls` when a
//! stopped message called tools), then `data: [DONE]`. An error chunk becomes
//! `{"type":"error","errorText":...}` and ends the stream: `finish()` then writes only
//! `[DONE]`. The AI SDK checks parts strictly (no unknown keys), so nothing else is written:
//! usage and reasoning signatures are not part of the protocol.
//!
//! Limits: one choice (`choice_index` 0), blocks cannot interleave (see [`super::blocks`]).
//! A tool call's arguments are held until its block closes, to be parsed once.

use serde_json::value::RawValue;

use super::blocks::{Block, BlockKind, BlockSink, Blocks, Message, Step};
use super::json::{write_str, write_u64};
use super::{error_message, Envelope};
use crate::chunk::{FinishReason, GenerationChunk};
use crate::error::Result;

const FORMAT: &str = "vercel-ui";

fn finish_reason_name(reason: Option<FinishReason>, called_tools: bool) -> &'static str {
    match reason {
        None | Some(FinishReason::Stop) | Some(FinishReason::Error) if called_tools => "tool-calls",
        None | Some(FinishReason::Stop) | Some(FinishReason::Error) => "stop",
        Some(FinishReason::Length) => "length",
        Some(FinishReason::Cancelled) => "other",
        Some(FinishReason::ToolCalls) => "tool-calls",
        Some(FinishReason::ContentFilter) => "content-filter",
    }
}

/// `"<kind>-<n>"`: the id of a reasoning or text part.
fn write_part_id(block: &Block, out: &mut Vec<u8>) {
    out.extend_from_slice(match block.kind {
        BlockKind::Reasoning => b"\"reasoning-",
        _ => b"\"text-",
    });
    write_u64(out, block.index.into());
    out.push(b'"');
}

/// Writes blocks as UI message stream parts.
struct PartSink<'a> {
    out: &'a mut Vec<u8>,
    /// The open tool call's arguments so far.
    arguments: &'a mut String,
}

impl PartSink<'_> {
    /// `data: {"type":"<kind>",` then the block's id field.
    fn open_part(&mut self, kind: &str, block: &Block) {
        let out = &mut *self.out;
        out.extend_from_slice(b"data: {\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",");
        match block.kind {
            BlockKind::ToolCall(_) => {
                out.extend_from_slice(b"\"toolCallId\":");
                write_str(out, &block.call_id);
            }
            _ => {
                out.extend_from_slice(b"\"id\":");
                write_part_id(block, out);
            }
        }
    }

    fn write_tool_name(&mut self, block: &Block) {
        self.out.extend_from_slice(b",\"toolName\":");
        write_str(self.out, &block.name);
    }
}

impl BlockSink for PartSink<'_> {
    fn start(&mut self, block: &Block) {
        let kind = match block.kind {
            BlockKind::Reasoning => "reasoning-start",
            BlockKind::Text | BlockKind::Refusal => "text-start",
            BlockKind::ToolCall(_) => "tool-input-start",
        };
        self.open_part(kind, block);
        if let BlockKind::ToolCall(_) = block.kind {
            self.arguments.clear();
            self.write_tool_name(block);
        }
        self.out.extend_from_slice(b"}\n\n");
    }

    fn delta(&mut self, block: &Block, text: &str, _logprobs: Option<&str>) {
        let (kind, key): (&str, &[u8]) = match block.kind {
            BlockKind::Reasoning => ("reasoning-delta", b",\"delta\":"),
            BlockKind::Text | BlockKind::Refusal => ("text-delta", b",\"delta\":"),
            BlockKind::ToolCall(_) => {
                self.arguments.push_str(text);
                ("tool-input-delta", b",\"inputTextDelta\":")
            }
        };
        self.open_part(kind, block);
        self.out.extend_from_slice(key);
        write_str(self.out, text);
        self.out.extend_from_slice(b"}\n\n");
    }

    fn stop(&mut self, block: &Block, _signature: Option<&str>) {
        match block.kind {
            BlockKind::Reasoning => self.open_part("reasoning-end", block),
            BlockKind::Text | BlockKind::Refusal => self.open_part("text-end", block),
            BlockKind::ToolCall(_) => {
                let arguments = std::mem::take(self.arguments);
                let trimmed = arguments.trim();
                let parsed = if trimmed.is_empty() {
                    Ok("{}")
                } else {
                    serde_json::from_str::<&RawValue>(trimmed).map(RawValue::get)
                };
                match parsed {
                    Ok(input) => {
                        self.open_part("tool-input-available", block);
                        self.write_tool_name(block);
                        self.out.extend_from_slice(b",\"input\":");
                        self.out.extend_from_slice(input.as_bytes());
                    }
                    Err(error) => {
                        self.open_part("tool-input-error", block);
                        self.write_tool_name(block);
                        self.out.extend_from_slice(b",\"input\":");
                        write_str(self.out, &arguments);
                        self.out.extend_from_slice(b",\"errorText\":");
                        let message = format!("the tool arguments are not valid JSON: {error}");
                        write_str(self.out, &message);
                    }
                }
                // Keep the buffer's capacity for the next call.
                *self.arguments = arguments;
            }
        }
        self.out.extend_from_slice(b"}\n\n");
    }
}

/// The streaming encoder (see the module docs for the part sequence).
#[derive(Debug)]
pub struct StreamEncoder {
    message_id: String,
    message: Message,
    arguments: String,
    started: bool,
}

impl StreamEncoder {
    pub fn new(envelope: Envelope) -> StreamEncoder {
        StreamEncoder {
            message: Message::new(
                Blocks::new(FORMAT, "call_", &envelope.id, true),
                envelope.prompt_tokens,
            ),
            message_id: envelope.id,
            arguments: String::new(),
            started: false,
        }
    }

    /// The preamble: `start` and `start-step`, once.
    pub fn start(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            out.extend_from_slice(b"data: {\"type\":\"start\",\"messageId\":");
            write_str(out, &self.message_id);
            out.extend_from_slice(b"}\n\ndata: {\"type\":\"start-step\"}\n\n");
        }
    }

    pub fn encode_chunk(&mut self, chunk: &GenerationChunk, out: &mut Vec<u8>) -> Result<()> {
        match self.message.step(chunk)? {
            Step::Ignore => Ok(()),
            Step::Fail => {
                out.extend_from_slice(b"data: {\"type\":\"error\",\"errorText\":");
                write_str(out, error_message(chunk));
                out.extend_from_slice(b"}\n\n");
                Ok(())
            }
            Step::Write => {
                let mut sink = PartSink {
                    out,
                    arguments: &mut self.arguments,
                };
                self.message.blocks.content(chunk, &mut sink)
            }
        }
    }

    /// Close the open block, then `finish-step`, `finish` and `[DONE]`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.message.failed() {
            let mut sink = PartSink {
                out: &mut *out,
                arguments: &mut self.arguments,
            };
            let blocks = &mut self.message.blocks;
            blocks.close(&mut sink);
            let called_tools = blocks.called_tools();
            let reason = finish_reason_name(self.message.outcome.finish_reason, called_tools);
            out.extend_from_slice(
                b"data: {\"type\":\"finish-step\"}\n\ndata: {\"type\":\"finish\",\"finishReason\":",
            );
            write_str(out, reason);
            out.extend_from_slice(b"}\n\n");
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
    }
}
