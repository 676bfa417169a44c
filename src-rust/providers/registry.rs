//! The provider table: name -> framing, capabilities and a reducer factory.
//! Each provider module adds its one entry here.
//!
//! # Finish reasons
//!
//! Every stream ends with one `done` chunk per choice whose `finish_reason` is one of six
//! unified values. What each provider sends maps as follows (a value a provider adds later
//! maps to `stop` unless it is listed):
//!
//! | unified          | openai (and compatibles)                | openai-responses                      | anthropic                                  | gemini                                                        | ollama          | bedrock                                         | tgi                        |
//! |------------------|-----------------------------------------|---------------------------------------|--------------------------------------------|---------------------------------------------------------------|-----------------|-------------------------------------------------|----------------------------|
//! | `stop` | `stop`, `eos`, anything unknown | `completed` without tool calls | `end_turn`, `stop_sequence`, `pause_turn` | `STOP`, `FINISH_REASON_UNSPECIFIED`, anything unknown | `stop`, `load`, `unload`, absent | `end_turn`, `stop_sequence`, anything unknown | `eos_token`, `stop_sequence`, no `details` |
//! | `length` | `length`, `model_length`, `max_tokens` | `incomplete` (`max_output_tokens`) | `max_tokens`, `model_context_window_exceeded` | `MAX_TOKENS` | `length` | `max_tokens`, `model_context_window_exceeded` | `length` |
//! | `tool_calls` | `tool_calls`, `function_call` | `completed` with function calls | `tool_use` | `STOP` after function calls | `stop` after tool calls | `tool_use` | — |
//! | `content_filter` | `content_filter` | `incomplete` (`content_filter`) | `refusal` | `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`, `IMAGE_RECITATION`; a prompt blocked by `promptFeedback.blockReason` | — | `guardrail_intervened`, `content_filtered` | — |
//! | `cancelled` | `abort`, `cancelled` (vLLM) | `cancelled` | — | — | — | — | — |
//! | `error` | `error`, `insufficient_system_resource` | —  (`failed` raises `ProviderError`) | — | `MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`, `TOO_MANY_TOOL_CALLS`, `MISSING_THOUGHT_SIGNATURE`, `LANGUAGE`, `NO_IMAGE`, `IMAGE_OTHER`, `OTHER` (`error_code` = the reason) | — (`{"error"}` raises `ProviderError`) | — (exception frames raise `ProviderError`) | — (`{"error"}` raises `ProviderError`) |
//!
//! A stream that ends without any finish signal gets a terminal chunk with
//! `finish_reason="error"`, `error_code="incomplete_stream"`. A provider's own error event
//! (OpenAI `{"error": ...}`, Groq `event: error`, Anthropic `event: error`, Responses
//! `error` / `response.failed`) raises `ProviderError` instead, after the chunks before it.
//! The gemini, ollama, bedrock and tgi columns describe their modules' mapping.

use super::anthropic::AnthropicReducer;
use super::bedrock::BedrockReducer;
use super::gemini::GeminiReducer;
use super::ollama::OllamaReducer;
use super::openai::OpenAiReducer;
use super::openai_responses::ResponsesReducer;
use super::tgi::TgiReducer;
use super::Reducer;

pub use crate::framing::Framing;

/// What a provider's streams can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub streaming: bool,
    pub tools: bool,
    pub reasoning: bool,
    pub usage: bool,
}

/// Streams of text, reasoning, tool calls and usage: what a chat API sends.
const CHAT: Capabilities = Capabilities {
    streaming: true,
    tools: true,
    reasoning: true,
    usage: true,
};

/// Raw text generation (TGI's `/generate_stream`): no tool calls or reasoning fields.
const TEXT: Capabilities = Capabilities {
    tools: false,
    reasoning: false,
    ..CHAT
};

pub struct ProviderSpec {
    /// The `provider=` name (a public name: never renamed).
    pub name: &'static str,
    pub framing: Framing,
    pub capabilities: Capabilities,
    pub new_reducer: fn() -> Box<dyn Reducer>,
}

/// A row of the table: the provider `name`, reduced by `R`.
const fn spec<R: Reducer + Default + 'static>(
    name: &'static str,
    framing: Framing,
    capabilities: Capabilities,
) -> ProviderSpec {
    ProviderSpec {
        name,
        framing,
        capabilities,
        new_reducer: new_boxed::<R>,
    }
}

fn new_boxed<R: Reducer + Default + 'static>() -> Box<dyn Reducer> {
    Box::new(R::default())
}

/// Every provider, in the order the README lists them.
pub static PROVIDERS: &[ProviderSpec] = &[
    spec::<OpenAiReducer>("openai", Framing::Sse, CHAT),
    spec::<ResponsesReducer>("openai-responses", Framing::Sse, CHAT),
    spec::<AnthropicReducer>("anthropic", Framing::Sse, CHAT),
    spec::<GeminiReducer>("gemini", Framing::Sse, CHAT),
    spec::<OllamaReducer>("ollama", Framing::Ndjson, CHAT),
    spec::<BedrockReducer>("bedrock", Framing::EventStream, CHAT),
    spec::<TgiReducer>("tgi", Framing::Sse, TEXT),
];

pub fn lookup(name: &str) -> Option<&'static ProviderSpec> {
    PROVIDERS.iter().find(|spec| spec.name == name)
}
