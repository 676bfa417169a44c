//! Between the calls of a section that holds several (DeepSeek V3, Kimi K2, MiniMax-M3): blanks,
//! then the literal that begins the next call or one that ends the section.
//!
//! A section that ends before its first call (empty, or not a section after all) goes back as
//! text, its opener included. After calls, the calls stand and only what was matched of a
//! literal goes back: a section without its end marker is followed by ordinary text.

use super::super::emit::Emitter;
use super::{CallSlot, Expect, Expected, Step};

#[derive(Debug, Clone)]
pub struct Between {
    /// The literal that begins a call, then those that end the section.
    literals: &'static [&'static str],
    expect: Expect,
    /// Calls read in this section so far.
    calls: usize,
}

impl Between {
    pub fn new(literals: &'static [&'static str]) -> Between {
        Between {
            literals,
            expect: Expect::default(),
            calls: 0,
        }
    }

    /// A section opens.
    pub fn begin(&mut self) {
        self.expect.reset();
        self.calls = 0;
    }

    /// A call of the section ended (well or not).
    pub fn call_ended(&mut self) {
        self.calls += 1;
    }

    pub fn calls(&self) -> usize {
        self.calls
    }

    /// Read from `pos`: `Ok` with the position after the literal that begins the next call
    /// (the slot has begun it, or still holds the section's opener before the first call), or
    /// how the section stands.
    #[inline(always)]
    pub fn step(
        &mut self,
        text: &str,
        pos: usize,
        slot: &mut CallSlot,
        em: &mut Emitter<'_>,
    ) -> Result<usize, Step> {
        let pos = pos + slot.blanks(&self.expect, &text[pos..]);
        if pos == text.len() {
            return Err(Step::NeedMore);
        }
        match self.expect.feed(self.literals, &text[pos..]) {
            Expected::Partial => Err(Step::NeedMore),
            Expected::Complete { which, consumed } => {
                let pos = pos + consumed;
                let literal = self.literals[which];
                if which == 0 && self.calls > 0 {
                    let offset = em
                        .char_offset(text, pos)
                        .saturating_sub(literal.chars().count() as u64);
                    slot.begin("", offset);
                }
                slot.raw(literal);
                if which == 0 {
                    return Ok(pos);
                }
                // The section's end: an empty section is text.
                slot.fallback(em);
                Err(Step::Ended { consumed: pos })
            }
            Expected::Mismatch { consumed, matched } => {
                // The section ends without its end marker: the rest is text.
                self.give_back(matched, slot, em);
                Err(Step::Ended {
                    consumed: pos + consumed,
                })
            }
        }
    }

    /// End of stream between calls.
    pub fn finish(&mut self, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        let partial = self.expect.partial(self.literals);
        self.give_back(partial, slot, em);
    }

    /// The section ends after `matched`, which is text.
    fn give_back(&self, matched: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        if self.calls == 0 {
            slot.raw(matched);
            slot.fallback(em);
        } else {
            em.give_back(matched);
        }
    }
}
