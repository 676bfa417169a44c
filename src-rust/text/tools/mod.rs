//! Tool-call formats: how each model family writes calls in raw text, turned into
//! OpenAI-shaped deltas (one index per call, id and name on the first delta only, arguments as
//! JSON text appended as it arrives).
//!
//! The text parser finds where a tool section opens (a start marker, or for formats without
//! one the first non-blank character of the answer) and hands the following text to the
//! format's `ToolSection` until the section says it has ended.
//!
//! The parts every format shares live here: `Step` (how far any scanner got), `CallSlot` (one
//! call's announcement, fallback and error chunk, with the one place error text is written),
//! `scan` (literals and names split across pieces) and the phases: `envelope` (the JSON
//! `{"name": .., "arguments": ..}` object, alone or in an array), `json_args` (JSON arguments
//! streamed through), `xml_args` (raw-text values typed by the request's schema) and
//! `pyliteral` (Python-literal values). A format in `formats/` is its markers and the order of
//! its phases; formats that differ only in marker strings are rows of one grammar table.
//!
//! Malformed calls never raise. A call whose name was never established (not a call after all,
//! or cut off before its name was complete) is given back as ordinary text, exactly as the
//! model wrote it. Once a call has been announced its deltas stand; a later problem (invalid
//! arguments, a call still open at the end of the stream) adds one chunk with `error_code`
//! (`tool_call_invalid`, `tool_call_incomplete`, `tool_call_too_large`) and an
//! `error_message` giving the call index, name and character offsets.

mod between;
mod custom;
mod envelope;
mod formats;
mod json_args;
mod scan;
mod slot;
mod xml_args;

use std::sync::Arc;

use super::emit::Emitter;
use super::schema::ToolSchemas;

pub use between::Between;
pub use custom::{intern, Body, CustomRow, GrammarRow, JsonRow, Untyped, XmlRow};
pub use json_args::JsonArgs;
pub use scan::{clean_name, is_json_ws, read_run, skip_ws, Expect, Expected, Recover, Run};
pub use slot::{CallSlot, Problem, ERR_INCOMPLETE, ERR_INVALID, ERR_TOO_LARGE};

/// How far a scanner got with a piece of text: a tool section, a call envelope, JSON or
/// Python-literal arguments all answer with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Everything was consumed; more is needed.
    NeedMore,
    /// What was being read (the section, the value) ended after `consumed` bytes; the rest
    /// belongs to whoever called.
    Ended { consumed: usize },
    /// Not well-formed at byte `at` (`at` may equal the input length at end of input).
    Invalid { at: usize, reason: &'static str },
}

/// The loop of a section's `feed`: `step` reads from a position and returns the next one
/// (`Ok`) or how the section stands (`Err`); the text used up means more is needed.
pub fn drive(text: &str, mut step: impl FnMut(usize) -> Result<usize, Step>) -> Step {
    let mut pos = 0;
    while pos < text.len() {
        match step(pos) {
            Ok(next) => pos = next,
            Err(outcome) => return outcome,
        }
    }
    Step::NeedMore
}

/// What opened a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opener {
    /// Start marker number `n` of the format's `start_markers()`.
    Marker(usize),
    /// The format's leading character, first non-blank character of the answer; it has not
    /// been consumed (the section sees it first).
    Leading,
}

/// Settings every format shares.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub schemas: Arc<ToolSchemas>,
    /// Cap on any text a section holds on to (a call's raw text before its name is known, a
    /// key, a typed value). Beyond it the call is abandoned (see the module docs).
    pub max_buffer: usize,
}

pub trait ToolSection: Send + Sync {
    /// Markers that open a section in ordinary text.
    fn start_markers(&self) -> &'static [&'static str];
    /// A character that opens a section when it is the first non-blank one of the answer.
    fn leading(&self) -> Option<char> {
        None
    }
    /// A section opens; `offset` is its position in the stream (characters).
    fn begin(&mut self, opener: Opener, offset: u64);
    /// Never `Step::Invalid`: a section deals with its own errors.
    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step;
    /// The hot case of long arguments: when all of `text` is plain argument text (the middle
    /// of a string value), pass it on and return true; `feed` is then not called.
    fn absorb(&mut self, _text: &str, _em: &mut Emitter<'_>) -> bool {
        false
    }
    /// End of stream inside the section.
    fn finish(&mut self, em: &mut Emitter<'_>);
}

type Builder = fn(ToolContext) -> Box<dyn ToolSection>;

/// Every `tools=` name with the parser that reads it (rows of the grammar tables in
/// `formats/`); `TOOL_FORMATS` lists the names.
const REGISTRY: &[(&str, Builder)] = &[
    ("hermes", |c| {
        formats::json_calls::build(&formats::json_calls::HERMES, c)
    }),
    ("qwen3-coder", |c| {
        formats::xml_calls::build(&formats::xml_calls::QWEN3_CODER, c)
    }),
    ("mistral", |c| Box::new(formats::mistral::Mistral::new(c))),
    ("llama3-json", |c| {
        formats::json_calls::build(&formats::json_calls::LLAMA3_JSON, c)
    }),
    ("pythonic", |c| {
        formats::pythonic::build(&formats::pythonic::PYTHONIC, c)
    }),
    ("deepseek-v3", formats::deepseek_v3::build),
    ("kimi-k2", formats::kimi_k2::build),
    ("glm-4.5", |c| Box::new(formats::glm45::Glm45::new(c))),
    // The formats below are written the same way as one above, or differ only in markers.
    ("deepseek-v3.1", formats::deepseek_v3::build),
    ("glm-4.7", |c| Box::new(formats::glm45::Glm45::new(c))),
    ("seed-oss", |c| {
        formats::xml_calls::build(&formats::xml_calls::SEED_OSS, c)
    }),
    ("qwen3-xml", |c| {
        formats::xml_calls::build(&formats::xml_calls::QWEN3_XML, c)
    }),
    ("minimax-m2", |c| {
        formats::xml_calls::build(&formats::xml_calls::MINIMAX_M2, c)
    }),
    ("deepseek-v3.2", |c| {
        formats::xml_calls::build(&formats::xml_calls::DEEPSEEK_V32, c)
    }),
    ("step3", |c| {
        formats::xml_calls::build(&formats::xml_calls::STEP3, c)
    }),
    ("granite", |c| {
        formats::json_calls::build(&formats::json_calls::GRANITE, c)
    }),
    ("xlam", |c| {
        formats::json_calls::build(&formats::json_calls::XLAM, c)
    }),
    ("internlm", |c| {
        formats::json_calls::build(&formats::json_calls::INTERNLM, c)
    }),
    ("phi4-mini", |c| {
        formats::json_calls::build(&formats::json_calls::PHI4_MINI, c)
    }),
    ("jamba", |c| {
        formats::json_calls::build(&formats::json_calls::JAMBA, c)
    }),
    ("hunyuan", |c| {
        formats::json_calls::build(&formats::json_calls::HUNYUAN, c)
    }),
    ("longcat", |c| {
        formats::json_calls::build(&formats::json_calls::LONGCAT, c)
    }),
    ("ernie45", |c| {
        formats::json_calls::build(&formats::json_calls::ERNIE45, c)
    }),
    ("cohere", |c| {
        formats::json_calls::build(&formats::json_calls::COHERE, c)
    }),
    ("olmo3", |c| {
        formats::pythonic::build(&formats::pythonic::OLMO3, c)
    }),
    ("lfm2", |c| {
        formats::pythonic::build(&formats::pythonic::LFM2, c)
    }),
    ("llama4-pythonic", |c| {
        formats::pythonic::build(&formats::pythonic::LLAMA4, c)
    }),
    ("gemma4", |c| Box::new(formats::gemma4::Gemma4::new(c))),
    ("minimax-m3", |c| {
        Box::new(formats::minimax_m3::MinimaxM3::new(c))
    }),
    // gpt-oss: reads the reasoning (analysis channel) and the text too.
    ("harmony", |c| Box::new(super::harmony::Harmony::new(c))),
];

/// The names accepted by `tools=`, in `REGISTRY` order.
pub const TOOL_FORMATS: &[&str] = &registry_names();

const fn registry_names() -> [&'static str; REGISTRY.len()] {
    let mut names = [""; REGISTRY.len()];
    let mut i = 0;
    while i < REGISTRY.len() {
        names[i] = REGISTRY[i].0;
        i += 1;
    }
    names
}

/// Build the section parser for a `tools=` name.
pub fn section_for(name: &str, context: ToolContext) -> Option<Box<dyn ToolSection>> {
    REGISTRY
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, build)| build(context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_builds_once() {
        let context = ToolContext {
            schemas: Arc::new(ToolSchemas::default()),
            max_buffer: 1024,
        };
        for (n, name) in TOOL_FORMATS.iter().enumerate() {
            assert!(!TOOL_FORMATS[..n].contains(name), "{name} twice");
            assert!(section_for(name, context.clone()).is_some(), "{name}");
        }
        assert!(section_for("nope", context).is_none());
    }
}
