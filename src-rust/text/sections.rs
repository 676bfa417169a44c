//! Reasoning sections: which markers open and close the model's reasoning.
//!
//! Every `reasoning=` name is a row of `REASONING_TABLE`: data, not code. Text between the
//! markers goes to `reasoning_delta`; the markers themselves are dropped. Sections may open
//! anywhere in the answer text (and more than once). Models that start inside their reasoning
//! (DeepSeek-R1, Qwen3.5 with `<think>` in the prompt, prompted chain of thought) begin in a
//! section; an opening marker that they still write before any reasoning is dropped, one
//! written later is kept as reasoning text.
//!
//! The other columns cover what some families do besides: a role label written right after
//! the opener (Gemma 4's `thought\n`), answer markers that are not text (Cohere's
//! `<|START_RESPONSE|>`, Hunyuan's `<answer>`, ERNIE's `<response>`, and the blanks those
//! two write after their markers), and "append-think"
//! (MiniMax-M2 as vLLM's `minimax_m2_append_think` serves it: the reasoning and its markers
//! stay in the answer text, the prefilled opener written in front).

use super::stop::check_markers;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReasoningSpec {
    /// Markers that open a section in answer text.
    pub starts: Vec<String>,
    /// Markers that close a section (any of them).
    pub ends: Vec<String>,
    /// The output begins inside a section.
    pub starts_inside: bool,
    /// A label the model writes right after the opener; dropped there, text anywhere else.
    pub label: Option<String>,
    /// Markers in the answer that are not text (dropped).
    pub drop: Vec<String>,
    /// Append-think: reasoning and its markers stay in the answer text.
    pub as_text: bool,
    /// Blanks right after the end marker or a dropped marker are not text (ERNIE, Hunyuan).
    pub trim_after: bool,
    /// The `tools=` format whose reader reads this reasoning itself (Harmony's analysis
    /// channel); the markers above are then unused.
    pub reader: Option<&'static str>,
}

/// One `reasoning=` name.
struct Row {
    name: &'static str,
    starts: &'static [&'static str],
    ends: &'static [&'static str],
    starts_inside: bool,
    label: Option<&'static str>,
    drop: &'static [&'static str],
    as_text: bool,
    trim_after: bool,
    reader: Option<&'static str>,
}

const THINK: (&[&str], &[&str]) = (&["<think>"], &["</think>"]);

/// A row with `<think>…</think>` markers and nothing else.
const fn think(name: &'static str, starts_inside: bool) -> Row {
    markers(name, THINK.0, THINK.1, starts_inside)
}

/// A row with other markers and nothing else.
const fn markers(
    name: &'static str,
    starts: &'static [&'static str],
    ends: &'static [&'static str],
    starts_inside: bool,
) -> Row {
    Row {
        name,
        starts,
        ends,
        starts_inside,
        label: None,
        drop: &[],
        as_text: false,
        trim_after: false,
        reader: None,
    }
}

/// Every `reasoning=` name (see the README's format table for the models that write each).
const REASONING_TABLE: &[Row] = &[
    // Models that write `<think>` themselves (DeepSeek-R1-0528, Qwen3 hybrid, MiniMax, ...).
    think("think", false),
    // Starts inside; `<think>` optional (DeepSeek-R1, Qwen3.5, Step-3).
    think("deepseek-r1", true),
    // Mistral tokenizer v13+ (Magistral).
    markers("mistral", &["[THINK]"], &["[/THINK]"], false),
    markers("seed-oss", &["<seed:think>"], &["</seed:think>"], false),
    // Older Kimi models.
    markers("kimi", &["◁think▷"], &["◁/think▷"], false),
    // Command A / R7B: the answer's markers are not text either.
    Row {
        drop: &[
            "<|START_RESPONSE|>",
            "<|END_RESPONSE|>",
            "<|START_TEXT|>",
            "<|END_TEXT|>",
        ],
        ..markers(
            "cohere",
            &["<|START_THINKING|>"],
            &["<|END_THINKING|>"],
            false,
        )
    },
    // Granite 3.2 plain-text phrases.
    markers(
        "granite",
        &["Here's my thought process:", "Here is my thought process:"],
        &["Here's my response:", "Here is my response:"],
        false,
    ),
    // Prompted chain of thought (seeds/000): reasoning until "Answer:" or "Therefore:".
    markers("cot", &[], &["Answer:", "Therefore:"], true),
    // Qwen3-Thinking-2507 / Qwen3.5+: `<think>` is in the prompt.
    think("qwen3", true),
    // GLM-4.5 / 4.6 / 4.7: the model writes `<think>` (an empty pair when thinking is off).
    think("glm-4.5", false),
    // Olmo 3 Think: the template may put `<think>` in the prompt.
    think("olmo3", true),
    // Nemotron 3 / Nano v2: read as DeepSeek-R1 (vLLM's nemotron_v3).
    think("nemotron", true),
    // Step-3: only `</think>` is generated.
    think("step3", true),
    // DeepSeek-V3.1 / V3.2 / V4 thinking mode: the prompt ends with `<think>`.
    think("deepseek-v3.1", true),
    think("deepseek-v3.2", true),
    // Kimi K2-Thinking / K2.5 (older Kimi: `kimi`).
    markers(
        "kimi-k2",
        &["<think>", "◁think▷"],
        &["</think>", "◁/think▷"],
        false,
    ),
    // Gemma 4: `<|channel>thought\n…<channel|>`; `thought\n` is a role label.
    Row {
        label: Some("thought\n"),
        ..markers("gemma4", &["<|channel>"], &["<channel|>"], false)
    },
    // Hunyuan-A13B: `<think>\n…\n</think>\n<answer>\n…\n</answer>`.
    Row {
        drop: &["<answer>", "</answer>"],
        trim_after: true,
        ..think("hunyuan", false)
    },
    // ERNIE-4.5 thinking: starts inside, then `</think>\n\n` and `<response>\n…\n</response>`.
    Row {
        drop: &["<response>", "</response>"],
        trim_after: true,
        ..think("ernie45", true)
    },
    // MiniMax-M2 append-think: everything is answer text, `<think>` (prefilled) in front.
    Row {
        as_text: true,
        ..think("minimax-m2", true)
    },
    // MiniMax-M3: `<mm:think>` may be prefilled.
    markers("minimax-m3", &["<mm:think>"], &["</mm:think>"], true),
    // LongCat-Flash Thinking: the opener is prefilled.
    markers("longcat", &["<longcat_think>"], &["</longcat_think>"], true),
    // gpt-oss: the analysis channel, read by the Harmony reader (`text::harmony`).
    Row {
        reader: Some("harmony"),
        ..markers("harmony", &[], &[], false)
    },
];

/// The names accepted by `reasoning=`, in table order.
pub const REASONING_FORMATS: &[&str] = &table_names();

const fn table_names() -> [&'static str; REASONING_TABLE.len()] {
    let mut names = [""; REASONING_TABLE.len()];
    let mut i = 0;
    while i < REASONING_TABLE.len() {
        names[i] = REASONING_TABLE[i].name;
        i += 1;
    }
    names
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl ReasoningSpec {
    /// A named format (see `REASONING_FORMATS`).
    pub fn named(name: &str) -> Option<ReasoningSpec> {
        let row = REASONING_TABLE.iter().find(|row| row.name == name)?;
        Some(ReasoningSpec {
            starts: strings(row.starts),
            ends: strings(row.ends),
            starts_inside: row.starts_inside,
            label: row.label.map(str::to_owned),
            drop: strings(row.drop),
            as_text: row.as_text,
            trim_after: row.trim_after,
            reader: row.reader,
        })
    }

    /// Custom markers: with no `starts` the output begins inside the reasoning.
    pub fn custom(starts: Vec<String>, ends: Vec<String>) -> Result<ReasoningSpec> {
        if ends.is_empty() {
            return Err(Error::usage(
                "reasoning_end needs at least one marker that ends the reasoning",
            ));
        }
        check_markers("reasoning_start", &starts)?;
        check_markers("reasoning_end", &ends)?;
        Ok(ReasoningSpec {
            reader: None,
            starts_inside: starts.is_empty(),
            starts,
            ends,
            ..ReasoningSpec::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_resolves_once() {
        for (n, name) in REASONING_FORMATS.iter().enumerate() {
            assert!(!REASONING_FORMATS[..n].contains(name), "{name} twice");
            let spec = ReasoningSpec::named(name).unwrap();
            if spec.reader.is_some() {
                continue; // read by its own reader, not by markers
            }
            assert!(!spec.ends.is_empty(), "{name}");
            assert!(spec.starts_inside || !spec.starts.is_empty(), "{name}");
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
