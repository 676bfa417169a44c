//! An incremental, validating JSON scanner.
//!
//! It never builds values: it walks the bytes once, keeps a stack of open containers, and says
//! where the top-level value ends or where it stops being JSON. That is what lets tool-call
//! arguments be passed through as the model wrote them while still being checked once, in
//! linear time, whatever the chunking. Optionally it reports where the keys and values of the
//! top-level object start and end, so a caller can pick out `"name"` and `"arguments"`.

/// Deepest nesting accepted before the arguments are declared invalid.
pub const MAX_DEPTH: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
}

impl Num {
    fn can_end(self) -> bool {
        matches!(self, Num::Zero | Num::Int | Num::Frac | Num::ExpDigits)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    /// Before the top-level value.
    Start,
    /// After `:` or `,` in an array: a value must follow.
    Value,
    /// After `[`: a value or `]`.
    ArrayFirst,
    /// After `{`: a key or `}`.
    ObjectFirst,
    /// After `,` in an object: a key.
    Key,
    Colon,
    /// After a value inside a container: `,` or the closing bracket.
    After,
    Str {
        key: bool,
    },
    Escape {
        key: bool,
    },
    Hex {
        key: bool,
        left: u8,
    },
    Number(Num),
    Literal {
        word: u8,
        at: u8,
    },
    Done,
    Failed,
}

const LITERALS: [&[u8]; 3] = [b"true", b"false", b"null"];

/// What stopped a `feed`: `consumed` bytes of the input were processed (feed the rest again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonEvent {
    /// All input consumed, value not finished.
    NeedMore,
    /// A key of the top-level object began; its opening quote is the last consumed byte.
    KeyStart { consumed: usize },
    /// That key ended; its closing quote is the last consumed byte.
    KeyEnd { consumed: usize },
    /// A member value of the top-level object (or an element of a top-level array) began;
    /// its first byte is the last consumed byte.
    ValueStart { consumed: usize },
    /// That value ended; its last byte is the last consumed byte.
    ValueEnd { consumed: usize },
    /// The top-level value is complete; its last byte is the last consumed byte.
    Done { consumed: usize },
    /// Not JSON: the byte at `at` is wrong (`at` may equal the input length at end of input).
    Invalid { at: usize, reason: &'static str },
}

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

#[derive(Debug, Clone)]
pub struct JsonScanner {
    /// Open containers: true for an object, false for an array.
    stack: Vec<bool>,
    state: St,
    report_members: bool,
}

impl JsonScanner {
    /// `report_members`: stop at the start and end of each key and value of the top-level
    /// container (KeyStart/KeyEnd/ValueStart/ValueEnd); otherwise only Done/Invalid stop it.
    pub fn new(report_members: bool) -> JsonScanner {
        JsonScanner {
            stack: Vec::new(),
            state: St::Start,
            report_members,
        }
    }

    pub fn reset(&mut self) {
        self.stack.clear();
        self.state = St::Start;
    }

    pub fn is_done(&self) -> bool {
        self.state == St::Done
    }

    /// Inside a string value, where `text` changes nothing but the string's length: it has no
    /// quote, backslash or control character. Lets callers pass it on without a scan.
    #[inline]
    pub fn string_absorbs(&self, text: &[u8]) -> bool {
        matches!(self.state, St::Str { key: false })
            && !text.iter().fold(false, |hit, &c| {
                hit | (c == b'"') | (c == b'\\') | (c < 0x20)
            })
    }

    /// True before the first byte of the value (only whitespace seen so far).
    pub fn not_started(&self) -> bool {
        self.state == St::Start
    }

    fn reporting(&self) -> bool {
        self.report_members && self.stack.len() == 1
    }

    /// A value finished at byte `i` (already consumed up to `consumed`).
    #[inline]
    fn value_done(&mut self, consumed: usize) -> Option<JsonEvent> {
        if self.stack.is_empty() {
            self.state = St::Done;
            return Some(JsonEvent::Done { consumed });
        }
        self.state = St::After;
        if self.reporting() {
            return Some(JsonEvent::ValueEnd { consumed });
        }
        None
    }

    /// Start of a value whose first byte is `b` at `i`.
    #[inline]
    fn begin_value(&mut self, b: u8, i: usize) -> Result<Option<JsonEvent>, &'static str> {
        let report = self.reporting();
        match b {
            b'{' | b'[' => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err("arguments nest deeper than 512 levels");
                }
                self.stack.push(b == b'{');
                self.state = if b == b'{' {
                    St::ObjectFirst
                } else {
                    St::ArrayFirst
                };
            }
            b'"' => self.state = St::Str { key: false },
            b'-' => self.state = St::Number(Num::Minus),
            b'0' => self.state = St::Number(Num::Zero),
            b'1'..=b'9' => self.state = St::Number(Num::Int),
            b't' => self.state = St::Literal { word: 0, at: 1 },
            b'f' => self.state = St::Literal { word: 1, at: 1 },
            b'n' => self.state = St::Literal { word: 2, at: 1 },
            _ => return Err("expected a JSON value"),
        }
        Ok(report.then_some(JsonEvent::ValueStart { consumed: i + 1 }))
    }

    /// Scan `bytes` until an event. Call again with the unconsumed rest.
    pub fn feed(&mut self, bytes: &[u8]) -> JsonEvent {
        let mut i = 0;
        let n = bytes.len();
        while i < n {
            let b = bytes[i];
            match self.state {
                St::Str { key } => {
                    let rest = &bytes[i..];
                    // Short pieces (streamed tokens) are faster byte by byte than with memchr.
                    let stop = if rest.len() < 16 {
                        rest.iter()
                            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                            .unwrap_or(rest.len())
                    } else {
                        let stop = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
                        // A branch-free pass first (vectorised); the position only if needed.
                        if rest[..stop].iter().fold(false, |bad, &c| bad | (c < 0x20)) {
                            rest[..stop].iter().position(|&c| c < 0x20).unwrap_or(stop)
                        } else {
                            stop
                        }
                    };
                    if stop < rest.len() && rest[stop] < 0x20 {
                        return self.fail(i + stop, "unescaped control character in a string");
                    }
                    i += stop;
                    if i == n {
                        break;
                    }
                    if bytes[i] == b'\\' {
                        self.state = St::Escape { key };
                        i += 1;
                        continue;
                    }
                    // Closing quote.
                    i += 1;
                    if key {
                        self.state = St::Colon;
                        if self.reporting() {
                            return JsonEvent::KeyEnd { consumed: i };
                        }
                    } else if let Some(event) = self.value_done(i) {
                        return event;
                    }
                    continue;
                }
                St::Escape { key } => {
                    self.state = match b {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => St::Str { key },
                        b'u' => St::Hex { key, left: 4 },
                        _ => return self.fail(i, "invalid escape in a string"),
                    };
                }
                St::Hex { key, left } => {
                    if !b.is_ascii_hexdigit() {
                        return self.fail(i, "invalid \\u escape in a string");
                    }
                    self.state = if left == 1 {
                        St::Str { key }
                    } else {
                        St::Hex {
                            key,
                            left: left - 1,
                        }
                    };
                }
                St::Number(num) => {
                    let next = match (num, b) {
                        (Num::Minus, b'0') => Some(Num::Zero),
                        (Num::Minus, b'1'..=b'9') => Some(Num::Int),
                        (Num::Int, b'0'..=b'9') => Some(Num::Int),
                        (Num::Zero | Num::Int, b'.') => Some(Num::Dot),
                        (Num::Dot | Num::Frac, b'0'..=b'9') => Some(Num::Frac),
                        (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Some(Num::Exp),
                        (Num::Exp, b'+' | b'-') => Some(Num::ExpSign),
                        (Num::Exp | Num::ExpSign | Num::ExpDigits, b'0'..=b'9') => {
                            Some(Num::ExpDigits)
                        }
                        _ => None,
                    };
                    match next {
                        Some(next) => self.state = St::Number(next),
                        None => {
                            if !num.can_end() {
                                return self.fail(i, "invalid number");
                            }
                            // The number ended before this byte, which is looked at again.
                            if let Some(event) = self.value_done(i) {
                                return event;
                            }
                            continue;
                        }
                    }
                }
                St::Literal { word, at } => {
                    let lit = LITERALS[word as usize];
                    if b != lit[at as usize] {
                        return self.fail(i, "invalid literal (expected true, false or null)");
                    }
                    if at as usize + 1 == lit.len() {
                        if let Some(event) = self.value_done(i + 1) {
                            return event;
                        }
                    } else {
                        self.state = St::Literal { word, at: at + 1 };
                    }
                }
                St::Start | St::Value | St::ArrayFirst => {
                    if is_ws(b) {
                        i += 1;
                        continue;
                    }
                    if b == b']' && self.state == St::ArrayFirst {
                        self.stack.pop();
                        if let Some(event) = self.value_done(i + 1) {
                            return event;
                        }
                    } else {
                        match self.begin_value(b, i) {
                            Ok(Some(event)) => return event,
                            Ok(None) => {}
                            Err(reason) => return self.fail(i, reason),
                        }
                    }
                }
                St::ObjectFirst | St::Key => {
                    if is_ws(b) {
                        i += 1;
                        continue;
                    }
                    if b == b'"' {
                        self.state = St::Str { key: true };
                        if self.reporting() {
                            return JsonEvent::KeyStart { consumed: i + 1 };
                        }
                    } else if b == b'}' && self.state == St::ObjectFirst {
                        self.stack.pop();
                        if let Some(event) = self.value_done(i + 1) {
                            return event;
                        }
                    } else {
                        return self.fail(i, "expected a string key");
                    }
                }
                St::Colon => {
                    if is_ws(b) {
                        i += 1;
                        continue;
                    }
                    if b != b':' {
                        return self.fail(i, "expected ':' after a key");
                    }
                    self.state = St::Value;
                }
                St::After => {
                    if is_ws(b) {
                        i += 1;
                        continue;
                    }
                    let in_object = *self.stack.last().expect("After implies an open container");
                    match b {
                        b',' => self.state = if in_object { St::Key } else { St::Value },
                        b'}' if in_object => {
                            self.stack.pop();
                            if let Some(event) = self.value_done(i + 1) {
                                return event;
                            }
                        }
                        b']' if !in_object => {
                            self.stack.pop();
                            if let Some(event) = self.value_done(i + 1) {
                                return event;
                            }
                        }
                        _ => {
                            return self.fail(
                                i,
                                if in_object {
                                    "expected ',' or '}' after an object member"
                                } else {
                                    "expected ',' or ']' after an array element"
                                },
                            )
                        }
                    }
                }
                St::Done => return JsonEvent::Done { consumed: i },
                St::Failed => {
                    return JsonEvent::Invalid {
                        at: i,
                        reason: "after an error",
                    }
                }
            }
            i += 1;
        }
        JsonEvent::NeedMore
    }

    /// End of input: completes a top-level number, otherwise reports truncation.
    pub fn finish(&mut self) -> JsonEvent {
        match self.state {
            St::Done => JsonEvent::Done { consumed: 0 },
            St::Number(num) if num.can_end() && self.stack.is_empty() => {
                self.state = St::Done;
                JsonEvent::Done { consumed: 0 }
            }
            _ => self.fail(0, "unexpected end of the arguments"),
        }
    }

    fn fail(&mut self, at: usize, reason: &'static str) -> JsonEvent {
        self.state = St::Failed;
        JsonEvent::Invalid { at, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `text` in pieces of `step` bytes; return the byte index where the value ended or
    /// the error.
    fn scan(text: &str, step: usize) -> Result<usize, (usize, &'static str)> {
        let bytes = text.as_bytes();
        let mut scanner = JsonScanner::new(false);
        for base in (0..bytes.len()).step_by(step) {
            let end = (base + step).min(bytes.len());
            match scanner.feed(&bytes[base..end]) {
                JsonEvent::NeedMore => {}
                JsonEvent::Done { consumed } => return Ok(base + consumed),
                JsonEvent::Invalid { at, reason } => return Err((base + at, reason)),
                other => panic!("unexpected {other:?}"),
            }
        }
        match scanner.finish() {
            JsonEvent::Done { .. } => Ok(bytes.len()),
            JsonEvent::Invalid { at, reason } => Err((bytes.len() + at, reason)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn accepts_what_serde_json_accepts() {
        let valid = [
            r#"{}"#,
            r#"[]"#,
            r#"{"a": [1, -2.5e+3, 0, 0.0, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9"]}"#,
            r#" { "nested" : { "deep" : [ [ [ ] ] ] } } "#,
            r#""just a string""#,
            "{\"é\": \"日本語 🙂\"}",
            "12",
            "-0.5E-7",
        ];
        for text in valid {
            serde_json::from_str::<serde_json::Value>(text).unwrap();
            for step in 1..=text.len() {
                let end = scan(text, step).unwrap_or_else(|e| panic!("{text}: {e:?}"));
                assert_eq!(
                    text[..end].trim_end(),
                    text.trim_end(),
                    "{text} step {step}"
                );
            }
        }
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        let invalid = [
            r#"{"a": 1,}"#,
            r#"{"a" 1}"#,
            r#"{a: 1}"#,
            r#"[1 2]"#,
            r#"{"a": tru}"#,
            r#"{"a": 01}"#,
            r#"{"a": 1.}"#,
            r#"{"a": -}"#,
            r#"{"a": "\x"}"#,
            r#"{"a": "\u12g4"}"#,
            "{\"a\": \"line\nbreak\"}",
            r#"{"a": 1"#,
            r#"{"a": 'single'}"#,
        ];
        for text in invalid {
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_err(),
                "{text}"
            );
            for step in 1..=text.len() {
                assert!(scan(text, step).is_err(), "{text} step {step}");
            }
        }
    }

    #[test]
    fn stops_right_after_the_value() {
        assert_eq!(scan(r#"{"a": 1}</tool_call>"#, 3), Ok(8));
        assert_eq!(scan("[1]; [2]", 1), Ok(3));
    }

    #[test]
    fn reports_top_level_members() {
        let text = br#"{"name": "f", "arguments": {"x": [1]}, "n": 12}"#;
        let mut scanner = JsonScanner::new(true);
        let mut at = 0;
        let mut events = Vec::new();
        loop {
            let event = scanner.feed(&text[at..]);
            let consumed = match event {
                JsonEvent::KeyStart { consumed }
                | JsonEvent::KeyEnd { consumed }
                | JsonEvent::ValueStart { consumed }
                | JsonEvent::ValueEnd { consumed }
                | JsonEvent::Done { consumed } => consumed,
                other => panic!("{other:?}"),
            };
            at += consumed;
            events.push((
                format!("{event:?}").split(' ').next().unwrap().to_string(),
                at,
            ));
            if matches!(event, JsonEvent::Done { .. }) {
                break;
            }
        }
        let marks: Vec<(&str, usize)> = events.iter().map(|(k, a)| (k.as_str(), *a)).collect();
        assert_eq!(
            marks,
            vec![
                ("KeyStart", 2),
                ("KeyEnd", 7),
                ("ValueStart", 10),
                ("ValueEnd", 12),
                ("KeyStart", 15),
                ("KeyEnd", 25),
                ("ValueStart", 28),
                ("ValueEnd", 37),
                ("KeyStart", 40),
                ("KeyEnd", 42),
                ("ValueStart", 45),
                ("ValueEnd", 46),
                ("Done", 47),
            ]
        );
    }
}
