//! OpenAI Responses: streaming events (each with its `event:` line and a `sequence_number`
//! counting from 0) and `response` bodies.
//!
//! Stream: `response.created` and `response.in_progress` (the response object, status
//! `in_progress`, empty output), then one output item per content block, in order:
//!
//! | block     | events                                                                             |
//! |-----------|------------------------------------------------------------------------------------|
//! | text      | `output_item.added` (message), `content_part.added` (output_text), `output_text.delta`s (with the chunk's logprobs), `output_text.done`, `content_part.done`, `output_item.done` |
//! | refusal   | the same with a `refusal` part and `refusal.delta` / `refusal.done`                |
//! | reasoning | `output_item.added` (reasoning), then `content_part.added` (reasoning_text), `reasoning_text.delta`s / `.done`, `content_part.done` — or, with `reasoning_summary`, `reasoning_summary_part.added`, `reasoning_summary_text.delta`s / `.done`, `reasoning_summary_part.done` — and `output_item.done` |
//! | tool call | `output_item.added` (function_call with `call_id` and `name`), `function_call_arguments.delta`s (the model's own text), `function_call_arguments.done`, `output_item.done` |
//!
//! `finish()` closes the open item and writes `response.completed` (or `response.incomplete`)
//! with the whole output and usage: the `responses.stream()` helper of the openai SDK checks
//! that output against the items it saw. Item ids are `msg_` / `rs_` / `fc_` + the response
//! id's tail + `_<output index>`; a call without an id gets `call_<tail>_<index>`.
//!
//! Status: stop and tool_calls -> `completed`; length and cancelled -> `incomplete` with reason
//! `max_output_tokens` (cut short; the API has no cancelled event); content_filter ->
//! `incomplete` with reason `content_filter`. An error chunk becomes `response.failed` (status
//! `failed`, `error: {code, message}`, the output so far, an item still open as `incomplete`) and
//! ends the stream. Usage is `null` when no token count is known. The request fields the
//! response object repeats (`tools`, `instructions`, ...) come from [`ResponseFields`];
//! required ones default.
//!
//! Limits: one choice (`choice_index` 0), blocks cannot interleave (see [`super::blocks`]).
//! A non-streaming body holds logprobs only from chunks whose logprobs are a JSON array.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::blocks::{
    Block, BlockKind, BlockSink, Blocks, Collected, Message, Outcome, Step, WholeBlock,
};
use super::json::{write_str, write_u64};
use super::{error_message, generated_call_id, Envelope};
use crate::chunk::{FinishReason, GenerationChunk};
use crate::error::{Error, Result};

const FORMAT: &str = "openai-responses";

/// Members of the response object the encoder writes itself.
const OWN_FIELDS: [&str; 9] = [
    "id",
    "object",
    "created_at",
    "status",
    "model",
    "output",
    "usage",
    "error",
    "incomplete_details",
];

/// Request fields a response repeats, with the value written when the request gave none (the
/// SDK requires `parallel_tool_calls`, `tool_choice` and `tools`).
const DEFAULT_FIELDS: [(&str, &str); 12] = [
    ("background", "false"),
    ("instructions", "null"),
    ("max_output_tokens", "null"),
    ("metadata", "{}"),
    ("parallel_tool_calls", "true"),
    ("previous_response_id", "null"),
    ("reasoning", "null"),
    ("temperature", "null"),
    ("text", "{\"format\":{\"type\":\"text\"}}"),
    ("tool_choice", "\"auto\""),
    ("tools", "[]"),
    ("top_p", "null"),
];

/// The request fields a response object repeats (`instructions`, `tools`, `tool_choice`,
/// `temperature`, `max_output_tokens`, `reasoning`, ...): checked once, written as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseFields(BTreeMap<String, String>);

impl ResponseFields {
    /// From a JSON object's text. Members the encoder writes itself (`id`, `status`,
    /// `output`, `usage`, ...) are refused.
    pub fn parse(object: &str) -> Result<ResponseFields> {
        let members: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(object).map_err(|error| {
                Error::usage(format!("response_fields must be a JSON object: {error}"))
            })?;
        if let Some(key) = members
            .keys()
            .find(|key| OWN_FIELDS.contains(&key.as_str()))
        {
            return Err(Error::usage(format!(
                "response_fields cannot set {key:?}: the encoder writes it"
            )));
        }
        Ok(ResponseFields(
            members
                .into_iter()
                .map(|(key, value)| (key, value.get().to_owned()))
                .collect(),
        ))
    }

    /// `,"key":value` for every default and given field, given ones winning.
    fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let defaults = DEFAULT_FIELDS
            .iter()
            .filter(|(key, _)| !self.0.contains_key(*key))
            .map(|&(key, value)| (key, value));
        let given = self
            .0
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()));
        for (key, value) in defaults.chain(given) {
            out.push(b',');
            write_str(&mut out, key);
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
        }
        out
    }
}

/// What every response object of one response shares.
#[derive(Debug)]
struct Head {
    id: String,
    model: String,
    created: u64,
    /// The rendered [`ResponseFields`] (`,"key":value...`).
    fields: Vec<u8>,
    reasoning_summary: bool,
}

impl Head {
    fn new(envelope: &Envelope) -> Head {
        Head {
            id: envelope.id.clone(),
            model: envelope.model.clone(),
            created: envelope.created,
            fields: envelope.response_fields.render(),
            reasoning_summary: envelope.reasoning_summary,
        }
    }

    fn item_id(&self, block: &Block) -> String {
        let prefix = match block.kind {
            BlockKind::Reasoning => "rs_",
            BlockKind::Text | BlockKind::Refusal => "msg_",
            BlockKind::ToolCall(_) => "fc_",
        };
        generated_call_id(prefix, &self.id, block.index)
    }
}

/// Status and incomplete reason of a finished response.
fn status(outcome: &Outcome) -> (&'static str, Option<&'static str>) {
    match outcome.finish_reason {
        Some(FinishReason::Length) | Some(FinishReason::Cancelled) => {
            ("incomplete", Some("max_output_tokens"))
        }
        Some(FinishReason::ContentFilter) => ("incomplete", Some("content_filter")),
        _ => ("completed", None),
    }
}

fn write_usage(outcome: &Outcome, out: &mut Vec<u8>) {
    if !outcome.usage.tokens_known() {
        out.extend_from_slice(b"null");
        return;
    }
    let prompt = outcome.usage.prompt_tokens.unwrap_or(0);
    let completion = outcome.usage.completion_tokens.unwrap_or(0);
    out.extend_from_slice(b"{\"input_tokens\":");
    write_u64(out, prompt);
    out.extend_from_slice(
        b",\"input_tokens_details\":{\"cached_tokens\":0,\"cache_write_tokens\":0},\"output_tokens\":",
    );
    write_u64(out, completion);
    out.extend_from_slice(b",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":");
    write_u64(out, prompt.saturating_add(completion));
    out.push(b'}');
}

/// A content part: `{"type":"output_text",...}` and the other kinds, with `text` so far.
fn write_part(kind: BlockKind, summary: bool, text: &str, logprobs: &str, out: &mut Vec<u8>) {
    match kind {
        BlockKind::Text => {
            out.extend_from_slice(b"{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[");
            out.extend_from_slice(logprobs.as_bytes());
            out.extend_from_slice(b"],\"text\":");
        }
        BlockKind::Refusal => out.extend_from_slice(b"{\"type\":\"refusal\",\"refusal\":"),
        BlockKind::Reasoning if summary => {
            out.extend_from_slice(b"{\"type\":\"summary_text\",\"text\":")
        }
        BlockKind::Reasoning => out.extend_from_slice(b"{\"type\":\"reasoning_text\",\"text\":"),
        BlockKind::ToolCall(_) => unreachable!("tool calls have no content parts"),
    }
    write_str(out, text);
    out.push(b'}');
}

/// An output item: empty and `in_progress` when `whole` is None (`output_item.added`), else
/// complete with its content.
fn write_item(head: &Head, block: &Block, whole: Option<&WholeBlock>, out: &mut Vec<u8>) {
    let status = match whole {
        None => "in_progress",
        Some(whole) if whole.closed => "completed",
        // Still open when the response failed.
        Some(_) => "incomplete",
    };
    out.extend_from_slice(b"{\"id\":");
    write_str(out, &head.item_id(block));
    match block.kind {
        BlockKind::Text | BlockKind::Refusal => {
            out.extend_from_slice(b",\"type\":\"message\",\"role\":\"assistant\",\"status\":");
            write_str(out, status);
            out.extend_from_slice(b",\"content\":[");
            if let Some(whole) = whole {
                write_part(block.kind, false, &whole.text, &whole.logprobs, out);
            }
            out.push(b']');
        }
        BlockKind::Reasoning => {
            out.extend_from_slice(b",\"type\":\"reasoning\",\"status\":");
            write_str(out, status);
            let (summary, content) = match whole {
                None => (None, None),
                Some(whole) if head.reasoning_summary => (Some(whole), None),
                Some(whole) => (None, Some(whole)),
            };
            for (key, part) in [("summary", summary), ("content", content)] {
                out.extend_from_slice(b",\"");
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(b"\":[");
                if let Some(whole) = part {
                    write_part(block.kind, key == "summary", &whole.text, "", out);
                }
                out.push(b']');
            }
        }
        BlockKind::ToolCall(_) => {
            out.extend_from_slice(b",\"type\":\"function_call\",\"status\":");
            write_str(out, status);
            out.extend_from_slice(b",\"call_id\":");
            write_str(out, &block.call_id);
            out.extend_from_slice(b",\"name\":");
            write_str(out, &block.name);
            out.extend_from_slice(b",\"arguments\":");
            write_str(out, whole.map_or("", |whole| &whole.text));
        }
    }
    out.push(b'}');
}

/// The response object. `status` None: in progress (empty output, no usage).
fn write_response_object(
    head: &Head,
    status: Option<(&str, Option<&str>)>,
    error: Option<&GenerationChunk>,
    output: &[WholeBlock],
    outcome: &Outcome,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"{\"id\":");
    write_str(out, &head.id);
    out.extend_from_slice(b",\"object\":\"response\",\"created_at\":");
    write_u64(out, head.created);
    out.extend_from_slice(b",\"model\":");
    write_str(out, &head.model);
    out.extend_from_slice(b",\"status\":");
    let (name, incomplete_reason) = status.unwrap_or(("in_progress", None));
    write_str(out, name);
    out.extend_from_slice(b",\"error\":");
    match error {
        Some(chunk) => {
            out.extend_from_slice(b"{\"code\":");
            write_str(
                out,
                chunk.rare.error_code.as_deref().unwrap_or("server_error"),
            );
            out.extend_from_slice(b",\"message\":");
            write_str(out, error_message(chunk));
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"incomplete_details\":");
    match incomplete_reason {
        Some(reason) => {
            out.extend_from_slice(b"{\"reason\":");
            write_str(out, reason);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"output\":[");
    for (position, whole) in output.iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        write_item(head, &whole.block, Some(whole), out);
    }
    out.push(b']');
    out.extend_from_slice(&head.fields);
    out.extend_from_slice(b",\"usage\":");
    if status.is_some() {
        write_usage(outcome, out);
    } else {
        out.extend_from_slice(b"null");
    }
    out.push(b'}');
}

/// The stream's state the event sink needs besides the output buffer.
#[derive(Debug)]
struct Progress {
    head: Head,
    sequence: u64,
    /// The output so far, whole: the `*.done` events and the terminal response repeat it.
    items: Collected,
    /// Id of the open item (written in each of its events).
    item_id: String,
}

impl Progress {
    /// `event: <kind>\ndata: {"type":"<kind>","sequence_number":N` (the caller closes it).
    fn open_event(&mut self, kind: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\ndata: {\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",\"sequence_number\":");
        write_u64(out, self.sequence);
        self.sequence += 1;
    }

    /// An event about the open item: `..."item_id":...,"output_index":N[,"<index_key>":0]`.
    fn item_event(&mut self, kind: &str, block: &Block, out: &mut Vec<u8>) {
        self.open_event(kind, out);
        out.extend_from_slice(b",\"item_id\":");
        write_str(out, &self.item_id);
        out.extend_from_slice(b",\"output_index\":");
        write_u64(out, block.index.into());
        match block.kind {
            BlockKind::ToolCall(_) => {}
            BlockKind::Reasoning if self.head.reasoning_summary => {
                out.extend_from_slice(b",\"summary_index\":0")
            }
            _ => out.extend_from_slice(b",\"content_index\":0"),
        }
    }

    fn item_added_or_done(&mut self, block: &Block, done: bool, out: &mut Vec<u8>) {
        let kind = if done {
            "response.output_item.done"
        } else {
            "response.output_item.added"
        };
        self.open_event(kind, out);
        out.extend_from_slice(b",\"output_index\":");
        write_u64(out, block.index.into());
        out.extend_from_slice(b",\"item\":");
        let whole = if done { self.items.last() } else { None };
        write_item(&self.head, block, whole, out);
        out.extend_from_slice(b"}\n\n");
    }

    /// `content_part.added/done` or `reasoning_summary_part.added/done`.
    fn part_event(&mut self, block: &Block, done: bool, out: &mut Vec<u8>) {
        let summary = self.head.reasoning_summary && block.kind == BlockKind::Reasoning;
        let kind = match (summary, done) {
            (false, false) => "response.content_part.added",
            (false, true) => "response.content_part.done",
            (true, false) => "response.reasoning_summary_part.added",
            (true, true) => "response.reasoning_summary_part.done",
        };
        self.item_event(kind, block, out);
        out.extend_from_slice(b",\"part\":");
        let (text, logprobs) = match self.items.last() {
            Some(whole) if done => (whole.text.as_str(), whole.logprobs.as_str()),
            _ => ("", ""),
        };
        write_part(block.kind, summary, text, logprobs, out);
        out.extend_from_slice(b"}\n\n");
    }

    /// The delta / done event names of a block kind, and the done event's text key.
    fn text_events(&self, kind: BlockKind) -> (&'static str, &'static str, &'static str) {
        match kind {
            BlockKind::Text => (
                "response.output_text.delta",
                "response.output_text.done",
                "text",
            ),
            BlockKind::Refusal => ("response.refusal.delta", "response.refusal.done", "refusal"),
            BlockKind::Reasoning if self.head.reasoning_summary => (
                "response.reasoning_summary_text.delta",
                "response.reasoning_summary_text.done",
                "text",
            ),
            BlockKind::Reasoning => (
                "response.reasoning_text.delta",
                "response.reasoning_text.done",
                "text",
            ),
            BlockKind::ToolCall(_) => (
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "arguments",
            ),
        }
    }
}

/// Writes blocks as Responses events.
struct EventSink<'a> {
    progress: &'a mut Progress,
    out: &'a mut Vec<u8>,
}

impl BlockSink for EventSink<'_> {
    fn start(&mut self, block: &Block) {
        let progress = &mut *self.progress;
        progress.item_id = progress.head.item_id(block);
        progress.items.start(block);
        progress.item_added_or_done(block, false, self.out);
        if !matches!(block.kind, BlockKind::ToolCall(_)) {
            progress.part_event(block, false, self.out);
        }
    }

    fn delta(&mut self, block: &Block, text: &str, logprobs: Option<&str>) {
        let progress = &mut *self.progress;
        progress.items.delta(block, text, logprobs);
        let (delta_event, _, _) = progress.text_events(block.kind);
        progress.item_event(delta_event, block, self.out);
        let out = &mut *self.out;
        out.extend_from_slice(b",\"delta\":");
        write_str(out, text);
        if block.kind == BlockKind::Text {
            out.extend_from_slice(b",\"logprobs\":");
            match logprobs.map(str::trim) {
                Some(raw) if raw.starts_with('[') => out.extend_from_slice(raw.as_bytes()),
                _ => out.extend_from_slice(b"[]"),
            }
        }
        out.extend_from_slice(b"}\n\n");
    }

    fn stop(&mut self, block: &Block, signature: Option<&str>) {
        let progress = &mut *self.progress;
        progress.items.stop(block, signature);
        let (_, done_event, key) = progress.text_events(block.kind);
        progress.item_event(done_event, block, self.out);
        let out = &mut *self.out;
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        let whole = progress
            .items
            .last()
            .expect("the stopped block was collected");
        write_str(out, &whole.text);
        match block.kind {
            BlockKind::Text => out.extend_from_slice(b",\"logprobs\":[]"),
            BlockKind::ToolCall(_) => {
                out.extend_from_slice(b",\"name\":");
                write_str(out, &block.name);
            }
            _ => {}
        }
        out.extend_from_slice(b"}\n\n");
        if !matches!(block.kind, BlockKind::ToolCall(_)) {
            progress.part_event(block, true, out);
        }
        progress.item_added_or_done(block, true, out);
    }
}

/// The streaming encoder (see the module docs for the event sequence).
#[derive(Debug)]
pub struct StreamEncoder {
    progress: Progress,
    message: Message,
    started: bool,
}

fn new_message(envelope: &Envelope) -> Message {
    Message::new(
        Blocks::new(FORMAT, "call_", &envelope.id, false),
        envelope.prompt_tokens,
    )
}

impl StreamEncoder {
    pub fn new(envelope: Envelope) -> StreamEncoder {
        StreamEncoder {
            message: new_message(&envelope),
            progress: Progress {
                head: Head::new(&envelope),
                sequence: 0,
                items: Collected::default(),
                item_id: String::new(),
            },
            started: false,
        }
    }

    /// `response.<kind>` carrying the response object.
    fn lifecycle_event(
        &mut self,
        kind: &str,
        status: Option<(&str, Option<&str>)>,
        error: Option<&GenerationChunk>,
        out: &mut Vec<u8>,
    ) {
        self.progress.open_event(kind, out);
        out.extend_from_slice(b",\"response\":");
        let progress = &self.progress;
        write_response_object(
            &progress.head,
            status,
            error,
            &progress.items.blocks,
            &self.message.outcome,
            out,
        );
        out.extend_from_slice(b"}\n\n");
    }

    /// The preamble: `response.created` and `response.in_progress`, once.
    pub fn start(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            self.lifecycle_event("response.created", None, None, out);
            self.lifecycle_event("response.in_progress", None, None, out);
        }
    }

    pub fn encode_chunk(&mut self, chunk: &GenerationChunk, out: &mut Vec<u8>) -> Result<()> {
        match self.message.step(chunk)? {
            Step::Ignore => Ok(()),
            Step::Fail => {
                let failed = Some(("failed", None));
                self.lifecycle_event("response.failed", failed, Some(chunk), out);
                Ok(())
            }
            Step::Write => {
                let mut sink = EventSink {
                    progress: &mut self.progress,
                    out,
                };
                self.message.blocks.content(chunk, &mut sink)
            }
        }
    }

    /// Close the open item, then `response.completed` or `response.incomplete`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.message.failed() {
            return;
        }
        let mut sink = EventSink {
            progress: &mut self.progress,
            out: &mut *out,
        };
        self.message.blocks.close(&mut sink);
        let status = status(&self.message.outcome);
        let kind = if status.0 == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.lifecycle_event(kind, Some(status), None, out);
    }
}

// --- non-streaming ---------------------------------------------------------------------------

/// A `response` body for the whole chunk sequence, or the OpenAI error body when a chunk
/// carries an error.
pub fn write_response<'a, I>(chunks: I, envelope: &Envelope, out: &mut Vec<u8>) -> Result<()>
where
    I: IntoIterator<Item = &'a GenerationChunk>,
{
    let mut message = new_message(envelope);
    let write_error = |failed: &GenerationChunk| super::openai::write_error_body(failed, out);
    let Some(collected) = message.collect(chunks, write_error)? else {
        return Ok(());
    };
    let outcome = &message.outcome;
    let head = Head::new(envelope);
    write_response_object(
        &head,
        Some(status(outcome)),
        None,
        &collected.blocks,
        outcome,
        out,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_default_and_override() {
        let fields = ResponseFields::parse(r#"{"tools":[{"type":"function"}],"zeta":1}"#).unwrap();
        let rendered = String::from_utf8(fields.render()).unwrap();
        assert!(rendered.contains(r#","tools":[{"type":"function"}]"#));
        assert!(!rendered.contains(r#""tools":[]"#));
        assert!(
            rendered.contains(r#","tool_choice":"auto""#) && rendered.ends_with(r#","zeta":1"#)
        );
        let object: serde_json::Value =
            serde_json::from_str(&format!("{{\"a\":0{rendered}}}")).unwrap();
        assert_eq!(object["parallel_tool_calls"], true);
    }

    #[test]
    fn fields_refuse_what_the_encoder_writes() {
        let error = ResponseFields::parse(r#"{"status":"x"}"#).unwrap_err();
        assert!(error.to_string().contains("\"status\""));
        assert!(ResponseFields::parse("[1]").is_err());
        assert!(ResponseFields::parse("{").is_err());
    }
}
