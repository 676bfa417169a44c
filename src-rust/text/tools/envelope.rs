//! The JSON call envelope `{"name": "f", "arguments": {...}}` (Hermes, Llama 3, old Mistral),
//! scanned once: the name is decoded when its string ends, the arguments object is passed
//! through byte for byte as it arrives. Key order does not matter: arguments that come before
//! the name are held by the call slot until the name is known. `"parameters"` is accepted for
//! `"arguments"`; other keys are skipped. Arguments written as a JSON string holding JSON are
//! unwrapped; `null` or no arguments become `{}`.

use super::super::emit::Emitter;
use super::super::json::{JsonEvent, JsonScanner};
use super::CallSlot;

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

/// How the envelope scan stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeStep {
    NeedMore,
    /// The envelope's closing brace was the last of `consumed` bytes.
    Done {
        consumed: usize,
    },
    /// Not valid JSON at byte `at` of the piece.
    Invalid {
        at: usize,
        reason: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct Envelope {
    scanner: JsonScanner,
    member: Member,
    key: String,
    next_value: Member,
    name_raw: String,
    named: bool,
    arguments_seen: bool,
    odd_arguments: String,
    /// A problem found after the JSON itself was fine (wrong argument type).
    problem: Option<String>,
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope::new()
    }
}

impl Envelope {
    pub fn new() -> Envelope {
        Envelope {
            scanner: JsonScanner::new(true),
            member: Member::Between,
            key: String::new(),
            next_value: Member::Skipped,
            name_raw: String::new(),
            named: false,
            arguments_seen: false,
            odd_arguments: String::new(),
            problem: None,
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
    }

    /// A problem with a well-formed envelope (e.g. arguments that are a number).
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    #[inline]
    fn take(&mut self, piece: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        match self.member {
            Member::Between | Member::Skipped => {}
            Member::Key => self.key.push_str(piece),
            Member::Name => self.name_raw.push_str(piece),
            Member::Arguments => slot.arguments(em, piece),
            Member::OddArguments => self.odd_arguments.push_str(piece),
        }
    }

    /// Streaming inside a string of the arguments, `text` can be passed on as it is.
    #[inline]
    pub fn absorbs(&self, text: &str) -> bool {
        self.member == Member::Arguments && self.scanner.string_absorbs(text.as_bytes())
    }

    /// Scan `text` (the envelope starts at its first non-blank byte).
    pub fn feed(&mut self, text: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) -> EnvelopeStep {
        let bytes = text.as_bytes();
        let mut pos = 0;
        loop {
            let event = self.scanner.feed(&bytes[pos..]);
            let consumed = match event {
                JsonEvent::NeedMore => {
                    self.take(&text[pos..], slot, em);
                    return EnvelopeStep::NeedMore;
                }
                JsonEvent::Invalid { at, reason } => {
                    // What came before the error was valid so far: pass it on.
                    self.take(&text[pos..pos + at], slot, em);
                    return EnvelopeStep::Invalid {
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
                        Some("name") if !self.named && self.name_raw.is_empty() => Member::Name,
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
                    return EnvelopeStep::Done { consumed: end };
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
