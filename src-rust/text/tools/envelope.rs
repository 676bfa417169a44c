//! The JSON call envelope `{"name": "f", "arguments": {...}}` (Hermes, Llama 3, old Mistral),
//! scanned once: the name is decoded when its string ends, the arguments object is passed
//! through byte for byte as it arrives. Key order does not matter: arguments that come before
//! the name are held by the call slot until the name is known. `"parameters"` is accepted for
//! `"arguments"`; other keys are skipped. Arguments written as a JSON string holding JSON are
//! unwrapped; `null` or no arguments become `{}`.

use super::super::emit::Emitter;
use super::super::json::{JsonEvent, JsonScanner};
use super::{CallSlot, Problem, Step};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    /// Between members (whitespace, `:`, `,`).
    Between,
    Key,
    Name,
    /// The arguments object, streamed.
    Arguments,
    /// Arguments that are not an object (a string to unwrap, null, or a wrong type).
    OddArguments,
    Skipped,
}

/// How one call's envelope went (`Outcome::Done`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// A named call (complete, or already flagged with an error chunk for its arguments).
    Called,
    /// Not a call (no usable name, not JSON, or too long without a name): given back as text.
    GivenBack,
    /// An announced call whose JSON broke: its error chunk was sent.
    Broken,
}

/// How `Envelope::call` stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `consumed` bytes were taken (all of the piece, or all a nameless call may hold): call
    /// again with the rest, if any.
    NeedMore { consumed: usize },
    /// The call ended after `consumed` bytes of the piece.
    Done { consumed: usize, how: Finished },
}

/// Longest key of the envelope that is looked at (longer keys are skipped members).
const MAX_KEY: usize = 64;

#[derive(Debug, Clone)]
pub struct Envelope {
    scanner: JsonScanner,
    /// Cap on arguments held back (a JSON string to unwrap).
    limit: usize,
    member: Member,
    key: String,
    next_value: Member,
    name_raw: String,
    named: bool,
    arguments_seen: bool,
    odd_arguments: String,
    /// A problem found after the JSON itself was fine (wrong argument type).
    problem: Option<String>,
    too_large: bool,
}

impl Envelope {
    pub fn new(limit: usize) -> Envelope {
        Envelope {
            scanner: JsonScanner::new(true),
            limit,
            member: Member::Between,
            key: String::new(),
            next_value: Member::Skipped,
            name_raw: String::new(),
            named: false,
            arguments_seen: false,
            odd_arguments: String::new(),
            problem: None,
            too_large: false,
        }
    }

    pub fn reset(&mut self) {
        self.scanner.reset();
        self.member = Member::Between;
        self.key.clear();
        self.name_raw.clear();
        self.named = false;
        self.arguments_seen = false;
        self.odd_arguments.clear();
        self.problem = None;
        self.too_large = false;
    }

    /// A problem with a well-formed envelope (arguments that are a number, or too large to
    /// unwrap).
    fn problem(&self) -> Option<Problem<'_>> {
        let problem = self.problem.as_ref()?;
        Some(if self.too_large {
            Problem::TooLarge {
                what: "arguments written as a JSON string",
                limit: self.limit,
            }
        } else {
            Problem::Invalid(problem.clone())
        })
    }

    /// One call's envelope, from its `{` on, held to the slot's allowance while it has no
    /// name: the part every JSON format shares.
    pub fn call(&mut self, rest: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) -> Outcome {
        let allowed = slot.allowance(rest);
        if allowed.is_empty() {
            slot.fallback(em);
            return Outcome::Done {
                consumed: 0,
                how: Finished::GivenBack,
            };
        }
        let step = self.feed(allowed, slot, em);
        let consumed = match step {
            Step::NeedMore => allowed.len(),
            Step::Ended { consumed } => consumed,
            Step::Invalid { at, .. } => at,
        };
        slot.raw(&allowed[..consumed]);
        let how = match step {
            Step::NeedMore => return Outcome::NeedMore { consumed },
            Step::Ended { .. } => {
                if let Some(problem) = self.problem() {
                    slot.fail(em, problem);
                }
                if slot.is_pending() {
                    slot.fallback(em);
                    Finished::GivenBack
                } else {
                    Finished::Called
                }
            }
            Step::Invalid { reason, .. } if slot.is_announced() => {
                let at = em.char_offset(rest, consumed);
                slot.fail(em, Problem::InvalidJson { at, reason });
                Finished::Broken
            }
            Step::Invalid { .. } => {
                slot.fallback(em);
                Finished::GivenBack
            }
        };
        Outcome::Done { consumed, how }
    }

    #[inline]
    fn take(&mut self, piece: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        match self.member {
            Member::Between | Member::Skipped => {}
            // What outgrows its cap stops being kept (whatever the split, as the test is on
            // the total): a long key then fails to decode and its member is skipped, a long
            // name is no name, long string arguments are flagged.
            Member::Key if self.key.len() + piece.len() <= MAX_KEY => self.key.push_str(piece),
            // A NUL cannot be in valid JSON text: it poisons the key once.
            Member::Key if !self.key.ends_with('\u{0}') => self.key.push('\u{0}'),
            Member::Key => {}
            Member::Name if self.name_raw.len() + piece.len() <= self.limit => {
                self.name_raw.push_str(piece)
            }
            Member::Name if !self.name_raw.ends_with('\u{0}') => self.name_raw.push('\u{0}'),
            Member::Name => {}
            Member::Arguments => slot.arguments(em, piece),
            Member::OddArguments if self.odd_arguments.len() + piece.len() <= self.limit => {
                self.odd_arguments.push_str(piece)
            }
            Member::OddArguments => self.too_large = true,
        }
    }

    /// Streaming inside a string of the arguments, `text` can be passed on as it is.
    #[inline]
    pub fn absorbs(&self, text: &str) -> bool {
        self.member == Member::Arguments && self.scanner.string_absorbs(text.as_bytes())
    }

    /// Scan `text` (the envelope starts at its first non-blank byte).
    fn feed(&mut self, text: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) -> Step {
        let bytes = text.as_bytes();
        let mut pos = 0;
        loop {
            let event = self.scanner.feed(&bytes[pos..]);
            let consumed = match event {
                JsonEvent::NeedMore => {
                    self.take(&text[pos..], slot, em);
                    return Step::NeedMore;
                }
                JsonEvent::Invalid { at, reason } => {
                    // What came before the error was valid so far: pass it on.
                    self.take(&text[pos..pos + at], slot, em);
                    return Step::Invalid {
                        at: pos + at,
                        reason,
                    };
                }
                JsonEvent::KeyStart { consumed }
                | JsonEvent::KeyEnd { consumed }
                | JsonEvent::ValueStart { consumed }
                | JsonEvent::ValueEnd { consumed }
                | JsonEvent::Done { consumed } => consumed,
            };
            let end = pos + consumed;
            match event {
                JsonEvent::KeyStart { .. } => {
                    self.member = Member::Key;
                    self.key.clear();
                    self.key.push('"');
                }
                JsonEvent::KeyEnd { .. } => {
                    self.take(&text[pos..end], slot, em);
                    self.member = Member::Between;
                    let key: Option<String> = serde_json::from_str(&self.key).ok();
                    self.next_value = match key.as_deref() {
                        Some("name" | "tool_name") if !self.named && self.name_raw.is_empty() => {
                            Member::Name
                        }
                        Some("arguments" | "parameters") if !self.arguments_seen => {
                            Member::Arguments
                        }
                        _ => Member::Skipped,
                    };
                }
                JsonEvent::ValueStart { .. } => {
                    let first = &text[end - 1..end];
                    self.member = match self.next_value {
                        Member::Arguments if first != "{" => Member::OddArguments,
                        other => other,
                    };
                    if self.member == Member::Arguments {
                        self.arguments_seen = true;
                    }
                    self.take(first, slot, em);
                }
                JsonEvent::ValueEnd { .. } => {
                    self.take(&text[pos..end], slot, em);
                    match self.member {
                        Member::Name => self.finish_name(slot, em),
                        Member::OddArguments => self.finish_odd_arguments(slot, em),
                        _ => {}
                    }
                    self.member = Member::Between;
                }
                JsonEvent::Done { .. } => {
                    if !self.arguments_seen {
                        self.arguments_seen = true;
                        slot.arguments(em, "{}");
                    }
                    return Step::Ended { consumed: end };
                }
                JsonEvent::NeedMore | JsonEvent::Invalid { .. } => unreachable!(),
            }
            pos = end;
        }
    }

    fn finish_name(&mut self, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        let name: Option<String> = serde_json::from_str(&self.name_raw).ok();
        if let Some(name) = name.as_deref().and_then(super::clean_name) {
            self.named = true;
            slot.announce(em, name, None);
        }
    }

    fn finish_odd_arguments(&mut self, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        self.arguments_seen = true;
        let raw = std::mem::take(&mut self.odd_arguments);
        if self.too_large {
            self.problem = Some(String::new());
            return;
        }
        if raw == "null" {
            slot.arguments(em, "{}");
            return;
        }
        if let Ok(inner) = serde_json::from_str::<String>(&raw) {
            let inner_trimmed = inner.trim();
            let is_object = inner_trimmed.starts_with('{')
                && serde_json::from_str::<serde::de::IgnoredAny>(inner_trimmed).is_ok();
            if is_object {
                slot.arguments(em, inner_trimmed);
                return;
            }
            if inner_trimmed.is_empty() {
                slot.arguments(em, "{}");
                return;
            }
        }
        // Passed through so nothing is lost, and flagged once the call ends.
        slot.arguments(em, &raw);
        self.problem = Some(format!("arguments are not a JSON object: {raw}"));
    }
}
