//! Tool-call formats: how each model family writes calls in raw text, turned into
//! OpenAI-shaped deltas (one index per call, id and name on the first delta only, arguments as
//! JSON text appended as it arrives).
//!
//! The text parser finds where a tool section opens (a start marker, or for formats without
//! one the first non-blank character of the answer) and hands the following text to the
//! format's `ToolSection` until the section says it has ended.
//!
//! Malformed calls never raise. A call whose name was never established (not a call after all,
//! or cut off before its name was complete) is given back as ordinary text, exactly as the
//! model wrote it. Once a call has been announced its deltas stand; a later problem (invalid
//! arguments, a call still open at the end of the stream) adds one chunk with `error_code`
//! (`tool_call_invalid`, `tool_call_incomplete`, `tool_call_too_large`) and an
//! `error_message` giving the call index, name and character offsets.

mod deepseek_v3;
mod envelope;
mod glm45;
mod hermes;
mod json_args;
mod kimi_k2;
mod llama3_json;
mod mistral;
mod pythonic;
mod qwen3_coder;
mod xml_args;

use std::sync::Arc;

use super::emit::Emitter;
use super::schema::ToolSchemas;

/// The names accepted by `tools=`.
pub const TOOL_FORMATS: &[&str] = &[
    "hermes",
    "qwen3-coder",
    "mistral",
    "llama3-json",
    "pythonic",
    "deepseek-v3",
    "kimi-k2",
    "glm-4.5",
];

/// What opened a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opener {
    /// Start marker number `n` of the format's `start_markers()`.
    Marker(usize),
    /// The format's leading character, first non-blank character of the answer; it has not
    /// been consumed (the section sees it first).
    Leading,
}

/// How far a section got with a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Everything was consumed; the section is still open.
    NeedMore,
    /// The section ended after `consumed` bytes; the rest is ordinary text again.
    Ended { consumed: usize },
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
    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step;
    /// The hot case of long arguments: when all of `text` is plain argument text (the middle
    /// of a string value), pass it on and return true; `feed` is then not called.
    fn absorb(&mut self, _text: &str, _em: &mut Emitter<'_>) -> bool {
        false
    }
    /// End of stream inside the section.
    fn finish(&mut self, em: &mut Emitter<'_>);
}

/// Build the section parser for a `tools=` name.
pub fn section_for(name: &str, context: ToolContext) -> Option<Box<dyn ToolSection>> {
    Some(match name {
        "hermes" => Box::new(hermes::Hermes::new(context)),
        "qwen3-coder" => Box::new(qwen3_coder::Qwen3Coder::new(context)),
        "mistral" => Box::new(mistral::Mistral::new(context)),
        "llama3-json" => Box::new(llama3_json::Llama3Json::new(context)),
        "pythonic" => Box::new(pythonic::Pythonic::new(context)),
        "deepseek-v3" => Box::new(deepseek_v3::DeepSeekV3::new(context)),
        "kimi-k2" => Box::new(kimi_k2::KimiK2::new(context)),
        "glm-4.5" => Box::new(glm45::Glm45::new(context)),
        _ => return None,
    })
}

pub const ERR_INVALID: &str = "tool_call_invalid";
pub const ERR_INCOMPLETE: &str = "tool_call_incomplete";
pub const ERR_TOO_LARGE: &str = "tool_call_too_large";

#[derive(Debug, Clone, PartialEq, Eq)]
enum SlotPhase {
    Idle,
    /// Begun, name not yet known: its raw text is kept for a fallback to text.
    Pending,
    Announced {
        index: u32,
    },
}

/// One call in progress: announcement, arguments that arrived before the name, fallback.
#[derive(Debug, Clone)]
pub struct CallSlot {
    phase: SlotPhase,
    raw: String,
    early_arguments: String,
    name: String,
    started_at: u64,
    limit: usize,
}

impl CallSlot {
    pub fn new(limit: usize) -> CallSlot {
        CallSlot {
            phase: SlotPhase::Idle,
            raw: String::new(),
            early_arguments: String::new(),
            name: String::new(),
            started_at: 0,
            limit,
        }
    }

    /// A call begins with `opener` (its raw text so far) at stream offset `offset`.
    pub fn begin(&mut self, opener: &str, offset: u64) {
        self.phase = SlotPhase::Pending;
        self.raw.clear();
        self.raw.push_str(opener);
        self.early_arguments.clear();
        self.name.clear();
        self.started_at = offset;
    }

    pub fn is_idle(&self) -> bool {
        self.phase == SlotPhase::Idle
    }

    pub fn is_pending(&self) -> bool {
        self.phase == SlotPhase::Pending
    }

    pub fn is_announced(&self) -> bool {
        matches!(self.phase, SlotPhase::Announced { .. })
    }

    /// Record raw text consumed while the call is pending.
    #[inline]
    pub fn raw(&mut self, text: &str) {
        if self.phase == SlotPhase::Pending {
            self.raw.push_str(text);
        }
    }

    /// The part of `text` a pending call may still take before its raw text reaches the cap
    /// (all of it once the call is announced). When a pending call is left with nothing, the
    /// caller gives it up (`fallback`): the cut happens at the same stream position however
    /// the text was split.
    #[inline]
    pub fn allowance<'t>(&self, text: &'t str) -> &'t str {
        if self.phase != SlotPhase::Pending {
            return text;
        }
        let room = self.limit.saturating_sub(self.raw.len());
        if text.len() <= room {
            return text;
        }
        let mut cut = room;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        &text[..cut]
    }

    /// The call's name is known: send the first delta (with any arguments seen before).
    pub fn announce(&mut self, em: &mut Emitter<'_>, name: String, id: Option<String>) {
        if self.phase != SlotPhase::Pending {
            return;
        }
        let id = id.unwrap_or_else(|| em.ids().openai_id());
        self.name.clone_from(&name);
        let index = em.announce_call(id, name, &self.early_arguments);
        self.early_arguments.clear();
        self.raw.clear();
        self.phase = SlotPhase::Announced { index };
    }

    /// Argument text, in order. Held until the name is known.
    #[inline]
    pub fn arguments(&mut self, em: &mut Emitter<'_>, text: &str) {
        match self.phase {
            SlotPhase::Announced { index } => em.arguments(index, text),
            SlotPhase::Pending => self.early_arguments.push_str(text),
            SlotPhase::Idle => {}
        }
    }

    /// The call ended well. A call that never got a name goes back to text.
    pub fn complete(&mut self, em: &mut Emitter<'_>) {
        if self.phase == SlotPhase::Pending {
            em.text(&self.raw);
        }
        self.reset();
    }

    /// Give a pending call back as text (no-op for announced calls).
    pub fn fallback(&mut self, em: &mut Emitter<'_>) {
        if self.phase == SlotPhase::Pending {
            em.text(&self.raw);
            self.reset();
        }
    }

    /// The call went wrong: an error chunk if it was announced, text if it was not.
    pub fn fail(&mut self, em: &mut Emitter<'_>, code: &str, detail: &str) {
        match self.phase {
            SlotPhase::Announced { index } => {
                em.error(
                    code,
                    format!(
                        "tool call {index} ({}) starting at character {}: {detail}",
                        self.name, self.started_at
                    ),
                );
                self.reset();
            }
            SlotPhase::Pending => self.fallback(em),
            SlotPhase::Idle => {}
        }
    }

    fn reset(&mut self) {
        self.phase = SlotPhase::Idle;
        self.raw.clear();
        self.early_arguments.clear();
    }
}

#[inline]
pub fn is_json_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Number of leading JSON-whitespace bytes.
pub fn skip_ws(text: &str) -> usize {
    text.bytes().take_while(|&b| is_json_ws(b)).count()
}

/// Matches one of a few expected literals (tags) that may arrive split across pieces.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    matched: usize,
    /// Bit `i` set: literal `i` still agrees with what was matched.
    alive: u32,
}

/// Outcome of `Expect::feed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// All input matched a prefix of some literal.
    Partial,
    /// Literal `which` is complete after `consumed` bytes of this piece.
    Complete { which: usize, consumed: usize },
    /// The input diverges after `consumed` bytes of this piece; the text matched so far
    /// (possibly begun in earlier pieces) is `matched`, a prefix of the literals.
    Mismatch {
        consumed: usize,
        matched: &'static str,
    },
}

impl Expect {
    pub fn reset(&mut self) {
        self.matched = 0;
        self.alive = 0;
    }

    /// Bytes matched so far (0 when idle).
    pub fn matched(&self) -> usize {
        self.matched
    }

    /// The text matched so far (a prefix of the literals still possible).
    pub fn partial(&self, literals: &[&'static str]) -> &'static str {
        if self.matched == 0 {
            return "";
        }
        let n = (0..literals.len())
            .find(|&n| self.alive & (1 << n) != 0)
            .unwrap_or(0);
        &literals[n][..self.matched]
    }

    pub fn feed(&mut self, literals: &[&'static str], text: &str) -> Expected {
        debug_assert!(!literals.is_empty() && literals.len() <= 32);
        if self.matched == 0 {
            self.alive = (1u32 << literals.len()) - 1;
        }
        for (i, &b) in text.as_bytes().iter().enumerate() {
            let mut next = 0u32;
            let mut first_alive = None;
            for (n, literal) in literals.iter().enumerate() {
                if self.alive & (1 << n) == 0 {
                    continue;
                }
                first_alive.get_or_insert(n);
                if literal.as_bytes().get(self.matched) == Some(&b) {
                    next |= 1 << n;
                }
            }
            if next == 0 {
                let like = literals[first_alive.unwrap_or(0)];
                let matched = &like[..self.matched];
                self.reset();
                return Expected::Mismatch {
                    consumed: i,
                    matched,
                };
            }
            self.alive = next;
            self.matched += 1;
            if let Some(which) = (0..literals.len())
                .find(|&n| next & (1 << n) != 0 && literals[n].len() == self.matched)
            {
                self.reset();
                return Expected::Complete {
                    which,
                    consumed: i + 1,
                };
            }
        }
        Expected::Partial
    }
}

/// The model's name for a function, as written between markers: trimmed, non-empty, no
/// control characters or markup.
pub fn clean_name(raw: &str) -> Option<String> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= 256
        && !name.chars().any(|c| {
            c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | '{' | '}' | '"')
        });
    ok.then(|| name.to_owned())
}
