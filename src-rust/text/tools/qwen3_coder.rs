//! Qwen3-Coder / Qwen3.5 XML / Step-3.5 (`<tool_call>`) and Seed-OSS (`<seed:tool_call>`):
//!
//! ```text
//! <tool_call>
//! <function=get_weather>
//! <parameter=city>
//! Paris
//! </parameter>
//! </function>
//! </tool_call>
//! ```
//!
//! Values are raw text: one wrapping newline is trimmed on each side, and the request's JSON
//! schema types them (strings when no schema describes the parameter). String values stream
//! as JSON strings as they arrive. A missing `</parameter>` is tolerated when the next
//! `<parameter=` or `</function>` follows. Several functions in one block are several calls.

use std::sync::Arc;

use super::super::emit::Emitter;
use super::super::matcher::{MarkerScanner, Markers, Scan};
use super::xml_args::{value_type, ArgsBuilder, Untyped};
use super::{
    clean_name, is_json_ws, CallSlot, Expect, Expected, Opener, Step, ToolContext, ToolSection,
    ERR_INCOMPLETE, ERR_INVALID, ERR_TOO_LARGE,
};

const OPENERS: &[&str] = &["<tool_call>", "<seed:tool_call>"];
const CLOSERS: [&str; 2] = ["</tool_call>", "</seed:tool_call>"];
const FUNCTION: &str = "<function=";
const PARAMETER: &str = "<parameter=";
const FUNCTION_END: &str = "</function>";
const MAX_NAME: usize = 256;

/// Value terminators, in tie-break order (a trimmed newline first).
const VALUE_ENDS: &[&str] = &[
    "\n</parameter>",
    "</parameter>",
    "\n<parameter=",
    "<parameter=",
    "\n</function>",
    "</function>",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// After the block opener: blanks, then `<function=`.
    Block,
    /// Reading NAME up to `>`.
    Name,
    /// Between parameters: `<parameter=`, `</function>` (or the block closer).
    Params,
    /// Reading KEY up to `>`.
    Key,
    Value,
    /// After `</function>`: another `<function=` or the block closer.
    AfterFunction,
    /// Something went wrong in an announced call: skip to the block closer.
    Recover,
}

pub struct Qwen3Coder {
    context: ToolContext,
    phase: Phase,
    closer: &'static str,
    slot: CallSlot,
    args: ArgsBuilder,
    expect: Expect,
    name: String,
    key: String,
    value_start: bool,
    value_markers: Arc<Markers>,
    value_scan: MarkerScanner,
    closer_markers: [Arc<Markers>; 2],
    recover: MarkerScanner,
}

impl Qwen3Coder {
    pub fn new(context: ToolContext) -> Qwen3Coder {
        Qwen3Coder {
            slot: CallSlot::new(context.max_buffer),
            args: ArgsBuilder::new(context.max_buffer),
            context,
            phase: Phase::Block,
            closer: CLOSERS[0],
            expect: Expect::default(),
            name: String::new(),
            key: String::new(),
            value_start: false,
            value_markers: Markers::shared(VALUE_ENDS),
            value_scan: MarkerScanner::new(),
            closer_markers: [
                Markers::shared(&[CLOSERS[0]]),
                Markers::shared(&[CLOSERS[1]]),
            ],
            recover: MarkerScanner::new(),
        }
    }

    fn fail(&mut self, em: &mut Emitter<'_>, code: &str, detail: &str) {
        self.slot.fail(em, code, detail);
        self.recover.reset();
        self.phase = Phase::Recover;
    }

    /// Read a NAME/KEY up to `>` into `buffer`; Some(consumed) once `>` is seen, Err on a
    /// character that cannot be in a name.
    fn read_until_gt(buffer: &mut String, text: &str) -> Result<Option<usize>, ()> {
        match text
            .bytes()
            .position(|b| b == b'>' || b == b'\n' || b == b'<')
        {
            Some(at) if text.as_bytes()[at] == b'>' => {
                buffer.push_str(&text[..at]);
                if buffer.len() > MAX_NAME {
                    return Err(());
                }
                Ok(Some(at + 1))
            }
            Some(_) => Err(()),
            None => {
                buffer.push_str(text);
                if buffer.len() > MAX_NAME {
                    return Err(());
                }
                Ok(None)
            }
        }
    }
}

impl ToolSection for Qwen3Coder {
    fn start_markers(&self) -> &'static [&'static str] {
        OPENERS
    }

    fn begin(&mut self, opener: Opener, offset: u64) {
        let n = match opener {
            Opener::Marker(n) => n,
            Opener::Leading => 0,
        };
        self.closer = CLOSERS[n];
        self.phase = Phase::Block;
        self.slot.begin(OPENERS[n], offset);
        self.expect.reset();
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        let mut pos = 0;
        while pos < text.len() {
            let rest = &text[pos..];
            match self.phase {
                Phase::Block | Phase::AfterFunction | Phase::Params => {
                    if self.expect.matched() == 0 {
                        let blank = rest.bytes().take_while(|&b| is_json_ws(b)).count();
                        self.slot.raw(&rest[..blank]);
                        pos += blank;
                        if pos == text.len() {
                            break;
                        }
                    }
                    let closer = self.closer;
                    let literals: &[&'static str] = match self.phase {
                        Phase::Block => &[FUNCTION],
                        Phase::AfterFunction => &[FUNCTION, closer],
                        _ => &[PARAMETER, FUNCTION_END, closer],
                    };
                    let piece = &text[pos..];
                    // Matched bytes are recorded once the literal is decided (they may span
                    // pieces).
                    match self.expect.feed(literals, piece) {
                        Expected::Partial => return Step::NeedMore,
                        Expected::Complete { which, consumed } => {
                            self.slot.raw(literals[which]);
                            pos += consumed;
                            match (self.phase, literals[which]) {
                                (Phase::Block, _) => {
                                    self.name.clear();
                                    self.phase = Phase::Name;
                                }
                                (Phase::AfterFunction, FUNCTION) => {
                                    let offset = em
                                        .char_offset(text, pos)
                                        .saturating_sub(FUNCTION.len() as u64);
                                    self.slot.begin(FUNCTION, offset);
                                    self.name.clear();
                                    self.phase = Phase::Name;
                                }
                                (Phase::Params, PARAMETER) => {
                                    self.key.clear();
                                    self.phase = Phase::Key;
                                }
                                (Phase::Params, FUNCTION_END) => {
                                    self.args.close(&mut self.slot, em);
                                    self.slot.complete(em);
                                    self.phase = Phase::AfterFunction;
                                }
                                _ => {
                                    // The block closer (a missing `</function>` is tolerated).
                                    if self.slot.is_announced() {
                                        self.args.close(&mut self.slot, em);
                                        self.slot.complete(em);
                                    }
                                    return Step::Ended { consumed: pos };
                                }
                            }
                        }
                        Expected::Mismatch { consumed, matched } => {
                            pos += consumed;
                            match self.phase {
                                Phase::Block => {
                                    // Not a call after all: the opener goes back to text.
                                    self.slot.raw(matched);
                                    self.slot.fallback(em);
                                    return Step::Ended { consumed: pos };
                                }
                                Phase::AfterFunction => {
                                    // No block closer: what follows is ordinary text.
                                    em.text(matched);
                                    return Step::Ended { consumed: pos };
                                }
                                _ => {
                                    let detail = format!(
                                        "unexpected text between parameters at character {}",
                                        em.char_offset(text, pos)
                                    );
                                    self.fail(em, ERR_INVALID, &detail);
                                }
                            }
                        }
                    }
                }
                Phase::Name => match Self::read_until_gt(&mut self.name, rest) {
                    Ok(None) => {
                        self.slot.raw(rest);
                        return Step::NeedMore;
                    }
                    Ok(Some(consumed)) => {
                        self.slot.raw(&rest[..consumed]);
                        pos += consumed;
                        match clean_name(&self.name) {
                            Some(name) => {
                                self.slot.announce(em, name, None);
                                self.args.open(&mut self.slot, em);
                                self.phase = Phase::Params;
                            }
                            None => {
                                self.slot.fallback(em);
                                return Step::Ended { consumed: pos };
                            }
                        }
                    }
                    Err(()) => {
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    }
                },
                Phase::Key => match Self::read_until_gt(&mut self.key, rest) {
                    Ok(None) => return Step::NeedMore,
                    Ok(Some(consumed)) => {
                        pos += consumed;
                        let key = self.key.trim().to_owned();
                        let ty = value_type(
                            &self.context.schemas,
                            self.name.trim(),
                            &key,
                            Untyped::String,
                        );
                        self.args.begin_value(&key, ty, &mut self.slot, em);
                        self.value_start = true;
                        self.value_scan.reset();
                        self.phase = Phase::Value;
                    }
                    Err(()) => {
                        let detail = format!(
                            "malformed parameter name at character {}",
                            em.char_offset(text, pos)
                        );
                        self.fail(em, ERR_INVALID, &detail);
                    }
                },
                Phase::Value => {
                    let mut rest = rest;
                    if self.value_start {
                        self.value_start = false;
                        if rest.starts_with('\n') {
                            rest = &rest[1..];
                            pos += 1;
                            if rest.is_empty() {
                                break;
                            }
                        }
                    }
                    let mut fits = true;
                    let (args, slot) = (&mut self.args, &mut self.slot);
                    let scan = self.value_scan.scan(&self.value_markers, rest, |piece| {
                        fits &= args.value_text(piece, slot, em);
                    });
                    if !fits {
                        let detail = format!(
                            "the value of parameter {:?} exceeds the limit of {} bytes",
                            self.key.trim(),
                            self.context.max_buffer
                        );
                        self.fail(em, ERR_TOO_LARGE, &detail);
                        continue;
                    }
                    match scan {
                        Scan::Pending => return Step::NeedMore,
                        Scan::Found { id, consumed } => {
                            pos += consumed;
                            self.args.end_value(&mut self.slot, em);
                            self.phase = match VALUE_ENDS[id].trim_start_matches('\n') {
                                "</parameter>" => Phase::Params,
                                "<parameter=" => {
                                    self.key.clear();
                                    Phase::Key
                                }
                                _ => {
                                    self.args.close(&mut self.slot, em);
                                    self.slot.complete(em);
                                    Phase::AfterFunction
                                }
                            };
                        }
                    }
                }
                Phase::Recover => {
                    let markers = if self.closer == CLOSERS[0] {
                        &self.closer_markers[0]
                    } else {
                        &self.closer_markers[1]
                    };
                    return match self.recover.scan(markers, rest, |_| {}) {
                        Scan::Pending => Step::NeedMore,
                        Scan::Found { consumed, .. } => Step::Ended {
                            consumed: pos + consumed,
                        },
                    };
                }
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Block | Phase::Name => {
                self.slot.raw(self.expect.partial(&[FUNCTION]));
                self.slot.fallback(em);
            }
            Phase::Params | Phase::Key | Phase::Value => {
                let detail = format!(
                    "the stream ended inside the call (at character {})",
                    em.end_offset()
                );
                self.slot.fail(em, ERR_INCOMPLETE, &detail);
            }
            Phase::AfterFunction | Phase::Recover => {}
        }
    }
}
