//! GLM-4.5 / 4.6 (and 4.7 / 5, without the line break after the name):
//!
//! ```text
//! <tool_call>get_weather
//! <arg_key>city</arg_key>
//! <arg_value>Beijing</arg_value>
//! </tool_call>
//! ```
//!
//! Values typed as strings by the request's schema are streamed as written; other values, and
//! every value when no schema describes the parameter, are read as JSON, then as a Python
//! literal, then as a string (what the GLM chat template and vLLM/SGLang's parsers do).

use std::sync::Arc;

use super::super::super::emit::Emitter;
use super::super::super::matcher::{MarkerScanner, Markers, Scan};
use super::super::scan::MAX_NAME;
use super::super::xml_args::{value_type, ArgsBuilder, Untyped};
use super::super::{
    clean_name, read_run, CallSlot, Expect, Expected, Opener, Problem, Recover, Run, Step,
    ToolContext, ToolSection,
};

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";
const KEY_OPEN: &str = "<arg_key>";
const VALUE_OPEN: &str = "<arg_value>";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The function name, up to a line break or `<`.
    Name,
    /// `<arg_key>` or `</tool_call>`.
    Args,
    Key,
    /// `<arg_value>` after a key.
    BeforeValue,
    Value,
    Recover,
}

pub struct Glm45 {
    context: ToolContext,
    phase: Phase,
    slot: CallSlot,
    args: ArgsBuilder,
    expect: Expect,
    name: String,
    key: String,
    key_markers: Arc<Markers>,
    value_markers: Arc<Markers>,
    scan: MarkerScanner,
    recover: Recover,
}

impl Glm45 {
    pub fn new(context: ToolContext) -> Glm45 {
        Glm45 {
            slot: CallSlot::new(context.max_buffer),
            args: ArgsBuilder::new(context.max_buffer),
            context,
            phase: Phase::Name,
            expect: Expect::default(),
            name: String::new(),
            key: String::new(),
            key_markers: Markers::shared(&["</arg_key>"]),
            // A missing `</arg_value>` is tolerated before the block closer.
            value_markers: Markers::shared(&["</arg_value>", CLOSE]),
            scan: MarkerScanner::new(),
            recover: Recover::new(&[CLOSE]),
        }
    }

    fn fail(&mut self, em: &mut Emitter<'_>, problem: Problem<'_>) {
        self.slot.fail(em, problem);
        self.recover.reset();
        self.phase = Phase::Recover;
    }
}

impl ToolSection for Glm45 {
    fn start_markers(&self) -> &'static [&'static str] {
        &[OPEN]
    }

    fn begin(&mut self, _opener: Opener, offset: u64) {
        self.phase = Phase::Name;
        self.slot.begin(OPEN, offset);
        self.name.clear();
        self.expect.reset();
        self.scan.reset();
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        let mut pos = 0;
        while pos < text.len() {
            let rest = &text[pos..];
            match self.phase {
                Phase::Name => {
                    let run = read_run(&mut self.name, rest, |b| b == b'\n' || b == b'<', MAX_NAME);
                    let taken = run.taken(rest.len());
                    self.slot.raw(&rest[..taken]);
                    pos += taken;
                    let end = match run {
                        Run::Open => return Step::NeedMore,
                        Run::Over { .. } => {
                            self.slot.fallback(em);
                            return Step::Ended { consumed: pos };
                        }
                        Run::End { at } => at,
                    };
                    if self.name.trim().is_empty() && rest.as_bytes()[end] == b'\n' {
                        // A line break before the name.
                        self.slot.raw("\n");
                        pos += 1;
                        continue;
                    }
                    match clean_name(&self.name) {
                        Some(name) => {
                            if rest.as_bytes()[end] == b'\n' {
                                pos += 1;
                            }
                            self.slot.announce(em, name, None);
                            self.args.open(&mut self.slot, em);
                            self.phase = Phase::Args;
                        }
                        None => {
                            self.slot.fallback(em);
                            return Step::Ended { consumed: pos };
                        }
                    }
                }
                Phase::Args | Phase::BeforeValue => {
                    pos += self.slot.blanks(&self.expect, rest);
                    if pos == text.len() {
                        break;
                    }
                    let literals: &[&'static str] = if self.phase == Phase::Args {
                        &[KEY_OPEN, CLOSE]
                    } else {
                        &[VALUE_OPEN]
                    };
                    match self.expect.feed(literals, &text[pos..]) {
                        Expected::Partial => return Step::NeedMore,
                        Expected::Complete { which, consumed } => {
                            pos += consumed;
                            match literals[which] {
                                KEY_OPEN => {
                                    self.key.clear();
                                    self.scan.reset();
                                    self.phase = Phase::Key;
                                }
                                CLOSE => {
                                    self.args.close(&mut self.slot, em);
                                    self.slot.complete(em);
                                    return Step::Ended { consumed: pos };
                                }
                                _ => {
                                    let key = self.key.trim().to_owned();
                                    let ty = value_type(
                                        &self.context.schemas,
                                        self.name.trim(),
                                        &key,
                                        Untyped::Guess,
                                    );
                                    self.args.begin_value(&key, ty, &mut self.slot, em);
                                    self.scan.reset();
                                    self.phase = Phase::Value;
                                }
                            }
                        }
                        Expected::Mismatch { consumed, .. } => {
                            pos += consumed;
                            let expected = literals.join(" or ");
                            let at = em.char_offset(text, pos);
                            self.fail(
                                em,
                                Problem::Unexpected {
                                    expected: &expected,
                                    at,
                                },
                            );
                        }
                    }
                }
                Phase::Key => {
                    let key = &mut self.key;
                    match self.scan.scan(&self.key_markers, rest, |s| key.push_str(s)) {
                        Scan::Pending if self.key.len() > MAX_NAME => {
                            let what = "an argument name";
                            self.fail(
                                em,
                                Problem::TooLarge {
                                    what,
                                    limit: MAX_NAME,
                                },
                            );
                        }
                        Scan::Pending => return Step::NeedMore,
                        Scan::Found { consumed, .. } => {
                            pos += consumed;
                            self.phase = Phase::BeforeValue;
                        }
                    }
                }
                Phase::Value => {
                    let mut fits = true;
                    let (args, slot) = (&mut self.args, &mut self.slot);
                    let scan = self.scan.scan(&self.value_markers, rest, |piece| {
                        fits &= args.value_text(piece, slot, em);
                    });
                    if !fits {
                        let what = format!("the value of argument {:?}", self.key.trim());
                        let limit = self.context.max_buffer;
                        self.fail(em, Problem::TooLarge { what: &what, limit });
                        continue;
                    }
                    match scan {
                        Scan::Pending => return Step::NeedMore,
                        Scan::Found { id, consumed } => {
                            pos += consumed;
                            self.args.end_value(&mut self.slot, em);
                            if id == 1 {
                                // The block closed without `</arg_value>`.
                                self.args.close(&mut self.slot, em);
                                self.slot.complete(em);
                                return Step::Ended { consumed: pos };
                            }
                            self.phase = Phase::Args;
                        }
                    }
                }
                Phase::Recover => {
                    return self.recover.step(rest, pos);
                }
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Name => self.slot.fallback(em),
            Phase::Recover => {}
            _ => self.slot.fail_incomplete(em, "the call"),
        }
    }
}
