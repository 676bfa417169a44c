//! gpt-oss Harmony, read from text decoded with its special tokens kept.
//!
//! ```text
//! <|channel|>analysis<|message|>Need the weather.<|end|>
//! <|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Paris"}<|call|>
//! <|start|>assistant<|channel|>final<|message|>It is sunny.<|return|>
//! ```
//!
//! Each message is a header (`header`), `<|message|>`, its content and an end marker
//! (`<|end|>`; `<|call|>` and `<|return|>` are stop tokens, often missing from the text). The
//! prompt ends with `<|start|>assistant`, so generation usually starts at `<|channel|>`: both
//! `<|start|>` and `<|channel|>` open a header. Harmony owns both channels, so one reader
//! serves `tools="harmony"` and `reasoning="harmony"`:
//!
//! * `analysis` (and messages to built-in tools such as `browser.search`) -> reasoning;
//! * `to=functions.NAME` -> a call, announced at `<|message|>`, its JSON streamed as it
//!   arrives; a call whose stream ends without `<|call|>` counts if its JSON is complete;
//! * everything else (`final`, a `commentary` preamble, `final <|constrain|>json`) -> text.
//!   Text is handed back to the parser's answer mode, so stop strings apply to it; the answer
//!   mode sees the Harmony markers as this section's openers and hands them back here.
//!
//! A header that cannot be read (two recipients, text before `<|channel|>`, no
//! `<|message|>`, longer than `MAX_HEADER`) adds one error chunk and its content becomes text:
//! the stream goes on.

mod header;
#[cfg(feature = "harmony-tokens")]
pub mod tokens;

use std::sync::Arc;

use super::emit::{char_count, Emitter};
use super::matcher::{MarkerScanner, Markers, Scan};
use super::tools::{CallSlot, JsonArgs, Opener, Problem, Step, ToolContext, ToolSection};
use header::{route, Route, CHANNEL};

pub const START: &str = "<|start|>";
pub const MESSAGE: &str = "<|message|>";
pub const END: &str = "<|end|>";
pub const CALL: &str = "<|call|>";
pub const RETURN: &str = "<|return|>";

/// Cap on a header's text (bytes between `<|start|>` and `<|message|>`).
pub const MAX_HEADER: usize = 512;
/// Error codes of headers that cannot be read.
pub const ERR_HEADER_INVALID: &str = "harmony_header_invalid";
pub const ERR_HEADER_TOO_LARGE: &str = "harmony_header_too_large";

/// What opens this section in answer text: the two header openers, then the end markers,
/// which are dropped there (the end of a text message). A stray `<|message|>` or
/// `<|constrain|>` outside a header is content, as openai-harmony keeps it.
const OPENERS: &[&str] = &[START, CHANNEL, END, RETURN, CALL];

/// The markers looked for inside the section, in this order (ids below).
const INSIDE: &[&str] = &[MESSAGE, END, CALL, RETURN, START, CHANNEL];
const ID_MESSAGE: usize = 0;
const ID_START: usize = 4;
const ID_CHANNEL: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A header, up to `<|message|>`.
    Header,
    /// A header past `MAX_HEADER`: skipped up to `<|message|>` or an end marker.
    HeaderTooLong,
    /// Reasoning content up to an end marker.
    Reasoning,
    /// A call's JSON arguments.
    Arguments,
    /// After the arguments, up to the end marker (other text there is answer text).
    CallEnd,
    /// A broken call: skipped up to an end marker.
    Recover,
    /// A dropped marker: the section ends at once.
    Done,
}

pub struct Harmony {
    phase: Phase,
    markers: Arc<Markers>,
    scanner: MarkerScanner,
    /// The header so far (`<|channel|>` included, `<|start|>` not).
    header: String,
    /// Header bytes consumed, held-back ones included: the cap cuts at the same stream
    /// position however the text was split.
    header_bytes: usize,
    /// Stream offset of the header's opener (characters).
    header_at: u64,
    slot: CallSlot,
    json: JsonArgs,
    /// Non-blank text came after a call's arguments.
    trailing_text: bool,
}

impl Harmony {
    pub fn new(context: ToolContext) -> Harmony {
        Harmony {
            phase: Phase::Done,
            markers: Markers::shared(INSIDE),
            scanner: MarkerScanner::new(),
            header: String::new(),
            header_bytes: 0,
            header_at: 0,
            slot: CallSlot::new(context.max_buffer),
            json: JsonArgs::default(),
            trailing_text: false,
        }
    }

    /// A header opens at stream offset `at` with `opener` (`<|start|>` or `<|channel|>`).
    fn open_header(&mut self, opener: &str, at: u64) {
        self.phase = Phase::Header;
        self.scanner.reset();
        self.header.clear();
        if opener == CHANNEL {
            self.header.push_str(CHANNEL);
        }
        self.header_bytes = 0;
        self.header_at = at;
    }

    fn header_error(&self, em: &mut Emitter<'_>, code: &str, problem: &str) {
        const SHOWN: usize = 120;
        let mut cut = self.header.len().min(SHOWN);
        while !self.header.is_char_boundary(cut) {
            cut -= 1;
        }
        let more = if cut < self.header.len() { "..." } else { "" };
        em.error(
            code,
            format!(
                "Harmony message header at character {}: {problem}: {:?}{more}",
                self.header_at,
                &self.header[..cut]
            ),
        );
    }

    /// The header is complete: route its content. Returns whether the section ends here
    /// (the content is answer text).
    fn header_done(&mut self, em: &mut Emitter<'_>) -> bool {
        match route(&self.header) {
            Ok(Route::Text) => true,
            Ok(Route::Reasoning) => {
                self.phase = Phase::Reasoning;
                false
            }
            Ok(Route::Call(name)) => {
                self.slot.begin("", self.header_at);
                self.slot.announce(em, name, None);
                self.json.reset();
                self.phase = Phase::Arguments;
                false
            }
            Err(problem) => {
                self.header_error(em, ERR_HEADER_INVALID, problem);
                true
            }
        }
    }

    /// Marker `id` of `INSIDE` ended the content of a message after `consumed` bytes of
    /// `text`: `Some(step)` when the section ends, `None` when a new header opened.
    fn content_end(
        &mut self,
        id: usize,
        text: &str,
        consumed: usize,
        em: &mut Emitter<'_>,
    ) -> Option<Step> {
        match id {
            ID_START | ID_CHANNEL => {
                let marker = INSIDE[id];
                let at = em
                    .char_offset(text, consumed)
                    .saturating_sub(char_count(marker));
                self.open_header(marker, at);
                None
            }
            _ => {
                self.phase = Phase::Done;
                Some(Step::Ended { consumed })
            }
        }
    }
}

impl ToolSection for Harmony {
    fn start_markers(&self) -> &'static [&'static str] {
        OPENERS
    }

    fn begin(&mut self, opener: Opener, offset: u64) {
        match opener {
            Opener::Marker(n) if n < 2 => self.open_header(OPENERS[n], offset),
            _ => self.phase = Phase::Done,
        }
    }

    #[inline]
    fn absorb(&mut self, text: &str, em: &mut Emitter<'_>) -> bool {
        self.phase == Phase::Arguments && self.json.absorb(text, &mut self.slot, em)
    }

    fn feed(&mut self, text: &str, em: &mut Emitter<'_>) -> Step {
        let mut pos = 0;
        loop {
            let rest = &text[pos..];
            match self.phase {
                Phase::Done => return Step::Ended { consumed: pos },
                _ if rest.is_empty() => return Step::NeedMore,
                Phase::Header => {
                    let cap = MAX_HEADER + MESSAGE.len();
                    if self.header_bytes >= cap {
                        let problem = format!("longer than the limit of {MAX_HEADER} bytes");
                        self.header_error(em, ERR_HEADER_TOO_LARGE, &problem);
                        self.phase = Phase::HeaderTooLong;
                        continue;
                    }
                    let mut cut = rest.len().min(cap - self.header_bytes);
                    while !rest.is_char_boundary(cut) {
                        cut += 1;
                    }
                    let allowed = &rest[..cut];
                    let header = &mut self.header;
                    match self
                        .scanner
                        .scan(&self.markers, allowed, |s| header.push_str(s))
                    {
                        Scan::Pending => {
                            self.header_bytes += cut;
                            pos += cut;
                        }
                        Scan::Found { id, consumed } => {
                            self.header_bytes += consumed;
                            pos += consumed;
                            match id {
                                ID_MESSAGE => {
                                    if self.header_done(em) {
                                        self.phase = Phase::Done;
                                    }
                                }
                                ID_CHANNEL => self.header.push_str(CHANNEL),
                                _ => {
                                    self.header_error(em, ERR_HEADER_INVALID, "no <|message|>");
                                    if let Some(step) = self.content_end(id, text, pos, em) {
                                        return step;
                                    }
                                }
                            }
                        }
                    }
                }
                Phase::HeaderTooLong | Phase::Reasoning | Phase::CallEnd | Phase::Recover => {
                    let phase = self.phase;
                    let trailing = &mut self.trailing_text;
                    let scan = self.scanner.scan(&self.markers, rest, |s| match phase {
                        Phase::Reasoning => em.reasoning(s),
                        Phase::CallEnd => {
                            // Blanks between the arguments and `<|call|>` are no text.
                            let s = if *trailing { s } else { s.trim_start() };
                            *trailing |= !s.is_empty();
                            em.text(s);
                        }
                        _ => {}
                    });
                    match scan {
                        Scan::Pending => return Step::NeedMore,
                        Scan::Found { id, consumed } => {
                            pos += consumed;
                            match id {
                                // The `<|message|>` after a header that was too long starts
                                // its content (text); a stray one inside content is content.
                                ID_MESSAGE if phase == Phase::HeaderTooLong => {
                                    self.phase = Phase::Done;
                                }
                                ID_MESSAGE => match phase {
                                    Phase::Reasoning => em.reasoning(MESSAGE),
                                    Phase::CallEnd => {
                                        self.trailing_text = true;
                                        em.text(MESSAGE);
                                    }
                                    _ => {}
                                },
                                _ => {
                                    if let Some(step) = self.content_end(id, text, pos, em) {
                                        return step;
                                    }
                                }
                            }
                        }
                    }
                }
                Phase::Arguments => match self.json.feed(rest, &mut self.slot, em) {
                    Step::NeedMore => return Step::NeedMore,
                    Step::Ended { consumed } => {
                        pos += consumed;
                        self.slot.complete(em);
                        self.scanner.reset();
                        self.trailing_text = false;
                        self.phase = Phase::CallEnd;
                    }
                    Step::Invalid { at, reason } => {
                        pos += at;
                        let at = em.char_offset(text, pos);
                        self.slot.fail(em, Problem::InvalidJson { at, reason });
                        self.scanner.reset();
                        self.phase = Phase::Recover;
                    }
                },
            }
        }
    }

    fn finish(&mut self, em: &mut Emitter<'_>) {
        match self.phase {
            Phase::Header if self.header_bytes >= MAX_HEADER + MESSAGE.len() => {
                let problem = format!("longer than the limit of {MAX_HEADER} bytes");
                self.header_error(em, ERR_HEADER_TOO_LARGE, &problem);
            }
            Phase::Header => {
                self.header.push_str(self.scanner.held());
                self.header_error(em, ERR_HEADER_INVALID, "the stream ended inside the header");
            }
            Phase::Reasoning => self.scanner.flush(|s| em.reasoning(s)),
            Phase::Arguments => {
                if !self.json.not_started() && self.json.finish() {
                    self.slot.complete(em);
                } else {
                    self.slot.fail_incomplete(em, "the call's arguments");
                }
            }
            Phase::CallEnd => {
                let trailing = self.trailing_text;
                self.scanner
                    .flush(|s| em.text(if trailing { s } else { s.trim_start() }));
            }
            Phase::HeaderTooLong | Phase::Recover | Phase::Done => {}
        }
        self.phase = Phase::Done;
    }
}
