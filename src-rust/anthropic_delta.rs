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
