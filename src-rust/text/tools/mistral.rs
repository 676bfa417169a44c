//! Mistral: `[TOOL_CALLS]` followed by
//!
//! * tokenizer v13+ (Magistral, Ministral-3, Devstral-2): `NAME[ARGS]{json}`, repeated with
//!   another `[TOOL_CALLS]` per call;
//! * v11: `NAME{json}` (and `NAME[CALL_ID]id[ARGS]{json}`, whose id is forwarded);
//! * older: a JSON array of `{"name": ..., "arguments": {...}}` objects.
//!
//! Generated ids are 9 alphanumerics, as Mistral's own tooling requires.

use super::super::emit::Emitter;
use super::envelope::{Envelope, EnvelopeStep};
use super::json_args::{ArgsStep, JsonArgs};
use super::{
    clean_name, is_json_ws, CallSlot, Expect, Expected, Opener, Step, ToolContext, ToolSection,
    ERR_INCOMPLETE, ERR_INVALID,
};

const TOOL_CALLS: &str = "[TOOL_CALLS]";
const ARGS: &str = "[ARGS]";
const CALL_ID: &str = "[CALL_ID]";
const MAX_NAME: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Right after `[TOOL_CALLS]`: `[` opens the old array form, anything else is a name.
    Start,
    Name,
    /// `[ARGS]` or `[CALL_ID]` after the name.
    Tag,
    CallId,
    Arguments,
    /// Old form: before an object, or between objects (`,` / `]`).
    ArrayItem {
        first: bool,
    },
    ArrayEnvelope,
    /// Old form, after an object.
    ArrayNext,
}

pub struct Mistral {
    phase: Phase,
    slot: CallSlot,
    expect: Expect,
    name: String,
    id: String,
    json: JsonArgs,
    envelope: Envelope,
}

impl Mistral {
    pub fn new(context: ToolContext) -> Mistral {
        Mistral {
            phase: Phase::Start,
            slot: CallSlot::new(context.max_buffer),
            expect: Expect::default(),
            name: String::new(),
            id: String::new(),
            json: JsonArgs::default(),
            envelope: Envelope::new(context.max_buffer),
        }
    }

    fn announce(&mut self, em: &mut Emitter<'_>) -> bool {
        let Some(name) = clean_name(&self.name) else {
            return false;
        };
        let id = if self.id.trim().is_empty() {
            em.ids().mistral_id()
        } else {
            self.id.trim().to_owned()
        };
        self.slot.announce(em, name, Some(id));
        true
    }

    /// An announced call went wrong: the rest of the section is unreadable, so it ends here
    /// and what follows is text again.
    fn fail(&mut self, em: &mut Emitter<'_>, detail: &str, consumed: usize) -> Step {
        self.slot.fail(em, ERR_INVALID, detail);
        Step::Ended { consumed }
    }
}

impl ToolSection for Mistral {
    fn start_markers(&self) -> &'static [&'static str] {
        &[TOOL_CALLS]
    }

    fn begin(&mut self, _opener: Opener, offset: u64) {
        self.phase = Phase::Start;
        self.slot.begin(TOOL_CALLS, offset);
        self.name.clear();
        self.id.clear();
        self.expect.reset();
    }

    #[inline]
    fn absorb(&mut self, text: &str, em: &mut Emitter<'_>) -> bool {
        if self.phase == Phase::Arguments && self.slot.is_announced() && self.json.absorbs(text) {
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
                Phase::Start => {
                    let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
                    self.slot.raw(&rest[..blank]);
                    pos += blank;
                    if pos == text.len() {
                        break;
                    }
                    self.phase = if text.as_bytes()[pos] == b'[' {
                        self.slot.raw("[");
                        pos += 1;
                        Phase::ArrayItem { first: true }
                    } else {
                        Phase::Name
                    };
                }
                Phase::Name => {
                    let end = rest.bytes().position(|b| b == b'[' || b == b'{');
                    let part = &rest[..end.unwrap_or(rest.len())];
                    self.slot.raw(part);
                    self.name.push_str(part);
                    pos += part.len();
                    if self.name.len() > MAX_NAME || part.contains('\n') {
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    }
                    let Some(end) = end else {
                        return Step::NeedMore;
                    };
                    if rest.as_bytes()[end] == b'{' {
                        // v11: the arguments follow the name directly.
                        if !self.announce(em) {
                            self.slot.fallback(em);
                            return Step::Ended { consumed: pos };
                        }
                        self.json.reset();
                        self.phase = Phase::Arguments;
                    } else {
                        self.phase = Phase::Tag;
                    }
                }
                Phase::Tag => match self.expect.feed(&[ARGS, CALL_ID], rest) {
                    Expected::Partial => {
                        return Step::NeedMore;
                    }
                    Expected::Complete { which, consumed } => {
                        pos += consumed;
                        if which == 0 {
                            self.slot.raw(ARGS);
                            if !self.announce(em) {
                                self.slot.fallback(em);
                                return Step::Ended { consumed: pos };
                            }
                            self.json.reset();
                            self.phase = Phase::Arguments;
                        } else {
                            self.slot.raw(CALL_ID);
                            self.phase = Phase::CallId;
                        }
                    }
                    Expected::Mismatch { consumed, matched } => {
                        self.slot.raw(matched);
                        self.slot.fallback(em);
                        return Step::Ended {
                            consumed: pos + consumed,
                        };
                    }
                },
                Phase::CallId => {
                    let end = rest.bytes().position(|b| b == b'[');
                    let part = &rest[..end.unwrap_or(rest.len())];
                    self.slot.raw(part);
                    self.id.push_str(part);
                    pos += part.len();
                    if self.id.len() > MAX_NAME {
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    }
                    if end.is_some() {
                        self.phase = Phase::Tag;
                    } else {
                        return Step::NeedMore;
                    }
                }
                Phase::Arguments => match self.json.feed(rest, &mut self.slot, em) {
                    ArgsStep::NeedMore => return Step::NeedMore,
                    ArgsStep::Done { consumed } => {
                        // The next call, if any, starts with its own `[TOOL_CALLS]`.
                        self.slot.complete(em);
                        return Step::Ended {
                            consumed: pos + consumed,
                        };
                    }
                    ArgsStep::Invalid { at, reason } => {
                        let detail = format!(
                            "invalid JSON at character {}: {reason}",
                            em.char_offset(rest, at)
                        );
                        return self.fail(em, &detail, pos + at);
                    }
                },
                Phase::ArrayItem { first } => {
                    let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
                    self.slot.raw(&rest[..blank]);
                    pos += blank;
                    if pos == text.len() {
                        break;
                    }
                    match text.as_bytes()[pos] {
                        b'{' => {
                            if !first {
                                let offset = em.char_offset(text, pos);
                                self.slot.begin("", offset);
                            }
                            self.envelope.reset();
                            self.phase = Phase::ArrayEnvelope;
                        }
                        b']' if first => {
                            self.slot.raw("]");
                            self.slot.fallback(em);
                            return Step::Ended { consumed: pos + 1 };
                        }
                        _ => {
                            self.slot.fallback(em);
                            return Step::Ended { consumed: pos };
                        }
                    }
                }
                Phase::ArrayEnvelope => {
                    // A nameless object may only hold so much before it is given up as text.
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
                    pos += consumed;
                    match step {
                        EnvelopeStep::NeedMore => continue,
                        EnvelopeStep::Done { .. } => {
                            if let Some((code, problem)) = self.envelope.problem() {
                                let detail = problem.to_owned();
                                self.slot.fail(em, code, &detail);
                            }
                            if self.slot.is_pending() {
                                self.slot.fallback(em);
                                return Step::Ended { consumed: pos };
                            }
                            self.slot.complete(em);
                            self.phase = Phase::ArrayNext;
                        }
                        EnvelopeStep::Invalid { reason, .. } => {
                            if self.slot.is_announced() {
                                let detail = format!(
                                    "invalid JSON at character {}: {reason}",
                                    em.char_offset(text, pos)
                                );
                                return self.fail(em, &detail, pos);
                            }
                            self.slot.fallback(em);
                            return Step::Ended { consumed: pos };
                        }
                    }
                }
                Phase::ArrayNext => {
                    pos += rest.bytes().take_while(|&b| is_json_ws(b)).count();
                    if pos == text.len() {
                        break;
                    }
                    match text.as_bytes()[pos] {
                        b',' => {
                            pos += 1;
                            self.phase = Phase::ArrayItem { first: false };
                        }
                        b']' => return Step::Ended { consumed: pos + 1 },
                        // No closing bracket: the rest is text.
                        _ => return Step::Ended { consumed: pos },
                    }
                }
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Arguments if self.slot.is_announced() => {
                if !self.json.not_started() && self.json.finish() {
                    self.slot.complete(em);
                } else {
                    let detail = format!(
                        "the stream ended inside the call's arguments (at character {})",
                        em.end_offset()
                    );
                    self.slot.fail(em, ERR_INCOMPLETE, &detail);
                }
            }
            Phase::ArrayEnvelope if self.slot.is_announced() => {
                let detail = format!(
                    "the stream ended inside the call's JSON (at character {})",
                    em.end_offset()
                );
                self.slot.fail(em, ERR_INCOMPLETE, &detail);
            }
            Phase::Tag => {
                let partial = self.expect.partial(&[ARGS, CALL_ID]);
                self.slot.raw(partial);
                self.slot.fallback(em);
            }
            _ => self.slot.fallback(em),
        }
    }
}
