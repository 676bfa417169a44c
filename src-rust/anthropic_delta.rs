//! The one Anthropic stream event that carries the text: `content_block_delta`, read exactly.
//!
//! `accelerate(anthropic.Anthropic())` hands out events shaped like the SDK's models. Nearly
//! every event of a stream is a delta of one of four plain kinds; this module recognises those
//! (and only those) so the binding can build their views without a general JSON parse. An event
//! with anything else in it (another delta kind, an extra or duplicate key, a `null`, an index
//! past 64 bits) is not a `PlainDelta`: the caller takes the general path, which keeps every
//! detail the SDK would keep.

use serde::Deserialize;

use crate::providers::json::JStr;

/// The delta kinds with one string field, as the SDK names them: (`delta.type`, field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaKind {
    Text,
    InputJson,
    Thinking,
    Signature,
}

impl DeltaKind {
    /// Every kind, with its `delta.type` and the name of its one string field.
    pub const TABLE: [(DeltaKind, &'static str, &'static str); 4] = [
        (DeltaKind::Text, "text_delta", "text"),
        (DeltaKind::InputJson, "input_json_delta", "partial_json"),
        (DeltaKind::Thinking, "thinking_delta", "thinking"),
        (DeltaKind::Signature, "signature_delta", "signature"),
    ];

    pub fn wire_type(self) -> &'static str {
        Self::TABLE[self as usize].1
    }

    pub fn field(self) -> &'static str {
        Self::TABLE[self as usize].2
    }
}

/// `{"type": "content_block_delta", "index": N, "delta": {"type": KIND, FIELD: "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainDelta<'a> {
    pub index: u64,
    pub kind: DeltaKind,
    pub value: JStr<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventWire<'a> {
    #[serde(borrow, rename = "type")]
    kind: JStr<'a>,
    index: u64,
    #[serde(borrow)]
    delta: DeltaWire<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeltaWire<'a> {
    #[serde(borrow, rename = "type")]
    kind: JStr<'a>,
    #[serde(borrow, default)]
    text: Option<JStr<'a>>,
    #[serde(borrow, default)]
    partial_json: Option<JStr<'a>>,
    #[serde(borrow, default)]
    thinking: Option<JStr<'a>>,
    #[serde(borrow, default)]
    signature: Option<JStr<'a>>,
}

/// The delta in `data`, when `data` is exactly a plain delta event (see the module doc).
pub fn plain_delta(data: &str) -> Option<PlainDelta<'_>> {
    compact_delta(data).or_else(|| any_form_delta(data))
}

/// The compact form the API writes (its key order, no spaces), matched byte by byte; `None`
/// for anything else, which `any_form_delta` then reads.
fn compact_delta(data: &str) -> Option<PlainDelta<'_>> {
    let rest = data.strip_prefix(r#"{"type":"content_block_delta","index":"#)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || (digits > 1 && rest.starts_with('0')) {
        return None; // not a JSON number
    }
    let index = rest[..digits].parse().ok()?;
    let rest = rest[digits..].strip_prefix(r#","delta":{"type":""#)?;
    let (kind, body) = DeltaKind::TABLE
        .iter()
        .find_map(|&(kind, wire_type, field)| {
            let rest = rest.strip_prefix(wire_type)?.strip_prefix(r#"",""#)?;
            let body = rest.strip_prefix(field)?.strip_prefix(r#"":""#)?;
            // The API pads the event's closing brace with spaces.
            let body = body.strip_suffix('}')?.trim_end_matches(' ');
            Some((kind, body.strip_suffix(r#""}"#)?))
        })?;
    let value = if body.contains('\\') {
        // Escapes: serde decodes them (and refuses a quote that ends the string early).
        let start = body.as_ptr() as usize - data.as_ptr() as usize;
        let quoted = &data[start - 1..start + body.len() + 1];
        JStr(serde_json::from_str::<String>(quoted).ok()?.into())
    } else if body.bytes().any(|byte| byte == b'"' || byte < 0x20) {
        return None;
    } else {
        JStr(body.into())
    };
    Some(PlainDelta { index, kind, value })
}

/// Any other form of a plain delta (other key order, spaces): read with serde.
fn any_form_delta(data: &str) -> Option<PlainDelta<'_>> {
    // Cheap refusal of every other event before serde looks at it.
    if !data.contains("content_block_delta") {
        return None;
    }
    let event: EventWire<'_> = serde_json::from_str(data).ok()?;
    if event.kind.as_str() != "content_block_delta" {
        return None;
    }
    let DeltaWire {
        kind,
        text,
        partial_json,
        thinking,
        signature,
    } = event.delta;
    let fields = [text, partial_json, thinking, signature];
    let (position, _, _) = DeltaKind::TABLE
        .iter()
        .find(|(_, wire_type, _)| *wire_type == kind.as_str())?;
    let kind = *position;
    let mut value = None;
    for (slot, field) in fields.into_iter().enumerate() {
        match (slot == kind as usize, field) {
            (true, Some(field)) => value = Some(field),
            (_, None) => {}
            (false, Some(_)) => return None, // a field of another kind: not the SDK's plain shape
        }
    }
    Some(PlainDelta {
        index: event.index,
        kind,
        value: value?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(data: &str) -> Option<(u64, DeltaKind, String)> {
        plain_delta(data).map(|d| (d.index, d.kind, d.value.into_string()))
    }

    #[test]
    fn reads_each_plain_kind() {
        for (kind, wire_type, field) in DeltaKind::TABLE {
            assert_eq!(kind.wire_type(), wire_type);
            assert_eq!(kind.field(), field);
            let data = format!(
                r#"{{"type":"content_block_delta","index":3,"delta":{{"type":"{wire_type}","{field}":"a\"b"}}}}"#
            );
            assert_eq!(delta(&data), Some((3, kind, "a\"b".to_owned())));
        }
    }

    /// The compact matcher reads every delta of every Anthropic capture as serde does.
    #[test]
    fn compact_form_reads_as_serde_on_the_captures() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut compact = 0;
        for dir in ["anthropic", "sse", "sdk"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
                for data in text.lines().filter_map(|line| line.strip_prefix("data: ")) {
                    let fast = compact_delta(data);
                    compact += usize::from(fast.is_some());
                    assert!(fast.is_none() || fast == any_form_delta(data), "{data}");
                }
            }
        }
        assert!(compact > 400, "{compact}");
    }

    #[test]
    fn compact_form_edge_cases() {
        let head = r#"{"type":"content_block_delta","index":"#;
        for (rest, want) in [
            (
                r#"7,"delta":{"type":"text_delta","text":"a\"b\u00e9"}}"#,
                Some("a\"b\u{e9}"),
            ),
            (r#"0,"delta":{"type":"text_delta","text":""}}"#, Some("")),
            (r#"07,"delta":{"type":"text_delta","text":"a"}}"#, None),
            (r#"7,"delta":{"type":"text_delta","text":"a"b"}}"#, None),
            (r#"7,"delta":{"type":"text_delta","text":"a\"}}"#, None),
            (
                r#"7,"delta":{"type":"text_delta","text":"a\nb"}}"#,
                Some("a\nb"),
            ),
            (
                r#"7,"delta":{"type":"text_delta","text":"tab\there"}    }"#,
                Some("tab\there"),
            ),
            (r#"7,"delta":{"type":"text_delta","text":"a"} } "#, None),
            (
                r#"99999999999999999999,"delta":{"type":"text_delta","text":"a"}}"#,
                None,
            ),
        ] {
            let got = compact_delta(&format!("{head}{rest}")).map(|d| d.value.into_string());
            assert_eq!(got.as_deref(), want, "{rest}");
        }
    }

    #[test]
    fn key_order_does_not_matter() {
        let data =
            r#"{"delta":{"text":"hi","type":"text_delta"},"index":0,"type":"content_block_delta"}"#;
        assert_eq!(delta(data), Some((0, DeltaKind::Text, "hi".to_owned())));
    }

    #[test]
    fn anything_else_takes_the_general_path() {
        for data in [
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"},"x":1}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","x":1}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":null}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","thinking":"a"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","signature":"s"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","text":"b"}}"#,
            r#"{"type":"content_block_delta","index":18446744073709551616,"delta":{"type":"text_delta","text":"a"}}"#,
            r#"{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"a"}}"#,
            r#"{"type":"content_block_delta","index":1.0,"delta":{"type":"text_delta","text":"a"}}"#,
            r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"a"}}"#,
            r#"{"type":"message_delta","index":0,"delta":{"type":"text_delta","text":"content_block_delta"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ] {
            assert_eq!(delta(data), None, "{data}");
        }
    }
}
