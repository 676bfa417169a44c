//! A fast path for the chunk nearly every OpenAI-compatible event is:
//! `{..., "choices": [{"index": 0, "delta": {"content": "..."}, "finish_reason": null}]}`.
//!
//! A small hand-written scanner reads that shape without building serde structures. It is
//! deliberately partial: anything it does not fully understand (usage, tool calls, logprobs,
//! several choices, escaped keys, duplicate fields, odd numbers, deep nesting) makes it give
//! up with `None`, before any state changes, and the serde path decides. So it accepts only
//! input the serde path accepts, and reads it the same way.

use std::borrow::Cow;
use std::ops::Range;

/// What the fast path read from one event.
pub(super) struct FastChunk<'a> {
    /// `None` for `"choices": []` or `null` or no `choices` at all.
    pub choice: Option<FastChoice<'a>>,
}

pub(super) struct FastChoice<'a> {
    pub index: u32,
    /// `None` when `delta` is absent or null; `Some(None)` when it has no (or null) content.
    pub delta: Option<Option<Cow<'a, str>>>,
    pub finish_reason: Option<&'a str>,
    /// Where the content string (quotes included) stands in the event.
    content_span: Option<Range<usize>>,
}

/// The last event the scanner read as one text delta, cut around its content string.
///
/// A stream repeats every byte of an event but the text (the same id, model, fingerprint,
/// choice and nulls), so an event made of the same bytes before and after one JSON string
/// reads as that event did, with this string as its text: only the string is scanned. The
/// scanner reads left to right and nothing it decides depends on the text, so this accepts
/// exactly what the full scan would, with the same reading.
#[derive(Debug, Default)]
pub(super) struct Template {
    event: String,
    /// The content string's span in `event`; empty when there is no template yet.
    text: Range<usize>,
    index: u32,
}

impl Template {
    /// `parse`, through the template when `data` fits it; a fitting full read becomes the
    /// template.
    pub fn parse<'a>(&mut self, data: &'a str) -> Option<FastChunk<'a>> {
        if let Some(chunk) = self.fit(data) {
            return Some(chunk);
        }
        let chunk = parse(data)?;
        if let Some(
            choice @ FastChoice {
                delta: Some(Some(_)),
                finish_reason: None,
                content_span: Some(span),
                ..
            },
        ) = &chunk.choice
        {
            self.event.clear();
            self.event.push_str(data);
            self.text = span.clone();
            self.index = choice.index;
        }
        Some(chunk)
    }

    pub(super) fn fit<'a>(&self, data: &'a str) -> Option<FastChunk<'a>> {
        if self.text.is_empty() {
            return None;
        }
        let (before, after) = (&self.event[..self.text.start], &self.event[self.text.end..]);
        let end = data.len().checked_sub(after.len())?;
        if end < before.len() || !data.starts_with(before) || !data.ends_with(after) {
            return None;
        }
        let mut scanner = Scanner {
            text: data,
            bytes: data.as_bytes(),
            pos: before.len(),
        };
        let text = scanner.string()?;
        let choice = FastChoice {
            index: self.index,
            delta: Some(Some(text)),
            finish_reason: None,
            content_span: Some(before.len()..end),
        };
        (scanner.pos == end).then_some(FastChunk {
            choice: Some(choice),
        })
    }
}

/// Nesting deeper than this inside skipped values sends the event to serde.
const MAX_SKIP_DEPTH: u32 = 32;

pub(super) fn parse(data: &str) -> Option<FastChunk<'_>> {
    let mut scanner = Scanner {
        text: data,
        bytes: data.as_bytes(),
        pos: 0,
    };
    let chunk = scanner.chunk()?;
    scanner.whitespace();
    (scanner.pos == scanner.bytes.len()).then_some(chunk)
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// Skip whitespace, then consume `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        self.whitespace();
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Some(())
        } else {
            None
        }
    }

    /// `null` (after whitespace): consumed and true; anything else: untouched and false.
    fn null(&mut self) -> bool {
        self.whitespace();
        self.literal(b"null").is_some()
    }

    /// An object's members: calls `member` with each key, positioned at its value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            self.whitespace();
            let key = self.plain_string()?;
            if !self.eat(b':') {
                return None;
            }
            member(self, key)?;
            if self.eat(b',') {
                continue;
            }
            return self.eat(b'}').then_some(());
        }
    }

    /// A string without escapes, borrowed; `None` for anything else.
    fn plain_string(&mut self) -> Option<&'a str> {
        match self.string()? {
            Cow::Borrowed(text) => Some(text),
            Cow::Owned(_) => None,
        }
    }

    /// A JSON string (the cursor on its opening quote), decoded.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos;
        let escaped = self.skip_string()?;
        let end = self.pos;
        if !escaped {
            return Some(Cow::Borrowed(&self.text[start + 1..end - 1]));
        }
        // Escapes are rare: serde decodes them, so both paths agree to the byte.
        serde_json::from_str::<String>(&self.text[start..end])
            .ok()
            .map(Cow::Owned)
    }

    /// Validate and pass over a string; returns whether it had escapes. Strings here are
    /// short (keys, ids, one token): eight bytes at a time, no vector setup.
    fn skip_string(&mut self) -> Option<bool> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let bytes = self.bytes;
        let mut pos = self.pos + 1;
        let mut escaped = false;
        loop {
            while let Some(word) = bytes.get(pos..pos + 8) {
                let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
                let special = special_bytes(word);
                if special != 0 {
                    // The lowest flagged lane is exact: jump straight to that byte.
                    pos += (special.trailing_zeros() / 8) as usize;
                    break;
                }
                pos += 8;
            }
            match *bytes.get(pos)? {
                b'"' => {
                    self.pos = pos + 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match *bytes.get(pos + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => pos += 2,
                        b'u' => {
                            let hex = bytes.get(pos + 2..pos + 6)?;
                            let mut unit = 0u32;
                            for &digit in hex {
                                unit = unit * 16 + char::from(digit).to_digit(16)?;
                            }
                            if (0xD800..0xE000).contains(&unit) {
                                // Surrogates (pairs or lone) are left to serde.
                                return None;
                            }
                            pos += 6;
                        }
                        _ => return None,
                    }
                }
                // Raw control characters are invalid JSON: let serde report them.
                0..=0x1F => return None,
                _ => pos += 1,
            }
        }
    }

    /// A non-negative integer that fits `u32`, written plainly.
    fn index(&mut self) -> Option<u32> {
        self.whitespace();
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        let digits = &self.text[start..self.pos];
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        digits.parse().ok()
    }

    /// Validate and pass over any JSON value.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_SKIP_DEPTH {
            return None;
        }
        self.whitespace();
        match self.peek()? {
            b'"' => self.skip_string().map(drop),
            b'{' => self.object(|scanner, _| scanner.skip_value(depth + 1)),
            b'[' => {
                self.pos += 1;
                if self.eat(b']') {
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if self.eat(b',') {
                        continue;
                    }
                    return self.eat(b']').then_some(());
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.skip_number(),
            _ => None,
        }
    }

    fn skip_number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = |scanner: &mut Self| {
            let start = scanner.pos;
            while let Some(b'0'..=b'9') = scanner.peek() {
                scanner.pos += 1;
            }
            scanner.pos - start
        };
        let start = self.pos;
        match digits(self) {
            0 => return None,
            n if n > 1 && self.bytes[start] == b'0' => return None,
            _ => {}
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        Some(())
    }

    /// The top-level chunk object.
    fn chunk(&mut self) -> Option<FastChunk<'a>> {
        let mut choice = None;
        let mut seen_choices = false;
        let mut seen = [false; 3]; // usage, x_groq, error: accepted only as null
        self.object(|scanner, key| {
            let slot = match key {
                "choices" => {
                    if std::mem::replace(&mut seen_choices, true) {
                        return None; // serde rejects duplicate fields
                    }
                    choice = scanner.choices()?;
                    return Some(());
                }
                "usage" => 0,
                "x_groq" => 1,
                "error" => 2,
                _ => return scanner.skip_value(0),
            };
            if std::mem::replace(&mut seen[slot], true) || !scanner.null() {
                return None;
            }
            Some(())
        })?;
        Some(FastChunk { choice })
    }

    /// `choices`: null, empty, or exactly one choice.
    fn choices(&mut self) -> Option<Option<FastChoice<'a>>> {
        if self.null() {
            return Some(None);
        }
        if !self.eat(b'[') {
            return None;
        }
        if self.eat(b']') {
            return Some(None);
        }
        let choice = self.choice()?;
        self.eat(b']').then_some(Some(choice))
    }

    fn choice(&mut self) -> Option<FastChoice<'a>> {
        let mut index = None;
        let mut delta = None;
        let mut content_span = None;
        let mut finish_reason = None;
        // index, delta, finish_reason, message, logprobs
        let mut seen = [false; 5];
        self.object(|scanner, key| {
            let slot = match key {
                "index" => 0,
                "delta" => 1,
                "finish_reason" => 2,
                "message" => 3,
                "logprobs" => 4,
                _ => return scanner.skip_value(0),
            };
            if std::mem::replace(&mut seen[slot], true) {
                return None;
            }
            match slot {
                0 => index = Some(scanner.index()?),
                1 => {
                    if !scanner.null() {
                        let (content, span) = scanner.delta()?;
                        delta = Some(content);
                        content_span = span;
                    }
                }
                2 => {
                    if !scanner.null() {
                        scanner.whitespace();
                        finish_reason = Some(scanner.plain_string()?);
                    }
                }
                _ => {
                    if !scanner.null() {
                        return None;
                    }
                }
            }
            Some(())
        })?;
        Some(FastChoice {
            index: index.unwrap_or(0),
            delta,
            finish_reason,
            content_span,
        })
    }

    /// A delta whose only non-null payload field is a string `content`; with the span of
    /// that string.
    #[allow(clippy::type_complexity)]
    fn delta(&mut self) -> Option<(Option<Cow<'a, str>>, Option<Range<usize>>)> {
        let mut content = None;
        let mut span = None;
        // content, reasoning_content, reasoning, refusal, tool_calls
        let mut seen = [false; 5];
        self.object(|scanner, key| {
            let slot = match key {
                "content" => 0,
                "reasoning_content" => 1,
                "reasoning" => 2,
                "refusal" => 3,
                "tool_calls" => 4,
                _ => return scanner.skip_value(0),
            };
            if std::mem::replace(&mut seen[slot], true) {
                return None;
            }
            if scanner.null() {
                return Some(());
            }
            if slot != 0 {
                return None;
            }
            scanner.whitespace();
            let start = scanner.pos;
            content = Some(scanner.string()?);
            span = Some(start..scanner.pos);
            Some(())
        })?;
        Some((content, span))
    }
}

/// The high bit of each byte lane of `word` (little-endian) holding a quote, a backslash or
/// a control character, by the classic "has zero byte" / "has byte less than" word tricks.
/// The lowest set lane is always exact; lanes above a hit may be false alarms.
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (quote | backslash | control) & HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_common_shape() {
        let data = r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":2,"delta":{"role":"assistant","content":"a \"b\" \u00e9"},"logprobs":null,"finish_reason":null}],"usage":null}"#;
        let chunk = parse(data).unwrap();
        let choice = chunk.choice.unwrap();
        assert_eq!(choice.index, 2);
        assert_eq!(choice.delta.unwrap().as_deref(), Some("a \"b\" é"));
        assert_eq!(choice.finish_reason, None);
    }

    #[test]
    fn special_bytes_are_found_in_any_lane() {
        for lane in 0..8 {
            for special in [b'"', b'\\', 0x00, 0x1F] {
                let mut word = *b"abcdefgh";
                word[lane] = special;
                let lanes = special_bytes(u64::from_le_bytes(word));
                assert_eq!(lanes.trailing_zeros() / 8, lane as u32);
            }
        }
        for text in [
            *b"abcdefgh",
            *b"caf\xC3\xA9 !#",
            [0x20, 0x7F, 0x80, 0xFF, b'!', b'#', b'[', b']'],
        ] {
            assert_eq!(special_bytes(u64::from_le_bytes(text)), 0, "{text:?}");
        }
    }

    #[test]
    fn gives_up_on_what_it_does_not_handle() {
        for data in [
            r#"{"choices":[{"delta":{"tool_calls":[]}}]}"#,
            r#"{"choices":[{"delta":{}},{"delta":{}}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":1}}"#,
            r#"{"choices":[{"index":0,"index":1}]}"#,
            r#"{"choices":[{"index":1.0}]}"#,
            r#"{"choices":[{"delta":{"content":"\ud83d\ude42"}}]}"#,
            r#"{"ch\u006fices":[]}"#,
            r#"{"choices":[{"logprobs":{"content":[]}}]}"#,
            r#"{"choices":[]} x"#,
            r#"{"a":01,"choices":[]}"#,
            "{\"a\":\"\u{1}\",\"choices\":[]}",
        ] {
            assert!(parse(data).is_none(), "{data}");
        }
    }
}
