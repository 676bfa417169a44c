//! Python literals -> JSON text, incrementally.
//!
//! Pythonic tool calls (`[f(a=1, b='x')]`) write argument values as Python literals. This turns
//! them into JSON as the characters arrive: strings are re-escaped and streamed, containers
//! are opened and closed as they come, and only bare tokens (numbers, `True`, `None`) wait for
//! their end. Supported: str ('…' or "…", with Python escapes), int, float, True/False/None
//! (and true/false/null), list, tuple (-> array), dict (keys: str, or numbers/bools quoted).
//! Not supported (the value is invalid): names, expressions, sets, triple-quoted and prefixed
//! strings (r'', b'', f'').

use std::fmt::Write as _;

/// How a `feed` stopped: `Ended` once the value is complete (a delimiter after a bare token is
/// not consumed).
pub use super::tools::Step;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    List,
    Tuple,
    Dict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    /// A value must come (or, with `close_ok`, the container may close).
    Value {
        close_ok: bool,
    },
    /// After a complete value inside a container.
    After,
    /// After a dict key: `:` must come.
    Colon,
    Str {
        quote: u8,
    },
    Escape {
        quote: u8,
    },
    /// `\x`, `\u`, `\U`: `left` hex digits to read into `acc`.
    Hex {
        quote: u8,
        left: u8,
        acc: u32,
    },
    /// Up to three octal digits.
    Octal {
        quote: u8,
        count: u8,
        acc: u32,
    },
    Bare,
    Done,
    Failed,
}

#[derive(Debug, Clone)]
pub struct PyLiteral {
    stack: Vec<Container>,
    /// Per open dict: whether the next value is a key.
    key_next: Vec<bool>,
    state: St,
    /// A `,` was seen and is written only when another value follows (Python allows a
    /// trailing comma, JSON does not).
    comma_pending: bool,
    bare: String,
    /// The value being read is a dict key.
    in_key: bool,
}

const MAX_DEPTH: usize = 512;
const MAX_BARE: usize = 512;

fn escape_char(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        c if (c as u32) < 0x20 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => out.push(c),
    }
}

/// Append `text` JSON-escaped (without quotes).
pub fn escape_json_into(out: &mut String, text: &str) {
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'"' || b == b'\\' || b < 0x20 {
            out.push_str(&text[start..i]);
            escape_char(out, b as char);
            start = i + 1;
        }
    }
    out.push_str(&text[start..]);
}

/// A Python bare token as JSON, or None.
fn bare_to_json(token: &str) -> Option<String> {
    match token {
        "True" | "true" => return Some("true".into()),
        "False" | "false" => return Some("false".into()),
        "None" | "null" => return Some("null".into()),
        _ => {}
    }
    number_to_json(token)
}

/// A number written in Python (or JSON) syntax as JSON text; the model's spelling is kept
/// when it already is valid JSON.
pub fn number_to_json(token: &str) -> Option<String> {
    let token = token.trim();
    if is_json_number(token) {
        return Some(token.to_owned());
    }
    let cleaned: String = token.chars().filter(|&c| c != '_').collect();
    let unsigned = cleaned.trim_start_matches(['+', '-']);
    let negative = cleaned.starts_with('-');
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = unsigned
            .strip_prefix(prefix)
            .or_else(|| unsigned.strip_prefix(&prefix.to_uppercase()))
        {
            let value = i128::from_str_radix(digits, radix).ok()?;
            return Some(if negative { -value } else { value }.to_string());
        }
    }
    if is_json_number(cleaned.trim_start_matches('+')) {
        return Some(cleaned.trim_start_matches('+').to_owned());
    }
    if !cleaned
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        return None; // "inf", "nan", names
    }
    let value: f64 = cleaned.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return Some(format!("{value:.1}"));
    }
    Some(ryu::Buffer::new().format_finite(value).to_owned())
}

pub fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return false;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return false;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    i == b.len()
}

fn is_bare_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-')
}

impl Default for PyLiteral {
    fn default() -> Self {
        PyLiteral::new()
    }
}

impl PyLiteral {
    pub fn new() -> PyLiteral {
        PyLiteral {
            stack: Vec::new(),
            key_next: Vec::new(),
            state: St::Value { close_ok: false },
            comma_pending: false,
            bare: String::new(),
            in_key: false,
        }
    }

    pub fn reset(&mut self) {
        *self = PyLiteral::new();
    }

    fn fail(&mut self, at: usize, reason: &'static str) -> Step {
        self.state = St::Failed;
        Step::Invalid { at, reason }
    }

    /// Before a value starts: write a pending comma and note whether it is a dict key.
    fn start_value(&mut self, out: &mut String) {
        if self.comma_pending {
            out.push_str(", ");
            self.comma_pending = false;
        }
        self.in_key = self.stack.last() == Some(&Container::Dict) && *self.key_next.last().unwrap();
    }

    /// A value ended; returns true when it was the top-level one.
    fn end_value(&mut self) -> bool {
        match self.stack.last() {
            None => {
                self.state = St::Done;
                true
            }
            Some(Container::Dict) => {
                let key_next = self.key_next.last_mut().unwrap();
                if *key_next {
                    *key_next = false;
                    self.state = St::Colon;
                } else {
                    *key_next = true;
                    self.state = St::After;
                }
                false
            }
            Some(_) => {
                self.state = St::After;
                false
            }
        }
    }

    fn finish_bare(&mut self, out: &mut String) -> Result<bool, &'static str> {
        let json = bare_to_json(&self.bare).ok_or("not a Python literal")?;
        if self.in_key {
            out.push('"');
            escape_json_into(out, &json);
            out.push('"');
        } else {
            out.push_str(&json);
        }
        self.bare.clear();
        Ok(self.end_value())
    }

    /// Convert `text`, appending JSON to `out`.
    pub fn feed(&mut self, text: &str, out: &mut String) -> Step {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match self.state {
                St::Str { quote } => {
                    // Copy the run of ordinary characters at once.
                    let run = bytes[i..]
                        .iter()
                        .position(|&c| c == quote || c == b'\\' || c == b'"' || c < 0x20)
                        .unwrap_or(bytes.len() - i);
                    out.push_str(&text[i..i + run]);
                    i += run;
                    if i == bytes.len() {
                        break;
                    }
                    let c = bytes[i];
                    if c == quote {
                        out.push('"');
                        i += 1;
                        if self.end_value() {
                            return Step::Ended { consumed: i };
                        }
                        continue;
                    }
                    match c {
                        b'\\' => self.state = St::Escape { quote },
                        b'"' => out.push_str("\\\""),
                        b'\n' => return self.fail(i, "line break inside a string"),
                        _ => escape_char(out, c as char),
                    }
                }
                St::Escape { quote } => {
                    self.state = St::Str { quote };
                    match b {
                        b'\n' => {}
                        b'\\' => out.push_str("\\\\"),
                        b'\'' => out.push('\''),
                        b'"' => out.push_str("\\\""),
                        b'n' => out.push_str("\\n"),
                        b't' => out.push_str("\\t"),
                        b'r' => out.push_str("\\r"),
                        b'b' => out.push_str("\\b"),
                        b'f' => out.push_str("\\f"),
                        b'a' => out.push_str("\\u0007"),
                        b'v' => out.push_str("\\u000b"),
                        b'x' => {
                            self.state = St::Hex {
                                quote,
                                left: 2,
                                acc: 0,
                            }
                        }
                        b'u' => {
                            self.state = St::Hex {
                                quote,
                                left: 4,
                                acc: 0,
                            }
                        }
                        b'U' => {
                            self.state = St::Hex {
                                quote,
                                left: 8,
                                acc: 0,
                            }
                        }
                        b'0'..=b'7' => {
                            self.state = St::Octal {
                                quote,
                                count: 1,
                                acc: u32::from(b - b'0'),
                            }
                        }
                        // Python keeps unknown escapes as written.
                        _ => {
                            out.push_str("\\\\");
                            continue;
                        }
                    }
                }
                St::Hex { quote, left, acc } => {
                    let Some(digit) = (b as char).to_digit(16) else {
                        return self.fail(i, "invalid hex escape in a string");
                    };
                    let acc = acc * 16 + digit;
                    if left > 1 {
                        self.state = St::Hex {
                            quote,
                            left: left - 1,
                            acc,
                        };
                    } else {
                        match char::from_u32(acc) {
                            Some(c) => escape_char(out, c),
                            None => return self.fail(i, "invalid character escape in a string"),
                        }
                        self.state = St::Str { quote };
                    }
                }
                St::Octal { quote, count, acc } => {
                    if count < 3 && (b'0'..=b'7').contains(&b) {
                        self.state = St::Octal {
                            quote,
                            count: count + 1,
                            acc: acc * 8 + u32::from(b - b'0'),
                        };
                    } else {
                        escape_char(out, char::from_u32(acc).unwrap_or('\u{fffd}'));
                        self.state = St::Str { quote };
                        continue;
                    }
                }
                St::Bare => {
                    if is_bare_byte(b) {
                        if self.bare.len() >= MAX_BARE {
                            return self.fail(i, "literal too long");
                        }
                        self.bare.push(b as char);
                    } else {
                        match self.finish_bare(out) {
                            Ok(true) => return Step::Ended { consumed: i },
                            Ok(false) => continue,
                            Err(reason) => return self.fail(i, reason),
                        }
                    }
                }
                St::Value { close_ok } => {
                    if b.is_ascii_whitespace() {
                        i += 1;
                        continue;
                    }
                    let closing = matches!(b, b']' | b')' | b'}');
                    if closing {
                        if !close_ok {
                            return self.fail(i, "expected a value");
                        }
                        self.comma_pending = false;
                        match self.close(b, out) {
                            Ok(true) => return Step::Ended { consumed: i + 1 },
                            Ok(false) => {}
                            Err(reason) => return self.fail(i, reason),
                        }
                        i += 1;
                        continue;
                    }
                    self.start_value(out);
                    match b {
                        b'\'' | b'"' => {
                            out.push('"');
                            self.state = St::Str { quote: b };
                        }
                        b'[' | b'(' | b'{' => {
                            if self.in_key {
                                return self.fail(i, "a dict key must be a string or a number");
                            }
                            if self.stack.len() >= MAX_DEPTH {
                                return self.fail(i, "nesting deeper than 512 levels");
                            }
                            let container = match b {
                                b'[' => Container::List,
                                b'(' => Container::Tuple,
                                _ => Container::Dict,
                            };
                            self.stack.push(container);
                            if container == Container::Dict {
                                self.key_next.push(true);
                                out.push('{');
                            } else {
                                out.push('[');
                            }
                            self.state = St::Value { close_ok: true };
                        }
                        _ if is_bare_byte(b) => {
                            self.bare.clear();
                            self.bare.push(b as char);
                            self.state = St::Bare;
                        }
                        _ => return self.fail(i, "expected a Python literal"),
                    }
                }
                St::After => {
                    if b.is_ascii_whitespace() {
                        i += 1;
                        continue;
                    }
                    match b {
                        b',' => {
                            self.comma_pending = true;
                            self.state = St::Value { close_ok: true };
                        }
                        b']' | b')' | b'}' => match self.close(b, out) {
                            Ok(true) => return Step::Ended { consumed: i + 1 },
                            Ok(false) => {}
                            Err(reason) => return self.fail(i, reason),
                        },
                        _ => return self.fail(i, "expected ',' or a closing bracket"),
                    }
                }
                St::Colon => {
                    if b.is_ascii_whitespace() {
                        i += 1;
                        continue;
                    }
                    if b != b':' {
                        return self.fail(i, "expected ':' after a dict key");
                    }
                    out.push_str(": ");
                    self.state = St::Value { close_ok: false };
                }
                St::Done => return Step::Ended { consumed: i },
                St::Failed => {
                    return Step::Invalid {
                        at: i,
                        reason: "after an error",
                    }
                }
            }
            i += 1;
        }
        Step::NeedMore
    }

    /// Close the innermost container with `b`; true when that completed the top-level value.
    fn close(&mut self, b: u8, out: &mut String) -> Result<bool, &'static str> {
        let expected = match self.stack.last() {
            Some(Container::List) => b']',
            Some(Container::Tuple) => b')',
            Some(Container::Dict) => b'}',
            None => return Err("unbalanced closing bracket"),
        };
        if b != expected {
            return Err("mismatched closing bracket");
        }
        if self.stack.pop() == Some(Container::Dict) {
            if !self.key_next.pop().unwrap() {
                return Err("a dict key without a value");
            }
            out.push('}');
        } else {
            out.push(']');
        }
        Ok(self.end_value())
    }

    /// End of input: completes a top-level bare token.
    pub fn finish(&mut self, out: &mut String) -> Step {
        match self.state {
            St::Done => Step::Ended { consumed: 0 },
            St::Bare if self.stack.is_empty() => match self.finish_bare(out) {
                Ok(_) => Step::Ended { consumed: 0 },
                Err(reason) => self.fail(0, reason),
            },
            _ => self.fail(0, "unexpected end of a Python literal"),
        }
    }
}

/// Convert a whole Python literal (surrounding blanks allowed) to JSON.
pub fn to_json(text: &str) -> Option<String> {
    let mut literal = PyLiteral::new();
    let mut out = String::new();
    let trimmed = text.trim();
    match literal.feed(trimmed, &mut out) {
        Step::Ended { consumed } if consumed == trimmed.len() => Some(out),
        Step::NeedMore => match literal.finish(&mut out) {
            Step::Ended { .. } => Some(out),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_literals() {
        let cases = [
            ("1", "1"),
            ("-2.5e3", "-2.5e3"),
            ("1_000", "1000"),
            ("0x1F", "31"),
            (".5", "0.5"),
            ("5.", "5.0"),
            ("True", "true"),
            ("None", "null"),
            ("'it\\'s'", "\"it's\""),
            ("\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\""),
            ("'a\"b'", "\"a\\\"b\""),
            (
                "'\\x41\\u00e9\\U0001F642\\n\\t\\0'",
                "\"Aé🙂\\n\\t\\u0000\"",
            ),
            ("'C:\\\\dir\\d'", "\"C:\\\\dir\\\\d\""),
            ("[1, 'two', (3, 4), [],]", "[1, \"two\", [3, 4], []]"),
            (
                "{'a': 1, 2: None, 'n': {'x': [True]}}",
                "{\"a\": 1, \"2\": null, \"n\": {\"x\": [true]}}",
            ),
            ("()", "[]"),
            ("'日本 🙂'", "\"日本 🙂\""),
        ];
        for (python, json) in cases {
            assert_eq!(to_json(python).as_deref(), Some(json), "{python}");
            serde_json::from_str::<serde_json::Value>(json).unwrap();
        }
    }

    #[test]
    fn rejects_what_is_not_a_literal() {
        for bad in [
            "x",
            "1 + 2",
            "f(1)",
            "[1, 2",
            "{1, 2}",
            "'unterminated",
            "inf",
            "{'a'}",
            "(1]",
            "r'x'",
        ] {
            assert_eq!(to_json(bad), None, "{bad}");
        }
    }

    #[test]
    fn streams_piece_by_piece() {
        let text = "{'k': ['a\\'b', 1.5, None], 'z': 'é'}";
        let whole = to_json(text).unwrap();
        let mut literal = PyLiteral::new();
        let mut out = String::new();
        let mut done = false;
        for (i, c) in text.char_indices() {
            match literal.feed(&text[i..i + c.len_utf8()], &mut out) {
                Step::NeedMore => {}
                Step::Ended { .. } => done = true,
                Step::Invalid { reason, .. } => panic!("{reason}"),
            }
        }
        assert!(done);
        assert_eq!(out, whole);
    }
}
