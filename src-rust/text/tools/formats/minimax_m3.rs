//! MiniMax-M3: every structural tag carries the 13-character prefix `]<]minimax[>[` (NS):
//!
//! ```text
//! NS<tool_call>
//! NS<invoke name="get_weather">NS<city>Paris NS</city>NS<when>NS<day>1NS</day>NS</when>NS</invoke>
//! NS<invoke name="...">…NS</invoke>
//! NS</tool_call>
//! ```
//!
//! A parameter's tag is its name; a parameter whose content is child tags is an object (its
//! children are its members) or, when the children are `<item>`, an array. Leaf values are raw
//! text: a top-level parameter is typed by the request's schema (a string streams as it
//! arrives), anything else reads as JSON when it is JSON and stays a string otherwise.
//! Tolerated, as models write them: a closing tag without the prefix (`<city>Paris</city>`), a
//! missing `</invoke>` before the next invoke or the block's end, and an elided opening tag of
//! the first parameter (`<invoke name="f">Paris NS</city>`: the value is kept until its closer
//! names it). Several invokes in one block are several calls.

use std::sync::Arc;

use super::super::super::emit::Emitter;
use super::super::super::matcher::{MarkerScanner, Markers, Scan};
use super::super::super::pyliteral::escape_json_into;
use super::super::super::schema::ToolSchemas;
use super::super::drive;
use super::super::scan::MAX_NAME;
use super::super::xml_args::{convert, value_type, Untyped, ValueType};
use super::super::{
    clean_name, is_json_ws, read_run, Between, CallSlot, Opener, Problem, Recover, Run, Step,
    ToolContext, ToolSection,
};
use super::xml_calls::{attributes, name_end};

const NS: &str = "]<]minimax[>[";
const OPEN: &str = "]<]minimax[>[<tool_call>";
const INVOKE: &str = "]<]minimax[>[<invoke name=";
const BLOCK_END: &str = "]<]minimax[>[</tool_call>";
/// A tag's text: a name, or `invoke name="NAME"`.
const MAX_TAG: usize = MAX_NAME + 32;
/// Nesting of parameter objects and arrays.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before a call (after the opener or an invoke): NS<invoke name= or NS</tool_call>.
    Between,
    /// The invoke's attributes, up to `>`.
    InvokeName,
    /// Inside a call: text and tags.
    Body,
    /// After NS inside a call: `<` starts a tag, anything else makes NS plain text.
    AfterNs,
    /// A tag's text up to `>`; `bare`: opened by `</` without NS.
    Tag {
        bare: bool,
    },
    Recover,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// Opened, nothing but blanks yet: a leaf value or a container.
    Pending,
    Leaf(ValueType),
    Object,
    Array,
    /// Text in the arguments object before any tag: a parameter whose opening tag was elided.
    Orphan,
}

#[derive(Debug, Clone)]
struct Element {
    key: String,
    node: Node,
    members: usize,
}

/// Why text or a tag does not fit where it stands.
type Misfit = &'static str;

/// The JSON arguments of the call in progress, written as its tags and text arrive.
struct Writer {
    schemas: Arc<ToolSchemas>,
    limit: usize,
    function: String,
    /// Empty between calls; the arguments object at the bottom.
    stack: Vec<Element>,
    /// Blanks of a pending element (dropped if it turns out to be a container).
    blank: String,
    /// The text of a leaf that is converted once complete.
    buffer: String,
    scratch: String,
}

impl Writer {
    fn top(&self) -> Option<Node> {
        self.stack.last().map(|e| e.node)
    }

    fn streams_string(&self) -> bool {
        self.top() == Some(Node::Leaf(ValueType::String))
    }

    /// `</key>` closes the leaf on top (an elided opener's value takes any name).
    fn closes_leaf(&self, key: &str) -> bool {
        self.stack
            .last()
            .is_some_and(|e| e.node == Node::Orphan || e.key == key)
    }

    fn in_leaf(&self) -> bool {
        matches!(
            self.top(),
            Some(Node::Leaf(_) | Node::Pending | Node::Orphan)
        )
    }

    /// `"key": ` (after `, ` when the container has members already).
    fn member(&mut self, key: Option<&str>, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        let parent = self.stack.last_mut().expect("inside a call");
        self.scratch.clear();
        if parent.members > 0 {
            self.scratch.push_str(", ");
        }
        parent.members += 1;
        if let Some(key) = key {
            self.scratch.push('"');
            escape_json_into(&mut self.scratch, key);
            self.scratch.push_str("\": ");
        }
        slot.arguments(em, &self.scratch);
    }

    fn begin_call(&mut self, function: String, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        self.function = function;
        self.stack.clear();
        self.stack.push(Element {
            key: String::new(),
            node: Node::Object,
            members: 0,
        });
        slot.arguments(em, "{");
    }

    /// The type of a leaf: the schema's for a parameter of the call, JSON-or-string deeper.
    fn leaf_type(&self, key: &str) -> ValueType {
        if self.stack.len() == 2 {
            value_type(&self.schemas, &self.function, key, Untyped::Guess)
        } else {
            ValueType::Guess
        }
    }

    fn text(
        &mut self,
        piece: &str,
        slot: &mut CallSlot,
        em: &mut Emitter<'_>,
    ) -> Result<(), Misfit> {
        let blank = piece.bytes().all(is_json_ws);
        match self.top() {
            None => Err("text between calls"),
            Some(Node::Object | Node::Array) if blank => Ok(()),
            Some(Node::Object) if self.stack.len() == 1 => {
                self.buffer.clear();
                self.buffer.push_str(piece.trim_start());
                self.stack.push(Element {
                    key: String::new(),
                    node: Node::Orphan,
                    members: 0,
                });
                Ok(())
            }
            Some(Node::Object | Node::Array) => Err("text between tags"),
            Some(Node::Pending) if blank => {
                self.blank.push_str(piece);
                Ok(())
            }
            Some(Node::Pending) => {
                let ty = self.leaf_type(&self.stack.last().expect("top").key);
                self.stack.last_mut().expect("top").node = Node::Leaf(ty);
                let held = std::mem::take(&mut self.blank);
                self.buffer.clear();
                if ty == ValueType::String {
                    slot.arguments(em, "\"");
                }
                self.text(&held, slot, em)?;
                self.text(piece, slot, em)
            }
            Some(Node::Leaf(ValueType::String)) => {
                self.scratch.clear();
                escape_json_into(&mut self.scratch, piece);
                slot.arguments(em, &self.scratch);
                Ok(())
            }
            Some(Node::Leaf(_) | Node::Orphan) => {
                self.buffer.push_str(piece);
                if self.buffer.len() > self.limit {
                    return Err("a value over the buffer limit");
                }
                Ok(())
            }
        }
    }

    /// `<key>` inside the call.
    fn open(&mut self, key: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) -> Result<(), Misfit> {
        match self.top() {
            Some(Node::Pending) => {
                let array = key == "item";
                self.stack.last_mut().expect("top").node =
                    if array { Node::Array } else { Node::Object };
                self.blank.clear();
                slot.arguments(em, if array { "[" } else { "{" });
            }
            Some(Node::Object | Node::Array) => {}
            _ => return Err("a tag inside a value"),
        }
        if self.stack.len() > MAX_DEPTH {
            return Err("parameters nested too deep");
        }
        let in_object = self.top() == Some(Node::Object);
        self.member(in_object.then_some(key), slot, em);
        self.stack.push(Element {
            key: key.to_owned(),
            node: Node::Pending,
            members: 0,
        });
        Ok(())
    }

    /// Close the top element.
    fn pop(&mut self, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        let element = self.stack.pop().expect("an open element");
        match element.node {
            Node::Pending => {
                let json = convert(&self.blank, self.leaf_type_of(&element.key));
                self.blank.clear();
                slot.arguments(em, &json);
            }
            Node::Leaf(ValueType::String) => slot.arguments(em, "\""),
            Node::Leaf(ty) => {
                let json = convert(&self.buffer, ty);
                self.buffer.clear();
                slot.arguments(em, &json);
            }
            Node::Object => slot.arguments(em, "}"),
            Node::Array => slot.arguments(em, "]"),
            Node::Orphan => {}
        }
    }

    /// `leaf_type` for an element already popped (one level shallower on the stack).
    fn leaf_type_of(&self, key: &str) -> ValueType {
        if self.stack.len() == 1 {
            value_type(&self.schemas, &self.function, key, Untyped::Guess)
        } else {
            ValueType::Guess
        }
    }

    /// `</key>`: closes the elements down to the one it names. False when none does.
    fn close(&mut self, key: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) -> bool {
        if self.top() == Some(Node::Orphan) {
            // The elided opener's value, named at last.
            self.stack.pop();
            self.member(Some(key), slot, em);
            let json = convert(&self.buffer, self.leaf_type_of(key));
            self.buffer.clear();
            slot.arguments(em, &json);
            return true;
        }
        let Some(depth) = self.stack.iter().skip(1).rposition(|e| e.key == key) else {
            return false;
        };
        while self.stack.len() > depth + 1 {
            self.pop(slot, em);
        }
        true
    }

    /// Close everything still open and the arguments object.
    fn end_call(&mut self, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        if self.top() == Some(Node::Orphan) {
            self.stack.pop(); // a value nobody named
        }
        while !self.stack.is_empty() {
            self.pop(slot, em);
        }
    }
}

pub struct MinimaxM3 {
    phase: Phase,
    slot: CallSlot,
    writer: Writer,
    between: Between,
    markers: Arc<Markers>,
    scan: MarkerScanner,
    tag: String,
    recover: Recover,
}

impl MinimaxM3 {
    pub fn new(context: ToolContext) -> MinimaxM3 {
        MinimaxM3 {
            phase: Phase::Between,
            slot: CallSlot::new(context.max_buffer),
            writer: Writer {
                schemas: context.schemas,
                limit: context.max_buffer,
                function: String::new(),
                stack: Vec::new(),
                blank: String::new(),
                buffer: String::new(),
                scratch: String::new(),
            },
            between: Between::new(&[INVOKE, BLOCK_END]),
            markers: Markers::shared(&[NS, "</"]),
            scan: MarkerScanner::new(),
            tag: String::new(),
            recover: Recover::new(&[BLOCK_END, "</tool_call>"]),
        }
    }

    fn fail(&mut self, em: &mut Emitter<'_>, problem: Problem<'_>) {
        self.slot.fail(em, problem);
        self.writer.stack.clear();
        self.recover.reset();
        self.phase = Phase::Recover;
    }

    fn misfit(&mut self, em: &mut Emitter<'_>, text: &str, pos: usize, what: Misfit) {
        let at = em.char_offset(text, pos);
        self.fail(em, Problem::Invalid(format!("{what} at character {at}")));
    }

    fn announce(&mut self, em: &mut Emitter<'_>, attrs: &str) -> bool {
        let raw = attrs.trim();
        let raw = raw.strip_prefix("name=").unwrap_or(raw);
        let Some(name) = clean_name(attributes(raw).0) else {
            return false;
        };
        self.slot.announce(em, name.clone(), None);
        self.writer.begin_call(name, &mut self.slot, em);
        true
    }

    fn end_call(&mut self, em: &mut Emitter<'_>) {
        self.writer.end_call(&mut self.slot, em);
        self.slot.complete(em);
        self.between.call_ended();
    }

    /// One phase's worth of `text` from `pos`: the next position, or how the section stands.
    fn step(&mut self, text: &str, mut pos: usize, em: &mut Emitter<'_>) -> Result<usize, Step> {
        let rest = &text[pos..];
        match self.phase {
            Phase::Between => {
                pos = self.between.step(text, pos, &mut self.slot, em)?;
                self.tag.clear();
                self.phase = Phase::InvokeName;
            }
            Phase::InvokeName => {
                let run = read_run(&mut self.tag, rest, name_end, MAX_TAG);
                let closed = run.closed_by(rest, b'>');
                let taken = closed.unwrap_or_else(|| run.taken(rest.len()));
                self.slot.raw(&rest[..taken]);
                pos += taken;
                let attrs = std::mem::take(&mut self.tag);
                let named = match run {
                    Run::Open => {
                        self.tag = attrs;
                        return Err(Step::NeedMore);
                    }
                    _ if closed.is_some() => self.announce(em, &attrs),
                    _ => false,
                };
                if !named {
                    self.slot.fallback(em);
                    return Err(Step::Ended { consumed: pos });
                }
                self.scan.reset();
                self.phase = Phase::Body;
            }
            Phase::Body => {
                let mut misfit = None;
                let (writer, slot) = (&mut self.writer, &mut self.slot);
                let scan = self.scan.scan(&self.markers, rest, |piece| {
                    if misfit.is_none() {
                        misfit = writer.text(piece, slot, em).err();
                    }
                });
                let consumed = match scan {
                    Scan::Pending => rest.len(),
                    Scan::Found { consumed, .. } => consumed,
                };
                pos += consumed;
                if let Some(what) = misfit {
                    self.misfit(em, text, pos, what);
                    return Ok(pos);
                }
                match scan {
                    Scan::Pending => return Err(Step::NeedMore),
                    Scan::Found { id: 0, .. } => self.phase = Phase::AfterNs,
                    Scan::Found { .. } => {
                        self.tag.clear();
                        self.phase = Phase::Tag { bare: true };
                    }
                }
            }
            Phase::AfterNs => {
                if rest.starts_with('<') {
                    pos += 1;
                    self.tag.clear();
                    self.phase = Phase::Tag { bare: false };
                } else {
                    // NS not followed by a tag: plain text.
                    self.phase = Phase::Body;
                    if let Err(what) = self.writer.text(NS, &mut self.slot, em) {
                        self.misfit(em, text, pos, what);
                    }
                }
            }
            Phase::Tag { bare } => {
                let run = read_run(&mut self.tag, rest, name_end, MAX_TAG);
                match run {
                    Run::Open => return Err(Step::NeedMore),
                    Run::End { at } if rest.as_bytes()[at] == b'>' => {
                        pos += at + 1;
                        if let Some(step) = self.tag(em, bare, text, pos) {
                            return Err(step);
                        }
                    }
                    Run::End { at } | Run::Over { consumed: at } => {
                        pos += at;
                        if bare && self.writer.in_leaf() {
                            let literal = format!("</{}", self.tag);
                            self.tag.clear();
                            self.phase = Phase::Body;
                            if let Err(what) = self.writer.text(&literal, &mut self.slot, em) {
                                self.misfit(em, text, pos, what);
                            }
                        } else {
                            self.misfit(em, text, pos, "a tag");
                        }
                    }
                }
            }
            Phase::Recover => return Err(self.recover.step(rest, pos)),
        }
        Ok(pos)
    }

    /// A complete tag (its text between `<` and `>`).
    fn tag(&mut self, em: &mut Emitter<'_>, bare: bool, text: &str, pos: usize) -> Option<Step> {
        let tag = std::mem::take(&mut self.tag);
        let closing = if bare {
            Some(tag.as_str())
        } else {
            tag.strip_prefix('/')
        };
        match closing.map(str::trim) {
            Some(key) if bare && self.writer.in_leaf() && !self.writer.closes_leaf(key) => {
                // `</b>` in a value, not the value's own closer: plain text.
                let literal = format!("</{tag}>");
                self.phase = Phase::Body;
                if let Err(what) = self.writer.text(&literal, &mut self.slot, em) {
                    self.misfit(em, text, pos, what);
                }
            }
            Some("invoke") => {
                self.end_call(em);
                self.phase = Phase::Between;
            }
            Some("tool_call") => {
                self.end_call(em);
                return Some(Step::Ended { consumed: pos });
            }
            Some(key) => {
                if self.writer.close(key, &mut self.slot, em) {
                    self.phase = Phase::Body;
                } else {
                    self.misfit(em, text, pos, "a closing tag that closes nothing open");
                }
            }
            None if tag.starts_with("invoke") && tag[6..].starts_with(char::is_whitespace) => {
                // The previous invoke was not closed.
                self.end_call(em);
                let offset = em
                    .char_offset(text, pos)
                    .saturating_sub(tag.len() as u64 + 2);
                self.slot.begin(INVOKE, offset);
                if !self.announce(em, &tag[6..]) {
                    self.slot.fallback(em);
                    return Some(Step::Ended { consumed: pos });
                }
                self.phase = Phase::Body;
            }
            None => match self.writer.open(tag.trim(), &mut self.slot, em) {
                Ok(()) => self.phase = Phase::Body,
                Err(what) => self.misfit(em, text, pos, what),
            },
        }
        self.tag = tag;
        self.tag.clear();
        None
    }
}

impl ToolSection for MinimaxM3 {
    fn start_markers(&self) -> &'static [&'static str] {
        &[OPEN]
    }

    fn begin(&mut self, _opener: Opener, offset: u64) {
        self.phase = Phase::Between;
        self.slot.begin(OPEN, offset);
        self.between.begin();
        self.writer.stack.clear();
    }

    #[inline]
    fn absorb(&mut self, text: &str, em: &mut Emitter<'_>) -> bool {
        let plain = !text.bytes().any(|b| b == b']' || b == b'<');
        if self.phase == Phase::Body
            && plain
            && self.scan.held().is_empty()
            && self.writer.streams_string()
        {
            return self.writer.text(text, &mut self.slot, em).is_ok();
        }
        false
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        drive(text, |pos| self.step(text, pos, em))
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Between => self.between.finish(&mut self.slot, em),
            Phase::InvokeName => self.slot.fallback(em),
            Phase::Recover => {}
            _ => self.slot.fail_incomplete(em, "the call"),
        }
    }
}
