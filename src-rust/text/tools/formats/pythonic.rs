//! Pythonic tool calls (Llama 3.2 / 4, Olmo 3, LFM2): `[get_weather(city='Paris'), now()]`.
//!
//! The list is recognised when the answer starts with `[`, or inside `<|python_start|>…
//! <|python_end|>` (Llama 4), `<function_calls>…</function_calls>` (Olmo 3, calls one per line
//! without brackets) and `<|tool_call_start|>…<|tool_call_end|>` (LFM2). Keyword arguments
//! become a JSON object built as the values arrive (see `pyliteral`); positional arguments and
//! expressions make the call invalid. A list that is not calls (`[1, 2]`, `[Note] …`) is text.

use super::super::super::emit::Emitter;
use super::super::super::pyliteral::{escape_json_into, PyLiteral};
use super::super::scan::MAX_NAME;
use super::super::{
    is_json_ws, CallSlot, Expect, Expected, Opener, Problem, Recover, Step, ToolContext,
    ToolSection,
};

/// Which markers wrap the calls of a format (same order), and whether a list that opens the
/// answer is read without them.
#[derive(Debug)]
pub struct PythonicGrammar {
    pub openers: &'static [&'static str],
    pub closers: &'static [&'static str],
    pub leading: Option<char>,
}

/// Every wrapping seen in the wild.
pub const PYTHONIC: PythonicGrammar = PythonicGrammar {
    openers: &[
        "<|python_start|>",
        "<function_calls>",
        "<|tool_call_start|>",
    ],
    closers: &["<|python_end|>", "</function_calls>", "<|tool_call_end|>"],
    leading: Some('['),
};

pub const LLAMA4: PythonicGrammar = PythonicGrammar {
    openers: &["<|python_start|>"],
    closers: &["<|python_end|>"],
    leading: Some('['),
};

pub const OLMO3: PythonicGrammar = PythonicGrammar {
    openers: &["<function_calls>"],
    closers: &["</function_calls>"],
    leading: None,
};

pub const LFM2: PythonicGrammar = PythonicGrammar {
    openers: &["<|tool_call_start|>"],
    closers: &["<|tool_call_end|>"],
    leading: None,
};

pub fn build(grammar: &'static PythonicGrammar, context: ToolContext) -> Box<dyn ToolSection> {
    Box::new(Pythonic::new(grammar, context))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// After a marker: an optional `[`.
    Open,
    /// Where a call may start.
    CallStart {
        first: bool,
    },
    Name,
    /// Blanks between the name and `(`.
    BeforeParen,
    /// Inside the parentheses, where an argument name (or `)`) may start.
    ArgStart,
    ArgName,
    /// After an argument name: `=`.
    Equals,
    Value,
    /// After a value: `,` or `)`.
    AfterValue,
    /// After a call's `)`.
    AfterCall,
    /// After `]`: the closing marker, if the list was opened by one.
    Close,
    /// An announced call went wrong inside a marker pair: skip to the closing marker.
    Recover,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

pub struct Pythonic {
    grammar: &'static PythonicGrammar,
    phase: Phase,
    slot: CallSlot,
    /// The closing marker when a marker opened the section.
    closer: Option<&'static str>,
    bracketed: bool,
    name: String,
    key: String,
    arguments_written: usize,
    literal: PyLiteral,
    out: String,
    expect: Expect,
    /// Per closer: skipping to it after a broken call.
    recover: Vec<Recover>,
}

impl Pythonic {
    pub fn new(grammar: &'static PythonicGrammar, context: ToolContext) -> Pythonic {
        Pythonic {
            grammar,
            phase: Phase::Open,
            slot: CallSlot::new(context.max_buffer),
            closer: None,
            bracketed: false,
            name: String::new(),
            key: String::new(),
            arguments_written: 0,
            literal: PyLiteral::new(),
            out: String::new(),
            expect: Expect::default(),
            recover: grammar.closers.iter().map(|c| Recover::new(&[c])).collect(),
        }
    }

    /// A problem in an announced call: an error chunk, then skip to the closing marker, or
    /// (without one) end the section here so the rest is text.
    fn fail(&mut self, em: &mut Emitter<'_>, problem: Problem<'_>, pos: usize) -> Option<Step> {
        self.slot.fail(em, problem);
        if self.closer.is_some() {
            let n = self.closer_index();
            self.recover[n].reset();
            self.phase = Phase::Recover;
            None
        } else {
            Some(Step::Ended { consumed: pos })
        }
    }

    fn closer_index(&self) -> usize {
        self.grammar
            .closers
            .iter()
            .position(|c| Some(*c) == self.closer)
            .unwrap_or(0)
    }
}

impl ToolSection for Pythonic {
    fn start_markers(&self) -> &'static [&'static str] {
        self.grammar.openers
    }

    fn leading(&self) -> Option<char> {
        self.grammar.leading
    }

    fn begin(&mut self, opener: Opener, offset: u64) {
        self.expect.reset();
        match opener {
            Opener::Marker(n) => {
                self.closer = Some(self.grammar.closers[n]);
                self.bracketed = false;
                self.phase = Phase::Open;
                self.slot.begin(self.grammar.openers[n], offset);
            }
            Opener::Leading => {
                self.closer = None;
                self.bracketed = false;
                self.phase = Phase::Open;
                self.slot.begin("", offset);
            }
        }
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        let mut pos = 0;
        while pos < text.len() {
            let rest = &text[pos..];
            let b = rest.as_bytes()[0];
            match self.phase {
                Phase::Open => {
                    if is_json_ws(b) && self.closer.is_some() {
                        self.slot.raw(&rest[..1]);
                        pos += 1;
                        continue;
                    }
                    if b == b'[' {
                        self.slot.raw("[");
                        pos += 1;
                        self.bracketed = true;
                    } else if self.closer.is_none() {
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    }
                    self.phase = Phase::CallStart { first: true };
                }
                Phase::CallStart { first } => {
                    if is_json_ws(b) && self.expect.matched() == 0 {
                        self.slot.raw(&rest[..1]);
                        pos += 1;
                        continue;
                    }
                    if is_name_start(b) && self.expect.matched() == 0 {
                        if !first {
                            let offset = em.char_offset(text, pos);
                            self.slot.begin("", offset);
                        }
                        self.name.clear();
                        self.phase = Phase::Name;
                        continue;
                    }
                    if b == b']' && self.bracketed {
                        self.slot.raw("]");
                        pos += 1;
                        // `[]` is not a call list: text.
                        self.slot.fallback(em);
                        self.phase = Phase::Close;
                        if self.closer.is_none() {
                            return Step::Ended { consumed: pos };
                        }
                        continue;
                    }
                    if let Some(closer) = self.closer {
                        if !self.bracketed || !first {
                            match self.expect.feed(&[closer], rest) {
                                Expected::Partial => return Step::NeedMore,
                                Expected::Complete { consumed, .. } => {
                                    self.slot.raw(closer);
                                    self.slot.fallback(em);
                                    return Step::Ended {
                                        consumed: pos + consumed,
                                    };
                                }
                                Expected::Mismatch { consumed, matched } => {
                                    if self.slot.is_pending() {
                                        self.slot.raw(matched);
                                    } else {
                                        em.give_back(matched);
                                    }
                                    pos += consumed;
                                }
                            }
                        }
                    }
                    // Not a call list after all.
                    self.slot.fallback(em);
                    return Step::Ended { consumed: pos };
                }
                Phase::Name => {
                    let run = rest.bytes().take_while(|&c| is_name_byte(c)).count();
                    self.slot.raw(&rest[..run]);
                    self.name.push_str(&rest[..run]);
                    pos += run;
                    if self.name.len() > MAX_NAME {
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    }
                    if run < rest.len() {
                        self.phase = Phase::BeforeParen;
                    }
                }
                Phase::BeforeParen => {
                    if b == b' ' {
                        self.slot.raw(" ");
                        pos += 1;
                        continue;
                    }
                    if b != b'(' {
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    }
                    pos += 1;
                    let name = std::mem::take(&mut self.name);
                    self.slot.announce(em, name, None);
                    self.slot.arguments(em, "{");
                    self.arguments_written = 0;
                    self.phase = Phase::ArgStart;
                }
                Phase::ArgStart => {
                    if is_json_ws(b) {
                        pos += 1;
                    } else if b == b')' {
                        pos += 1;
                        self.slot.arguments(em, "}");
                        self.slot.complete(em);
                        self.phase = Phase::AfterCall;
                    } else if is_name_start(b) {
                        self.key.clear();
                        self.phase = Phase::ArgName;
                    } else {
                        let at = em.char_offset(text, pos);
                        let expected = "a keyword argument";
                        if let Some(step) = self.fail(em, Problem::Unexpected { expected, at }, pos)
                        {
                            return step;
                        }
                    }
                }
                Phase::ArgName => {
                    let run = rest
                        .bytes()
                        .take_while(|&c| c.is_ascii_alphanumeric() || c == b'_')
                        .count();
                    self.key.push_str(&rest[..run]);
                    pos += run;
                    if self.key.len() > MAX_NAME {
                        let what = "an argument name";
                        let problem = Problem::TooLarge {
                            what,
                            limit: MAX_NAME,
                        };
                        if let Some(step) = self.fail(em, problem, pos) {
                            return step;
                        }
                    } else if run < rest.len() {
                        self.phase = Phase::Equals;
                    }
                }
                Phase::Equals => {
                    if is_json_ws(b) {
                        pos += 1;
                        continue;
                    }
                    if b != b'=' {
                        let expected = format!(
                            "'=' after argument {:?} (positional arguments are not supported)",
                            self.key
                        );
                        let at = em.char_offset(text, pos);
                        let problem = Problem::Unexpected {
                            expected: &expected,
                            at,
                        };
                        if let Some(step) = self.fail(em, problem, pos) {
                            return step;
                        }
                        continue;
                    }
                    pos += 1;
                    self.out.clear();
                    if self.arguments_written > 0 {
                        self.out.push_str(", ");
                    }
                    self.out.push('"');
                    escape_json_into(&mut self.out, &self.key);
                    self.out.push_str("\": ");
                    self.slot.arguments(em, &self.out);
                    self.arguments_written += 1;
                    self.literal.reset();
                    self.phase = Phase::Value;
                }
                Phase::Value => {
                    self.out.clear();
                    let step = self.literal.feed(rest, &mut self.out);
                    self.slot.arguments(em, &self.out);
                    match step {
                        Step::NeedMore => return Step::NeedMore,
                        Step::Ended { consumed } => {
                            pos += consumed;
                            self.phase = Phase::AfterValue;
                        }
                        Step::Invalid { at, reason } => {
                            pos += at;
                            let detail = format!(
                                "argument {:?} at character {}: {reason}",
                                self.key,
                                em.char_offset(text, pos)
                            );
                            if let Some(step) = self.fail(em, Problem::Invalid(detail), pos) {
                                return step;
                            }
                        }
                    }
                }
                Phase::AfterValue => {
                    if is_json_ws(b) {
                        pos += 1;
                    } else if b == b',' {
                        pos += 1;
                        self.phase = Phase::ArgStart;
                    } else if b == b')' {
                        pos += 1;
                        self.slot.arguments(em, "}");
                        self.slot.complete(em);
                        self.phase = Phase::AfterCall;
                    } else {
                        let at = em.char_offset(text, pos);
                        let expected = "',' or ')'";
                        if let Some(step) = self.fail(em, Problem::Unexpected { expected, at }, pos)
                        {
                            return step;
                        }
                    }
                }
                Phase::AfterCall => {
                    if is_json_ws(b) {
                        pos += 1;
                    } else if b == b',' {
                        pos += 1;
                        self.phase = Phase::CallStart { first: false };
                    } else if b == b']' && self.bracketed {
                        pos += 1;
                        self.phase = Phase::Close;
                        if self.closer.is_none() {
                            return Step::Ended { consumed: pos };
                        }
                    } else if !self.bracketed && (is_name_start(b) || b == b'<') {
                        // Olmo 3: one call per line, no brackets.
                        self.phase = Phase::CallStart { first: false };
                    } else {
                        return Step::Ended { consumed: pos };
                    }
                }
                Phase::Close => {
                    let Some(closer) = self.closer else {
                        return Step::Ended { consumed: pos };
                    };
                    if is_json_ws(b) && self.expect.matched() == 0 {
                        pos += 1;
                        continue;
                    }
                    return self.expect.close(&[closer], text, pos, em);
                }
                Phase::Recover => {
                    let n = self.closer_index();
                    return self.recover[n].step(rest, pos);
                }
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::ArgStart | Phase::ArgName | Phase::Equals | Phase::Value | Phase::AfterValue => {
                self.slot.fail_incomplete(em, "the call")
            }
            Phase::CallStart { .. } => {
                if let Some(closer) = self.closer {
                    self.slot.raw(self.expect.partial(&[closer]));
                }
                self.slot.fallback(em);
            }
            _ => self.slot.fallback(em),
        }
    }
}
