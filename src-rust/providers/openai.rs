//! OpenAI Chat Completions (`provider="openai"`) and every server that copies it: vLLM,
//! SGLang, DeepSeek, Groq, Mistral, OpenRouter, Azure.
//!
//! One `chat.completion.chunk` per SSE event. Per choice (`choices[].index`, so `n > 1`
//! works) the delta may carry `reasoning_content` or `reasoning` (DeepSeek / vLLM / Groq /
//! OpenRouter), `content` as a string or, from Mistral's Magistral models, a list of
//! `text` / `thinking` parts, `refusal`, and `tool_calls` fragments; `logprobs` rides along.
//! Usage comes on the finish chunk, on a later `choices: []` chunk (`stream_options`), or in
//! Groq's `x_groq`. A chunk with a top-level `error` object (OpenRouter) or an SSE
//! `event: error` (Groq) is a provider error. `data: [DONE]` ends the stream.
//!
//! Because usage may follow the finish chunk, each choice's terminal chunk is emitted at
//! `[DONE]` (or at end of stream when a server omits it).

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::emit::{Answer, Emitter};
use super::json::{self, non_empty, ErrorObject, JStr};
use super::template::Template;
use super::{Reducer, WireEvent};
use crate::chunk::{FinishReason, ToolCallDelta};
use crate::error::{Error, Result};
use crate::providers::Chunks;

mod fast;

const PROVIDER: &str = "openai";
/// More choices than any server allows; stops a hostile index from growing memory.
const MAX_CHOICES: u32 = 4096;

/// `finish_reason` values of OpenAI and the compatible servers -> unified reasons.
pub fn map_finish_reason(reason: &str) -> FinishReason {
    match reason {
        "length" | "model_length" | "max_tokens" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        "abort" | "cancelled" => FinishReason::Cancelled,
        "error" | "insufficient_system_resource" => FinishReason::Error,
        // "stop", "eos", "stop_sequence" and values we do not know: the model ended normally.
        _ => FinishReason::Stop,
    }
}

// --- wire shapes (only the fields we read; serde skips the rest) ---------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ChunkWire<'a> {
    choices: Option<Choices<'a>>,
    usage: Option<UsageWire>,
    x_groq: Option<XGroqWire>,
    error: Option<ErrorObject<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ChoiceWire<'a> {
    #[serde(default)]
    index: u32,
    /// Streaming shape.
    delta: Option<DeltaWire<'a>>,
    /// Non-streaming shape (`chat.completion`): the same fields, whole. Boxed to keep the
    /// streaming struct small (serde moves it by value).
    message: Option<Box<DeltaWire<'a>>>,
    logprobs: Option<LogprobsWire<'a>>,
    finish_reason: Option<JStr<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(bound(deserialize = "'de: 'a"))]
struct DeltaWire<'a> {
    content: Option<Content<'a>>,
    reasoning_content: Option<JStr<'a>>,
    reasoning: Option<JStr<'a>>,
    refusal: Option<JStr<'a>>,
    tool_calls: Option<Vec<ToolCallWire<'a>>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct LogprobsWire<'a> {
    content: Option<&'a RawValue>,
    refusal: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ToolCallWire<'a> {
    index: Option<u32>,
    id: Option<JStr<'a>>,
    function: Option<FunctionWire<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct FunctionWire<'a> {
    name: Option<JStr<'a>>,
    arguments: Option<JStr<'a>>,
}

#[derive(Deserialize, Clone, Copy)]
struct UsageWire {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct XGroqWire {
    usage: Option<UsageWire>,
}

/// `choices`: almost always one; kept inline then, so an event needs no allocation.
#[allow(clippy::large_enum_variant)] // boxing `One` would cost the allocation this avoids
enum Choices<'a> {
    One(ChoiceWire<'a>),
    Many(Vec<ChoiceWire<'a>>),
    Empty,
}

impl<'a> IntoIterator for Choices<'a> {
    type Item = ChoiceWire<'a>;
    type IntoIter =
        std::iter::Chain<std::option::IntoIter<ChoiceWire<'a>>, std::vec::IntoIter<ChoiceWire<'a>>>;

    fn into_iter(self) -> Self::IntoIter {
        let (one, many) = match self {
            Choices::One(choice) => (Some(choice), Vec::new()),
            Choices::Many(choices) => (None, choices),
            Choices::Empty => (None, Vec::new()),
        };
        one.into_iter().chain(many)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Choices<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct ChoicesVisitor;

        impl<'de> Visitor<'de> for ChoicesVisitor {
            type Value = Choices<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of choices")
            }

            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let Some(first) = seq.next_element::<ChoiceWire<'de>>()? else {
                    return Ok(Choices::Empty);
                };
                let Some(second) = seq.next_element::<ChoiceWire<'de>>()? else {
                    return Ok(Choices::One(first));
                };
                let mut many = vec![first, second];
                while let Some(next) = seq.next_element()? {
                    many.push(next);
                }
                Ok(Choices::Many(many))
            }
        }

        deserializer.deserialize_seq(ChoicesVisitor)
    }
}

/// `delta.content`: a string, or (Mistral) a list of typed parts.
#[derive(Default)]
struct Content<'a> {
    text: Option<JStr<'a>>,
    parts: Option<Box<Parts>>,
}

/// Content that came as a list of parts: the `text` and the `thinking` text, each joined.
#[derive(Default)]
struct Parts {
    text: String,
    thinking: String,
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct ContentVisitor;

        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = Content<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of content parts")
            }

            fn visit_borrowed_str<E: de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Content {
                    text: Some(JStr(v.into())),
                    ..Default::default()
                })
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(Content {
                    text: Some(JStr(v.to_owned().into())),
                    ..Default::default()
                })
            }

            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Self::Value, E> {
                Ok(Content {
                    text: Some(JStr(v.into())),
                    ..Default::default()
                })
            }

            fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
                Ok(Content::default())
            }

            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut parts = Parts::default();
                while let Some(part) = seq.next_element::<PartWire<'de>>()? {
                    match part.kind.as_ref().map(JStr::as_str) {
                        Some("text") => {
                            if let Some(text) = &part.text {
                                parts.text.push_str(text.as_str());
                            }
                        }
                        Some("thinking") => {
                            for inner in part.thinking.iter().flatten() {
                                if let Some(text) = &inner.text {
                                    parts.thinking.push_str(text.as_str());
                                }
                            }
                        }
                        _ => {} // images, references, ...: reachable through `raw`
                    }
                }
                Ok(Content {
                    text: None,
                    parts: Some(Box::new(parts)),
                })
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                // An object where a string belongs: tolerate it, keep nothing.
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Content::default())
            }
        }

        deserializer.deserialize_any(ContentVisitor)
    }
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct PartWire<'a> {
    #[serde(rename = "type")]
    kind: Option<JStr<'a>>,
    text: Option<JStr<'a>>,
    thinking: Option<Vec<ThinkingWire<'a>>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ThinkingWire<'a> {
    text: Option<JStr<'a>>,
}

/// `{"error": {...}}` as sent by an `event: error` frame or a JSON error body.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ErrorEnvelope<'a> {
    error: Option<ErrorObject<'a>>,
}

// --- reducer ------------------------------------------------------------------------------

/// One choice: its chunks' emitter (which holds its ending) and its tool calls.
#[derive(Debug)]
struct ChoiceState {
    emit: Emitter,
    seen: bool,
    /// Calls by index whose id or name went out: O(1) per fragment however many calls.
    announced: HashSet<u32>,
    /// Index of each call by id, for index-less fragments.
    tool_ids: HashMap<String, u32>,
    /// The call that index-less fragments continue (Mistral sends whole calls without index).
    last_tool: Option<u32>,
}

impl ChoiceState {
    fn new(index: u32) -> Self {
        ChoiceState {
            emit: Emitter::for_choice(PROVIDER, index),
            seen: false,
            announced: HashSet::new(),
            tool_ids: HashMap::new(),
            last_tool: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct OpenAiReducer {
    choices: Vec<ChoiceState>,
    /// The fast path's memory of the last text-delta event.
    template: Template<u32>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    /// `data: [DONE]` arrived: the terminal chunks are out and later events are ignored.
    done: bool,
}

impl OpenAiReducer {
    pub fn new() -> Self {
        Self::default()
    }

    fn choice(&mut self, index: u32, offset: u64) -> Result<&mut ChoiceState> {
        if index >= MAX_CHOICES {
            return Err(Error::protocol(
                format!(
                    "openai choice index {index} is beyond the {MAX_CHOICES} choices supported"
                ),
                Some(offset),
            ));
        }
        let state = self.grow_to(index);
        state.seen = true;
        Ok(state)
    }

    /// The state of choice `index`, creating it and every choice before it.
    fn grow_to(&mut self, index: u32) -> &mut ChoiceState {
        while self.choices.len() <= index as usize {
            let next = self.choices.len() as u32;
            self.choices.push(ChoiceState::new(next));
        }
        &mut self.choices[index as usize]
    }

    /// Counts an event reports replace the ones before; the others stay.
    fn take_usage(&mut self, usage: Option<UsageWire>) {
        if let Some(usage) = usage {
            self.prompt_tokens = usage.prompt_tokens.or(self.prompt_tokens);
            self.completion_tokens = usage.completion_tokens.or(self.completion_tokens);
        }
    }

    /// One choice's delta (or whole message) -> chunks, in the order reasoning, text,
    /// refusal, tool calls.
    fn emit_choice(
        &mut self,
        choice: ChoiceWire<'_>,
        whole: bool,
        raw: &str,
        offset: u64,
        out: &mut Chunks,
    ) -> Result<()> {
        let state = self.choice(choice.index, offset)?;
        let delta = if whole {
            choice.message.map(|m| *m)
        } else {
            choice.delta
        };
        let (content_logprobs, refusal_logprobs) = match &choice.logprobs {
            Some(lp) => (lp.content, lp.refusal),
            None => (None, None),
        };
        if let Some(delta) = delta {
            let reasoning =
                non_empty(delta.reasoning_content).or_else(|| non_empty(delta.reasoning));
            let (text, thinking) = match delta.content {
                Some(Content {
                    text: Some(text), ..
                }) => (text.into_string(), String::new()),
                Some(Content {
                    parts: Some(parts), ..
                }) => {
                    let Parts { text, thinking } = *parts;
                    (text, thinking)
                }
                _ => (String::new(), String::new()),
            };
            let reasoning = reasoning.unwrap_or_default() + &thinking;
            state.emit.reasoning(reasoning, out);
            state.emit.answer(Answer::Text, text, content_logprobs, out);
            let refusal = delta.refusal.map(JStr::into_string).unwrap_or_default();
            state
                .emit
                .answer(Answer::Refusal, refusal, refusal_logprobs, out);
            if let Some(calls) = delta.tool_calls {
                for (position, call) in calls.into_iter().enumerate() {
                    let fallback_index = if whole { Some(position as u32) } else { None };
                    tool_call_chunks(state, call, fallback_index, whole, out)
                        .map_err(|message| Error::protocol(message, Some(offset)))?;
                }
            }
        } else {
            state.emit.answer(Answer::Text, "", content_logprobs, out);
        }
        if let Some(reason) = choice.finish_reason {
            let reason = map_finish_reason(reason.as_str());
            state.emit.set_finish(reason, raw);
        }
        Ok(())
    }

    /// One `chat.completion.chunk` of any shape, read with serde.
    fn on_chunk_serde(&mut self, data: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        let chunk: ChunkWire<'_> = json::parse(PROVIDER, data, offset)?;
        if let Some(error) = chunk.error {
            return Err(error.into_error(data));
        }
        self.take_usage(chunk.usage);
        self.take_usage(chunk.x_groq.and_then(|x| x.usage));
        for choice in chunk.choices.into_iter().flatten() {
            self.emit_choice(choice, false, data, offset, out)?;
        }
        Ok(())
    }

    /// `emit_choice` for what the fast path read: a text delta and maybe a finish reason.
    fn emit_fast(
        &mut self,
        chunk: fast::FastChunk<'_>,
        raw: &str,
        offset: u64,
        out: &mut Chunks,
    ) -> Result<()> {
        let Some(choice) = chunk.choice else {
            return Ok(());
        };
        let state = self.choice(choice.index, offset)?;
        if let Some(Some(text)) = choice.delta {
            state.emit.text(text, out);
        }
        if let Some(reason) = choice.finish_reason {
            state.emit.set_finish(map_finish_reason(reason), raw);
        }
        Ok(())
    }

    /// Each choice's terminal chunk (choice 0's even when no choice came), all with the usage.
    fn emit_terminals(&mut self, out: &mut Chunks) -> Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        self.grow_to(0);
        let (prompt_tokens, completion_tokens) = (self.prompt_tokens, self.completion_tokens);
        for (index, state) in self.choices.iter_mut().enumerate() {
            if !state.seen && index != 0 {
                continue;
            }
            state.emit.ending.prompt_tokens = prompt_tokens;
            state.emit.ending.completion_tokens = completion_tokens;
            state.emit.finish(out)?;
        }
        Ok(())
    }
}

fn tool_call_chunks(
    state: &mut ChoiceState,
    call: ToolCallWire<'_>,
    fallback_index: Option<u32>,
    whole: bool,
    out: &mut Chunks,
) -> std::result::Result<(), &'static str> {
    let id = non_empty(call.id);
    let (name, arguments) = match call.function {
        Some(function) => (
            non_empty(function.name),
            function
                .arguments
                .map(JStr::into_string)
                .unwrap_or_default(),
        ),
        None => (None, String::new()),
    };
    let index = match call.index.or(fallback_index) {
        Some(index) => index,
        // No index (Mistral): a known id continues its call, a new id opens the next one,
        // no id continues the latest call.
        None => match &id {
            Some(id) => match state.tool_ids.get(id.as_str()) {
                Some(&index) => index,
                None => state
                    .emit
                    .next_tool_index()
                    .ok_or("openai tool call without an index after call index 4294967295")?,
            },
            None => state.last_tool.unwrap_or(0),
        },
    };
    state.last_tool = Some(index);
    // id and name belong to a call's first fragment only, however often a server repeats them.
    let (id, name) = if state.announced.contains(&index) {
        (None, None)
    } else {
        if id.is_some() || name.is_some() {
            state.announced.insert(index);
            if let Some(id) = &id {
                state.tool_ids.insert(id.clone(), index);
            }
        }
        (id, name)
    };
    // A whole call reads like a stream would have sent it: announcement, then arguments.
    let (now, later) = if whole {
        (String::new(), arguments)
    } else {
        (arguments, String::new())
    };
    let delta = ToolCallDelta {
        index,
        id,
        function_name: name,
        arguments_delta: now,
    };
    state.emit.tool_call(delta, out);
    state.emit.tool_arguments(index, later, out);
    Ok(())
}

fn is_done_marker(data: &str) -> bool {
    data.trim_ascii() == "[DONE]"
}

impl Reducer for OpenAiReducer {
    fn on_event(&mut self, event: &WireEvent<'_>, out: &mut Chunks) -> Result<()> {
        if self.done {
            return Ok(()); // after [DONE], as the SDK does
        }
        let data = event.data;
        if is_done_marker(data) {
            return self.emit_terminals(out);
        }
        if event.event == "error" {
            return Err(error_event(data, event.offset));
        }
        if let Some(chunk) = fast::parse_with(&mut self.template, data) {
            return self.emit_fast(chunk, data, event.offset, out);
        }
        self.on_chunk_serde(data, event.offset, out)
    }

    fn finish(&mut self, out: &mut Chunks) -> Result<()> {
        self.emit_terminals(out)
    }

    fn on_complete_body(&mut self, body: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        let completion: ChunkWire<'_> = json::parse(PROVIDER, body, offset)?;
        if let Some(error) = completion.error {
            return Err(error.into_error(body));
        }
        self.take_usage(completion.usage);
        self.take_usage(completion.x_groq.and_then(|x| x.usage));
        for choice in completion.choices.into_iter().flatten() {
            let whole = choice.message.is_some();
            self.emit_choice(choice, whole, body, offset, out)?;
        }
        Ok(())
    }
}

/// An SSE `event: error` frame: `{"error": {...}}`, a bare error object, or plain text.
fn error_event(data: &str, offset: u64) -> Error {
    if let Ok(envelope) = serde_json::from_str::<ErrorEnvelope<'_>>(data) {
        if let Some(error) = envelope.error {
            return error.into_error(data);
        }
    }
    if let Ok(error) = serde_json::from_str::<ErrorObject<'_>>(data) {
        if error.message.is_some() {
            return error.into_error(data);
        }
    }
    let _ = offset;
    Error::provider(None, data, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::GenerationChunk;
    use crate::providers::assert_same_reading;
    use crate::providers::template::TRIAL_TEXTS;

    fn run(events: &[&str]) -> Vec<GenerationChunk> {
        let mut reducer = OpenAiReducer::new();
        let mut out = Vec::new();
        for (i, data) in events.iter().enumerate() {
            let event = WireEvent {
                event: "message",
                data,
                offset: i as u64,
            };
            reducer.on_event(&event, &mut out).unwrap();
        }
        reducer.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn text_then_usage_then_done() {
        let out = run(&[
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hi \"x\""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
            "[DONE]",
        ]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].text_delta, "Hi \"x\"");
        assert!(out[1].done);
        assert_eq!(out[1].finish_reason, Some(FinishReason::Stop));
        assert_eq!(out[1].rare.prompt_tokens, Some(3));
        assert_eq!(out[1].rare.completion_tokens, Some(2));
    }

    #[test]
    fn mistral_index_less_whole_calls_get_consecutive_indices() {
        let out = run(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{}"}},{"id":"b","function":{"name":"g","arguments":"[]"}}]},"finish_reason":"tool_calls"}]}"#,
        ]);
        let calls: Vec<_> = out
            .iter()
            .filter_map(|c| c.tool_call_delta.clone())
            .collect();
        assert_eq!(calls.len(), 2);
        assert_eq!((calls[0].index, calls[1].index), (0, 1));
        assert_eq!(calls[1].id.as_deref(), Some("b"));
    }

    #[test]
    fn repeated_id_and_name_are_dropped() {
        let out = run(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{}"}}]}}]}"#,
        ]);
        let second = out[1].tool_call_delta.as_ref().unwrap();
        assert_eq!(second.id, None);
        assert_eq!(second.function_name, None);
        assert_eq!(second.arguments_delta, "{}");
    }

    #[test]
    fn index_less_call_after_the_last_index_is_an_error_not_a_wrap() {
        // Used to overflow (issue 13, finding 7): wrapped to 0 in release, panicked in debug.
        let mut reducer = OpenAiReducer::new();
        let mut out = Vec::new();
        let events = [
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":4294967295,"id":"a","function":{"name":"f","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","function":{"name":"g","arguments":""}}]}}]}"#,
        ];
        let mut results = events.iter().enumerate().map(|(i, data)| {
            let event = WireEvent {
                event: "message",
                data,
                offset: i as u64,
            };
            reducer.on_event(&event, &mut out)
        });
        assert!(results.next().unwrap().is_ok());
        let err = results.next().unwrap().unwrap_err();
        assert!(matches!(err, Error::Protocol { .. }), "{err}");
    }

    /// A stream through two reducers, one reading with the fast path (and its template), one
    /// with serde alone: the same chunks and errors, event by event and at the end. Returns
    /// how often the template fitted.
    fn fast_and_serde_agree(stream: &[String]) -> usize {
        let (mut fast, mut serde) = (OpenAiReducer::new(), OpenAiReducer::new());
        let mut template_hits = 0;
        for (i, data) in stream.iter().enumerate() {
            template_hits += usize::from(fast.template.fit(data).is_some());
            let offset = i as u64;
            let event = WireEvent {
                event: "message",
                data,
                offset,
            };
            assert_same_reading(
                data,
                |out| fast.on_event(&event, out),
                |out| match is_done_marker(data) {
                    true => serde.on_event(&event, out),
                    false => serde.on_chunk_serde(data, offset, out),
                },
            );
        }
        assert_same_reading(
            "end of stream",
            |out| fast.finish(out),
            |out| serde.finish(out),
        );
        template_hits
    }

    /// The `data:` payloads of each chat-completions capture, in stream order.
    fn capture_streams() -> Vec<Vec<String>> {
        let mut streams = Vec::new();
        for dir in ["openai-chat", "deepseek", "groq", "mistral"] {
            let path = format!("{}/tests/data/{dir}", env!("CARGO_MANIFEST_DIR"));
            let Ok(entries) = std::fs::read_dir(&path) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.extension().and_then(|e| e.to_str()) != Some("sse") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let payloads = text
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:"))
                    .map(|data| data.trim_start().to_owned());
                streams.push(payloads.collect());
            }
        }
        streams
    }

    /// Every `data:` payload of the chat-completions captures, plus edge cases, read by the
    /// fast path (where it accepts) and by serde alone: same chunks, same errors.
    #[test]
    fn fast_path_agrees_with_serde() {
        let mut payloads: Vec<String> = capture_streams().concat();
        assert!(payloads.len() > 100, "captures not found");
        for edge in [
            r#"{"choices":[{"index":0,"delta":{"content":"a\u00e9\n"},"finish_reason":"length"}]}"#,
            r#"{"choices":[{"index":3,"delta":null,"finish_reason":"stop"}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":null,"refusal":null}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"},"delta":{}}]}"#,
            r#"{"choices":null,"usage":null}"#,
            r#"{"choices":[{"index":-1,"delta":{"content":"x"}}]}"#,
            r#"{"choices":[{"index":5000,"delta":{"content":"x"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}],"x":[1,{"a":[true,false,null,-1.5e+3]}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}],"x":01}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x\q"}}]}"#,
            r#" { "choices" : [ { "delta" : { "content" : "" } } ] } "#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}"#,
        ] {
            payloads.push(edge.to_owned());
        }
        let mut fast_taken = 0;
        for data in &payloads {
            fast_taken += usize::from(fast::parse(data).is_some());
            fast_and_serde_agree(std::slice::from_ref(data));
        }
        assert!(fast_taken > 50, "fast path taken {fast_taken} times");
    }

    /// Streams through one reducer each: the fast path (its template remembering the last
    /// text delta) and serde alone give the same chunks and errors, event by event. Besides
    /// the captures, events that share a template's bytes around something other than one
    /// string must fall back to the full reading.
    #[test]
    fn fast_path_template_agrees_with_serde_on_streams() {
        let head = r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"#;
        let tail = r#"},"logprobs":null,"finish_reason":null}]}"#;
        let extra = [
            r#""a"}},{"index":1,"delta":{"content":"b""#,
            r#""a"},"finish_reason":"stop"}]} , {"x":{"y":"z""#,
            r#""d" } , "logprobs" : null , "finish_reason" : null } ] } "#,
        ];
        let middles = TRIAL_TEXTS.iter().chain(&extra);
        let mut synthetic: Vec<String> = middles.map(|m| format!("{head}{m}{tail}")).collect();
        synthetic.push(format!("{head}\"d\"{tail}").replace("c1", "c2"));
        synthetic.push(format!("{head}\"e\"{tail}").replace("null}]}", "\"stop\"}]}"));
        synthetic.push(format!("{head}\"f\"{tail}"));
        let mut streams = capture_streams();
        streams.push(synthetic);
        let mut template_hits = 0;
        for stream in &streams {
            template_hits += fast_and_serde_agree(stream);
        }
        assert!(template_hits > 50, "template fitted {template_hits} times");
    }

    #[test]
    fn no_finish_and_no_done_is_an_error_terminal() {
        let out = run(&[r#"{"choices":[{"index":0,"delta":{"content":"a"}}]}"#]);
        let last = out.last().unwrap();
        assert_eq!(last.finish_reason, Some(FinishReason::Error));
        assert_eq!(last.rare.error_code.as_deref(), Some("incomplete_stream"));
    }
}
