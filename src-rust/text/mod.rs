//! Raw model text -> unified chunks: stop strings, reasoning sections and tool-call blocks,
//! for inference servers that receive text a few characters at a time.
//!
//! * `matcher`: finds markers in text that arrives in pieces, holding back only the longest
//!   suffix that can still grow into one (linear, never splits a character).
//! * `stop`, `sections`: stop-string and reasoning-marker configuration and semantics.
//! * `tools`: one module per tool-call format; `json` validates arguments in one pass.
//! * `parser`: `TextParser`, which puts them together.
//! * `models`: which formats a model writes, from its name.

pub mod emit;
pub mod harmony;
pub mod json;
pub mod matcher;
pub mod models;
pub mod parser;
pub mod pyliteral;
pub mod response_template;
pub mod schema;
pub mod sections;
pub mod stop;
pub mod tools;

pub use models::formats_for_model;
pub use parser::{TextParser, TextParserConfig, DEFAULT_MAX_BUFFER};
pub use response_template::{
    compile as compile_response_template, CompiledTemplate, TemplateError,
};
pub use schema::ToolSchemas;
pub use sections::{ReasoningSpec, REASONING_FORMATS};
pub use tools::TOOL_FORMATS;
