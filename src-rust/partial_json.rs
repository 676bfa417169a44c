//! An incremental parser for JSON that arrives in pieces (tool-call arguments), readable at any
//! point as the value "parsed so far".
//!
//! `push(piece)` scans only the new bytes: strings grow in place, completed values are moved
//! into their container once, so the whole input costs one linear pass however it is split.
//! The value so far (`value()`, or `frames()` + `pending_string()` for a reader that keeps
//! what it already converted) follows the SDKs' partial mode with unfinished strings kept:
//! an unfinished string is kept as far as it goes (without a half-read escape), an unfinished
//! number or literal is left out, an object key with no value yet is left out, and every open
//! container is closed. Size and nesting depth are capped; the first error is kept and
//! returned by every later call.

use crate::error::{Error, Result};

/// Largest argument text accepted, in bytes.
pub const DEFAULT_MAX_SIZE: usize = 64 * 1024 * 1024;
/// Deepest nesting of arrays and objects accepted.
pub const DEFAULT_MAX_DEPTH: usize = 256;

/// A parsed JSON value. Numbers keep their text, so nothing is lost to rounding here.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Box<str>),
    String(String),
    Array(Vec<Value>),
    /// Members in input order; a repeated key appears twice (readers keep the last, as `json`).
    Object(Vec<(String, Value)>),
}

/// An open array or object, with the children completed so far.
#[derive(Debug)]
pub struct Frame {
    /// Unique for the parser's life, so a reader can tell a new frame at the same depth.
    pub id: u64,
    pub container: Container,
}

#[derive(Debug)]
pub enum Container {
    Array(Vec<Value>),
    Object {
        members: Vec<(String, Value)>,
        /// The key read, waiting for its value.
        key: Option<String>,
    },
}

impl Container {
    /// How many completed children it holds.
    pub fn len(&self) -> usize {
        match self {
            Container::Array(items) => items.len(),
            Container::Object { members, .. } => members.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (top level, after `[`, `,` in an array or `:`).
    Value,
    /// A value or `]` right after `[`.
    ValueOrClose,
    /// A key or `}` right after `{`.
    KeyOrClose,
    /// A key after `,` in an object.
    Key,
    Colon,
    CommaOrClose,
    /// The top-level value is complete: only whitespace may follow.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Backslash,
    /// `\u` and the hex digits read so far.
    Unicode {
        digits: u8,
        value: u16,
    },
}

#[derive(Debug)]
enum Token {
    None,
    String {
        is_key: bool,
        text: String,
        escape: Escape,
        /// A high surrogate waiting for its low half (`\ud83d\ude00`).
        high_surrogate: Option<u16>,
    },
    Number(String),
    Literal {
        word: &'static str,
        matched: usize,
    },
}

/// The parser. See the module documentation.
#[derive(Debug)]
pub struct PartialJson {
    frames: Vec<Frame>,
    root: Option<Value>,
    expect: Expect,
    token: Token,
    size: usize,
    next_id: u64,
    max_size: usize,
    max_depth: usize,
    error: Option<Error>,
}

impl Default for PartialJson {
    fn default() -> Self {
        PartialJson::new(DEFAULT_MAX_SIZE, DEFAULT_MAX_DEPTH)
    }
}

impl PartialJson {
    pub fn new(max_size: usize, max_depth: usize) -> Self {
        PartialJson {
            frames: Vec::new(),
            root: None,
            expect: Expect::Value,
            token: Token::None,
            size: 0,
            next_id: 0,
            max_size,
            max_depth,
            error: None,
        }
    }

    /// Parse `piece`, the next part of the text. Errors are sticky.
    pub fn push(&mut self, piece: &str) -> Result<()> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        if self.size + piece.len() > self.max_size {
            return self.fail(Error::EventTooLarge {
                what: "tool-call arguments",
                limit: self.max_size,
                offset: self.size as u64,
            });
        }
        let bytes = piece.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            at = match self.step(piece, at) {
                Ok(next) => next,
                Err(error) => {
                    self.size += at;
                    return self.fail(error);
                }
            };
        }
        self.size += bytes.len();
        Ok(())
    }

    /// True once the top-level value is complete.
    pub fn is_complete(&self) -> bool {
        self.root.is_some()
    }

    /// True while nothing but whitespace has been read.
    pub fn is_empty(&self) -> bool {
        self.root.is_none() && self.frames.is_empty() && matches!(self.token, Token::None)
    }

    /// The first error met, if any.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Bytes read so far.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The completed top-level value.
    pub fn root(&self) -> Option<&Value> {
        self.root.as_ref()
    }

    /// The open containers, outermost first.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The unfinished string being read as a value (not as a key), as far as it goes.
    pub fn pending_string(&self) -> Option<&str> {
        match &self.token {
            Token::String {
                is_key: false,
                text,
                ..
            } => Some(text),
            _ => None,
        }
    }

    /// The value so far, built anew (readers that poll often convert `frames()` themselves,
    /// keeping what they converted before). None while no value has started.
    pub fn value(&self) -> Option<Value> {
        if let Some(root) = &self.root {
            return Some(root.clone());
        }
        let mut inner = self.pending_string().map(|s| Value::String(s.to_owned()));
        for frame in self.frames.iter().rev() {
            inner = Some(match &frame.container {
                Container::Array(items) => {
                    let mut items = items.clone();
                    items.extend(inner);
                    Value::Array(items)
                }
                Container::Object { members, key } => {
                    let mut members = members.clone();
                    if let (Some(key), Some(value)) = (key, inner) {
                        members.push((key.clone(), value));
                    }
                    Value::Object(members)
                }
            });
        }
        inner
    }

    fn fail(&mut self, error: Error) -> Result<()> {
        self.error = Some(error.clone());
        Err(error)
    }

    fn syntax(&self, message: &str, at: usize) -> Error {
        Error::protocol(
            format!("tool-call arguments are not valid JSON: {message}"),
            Some((self.size + at) as u64),
        )
    }

    /// Consume from `at`; return where the next step starts.
    fn step(&mut self, piece: &str, at: usize) -> Result<usize> {
        let bytes = piece.as_bytes();
        match &mut self.token {
            Token::String { .. } => return self.string(piece, at),
            Token::Number(text) => {
                let end = bytes[at..]
                    .iter()
                    .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .map_or(bytes.len(), |n| at + n);
                text.push_str(&piece[at..end]);
                if end == bytes.len() {
                    return Ok(end);
                }
                let Token::Number(text) = std::mem::replace(&mut self.token, Token::None) else {
                    unreachable!()
                };
                if !is_json_number(&text) {
                    return Err(self.syntax(&format!("bad number {text:?}"), end));
                }
                self.complete(Value::Number(text.into_boxed_str()), end)?;
                return Ok(end);
            }
            Token::Literal { word, matched } => {
                let want = word.as_bytes();
                let mut i = at;
                while i < bytes.len() && *matched < want.len() {
                    if bytes[i] != want[*matched] {
                        let word = *word;
                        return Err(self.syntax(&format!("expected {word:?}"), i));
                    }
                    *matched += 1;
                    i += 1;
                }
                if *matched == want.len() {
                    let value = match *word {
                        "true" => Value::Bool(true),
                        "false" => Value::Bool(false),
                        _ => Value::Null,
                    };
                    self.token = Token::None;
                    self.complete(value, i)?;
                }
                return Ok(i);
            }
            Token::None => {}
        }
        let byte = bytes[at];
        if matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
            return Ok(at + 1);
        }
        match (self.expect, byte) {
            (Expect::Value | Expect::ValueOrClose, _) if byte != b']' => self.start_value(byte, at),
            (Expect::ValueOrClose | Expect::CommaOrClose, b']') if self.in_array() => {
                self.close(at)?;
                Ok(at + 1)
            }
            (Expect::KeyOrClose | Expect::CommaOrClose, b'}') if !self.in_array() => {
                self.close(at)?;
                Ok(at + 1)
            }
            (Expect::KeyOrClose | Expect::Key, b'"') => {
                self.token = Token::String {
                    is_key: true,
                    text: String::new(),
                    escape: Escape::None,
                    high_surrogate: None,
                };
                Ok(at + 1)
            }
            (Expect::Colon, b':') => {
                self.expect = Expect::Value;
                Ok(at + 1)
            }
            (Expect::CommaOrClose, b',') => {
                self.expect = if self.in_array() {
                    Expect::Value
                } else {
                    Expect::Key
                };
                Ok(at + 1)
            }
            (Expect::End, _) => Err(self.syntax("trailing characters after the value", at)),
            _ => Err(self.syntax(&format!("unexpected {:?}", byte as char), at)),
        }
    }

    fn in_array(&self) -> bool {
        matches!(
            self.frames.last(),
            Some(Frame {
                container: Container::Array(_),
                ..
            })
        )
    }

    fn start_value(&mut self, byte: u8, at: usize) -> Result<usize> {
        match byte {
            b'{' | b'[' => {
                if self.frames.len() >= self.max_depth {
                    return Err(Error::limit(
                        "max_arguments_depth",
                        self.max_depth,
                        format!(
                            "tool-call arguments nest deeper than {} levels (at byte {})",
                            self.max_depth,
                            self.size + at
                        ),
                    ));
                }
                let container = if byte == b'{' {
                    self.expect = Expect::KeyOrClose;
                    Container::Object {
                        members: Vec::new(),
                        key: None,
                    }
                } else {
                    self.expect = Expect::ValueOrClose;
                    Container::Array(Vec::new())
                };
                self.frames.push(Frame {
                    id: self.next_id,
                    container,
                });
                self.next_id += 1;
            }
            b'"' => {
                self.token = Token::String {
                    is_key: false,
                    text: String::new(),
                    escape: Escape::None,
                    high_surrogate: None,
                }
            }
            b'-' | b'0'..=b'9' => {
                self.token = Token::Number(String::new());
                return Ok(at); // the number scanner reads this byte
            }
            b't' | b'f' | b'n' => {
                let word = match byte {
                    b't' => "true",
                    b'f' => "false",
                    _ => "null",
                };
                self.token = Token::Literal { word, matched: 0 };
                return Ok(at);
            }
            _ => return Err(self.syntax(&format!("unexpected {:?}", byte as char), at)),
        }
        Ok(at + 1)
    }

    /// Read string content from `at`: plain runs are copied in one go.
    fn string(&mut self, piece: &str, mut at: usize) -> Result<usize> {
        let bytes = piece.as_bytes();
        let Token::String {
            text,
            escape,
            high_surrogate,
            ..
        } = &mut self.token
        else {
            unreachable!()
        };
        while at < bytes.len() {
            match *escape {
                Escape::None => {
                    let run = bytes[at..]
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                        .map_or(bytes.len(), |n| at + n);
                    if run > at {
                        flush_surrogate(text, high_surrogate);
                        text.push_str(&piece[at..run]);
                        at = run;
                        continue;
                    }
                    match bytes[at] {
                        b'"' => {
                            flush_surrogate(text, high_surrogate);
                            return self.end_string(at + 1);
                        }
                        b'\\' => *escape = Escape::Backslash,
                        _ => {
                            let offset = self.size + at;
                            return Err(Error::protocol(
                                "tool-call arguments are not valid JSON: control character in a string",
                                Some(offset as u64),
                            ));
                        }
                    }
                    at += 1;
                }
                Escape::Backslash => {
                    let plain = match bytes[at] {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            *escape = Escape::Unicode {
                                digits: 0,
                                value: 0,
                            };
                            at += 1;
                            continue;
                        }
                        other => {
                            let offset = self.size + at;
                            return Err(Error::protocol(
                                format!(
                                    "tool-call arguments are not valid JSON: bad escape \\{}",
                                    other as char
                                ),
                                Some(offset as u64),
                            ));
                        }
                    };
                    flush_surrogate(text, high_surrogate);
                    text.push(plain);
                    *escape = Escape::None;
                    at += 1;
                }
                Escape::Unicode { digits, value } => {
                    let Some(digit) = (bytes[at] as char).to_digit(16) else {
                        let offset = self.size + at;
                        return Err(Error::protocol(
                            "tool-call arguments are not valid JSON: bad \\u escape",
                            Some(offset as u64),
                        ));
                    };
                    let value = (value << 4) | digit as u16;
                    at += 1;
                    if digits < 3 {
                        *escape = Escape::Unicode {
                            digits: digits + 1,
                            value,
                        };
                        continue;
                    }
                    *escape = Escape::None;
                    match (value, high_surrogate.take()) {
                        (0xD800..=0xDBFF, previous) => {
                            if previous.is_some() {
                                text.push(char::REPLACEMENT_CHARACTER);
                            }
                            *high_surrogate = Some(value);
                        }
                        (0xDC00..=0xDFFF, Some(high)) => {
                            let code = 0x10000
                                + ((u32::from(high) - 0xD800) << 10)
                                + (u32::from(value) - 0xDC00);
                            text.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                        }
                        (0xDC00..=0xDFFF, None) => text.push(char::REPLACEMENT_CHARACTER),
                        (_, previous) => {
                            if previous.is_some() {
                                text.push(char::REPLACEMENT_CHARACTER);
                            }
                            text.push(
                                char::from_u32(u32::from(value))
                                    .unwrap_or(char::REPLACEMENT_CHARACTER),
                            );
                        }
                    }
                }
            }
        }
        Ok(at)
    }

    fn end_string(&mut self, next: usize) -> Result<usize> {
        let Token::String { is_key, text, .. } = std::mem::replace(&mut self.token, Token::None)
        else {
            unreachable!()
        };
        if is_key {
            if let Some(Frame {
                container: Container::Object { key, .. },
                ..
            }) = self.frames.last_mut()
            {
                *key = Some(text);
            }
            self.expect = Expect::Colon;
        } else {
            self.complete(Value::String(text), next)?;
        }
        Ok(next)
    }

    /// A value is complete: put it in its container (or make it the root).
    fn complete(&mut self, value: Value, _at: usize) -> Result<()> {
        match self.frames.last_mut() {
            None => {
                self.root = Some(value);
                self.expect = Expect::End;
            }
            Some(frame) => {
                match &mut frame.container {
                    Container::Array(items) => items.push(value),
                    Container::Object { members, key } => {
                        let key = key.take().unwrap_or_default();
                        members.push((key, value));
                    }
                }
                self.expect = Expect::CommaOrClose;
            }
        }
        Ok(())
    }

    fn close(&mut self, at: usize) -> Result<()> {
        let frame = self.frames.pop().expect("close() only with an open frame");
        let value = match frame.container {
            Container::Array(items) => Value::Array(items),
            Container::Object { members, .. } => Value::Object(members),
        };
        self.complete(value, at)
    }
}

/// A high surrogate not followed by its low half stands for U+FFFD.
fn flush_surrogate(text: &mut String, high_surrogate: &mut Option<u16>) {
    if high_surrogate.take().is_some() {
        text.push(char::REPLACEMENT_CHARACTER);
    }
}

/// RFC 8259 `number`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_pieces(pieces: &[&str]) -> PartialJson {
        let mut parser = PartialJson::default();
        for piece in pieces {
            parser.push(piece).unwrap();
        }
        parser
    }

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    fn n(text: &str) -> Value {
        Value::Number(text.into())
    }

    fn obj(members: &[(&str, Value)]) -> Value {
        Value::Object(
            members
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn prefixes_follow_partial_mode_with_strings_kept() {
        let cases: &[(&str, Option<Value>)] = &[
            ("", None),
            ("{", Some(obj(&[]))),
            ("{\"a", Some(obj(&[]))),
            ("{\"a\":", Some(obj(&[]))),
            ("{\"a\": \"xy", Some(obj(&[("a", s("xy"))]))),
            ("{\"a\": 12", Some(obj(&[]))),
            ("{\"a\": 12,", Some(obj(&[("a", n("12"))]))),
            ("{\"a\": tr", Some(obj(&[]))),
            ("{\"a\": true", Some(obj(&[("a", Value::Bool(true))]))),
            ("{\"a\": \"x\\u00", Some(obj(&[("a", s("x"))]))),
            (
                "{\"a\": [1, {\"b",
                Some(obj(&[("a", Value::Array(vec![n("1"), obj(&[])]))])),
            ),
            ("[1,", Some(Value::Array(vec![n("1")]))),
            ("\"ab", Some(s("ab"))),
        ];
        for (text, expected) in cases {
            assert_eq!(&parse_pieces(&[text]).value(), expected, "{text:?}");
        }
    }

    #[test]
    fn whole_and_split_give_the_same_value() {
        let text = r#"{"path": "a\"b\\c\u00e9\ud83d\ude00", "n": [1, -2.5e3, 0, true, false, null], "o": {"k": {}}, "e": []}"#;
        let whole = parse_pieces(&[text]);
        assert!(whole.is_complete());
        let expected = whole.value().unwrap();
        let Value::Object(members) = &expected else {
            panic!()
        };
        assert_eq!(members[0].1, s("a\"b\\cé😀"));
        for size in 1..8 {
            let mut parser = PartialJson::default();
            let mut at = 0;
            while at < text.len() {
                let mut end = (at + size).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                parser.push(&text[at..end]).unwrap();
                // Every prefix gives a value (a linear reader never fails mid-way).
                let _ = parser.value();
                at = end;
            }
            assert_eq!(parser.value().as_ref(), Some(&expected), "split by {size}");
        }
    }

    #[test]
    fn frames_and_pending_string_expose_the_open_spine() {
        let parser = parse_pieces(&["{\"a\": 1, \"b\": [\"x\", \"y"]);
        let frames = parser.frames();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].container.len(), 1);
        assert_eq!(frames[1].container.len(), 1);
        assert_eq!(parser.pending_string(), Some("y"));
        assert_ne!(frames[0].id, frames[1].id);
    }

    #[test]
    fn errors_name_the_limit_and_stay() {
        let mut deep = PartialJson::new(1024, 3);
        let error = deep.push("[[[[").unwrap_err();
        assert!(
            error.to_string().contains("deeper than 3 levels"),
            "{error}"
        );
        assert!(
            matches!(error, Error::LimitExceeded { limit: 3, .. }),
            "{error}"
        );
        assert_eq!(deep.push("]").unwrap_err(), error);

        let mut big = PartialJson::new(8, 16);
        big.push("{\"a\":").unwrap();
        let error = big.push("\"long\"}").unwrap_err();
        assert!(
            matches!(error, Error::EventTooLarge { limit: 8, .. }),
            "{error}"
        );

        for bad in [
            "{\"a\" 1}",
            "[1,]",
            "{\"a\": 01}",
            "[tru3]",
            "{} x",
            "\"a\x01\"",
            "[\"\\q\"]",
        ] {
            let mut parser = PartialJson::default();
            let result = parser.push(bad);
            assert!(result.is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn numbers_follow_the_grammar() {
        for good in ["0", "-0", "12", "1.5", "-1.5e+3", "2E-2"] {
            assert!(is_json_number(good), "{good}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1-2"] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
