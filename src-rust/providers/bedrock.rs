//! Amazon Bedrock `ConverseStream` (AWS eventstream frames, see `crate::framing::eventstream`) and the
//! non-streaming `Converse` body -> unified chunks.
//!
//! The frame's `:event-type` names the event and its payload is the event's JSON:
//! `messageStart`, `contentBlockStart` (a `toolUse` block's id and name, or a server tool's
//! `toolResult`), `contentBlockDelta` (`text`, `toolUse.input` JSON fragments,
//! `reasoningContent.text` / `.signature` / `.redactedContent`, `toolResult`, `citation`),
//! `contentBlockStop`, `messageStop` (`stopReason`) and `metadata` (`usage`). Exceptions
//! arrive as frames with `:message-type: exception` (or `error`), which the framer hands over as a
//! `Fault` and `Reducer::on_fault` here turns into `ProviderError`; an exception event that reaches the reducer by
//! another route (e.g. boto3-style `{"throttlingException": {...}}` objects) does too.
//!
//! Client tool calls (`toolUse` blocks of type `tool_use` or without a type) become tool-call
//! chunks. Server tools (`type: server_tool_use`, run by Bedrock itself) and their
//! `toolResult` blocks are not client calls: like redacted reasoning, they give content-less
//! chunks whose `raw` holds the event. A reasoning `signature` gives a content-less chunk with
//! `reasoning_signature` set (needed to send the reasoning back in a later turn).
//!
//! | Bedrock `stopReason` | unified |
//! |---|---|
//! | `end_turn`, `stop_sequence` | `stop` |
//! | `tool_use` | `tool_calls` |
//! | `max_tokens`, `model_context_window_exceeded` | `length` |
//! | `guardrail_intervened`, `content_filtered` | `content_filter` |
//! | anything else | `stop` |
//!
//! Usage: `prompt_tokens` = `inputTokens` + `cacheReadInputTokens` + `cacheWriteInputTokens`,
//! `completion_tokens` = `outputTokens`.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::emit::{attach_raw, sum_present, Emitter};
use super::json::JStr;
use super::{Reducer, WireEvent};
use crate::chunk::{FinishReason, RareFields};
use crate::error::{Error, Result};
use crate::framing::eventstream::{Fault, FaultKind};
use crate::providers::Chunks;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct BlockStart<'a> {
    #[serde(default)]
    content_block_index: u32,
    start: Option<StartBody<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct StartBody<'a> {
    tool_use: Option<ToolUse<'a>>,
    tool_result: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct BlockDelta<'a> {
    #[serde(default)]
    content_block_index: u32,
    delta: Delta<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct Delta<'a> {
    text: Option<JStr<'a>>,
    tool_use: Option<ToolUseDelta<'a>>,
    reasoning_content: Option<ReasoningDelta<'a>>,
    tool_result: Option<&'a RawValue>,
    citation: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ToolUseDelta<'a> {
    input: JStr<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct ReasoningDelta<'a> {
    text: Option<JStr<'a>>,
    signature: Option<JStr<'a>>,
    redacted_content: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStop {
    #[serde(default)]
    content_block_index: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct MessageStop<'a> {
    stop_reason: JStr<'a>,
}

#[derive(Deserialize)]
struct Metadata {
    usage: Option<Usage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_write_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ExceptionBody {
    #[serde(alias = "Message")]
    message: Option<String>,
}

/// The non-streaming `Converse` response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct ConverseResponse<'a> {
    output: Option<ConverseOutput<'a>>,
    stop_reason: Option<JStr<'a>>,
    usage: Option<Usage>,
    #[serde(alias = "Message")]
    message: Option<JStr<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ConverseOutput<'a> {
    message: Option<ConverseMessage<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ConverseMessage<'a> {
    #[serde(default)]
    content: Vec<ContentBlock<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct ContentBlock<'a> {
    text: Option<JStr<'a>>,
    tool_use: Option<ToolUse<'a>>,
    reasoning_content: Option<ReasoningBlock<'a>>,
    tool_result: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
/// A `toolUse` block: opened by a stream's `contentBlockStart`, or whole in a body.
struct ToolUse<'a> {
    tool_use_id: Option<JStr<'a>>,
    name: JStr<'a>,
    /// Whole blocks only: a stream sends the input in deltas.
    input: Option<&'a RawValue>,
    #[serde(rename = "type")]
    kind: Option<JStr<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct ReasoningBlock<'a> {
    reasoning_text: Option<ReasoningText<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ReasoningText<'a> {
    text: Option<JStr<'a>>,
    signature: Option<JStr<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// A client tool call: its unified index and whether any input arrived.
    ClientTool { index: u32, has_input: bool },
    /// A server tool call or a tool result: Bedrock's own business.
    Server,
}

pub struct BedrockReducer {
    emit: Emitter,
    /// Content blocks that need state, by `contentBlockIndex`: O(1) per fragment.
    blocks: HashMap<u32, Block>,
}

impl Default for BedrockReducer {
    fn default() -> Self {
        BedrockReducer {
            emit: Emitter::new("bedrock"),
            blocks: HashMap::new(),
        }
    }
}

fn is_server_tool(kind: Option<&str>) -> bool {
    matches!(kind, Some(kind) if kind != "tool_use")
}

fn map_stop_reason(reason: &str) -> FinishReason {
    match reason {
        "tool_use" => FinishReason::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

impl BedrockReducer {
    pub fn new() -> Self {
        Self::default()
    }

    fn block(&mut self, index: u32) -> Option<&mut Block> {
        self.blocks.get_mut(&index)
    }

    /// A block that needs state starts; a repeated start leaves the first one in place.
    fn open(&mut self, index: u32, block: Block) {
        self.blocks.entry(index).or_insert(block);
    }

    /// A client tool call opens (its index returned); a server tool's block is raw only.
    fn start_tool(&mut self, tool: &ToolUse<'_>, out: &mut Chunks) -> Option<u32> {
        if is_server_tool(tool.kind.as_deref()) {
            self.emit.raw_only(out);
            return None;
        }
        let id = tool.tool_use_id.as_deref();
        Some(self.emit.start_tool_call(id, Some(&tool.name), out))
    }

    fn parse<'a, T: Deserialize<'a>>(&self, data: &'a str, offset: u64) -> Result<T> {
        self.emit.parse(data, offset)
    }

    fn reduce(
        &mut self,
        event_type: &str,
        data: &str,
        offset: u64,
        out: &mut Chunks,
    ) -> Result<()> {
        match event_type {
            "messageStart" => {}
            "contentBlockStart" => {
                let start: BlockStart<'_> = self.parse(data, offset)?;
                let index = start.content_block_index;
                let Some(body) = start.start else {
                    return Ok(());
                };
                if let Some(tool) = body.tool_use {
                    let block = match self.start_tool(&tool, out) {
                        Some(unified) => Block::ClientTool {
                            index: unified,
                            has_input: false,
                        },
                        None => Block::Server,
                    };
                    self.open(index, block);
                } else if body.tool_result.is_some() {
                    self.open(index, Block::Server);
                    self.emit.raw_only(out);
                }
            }
            "contentBlockDelta" => {
                let delta: BlockDelta<'_> = self.parse(data, offset)?;
                self.reduce_delta(delta, offset, out)?;
            }
            "contentBlockStop" => {
                let stop: BlockStop = self.parse(data, offset)?;
                if let Some(Block::ClientTool {
                    index,
                    has_input: false,
                }) = self.block(stop.content_block_index).copied()
                {
                    // A call without input still has arguments: an empty object.
                    self.emit.tool_arguments(index, "{}", out);
                }
                self.blocks.remove(&stop.content_block_index);
            }
            "messageStop" => {
                let stop: MessageStop<'_> = self.parse(data, offset)?;
                self.emit
                    .set_finish(map_stop_reason(&stop.stop_reason), data);
            }
            "metadata" => {
                let metadata: Metadata = self.parse(data, offset)?;
                if let Some(usage) = metadata.usage {
                    self.set_usage(&usage);
                }
            }
            name if name.ends_with("Exception") => {
                let body: ExceptionBody = self.parse(data, offset)?;
                let message = body.message.unwrap_or_else(|| name.to_owned());
                return Err(Error::provider(Some(name.to_owned()), message, data));
            }
            "" | "message" => return self.reduce_wrapped(data, offset, out),
            _ => {} // a newer event type: nothing we map
        }
        Ok(())
    }

    /// `{"contentBlockDelta": {...}}`: the event name as the only key (boto3's decoded form,
    /// or Bedrock events relayed as JSON lines).
    fn reduce_wrapped(&mut self, data: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        let wrapper: std::collections::BTreeMap<Cow<'_, str>, &RawValue> =
            self.parse(data, offset)?;
        if wrapper.len() != 1 {
            return Err(self.emit.bad_json(
                "expected an object with the event name as its only key",
                offset,
            ));
        }
        let (name, body) = wrapper.into_iter().next().expect("one entry");
        if name.is_empty() || name == "message" {
            return Err(self
                .emit
                .bad_json(format!("unknown event name {name:?}"), offset));
        }
        // The inner event is what the stream form would carry: its chunks have it as `raw`.
        let start = out.len();
        self.reduce(&name, body.get(), offset, out)?;
        attach_raw(&mut out[start..], body.get());
        Ok(())
    }

    fn reduce_delta(&mut self, delta: BlockDelta<'_>, offset: u64, out: &mut Chunks) -> Result<()> {
        let block_index = delta.content_block_index;
        let delta = delta.delta;
        if let Some(text) = &delta.text {
            self.emit.text(&**text, out);
        }
        if let Some(tool) = delta.tool_use {
            match self.block(block_index) {
                Some(Block::ClientTool { index, has_input }) => {
                    let index = *index;
                    if !tool.input.is_empty() {
                        *has_input = true;
                    }
                    self.emit
                        .tool_arguments(index, tool.input.into_string(), out);
                }
                Some(Block::Server) => self.emit.raw_only(out),
                None => {
                    return Err(self.emit.bad_json(
                        format!("toolUse delta for content block {block_index}, which did not start as a tool call"),
                        offset,
                    ))
                }
            }
        }
        if let Some(reasoning) = delta.reasoning_content {
            if let Some(text) = &reasoning.text {
                self.emit.reasoning(&**text, out);
            }
            if let Some(signature) = reasoning.signature.filter(|s| !s.is_empty()) {
                self.emit
                    .reasoning_signature(Some(signature.into_string()), out);
            }
            if let Some(redacted) = reasoning.redacted_content {
                // A blob, base64 on the wire: kept as that text to be sent back unchanged.
                match serde_json::from_str::<String>(redacted.get()) {
                    Ok(data) => self.emit.rare(
                        RareFields {
                            redacted_thinking: Some(data),
                            ..RareFields::NONE
                        },
                        out,
                    ),
                    Err(_) => self.emit.raw_only(out),
                }
            }
        }
        if delta.tool_result.is_some() || delta.citation.is_some() {
            self.emit.raw_only(out);
        }
        Ok(())
    }

    fn set_usage(&mut self, usage: &Usage) {
        let ending = &mut self.emit.ending;
        ending.prompt_tokens = sum_present(&[
            usage.input_tokens,
            usage.cache_read_input_tokens,
            usage.cache_write_input_tokens,
        ]);
        ending.completion_tokens = usage.output_tokens;
    }
}

/// The `message` (or `Message`) field of an AWS exception payload.
fn exception_message(payload: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    let body: Body = serde_json::from_str(payload).ok()?;
    body.message.filter(|m| !m.is_empty())
}

/// An AWS `exception` / `error` frame as `ProviderError`: code = the exception type or error
/// code, message = the `:error-message` header or the payload's `message` field.
pub fn fault_error(fault: &Fault<'_>) -> Error {
    let raw = String::from_utf8_lossy(fault.payload).into_owned();
    let code = fault.code.map(str::to_owned);
    let message = fault
        .message
        .map(str::to_owned)
        .or_else(|| exception_message(&raw))
        .or_else(|| code.clone())
        .unwrap_or_else(|| match fault.kind {
            FaultKind::Exception => "exception without a message".to_owned(),
            FaultKind::Error => "error without a message".to_owned(),
        });
    Error::Provider { code, message, raw }
}

impl Reducer for BedrockReducer {
    fn on_fault(&mut self, fault: &Fault<'_>) -> Error {
        fault_error(fault)
    }

    fn on_event(&mut self, event: &WireEvent<'_>, out: &mut Chunks) -> Result<()> {
        self.reduce(event.event, event.data, event.offset, out)
    }

    fn finish(&mut self, out: &mut Chunks) -> Result<()> {
        self.emit.finish(out)
    }

    /// A `Converse` body: `output.message.content[]`, `stopReason`, `usage`.
    fn on_complete_body(&mut self, body: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        let response: ConverseResponse<'_> = self.parse(body, offset)?;
        let Some(message) = response.output.and_then(|o| o.message) else {
            // An error body (`{"message": "..."}`) or something else without output.
            let message = response.message.map_or_else(
                || "the Converse body has no output.message".to_owned(),
                JStr::into_string,
            );
            return Err(Error::provider(None, message, body));
        };
        for block in message.content {
            if let Some(reasoning) = block.reasoning_content {
                match reasoning.reasoning_text {
                    Some(reasoning) => {
                        self.emit.reasoning(reasoning.text.unwrap_or_default(), out);
                        if let Some(signature) = reasoning.signature.filter(|s| !s.is_empty()) {
                            self.emit
                                .reasoning_signature(Some(signature.into_string()), out);
                        }
                    }
                    None => self.emit.raw_only(out), // redacted
                }
            }
            if let Some(text) = &block.text {
                self.emit.text(&**text, out);
            }
            if block.tool_result.is_some() {
                self.emit.raw_only(out);
            }
            if let Some(tool) = block.tool_use {
                if let Some(index) = self.start_tool(&tool, out) {
                    let input = tool.input.map_or("{}", RawValue::get);
                    self.emit.tool_arguments(index, input, out);
                }
            }
        }
        let reason = response
            .stop_reason
            .as_deref()
            .map_or(FinishReason::Stop, map_stop_reason);
        self.emit.set_finish(reason, body);
        if let Some(usage) = &response.usage {
            self.set_usage(usage);
        }
        self.emit.finish(out)
    }
}
