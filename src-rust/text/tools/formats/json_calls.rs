//! Calls written as JSON envelopes, `{"name": "f", "arguments": {...}}`, alone or in a JSON
//! array, after a start marker (or as the first thing of the answer) and before an optional
//! closing marker. One grammar row per format:
//!
//! * `hermes` (Hermes, Qwen2.5, QwQ, Qwen3 JSON, Granite 4), `ernie45`, `longcat`:
//!   `<tool_call>{json}</tool_call>` with their own tags, one call per block.
//! * `llama3-json`: optional `<|python_tag|>`, objects separated by `;`, no closing tag; without
//!   the tag only an answer that starts with `{`.
//! * `internlm`: `<|action_start|><|plugin|>{json}<|action_end|>` (`"parameters"`).
//! * `granite`: `<|tool_call|>[...]`, `<tool_call>[...]` or `<function_call>{...}`, no closer.
//! * `xlam`: the answer is a JSON array (or an object), also inside `<tool_call>` or a
//!   ```` ```json ```` fence.
//! * `phi4-mini`: `functools[...]`; `jamba`, `hunyuan`: `<tool_calls>[...]</tool_calls>`;
//!   `cohere`: `<|START_ACTION|>[{"tool_name": .., "parameters": ..}]<|END_ACTION|>`.
//!
//! The call ends where its JSON ends (a closing tag inside a string argument is just text),
//! followed by optional whitespace and the closer. A block whose content is not JSON, or an
//! object without a usable name, is given back as text. A missing closer leaves the calls
//! standing; what follows is ordinary text.

use super::super::super::emit::Emitter;
use super::super::envelope::{Envelope, Finished, Outcome};
use super::super::{is_json_ws, CallSlot, Expect, Opener, Recover, Step, ToolContext, ToolSection};

/// What follows a start marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// One envelope (`{`).
    Object,
    /// A JSON array of envelopes (`[`).
    Array,
    /// Either of them.
    Either,
}

#[derive(Debug, PartialEq, Eq)]
pub struct JsonGrammar {
    /// Start markers, and the closer each one expects (`None`: the section ends with its
    /// JSON).
    pub openers: &'static [&'static str],
    pub closers: &'static [Option<&'static str>],
    /// Opens a section as the first non-blank character of the answer (closer: none).
    pub leading: Option<char>,
    pub body: Body,
    /// After a call, `;` or another `{` goes on with the next call (Llama 3).
    pub chained: bool,
}

pub const HERMES: JsonGrammar = JsonGrammar {
    openers: &["<tool_call>"],
    closers: &[Some("</tool_call>")],
    leading: None,
    body: Body::Object,
    chained: false,
};

pub const ERNIE45: JsonGrammar = HERMES;

pub const LONGCAT: JsonGrammar = JsonGrammar {
    openers: &["<longcat_tool_call>"],
    closers: &[Some("</longcat_tool_call>")],
    ..HERMES
};

pub const LLAMA3_JSON: JsonGrammar = JsonGrammar {
    openers: &["<|python_tag|>"],
    closers: &[None],
    leading: Some('{'),
    body: Body::Object,
    chained: true,
};

pub const INTERNLM: JsonGrammar = JsonGrammar {
    openers: &["<|action_start|><|plugin|>"],
    closers: &[Some("<|action_end|>")],
    ..HERMES
};

pub const GRANITE: JsonGrammar = JsonGrammar {
    openers: &["<|tool_call|>", "<tool_call>", "<function_call>"],
    closers: &[None, None, None],
    leading: None,
    body: Body::Either,
    chained: false,
};

pub const XLAM: JsonGrammar = JsonGrammar {
    openers: &["```json", "<tool_call>", "[TOOL_CALLS]"],
    closers: &[Some("```"), Some("</tool_call>"), None],
    leading: Some('['),
    body: Body::Either,
    chained: false,
};

pub const PHI4_MINI: JsonGrammar = JsonGrammar {
    openers: &["functools"],
    closers: &[None],
    leading: None,
    body: Body::Array,
    chained: false,
};

pub const JAMBA: JsonGrammar = JsonGrammar {
    openers: &["<tool_calls>"],
    closers: &[Some("</tool_calls>")],
    leading: None,
    body: Body::Either,
    chained: false,
};

pub const HUNYUAN: JsonGrammar = JAMBA;

pub const COHERE: JsonGrammar = JsonGrammar {
    openers: &["<|START_ACTION|>"],
    closers: &[Some("<|END_ACTION|>")],
    ..JAMBA
};

/// The old Mistral form after `[TOOL_CALLS]` (entered by the Mistral parser at its `[`).
pub const MISTRAL_ARRAY: JsonGrammar = JsonGrammar {
    openers: &[],
    closers: &[],
    leading: None,
    body: Body::Array,
    chained: false,
};

pub fn build(grammar: &'static JsonGrammar, context: ToolContext) -> Box<dyn ToolSection> {
    Box::new(JsonCalls::new(grammar, context))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// After the opener: blanks, then `{` or `[`.
    Open,
    /// In the array, before an object (or the `]` of an empty array).
    Item {
        first: bool,
    },
    Envelope,
    /// In the array, after an object: `,` or `]`.
    AfterItem,
    /// After an object (chained formats): `;` or `{` go on.
    Next,
    /// Blanks, then the closer.
    Close,
    /// After broken JSON in an announced call: skip to the closer.
    Recover,
}

pub struct JsonCalls {
    grammar: &'static JsonGrammar,
    phase: Phase,
    closer: Option<&'static str>,
    slot: CallSlot,
    envelope: Envelope,
    /// Inside the `[...]` of an array of calls.
    in_array: bool,
    close: Expect,
    recover: Option<Recover>,
}

impl JsonCalls {
    pub fn new(grammar: &'static JsonGrammar, context: ToolContext) -> JsonCalls {
        JsonCalls {
            grammar,
            phase: Phase::Open,
            closer: None,
            slot: CallSlot::new(context.max_buffer),
            envelope: Envelope::new(context.max_buffer),
            in_array: false,
            close: Expect::default(),
            recover: None,
        }
    }

    /// Start inside an array whose `[` is the end of `raw` (given back as text if no call
    /// comes of it).
    pub fn begin_array(&mut self, raw: &str, offset: u64) {
        self.begin_with(raw, None, offset);
        self.in_array = true;
        self.phase = Phase::Item { first: true };
    }

    fn begin_with(&mut self, raw: &str, closer: Option<&'static str>, offset: u64) {
        self.phase = Phase::Open;
        self.in_array = false;
        self.closer = closer;
        self.slot.begin(raw, offset);
        self.envelope.reset();
        self.close.reset();
        self.recover = closer.map(|c| Recover::new(&[c]));
    }

    /// The envelope of the current call starts at the next byte.
    fn envelope(&mut self) -> Phase {
        self.envelope.reset();
        Phase::Envelope
    }
}

impl ToolSection for JsonCalls {
    fn start_markers(&self) -> &'static [&'static str] {
        self.grammar.openers
    }

    fn leading(&self) -> Option<char> {
        self.grammar.leading
    }

    fn begin(&mut self, opener: Opener, offset: u64) {
        match opener {
            Opener::Marker(n) => {
                self.begin_with(self.grammar.openers[n], self.grammar.closers[n], offset)
            }
            Opener::Leading => self.begin_with("", None, offset),
        }
    }

    #[inline]
    fn absorb(&mut self, text: &str, em: &mut Emitter<'_>) -> bool {
        if self.phase == Phase::Envelope && self.slot.is_announced() && self.envelope.absorbs(text)
        {
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
                Phase::Open | Phase::Item { .. } => {
                    let allowed = self.slot.allowance(rest);
                    let blank = allowed.bytes().take_while(|&b| is_json_ws(b)).count();
                    self.slot.raw(&rest[..blank]);
                    pos += blank;
                    if pos == text.len() {
                        break;
                    }
                    let next = text.as_bytes()[pos];
                    let body = self.grammar.body;
                    self.phase = match (self.phase, next) {
                        _ if blank == allowed.len() => Phase::Open,
                        (Phase::Open, b'{') if body != Body::Array => self.envelope(),
                        (Phase::Open, b'[') if body != Body::Object => {
                            self.slot.raw("[");
                            pos += 1;
                            self.in_array = true;
                            Phase::Item { first: true }
                        }
                        (Phase::Item { first }, b'{') => {
                            if !first {
                                let offset = em.char_offset(text, pos);
                                self.slot.begin("", offset);
                            }
                            self.envelope()
                        }
                        (Phase::Item { first: true }, b']') => {
                            // `[]` is not a call.
                            self.slot.raw("]");
                            pos += 1;
                            Phase::Open
                        }
                        _ => Phase::Open,
                    };
                    if self.phase == Phase::Open {
                        // Not a JSON call (or blanks beyond the cap): the opener was text.
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    }
                }
                Phase::Envelope => match self.envelope.call(rest, &mut self.slot, em) {
                    Outcome::NeedMore { consumed } => pos += consumed,
                    Outcome::Done { consumed, how } => {
                        pos += consumed;
                        match how {
                            Finished::GivenBack => return Step::Ended { consumed: pos },
                            Finished::Broken if self.closer.is_none() => {
                                // No closing marker to resynchronise on: the rest is text.
                                return Step::Ended { consumed: pos };
                            }
                            Finished::Broken => {
                                if let Some(recover) = &mut self.recover {
                                    recover.reset();
                                }
                                self.phase = Phase::Recover;
                            }
                            Finished::Called => {
                                self.slot.complete(em);
                                self.phase = if self.in_array {
                                    Phase::AfterItem
                                } else if self.grammar.chained {
                                    Phase::Next
                                } else {
                                    Phase::Close
                                };
                            }
                        }
                    }
                },
                Phase::AfterItem => {
                    pos += rest.bytes().take_while(|&b| is_json_ws(b)).count();
                    if pos == text.len() {
                        break;
                    }
                    match text.as_bytes()[pos] {
                        b',' => {
                            pos += 1;
                            self.phase = Phase::Item { first: false };
                        }
                        b']' => {
                            pos += 1;
                            self.in_array = false;
                            self.phase = Phase::Close;
                        }
                        // No closing bracket: the rest is text.
                        _ => return Step::Ended { consumed: pos },
                    }
                }
                Phase::Next => {
                    let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
                    if blank == rest.len() {
                        // Blanks between calls (or after the last one) are dropped.
                        return Step::NeedMore;
                    }
                    let next = rest.as_bytes()[blank];
                    if next != b';' && next != b'{' {
                        return Step::Ended {
                            consumed: pos + blank,
                        };
                    }
                    pos += blank + usize::from(next == b';');
                    let offset = em.char_offset(text, pos);
                    self.slot.begin(if next == b';' { ";" } else { "" }, offset);
                    self.phase = Phase::Open;
                }
                Phase::Close => {
                    let Some(closer) = self.closer else {
                        return Step::Ended { consumed: pos };
                    };
                    if self.close.matched() == 0 {
                        pos += rest.bytes().take_while(|&b| is_json_ws(b)).count();
                        if pos == text.len() {
                            break;
                        }
                    }
                    return self.close.close(&[closer], text, pos, em);
                }
                Phase::Recover => {
                    return match &mut self.recover {
                        Some(recover) => recover.step(rest, pos),
                        None => Step::Ended { consumed: pos },
                    };
                }
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        if self.phase == Phase::Envelope && self.slot.is_announced() {
            self.slot.fail_incomplete(em, "the call's JSON");
        } else {
            self.slot.fallback(em);
        }
    }
}
