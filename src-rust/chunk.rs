//! The unified LLM stream item (docs/ARCHITECTURE.md): what every provider reducer and the
//! text parser produce, and what the encoders consume.

use crate::shared_text::SharedText;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinishReason {
    Stop,
    Length,
    Cancelled,
    ToolCalls,
    ContentFilter,
    Error,
}

impl FinishReason {
    pub const ALL: [FinishReason; 6] = [
        FinishReason::Stop,
        FinishReason::Length,
        FinishReason::Cancelled,
        FinishReason::ToolCalls,
        FinishReason::ContentFilter,
        FinishReason::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::Cancelled => "cancelled",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Error => "error",
        }
    }

    pub fn parse(name: &str) -> Option<FinishReason> {
        FinishReason::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// One OpenAI-shaped tool-call fragment. `id` and `function_name` are set on a call's first
/// fragment only; `arguments_delta` is the model's own JSON text, appended in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCallDelta {
    pub index: u32,
    pub id: Option<String>,
    pub function_name: Option<String>,
    pub arguments_delta: String,
}

/// One item of the unified stream. Every field defaults to "nothing here".
///
/// Layout: the fields most chunks carry (deltas, flags, the finish reason, `raw`) are inline;
/// a tool-call fragment is boxed, and the fields a stream sets a few times at most (usage,
/// errors, signatures, refusals, logprobs, citations...) live out of line in [`Rare`], which
/// allocates only when one of them is set. This keeps the struct at 88 bytes (see
/// docs/chunks.md, "Size").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GenerationChunk {
    pub text_delta: String,
    pub reasoning_delta: String,
    pub tool_call_delta: Option<Box<ToolCallDelta>>,
    /// The provider's own event (JSON text) this chunk came from, shared by every chunk it produced.
    pub raw: Option<SharedText>,
    /// The rarely set fields, read as `chunk.rare.error_code` and written the same way.
    pub rare: Rare,
    pub choice_index: u32,
    pub done: bool,
    /// Set on the first chunk of a stream that carries any content (for TTFT).
    pub is_first: bool,
    pub finish_reason: Option<FinishReason>,
}

/// The fields a stream sets on a few chunks at most. Kept behind one pointer in
/// [`GenerationChunk::rare`] so that the common chunk (a text delta) stays small.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RareFields {
    /// The signature that closes the reasoning so far (Anthropic `signature_delta`); set on
    /// the chunk that carries it, usually the last reasoning chunk.
    pub reasoning_signature: Option<String>,
    /// An Anthropic `redacted_thinking` block's opaque `data`, to be sent back unchanged in
    /// the next assistant turn.
    pub redacted_thinking: Option<String>,
    /// Text the model wrote as a refusal (OpenAI `delta.refusal`, Anthropic refusal stop).
    pub refusal_delta: String,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// Provider log-probabilities as raw JSON text (an array); parsed lazily by the binding.
    pub logprobs: Option<Box<str>>,
    /// Citations of the text block this chunk is in, as raw JSON text (an array of the
    /// provider's citation objects: Anthropic `citations_delta`); parsed lazily by the binding.
    pub citations: Option<Box<str>>,
    /// The stop string that ended the output, when one did.
    pub stop_sequence: Option<String>,
}

impl RareFields {
    /// Every field empty (what a chunk without rare fields reads).
    pub const NONE: RareFields = RareFields {
        reasoning_signature: None,
        redacted_thinking: None,
        refusal_delta: String::new(),
        prompt_tokens: None,
        completion_tokens: None,
        error_code: None,
        error_message: None,
        logprobs: None,
        citations: None,
        stop_sequence: None,
    };
}

static NO_RARE_FIELDS: RareFields = RareFields::NONE;

/// What a stream reported so far about its size and its stop: token counts and the stop
/// string. Any chunk may carry some of them, and the latest value of each wins (providers send
/// running totals). Every consumer that keeps a stream's outcome (the collector, the encoders,
/// the coalescer) keeps one of these.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub stop_sequence: Option<String>,
}

impl Usage {
    /// `prompt_tokens` known up front (a request's), else reported by the chunks.
    pub fn new(prompt_tokens: Option<u64>) -> Usage {
        Usage {
            prompt_tokens,
            ..Usage::default()
        }
    }

    /// Take the values a chunk carries; keep the others.
    pub fn take_latest(&mut self, rare: &RareFields) {
        if rare.prompt_tokens.is_some() {
            self.prompt_tokens = rare.prompt_tokens;
        }
        if rare.completion_tokens.is_some() {
            self.completion_tokens = rare.completion_tokens;
        }
        if rare.stop_sequence.is_some() {
            self.stop_sequence.clone_from(&rare.stop_sequence);
        }
    }

    /// True when some token count is known (formats write `usage: null` otherwise).
    pub fn tokens_known(&self) -> bool {
        self.prompt_tokens.is_some() || self.completion_tokens.is_some()
    }

    /// True when nothing was reported.
    pub fn is_empty(&self) -> bool {
        !self.tokens_known() && self.stop_sequence.is_none()
    }

    /// Write these values on a chunk's rare fields (the chunk that reports them).
    pub fn write_to(&self, rare: &mut RareFields) {
        rare.prompt_tokens = self.prompt_tokens;
        rare.completion_tokens = self.completion_tokens;
        rare.stop_sequence.clone_from(&self.stop_sequence);
    }
}

/// [`RareFields`] out of line: reading a field of an absent box reads an empty field, writing
/// one allocates the box. Two `Rare`s are equal when their fields are, boxed or not.
#[derive(Debug, Clone, Default)]
pub struct Rare(Option<Box<RareFields>>);

impl Rare {
    /// Only `logprobs`, allocating only when there are some (most text chunks have none).
    pub fn logprobs(logprobs: Option<Box<str>>) -> Rare {
        Rare(logprobs.map(|logprobs| {
            Box::new(RareFields {
                logprobs: Some(logprobs),
                ..RareFields::NONE
            })
        }))
    }

    /// Whether any rare field was ever written (the box exists).
    pub fn is_allocated(&self) -> bool {
        self.0.is_some()
    }
}

impl From<RareFields> for Rare {
    fn from(fields: RareFields) -> Self {
        Rare(Some(Box::new(fields)))
    }
}

impl std::ops::Deref for Rare {
    type Target = RareFields;
    fn deref(&self) -> &RareFields {
        self.0.as_deref().unwrap_or(&NO_RARE_FIELDS)
    }
}

impl std::ops::DerefMut for Rare {
    fn deref_mut(&mut self) -> &mut RareFields {
        self.0.get_or_insert_with(Default::default)
    }
}

impl PartialEq for Rare {
    fn eq(&self, other: &Rare) -> bool {
        **self == **other
    }
}

impl GenerationChunk {
    pub fn text(text: impl Into<String>) -> Self {
        GenerationChunk {
            text_delta: text.into(),
            ..Default::default()
        }
    }

    pub fn reasoning(text: impl Into<String>) -> Self {
        GenerationChunk {
            reasoning_delta: text.into(),
            ..Default::default()
        }
    }

    pub fn tool_call(delta: ToolCallDelta) -> Self {
        GenerationChunk {
            tool_call_delta: Some(Box::new(delta)),
            ..Default::default()
        }
    }

    /// A chunk carrying only refusal text.
    pub fn refusal(text: impl Into<String>) -> Self {
        GenerationChunk::with_rare(RareFields {
            refusal_delta: text.into(),
            ..RareFields::NONE
        })
    }

    /// A chunk carrying only the signature that closes the reasoning so far.
    pub fn signature(signature: impl Into<String>) -> Self {
        GenerationChunk::with_rare(RareFields {
            reasoning_signature: Some(signature.into()),
            ..RareFields::NONE
        })
    }

    pub fn finish(reason: FinishReason) -> Self {
        GenerationChunk {
            done: true,
            finish_reason: Some(reason),
            ..Default::default()
        }
    }

    /// A chunk carrying only rare fields (a signature, usage, an error...).
    pub fn with_rare(fields: RareFields) -> Self {
        GenerationChunk {
            rare: fields.into(),
            ..Default::default()
        }
    }

    /// True when the chunk carries something a reader shows (text, reasoning, refusal or a call).
    pub fn has_content(&self) -> bool {
        !self.text_delta.is_empty()
            || !self.reasoning_delta.is_empty()
            || !self.rare.refusal_delta.is_empty()
            || self.tool_call_delta.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chunk_stays_small() {
        // The binding's object is this plus a lazily filled cache and the Python header;
        // docs/ARCHITECTURE.md gives the measured sizes.
        assert_eq!(std::mem::size_of::<GenerationChunk>(), 88);
    }

    #[test]
    fn rare_fields_read_empty_and_allocate_on_write() {
        let mut chunk = GenerationChunk::text("hi");
        assert_eq!(chunk.rare.error_code, None);
        assert!(chunk.rare.refusal_delta.is_empty());
        assert!(!chunk.rare.is_allocated());
        chunk.rare.error_code = Some("x".into());
        assert!(chunk.rare.is_allocated());
        assert_eq!(chunk.rare.error_code.as_deref(), Some("x"));
    }

    #[test]
    fn an_empty_box_equals_no_box() {
        let mut written = GenerationChunk::text("hi");
        written.rare.error_code = None;
        assert!(written.rare.is_allocated());
        assert_eq!(written, GenerationChunk::text("hi"));
        let signed = GenerationChunk::with_rare(RareFields {
            reasoning_signature: Some("s".into()),
            ..RareFields::NONE
        });
        assert_ne!(signed, GenerationChunk::default());
    }
}
