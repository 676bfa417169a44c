//! Hermes / Qwen2.5 / Qwen3 (JSON) / Granite 4:
//! `<tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>`, one call per block,
//! parallel calls as repeated blocks.
//!
//! The block ends where its JSON ends (a `</tool_call>` inside a string argument is just
//! text), followed by optional whitespace and `</tool_call>`. A block whose content is not a
//! JSON object, or an object without a usable `"name"`, is given back as text. If the closing
//! tag is missing the call still counts and what follows is ordinary text.

use std::sync::Arc;

use super::super::emit::Emitter;
use super::super::matcher::{MarkerScanner, Markers, Scan};
use super::envelope::{Envelope, EnvelopeStep};
use super::{
    is_json_ws, CallSlot, Expect, Expected, Opener, Step, ToolContext, ToolSection, ERR_INCOMPLETE,
    ERR_INVALID,
};

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between `<tool_call>` and the `{`.
    Open,
    Envelope,
    /// After the JSON: whitespace, then `</tool_call>`.
    Close,
    /// After invalid JSON in an announced call: skip to `</tool_call>`.
    Recover,
}

pub struct Hermes {
    phase: Phase,
    slot: CallSlot,
    envelope: Envelope,
    close: Expect,
    recover_markers: Arc<Markers>,
    recover: MarkerScanner,
}

impl Hermes {
    pub fn new(context: ToolContext) -> Hermes {
        Hermes {
            phase: Phase::Open,
            slot: CallSlot::new(context.max_buffer),
            envelope: Envelope::new(context.max_buffer),
            close: Expect::default(),
            recover_markers: Markers::shared(&[CLOSE]),
            recover: MarkerScanner::new(),
        }
    }
}

impl ToolSection for Hermes {
    fn start_markers(&self) -> &'static [&'static str] {
        &[OPEN]
    }

    fn begin(&mut self, _opener: Opener, offset: u64) {
        self.phase = Phase::Open;
        self.slot.begin(OPEN, offset);
        self.envelope.reset();
        self.close.reset();
        self.recover.reset();
    }

    #[inline]
    fn absorb(&mut self, text: &str, em: &mut Emitter<'_>) -> bool {
        if self.phase == Phase::Envelope && self.slot.is_announced() && self.envelope.absorbs(text)
        {
            self.slot.arguments(em, text);
            return true;
        }
        false
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        let mut pos = 0;
        while pos < text.len() {
            let rest = &text[pos..];
            match self.phase {
                Phase::Open => {
                    let allowed = self.slot.allowance(rest);
                    let blank = allowed.bytes().take_while(|&b| is_json_ws(b)).count();
                    self.slot.raw(&rest[..blank]);
                    pos += blank;
                    if pos == text.len() {
                        break;
                    }
                    if blank == allowed.len() || text.as_bytes()[pos] != b'{' {
                        // Not a JSON call (or blanks beyond the cap): the tag was just text.
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    }
                    self.phase = Phase::Envelope;
                }
                Phase::Envelope => {
                    let allowed = self.slot.allowance(rest);
                    if allowed.is_empty() {
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    }
                    let step = self.envelope.feed(allowed, &mut self.slot, em);
                    let consumed = match &step {
                        EnvelopeStep::NeedMore => allowed.len(),
                        EnvelopeStep::Done { consumed } => *consumed,
                        EnvelopeStep::Invalid { at, .. } => *at,
                    };
                    self.slot.raw(&allowed[..consumed]);
                    match step {
                        EnvelopeStep::NeedMore => {
                            pos += consumed;
                            continue;
                        }
                        EnvelopeStep::Done { consumed } => {
                            pos += consumed;
                            if let Some((code, problem)) = self.envelope.problem() {
                                let detail = problem.to_owned();
                                self.slot.fail(em, code, &detail);
                            }
                            // A call without a name goes back to text here.
                            if self.slot.is_pending() {
                                self.slot.fallback(em);
                                return Step::Ended { consumed: pos };
                            }
                            self.phase = Phase::Close;
                        }
                        EnvelopeStep::Invalid { at, reason } => {
                            if self.slot.is_announced() {
                                let detail = format!(
                                    "invalid JSON at character {}: {reason}",
                                    em.char_offset(rest, at)
                                );
                                self.slot.fail(em, ERR_INVALID, &detail);
                                pos += at;
                                self.phase = Phase::Recover;
                            } else {
                                self.slot.fallback(em);
                                return Step::Ended { consumed: pos + at };
                            }
                        }
                    }
                }
                Phase::Close => {
                    if self.close.matched() == 0 {
                        let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
                        pos += blank;
                        if pos == text.len() {
                            break;
                        }
                    }
                    match self.close.feed(&[CLOSE], &text[pos..]) {
                        Expected::Partial => return Step::NeedMore,
                        Expected::Complete { consumed, .. } => {
                            self.slot.complete(em);
                            return Step::Ended {
                                consumed: pos + consumed,
                            };
                        }
                        Expected::Mismatch { consumed, matched } => {
                            // No closing tag: the call stands, what follows is text.
                            self.slot.complete(em);
                            em.text(matched);
                            return Step::Ended {
                                consumed: pos + consumed,
                            };
                        }
                    }
                }
                Phase::Recover => match self.recover.scan(&self.recover_markers, rest, |_| {}) {
                    Scan::Pending => return Step::NeedMore,
                    Scan::Found { consumed, .. } => {
                        return Step::Ended {
                            consumed: pos + consumed,
                        };
                    }
                },
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Open => self.slot.fallback(em),
            Phase::Envelope => {
                if self.slot.is_announced() {
                    let detail = format!(
                        "the stream ended inside the call's JSON (at character {})",
                        em.end_offset()
                    );
                    self.slot.fail(em, ERR_INCOMPLETE, &detail);
                } else {
                    self.slot.fallback(em);
                }
            }
            // A complete call whose closing tag never came still counts.
            Phase::Close => self.slot.complete(em),
            Phase::Recover => {}
        }
    }
}
