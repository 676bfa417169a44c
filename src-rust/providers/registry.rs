//! The provider table: name -> framing, capabilities and a reducer factory.
//! Each provider module adds its one entry here.

use super::bedrock::BedrockReducer;
use super::gemini::GeminiReducer;
use super::ollama::OllamaReducer;
use super::tgi::TgiReducer;
use super::Reducer;

/// How the provider's bytes are framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Sse,
    Ndjson,
    /// AWS `application/vnd.amazon.eventstream` binary frames.
    EventStream,
}

/// What a provider's streams can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub streaming: bool,
    pub tools: bool,
    pub reasoning: bool,
    pub usage: bool,
}

pub struct ProviderSpec {
    /// The `provider=` name (fixed by DESIGN.md).
    pub name: &'static str,
    pub framing: Framing,
    pub capabilities: Capabilities,
    pub new_reducer: fn() -> Box<dyn Reducer>,
}

/// Every provider, in the order DESIGN.md lists them.
pub static PROVIDERS: &[ProviderSpec] = &[
    // openai, openai-responses, anthropic, gemini, ollama, bedrock, tgi: one entry each.
    ProviderSpec {
        name: "gemini",
        framing: Framing::Sse,
        capabilities: Capabilities {
            streaming: true,
            tools: true,
            reasoning: true,
            usage: true,
        },
        new_reducer: || Box::new(GeminiReducer::new()),
    },
    ProviderSpec {
        name: "ollama",
        framing: Framing::Ndjson,
        capabilities: Capabilities {
            streaming: true,
            tools: true,
            reasoning: true,
            usage: true,
        },
        new_reducer: || Box::new(OllamaReducer::new()),
    },
    ProviderSpec {
        name: "bedrock",
        framing: Framing::EventStream,
        capabilities: Capabilities {
            streaming: true,
            tools: true,
            reasoning: true,
            usage: true,
        },
        new_reducer: || Box::new(BedrockReducer::new()),
    },
    ProviderSpec {
        name: "tgi",
        framing: Framing::Sse,
        capabilities: Capabilities {
            streaming: true,
            // /generate_stream is raw text generation: no tool calls or reasoning fields.
            tools: false,
            reasoning: false,
            usage: true,
        },
        new_reducer: || Box::new(TgiReducer::new()),
    },
];

pub fn lookup(name: &str) -> Option<&'static ProviderSpec> {
    PROVIDERS.iter().find(|spec| spec.name == name)
}
