//! Gemma 4: `<|tool_call>call:NAME{key:<|"|>text<|"|>,n:42,ok:true,obj:{k:<|"|>v<|"|>}}<tool_call|>`.
//!
//! The arguments are an object with bare keys, strings between `<|"|>` delimiters and bare
//! numbers / `true` / `false` / `null`, nested with `{}` and `[]`. They are turned into JSON as
//! they arrive (strings stream). Tolerated, as the models write them: a missing opening
//! delimiter (`query:weather in Tokyo<|"|>`), plain `"…"` / `'…'` strings inside containers,
//! missing commas between members, `<turn|>` instead of `<tool_call|>`. Calls follow each other
//! with no separator; each is its own section.

use super::super::super::emit::Emitter;
use super::super::super::pyliteral::escape_json_into;
use super::super::scan::MAX_NAME;
use super::super::{
    clean_name, read_run, CallSlot, Expect, Expected, Opener, Problem, Recover, Run, Step,
    ToolContext, ToolSection,
};

const OPEN: &str = "<|tool_call>";
const CALL: &str = "call:";
const CLOSERS: &[&str] = &["<tool_call|>", "<turn|>"];
const DELIMITER: &[u8] = b"<|\"|>";
const MAX_DEPTH: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `call:` after the opener.
    Call,
    /// NAME up to `{`.
    Name,
    Arguments,
    /// After the arguments: the closer.
    Close,
    Recover,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Args {
    /// A key (or the end of the object).
    Key {
        first: bool,
    },
    /// A value: of a member (after its key, or the arguments themselves), or an element of an
    /// array (`, ` before all but the first; the array may end before the first).
    Value {
        first: bool,
        member: bool,
    },
    /// Matching the `<|"|>` that opens a string; `matched` bytes so far.
    Opening {
        matched: usize,
    },
    /// Inside a delimited string; `held` bytes of a possible closing delimiter so far.
    Text {
        held: usize,
    },
    /// Inside a plain `"` / `'` string; after a backslash when `escaped`.
    Quoted {
        quote: u8,
        escaped: bool,
    },
    /// A bare token (number, literal, or an undelimited string).
    Bare,
    /// After a value: `,` or the end of the container.
    After,
    Done,
}

pub struct Gemma4 {
    phase: Phase,
    slot: CallSlot,
    expect: Expect,
    name: String,
    args: Args,
    /// Open containers: true for an object.
    stack: Vec<bool>,
    bare: String,
    out: String,
    limit: usize,
    recover: Recover,
}

impl Gemma4 {
    pub fn new(context: ToolContext) -> Gemma4 {
        Gemma4 {
            phase: Phase::Call,
            slot: CallSlot::new(context.max_buffer),
            expect: Expect::default(),
            name: String::new(),
            args: Args::Done,
            stack: Vec::new(),
            bare: String::new(),
            out: String::new(),
            limit: context.max_buffer,
            recover: Recover::new(CLOSERS),
        }
    }

    /// Start the value of a member or element (`, ` before all but the first).
    fn separator(&mut self, first: bool) {
        if !first {
            self.out.push_str(", ");
        }
    }

    /// A bare token is complete: a number or literal as it is, anything else a string.
    fn end_bare(&mut self) {
        let token = self.bare.trim();
        let json_like = matches!(token, "true" | "false" | "null")
            || serde_json::from_str::<serde_json::Number>(token).is_ok();
        if json_like {
            self.out.push_str(token);
        } else {
            self.out.push('"');
            escape_json_into(&mut self.out, token);
            self.out.push('"');
        }
        self.bare.clear();
    }

    fn close(&mut self, b: u8) -> Result<(), &'static str> {
        match self.stack.pop() {
            Some(true) if b == b'}' => self.out.push('}'),
            Some(false) if b == b']' => self.out.push(']'),
            _ => return Err("mismatched closing bracket"),
        }
        self.args = if self.stack.is_empty() {
            Args::Done
        } else {
            Args::After
        };
        Ok(())
    }

    fn open(&mut self, b: u8) -> Result<(), &'static str> {
        if self.stack.len() >= MAX_DEPTH {
            return Err("arguments nest deeper than 512 levels");
        }
        let object = b == b'{';
        self.stack.push(object);
        self.out.push(b as char);
        self.args = if object {
            Args::Key { first: true }
        } else {
            Args::Value {
                first: true,
                member: false,
            }
        };
        Ok(())
    }

    /// Convert `text` into `self.out`; `Ended` after the closing `}` of the arguments.
    fn convert(&mut self, text: &str) -> Step {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match self.args {
                Args::Text { held } => {
                    if held == 0 {
                        let run = bytes[i..]
                            .iter()
                            .position(|&c| c == b'<')
                            .unwrap_or(bytes.len() - i);
                        escape_json_into(&mut self.out, &text[i..i + run]);
                        i += run;
                        if i == bytes.len() {
                            break;
                        }
                    }
                    let b = bytes[i];
                    if b == DELIMITER[held] {
                        self.args = if held + 1 == DELIMITER.len() {
                            self.out.push('"');
                            Args::After
                        } else {
                            Args::Text { held: held + 1 }
                        };
                        i += 1;
                    } else {
                        // Not the delimiter after all: what was held is text (ASCII).
                        let partial = std::str::from_utf8(&DELIMITER[..held]).unwrap_or("");
                        escape_json_into(&mut self.out, partial);
                        if held == 0 {
                            escape_json_into(&mut self.out, "<");
                            i += 1;
                        }
                        self.args = Args::Text { held: 0 };
                    }
                    continue;
                }
                Args::Quoted { quote, escaped } => {
                    let c = text[i..].chars().next().unwrap_or('\u{fffd}');
                    i += c.len_utf8();
                    self.args = Args::Quoted {
                        quote,
                        escaped: false,
                    };
                    match c {
                        _ if escaped => {
                            let c = match c {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            };
                            escape_json_into(&mut self.out, c.encode_utf8(&mut [0; 4]));
                        }
                        '\\' => {
                            self.args = Args::Quoted {
                                quote,
                                escaped: true,
                            }
                        }
                        _ if c as u32 == u32::from(quote) => {
                            self.out.push('"');
                            self.args = Args::After;
                        }
                        _ => escape_json_into(&mut self.out, c.encode_utf8(&mut [0; 4])),
                    }
                    continue;
                }
                Args::Opening { matched } => {
                    if b != DELIMITER[matched] {
                        return Step::Invalid {
                            at: i,
                            reason: "expected a value",
                        };
                    }
                    self.args = if matched + 1 == DELIMITER.len() {
                        self.out.push('"');
                        Args::Text { held: 0 }
                    } else {
                        Args::Opening {
                            matched: matched + 1,
                        }
                    };
                }
                Args::Bare => {
                    let run = bytes[i..]
                        .iter()
                        .position(|&c| matches!(c, b',' | b'}' | b']' | b'<'))
                        .unwrap_or(bytes.len() - i);
                    if self.bare.len() + run > self.limit {
                        return Step::Invalid {
                            at: i,
                            reason: "a value without delimiters is too long",
                        };
                    }
                    self.bare.push_str(&text[i..i + run]);
                    i += run;
                    if i == bytes.len() {
                        break;
                    }
                    if bytes[i] == b'<' {
                        // `key:text<|"|>`: the opening delimiter was left out.
                        self.out.push('"');
                        escape_json_into(&mut self.out, self.bare.trim_start());
                        self.bare.clear();
                        self.args = Args::Text { held: 0 };
                    } else {
                        self.end_bare();
                        self.args = Args::After;
                    }
                    continue;
                }
                Args::Key { first } => {
                    if self.bare.is_empty() && (b.is_ascii_whitespace() || (b == b',' && !first)) {
                        i += 1;
                        continue;
                    }
                    if b == b'}' && self.bare.is_empty() {
                        if let Err(reason) = self.close(b) {
                            return Step::Invalid { at: i, reason };
                        }
                        i += 1;
                        if self.args == Args::Done {
                            return Step::Ended { consumed: i };
                        }
                        continue;
                    }
                    let run = bytes[i..]
                        .iter()
                        .position(|&c| c == b':')
                        .unwrap_or(bytes.len() - i);
                    if self.bare.len() + run > MAX_NAME {
                        return Step::Invalid {
                            at: i,
                            reason: "an argument name is too long",
                        };
                    }
                    self.bare.push_str(&text[i..i + run]);
                    i += run;
                    if i == bytes.len() {
                        break;
                    }
                    if !first {
                        self.out.push_str(", ");
                    }
                    let key = self.bare.trim().trim_matches(|c| c == '"' || c == '\'');
                    let key = key.strip_prefix("<|\"|>").unwrap_or(key);
                    let key = key.strip_suffix("<|\"|>").unwrap_or(key);
                    self.out.push('"');
                    escape_json_into(&mut self.out, key);
                    self.out.push_str("\": ");
                    self.bare.clear();
                    self.args = Args::Value {
                        first: false,
                        member: true,
                    };
                }
                Args::Value { first, member } => {
                    if b.is_ascii_whitespace() {
                        i += 1;
                        continue;
                    }
                    if !member {
                        if b == b']' && first {
                            if let Err(reason) = self.close(b) {
                                return Step::Invalid { at: i, reason };
                            }
                            i += 1;
                            continue;
                        }
                        self.separator(first);
                    }
                    match b {
                        b'<' => self.args = Args::Opening { matched: 1 },
                        b'{' | b'[' => {
                            if let Err(reason) = self.open(b) {
                                return Step::Invalid { at: i, reason };
                            }
                        }
                        b'"' | b'\'' => {
                            self.out.push('"');
                            self.args = Args::Quoted {
                                quote: b,
                                escaped: false,
                            };
                        }
                        b',' | b'}' | b']' => {
                            return Step::Invalid {
                                at: i,
                                reason: "expected a value",
                            }
                        }
                        _ => {
                            self.bare.clear();
                            self.args = Args::Bare;
                            continue;
                        }
                    }
                }
                Args::After => {
                    if b.is_ascii_whitespace() {
                        i += 1;
                        continue;
                    }
                    let object = self.stack.last() == Some(&true);
                    match b {
                        b',' => {
                            self.args = if object {
                                Args::Key { first: false }
                            } else {
                                Args::Value {
                                    first: false,
                                    member: false,
                                }
                            };
                        }
                        b'}' | b']' => {
                            if let Err(reason) = self.close(b) {
                                return Step::Invalid { at: i, reason };
                            }
                            if self.args == Args::Done {
                                return Step::Ended { consumed: i + 1 };
                            }
                        }
                        // `a:<|"|>x<|"|>b:1`: a missing comma between members.
                        _ if object => {
                            self.args = Args::Key { first: false };
                            continue;
                        }
                        _ => {
                            return Step::Invalid {
                                at: i,
                                reason: "expected ',' or the end of the container",
                            }
                        }
                    }
                }
                Args::Done => return Step::Ended { consumed: i },
            }
            i += 1;
        }
        Step::NeedMore
    }
}

impl ToolSection for Gemma4 {
    fn start_markers(&self) -> &'static [&'static str] {
        &[OPEN]
    }

    fn begin(&mut self, _opener: Opener, offset: u64) {
        self.phase = Phase::Call;
        self.slot.begin(OPEN, offset);
        self.expect.reset();
        self.name.clear();
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        let mut pos = 0;
        while pos < text.len() {
            let rest = &text[pos..];
            match self.phase {
                Phase::Call => match self.expect.feed(&[CALL], rest) {
                    Expected::Partial => {
                        self.slot.raw(rest);
                        return Step::NeedMore;
                    }
                    Expected::Complete { consumed, .. } => {
                        self.slot.raw(&rest[..consumed]);
                        pos += consumed;
                        self.phase = Phase::Name;
                    }
                    Expected::Mismatch { consumed, .. } => {
                        self.slot.raw(&rest[..consumed]);
                        self.slot.fallback(em);
                        return Step::Ended {
                            consumed: pos + consumed,
                        };
                    }
                },
                Phase::Name => {
                    let end = |b: u8| matches!(b, b'{' | b'\n' | b'<');
                    let run = read_run(&mut self.name, rest, end, MAX_NAME);
                    let taken = run.taken(rest.len());
                    self.slot.raw(&rest[..taken]);
                    pos += taken;
                    let name = match run {
                        Run::Open => return Step::NeedMore,
                        Run::End { at } if rest.as_bytes()[at] == b'{' => clean_name(&self.name),
                        _ => None,
                    };
                    let Some(name) = name else {
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    };
                    self.slot.announce(em, name, None);
                    self.stack.clear();
                    self.bare.clear();
                    self.args = Args::Value {
                        first: true,
                        member: true,
                    };
                    self.phase = Phase::Arguments;
                }
                Phase::Arguments => {
                    self.out.clear();
                    let step = self.convert(rest);
                    let out = std::mem::take(&mut self.out);
                    self.slot.arguments(em, &out);
                    self.out = out;
                    match step {
                        Step::NeedMore => return Step::NeedMore,
                        Step::Ended { consumed } => {
                            pos += consumed;
                            self.slot.complete(em);
                            self.expect.reset();
                            self.phase = Phase::Close;
                        }
                        Step::Invalid { at, reason } => {
                            pos += at;
                            let at = em.char_offset(text, pos);
                            self.slot.fail(
                                em,
                                Problem::Invalid(format!(
                                    "invalid arguments at character {at}: {reason}"
                                )),
                            );
                            self.recover.reset();
                            self.phase = Phase::Recover;
                        }
                    }
                }
                Phase::Close => return self.expect.close(CLOSERS, text, pos, em),
                Phase::Recover => return self.recover.step(rest, pos),
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Arguments => self.slot.fail_incomplete(em, "the call's arguments"),
            Phase::Close | Phase::Recover => {}
            Phase::Call | Phase::Name => self.slot.fallback(em),
        }
    }
}
