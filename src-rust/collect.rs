//! The one chunk collector: what a stream of unified chunks delivered so far, per choice, kept
//! so that reading it at any point is cheap.
//!
//! Text, reasoning and refusal grow in place (append-only, so a reader may remember a length
//! and read that prefix later); each tool call's arguments are also fed to an incremental
//! `PartialJson`, so the arguments parsed so far are known after every delta without
//! re-parsing. A tool call is complete when its JSON value closed, when a later call of the
//! same choice started, or when the choice finished.

use std::collections::BTreeMap;

use crate::chunk::{FinishReason, GenerationChunk, RareFields, ToolCallDelta, Usage};
use crate::partial_json::PartialJson;

/// One tool call so far.
#[derive(Debug, Default)]
pub struct ToolState {
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
    pub parser: PartialJson,
    /// Set when a later call started or the choice finished.
    closed: bool,
}

impl ToolState {
    /// True when the arguments can grow no more (see the module documentation).
    pub fn is_complete(&self) -> bool {
        self.closed || self.parser.is_complete()
    }
}

/// One choice so far.
#[derive(Debug, Default)]
pub struct ChoiceState {
    pub text: String,
    pub reasoning: String,
    pub refusal: String,
    pub reasoning_signature: Option<String>,
    /// Each redacted reasoning block's opaque data, in order (sent back in the next turn).
    pub redacted_thinking: Vec<String>,
    /// The chunks' citations, in order: each a JSON array of citation objects.
    pub citations: Vec<Box<str>>,
    /// By tool-call index.
    pub tools: BTreeMap<u32, ToolState>,
    pub finish_reason: Option<FinishReason>,
    pub done: bool,
    pub usage: Usage,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl ChoiceState {
    fn add(&mut self, chunk: &GenerationChunk) {
        self.text.push_str(&chunk.text_delta);
        self.reasoning.push_str(&chunk.reasoning_delta);
        self.refusal.push_str(&chunk.rare.refusal_delta);
        if chunk.rare.reasoning_signature.is_some() {
            self.reasoning_signature
                .clone_from(&chunk.rare.reasoning_signature);
        }
        if let Some(data) = &chunk.rare.redacted_thinking {
            self.redacted_thinking.push(data.clone());
        }
        if let Some(citations) = &chunk.rare.citations {
            self.citations.push(citations.clone());
        }
        if let Some(delta) = &chunk.tool_call_delta {
            self.add_tool_delta(delta);
        }
        self.usage.take_latest(&chunk.rare);
        if chunk.rare.error_code.is_some() || chunk.rare.error_message.is_some() {
            self.error_code.clone_from(&chunk.rare.error_code);
            self.error_message.clone_from(&chunk.rare.error_message);
        }
        if chunk.finish_reason.is_some() {
            self.finish_reason = chunk.finish_reason;
        }
        if chunk.done || chunk.finish_reason.is_some() {
            self.done |= chunk.done;
            for tool in self.tools.values_mut() {
                tool.closed = true;
            }
        }
    }

    fn add_tool_delta(&mut self, delta: &ToolCallDelta) {
        if !self.tools.contains_key(&delta.index) {
            // Calls stream one after another: a new one closes those before it.
            for tool in self.tools.range_mut(..delta.index) {
                tool.1.closed = true;
            }
        }
        let tool = self.tools.entry(delta.index).or_default();
        if tool.id.is_none() {
            tool.id.clone_from(&delta.id);
        }
        if tool.name.is_none() {
            tool.name.clone_from(&delta.function_name);
        }
        if !delta.arguments_delta.is_empty() {
            tool.arguments.push_str(&delta.arguments_delta);
            // An error is kept inside the parser and reported when the arguments are read.
            let _ = tool.parser.push(&delta.arguments_delta);
        }
    }

    /// The choice so far as a few chunks (text, reasoning, refusal, one per tool call, and one
    /// with the finish reason and usage), for errors that carry "the stream so far".
    fn compacted(&self, index: u32, out: &mut Vec<GenerationChunk>) {
        let start = out.len();
        let base = GenerationChunk {
            choice_index: index,
            ..Default::default()
        };
        if !self.text.is_empty() {
            out.push(GenerationChunk {
                text_delta: self.text.clone(),
                ..base.clone()
            });
        }
        if !self.reasoning.is_empty() || self.reasoning_signature.is_some() {
            out.push(GenerationChunk {
                reasoning_delta: self.reasoning.clone(),
                rare: RareFields {
                    reasoning_signature: self.reasoning_signature.clone(),
                    ..RareFields::NONE
                }
                .into(),
                ..base.clone()
            });
        }
        let redacted = self.redacted_thinking.iter().map(|data| RareFields {
            redacted_thinking: Some(data.clone()),
            ..RareFields::NONE
        });
        let citations = self.citations.iter().map(|citations| RareFields {
            citations: Some(citations.clone()),
            ..RareFields::NONE
        });
        for rare in redacted.chain(citations) {
            out.push(GenerationChunk {
                rare: rare.into(),
                ..base.clone()
            });
        }
        if !self.refusal.is_empty() {
            out.push(GenerationChunk {
                rare: RareFields {
                    refusal_delta: self.refusal.clone(),
                    ..RareFields::NONE
                }
                .into(),
                ..base.clone()
            });
        }
        for (&tool_index, tool) in &self.tools {
            out.push(GenerationChunk {
                tool_call_delta: Some(Box::new(ToolCallDelta {
                    index: tool_index,
                    id: tool.id.clone(),
                    function_name: tool.name.clone(),
                    arguments_delta: tool.arguments.clone(),
                })),
                ..base.clone()
            });
        }
        if self.done
            || self.finish_reason.is_some()
            || !self.usage.is_empty()
            || self.error_code.is_some()
            || self.error_message.is_some()
        {
            let mut rare = RareFields {
                error_code: self.error_code.clone(),
                error_message: self.error_message.clone(),
                ..RareFields::NONE
            };
            self.usage.write_to(&mut rare);
            out.push(GenerationChunk {
                done: self.done,
                finish_reason: self.finish_reason,
                rare: rare.into(),
                ..base.clone()
            });
        }
        if out.len() == start {
            out.push(base); // the choice appeared with nothing in it: keep it visible
        }
    }
}

/// Everything a chunk stream delivered so far, by choice index.
#[derive(Debug, Default)]
pub struct Collector {
    choices: BTreeMap<u32, ChoiceState>,
    count: u64,
}

impl Collector {
    pub fn new() -> Self {
        Collector::default()
    }

    /// Take in one chunk: cost proportional to what it carries.
    pub fn add(&mut self, chunk: &GenerationChunk) {
        self.count += 1;
        self.choices
            .entry(chunk.choice_index)
            .or_default()
            .add(chunk);
    }

    /// Count an item that is not a chunk (a stream stage may pass other things through).
    pub fn count_other(&mut self) {
        self.count += 1;
    }

    /// Items taken in.
    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn choices(&self) -> &BTreeMap<u32, ChoiceState> {
        &self.choices
    }

    pub fn choice(&self, index: u32) -> Option<&ChoiceState> {
        self.choices.get(&index)
    }

    /// The stream so far in few chunks; collecting them gives the same result. The first one
    /// is marked `is_first`.
    pub fn compacted(&self) -> Vec<GenerationChunk> {
        let mut out = Vec::new();
        for (&index, choice) in &self.choices {
            choice.compacted(index, &mut out);
        }
        if let Some(first) = out.first_mut() {
            first.is_first = true;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(index: u32, id: Option<&str>, arguments: &str) -> GenerationChunk {
        GenerationChunk::tool_call(ToolCallDelta {
            index,
            id: id.map(str::to_owned),
            function_name: id.map(|_| "f".to_owned()),
            arguments_delta: arguments.into(),
        })
    }

    #[test]
    fn text_and_tool_calls_accumulate_and_complete() {
        let mut collector = Collector::new();
        collector.add(&GenerationChunk::text("Hel"));
        collector.add(&GenerationChunk::text("lo"));
        collector.add(&tool(0, Some("a"), "{\"x\": "));
        let choice = collector.choice(0).unwrap();
        assert_eq!(choice.text, "Hello");
        assert!(!choice.tools[&0].is_complete());
        collector.add(&tool(0, None, "1}"));
        assert!(collector.choice(0).unwrap().tools[&0].is_complete());
        collector.add(&tool(1, Some("b"), "")); // an empty call closes only with the stream
        assert!(!collector.choice(0).unwrap().tools[&1].is_complete());
        collector.add(&GenerationChunk::finish(FinishReason::ToolCalls));
        let choice = collector.choice(0).unwrap();
        assert!(choice.tools[&1].is_complete());
        assert_eq!(choice.tools[&0].arguments, "{\"x\": 1}");
        assert_eq!(collector.count(), 6);
    }

    #[test]
    fn a_later_call_closes_an_earlier_one() {
        let mut collector = Collector::new();
        collector.add(&tool(0, Some("a"), "{\"x\": \"unfinished"));
        collector.add(&tool(1, Some("b"), "{"));
        let choice = collector.choice(0).unwrap();
        assert!(choice.tools[&0].is_complete());
        assert!(!choice.tools[&1].is_complete());
    }

    #[test]
    fn compacted_keeps_every_field_once() {
        let mut collector = Collector::new();
        collector.add(&GenerationChunk::text("a"));
        collector.add(&GenerationChunk {
            text_delta: "b".into(),
            choice_index: 1,
            ..Default::default()
        });
        collector.add(&tool(0, Some("c"), "{}"));
        collector.add(&GenerationChunk {
            rare: RareFields {
                prompt_tokens: Some(3),
                ..RareFields::NONE
            }
            .into(),
            ..GenerationChunk::finish(FinishReason::Stop)
        });
        let chunks = collector.compacted();
        assert_eq!(chunks.len(), 4);
        assert!(chunks[0].is_first);
        assert_eq!(chunks[2].rare.prompt_tokens, Some(3));
        assert_eq!(chunks[3].choice_index, 1);
        let mut again = Collector::new();
        for chunk in &chunks {
            again.add(chunk);
        }
        assert_eq!(again.choice(0).unwrap().text, "a");
        assert_eq!(again.choice(0).unwrap().tools[&0].arguments, "{}");
    }

    #[test]
    fn redacted_thinking_and_citations_are_kept_in_order() {
        let block = |fields: RareFields| GenerationChunk {
            rare: fields.into(),
            ..Default::default()
        };
        let mut collector = Collector::new();
        for data in ["r1", "r2"] {
            collector.add(&block(RareFields {
                redacted_thinking: Some(data.into()),
                ..RareFields::NONE
            }));
        }
        collector.add(&block(RareFields {
            citations: Some("[{\"url\":\"u\"}]".into()),
            ..RareFields::NONE
        }));
        collector.add(&GenerationChunk::text("cited"));
        let choice = collector.choice(0).unwrap();
        assert_eq!(choice.redacted_thinking, ["r1", "r2"]);
        assert_eq!(choice.citations, ["[{\"url\":\"u\"}]".into()]);
        let mut again = Collector::new();
        for chunk in collector.compacted() {
            again.add(&chunk);
        }
        let choice_again = again.choice(0).unwrap();
        assert_eq!(choice_again.redacted_thinking, choice.redacted_thinking);
        assert_eq!(choice_again.citations, choice.citations);
        assert_eq!(choice_again.text, "cited");
    }
}
