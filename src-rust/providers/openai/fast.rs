//! A fast path for the chunk nearly every OpenAI-compatible event is:
//! `{..., "choices": [{"index": 0, "delta": {"content": "..."}, "finish_reason": null}]}`.
//!
//! A small hand-written scanner reads that shape without building serde structures. It is
//! deliberately partial: anything it does not fully understand (usage, tool calls, logprobs,
//! several choices, escaped keys, duplicate fields, odd numbers, deep nesting) makes it give
//! up with `None`, before any state changes, and the serde path decides. So it accepts only
//! input the serde path accepts, and reads it the same way.

use std::borrow::Cow;

use crate::providers::json_string;
use crate::providers::template::Template;
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

/// `parse`, or first `template` (its reading: the choice index) when `data` fits it; a full
/// read of one text delta becomes the template.
pub(super) fn parse_with<'a>(template: &mut Template<u32>, data: &'a str) -> Option<FastChunk<'a>> {
    if let Some((index, text)) = template.fit(data) {
        let choice = FastChoice {
            index,
            delta: Some(Some(text)),
            finish_reason: None,
            content_span: None,
        };
        return Some(FastChunk {
            choice: Some(choice),
        });
    }
    let chunk = parse(data)?;
    if let Some(FastChoice {
        index,
        delta: Some(Some(_)),
        finish_reason: None,
        content_span: Some(span),
    }) = &chunk.choice
    {
        template.remember(data, span.clone(), *index);
    }
    Some(chunk)
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

    /// An object whose members named in `keys` come at most once each (serde rejects a
    /// repeated field): `member` gets the key's position in `keys`, at its value; other
    /// members are passed over.
    fn fields<const N: usize>(
        &mut self,
        keys: [&str; N],
        mut member: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        let mut seen = [false; N];
        self.object(|scanner, key| {
            let Some(slot) = keys.iter().position(|known| *known == key) else {
                return scanner.skip_value(0);
            };
            if std::mem::replace(&mut seen[slot], true) {
                return None;
            }
            member(scanner, slot)
        })
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
        let (value, end) = json_string::read(self.text, self.pos)?;
        self.pos = end;
        Some(value)
    }

    /// Validate and pass over a string; returns whether it had escapes.
    fn skip_string(&mut self) -> Option<bool> {
        let (end, escaped) = json_string::skip(self.bytes, self.pos)?;
        self.pos = end;
        Some(escaped)
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
        self.fields(["choices", "usage", "x_groq", "error"], |scanner, slot| {
            if slot == 0 {
                choice = scanner.choices()?;
                return Some(());
            }
            // usage, x_groq, error: accepted only as null
            scanner.null().then_some(())
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
        let keys = ["index", "delta", "finish_reason", "message", "logprobs"];
        self.fields(keys, |scanner, slot| {
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
        let keys = [
            "content",
            "reasoning_content",
            "reasoning",
            "refusal",
            "tool_calls",
        ];
        self.fields(keys, |scanner, slot| {
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
