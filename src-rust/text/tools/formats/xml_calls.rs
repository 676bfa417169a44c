//! Calls written as XML-like tags with raw-text parameter values, one grammar row per format:
//!
//! ```text
//! qwen3-coder, qwen3-xml, seed-oss:          deepseek-v3.2 (DSML), minimax-m2, step3:
//! <tool_call>                                <｜DSML｜function_calls>
//! <function=get_weather>                     <｜DSML｜invoke name="get_weather">
//! <parameter=city>                           <｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>
//! Paris                                      </｜DSML｜invoke>
//! </parameter>                               </｜DSML｜function_calls>
//! </function>
//! </tool_call>
//! ```
//!
//! Values are raw text: one wrapping newline is trimmed on each side, and the request's JSON
//! schema types them (see `xml_args`; DSML's `string="true"` / `"false"` says it instead).
//! String values stream as JSON strings as they arrive. A missing parameter closer is tolerated
//! when the next parameter or the function's end follows, a missing function end before the
//! block's closer. Several functions in one block are several calls.

use std::sync::Arc;

use super::super::super::emit::Emitter;
use super::super::super::matcher::{MarkerScanner, Markers, Scan};
use super::super::scan::MAX_NAME;
use super::super::xml_args::{value_type, ArgsBuilder, Untyped, ValueType};
use super::super::{
    clean_name, read_run, CallSlot, Expect, Expected, Opener, Problem, Recover, Run, Step,
    ToolContext, ToolSection,
};

#[derive(Debug, PartialEq, Eq)]
pub struct XmlGrammar {
    /// Block openers and their closers (same order).
    pub openers: &'static [&'static str],
    pub closers: &'static [&'static str],
    /// Opens a function; its name follows, up to `>`.
    pub invoke: &'static str,
    pub invoke_end: &'static str,
    /// Opens a parameter; its key follows, up to `>`.
    pub param: &'static str,
    pub param_end: &'static str,
    /// Names and keys are attributes: `"NAME"`, possibly followed by more attributes.
    pub quoted: bool,
    /// What a parameter the schema does not type becomes.
    pub untyped: Untyped,
    /// A parameter closer counts only when structure follows it (another parameter, the
    /// function's end or the block's); otherwise it is part of the value (vLLM's qwen3_xml).
    pub confirmed_closers: bool,
}

pub const QWEN3_CODER: XmlGrammar = XmlGrammar {
    openers: &["<tool_call>", "<seed:tool_call>"],
    closers: &["</tool_call>", "</seed:tool_call>"],
    invoke: "<function=",
    invoke_end: "</function>",
    param: "<parameter=",
    param_end: "</parameter>",
    quoted: false,
    untyped: Untyped::String,
    confirmed_closers: false,
};

pub const QWEN3_XML: XmlGrammar = XmlGrammar {
    openers: &["<tool_call>"],
    closers: &["</tool_call>"],
    confirmed_closers: true,
    ..QWEN3_CODER
};

pub const SEED_OSS: XmlGrammar = XmlGrammar {
    openers: &["<seed:tool_call>"],
    closers: &["</seed:tool_call>"],
    ..QWEN3_CODER
};

pub const MINIMAX_M2: XmlGrammar = XmlGrammar {
    openers: &["<minimax:tool_call>"],
    closers: &["</minimax:tool_call>"],
    invoke: "<invoke name=",
    invoke_end: "</invoke>",
    param: "<parameter name=",
    param_end: "</parameter>",
    quoted: true,
    untyped: Untyped::Guess,
    confirmed_closers: false,
};

pub const DEEPSEEK_V32: XmlGrammar = XmlGrammar {
    openers: &["<｜DSML｜function_calls>", "<｜DSML｜tool_calls>"],
    closers: &["</｜DSML｜function_calls>", "</｜DSML｜tool_calls>"],
    invoke: "<｜DSML｜invoke name=",
    invoke_end: "</｜DSML｜invoke>",
    param: "<｜DSML｜parameter name=",
    param_end: "</｜DSML｜parameter>",
    quoted: true,
    untyped: Untyped::String,
    confirmed_closers: false,
};

pub const STEP3: XmlGrammar = XmlGrammar {
    openers: &["<｜tool_calls_begin｜>"],
    closers: &["<｜tool_calls_end｜>"],
    invoke: "<｜tool_call_begin｜>function<｜tool_sep｜><steptml:invoke name=",
    invoke_end: "</steptml:invoke><｜tool_call_end｜>",
    param: "<steptml:parameter name=",
    param_end: "</steptml:parameter>",
    quoted: true,
    untyped: Untyped::String,
    confirmed_closers: false,
};

pub fn build(grammar: &'static XmlGrammar, context: ToolContext) -> Box<dyn ToolSection> {
    Box::new(XmlCalls::new(grammar, context))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// After the block opener: blanks, then the function opener.
    Block,
    /// Reading NAME up to `>`.
    Name,
    /// Between parameters: a parameter, the function's end (or the block closer).
    Params,
    /// Reading KEY up to `>`.
    Key,
    Value,
    /// After the function's end: another function or the block closer.
    AfterFunction,
    /// Something went wrong in an announced call: skip to the block closer.
    Recover,
}

pub struct XmlCalls {
    grammar: &'static XmlGrammar,
    context: ToolContext,
    phase: Phase,
    closer: &'static str,
    slot: CallSlot,
    args: ArgsBuilder,
    expect: Expect,
    name: String,
    key: String,
    value_start: bool,
    /// Value terminators, in tie-break order (a trimmed newline first): parameter end,
    /// next parameter, function end.
    value_markers: Arc<Markers>,
    value_scan: MarkerScanner,
    recover: Vec<Recover>,
    closer_index: usize,
    /// A parameter closer (and blanks after it) waiting for structure to confirm it
    /// (`confirmed_closers`); empty otherwise.
    unconfirmed: String,
}

/// `"NAME" more="attributes"` -> (`NAME`, the `string` attribute).
pub fn attributes(raw: &str) -> (&str, Option<bool>) {
    let raw = raw.trim();
    let (name, rest) = match raw.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"').unwrap_or((quoted, "")),
        None => raw.split_once(char::is_whitespace).unwrap_or((raw, "")),
    };
    let string = if rest.contains("string=\"true\"") {
        Some(true)
    } else if rest.contains("string=\"false\"") {
        Some(false)
    } else {
        None
    };
    (name, string)
}

impl XmlCalls {
    pub fn new(grammar: &'static XmlGrammar, context: ToolContext) -> XmlCalls {
        let ends: Vec<String> = [grammar.param_end, grammar.param, grammar.invoke_end]
            .iter()
            .flat_map(|end| [format!("\n{end}"), (*end).to_owned()])
            .collect();
        XmlCalls {
            grammar,
            slot: CallSlot::new(context.max_buffer),
            args: ArgsBuilder::new(context.max_buffer),
            context,
            phase: Phase::Block,
            closer: grammar.closers[0],
            expect: Expect::default(),
            name: String::new(),
            key: String::new(),
            value_start: false,
            value_markers: Markers::shared(&ends),
            value_scan: MarkerScanner::new(),
            recover: grammar.closers.iter().map(|c| Recover::new(&[c])).collect(),
            closer_index: 0,
            unconfirmed: String::new(),
        }
    }

    fn fail(&mut self, em: &mut Emitter<'_>, problem: Problem<'_>) {
        self.slot.fail(em, problem);
        self.recover[self.closer_index].reset();
        self.phase = Phase::Recover;
    }

    /// An unconfirmed parameter closer is followed by structure: the value ended there.
    fn confirm(&mut self, em: &mut Emitter<'_>) {
        if !self.unconfirmed.is_empty() {
            self.unconfirmed.clear();
            self.args.end_value(&mut self.slot, em);
        }
    }

    /// Value text the value scanner has not seen (what followed an unconfirmed closer):
    /// scanned now, so that a terminator it begins is still found. False when too large.
    fn value_text(&mut self, text: &str, em: &mut Emitter<'_>) -> bool {
        let mut fits = true;
        let (args, slot) = (&mut self.args, &mut self.slot);
        let scan = self.value_scan.scan(&self.value_markers, text, |piece| {
            fits &= args.value_text(piece, slot, em);
        });
        // `text` is a strict prefix of a structure tag: no terminator completes in it.
        debug_assert!(matches!(scan, Scan::Pending));
        fits
    }

    fn too_large(&mut self, em: &mut Emitter<'_>) {
        let what = format!("the value of parameter {:?}", self.key.trim());
        let limit = self.context.max_buffer;
        self.fail(em, Problem::TooLarge { what: &what, limit });
    }

    /// The function's name, from what stood between its opener and `>`.
    fn function_name(&self) -> Option<String> {
        if self.grammar.quoted {
            clean_name(attributes(&self.name).0)
        } else {
            clean_name(&self.name)
        }
    }

    fn begin_value(&mut self, em: &mut Emitter<'_>) {
        let (key, string) = if self.grammar.quoted {
            attributes(&self.key)
        } else {
            (self.key.trim(), None)
        };
        let ty = match string {
            Some(true) => ValueType::String,
            Some(false) => ValueType::Guess,
            None => value_type(
                &self.context.schemas,
                self.function_name().as_deref().unwrap_or(""),
                key,
                self.grammar.untyped,
            ),
        };
        let key = key.to_owned();
        self.args.begin_value(&key, ty, &mut self.slot, em);
    }
}

/// A name or key ends at `>`; a line break or `<` cannot be in one.
pub fn name_end(b: u8) -> bool {
    matches!(b, b'>' | b'\n' | b'<')
}

impl ToolSection for XmlCalls {
    fn start_markers(&self) -> &'static [&'static str] {
        self.grammar.openers
    }

    fn begin(&mut self, opener: Opener, offset: u64) {
        let n = match opener {
            Opener::Marker(n) => n,
            Opener::Leading => 0,
        };
        self.closer = self.grammar.closers[n];
        self.closer_index = n;
        self.phase = Phase::Block;
        self.slot.begin(self.grammar.openers[n], offset);
        self.expect.reset();
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        let g = self.grammar;
        let mut pos = 0;
        while pos < text.len() {
            let rest = &text[pos..];
            match self.phase {
                Phase::Block | Phase::AfterFunction | Phase::Params => {
                    let blank = self.slot.blanks(&self.expect, rest);
                    if !self.unconfirmed.is_empty() {
                        self.unconfirmed.push_str(&rest[..blank]);
                        if self.unconfirmed.len() > MAX_NAME {
                            self.confirm(em);
                        }
                    }
                    pos += blank;
                    if pos == text.len() {
                        break;
                    }
                    let closer = self.closer;
                    // Literal 0 opens something, the last one is the block closer.
                    let after_function = [g.invoke, closer];
                    let params = [g.param, g.invoke_end, closer];
                    let literals: &[&'static str] = match self.phase {
                        Phase::Block => &after_function[..1],
                        Phase::AfterFunction => &after_function,
                        _ => &params,
                    };
                    let piece = &text[pos..];
                    // Matched bytes are recorded once the literal is decided (they may span
                    // pieces).
                    match self.expect.feed(literals, piece) {
                        Expected::Partial => return Step::NeedMore,
                        Expected::Complete { which, consumed } => {
                            self.slot.raw(literals[which]);
                            pos += consumed;
                            self.confirm(em);
                            match (self.phase, which) {
                                (Phase::Block, _) => {
                                    self.name.clear();
                                    self.phase = Phase::Name;
                                }
                                (Phase::AfterFunction, 0) => {
                                    let offset = em
                                        .char_offset(text, pos)
                                        .saturating_sub(g.invoke.chars().count() as u64);
                                    self.slot.begin(g.invoke, offset);
                                    self.name.clear();
                                    self.phase = Phase::Name;
                                }
                                (Phase::Params, 0) => {
                                    self.key.clear();
                                    self.phase = Phase::Key;
                                }
                                (Phase::Params, 1) => {
                                    self.args.close(&mut self.slot, em);
                                    self.slot.complete(em);
                                    self.phase = Phase::AfterFunction;
                                }
                                _ => {
                                    // The block closer (a missing function end is tolerated).
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
                                    em.give_back(matched);
                                    return Step::Ended { consumed: pos };
                                }
                                _ if !self.unconfirmed.is_empty() => {
                                    // No structure after the closer: it was value text.
                                    let held = std::mem::take(&mut self.unconfirmed);
                                    self.value_scan.reset();
                                    self.phase = Phase::Value;
                                    let fits = self.args.value_text(&held, &mut self.slot, em);
                                    if !fits || !self.value_text(matched, em) {
                                        self.too_large(em);
                                    }
                                }
                                _ => {
                                    let at = em.char_offset(text, pos);
                                    let expected = "a parameter or the end of the function";
                                    self.fail(em, Problem::Unexpected { expected, at });
                                }
                            }
                        }
                    }
                }
                Phase::Name => {
                    let run = read_run(&mut self.name, rest, name_end, MAX_NAME);
                    let closed = run.closed_by(rest, b'>');
                    let taken = closed.unwrap_or_else(|| run.taken(rest.len()));
                    self.slot.raw(&rest[..taken]);
                    pos += taken;
                    let name = match run {
                        Run::Open => return Step::NeedMore,
                        _ if closed.is_some() => self.function_name(),
                        _ => None,
                    };
                    let Some(name) = name else {
                        self.slot.fallback(em);
                        return Step::Ended { consumed: pos };
                    };
                    self.slot.announce(em, name, None);
                    self.args.open(&mut self.slot, em);
                    self.phase = Phase::Params;
                }
                Phase::Key => {
                    let run = read_run(&mut self.key, rest, name_end, MAX_NAME);
                    match run {
                        Run::Open => return Step::NeedMore,
                        Run::End { at } if rest.as_bytes()[at] == b'>' => {
                            pos += at + 1;
                            self.begin_value(em);
                            self.value_start = true;
                            self.value_scan.reset();
                            self.phase = Phase::Value;
                        }
                        Run::End { at } | Run::Over { consumed: at } => {
                            pos += at;
                            let at = em.char_offset(text, pos);
                            let expected = "a parameter name";
                            self.fail(em, Problem::Unexpected { expected, at });
                        }
                    }
                }
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
                        self.too_large(em);
                        continue;
                    }
                    match scan {
                        Scan::Pending => return Step::NeedMore,
                        Scan::Found { id, consumed } if id / 2 == 0 && g.confirmed_closers => {
                            pos += consumed;
                            self.unconfirmed.clear();
                            self.unconfirmed.push_str(self.value_markers.pattern(id));
                            self.expect.reset();
                            self.phase = Phase::Params;
                        }
                        Scan::Found { id, consumed } => {
                            pos += consumed;
                            self.args.end_value(&mut self.slot, em);
                            self.phase = match id / 2 {
                                0 => Phase::Params,
                                1 => {
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
                    return self.recover[self.closer_index].step(rest, pos);
                }
            }
        }
        Step::NeedMore
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Block | Phase::Name => {
                self.slot.raw(self.expect.partial(&[self.grammar.invoke]));
                self.slot.fallback(em);
            }
            Phase::Params | Phase::Key | Phase::Value => {
                self.slot.fail_incomplete(em, "the call");
            }
            Phase::AfterFunction | Phase::Recover => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::attributes;

    #[test]
    fn reads_attribute_names() {
        assert_eq!(attributes("\"city\""), ("city", None));
        assert_eq!(attributes("\"n\" string=\"false\""), ("n", Some(false)));
        assert_eq!(attributes(" \"s\" string=\"true\" "), ("s", Some(true)));
        assert_eq!(attributes("bare"), ("bare", None));
    }
}
