//! DeepSeek V3 / R1-0528 and V3.1 (the bars are U+FF5C, the `▁` is U+2581):
//!
//! ```text
//! V3:   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME
//!       ```json
//!       {"city": "Paris"}
//!       ```<｜tool▁call▁end｜><｜tool▁calls▁end｜>
//! V3.1: <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>
//! ```
//!
//! Both are accepted: after the separator, arguments starting with `{` mean V3.1 (the text
//! before the separator is the name); otherwise the name is the rest of the line (V3) and an
//! optional code fence wraps the JSON.

use std::sync::Arc;

use super::super::emit::Emitter;
use super::super::matcher::{MarkerScanner, Markers, Scan};
use super::json_args::{ArgsStep, JsonArgs};
use super::{
    clean_name, is_json_ws, CallSlot, Expect, Expected, Opener, Step, ToolContext, ToolSection,
    ERR_INCOMPLETE, ERR_INVALID,
};

const CALLS_BEGIN: &str = "<｜tool▁calls▁begin｜>";
const CALLS_END: &str = "<｜tool▁calls▁end｜>";
const CALL_BEGIN: &str = "<｜tool▁call▁begin｜>";
const CALL_END: &str = "<｜tool▁call▁end｜>";
const SEP: &str = "<｜tool▁sep｜>";
const FENCE: &str = "```";
const MAX_NAME: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between calls: `<｜tool▁call▁begin｜>` or `<｜tool▁calls▁end｜>`.
    Section,
    /// Up to `<｜tool▁sep｜>`: the type (V3) or the name (V3.1).
    Head,
    /// Right after the separator: decides between V3 and V3.1.
    AfterSep,
    /// V3: the name, up to the end of the line.
    NameLine,
    /// V3: an optional fence line (```json) before the arguments.
    FenceLine,
    Arguments,
    /// After the arguments: an optional closing fence, then `<｜tool▁call▁end｜>`.
    CallEnd,
    Recover,
}

pub struct DeepSeekV3 {
    phase: Phase,
    slot: CallSlot,
    expect: Expect,
    head: String,
    name: String,
    json: JsonArgs,
    sep_markers: Arc<Markers>,
    recover_markers: Arc<Markers>,
    scan: MarkerScanner,
    calls_in_section: usize,
}

impl DeepSeekV3 {
    pub fn new(context: ToolContext) -> DeepSeekV3 {
        DeepSeekV3 {
            phase: Phase::Section,
            slot: CallSlot::new(context.max_buffer),
            expect: Expect::default(),
            head: String::new(),
            name: String::new(),
            json: JsonArgs::default(),
            sep_markers: Markers::shared(&[SEP]),
            recover_markers: Markers::shared(&[CALL_END, CALLS_END]),
            scan: MarkerScanner::new(),
            calls_in_section: 0,
        }
    }

    fn fail(&mut self, em: &mut Emitter<'_>, code: &str, detail: &str) {
        self.slot.fail(em, code, detail);
        self.scan.reset();
        self.phase = Phase::Recover;
    }

    fn give_up(&mut self, em: &mut Emitter<'_>, consumed: usize) -> Step {
        self.slot.fallback(em);
        Step::Ended { consumed }
    }
}

impl ToolSection for DeepSeekV3 {
    fn start_markers(&self) -> &'static [&'static str] {
        &[CALLS_BEGIN]
    }

    fn begin(&mut self, _opener: Opener, offset: u64) {
        self.phase = Phase::Section;
        self.calls_in_section = 0;
        self.slot.begin(CALLS_BEGIN, offset);
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
                Phase::Section | Phase::CallEnd => {
                    if self.expect.matched() == 0 {
                        let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
                        self.slot.raw(&rest[..blank]);
                        pos += blank;
                        if pos == text.len() {
                            break;
                        }
                    }
                    let literals: &[&'static str] = if self.phase == Phase::Section {
                        &[CALL_BEGIN, CALLS_END]
                    } else {
                        &[CALL_END, FENCE]
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
                                    self.head.clear();
                                    self.scan.reset();
                                    self.phase = Phase::Head;
                                }
                                CALL_END => {
                                    self.slot.complete(em);
                                    self.calls_in_section += 1;
                                    self.phase = Phase::Section;
                                }
                                FENCE => {} // the closing fence of V3
                                _ => {
                                    self.slot.raw(CALLS_END);
                                    return self.give_up(em, pos);
                                }
                            }
                        }
                        Expected::Mismatch { consumed, matched } => {
                            pos += consumed;
                            if self.phase == Phase::CallEnd {
                                let detail = format!(
                                    "expected {CALL_END} after the arguments at character {}",
                                    em.char_offset(text, pos)
                                );
                                self.fail(em, ERR_INVALID, &detail);
                                continue;
                            }
                            self.slot.raw(matched);
                            if self.calls_in_section > 0 {
                                em.text(matched);
                            }
                            return self.give_up(em, pos);
                        }
                    }
                }
                Phase::Head => {
                    let head = &mut self.head;
                    match self
                        .scan
                        .scan(&self.sep_markers, rest, |s| head.push_str(s))
                    {
                        Scan::Pending => {
                            self.slot.raw(rest);
                            if self.head.len() > MAX_NAME {
                                return self.give_up(em, text.len());
                            }
                            return Step::NeedMore;
                        }
                        Scan::Found { consumed, .. } => {
                            self.slot.raw(&rest[..consumed]);
                            pos += consumed;
                            self.phase = Phase::AfterSep;
                        }
                    }
                }
                Phase::AfterSep => {
                    let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
                    if blank == rest.len() {
                        // Blanks only so far: wait to see what follows them.
                        self.slot.raw(rest);
                        break;
                    }
                    if rest.as_bytes()[blank] == b'{' && clean_name(&self.head).is_some() {
                        let name = clean_name(&self.head).unwrap_or_default();
                        self.slot.announce(em, name, None);
                        self.json.reset();
                        self.phase = Phase::Arguments;
                    } else {
                        self.name.clear();
                        self.phase = Phase::NameLine;
                    }
                }
                Phase::NameLine => {
                    let end = rest.bytes().position(|b| b == b'\n');
                    let part = &rest[..end.unwrap_or(rest.len())];
                    self.slot.raw(part);
                    self.name.push_str(part);
                    pos += part.len();
                    if self.name.len() > MAX_NAME {
                        return self.give_up(em, pos);
                    }
                    if end.is_none() {
                        return Step::NeedMore;
                    }
                    self.slot.raw("\n");
                    pos += 1;
                    match clean_name(&self.name) {
                        Some(name) => {
                            self.slot.announce(em, name, None);
                            self.name.clear();
                            self.phase = Phase::FenceLine;
                        }
                        None => return self.give_up(em, pos),
                    }
                }
                Phase::FenceLine => {
                    // Either the JSON itself or a fence line such as ```json.
                    if self.name.is_empty() {
                        let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
                        pos += blank;
                        if pos == text.len() {
                            break;
                        }
                        if text.as_bytes()[pos] != b'`' {
                            self.json.reset();
                            self.phase = Phase::Arguments;
                            continue;
                        }
                    }
                    let rest = &text[pos..];
                    let end = rest.bytes().position(|b| b == b'\n');
                    let part = &rest[..end.unwrap_or(rest.len())];
                    self.name.push_str(part);
                    pos += part.len();
                    let fence_like = self.name.starts_with(FENCE) || FENCE.starts_with(&self.name);
                    if self.name.len() > 64 || !fence_like {
                        let detail = format!(
                            "expected the arguments at character {}",
                            em.char_offset(text, pos)
                        );
                        self.fail(em, ERR_INVALID, &detail);
                        continue;
                    }
                    if end.is_some() {
                        pos += 1;
                        self.json.reset();
                        self.phase = Phase::Arguments;
                    }
                }
                Phase::Arguments => match self.json.feed(rest, &mut self.slot, em) {
                    ArgsStep::NeedMore => return Step::NeedMore,
                    ArgsStep::Done { consumed } => {
                        pos += consumed;
                        self.phase = Phase::CallEnd;
                    }
                    ArgsStep::Invalid { at, reason } => {
                        pos += at;
                        let detail = format!(
                            "invalid JSON at character {}: {reason}",
                            em.char_offset(text, pos)
                        );
                        self.fail(em, ERR_INVALID, &detail);
                    }
                },
                Phase::Recover => match self.scan.scan(&self.recover_markers, rest, |_| {}) {
                    Scan::Pending => return Step::NeedMore,
                    Scan::Found { id, consumed } => {
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
            Phase::Section | Phase::Head | Phase::AfterSep | Phase::NameLine => {
                self.slot.fallback(em)
            }
            Phase::FenceLine | Phase::Arguments => {
                if self.phase == Phase::Arguments && !self.json.not_started() && self.json.finish()
                {
                    self.slot.complete(em);
                } else {
                    let detail = format!(
                        "the stream ended inside the call's arguments (at character {})",
                        em.end_offset()
                    );
                    self.slot.fail(em, ERR_INCOMPLETE, &detail);
                }
            }
            Phase::CallEnd => self.slot.complete(em),
            Phase::Recover => {}
        }
    }
}
