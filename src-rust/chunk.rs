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
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GenerationChunk {
    pub text_delta: String,
    pub reasoning_delta: String,
    /// The signature that closes the reasoning so far (Anthropic `signature_delta`); set on
    /// the chunk that carries it, usually the last reasoning chunk.
    pub reasoning_signature: Option<String>,
    /// Text the model wrote as a refusal (OpenAI `delta.refusal`, Anthropic refusal stop).
    pub refusal_delta: String,
    pub done: bool,
    /// Set on the first chunk of a stream that carries any content (for TTFT).
    pub is_first: bool,
    pub finish_reason: Option<FinishReason>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub tool_call_delta: Option<ToolCallDelta>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// Provider log-probabilities as raw JSON text (an array); parsed lazily by the binding.
    pub logprobs: Option<Box<str>>,
    pub choice_index: u32,
    /// The stop string that ended the output, when one did.
    pub stop_sequence: Option<String>,
    /// The provider's own event (JSON text) this chunk came from, shared by every chunk it produced.
    pub raw: Option<SharedText>,
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
            tool_call_delta: Some(delta),
            ..Default::default()
        }
    }

    pub fn finish(reason: FinishReason) -> Self {
        GenerationChunk {
            done: true,
            finish_reason: Some(reason),
            ..Default::default()
        }
    }

    /// True when the chunk carries something a reader shows (text, reasoning, refusal or a call).
    pub fn has_content(&self) -> bool {
        !self.text_delta.is_empty()
            || !self.reasoning_delta.is_empty()
            || !self.refusal_delta.is_empty()
            || self.tool_call_delta.is_some()
    }
}
