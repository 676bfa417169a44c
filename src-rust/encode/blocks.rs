//! The content-block lifecycle of the block-structured formats (Anthropic Messages, OpenAI
//! Responses, the AI SDK UI stream), written once.
//!
//! A message is a sequence of blocks, each of one kind: reasoning, text, refusal, or one tool
//! call. A chunk's content goes to the open block when it is of the same kind; otherwise the
//! open block is closed and a new one opened. The formats differ only in what they write when a
//! block starts, grows and stops: that is a [`BlockSink`]. [`Collected`] is the sink that keeps
//! whole blocks, for non-streaming bodies and for the events that repeat a block's content.
//!
//! [`Outcome`] holds what the same formats report at the end: usage and the stop information;
//! [`Message`] ties both together with the rule every format follows for an error chunk.
//!
//! Limits: these formats have one choice per message (`choice_index` must be 0), and a block
//! cannot be reopened: a fragment of a tool call whose block already closed is a usage error.

use super::{generated_call_id, is_error, SeenIndices};
use crate::chunk::{FinishReason, GenerationChunk, ToolCallDelta, Usage};
use crate::error::{Error, Result};

/// What a block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Reasoning,
    Text,
    Refusal,
    /// The tool call index (`ToolCallDelta.index`) the block belongs to.
    ToolCall(u32),
}

/// One block of a message, as the sinks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Position among the message's blocks: from 0, contiguous.
    pub index: u32,
    pub kind: BlockKind,
    /// Tool calls: the call's id (the chunk's, or generated); empty otherwise.
    pub call_id: String,
    /// Tool calls: the function name; empty otherwise.
    pub name: String,
}

/// What a format writes as blocks start, grow and stop. Deltas are never empty.
pub trait BlockSink {
    fn start(&mut self, block: &Block);
    /// `logprobs`: the chunk's raw logprobs JSON, given with text deltas only.
    fn delta(&mut self, block: &Block, text: &str, logprobs: Option<&str>);
    /// `signature`: a reasoning block's closing signature, when a chunk carried one.
    fn stop(&mut self, block: &Block, signature: Option<&str>);
}

/// The block state machine: which block is open, and which tool calls had one.
#[derive(Debug)]
pub struct Blocks {
    /// The format's name, for error messages.
    format: &'static str,
    /// Prefix of generated tool-call ids (`call_`, `toolu_`).
    call_id_prefix: &'static str,
    response_id: String,
    /// Refusal text goes to text blocks (formats without a refusal block).
    refusal_as_text: bool,
    open: Option<Block>,
    opened: u32,
    calls: SeenIndices,
    /// Signature of the open reasoning block, given to the sink when it stops.
    signature: Option<String>,
}

impl Blocks {
    pub fn new(
        format: &'static str,
        call_id_prefix: &'static str,
        response_id: &str,
        refusal_as_text: bool,
    ) -> Blocks {
        Blocks {
            format,
            call_id_prefix,
            response_id: response_id.to_owned(),
            refusal_as_text,
            open: None,
            opened: 0,
            calls: SeenIndices::default(),
            signature: None,
        }
    }

    /// True once any tool call got a block.
    pub fn called_tools(&self) -> bool {
        !self.calls.is_empty()
    }

    /// Close the open block, if any.
    pub fn close(&mut self, sink: &mut impl BlockSink) {
        if let Some(block) = self.open.take() {
            let signature = match block.kind {
                BlockKind::Reasoning => self.signature.take(),
                _ => None,
            };
            sink.stop(&block, signature.as_deref());
        }
    }

    fn open(&mut self, kind: BlockKind, call_id: String, name: String, sink: &mut impl BlockSink) {
        self.close(sink);
        let block = Block {
            index: self.opened,
            kind,
            call_id,
            name,
        };
        sink.start(&block);
        self.open = Some(block);
        self.opened += 1;
    }

    /// The open block, after opening one of `kind` when the open one is of another kind.
    fn ensure_open(&mut self, kind: BlockKind, sink: &mut impl BlockSink) -> &Block {
        if self.open.as_ref().map(|block| block.kind) != Some(kind) {
            self.open(kind, String::new(), String::new(), sink);
        }
        self.open.as_ref().expect("a block is open")
    }

    fn write(
        &mut self,
        kind: BlockKind,
        text: &str,
        logprobs: Option<&str>,
        sink: &mut impl BlockSink,
    ) {
        if !text.is_empty() {
            let block = self.ensure_open(kind, sink);
            sink.delta(block, text, logprobs);
        }
    }

    fn tool_call(&mut self, call: &ToolCallDelta, sink: &mut impl BlockSink) -> Result<()> {
        let kind = BlockKind::ToolCall(call.index);
        if self.open.as_ref().map(|block| block.kind) != Some(kind) {
            if !self.calls.insert(call.index) {
                return Err(Error::usage(format!(
                    "tool call {} got another fragment after its block closed; {} content blocks \
                     cannot interleave",
                    call.index, self.format
                )));
            }
            let call_id = match &call.id {
                Some(id) => id.clone(),
                None => generated_call_id(self.call_id_prefix, &self.response_id, call.index),
            };
            let name = call.function_name.clone().unwrap_or_default();
            self.open(kind, call_id, name, sink);
        }
        self.write(kind, &call.arguments_delta, None, sink);
        Ok(())
    }

    /// The chunk's content, in the order a model writes it: reasoning, text, refusal, a tool call.
    pub fn content(&mut self, chunk: &GenerationChunk, sink: &mut impl BlockSink) -> Result<()> {
        self.write(BlockKind::Reasoning, &chunk.reasoning_delta, None, sink);
        if let Some(signature) = &chunk.rare.reasoning_signature {
            // A signature with no reasoning block open gets an (empty) block of its own.
            self.ensure_open(BlockKind::Reasoning, sink);
            self.signature = Some(signature.clone());
        }
        self.write(
            BlockKind::Text,
            &chunk.text_delta,
            chunk.rare.logprobs.as_deref(),
            sink,
        );
        let refusal_kind = if self.refusal_as_text {
            BlockKind::Text
        } else {
            BlockKind::Refusal
        };
        self.write(refusal_kind, &chunk.rare.refusal_delta, None, sink);
        if let Some(call) = &chunk.tool_call_delta {
            self.tool_call(call, sink)?;
        }
        Ok(())
    }
}

/// A whole block: its identity and everything written to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholeBlock {
    pub block: Block,
    /// The text, reasoning, refusal or tool arguments, concatenated.
    pub text: String,
    pub signature: Option<String>,
    /// False while the block is open (a message that ended with an error may hold one).
    pub closed: bool,
    /// Text blocks: the token entries of the chunks' logprobs arrays, comma-separated,
    /// without brackets.
    pub logprobs: String,
}

/// The sink that keeps every block whole.
#[derive(Debug, Default)]
pub struct Collected {
    pub blocks: Vec<WholeBlock>,
}

impl Collected {
    /// The block written last (the open one while one is open).
    pub fn last(&self) -> Option<&WholeBlock> {
        self.blocks.last()
    }
}

/// The entries of a JSON array's text, without the brackets; None for anything else (a
/// logprobs object, `null`, an empty array).
fn array_entries(raw: &str) -> Option<&str> {
    let inner = raw.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
    (!inner.is_empty()).then_some(inner)
}

impl BlockSink for Collected {
    fn start(&mut self, block: &Block) {
        self.blocks.push(WholeBlock {
            block: block.clone(),
            text: String::new(),
            signature: None,
            closed: false,
            logprobs: String::new(),
        });
    }

    fn delta(&mut self, _block: &Block, text: &str, logprobs: Option<&str>) {
        if let Some(whole) = self.blocks.last_mut() {
            whole.text.push_str(text);
            if let Some(entries) = logprobs.and_then(array_entries) {
                if !whole.logprobs.is_empty() {
                    whole.logprobs.push(',');
                }
                whole.logprobs.push_str(entries);
            }
        }
    }

    fn stop(&mut self, _block: &Block, signature: Option<&str>) {
        if let Some(whole) = self.blocks.last_mut() {
            whole.closed = true;
            whole.signature = signature.map(str::to_owned);
        }
    }
}

/// Usage and stop information of a single-choice message.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub usage: Usage,
    /// The first finish reason any chunk carried.
    pub finish_reason: Option<FinishReason>,
    pub saw_refusal: bool,
}

impl Outcome {
    /// `prompt_tokens`: known up front (the envelope's), else reported by the chunks.
    pub fn new(prompt_tokens: Option<u64>) -> Outcome {
        Outcome {
            usage: Usage::new(prompt_tokens),
            ..Default::default()
        }
    }

    /// Take a chunk's usage and stop information (everything but its content).
    pub fn record(&mut self, chunk: &GenerationChunk, format: &str) -> Result<()> {
        if chunk.choice_index != 0 {
            return Err(Error::usage(format!(
                "{format} messages have a single choice, got a chunk with choice_index {}",
                chunk.choice_index
            )));
        }
        self.usage.take_latest(&chunk.rare);
        if self.finish_reason.is_none() {
            self.finish_reason = chunk.finish_reason;
        }
        self.saw_refusal |= !chunk.rare.refusal_delta.is_empty();
        Ok(())
    }
}

/// What an encoder does with a chunk ([`Message::step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The message already ended with an error: later chunks are ignored.
    Ignore,
    /// The chunk reports an error: write the format's error, which ends the message.
    Fail,
    /// Write the chunk's content ([`Blocks::content`]).
    Write,
}

/// A single-choice message under construction: its blocks and its outcome.
#[derive(Debug)]
pub struct Message {
    pub blocks: Blocks,
    pub outcome: Outcome,
    failed: bool,
}

impl Message {
    pub fn new(blocks: Blocks, prompt_tokens: Option<u64>) -> Message {
        Message {
            blocks,
            outcome: Outcome::new(prompt_tokens),
            failed: false,
        }
    }

    /// Record the chunk's usage and stop information, and say what to write for it.
    pub fn step(&mut self, chunk: &GenerationChunk) -> Result<Step> {
        if self.failed {
            return Ok(Step::Ignore);
        }
        self.outcome.record(chunk, self.blocks.format)?;
        if is_error(chunk) {
            self.failed = true;
            return Ok(Step::Fail);
        }
        Ok(Step::Write)
    }

    /// True once an error chunk ended the message.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Every chunk's content as whole blocks (for a non-streaming body); or, when a chunk
    /// reports an error, `None` once `write_error` has written the format's error body for it.
    pub fn collect<'a, I>(
        &mut self,
        chunks: I,
        write_error: impl FnOnce(&GenerationChunk),
    ) -> Result<Option<Collected>>
    where
        I: IntoIterator<Item = &'a GenerationChunk>,
    {
        let mut collected = Collected::default();
        for chunk in chunks {
            match self.step(chunk)? {
                Step::Ignore => {}
                Step::Fail => {
                    write_error(chunk);
                    return Ok(None);
                }
                Step::Write => self.blocks.content(chunk, &mut collected)?,
            }
        }
        self.blocks.close(&mut collected);
        Ok(Some(collected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::RareFields;

    /// Records the sink calls as text, to check the lifecycle.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl BlockSink for Log {
        fn start(&mut self, block: &Block) {
            self.0.push(format!(
                "start {} {:?} {} {}",
                block.index, block.kind, block.call_id, block.name
            ));
        }
        fn delta(&mut self, block: &Block, text: &str, logprobs: Option<&str>) {
            self.0
                .push(format!("delta {} {text} {logprobs:?}", block.index));
        }
        fn stop(&mut self, block: &Block, signature: Option<&str>) {
            self.0.push(format!("stop {} {signature:?}", block.index));
        }
    }

    fn call(index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) -> GenerationChunk {
        GenerationChunk::tool_call(ToolCallDelta {
            index,
            id: id.map(Into::into),
            function_name: name.map(Into::into),
            arguments_delta: arguments.into(),
        })
    }

    #[test]
    fn kinds_open_and_close_blocks_in_order() {
        let mut blocks = Blocks::new("test", "call_", "resp_abc", false);
        let mut log = Log::default();
        let signed = GenerationChunk {
            rare: RareFields {
                reasoning_signature: Some("sig".into()),
                ..RareFields::NONE
            }
            .into(),
            ..GenerationChunk::reasoning("b")
        };
        let chunks = [
            GenerationChunk::reasoning("a"),
            signed,
            GenerationChunk {
                rare: RareFields {
                    logprobs: Some("[1]".into()),
                    ..RareFields::NONE
                }
                .into(),
                ..GenerationChunk::text("t")
            },
            GenerationChunk::refusal("no"),
            call(0, Some("c0"), Some("f"), ""),
            call(0, None, None, "{}"),
            call(1, None, Some("g"), ""),
        ];
        for chunk in &chunks {
            blocks.content(chunk, &mut log).unwrap();
        }
        blocks.close(&mut log);
        blocks.close(&mut log); // nothing open: nothing written
        assert_eq!(
            log.0,
            [
                "start 0 Reasoning  ",
                "delta 0 a None",
                "delta 0 b None",
                "stop 0 Some(\"sig\")",
                "start 1 Text  ",
                "delta 1 t Some(\"[1]\")",
                "stop 1 None",
                "start 2 Refusal  ",
                "delta 2 no None",
                "stop 2 None",
                "start 3 ToolCall(0) c0 f",
                "delta 3 {} None",
                "stop 3 None",
                "start 4 ToolCall(1) call_abc_1 g",
                "stop 4 None",
            ]
        );
        assert!(blocks.called_tools());
    }

    #[test]
    fn refusal_as_text_shares_the_text_block() {
        let mut blocks = Blocks::new("test", "call_", "x", true);
        let mut collected = Collected::default();
        let chunk = GenerationChunk {
            rare: RareFields {
                refusal_delta: " no".into(),
                ..RareFields::NONE
            }
            .into(),
            ..GenerationChunk::text("I")
        };
        blocks.content(&chunk, &mut collected).unwrap();
        blocks.close(&mut collected);
        assert_eq!(collected.blocks.len(), 1);
        assert_eq!(collected.blocks[0].text, "I no");
        assert_eq!(collected.blocks[0].block.kind, BlockKind::Text);
    }

    #[test]
    fn a_closed_call_cannot_reopen() {
        let mut blocks = Blocks::new("anthropic", "toolu_", "x", true);
        let mut log = Log::default();
        blocks
            .content(&call(0, None, Some("f"), "{"), &mut log)
            .unwrap();
        blocks
            .content(&call(1, None, Some("g"), "{"), &mut log)
            .unwrap();
        let error = blocks
            .content(&call(0, None, None, "}"), &mut log)
            .unwrap_err()
            .to_string();
        assert!(error.contains("tool call 0") && error.contains("anthropic"));
    }

    #[test]
    fn collected_keeps_logprob_entries_of_arrays_only() {
        let mut blocks = Blocks::new("test", "call_", "x", false);
        let mut collected = Collected::default();
        for logprobs in ["[{\"a\":1}]", "{\"content\":[]}", "[]", " [ {\"b\":2} ] "] {
            let chunk = GenerationChunk {
                rare: RareFields {
                    logprobs: Some(logprobs.into()),
                    ..RareFields::NONE
                }
                .into(),
                ..GenerationChunk::text("x")
            };
            blocks.content(&chunk, &mut collected).unwrap();
        }
        assert_eq!(collected.last().unwrap().logprobs, "{\"a\":1},{\"b\":2}");
    }

    #[test]
    fn outcome_records_the_first_finish_reason_and_the_latest_usage() {
        let mut outcome = Outcome::new(None);
        assert!(!outcome.usage.tokens_known());
        let mut chunk = GenerationChunk::finish(FinishReason::Length);
        chunk.rare.completion_tokens = Some(3);
        outcome.record(&chunk, "test").unwrap();
        outcome
            .record(&GenerationChunk::finish(FinishReason::Stop), "test")
            .unwrap();
        assert_eq!(outcome.finish_reason, Some(FinishReason::Length));
        assert!(outcome.usage.tokens_known());
        let other_choice = GenerationChunk {
            choice_index: 1,
            ..Default::default()
        };
        let error = outcome.record(&other_choice, "vercel-ui").unwrap_err();
        assert!(error
            .to_string()
            .contains("vercel-ui messages have a single choice"));
    }
}
