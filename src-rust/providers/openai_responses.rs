//! OpenAI Responses API streaming (`provider="openai-responses"`).
//!
//! Every event names itself in the JSON `type` field (OpenRouter omits the SSE `event:`
//! line, so the field is what counts). Mapping:
//!
//! | event                                                   | chunk                               |
//! |---------------------------------------------------------|-------------------------------------|
//! | `response.output_text.delta`                            | `text_delta` (+ `logprobs`)         |
//! | `response.refusal.delta`                                | `refusal_delta`                     |
//! | `response.reasoning_summary_text.delta`, `response.reasoning_text.delta` | `reasoning_delta`  |
//! | `response.output_item.added` (`function_call`, `custom_tool_call`) | `tool_call_delta` id + name |
//! | `response.function_call_arguments.delta`, `response.custom_tool_call_input.delta` | `tool_call_delta` arguments |
//! | `response.output_item.done` of reasoning and server-tool items, `response.output_text.annotation.added` | a chunk with only `raw` |
//! | `response.completed` / `response.incomplete`            | the terminal chunk (status, usage)  |
//! | `error`, `response.failed`                              | `ProviderError`                     |
//!
//! Lifecycle and progress events (`response.created`, `.in_progress`, `.queued`,
//! `content_part.*`, `*.done` summaries, web-search / code-interpreter progress) carry
//! nothing new and yield nothing.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::emit::{Answer, Emitter};
use super::json::{self, non_empty, non_empty_str, ErrorObject, JStr};
use super::{Reducer, WireEvent};
use crate::chunk::FinishReason;
use crate::error::Result;
use crate::providers::Chunks;

const PROVIDER: &str = "openai-responses";

/// Response `status` (+ `incomplete_details.reason`) -> unified reason.
pub fn map_status(
    status: &str,
    incomplete_reason: Option<&str>,
    called_tools: bool,
) -> FinishReason {
    match status {
        "incomplete" => match incomplete_reason {
            Some("content_filter") => FinishReason::ContentFilter,
            _ => FinishReason::Length, // "max_output_tokens"
        },
        "cancelled" => FinishReason::Cancelled,
        "failed" => FinishReason::Error,
        _ if called_tools => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

// --- wire shapes --------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct EventWire<'a> {
    #[serde(rename = "type")]
    kind: Option<JStr<'a>>,
    /// A string for the `*.delta` events; kept raw so unknown events of other shapes parse.
    delta: Option<&'a RawValue>,
    logprobs: Option<&'a RawValue>,
    output_index: Option<u32>,
    item: Option<&'a RawValue>,
    response: Option<&'a RawValue>,
    arguments: Option<JStr<'a>>,
    /// The `error` event: either `{"error": {...}}` or code/message at the top level.
    error: Option<ErrorObject<'a>>,
    code: Option<&'a RawValue>,
    message: Option<JStr<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ItemWire<'a> {
    #[serde(rename = "type")]
    kind: Option<JStr<'a>>,
    call_id: Option<JStr<'a>>,
    name: Option<JStr<'a>>,
    arguments: Option<JStr<'a>>,
    /// `custom_tool_call` input.
    input: Option<JStr<'a>>,
    /// Message and reasoning content (whole items only).
    content: Option<Vec<PartWire<'a>>>,
    summary: Option<Vec<PartWire<'a>>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct PartWire<'a> {
    #[serde(rename = "type")]
    kind: Option<JStr<'a>>,
    text: Option<JStr<'a>>,
    refusal: Option<JStr<'a>>,
    logprobs: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ResponseWire<'a> {
    status: Option<JStr<'a>>,
    usage: Option<UsageWire>,
    incomplete_details: Option<IncompleteWire<'a>>,
    error: Option<ErrorObject<'a>>,
    output: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize, Clone, Copy)]
struct UsageWire {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct IncompleteWire<'a> {
    reason: Option<JStr<'a>>,
}

/// A JSON body may be a response object or `{"error": {...}}` (an HTTP error).
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct BodyErrorWire<'a> {
    error: Option<ErrorObject<'a>>,
    object: Option<JStr<'a>>,
}

// --- reducer ------------------------------------------------------------------------------

#[derive(Debug)]
struct ToolState {
    output_index: u32,
    tool_index: u32,
    arguments_sent: bool,
}

#[derive(Debug)]
pub struct ResponsesReducer {
    tools: Vec<ToolState>,
    /// `output_index` -> the latest call at it (a position in `tools`): O(1) per fragment.
    tool_by_output: HashMap<u32, usize>,
    emit: Emitter,
}

impl Default for ResponsesReducer {
    fn default() -> Self {
        ResponsesReducer {
            tools: Vec::new(),
            tool_by_output: HashMap::new(),
            emit: Emitter::new(PROVIDER),
        }
    }
}

impl ResponsesReducer {
    pub fn new() -> Self {
        Self::default()
    }

    fn tool_at(&mut self, output_index: Option<u32>) -> Option<&mut ToolState> {
        let position = *self.tool_by_output.get(&output_index?)?;
        self.tools.get_mut(position)
    }

    fn arguments(
        &mut self,
        output_index: Option<u32>,
        text: String,
        is_delta: bool,
        out: &mut Chunks,
    ) {
        let Some(tool) = self.tool_at(output_index) else {
            return;
        };
        // `.done` repeats the whole arguments: send them only if no delta did.
        if text.is_empty() || (!is_delta && tool.arguments_sent) {
            return;
        }
        tool.arguments_sent = true;
        let index = tool.tool_index;
        self.emit.tool_arguments(index, text, out);
    }

    /// An output item: tool calls open here; reasoning and server-tool items surface raw.
    fn item(
        &mut self,
        output_index: Option<u32>,
        item: ItemWire<'_>,
        stage: ItemStage,
        out: &mut Chunks,
    ) {
        let kind = item.kind.as_ref().map(JStr::as_str).unwrap_or("");
        match kind {
            "function_call" | "custom_tool_call" => {
                let arguments = if kind == "function_call" {
                    item.arguments
                } else {
                    item.input
                };
                let known = self.tool_at(output_index).is_some();
                if stage != ItemStage::Done || !known {
                    let (id, name) = (non_empty_str(&item.call_id), non_empty_str(&item.name));
                    let tool_index = self.emit.start_tool_call(id, name, out);
                    let output_index = output_index.unwrap_or(u32::MAX - tool_index);
                    self.tool_by_output.insert(output_index, self.tools.len());
                    self.tools.push(ToolState {
                        output_index,
                        tool_index,
                        arguments_sent: false,
                    });
                }
                let index = output_index.or_else(|| self.tools.last().map(|t| t.output_index));
                let arguments = arguments.map(JStr::into_string).unwrap_or_default();
                self.arguments(index, arguments, false, out);
            }
            "message" if stage == ItemStage::Whole => {
                for part in item.content.into_iter().flatten() {
                    match part.kind.as_ref().map(JStr::as_str) {
                        // A part without text makes no chunk, whatever its logprobs.
                        Some("output_text") => {
                            if let Some(text) = non_empty(part.text) {
                                self.emit.answer(Answer::Text, text, part.logprobs, out);
                            }
                        }
                        Some("refusal") => {
                            let refusal = part.refusal.map(JStr::into_string).unwrap_or_default();
                            self.emit.answer(Answer::Refusal, refusal, None, out);
                        }
                        _ => {}
                    }
                }
            }
            "reasoning" if stage == ItemStage::Whole => {
                // Raw reasoning text when the server shares it, else the summary.
                let parts = match item.content {
                    Some(content) if !content.is_empty() => content,
                    _ => item.summary.unwrap_or_default(),
                };
                for text in parts.into_iter().filter_map(|part| part.text) {
                    self.emit.reasoning(text.into_string(), out);
                }
                self.emit.raw_only(out);
            }
            "message" => {}
            _ if stage == ItemStage::Added => {}
            // A finished reasoning item (encrypted content, ids) or a server tool's call
            // and result: nothing to map, everything in `raw`.
            _ => self.emit.raw_only(out),
        }
    }

    /// The final response object (`raw` is the event, or body, that carried it).
    fn terminal(&mut self, response: ResponseWire<'_>, raw: &str, out: &mut Chunks) -> Result<()> {
        let status = response
            .status
            .as_ref()
            .map(JStr::as_str)
            .unwrap_or("completed");
        if status == "failed" {
            let error = response.error.unwrap_or_default();
            return Err(error.into_error(raw));
        }
        let reason = response
            .incomplete_details
            .as_ref()
            .and_then(|d| d.reason.as_ref())
            .map(JStr::as_str);
        let finish = map_status(status, reason, self.emit.made_tool_calls());
        self.emit.set_finish(finish, raw);
        self.emit.ending.prompt_tokens = response.usage.and_then(|u| u.input_tokens);
        self.emit.ending.completion_tokens = response.usage.and_then(|u| u.output_tokens);
        self.emit.finish(out)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemStage {
    Added,
    Done,
    /// From a whole response (the JSON body).
    Whole,
}

fn delta_text(raw: Option<&RawValue>, offset: u64) -> Result<String> {
    match raw {
        None => Ok(String::new()),
        Some(raw) => json::parse::<JStr<'_>>(PROVIDER, raw.get(), offset).map(JStr::into_string),
    }
}

fn parse_item<'a>(raw: Option<&'a RawValue>, offset: u64) -> Result<Option<ItemWire<'a>>> {
    raw.map(|raw| json::parse(PROVIDER, raw.get(), offset))
        .transpose()
}

impl Reducer for ResponsesReducer {
    fn on_event(&mut self, event: &WireEvent<'_>, out: &mut Chunks) -> Result<()> {
        if self.emit.finished() || event.data.trim_ascii() == "[DONE]" {
            return Ok(());
        }
        let data = event.data;
        let offset = event.offset;
        let wire: EventWire<'_> = json::parse(PROVIDER, data, offset)?;
        let kind = match &wire.kind {
            Some(kind) => kind.as_str(),
            None => event.event,
        };
        match kind {
            "response.output_text.delta" => {
                let text = delta_text(wire.delta, offset)?;
                self.emit.answer(Answer::Text, text, wire.logprobs, out);
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                let text = delta_text(wire.delta, offset)?;
                self.emit.reasoning(text, out);
            }
            "response.refusal.delta" => {
                let text = delta_text(wire.delta, offset)?;
                self.emit.answer(Answer::Refusal, text, None, out);
            }
            "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
                let text = delta_text(wire.delta, offset)?;
                self.arguments(wire.output_index, text, true, out);
            }
            "response.function_call_arguments.done" => {
                let text = wire.arguments.map(JStr::into_string).unwrap_or_default();
                self.arguments(wire.output_index, text, false, out);
            }
            "response.output_item.added" | "response.output_item.done" => {
                let stage = if kind.ends_with("added") {
                    ItemStage::Added
                } else {
                    ItemStage::Done
                };
                if let Some(item) = parse_item(wire.item, offset)? {
                    self.item(wire.output_index, item, stage, out);
                }
            }
            "response.output_text.annotation.added" => self.emit.raw_only(out),
            "response.completed"
            | "response.incomplete"
            | "response.failed"
            | "response.cancelled" => {
                let response: ResponseWire<'_> = match wire.response {
                    Some(raw) => json::parse(PROVIDER, raw.get(), offset)?,
                    None => {
                        let why = format!("{kind} event without a response object");
                        return Err(json::malformed(PROVIDER, Some(data), offset, why));
                    }
                };
                let status_fallback = kind.trim_start_matches("response.");
                let response = ResponseWire {
                    status: response.status.or(Some(JStr(status_fallback.into()))),
                    ..response
                };
                self.terminal(response, data, out)?;
            }
            "error" => {
                let error = match wire.error {
                    Some(error) => error,
                    None => ErrorObject {
                        code: wire.code,
                        message: wire.message,
                        kind: None,
                    },
                };
                return Err(error.into_error(data));
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Chunks) -> Result<()> {
        self.emit.finish(out)
    }

    fn on_complete_body(&mut self, body: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        let envelope: BodyErrorWire<'_> = json::parse(PROVIDER, body, offset)?;
        if envelope.object.is_none() {
            if let Some(error) = envelope.error {
                return Err(error.into_error(body));
            }
        }
        let response: ResponseWire<'_> = json::parse(PROVIDER, body, offset)?;
        for (position, raw_item) in response.output.iter().flatten().enumerate() {
            let item: ItemWire<'_> = json::parse(PROVIDER, raw_item.get(), offset)?;
            self.item(Some(position as u32), item, ItemStage::Whole, out);
        }
        self.terminal(response, body, out)
    }
}
