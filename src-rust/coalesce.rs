//! Merging runs of small text / reasoning / refusal deltas into chunks of at least `min_chars`
//! characters (the core of Python's `fastsse.streams.coalesce_text`). Sans-IO: each pushed chunk
//! yields a few [`Step`]s telling the caller what to hand out, in order.
//!
//! Only chunks that carry one kind of delta (plus, optionally, running usage counts) are merged,
//! and only with neighbours of the same kind and `choice_index`. Any other chunk (a tool-call
//! delta, a finish reason, the done chunk, an error, logprobs, a stop sequence, a reasoning
//! signature, redacted thinking, citations) is a barrier: what is pending is released first, then the chunk passes through
//! unchanged. A run of one chunk is handed out as it came; a longer run becomes one new chunk
//! (no `raw`) holding the joined deltas, the first chunk's `is_first` and the latest usage.

use crate::chunk::{GenerationChunk, Usage};

/// Which delta a mergeable chunk carries (`Empty`: none, e.g. a usage-only chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaKind {
    Empty,
    Text,
    Reasoning,
    Refusal,
}

/// `(kind, delta)` of a chunk that may be merged; None for a barrier.
pub fn classify(chunk: &GenerationChunk) -> Option<(DeltaKind, &str)> {
    if chunk.tool_call_delta.is_some()
        || chunk.done
        || chunk.finish_reason.is_some()
        || chunk.rare.error_message.is_some()
        || chunk.rare.error_code.is_some()
        || chunk.rare.stop_sequence.is_some()
        || chunk.rare.logprobs.is_some()
        || chunk.rare.reasoning_signature.is_some()
        || chunk.rare.redacted_thinking.is_some()
        || chunk.rare.citations.is_some()
    {
        return None;
    }
    let deltas = [
        (DeltaKind::Text, chunk.text_delta.as_str()),
        (DeltaKind::Reasoning, chunk.reasoning_delta.as_str()),
        (DeltaKind::Refusal, chunk.rare.refusal_delta.as_str()),
    ];
    let mut carried = deltas.into_iter().filter(|(_, delta)| !delta.is_empty());
    match (carried.next(), carried.next()) {
        (None, _) => Some((DeltaKind::Empty, "")),
        (Some(one), None) => Some(one),
        (Some(_), Some(_)) => None, // two kinds in one chunk: never merged
    }
}

/// What the caller hands out, in order, for one `push` / `flush`.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// The pending run was one chunk: hand out that chunk as it came.
    ReleaseFirst,
    /// The pending run, merged into one new chunk (boxed: one allocation per merged run keeps
    /// the other steps small).
    ReleaseMerged(Box<GenerationChunk>),
    /// The pushed chunk begins a new run (the caller keeps it, for a later `ReleaseFirst`).
    Start,
    /// The pushed chunk is a barrier: hand it out as it came.
    Pass,
}

#[derive(Debug)]
pub struct Coalescer {
    min_chars: usize,
    run_len: usize,
    kind: DeltaKind,
    joined: String,
    chars: usize,
    is_first: bool,
    choice_index: u32,
    /// Token counts the run carried (a chunk with a stop sequence is a barrier, never in a run).
    usage: Usage,
}

impl Coalescer {
    /// `min_chars` must be at least 1 (the binding checks and names the argument).
    pub fn new(min_chars: usize) -> Coalescer {
        Coalescer {
            min_chars: min_chars.max(1),
            run_len: 0,
            kind: DeltaKind::Empty,
            joined: String::new(),
            chars: 0,
            is_first: false,
            choice_index: 0,
            usage: Usage::default(),
        }
    }

    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// Take in one chunk; append what to hand out to `steps`.
    pub fn push(&mut self, chunk: &GenerationChunk, steps: &mut Vec<Step>) {
        let Some((kind, delta)) = classify(chunk) else {
            return self.push_barrier(steps);
        };
        let other_kind =
            kind != DeltaKind::Empty && self.kind != DeltaKind::Empty && kind != self.kind;
        if self.run_len > 0 && (other_kind || chunk.choice_index != self.choice_index) {
            self.release(steps);
        }
        if self.run_len == 0 {
            steps.push(Step::Start);
            self.is_first = chunk.is_first;
            self.choice_index = chunk.choice_index;
        }
        self.run_len += 1;
        if kind != DeltaKind::Empty {
            self.kind = kind;
            self.joined.push_str(delta);
            self.chars += delta.chars().count();
        }
        self.usage.take_latest(&chunk.rare);
        if self.chars >= self.min_chars {
            self.release(steps);
        }
    }

    /// Take in a chunk the caller knows to be a barrier (one carrying a field the core does not
    /// see, such as logprobs given by the binding's caller).
    pub fn push_barrier(&mut self, steps: &mut Vec<Step>) {
        self.release(steps);
        steps.push(Step::Pass);
    }

    /// The end of the stream: release what is pending.
    pub fn flush(&mut self, steps: &mut Vec<Step>) {
        self.release(steps);
    }

    fn release(&mut self, steps: &mut Vec<Step>) {
        match self.run_len {
            0 => return,
            1 => {
                self.joined.clear();
                steps.push(Step::ReleaseFirst);
            }
            _ => {
                let joined = std::mem::take(&mut self.joined);
                let (text, reasoning, refusal) = match self.kind {
                    DeltaKind::Text => (joined, String::new(), String::new()),
                    DeltaKind::Reasoning => (String::new(), joined, String::new()),
                    DeltaKind::Refusal => (String::new(), String::new(), joined),
                    DeltaKind::Empty => Default::default(),
                };
                let mut merged = GenerationChunk {
                    text_delta: text,
                    reasoning_delta: reasoning,
                    is_first: self.is_first,
                    choice_index: self.choice_index,
                    ..Default::default()
                };
                // Rare fields allocate when written: write only those the run carried.
                if !refusal.is_empty() {
                    merged.rare.refusal_delta = refusal;
                }
                if !self.usage.is_empty() {
                    self.usage.write_to(&mut merged.rare);
                }
                steps.push(Step::ReleaseMerged(Box::new(merged)));
            }
        }
        self.run_len = 0;
        self.kind = DeltaKind::Empty;
        self.chars = 0;
        self.usage = Usage::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{FinishReason, RareFields, ToolCallDelta};

    /// Run `chunks` through a coalescer; returns what comes out (a run of one as its chunk).
    fn coalesce(chunks: &[GenerationChunk], min_chars: usize) -> Vec<GenerationChunk> {
        let mut coalescer = Coalescer::new(min_chars);
        let mut out = Vec::new();
        let mut first: Option<GenerationChunk> = None;
        let mut steps = Vec::new();
        let mut handle = |steps: &mut Vec<Step>, chunk: Option<&GenerationChunk>| {
            for step in steps.drain(..) {
                match step {
                    Step::ReleaseFirst => out.push(first.take().unwrap()),
                    Step::ReleaseMerged(merged) => out.push(*merged),
                    Step::Start => first = chunk.cloned(),
                    Step::Pass => out.push(chunk.unwrap().clone()),
                }
            }
        };
        for chunk in chunks {
            coalescer.push(chunk, &mut steps);
            handle(&mut steps, Some(chunk));
        }
        coalescer.flush(&mut steps);
        handle(&mut steps, None);
        out
    }

    #[test]
    fn merges_runs_up_to_min_chars_and_keeps_barriers_in_place() {
        let mut first = GenerationChunk::text("ab");
        first.is_first = true;
        let call = GenerationChunk::tool_call(ToolCallDelta {
            index: 0,
            arguments_delta: "{}".into(),
            ..Default::default()
        });
        let chunks = [
            first,
            GenerationChunk::text("cd"),
            GenerationChunk::text("e"),
            call.clone(),
            GenerationChunk::text("f"),
            GenerationChunk::finish(FinishReason::Stop),
        ];
        let out = coalesce(&chunks, 4);
        let mut merged = GenerationChunk::text("abcd");
        merged.is_first = true;
        assert_eq!(
            out,
            [
                merged,
                GenerationChunk::text("e"),
                call,
                GenerationChunk::text("f"),
                GenerationChunk::finish(FinishReason::Stop)
            ]
        );
    }

    #[test]
    fn kinds_and_choices_are_never_mixed_and_usage_keeps_the_latest() {
        let usage = GenerationChunk {
            rare: RareFields {
                prompt_tokens: Some(3),
                completion_tokens: Some(1),
                ..RareFields::NONE
            }
            .into(),
            ..Default::default()
        };
        let mut later = GenerationChunk::text("b");
        later.rare.completion_tokens = Some(2);
        let mut other_choice = GenerationChunk::text("c");
        other_choice.choice_index = 1;
        let chunks = [
            GenerationChunk::reasoning("r"),
            GenerationChunk::text("a"),
            usage,
            later,
            other_choice.clone(),
        ];
        let mut text = GenerationChunk::text("ab");
        text.rare.prompt_tokens = Some(3);
        text.rare.completion_tokens = Some(2);
        assert_eq!(
            coalesce(&chunks, 100),
            [GenerationChunk::reasoning("r"), text, other_choice]
        );
    }

    #[test]
    fn characters_not_bytes_count_toward_min_chars() {
        let chunks = [GenerationChunk::text("é"), GenerationChunk::text("é")];
        assert_eq!(coalesce(&chunks, 3), [GenerationChunk::text("éé")]);
        assert_eq!(coalesce(&chunks, 2), [GenerationChunk::text("éé")]);
        assert_eq!(coalesce(&chunks, 1), chunks);
    }
}
