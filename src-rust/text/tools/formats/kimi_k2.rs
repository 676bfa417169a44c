//! Kimi K2:
//!
//! ```text
//! <|tool_calls_section_begin|>
//! <|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|>
//! <|tool_calls_section_end|>
//! ```
//!
//! The call id (`functions.NAME:IDX`) is the model's own and is forwarded as the id; the name
//! is what sits between the last `.` and the `:`. The singular section markers some versions
//! write are accepted too.

use std::sync::Arc;

use super::super::super::emit::Emitter;
use super::super::super::matcher::{MarkerScanner, Markers, Scan};
use super::super::json_args::JsonArgs;
use super::super::{
    clean_name, CallSlot, Expect, Expected, Opener, Problem, Recover, Step, ToolContext,
    ToolSection,
};

const SECTION_BEGIN: &[&str] = &[
    "<|tool_calls_section_begin|>",
    "<|tool_call_section_begin|>",
];
const SECTION_END: &str = "<|tool_calls_section_end|>";
const SECTION_END_SINGULAR: &str = "<|tool_call_section_end|>";
const CALL_BEGIN: &str = "<|tool_call_begin|>";
const ARGUMENT_BEGIN: &str = "<|tool_call_argument_begin|>";
const CALL_END: &str = "<|tool_call_end|>";
const MAX_ID: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between calls: `<|tool_call_begin|>` or the section end.
    Section,
    /// The call id, up to `<|tool_call_argument_begin|>`.
    Id,
    Arguments,
    /// After the arguments: `<|tool_call_end|>`.
    CallEnd,
    Recover,
}

pub struct KimiK2 {
    phase: Phase,
    slot: CallSlot,
    expect: Expect,
    id: String,
    json: JsonArgs,
    id_markers: Arc<Markers>,
    scan: MarkerScanner,
    /// Bytes read so far in the id (the marker after it may be held back by the scanner).
    id_bytes: usize,
    recover: Recover,
    section_opener: &'static str,
    calls_in_section: usize,
}

impl KimiK2 {
    pub fn new(context: ToolContext) -> KimiK2 {
        KimiK2 {
            phase: Phase::Section,
            slot: CallSlot::new(context.max_buffer),
            expect: Expect::default(),
            id: String::new(),
            json: JsonArgs::default(),
            id_markers: Markers::shared(&[ARGUMENT_BEGIN]),
            scan: MarkerScanner::new(),
            id_bytes: 0,
            recover: Recover::new(&[CALL_END, SECTION_END, SECTION_END_SINGULAR]),
            section_opener: SECTION_BEGIN[0],
            calls_in_section: 0,
        }
    }

    fn fail(&mut self, em: &mut Emitter<'_>, problem: Problem<'_>) {
        self.slot.fail(em, problem);
        self.recover.reset();
        self.phase = Phase::Recover;
    }
}

/// `functions.get_weather:0` -> `get_weather`.
fn name_from_id(id: &str) -> Option<String> {
    let head = id.rsplit_once(':').map_or(id, |(head, _)| head);
    clean_name(head.rsplit('.').next().unwrap_or(head))
}

impl ToolSection for KimiK2 {
    fn start_markers(&self) -> &'static [&'static str] {
        SECTION_BEGIN
    }

    fn begin(&mut self, opener: Opener, offset: u64) {
        self.section_opener = match opener {
            Opener::Marker(n) => SECTION_BEGIN[n],
            Opener::Leading => SECTION_BEGIN[0],
        };
        self.phase = Phase::Section;
        self.calls_in_section = 0;
        // Until a call has a name, the section could still turn out to be text.
        self.slot.begin(self.section_opener, offset);
        self.expect.reset();
    }

    #[inline]
    fn absorb(&mut self, text: &str, em: &mut Emitter<'_>) -> bool {
        self.phase == Phase::Arguments && self.json.absorb(text, &mut self.slot, em)
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        let mut pos = 0;
        while pos < text.len() {
            let rest = &text[pos..];
            match self.phase {
                Phase::Section | Phase::CallEnd => {
                    pos += self.slot.blanks(&self.expect, rest);
                    if pos == text.len() {
                        break;
                    }
                    let literals: &[&'static str] = if self.phase == Phase::Section {
                        &[CALL_BEGIN, SECTION_END, SECTION_END_SINGULAR]
                    } else {
                        &[CALL_END]
                    };
                    match self.expect.feed(literals, &text[pos..]) {
                        Expected::Partial => return Step::NeedMore,
                        Expected::Complete { which, consumed } => {
                            pos += consumed;
                            match literals[which] {
                                CALL_BEGIN => {
                                    if self.calls_in_section > 0 {
                                        let offset = em
                                            .char_offset(text, pos)
                                            .saturating_sub(CALL_BEGIN.chars().count() as u64);
                                        self.slot.begin("", offset);
                                    }
                                    self.slot.raw(CALL_BEGIN);
                                    self.id.clear();
                                    self.id_bytes = 0;
                                    self.scan.reset();
                                    self.phase = Phase::Id;
                                }
                                CALL_END => {
                                    self.slot.complete(em);
                                    self.calls_in_section += 1;
                                    self.phase = Phase::Section;
                                }
                                end => {
                                    // An empty section is given back as text.
                                    self.slot.raw(end);
                                    self.slot.fallback(em);
                                    return Step::Ended { consumed: pos };
                                }
                            }
                        }
                        Expected::Mismatch { consumed, matched } => {
                            pos += consumed;
                            if self.phase == Phase::CallEnd {
                                let at = em.char_offset(text, pos);
                                let expected = "<|tool_call_end|> after the arguments";
                                self.fail(em, Problem::Unexpected { expected, at });
                                continue;
                            }
                            // The section ends without its marker: the rest is text.
                            self.slot.raw(matched);
                            self.slot.fallback(em);
                            if self.calls_in_section > 0 {
                                em.give_back(matched);
                            }
                            return Step::Ended { consumed: pos };
                        }
                    }
                }
                Phase::Id => {
                    // An id longer than its cap is no call: cut at the same byte however the
                    // text was split.
                    let cap = MAX_ID + ARGUMENT_BEGIN.len();
                    let mut cut = rest.len().min(cap - self.id_bytes + 1);
                    while !rest.is_char_boundary(cut) {
                        cut += 1;
                    }
                    let allowed = &rest[..cut];
                    let id = &mut self.id;
                    let scan = self
                        .scan
                        .scan(&self.id_markers, allowed, |s| id.push_str(s));
                    match scan {
                        Scan::Pending => {
                            self.slot.raw(allowed);
                            self.id_bytes += allowed.len();
                            if self.id_bytes > cap {
                                self.slot.fallback(em);
                                return Step::Ended {
                                    consumed: pos + cut,
                                };
                            }
                            return Step::NeedMore;
                        }
                        Scan::Found { consumed, .. } => {
                            self.slot.raw(&rest[..consumed]);
                            pos += consumed;
                            let id = self.id.trim().to_owned();
                            match name_from_id(&id) {
                                Some(name) => {
                                    self.slot.announce(em, name, Some(id));
                                    self.json.reset();
                                    self.phase = Phase::Arguments;
                                }
                                None => {
                                    self.slot.fallback(em);
                                    return Step::Ended { consumed: pos };
                                }
                            }
                        }
                    }
                }
                Phase::Arguments => match self.json.feed(rest, &mut self.slot, em) {
                    Step::NeedMore => return Step::NeedMore,
                    Step::Ended { consumed } => {
                        pos += consumed;
                        self.phase = Phase::CallEnd;
                    }
                    Step::Invalid { at, reason } => {
                        pos += at;
                        let at = em.char_offset(text, pos);
                        self.fail(em, Problem::InvalidJson { at, reason });
                    }
                },
                Phase::Recover => match self.recover.skip(rest) {
                    None => return Step::NeedMore,
                    Some((id, consumed)) => {
                        pos += consumed;
                        if id != 0 {
                            return Step::Ended { consumed: pos };
                        }
                        self.calls_in_section += 1;
                        self.phase = Phase::Section;
                    }
                },
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Section | Phase::Id => self.slot.fallback(em),
            Phase::Arguments => {
                if self.json.not_started() || !self.json.finish() {
                    self.slot.fail_incomplete(em, "the call's arguments");
                } else {
                    self.slot.complete(em);
                }
            }
            // Complete arguments without the end marker still count.
            Phase::CallEnd => self.slot.complete(em),
            Phase::Recover => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::name_from_id;

    #[test]
    fn names_come_from_ids() {
        assert_eq!(
            name_from_id("functions.get_weather:0").as_deref(),
            Some("get_weather")
        );
        assert_eq!(
            name_from_id("get_weather:3").as_deref(),
            Some("get_weather")
        );
        assert_eq!(name_from_id("search").as_deref(), Some("search"));
        assert_eq!(name_from_id("functions.:0"), None);
    }
}
