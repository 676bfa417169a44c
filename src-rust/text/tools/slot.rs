//! One call in progress: announced once its name is known (id, name, any arguments that came
//! first), given back as text if it never gets a name, and the one place where a call's
//! problems become error chunks.

use super::super::emit::Emitter;
use super::scan::{is_json_ws, Expect};

pub const ERR_INVALID: &str = "tool_call_invalid";
pub const ERR_INCOMPLETE: &str = "tool_call_incomplete";
pub const ERR_TOO_LARGE: &str = "tool_call_too_large";

/// What went wrong with an announced call; offsets are stream characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem<'a> {
    /// The arguments stopped being JSON.
    InvalidJson { at: u64, reason: &'a str },
    /// Something else than the format's grammar allows.
    Unexpected { expected: &'a str, at: u64 },
    /// The stream ended inside `inside` ("the call", "the call's JSON", ...).
    Incomplete { inside: &'a str, at: u64 },
    /// `what` outgrew its cap.
    TooLarge { what: &'a str, limit: usize },
    /// Anything else, in words.
    Invalid(String),
}

impl Problem<'_> {
    fn code(&self) -> &'static str {
        match self {
            Problem::Incomplete { .. } => ERR_INCOMPLETE,
            Problem::TooLarge { .. } => ERR_TOO_LARGE,
            _ => ERR_INVALID,
        }
    }

    fn describe(&self) -> String {
        match self {
            Problem::InvalidJson { at, reason } => {
                format!("invalid JSON at character {at}: {reason}")
            }
            Problem::Unexpected { expected, at } => {
                format!("expected {expected} at character {at}")
            }
            Problem::Incomplete { inside, at } => {
                format!("the stream ended inside {inside} (at character {at})")
            }
            Problem::TooLarge { what, limit } => {
                format!("{what} exceeds the limit of {limit} bytes")
            }
            Problem::Invalid(detail) => detail.clone(),
        }
    }
}

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

    /// Blanks that come before a literal the format expects (none once the literal has begun
    /// to match), recorded as raw text; returns how many bytes of `rest` they are.
    pub fn blanks(&mut self, expect: &Expect, rest: &str) -> usize {
        if expect.matched() > 0 {
            return 0;
        }
        let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
        self.raw(&rest[..blank]);
        blank
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
        // The model's own id, unless it repeats one of this stream's (ids must be distinct).
        let id = match id {
            Some(id) if em.claim_id(&id) => id,
            _ => em.ids().openai_id(),
        };
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
            em.give_back(&self.raw);
        }
        self.reset();
    }

    /// Give a pending call back as text (no-op for announced calls).
    pub fn fallback(&mut self, em: &mut Emitter<'_>) {
        if self.phase == SlotPhase::Pending {
            em.give_back(&self.raw);
            self.reset();
        }
    }

    /// The call went wrong: an error chunk if it was announced, text if it was not.
    pub fn fail(&mut self, em: &mut Emitter<'_>, problem: Problem<'_>) {
        match self.phase {
            SlotPhase::Announced { index } => {
                let message = format!(
                    "tool call {index} ({}) starting at character {}: {}",
                    self.name,
                    self.started_at,
                    problem.describe()
                );
                em.error(problem.code(), message);
                self.reset();
            }
            SlotPhase::Pending => self.fallback(em),
            SlotPhase::Idle => {}
        }
    }

    /// End of stream inside the call: an error chunk naming `inside`, or text.
    pub fn fail_incomplete(&mut self, em: &mut Emitter<'_>, inside: &str) {
        let at = em.end_offset();
        self.fail(em, Problem::Incomplete { inside, at });
    }

    fn reset(&mut self) {
        self.phase = SlotPhase::Idle;
        self.raw.clear();
        self.early_arguments.clear();
    }
}
