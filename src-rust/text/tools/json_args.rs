//! Arguments written as a bare JSON value between markers (Kimi K2, DeepSeek, Mistral v11+):
//! leading blanks are skipped, then the value is passed through as the model wrote it while
//! the scanner checks it, and the scan stops right after its last byte.

use super::super::emit::Emitter;
use super::super::json::{JsonEvent, JsonScanner};
use super::{is_json_ws, CallSlot, Step};

#[derive(Debug, Clone)]
pub struct JsonArgs {
    scanner: JsonScanner,
}

impl Default for JsonArgs {
    fn default() -> Self {
        JsonArgs {
            scanner: JsonScanner::new(false),
        }
    }
}

impl JsonArgs {
    pub fn reset(&mut self) {
        self.scanner.reset();
    }

    /// True until the first byte of the value.
    pub fn not_started(&self) -> bool {
        self.scanner.not_started()
    }

    /// Inside a string of the arguments, `text` can be passed on as it is.
    #[inline]
    pub fn absorbs(&self, text: &str) -> bool {
        self.scanner.string_absorbs(text.as_bytes())
    }

    /// `ToolSection::absorb` while reading these arguments: inside a string of an announced
    /// call's arguments, `text` passes on as it is.
    #[inline]
    pub fn absorb(&self, text: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) -> bool {
        if slot.is_announced() && self.absorbs(text) {
            slot.arguments(em, text);
            return true;
        }
        false
    }

    pub fn feed(&mut self, text: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) -> Step {
        let mut start = 0;
        if self.scanner.not_started() {
            start = text.bytes().take_while(|&b| is_json_ws(b)).count();
            if start == text.len() {
                return Step::NeedMore;
            }
        }
        match self.scanner.feed(&text.as_bytes()[start..]) {
            JsonEvent::NeedMore => {
                slot.arguments(em, &text[start..]);
                Step::NeedMore
            }
            JsonEvent::Done { consumed } => {
                slot.arguments(em, &text[start..start + consumed]);
                Step::Ended {
                    consumed: start + consumed,
                }
            }
            JsonEvent::Invalid { at, reason } => {
                slot.arguments(em, &text[start..start + at]);
                Step::Invalid {
                    at: start + at,
                    reason,
                }
            }
            other => unreachable!("member events are off: {other:?}"),
        }
    }

    /// End of stream: a top-level number completes; anything else is truncated.
    pub fn finish(&mut self) -> bool {
        matches!(self.scanner.finish(), JsonEvent::Done { .. })
    }

    /// End of stream inside the arguments of `slot`'s call: complete arguments make the call,
    /// anything else is incomplete.
    pub fn finish_call(&mut self, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        if !self.not_started() && self.finish() {
            slot.complete(em);
        } else {
            slot.fail_incomplete(em, "the call's arguments");
        }
    }
}
