//! Llama 3.1 / 3.2 / 4 JSON tool calls: an optional `<|python_tag|>`, then
//! `{"name": "f", "parameters": {...}}` (or `"arguments"`), several separated by `;`.
//!
//! There is no closing tag, and without `<|python_tag|>` a call is recognised only when the
//! answer starts with `{`. Such an answer that turns out not to be a call (no `"name"`) is given
//! back as text once its JSON ends, so with this format plain JSON answers arrive whole rather
//! than streamed.

use super::super::emit::Emitter;
use super::envelope::{Envelope, EnvelopeStep};
use super::{
    is_json_ws, CallSlot, Opener, Step, ToolContext, ToolSection, ERR_INCOMPLETE, ERR_INVALID,
};

const PYTHON_TAG: &str = "<|python_tag|>";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before an object: blanks, then `{`.
    Open,
    Envelope,
    /// After an object: `;` (or `{`) continues, anything else ends the section.
    Next,
}

pub struct Llama3Json {
    phase: Phase,
    slot: CallSlot,
    envelope: Envelope,
}

impl Llama3Json {
    pub fn new(context: ToolContext) -> Llama3Json {
        Llama3Json {
            phase: Phase::Open,
            slot: CallSlot::new(context.max_buffer),
            envelope: Envelope::new(context.max_buffer),
        }
    }
}

impl ToolSection for Llama3Json {
    fn start_markers(&self) -> &'static [&'static str] {
        &[PYTHON_TAG]
    }

    fn leading(&self) -> Option<char> {
        Some('{')
    }

    fn begin(&mut self, opener: Opener, offset: u64) {
        self.phase = Phase::Open;
        let raw = match opener {
            Opener::Marker(_) => PYTHON_TAG,
            Opener::Leading => "",
        };
        self.slot.begin(raw, offset);
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
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    }
                    self.envelope.reset();
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
                            self.phase = Phase::Next;
                        }
                        EnvelopeStep::Invalid { reason, .. } => {
                            if self.slot.is_announced() {
                                let detail = format!(
                                    "invalid JSON at character {}: {reason}",
                                    em.char_offset(text, pos)
                                );
                                self.slot.fail(em, ERR_INVALID, &detail);
                            } else {
                                self.slot.fallback(em);
                            }
                            // No closing tag to resynchronise on: the rest is text.
                            return Step::Ended { consumed: pos };
                        }
                    }
                }
                Phase::Next => {
                    let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
                    if blank == rest.len() {
                        // Blanks between calls (or after the last one) are dropped.
                        return Step::NeedMore;
                    }
                    let next = rest.as_bytes()[blank];
                    if next == b';' || next == b'{' {
                        pos += blank + usize::from(next == b';');
                        let offset = em.char_offset(text, pos);
                        self.slot.begin(if next == b';' { ";" } else { "" }, offset);
                        self.phase = Phase::Open;
                    } else {
                        return Step::Ended {
                            consumed: pos + blank,
                        };
                    }
                }
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        if self.phase == Phase::Envelope && self.slot.is_announced() {
            let detail = format!(
                "the stream ended inside the call's JSON (at character {})",
                em.end_offset()
            );
            self.slot.fail(em, ERR_INCOMPLETE, &detail);
        } else {
            self.slot.fallback(em);
        }
    }
}
