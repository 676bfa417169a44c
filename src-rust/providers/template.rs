//! Reading an event by its likeness to the last one.
//!
//! A stream repeats the bytes of its common event from one event to the next (the same id,
//! model, type, index and nulls) but for the text. A reducer that read an event in full keeps
//! it cut around its text string; the next event made of the same bytes before and after one
//! JSON string reads as that event did, with this string as its text, so only the string is
//! scanned. A JSON reader goes left to right and nothing it decides depends on a string's
//! value, so this accepts exactly what the full reading would, and reads it the same.
//! Whitespace next to structural characters may differ after the text (Anthropic pads each
//! event with a different number of spaces before its last brace); it means nothing to JSON.

use std::borrow::Cow;
use std::ops::Range;

use super::json_string;

/// The last event read in full, cut around its text, and what the reducer read from it
/// besides the text (`R`: a choice or block index, a delta kind).
#[derive(Debug)]
pub(crate) struct Template<R> {
    event: String,
    /// The text string's span in `event`, quotes included.
    text: Range<usize>,
    reading: Option<R>,
}

impl<R> Default for Template<R> {
    fn default() -> Self {
        Template {
            event: String::new(),
            text: 0..0,
            reading: None,
        }
    }
}

impl<R: Copy> Template<R> {
    /// The remembered reading and the new text, when `data` fits the template.
    pub fn fit<'a>(&self, data: &'a str) -> Option<(R, Cow<'a, str>)> {
        let reading = self.reading?;
        let (before, after) = (&self.event[..self.text.start], &self.event[self.text.end..]);
        if !data.starts_with(before) {
            return None;
        }
        let (text, end) = json_string::read(data, before.len())?;
        same_tail(after.as_bytes(), &data.as_bytes()[end..]).then_some((reading, text))
    }

    /// Remember `data`, read as `reading` with the JSON string at `span` as its text.
    pub fn remember(&mut self, data: &str, span: Range<usize>, reading: R) {
        self.event.clear();
        self.event.push_str(data);
        self.text = span;
        self.reading = Some(reading);
    }

    /// Remember `data`, read as `reading` with `text` as its text, when `text` is a string
    /// without escapes borrowed from `data` (so its quotes stand right around it).
    pub fn remember_borrowed(&mut self, data: &str, text: &str, reading: R) {
        let start = (text.as_ptr() as usize).wrapping_sub(data.as_ptr() as usize);
        let quoted = start
            .checked_sub(1)
            .map(|open| open..start + text.len() + 1);
        let Some(span) = quoted.filter(|span| span.end <= data.len()) else {
            return;
        };
        let bytes = data.as_bytes();
        if bytes[span.start] == b'"' && bytes[span.end - 1] == b'"' {
            self.remember(data, span, reading);
        }
    }
}

/// Whether `tail` is `expected` (a valid JSON continuation just after a string) up to
/// whitespace next to a structural character; strings must match byte for byte. Whitespace
/// elsewhere (inside a number or literal) would change the JSON, so it does not match.
fn same_tail(expected: &[u8], tail: &[u8]) -> bool {
    if tail == expected {
        return true; // the common case, at memcmp speed
    }
    let blank = |bytes: &[u8], mut at: usize| {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
            at += 1;
        }
        at
    };
    let structural = |byte: u8| matches!(byte, b'{' | b'}' | b'[' | b']' | b',' | b':' | b'"');
    let (mut i, mut j) = (0, 0);
    let mut previous = b'"';
    loop {
        let (after_i, after_j) = (blank(expected, i), blank(tail, j));
        if (after_i, after_j) != (i, j) {
            let next = expected.get(after_i).copied();
            if !structural(previous) && !next.is_some_and(structural) {
                return false;
            }
            (i, j) = (after_i, after_j);
        }
        match (expected.get(i), tail.get(j)) {
            (None, None) => return true,
            (Some(b'"'), Some(b'"')) => {
                let Some((end, _)) = json_string::skip(expected, i) else {
                    return false;
                };
                let len = end - i;
                if tail.get(j..j + len) != Some(&expected[i..end]) {
                    return false;
                }
                (i, j, previous) = (end, j + len, b'"');
            }
            (Some(&a), Some(&b)) if a == b => (i, j, previous) = (i + 1, j + 1, a),
            _ => return false,
        }
    }
}

/// What a test puts where a template's text string stood: strings that fit, and things that
/// must fall back to the full reading (two strings, bad escapes, surrogates, a control
/// character, no string at all, blanks after the string).
#[cfg(test)]
pub(crate) const TRIAL_TEXTS: &[&str] = &[
    r#""a""#,
    r#""b \"q\" \u00e9""#,
    r#""""#,
    r#""x","text":"y""#,
    r#""x\q""#,
    "null",
    "1",
    r#""x"  "#,
    r#""\ud83d\ude42""#,
    "\"\u{1}\"",
    r#""c""#,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_only_the_same_bytes_around_one_string() {
        let first = r#"{"i":3,"t":"a","z":null}"#;
        let mut template = Template::default();
        assert!(template.fit(first).is_none(), "no template yet");
        template.remember_borrowed(first, &first[12..13], 3u32);
        let fit = |data| template.fit(data).map(|(i, text)| (i, text.into_owned()));
        assert_eq!(
            fit(r#"{"i":3,"t":"bcd","z":null}"#),
            Some((3, "bcd".into()))
        );
        assert_eq!(
            fit(r#"{"i":3,"t":"\"é\"","z":null}"#),
            Some((3, "\"é\"".into()))
        );
        assert_eq!(
            fit(r#"{"i":3,"t":"b" , "z" : null }  "#),
            Some((3, "b".into()))
        );
        for other in [
            r#"{"i":4,"t":"a","z":null}"#,
            r#"{"i":3,"t":"a","t":"b","z":null}"#,
            r#"{"i":3,"t":null,"z":null}"#,
            r#"{"i":3,"t":"a","z":nu ll}"#,
            r#"{"i":3,"t":"a","z ":null}"#,
            r#"{"i":3,"t":"\q","z":null}"#,
            r#"{"i":3,"t":"a","z":1}"#,
            r#"{"i":3,"t":"z":null}"#,
        ] {
            assert_eq!(fit(other), None, "{other}");
        }
        // Text not borrowed from the event (decoded escapes): nothing to remember.
        let mut fresh = Template::<u32>::default();
        fresh.remember_borrowed(first, &String::from("a"), 3);
        assert!(fresh.fit(first).is_none());
    }
}
