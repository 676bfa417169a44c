//! Rebuild a function call's arguments as JSON text, incrementally, from values addressed by
//! JSONPath (Gemini/Vertex `partialArgs`: `{"jsonPath": "$.recipe.steps[0]", "stringValue":
//! "Preheat", "willContinue": true}`).
//!
//! The builder keeps the chain of open containers of the last value written. A new value
//! closes the containers its path leaves, opens the ones it enters, and writes the key and
//! the value; a string with `willContinue` stays open and the next piece for the same path is
//! appended to it. Every call returns only the new text, so the concatenation of all returned
//! pieces plus `finish()` is one valid JSON object, produced in a single linear pass. Scalar
//! values are copied from the provider's own JSON text, never re-serialised.

/// Deepest `jsonPath` accepted (segments after `$`).
pub(crate) const MAX_PATH_DEPTH: usize = 64;
/// Largest gap an array index may open past the array's current end: the builder writes a
/// `null` for each missing item, so without this `$.a[10000000]` would write 50 MB.
pub(crate) const MAX_INDEX_GAP: usize = 1024;

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// Parse the RFC 9535 subset used for argument paths: `$`, `.name`, `[N]`, `['name']`,
/// `["name"]`. Wildcards, slices and filters do not address one value and are rejected.
pub(crate) fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'$') {
        return Err(format!("jsonPath {path:?} does not start with '$'"));
    }
    let mut segments = Vec::new();
    let mut at = 1;
    while at < bytes.len() {
        match bytes[at] {
            b'.' => {
                let start = at + 1;
                let end = path[start..]
                    .find(['.', '['])
                    .map_or(path.len(), |n| start + n);
                let name = &path[start..end];
                if name.is_empty() || name == "*" {
                    return Err(format!(
                        "jsonPath {path:?} has an unsupported member at {at}"
                    ));
                }
                segments.push(Segment::Key(name.to_owned()));
                at = end;
            }
            b'[' => {
                let (segment, next) = parse_bracket(path, at)?;
                segments.push(segment);
                at = next;
            }
            _ => {
                return Err(format!(
                    "jsonPath {path:?} has an unexpected character at {at}"
                ))
            }
        }
        if segments.len() > MAX_PATH_DEPTH {
            return Err(format!(
                "jsonPath is deeper than the limit of {MAX_PATH_DEPTH} segments"
            ));
        }
    }
    Ok(segments)
}

/// `[N]`, `['name']` or `["name"]` starting at `open`; returns the segment and the index after `]`.
fn parse_bracket(path: &str, open: usize) -> Result<(Segment, usize), String> {
    let bytes = path.as_bytes();
    let unsupported = || format!("jsonPath {path:?} has an unsupported selector at {open}");
    match bytes.get(open + 1) {
        Some(&quote @ (b'\'' | b'"')) => {
            let mut name = String::new();
            let mut chars = path[open + 2..].char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    c if c as u32 == quote as u32 => {
                        let close = open + 2 + i + 1;
                        if bytes.get(close) != Some(&b']') {
                            return Err(unsupported());
                        }
                        return Ok((Segment::Key(name), close + 1));
                    }
                    '\\' => match chars.next().map(|(_, c)| c) {
                        Some('b') => name.push('\u{8}'),
                        Some('f') => name.push('\u{c}'),
                        Some('n') => name.push('\n'),
                        Some('r') => name.push('\r'),
                        Some('t') => name.push('\t'),
                        Some('u') => {
                            let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                            let code = u32::from_str_radix(&hex, 16).map_err(|_| unsupported())?;
                            name.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        Some(c @ ('/' | '\\' | '\'' | '"')) => name.push(c),
                        _ => return Err(unsupported()),
                    },
                    c => name.push(c),
                }
            }
            Err(format!(
                "jsonPath {path:?} has an unterminated name at {open}"
            ))
        }
        _ => {
            let close = path[open..]
                .find(']')
                .map(|n| open + n)
                .ok_or_else(unsupported)?;
            let digits = &path[open + 1..close];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(unsupported());
            }
            let index = digits.parse().map_err(|_| unsupported())?;
            Ok((Segment::Index(index), close + 1))
        }
    }
}

/// A scalar from the provider, as JSON text (a string value keeps its quotes).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    /// A JSON string literal, exactly as the provider wrote it (escapes included).
    String(&'a str),
    /// Any other JSON value text: a number, `true`, `false`, `null`.
    Other(&'a str),
}

#[derive(Debug)]
struct Container {
    /// The segment that leads from the parent into this container (unused for the root).
    segment: Segment,
    is_array: bool,
    members: usize,
}

#[derive(Debug, Default)]
pub(crate) struct ArgumentsBuilder {
    /// Open containers; [0] is the root object once anything was written.
    open: Vec<Container>,
    /// Path of a string value left open by `willContinue`.
    open_string: Option<Vec<Segment>>,
}

impl ArgumentsBuilder {
    /// Write `value` at `path`, appending the new JSON text to `out`.
    pub fn apply(
        &mut self,
        path: &[Segment],
        value: Scalar<'_>,
        will_continue: bool,
        out: &mut String,
    ) -> Result<(), String> {
        let Some((leaf, parent)) = path.split_last() else {
            return Err("a partial argument cannot replace the whole arguments object".into());
        };
        if self.open.is_empty() {
            out.push('{');
            self.open.push(Container {
                segment: Segment::Index(0),
                is_array: false,
                members: 0,
            });
        }
        if let Some(open_path) = self.open_string.take() {
            if let (true, Scalar::String(literal)) = (open_path == path, value) {
                out.push_str(string_body(literal)?);
                if will_continue {
                    self.open_string = Some(open_path);
                } else {
                    out.push('"');
                }
                return Ok(());
            }
            out.push('"');
        }
        // Keep the containers shared with the previous path, close the rest.
        let mut common = 0;
        while common < parent.len()
            && common + 1 < self.open.len()
            && self.open[common + 1].segment == parent[common]
        {
            common += 1;
        }
        while self.open.len() > common + 1 {
            let closed = self.open.pop().expect("more than the root is open");
            out.push(if closed.is_array { ']' } else { '}' });
        }
        for (depth, segment) in parent.iter().enumerate().skip(common) {
            self.member(segment, out)?;
            let is_array = matches!(path[depth + 1], Segment::Index(_));
            out.push(if is_array { '[' } else { '{' });
            self.open.push(Container {
                segment: segment.clone(),
                is_array,
                members: 0,
            });
        }
        self.member(leaf, out)?;
        match value {
            Scalar::String(literal) => {
                out.push('"');
                out.push_str(string_body(literal)?);
                if will_continue {
                    self.open_string = Some(path.to_vec());
                } else {
                    out.push('"');
                }
            }
            Scalar::Other(text) => out.push_str(text),
        }
        Ok(())
    }

    /// Close everything still open; an empty builder gives `{}`.
    pub fn finish(&mut self, out: &mut String) {
        if self.open.is_empty() {
            out.push_str("{}");
            return;
        }
        if self.open_string.take().is_some() {
            out.push('"');
        }
        while let Some(closed) = self.open.pop() {
            out.push(if closed.is_array { ']' } else { '}' });
        }
    }

    /// Start a new member of the innermost open container: separator and key, or for an
    /// array the `null`s that fill a gap before the index.
    fn member(&mut self, segment: &Segment, out: &mut String) -> Result<(), String> {
        let top = self.open.last_mut().expect("the root is open");
        match (segment, top.is_array) {
            (Segment::Key(name), false) => {
                if top.members > 0 {
                    out.push(',');
                }
                push_json_string(name, out);
                out.push(':');
            }
            (Segment::Index(index), true) => {
                if *index > top.members.saturating_add(MAX_INDEX_GAP) {
                    return Err(format!(
                        "jsonPath index [{index}] is more than {MAX_INDEX_GAP} items past the \
                         array's end ({} items)",
                        top.members
                    ));
                }
                while top.members < *index {
                    if top.members > 0 {
                        out.push(',');
                    }
                    out.push_str("null");
                    top.members += 1;
                }
                if top.members > 0 {
                    out.push(',');
                }
            }
            (Segment::Key(name), true) => {
                return Err(format!("jsonPath uses key {name:?} inside an array"));
            }
            (Segment::Index(index), false) => {
                return Err(format!("jsonPath uses index [{index}] inside an object"));
            }
        }
        top.members += 1;
        Ok(())
    }
}

/// The characters between the quotes of a JSON string literal.
fn string_body(literal: &str) -> Result<&str, String> {
    literal
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| format!("expected a JSON string, got {literal}"))
}

/// Write `text` as a JSON string literal.
pub(crate) fn push_json_string(text: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{byte:04x}"));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(pieces: &[(&str, Scalar<'_>, bool)]) -> String {
        let mut builder = ArgumentsBuilder::default();
        let mut out = String::new();
        for (path, value, more) in pieces {
            let path = parse_path(path).unwrap();
            builder.apply(&path, *value, *more, &mut out).unwrap();
        }
        builder.finish(&mut out);
        out
    }

    #[test]
    fn paths() {
        use Segment::*;
        assert_eq!(
            parse_path("$.recipe.ingredients[10].name").unwrap(),
            vec![
                Key("recipe".into()),
                Key("ingredients".into()),
                Index(10),
                Key("name".into())
            ]
        );
        assert_eq!(
            parse_path(r#"$['a b']["c\"d"][0]"#).unwrap(),
            vec![Key("a b".into()), Key("c\"d".into()), Index(0)]
        );
        assert_eq!(parse_path("$").unwrap(), vec![]);
        for bad in [
            "a.b", "$.", "$[*]", "$[-1]", "$['x'", "$.a[", "$..a", "$[?@.a]",
        ] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn continued_strings_and_nesting() {
        let json = build(&[
            (
                "$.recipe.ingredients[0].amount",
                Scalar::String(r#""16 oz""#),
                true,
            ),
            (
                "$.recipe.ingredients[0].amount",
                Scalar::String(r#""""#),
                false,
            ),
            (
                "$.recipe.ingredients[0].name",
                Scalar::String(r#""Noodles""#),
                false,
            ),
            (
                "$.recipe.ingredients[1].name",
                Scalar::String(r#""Beef""#),
                false,
            ),
            ("$.recipe.name", Scalar::String(r#""Las""#), true),
            ("$.recipe.name", Scalar::String(r#""agna \u00b0""#), false),
            ("$.recipe.steps[0]", Scalar::String(r#""Heat""#), false),
            ("$.recipe.steps[2]", Scalar::Other("3.5"), false),
            ("$.servings", Scalar::Other("4"), false),
            ("$.vegan", Scalar::Other("false"), false),
            ("$.note", Scalar::Other("null"), false),
        ]);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "recipe": {
                    "ingredients": [{"amount": "16 oz", "name": "Noodles"}, {"name": "Beef"}],
                    "name": "Lasagna \u{b0}",
                    "steps": ["Heat", null, 3.5],
                },
                "servings": 4, "vegan": false, "note": null,
            })
        );
    }

    #[test]
    fn unfinished_string_and_empty_call_are_closed() {
        assert_eq!(
            build(&[("$.a", Scalar::String(r#""x""#), true)]),
            r#"{"a":"x"}"#
        );
        assert_eq!(build(&[]), "{}");
        assert_eq!(
            build(&[("$['we\"ird']", Scalar::Other("1"), false)]),
            r#"{"we\"ird":1}"#
        );
    }

    #[test]
    fn shape_conflicts_are_errors() {
        let mut builder = ArgumentsBuilder::default();
        let mut out = String::new();
        let mut apply = |path: &str, value: Scalar<'_>| {
            builder.apply(&parse_path(path).unwrap(), value, false, &mut out)
        };
        apply("$.a[0]", Scalar::Other("1")).unwrap();
        assert!(apply("$.a.b", Scalar::Other("1")).is_err());
        assert!(apply("$", Scalar::Other("1")).is_err());
        assert!(apply("$.s", Scalar::String("nope")).is_err());
    }

    #[test]
    fn escapes_keys() {
        let mut out = String::new();
        push_json_string("a\"b\\c\n\u{1}é", &mut out);
        assert_eq!(out, r#""a\"b\\c\n\u0001é""#);
    }

    #[test]
    fn index_gap_and_depth_are_capped() {
        // `$.a[10000000]` used to write ten million `null`s (issue 13, finding 3).
        let mut builder = ArgumentsBuilder::default();
        let mut out = String::new();
        let far = parse_path("$.a[10000000]").unwrap();
        let err = builder
            .apply(&far, Scalar::Other("1"), false, &mut out)
            .unwrap_err();
        assert!(err.contains("1024"), "{err}");
        assert!(out.len() < 64, "{out}");
        // A gap within the cap is still filled.
        assert_eq!(
            build(&[("$.a[3]", Scalar::Other("1"), false)]),
            r#"{"a":[null,null,null,1]}"#
        );
        let deep = "$".to_string() + &".a".repeat(MAX_PATH_DEPTH + 1);
        assert!(parse_path(&deep).unwrap_err().contains("limit"));
        assert!(parse_path(&("$".to_string() + &".a".repeat(MAX_PATH_DEPTH))).is_ok());
    }
}
