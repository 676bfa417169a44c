//! Reading pieces of a format that may arrive split across `decode()` calls: expected
//! literals (tags), names and ids up to a terminator, skipping to a recovery marker.
//!
//! Every cap here cuts at the same stream byte however the text was split, so a call given up
//! for being too long gives the same output whole or piece by piece.

use std::sync::Arc;

use super::super::emit::Emitter;
use super::super::matcher::{MarkerScanner, Markers, Scan};
use super::Step;

/// Longest function name, argument name or call id a format reads (bytes).
pub const MAX_NAME: usize = 256;

#[inline]
pub fn is_json_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Number of leading JSON-whitespace bytes.
pub fn skip_ws(text: &str) -> usize {
    text.bytes().take_while(|&b| is_json_ws(b)).count()
}

/// Matches one of a few expected literals (tags) that may arrive split across pieces.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    matched: usize,
    /// Bit `i` set: literal `i` still agrees with what was matched.
    alive: u32,
}

/// Outcome of `Expect::feed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// All input matched a prefix of some literal.
    Partial,
    /// Literal `which` is complete after `consumed` bytes of this piece.
    Complete { which: usize, consumed: usize },
    /// The input diverges after `consumed` bytes of this piece; the text matched so far
    /// (possibly begun in earlier pieces) is `matched`, a prefix of the literals.
    Mismatch {
        consumed: usize,
        matched: &'static str,
    },
}

impl Expect {
    pub fn reset(&mut self) {
        self.matched = 0;
        self.alive = 0;
    }

    /// Bytes matched so far (0 when idle).
    pub fn matched(&self) -> usize {
        self.matched
    }

    /// The text matched so far (a prefix of the literals still possible).
    pub fn partial(&self, literals: &[&'static str]) -> &'static str {
        if self.matched == 0 {
            return "";
        }
        let n = (0..literals.len())
            .find(|&n| self.alive & (1 << n) != 0)
            .unwrap_or(0);
        &literals[n][..self.matched]
    }

    pub fn feed(&mut self, literals: &[&'static str], text: &str) -> Expected {
        debug_assert!(!literals.is_empty() && literals.len() <= 32);
        if self.matched == 0 {
            self.alive = (1u32 << literals.len()) - 1;
        }
        for (i, &b) in text.as_bytes().iter().enumerate() {
            let mut next = 0u32;
            let mut first_alive = None;
            for (n, literal) in literals.iter().enumerate() {
                if self.alive & (1 << n) == 0 {
                    continue;
                }
                first_alive.get_or_insert(n);
                if literal.as_bytes().get(self.matched) == Some(&b) {
                    next |= 1 << n;
                }
            }
            if next == 0 {
                // The literal may diverge inside a multi-byte character: the bytes of that
                // character matched so far are given back (they are in this piece, which
                // never splits a character) so `matched` and `consumed` stay on boundaries.
                let like = literals[first_alive.unwrap_or(0)];
                let mut keep = self.matched;
                while !like.is_char_boundary(keep) {
                    keep -= 1;
                }
                let matched = &like[..keep];
                let consumed = i - (self.matched - keep);
                self.reset();
                return Expected::Mismatch { consumed, matched };
            }
            self.alive = next;
            self.matched += 1;
            if let Some(which) = (0..literals.len())
                .find(|&n| next & (1 << n) != 0 && literals[n].len() == self.matched)
            {
                self.reset();
                return Expected::Complete {
                    which,
                    consumed: i + 1,
                };
            }
        }
        Expected::Partial
    }

    /// The marker that closes a section after its calls, read from `text[pos..]`: the section
    /// ends after it; anything else ends the section where it diverges (the calls stand, what
    /// was matched goes back as text).
    #[inline]
    pub fn close(
        &mut self,
        closers: &[&'static str],
        text: &str,
        pos: usize,
        em: &mut Emitter<'_>,
    ) -> Step {
        match self.feed(closers, &text[pos..]) {
            Expected::Partial => Step::NeedMore,
            Expected::Complete { consumed, .. } => Step::Ended {
                consumed: pos + consumed,
            },
            Expected::Mismatch { consumed, matched } => {
                em.give_back(matched);
                Step::Ended {
                    consumed: pos + consumed,
                }
            }
        }
    }
}

/// The model's name for a function, as written between markers: trimmed, non-empty, no
/// control characters or markup.
pub fn clean_name(raw: &str) -> Option<String> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.chars().any(|c| {
            c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | '{' | '}' | '"')
        });
    ok.then(|| name.to_owned())
}

/// How `read_run` stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// All of the piece was taken; the run goes on.
    Open,
    /// The run ended before byte `at` (a terminator, not taken).
    End { at: usize },
    /// The run passed `limit` bytes after `consumed` bytes of this piece (the first character
    /// beyond the limit is taken, so the cut does not depend on how the text was split).
    Over { consumed: usize },
}

impl Run {
    /// Bytes of a piece of `len` bytes that the run took (a terminator is not taken).
    /// The run ended at `closer` in `text`: the bytes it took, the closer included.
    pub fn closed_by(self, text: &str, closer: u8) -> Option<usize> {
        match self {
            Run::End { at } if text.as_bytes()[at] == closer => Some(at + 1),
            _ => None,
        }
    }

    pub fn taken(self, len: usize) -> usize {
        match self {
            Run::Open => len,
            Run::End { at } => at,
            Run::Over { consumed } => consumed,
        }
    }
}

/// Append to `buffer` the bytes of `text` before the first one for which `end` holds, with
/// `buffer` growing to at most `limit` bytes.
pub fn read_run(buffer: &mut String, text: &str, end: impl Fn(u8) -> bool, limit: usize) -> Run {
    let stop = text.bytes().position(end);
    let run = stop.unwrap_or(text.len());
    let room = limit.saturating_sub(buffer.len());
    if run > room {
        let mut cut = room + 1;
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        buffer.push_str(&text[..cut]);
        return Run::Over { consumed: cut };
    }
    buffer.push_str(&text[..run]);
    match stop {
        Some(at) => Run::End { at },
        None => Run::Open,
    }
}

/// Skipping the rest of a broken call up to one of a few markers (the end of its block).
#[derive(Debug, Clone)]
pub struct Recover {
    markers: Arc<Markers>,
    scanner: MarkerScanner,
}

impl Recover {
    pub fn new<S: AsRef<str>>(markers: &[S]) -> Recover {
        Recover {
            markers: Markers::shared(markers),
            scanner: MarkerScanner::new(),
        }
    }

    pub fn reset(&mut self) {
        self.scanner.reset();
    }

    /// As a section's step: ended after the marker (`pos` bytes of the piece came before
    /// `text`).
    pub fn step(&mut self, text: &str, pos: usize) -> Step {
        match self.skip(text) {
            None => Step::NeedMore,
            Some((_, consumed)) => Step::Ended {
                consumed: pos + consumed,
            },
        }
    }

    /// `Some((marker, consumed))` once a marker has been passed.
    pub fn skip(&mut self, text: &str) -> Option<(usize, usize)> {
        match self.scanner.scan(&self.markers, text, |_| {}) {
            Scan::Pending => None,
            Scan::Found { id, consumed } => Some((id, consumed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_that_diverges_inside_a_character_gives_the_character_back() {
        let mut expect = Expect::default();
        let literal: &[&'static str] = &["<｜tool▁call▁begin｜>"];
        assert_eq!(expect.feed(literal, "<｜tool"), Expected::Partial);
        // `⎁` shares its first byte with `▁`.
        assert_eq!(
            expect.feed(literal, "⎁x"),
            Expected::Mismatch {
                consumed: 0,
                matched: "<｜tool"
            }
        );
    }

    #[test]
    fn runs_are_cut_at_the_same_byte_however_split() {
        let text = "é".repeat(10);
        let mut whole = String::new();
        let cut = read_run(&mut whole, &text, |b| b == b'>', 5);
        assert_eq!(cut, Run::Over { consumed: 6 });
        let mut pieces = String::new();
        let mut taken = 0;
        for c in text.chars() {
            let s = c.to_string();
            match read_run(&mut pieces, &s, |b| b == b'>', 5) {
                Run::Open => taken += s.len(),
                Run::Over { consumed } => {
                    taken += consumed;
                    break;
                }
                Run::End { .. } => unreachable!(),
            }
        }
        assert_eq!((taken, pieces), (6, whole));
    }
}
