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

use super::super::super::emit::Emitter;
use super::super::super::matcher::{MarkerScanner, Markers, Scan};
use super::super::json_args::JsonArgs;
use super::super::scan::MAX_NAME;
use super::super::{
    clean_name, is_json_ws, read_run, CallSlot, Expect, Expected, Opener, Problem, Recover, Run,
    Step, ToolContext, ToolSection,
};

const CALLS_BEGIN: &str = "<｜tool▁calls▁begin｜>";
const CALLS_END: &str = "<｜tool▁calls▁end｜>";
const CALL_BEGIN: &str = "<｜tool▁call▁begin｜>";
const CALL_END: &str = "<｜tool▁call▁end｜>";
const SEP: &str = "<｜tool▁sep｜>";
const FENCE: &str = "```";

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
    scan: MarkerScanner,
    /// Bytes read so far in the head (the separator may be held back by the scanner).
    head_bytes: usize,
    recover: Recover,
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
            scan: MarkerScanner::new(),
            head_bytes: 0,
            recover: Recover::new(&[CALL_END, CALLS_END]),
            calls_in_section: 0,
        }
    }

    fn fail(&mut self, em: &mut Emitter<'_>, problem: Problem<'_>) {
        self.slot.fail(em, problem);
        self.recover.reset();
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
                                    self.head_bytes = 0;
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
                                let at = em.char_offset(text, pos);
                                let expected =
                                    concat!("<｜tool▁call▁end｜>", " after the arguments");
                                self.fail(em, Problem::Unexpected { expected, at });
                                continue;
                            }
                            self.slot.raw(matched);
                            if self.calls_in_section > 0 {
                                em.give_back(matched);
                            }
                            return self.give_up(em, pos);
                        }
                    }
                }
                Phase::Head => {
                    // A head longer than a name and the separator is no call: cut at the
                    // same byte however the text was split.
                    let room = MAX_NAME + SEP.len() - self.head_bytes;
                    let mut cut = rest.len().min(room + 1);
                    while !rest.is_char_boundary(cut) {
                        cut += 1;
                    }
                    let allowed = &rest[..cut];
                    let head = &mut self.head;
                    match self
                        .scan
                        .scan(&self.sep_markers, allowed, |s| head.push_str(s))
                    {
                        Scan::Pending => {
                            self.slot.raw(allowed);
                            self.head_bytes += allowed.len();
                            if self.head_bytes > MAX_NAME + SEP.len() {
                                return self.give_up(em, pos + cut);
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
                        // Blanks after the separator are skipped here as they are when
                        // they arrive alone (above): the same call however the text is split.
                        self.slot.raw(&rest[..blank]);
                        pos += blank;
                        self.name.clear();
                        self.phase = Phase::NameLine;
                    }
                }
                Phase::NameLine => {
                    let run = read_run(&mut self.name, rest, |b| b == b'\n', MAX_NAME);
                    let taken = run.taken(rest.len());
                    self.slot.raw(&rest[..taken]);
                    pos += taken;
                    match run {
                        Run::Open => return Step::NeedMore,
                        Run::Over { .. } => return self.give_up(em, pos),
                        Run::End { .. } => {}
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
                        let at = em.char_offset(text, pos);
                        let expected = "the arguments";
                        self.fail(em, Problem::Unexpected { expected, at });
                        continue;
                    }
                    if end.is_some() {
                        pos += 1;
                        self.json.reset();
                        self.phase = Phase::Arguments;
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
            Phase::Section | Phase::Head | Phase::AfterSep | Phase::NameLine => {
                self.slot.fallback(em)
            }
            Phase::FenceLine | Phase::Arguments => {
                if self.phase == Phase::Arguments && !self.json.not_started() && self.json.finish()
                {
                    self.slot.complete(em);
                } else {
                    self.slot.fail_incomplete(em, "the call's arguments");
                }
            }
            Phase::CallEnd => self.slot.complete(em),
            Phase::Recover => {}
        }
    }
}
