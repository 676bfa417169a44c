//! Reasoning sections: which markers open and close the model's reasoning.
//!
//! Text between the markers goes to `reasoning_delta`; the markers themselves are dropped.
//! Sections may open anywhere in the answer text (and more than once). Models that start
//! inside their reasoning (DeepSeek-R1, Qwen3.5 with `<think>` in the prompt, prompted chain
//! of thought) begin in a section; an opening marker that they still write before any
//! reasoning is dropped, one written later is kept as reasoning text.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasoningSpec {
    /// Markers that open a section in answer text.
    pub starts: Vec<String>,
    /// Markers that close a section (any of them).
    pub ends: Vec<String>,
    /// The output begins inside a section.
    pub starts_inside: bool,
    /// The `tools=` format whose reader reads this reasoning itself (Harmony's analysis
    /// channel); the markers above are then unused.
    pub reader: Option<&'static str>,
}

/// The names accepted by `reasoning=`, with what they mean.
pub const REASONING_FORMATS: &[&str] = &[
    "think",
    "deepseek-r1",
    "mistral",
    "seed-oss",
    "kimi",
    "cohere",
    "granite",
    "cot",
    "harmony",
];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl ReasoningSpec {
    /// A named format (see `REASONING_FORMATS`).
    pub fn named(name: &str) -> Option<ReasoningSpec> {
        let (starts, ends, starts_inside): (&[&str], &[&str], bool) = match name {
            // DeepSeek-R1 / Qwen3 / GLM-4.5 / Kimi K2 / MiniMax-M2 / Olmo 3 / Nemotron.
            "think" => (&["<think>"], &["</think>"], false),
            // Starts inside; `<think>` optional (DeepSeek-R1, Qwen3.5, Step-3).
            "deepseek-r1" => (&["<think>"], &["</think>"], true),
            // Mistral tokenizer v13+ (Magistral).
            "mistral" => (&["[THINK]"], &["[/THINK]"], false),
            "seed-oss" => (&["<seed:think>"], &["</seed:think>"], false),
            // Older Kimi models.
            "kimi" => (&["◁think▷"], &["◁/think▷"], false),
            "cohere" => (&["<|START_THINKING|>"], &["<|END_THINKING|>"], false),
            // Granite 3.2 plain-text phrases.
            "granite" => (
                &["Here's my thought process:", "Here is my thought process:"],
                &["Here's my response:", "Here is my response:"],
                false,
            ),
            // Prompted chain of thought (seeds/000): reasoning until "Answer:" or "Therefore:".
            "cot" => (&[], &["Answer:", "Therefore:"], true),
            // gpt-oss: the analysis channel, read by the Harmony reader (`text::harmony`).
            "harmony" => (&[], &[], false),
            _ => return None,
        };
        Some(ReasoningSpec {
            starts: strings(starts),
            ends: strings(ends),
            starts_inside,
            reader: (name == "harmony").then_some("harmony"),
        })
    }

    /// Custom markers: with no `starts` the output begins inside the reasoning.
    pub fn custom(starts: Vec<String>, ends: Vec<String>) -> Result<ReasoningSpec> {
        if ends.is_empty() {
            return Err(Error::usage(
                "reasoning_end needs at least one marker that ends the reasoning",
            ));
        }
        if starts.iter().chain(&ends).any(String::is_empty) {
            return Err(Error::usage("reasoning markers must not be empty strings"));
        }
        Ok(ReasoningSpec {
            reader: None,
            starts_inside: starts.is_empty(),
            starts,
            ends,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_resolves() {
        for name in REASONING_FORMATS {
            assert!(ReasoningSpec::named(name).is_some(), "{name}");
        }
        assert!(ReasoningSpec::named("thinking").is_none());
    }

    #[test]
    fn custom_markers_are_checked() {
        assert!(ReasoningSpec::custom(vec![], vec![]).is_err());
        assert!(ReasoningSpec::custom(vec![String::new()], vec!["x".into()]).is_err());
        let spec = ReasoningSpec::custom(vec![], vec!["Answer:".into()]).unwrap();
        assert!(spec.starts_inside);
    }
}
