//! Anthropic Messages streaming (`provider="anthropic"`).
//!
//! Events: `message_start` (usage so far), `content_block_start` / `_delta` / `_stop` per
//! content block, `message_delta` (stop reason, cumulative usage), `message_stop`, `ping`,
//! `error`. Blocks map as follows:
//!
//! | block / delta                               | chunk                                        |
//! |---------------------------------------------|----------------------------------------------|
//! | `text` + `text_delta`                       | `text_delta`                                 |
//! | `thinking` + `thinking_delta`               | `reasoning_delta`                            |
//! | `tool_use` (start) + `input_json_delta`     | `tool_call_delta` (id + name, then arguments)|
//! | `signature_delta`                           | `reasoning_signature` (no text)              |
//! | `citations_delta`                           | `citations` (a one-item array)               |
//! | `text` with `citations` (non-streaming body)  | `text_delta`, then `citations`               |
//! | `redacted_thinking`                         | `redacted_thinking` (its `data`)             |
//! | `server_tool_use`, `mcp_tool_use`, `*_tool_result`, other blocks, and their deltas | a chunk with only `raw` |
//!
//! Server tools run at Anthropic and are not the client's tool calls, so they never become
//! `tool_call_delta`s; their content stays reachable through `raw`. `prompt_tokens` is the
//! whole prompt: `input_tokens + cache_creation_input_tokens + cache_read_input_tokens`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::emit::Emitter;
use super::json::{self, non_empty, non_empty_str, ErrorObject, JStr};
use super::template::Template;
use super::{Reducer, WireEvent};
use crate::chunk::{FinishReason, RareFields};
use crate::error::{Error, Result};
use crate::providers::Chunks;

const PROVIDER: &str = "anthropic";
/// More content blocks than a message can hold; stops a hostile index from growing memory.
const MAX_BLOCKS: usize = 1 << 16;

/// `stop_reason` -> unified reason.
pub fn map_stop_reason(reason: &str) -> FinishReason {
    match reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        // "end_turn", "stop_sequence", "pause_turn" (a server tool paused the turn; send the
        // message back to continue) and anything new: the model stopped normally.
        _ => FinishReason::Stop,
    }
}

// --- wire shapes --------------------------------------------------------------------------

/// Every event's fields in one struct. Fields of the rare events are boxed: serde moves
/// the struct through several layers, and a small struct is most of the per-delta speed.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct EventWire<'a> {
    #[serde(rename = "type")]
    kind: Option<JStr<'a>>,
    index: Option<usize>,
    delta: Option<DeltaWire<'a>>,
    content_block: Option<Box<BlockWire<'a>>>,
    message: Option<Box<MessageWire>>,
    usage: Option<Box<UsageWire>>,
    error: Option<Box<ErrorObject<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(bound(deserialize = "'de: 'a"))]
struct DeltaWire<'a> {
    #[serde(rename = "type")]
    kind: Option<JStr<'a>>,
    text: Option<JStr<'a>>,
    thinking: Option<JStr<'a>>,
    partial_json: Option<JStr<'a>>,
    signature: Option<JStr<'a>>,
    citation: Option<&'a RawValue>,
    stop_reason: Option<JStr<'a>>,
    stop_sequence: Option<JStr<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct BlockWire<'a> {
    #[serde(rename = "type")]
    kind: Option<JStr<'a>>,
    text: Option<JStr<'a>>,
    thinking: Option<JStr<'a>>,
    /// A whole thinking block's signature (non-streaming body).
    signature: Option<JStr<'a>>,
    id: Option<JStr<'a>>,
    name: Option<JStr<'a>>,
    input: Option<&'a RawValue>,
    /// A `redacted_thinking` block's opaque data.
    data: Option<JStr<'a>>,
    /// A text block's citations (whole in a body, `[]` at a stream's block start).
    citations: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct MessageWire {
    usage: Option<UsageWire>,
}

#[derive(Deserialize, Clone, Copy)]
struct UsageWire {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

/// The non-streaming body: a `message` object, or `{"type": "error", "error": {...}}`.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct BodyWire<'a> {
    #[serde(rename = "type")]
    kind: Option<JStr<'a>>,
    error: Option<ErrorObject<'a>>,
    usage: Option<UsageWire>,
    content: Option<Vec<BlockWire<'a>>>,
    stop_reason: Option<JStr<'a>>,
    stop_sequence: Option<JStr<'a>>,
}

// --- reducer ------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    /// A client tool call: its position among the message's calls, and whether any
    /// argument text arrived.
    ClientTool {
        index: u32,
        has_arguments: bool,
    },
    /// Server tools, their results, redacted thinking and blocks we do not map.
    Other,
}

/// The deltas a stream sends many of, each carrying one string: what a template reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamedDelta {
    Text,
    Thinking,
    InputJson,
}

impl StreamedDelta {
    const ALL: [StreamedDelta; 3] = [Self::Text, Self::Thinking, Self::InputJson];

    fn kind(self) -> &'static str {
        match self {
            Self::Text => "text_delta",
            Self::Thinking => "thinking_delta",
            Self::InputJson => "input_json_delta",
        }
    }

    /// The delta's one string field.
    fn field<'d, 'a>(self, delta: &'d DeltaWire<'a>) -> &'d Option<JStr<'a>> {
        match self {
            Self::Text => &delta.text,
            Self::Thinking => &delta.thinking,
            Self::InputJson => &delta.partial_json,
        }
    }

    /// The delta that carries `text`.
    fn delta(self, text: JStr<'_>) -> DeltaWire<'_> {
        let mut delta = DeltaWire {
            kind: Some(JStr(self.kind().into())),
            ..Default::default()
        };
        *match self {
            Self::Text => &mut delta.text,
            Self::Thinking => &mut delta.thinking,
            Self::InputJson => &mut delta.partial_json,
        } = Some(text);
        delta
    }
}

#[derive(Debug)]
pub struct AnthropicReducer {
    /// The last `content_block_delta` read in full (its block index and delta kind).
    template: Template<(Option<usize>, StreamedDelta)>,
    blocks: Vec<Block>,
    input_tokens: Option<u64>,
    cache_creation_tokens: Option<u64>,
    cache_read_tokens: Option<u64>,
    output_tokens: Option<u64>,
    emit: Emitter,
}

impl Default for AnthropicReducer {
    fn default() -> Self {
        AnthropicReducer {
            template: Template::default(),
            blocks: Vec::new(),
            input_tokens: None,
            cache_creation_tokens: None,
            cache_read_tokens: None,
            output_tokens: None,
            emit: Emitter::new(PROVIDER),
        }
    }
}

impl AnthropicReducer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts an event reports replace the ones before; the others stay.
    fn take_usage(&mut self, usage: Option<UsageWire>) {
        let Some(usage) = usage else { return };
        self.input_tokens = usage.input_tokens.or(self.input_tokens);
        self.cache_creation_tokens = usage
            .cache_creation_input_tokens
            .or(self.cache_creation_tokens);
        self.cache_read_tokens = usage.cache_read_input_tokens.or(self.cache_read_tokens);
        self.output_tokens = usage.output_tokens.or(self.output_tokens);
    }

    fn prompt_tokens(&self) -> Option<u64> {
        self.input_tokens.map(|input| {
            input + self.cache_creation_tokens.unwrap_or(0) + self.cache_read_tokens.unwrap_or(0)
        })
    }

    fn set_block(&mut self, index: usize, block: Block, offset: u64) -> Result<()> {
        if index >= MAX_BLOCKS {
            return Err(Error::protocol(
                format!(
                    "anthropic content block index {index} is beyond the {MAX_BLOCKS} supported"
                ),
                Some(offset),
            ));
        }
        if self.blocks.len() <= index {
            self.blocks.resize(index + 1, Block::Other);
        }
        self.blocks[index] = block;
        Ok(())
    }

    /// A block opening (streaming) or a whole block (body): its kind, and any content it
    /// already carries.
    fn open_block(
        &mut self,
        index: usize,
        block: BlockWire<'_>,
        whole: bool,
        offset: u64,
        out: &mut Chunks,
    ) -> Result<()> {
        match block.kind.as_ref().map(JStr::as_str) {
            Some("text") => {
                self.set_block(index, Block::Text, offset)?;
                if let Some(text) = block.text {
                    self.emit.text(text.into_string(), out);
                }
                if let Some(citations) = block.citations.filter(|raw| !json::is_blank_raw(raw)) {
                    let citations = Some(citations.get().into());
                    self.emit.rare(
                        RareFields {
                            citations,
                            ..RareFields::NONE
                        },
                        out,
                    );
                }
            }
            Some("redacted_thinking") => {
                self.set_block(index, Block::Other, offset)?;
                match block.data {
                    Some(data) => {
                        let redacted_thinking = Some(data.into_string());
                        self.emit.rare(
                            RareFields {
                                redacted_thinking,
                                ..RareFields::NONE
                            },
                            out,
                        );
                    }
                    None => self.emit.raw_only(out),
                }
            }
            Some("thinking") => {
                self.set_block(index, Block::Thinking, offset)?;
                if let Some(thinking) = block.thinking {
                    self.emit.reasoning(thinking.into_string(), out);
                }
                if let Some(signature) = non_empty(block.signature) {
                    self.emit.reasoning_signature(Some(signature), out);
                }
            }
            Some("tool_use") => {
                // Claim the slot first: an index beyond the cap opens no call.
                self.set_block(index, Block::Other, offset)?;
                let (id, name) = (non_empty_str(&block.id), non_empty_str(&block.name));
                let tool_index = self.emit.start_tool_call(id, name, out);
                self.blocks[index] = Block::ClientTool {
                    index: tool_index,
                    has_arguments: whole,
                };
                // A stream sends `input: {}` here and the JSON in deltas; a body has it whole.
                if whole {
                    if let Some(input) = block.input {
                        self.emit.tool_arguments(tool_index, input.get(), out);
                    }
                }
            }
            _ => {
                self.set_block(index, Block::Other, offset)?;
                self.emit.raw_only(out);
            }
        }
        Ok(())
    }

    fn block_delta(&mut self, index: Option<usize>, delta: DeltaWire<'_>, out: &mut Chunks) {
        let block = index.and_then(|i| self.blocks.get_mut(i));
        match delta.kind.as_ref().map(JStr::as_str) {
            Some("text_delta") => {
                if let Some(text) = delta.text {
                    self.emit.text(text.into_string(), out);
                }
            }
            Some("thinking_delta") => {
                if let Some(thinking) = delta.thinking {
                    self.emit.reasoning(thinking.into_string(), out);
                }
            }
            Some("input_json_delta") => match block {
                Some(Block::ClientTool {
                    index,
                    has_arguments,
                }) => {
                    if let Some(arguments) = non_empty(delta.partial_json) {
                        *has_arguments = true;
                        self.emit.tool_arguments(*index, arguments, out);
                    }
                }
                // A server tool's input: not the client's call.
                _ => self.emit.raw_only(out),
            },
            Some("signature_delta") => self
                .emit
                .reasoning_signature(non_empty(delta.signature), out),
            Some("citations_delta") => match delta.citation {
                Some(citation) => self.emit.rare(
                    RareFields {
                        citations: Some(format!("[{}]", citation.get()).into()),
                        ..RareFields::NONE
                    },
                    out,
                ),
                None => self.emit.raw_only(out),
            },
            // compaction and future deltas: raw only.
            _ => self.emit.raw_only(out),
        }
    }

    /// A tool call without argument deltas took no arguments: its input is `{}` (what the
    /// API reports for it), so say so rather than leave the arguments empty.
    fn close_block(&mut self, index: Option<usize>, out: &mut Chunks) {
        if let Some(Block::ClientTool {
            index,
            has_arguments: has_arguments @ false,
        }) = index.and_then(|i| self.blocks.get_mut(i))
        {
            *has_arguments = true;
            self.emit.tool_arguments(*index, "{}", out);
        }
    }

    /// The one terminal chunk, with the usage counted so far.
    fn terminal(&mut self, out: &mut Chunks) -> Result<()> {
        if self.emit.finished() {
            return Ok(());
        }
        self.emit.ending.prompt_tokens = self.prompt_tokens();
        self.emit.ending.completion_tokens = self.output_tokens;
        self.emit.finish(out)
    }

    /// Keep a streamed delta's event as the template, when its string borrows from it (and
    /// its type is in the data, not taken from the SSE event name).
    fn remember(&mut self, data: &str, index: Option<usize>, delta: &DeltaWire<'_>) {
        let kind = delta.kind.as_ref().map(JStr::as_str);
        let Some(streamed) = StreamedDelta::ALL
            .into_iter()
            .find(|s| Some(s.kind()) == kind)
        else {
            return;
        };
        if let Some(JStr(Cow::Borrowed(text))) = streamed.field(delta) {
            self.template
                .remember_borrowed(data, text, (index, streamed));
        }
    }

    fn set_stop(&mut self, reason: Option<JStr<'_>>, sequence: Option<JStr<'_>>, raw: &str) {
        if let Some(reason) = reason {
            self.emit.set_finish(map_stop_reason(reason.as_str()), raw);
        }
        if let Some(sequence) = sequence {
            self.emit.ending.stop_sequence = Some(sequence.into_string());
        }
    }
}

impl Reducer for AnthropicReducer {
    fn on_event(&mut self, event: &WireEvent<'_>, out: &mut Chunks) -> Result<()> {
        if self.emit.finished() {
            return Ok(());
        }
        let data = event.data;
        if let Some(((index, streamed), text)) = self.template.fit(data) {
            self.block_delta(index, streamed.delta(JStr(text)), out);
            return Ok(());
        }
        let wire: EventWire<'_> = match json::parse(PROVIDER, data, event.offset) {
            Ok(wire) => wire,
            Err(_) if event.event == "error" => return Err(Error::provider(None, data, data)),
            Err(err) => return Err(err),
        };
        let kind = match &wire.kind {
            Some(kind) => kind.as_str(),
            None => event.event,
        };
        match kind {
            "content_block_delta" => {
                if let Some(delta) = wire.delta {
                    if wire.kind.is_some() {
                        self.remember(data, wire.index, &delta);
                    }
                    self.block_delta(wire.index, delta, out);
                }
            }
            "content_block_start" => {
                if let Some(block) = wire.content_block {
                    self.open_block(
                        wire.index.unwrap_or(self.blocks.len()),
                        *block,
                        false,
                        event.offset,
                        out,
                    )?;
                }
            }
            "message_start" => {
                if let Some(message) = wire.message {
                    self.take_usage(message.usage);
                }
            }
            "message_delta" => {
                self.take_usage(wire.usage.map(|u| *u));
                if let Some(delta) = wire.delta {
                    self.set_stop(delta.stop_reason, delta.stop_sequence, data);
                }
            }
            "content_block_stop" => self.close_block(wire.index, out),
            "message_stop" => self.terminal(out)?,
            "error" => {
                let error = wire.error.map(|e| *e).unwrap_or_default();
                return Err(error.into_error(data));
            }
            // ping, and event types newer than this code.
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Chunks) -> Result<()> {
        self.terminal(out)
    }

    fn on_complete_body(&mut self, body: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        let wire: BodyWire<'_> = json::parse(PROVIDER, body, offset)?;
        if wire.kind.as_ref().map(JStr::as_str) == Some("error") || wire.error.is_some() {
            return Err(wire.error.unwrap_or_default().into_error(body));
        }
        self.take_usage(wire.usage);
        for (index, block) in wire.content.into_iter().flatten().enumerate() {
            self.open_block(index, block, true, offset, out)?;
        }
        if let Some(reason) = wire.stop_reason {
            // The pipeline gives the terminal chunk the body as `raw`.
            self.emit.ending.finish_reason = Some(map_stop_reason(reason.as_str()));
        }
        if let Some(sequence) = wire.stop_sequence {
            self.emit.ending.stop_sequence = Some(sequence.into_string());
        }
        self.emit
            .ending
            .finish_reason
            .get_or_insert(FinishReason::Stop);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::sse::SseDecoder;
    use crate::providers::assert_same_reading;
    use crate::providers::template::TRIAL_TEXTS;

    /// (event name, data) of every event of an SSE stream.
    fn events(bytes: &[u8]) -> Vec<(String, String)> {
        let mut events = Vec::new();
        let mut decoder = SseDecoder::default();
        let mut take = |view: crate::framing::sse::SseEventView<'_>| {
            events.push((view.event.to_owned(), view.data.to_owned()));
            Ok(())
        };
        decoder.decode_with(bytes, &mut take).unwrap();
        decoder.flush_with(&mut take).unwrap();
        events
    }

    /// Every capture, and events that share a template's bytes around something other than
    /// one string, through a reducer with its template and one that forgets it before every
    /// event: the same chunks and errors, event by event.
    #[test]
    fn the_template_reads_as_the_full_parse() {
        let dir = format!("{}/tests/data/anthropic", env!("CARGO_MANIFEST_DIR"));
        let mut streams: Vec<Vec<(String, String)>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| events(&std::fs::read(entry.unwrap().path()).unwrap()))
            .collect();
        let head =
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"#;
        let extra = [r#""a","thinking":"b""#, r#""d"  }  } "#];
        let synthetic = TRIAL_TEXTS
            .iter()
            .chain(&extra)
            .map(|text| {
                (
                    "content_block_delta".to_owned(),
                    format!("{head}{text}}}}}"),
                )
            })
            .collect();
        streams.push(synthetic);
        let mut fits = 0;
        for stream in &streams {
            let (mut with, mut without) = (AnthropicReducer::new(), AnthropicReducer::new());
            for (i, (name, data)) in stream.iter().enumerate() {
                fits += usize::from(with.template.fit(data).is_some());
                without.template = Template::default();
                let event = WireEvent {
                    event: name,
                    data,
                    offset: i as u64,
                };
                assert_same_reading(
                    data,
                    |out| with.on_event(&event, out),
                    |out| without.on_event(&event, out),
                );
            }
        }
        assert!(fits > 100, "the template fitted {fits} times");
    }
}
