//! Sections of calls whose arguments are one JSON value between a head and the call's end
//! marker (DeepSeek V3, Kimi K2):
//!
//! ```text
//! SECTION_BEGIN (CALL_BEGIN head JSON CALL_END)* SECTION_END
//! ```
//!
//! A format is a grammar row (its markers) and a `CallHead`, which reads what stands between
//! the call's begin marker and its arguments and announces the call. The rest is shared:
//! blanks and markers between calls (`Between`), the arguments streamed through (`JsonArgs`),
//! the call's end, and recovery from a broken call to the next call's end (the section goes
//! on) or the section's end. At the end of the stream, complete arguments without their end
//! marker still make a call.

use std::sync::Arc;

use super::super::super::emit::Emitter;
use super::super::super::matcher::{MarkerScanner, Markers, Scan};
use super::super::{
    drive, Between, CallSlot, Expect, Expected, JsonArgs, Opener, Problem, Recover, Step,
    ToolContext, ToolSection,
};

#[derive(Debug, PartialEq, Eq)]
pub struct SectionGrammar {
    /// Markers that open a section.
    pub openers: &'static [&'static str],
    /// Between calls: the marker that begins a call, then those that end the section.
    pub between: &'static [&'static str],
    /// After the arguments: the call's end marker, then literals passed over there
    /// (DeepSeek V3's closing code fence).
    pub after_arguments: &'static [&'static str],
}

/// How far a `CallHead` got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// All of the piece was read; the head goes on.
    NeedMore,
    /// Read up to this position; the head goes on.
    Reading(usize),
    /// The call is announced; its arguments start at this position.
    Arguments(usize),
    /// Not a call after all: it goes back as text, and the section ends at this position.
    GiveUp(usize),
    /// In an announced call, something else than the grammar allows stands at this position.
    Unexpected { pos: usize, expected: &'static str },
}

/// What a format reads between a call's begin marker and its arguments.
pub trait CallHead: Send + Sync {
    /// A call begins: forget the last one's head.
    fn start(&mut self);
    /// Read from `text[pos..]` (raw text goes to the slot until the call is announced).
    fn read(&mut self, text: &str, pos: usize, slot: &mut CallSlot, em: &mut Emitter<'_>) -> Head;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Between,
    Head,
    Arguments,
    /// After the arguments: the call's end marker.
    CallEnd,
    Recover,
}

pub struct JsonSection<H> {
    grammar: &'static SectionGrammar,
    head: H,
    phase: Phase,
    slot: CallSlot,
    between: Between,
    call_end: Expect,
    json: JsonArgs,
    recover: Recover,
}

impl<H: CallHead> JsonSection<H> {
    pub fn new(grammar: &'static SectionGrammar, head: H, context: ToolContext) -> Self {
        // A broken call is skipped to its end marker (the section goes on) or the section's.
        let mut recover = vec![grammar.after_arguments[0]];
        recover.extend_from_slice(&grammar.between[1..]);
        JsonSection {
            grammar,
            head,
            phase: Phase::Between,
            slot: CallSlot::new(context.max_buffer),
            between: Between::new(grammar.between),
            call_end: Expect::default(),
            json: JsonArgs::default(),
            recover: Recover::new(&recover),
        }
    }

    fn fail(&mut self, em: &mut Emitter<'_>, problem: Problem<'_>) {
        self.slot.fail(em, problem);
        self.recover.reset();
        self.phase = Phase::Recover;
    }

    fn unexpected(&mut self, em: &mut Emitter<'_>, text: &str, pos: usize, expected: &str) {
        let at = em.char_offset(text, pos);
        self.fail(em, Problem::Unexpected { expected, at });
    }

    /// One phase's worth of `text` from `pos`: the next position, or how the section stands.
    #[inline]
    fn step(&mut self, text: &str, pos: usize, em: &mut Emitter<'_>) -> Result<usize, Step> {
        let rest = &text[pos..];
        match self.phase {
            Phase::Between => {
                let next = self.between.step(text, pos, &mut self.slot, em)?;
                self.head.start();
                self.phase = Phase::Head;
                Ok(next)
            }
            Phase::Head => match self.head.read(text, pos, &mut self.slot, em) {
                Head::NeedMore => Err(Step::NeedMore),
                Head::Reading(next) => Ok(next),
                Head::Arguments(next) => {
                    self.json.reset();
                    self.phase = Phase::Arguments;
                    Ok(next)
                }
                Head::GiveUp(consumed) => {
                    self.slot.fallback(em);
                    Err(Step::Ended { consumed })
                }
                Head::Unexpected { pos, expected } => {
                    self.unexpected(em, text, pos, expected);
                    Ok(pos)
                }
            },
            Phase::Arguments => match self.json.feed(rest, &mut self.slot, em) {
                Step::NeedMore => Err(Step::NeedMore),
                Step::Ended { consumed } => {
                    self.call_end.reset();
                    self.phase = Phase::CallEnd;
                    Ok(pos + consumed)
                }
                Step::Invalid { at, reason } => {
                    let pos = pos + at;
                    let at = em.char_offset(text, pos);
                    self.fail(em, Problem::InvalidJson { at, reason });
                    Ok(pos)
                }
            },
            Phase::CallEnd => {
                let pos = pos + self.slot.blanks(&self.call_end, rest);
                if pos == text.len() {
                    return Err(Step::NeedMore);
                }
                let literals = self.grammar.after_arguments;
                match self.call_end.feed(literals, &text[pos..]) {
                    Expected::Partial => Err(Step::NeedMore),
                    Expected::Complete { which, consumed } => {
                        if which == 0 {
                            self.slot.complete(em);
                            self.between.call_ended();
                            self.phase = Phase::Between;
                        }
                        Ok(pos + consumed)
                    }
                    Expected::Mismatch { consumed, .. } => {
                        let pos = pos + consumed;
                        let expected = format!("{} after the arguments", literals[0]);
                        self.unexpected(em, text, pos, &expected);
                        Ok(pos)
                    }
                }
            }
            Phase::Recover => {
                let Some((marker, consumed)) = self.recover.skip(rest) else {
                    return Err(Step::NeedMore);
                };
                let pos = pos + consumed;
                if marker != 0 {
                    return Err(Step::Ended { consumed: pos });
                }
                self.between.call_ended();
                self.phase = Phase::Between;
                Ok(pos)
            }
        }
    }
}

impl<H: CallHead> ToolSection for JsonSection<H> {
    fn start_markers(&self) -> &'static [&'static str] {
        self.grammar.openers
    }

    fn begin(&mut self, opener: Opener, offset: u64) {
        let opener = match opener {
            Opener::Marker(n) => self.grammar.openers[n],
            Opener::Leading => self.grammar.openers[0],
        };
        self.phase = Phase::Between;
        // Until a call has a name, the section could still turn out to be text.
        self.slot.begin(opener, offset);
        self.between.begin();
    }

    #[inline]
    fn absorb(&mut self, text: &str, em: &mut Emitter<'_>) -> bool {
        self.phase == Phase::Arguments && self.json.absorb(text, &mut self.slot, em)
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        drive(text, |pos| self.step(text, pos, em))
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Between => self.between.finish(&mut self.slot, em),
            Phase::Head if self.slot.is_announced() => {
                self.slot.fail_incomplete(em, "the call's arguments")
            }
            Phase::Head => self.slot.fallback(em),
            Phase::Arguments => self.json.finish_call(&mut self.slot, em),
            // Complete arguments without the end marker still count.
            Phase::CallEnd => self.slot.complete(em),
            Phase::Recover => {}
        }
    }
}

/// How `UpTo::read` stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// All of the piece was read; no marker yet.
    Pending,
    /// The text passed its cap after `consumed` bytes of the piece: no call.
    Over { consumed: usize },
    /// The marker ends after `consumed` bytes of the piece.
    Found { consumed: usize },
}

/// A head's text up to a marker (a name or an id before the separator), capped: past the cap it
/// is no call, cut at the same byte however the text was split.
pub struct UpTo {
    markers: Arc<Markers>,
    scan: MarkerScanner,
    text: String,
    /// Bytes read so far (the marker may be held back by the scanner).
    read: usize,
    cap: usize,
}

impl UpTo {
    /// Text of at most `limit` bytes before `marker`.
    pub fn new(marker: &str, limit: usize) -> UpTo {
        UpTo {
            markers: Markers::shared(&[marker]),
            scan: MarkerScanner::new(),
            text: String::new(),
            read: 0,
            cap: limit + marker.len(),
        }
    }

    pub fn reset(&mut self) {
        self.text.clear();
        self.read = 0;
        self.scan.reset();
    }

    /// The text before the marker.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Read `rest`, which is the call's raw text.
    #[inline(always)]
    pub fn read(&mut self, rest: &str, slot: &mut CallSlot) -> Reached {
        let mut cut = rest.len().min(self.cap - self.read + 1);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let allowed = &rest[..cut];
        let text = &mut self.text;
        match self.scan.scan(&self.markers, allowed, |s| text.push_str(s)) {
            Scan::Pending => {
                slot.raw(allowed);
                self.read += cut;
                if self.read > self.cap {
                    return Reached::Over { consumed: cut };
                }
                Reached::Pending
            }
            Scan::Found { consumed, .. } => {
                slot.raw(&rest[..consumed]);
                Reached::Found { consumed }
            }
        }
    }
}
