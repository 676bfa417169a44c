//! Mistral: `[TOOL_CALLS]` followed by
//!
//! * tokenizer v13+ (Magistral, Ministral-3, Devstral-2): `NAME[ARGS]{json}`, repeated with
//!   another `[TOOL_CALLS]` per call;
//! * v11: `NAME{json}` (and `NAME[CALL_ID]id[ARGS]{json}`, whose id is forwarded);
//! * older: a JSON array of `{"name": ..., "arguments": {...}}` objects.
//!
//! Generated ids are 9 alphanumerics, as Mistral's own tooling requires.

use super::super::super::emit::Emitter;
use super::super::json_args::JsonArgs;
use super::super::scan::MAX_NAME;
use super::super::{
    clean_name, is_json_ws, read_run, CallSlot, Expect, Expected, Opener, Problem, Run, Step,
    ToolContext, ToolSection,
};
use super::json_calls::{JsonCalls, MISTRAL_ARRAY};

const TOOL_CALLS: &str = "[TOOL_CALLS]";
const ARGS: &str = "[ARGS]";
const CALL_ID: &str = "[CALL_ID]";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Right after `[TOOL_CALLS]`: `[` opens the old array form, anything else is a name.
    Start,
    Name,
    /// `[ARGS]` or `[CALL_ID]` after the name.
    Tag,
    CallId,
    Arguments,
    /// The old form: an array of JSON envelopes.
    Array,
}

pub struct Mistral {
    phase: Phase,
    slot: CallSlot,
    expect: Expect,
    name: String,
    id: String,
    json: JsonArgs,
    array: JsonCalls,
    /// The raw text of the section up to the array's `[`, for a fallback.
    raw: String,
    started_at: u64,
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
            array: JsonCalls::new(&MISTRAL_ARRAY, context),
            raw: String::new(),
            started_at: 0,
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

    /// The call is not a call: its text goes back, what follows is text again.
    fn give_up(&mut self, em: &mut Emitter<'_>, consumed: usize) -> Step {
        self.slot.fallback(em);
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
        self.raw.clear();
        self.raw.push_str(TOOL_CALLS);
        self.started_at = offset;
        self.name.clear();
        self.id.clear();
        self.expect.reset();
    }

    #[inline]
    fn absorb(&mut self, text: &str, em: &mut Emitter<'_>) -> bool {
        match self.phase {
            Phase::Arguments => self.json.absorb(text, &mut self.slot, em),
            Phase::Array => self.array.absorb(text, em),
            _ => false,
        }
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        let mut pos = 0;
        while pos < text.len() {
            let rest = &text[pos..];
            match self.phase {
                Phase::Start => {
                    let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
                    self.slot.raw(&rest[..blank]);
                    self.raw.push_str(&rest[..blank]);
                    pos += blank;
                    if pos == text.len() {
                        break;
                    }
                    if text.as_bytes()[pos] == b'[' {
                        self.raw.push('[');
                        pos += 1;
                        self.array.begin_array(&self.raw, self.started_at);
                        self.phase = Phase::Array;
                    } else {
                        self.phase = Phase::Name;
                    }
                }
                Phase::Name => {
                    let run = read_run(
                        &mut self.name,
                        rest,
                        |b| matches!(b, b'[' | b'{' | b'\n'),
                        MAX_NAME,
                    );
                    let taken = run.taken(rest.len());
                    self.slot.raw(&rest[..taken]);
                    pos += taken;
                    let end = match run {
                        Run::Open => return Step::NeedMore,
                        Run::Over { .. } => return self.give_up(em, pos),
                        Run::End { at } => rest.as_bytes()[at],
                    };
                    match end {
                        // v11: the arguments follow the name directly.
                        b'{' if self.announce(em) => {
                            self.json.reset();
                            self.phase = Phase::Arguments;
                        }
                        b'[' => self.phase = Phase::Tag,
                        _ => return self.give_up(em, pos),
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
                                return self.give_up(em, pos);
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
                        return self.give_up(em, pos + consumed);
                    }
                },
                Phase::CallId => {
                    let run = read_run(&mut self.id, rest, |b| b == b'[', MAX_NAME);
                    let taken = run.taken(rest.len());
                    self.slot.raw(&rest[..taken]);
                    pos += taken;
                    match run {
                        Run::Open => return Step::NeedMore,
                        Run::Over { .. } => return self.give_up(em, pos),
                        Run::End { .. } => self.phase = Phase::Tag,
                    }
                }
                Phase::Arguments => match self.json.feed(rest, &mut self.slot, em) {
                    Step::NeedMore => return Step::NeedMore,
                    Step::Ended { consumed } => {
                        // The next call, if any, starts with its own `[TOOL_CALLS]`.
                        self.slot.complete(em);
                        return Step::Ended {
                            consumed: pos + consumed,
                        };
                    }
                    Step::Invalid { at, reason } => {
                        // The rest of the section is unreadable: it ends here, text follows.
                        let at_char = em.char_offset(rest, at);
                        self.slot.fail(
                            em,
                            Problem::InvalidJson {
                                at: at_char,
                                reason,
                            },
                        );
                        return Step::Ended { consumed: pos + at };
                    }
                },
                Phase::Array => {
                    return match self.array.feed(rest, em) {
                        Step::Ended { consumed } | Step::Invalid { at: consumed, .. } => {
                            Step::Ended {
                                consumed: pos + consumed,
                            }
                        }
                        Step::NeedMore => Step::NeedMore,
                    }
                }
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Arguments => self.json.finish_call(&mut self.slot, em),
            Phase::Array => self.array.finish(em),
            Phase::Tag => {
                let partial = self.expect.partial(&[ARGS, CALL_ID]);
                self.slot.raw(partial);
                self.slot.fallback(em);
            }
            _ => self.slot.fallback(em),
        }
    }
}
