//! Small serde helpers shared by the provider reducers: strings that borrow from the event
//! when they can, provider error objects, and JSON errors turned into `Error::Protocol`.
//!
//! Every reducer reads its events into wire structs written one way: only the fields it
//! reads, absent fields as `None` (serde's reading of a missing `Option`), strings as
//! [`JStr`] and unparsed values as `&RawValue`, both borrowed from the event. A struct with
//! borrowed fields says so once, with `#[serde(bound(deserialize = "'de: 'a"))]` (the event
//! outlives what is read from it), instead of a `#[serde(borrow)]` on each field.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// A JSON string that borrows from the input unless it contains escapes.
///
/// serde's own `Cow<str>` always allocates when nested in `Option`, so reducers use this
/// instead: a text delta without escapes is copied exactly once, into the chunk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JStr<'a>(pub Cow<'a, str>);

impl<'a> JStr<'a> {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for JStr<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<JStr<'_>> for String {
    fn from(text: JStr<'_>) -> String {
        text.into_string()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct StrVisitor;

        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Cow<'de, str>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }

        deserializer.deserialize_str(StrVisitor).map(JStr)
    }
}

/// Non-empty text of an optional string field, as an owned `String`.
pub fn non_empty(value: Option<JStr<'_>>) -> Option<String> {
    value.filter(|s| !s.is_empty()).map(JStr::into_string)
}

/// Non-empty text of an optional string field, borrowed.
pub fn non_empty_str<'s>(value: &'s Option<JStr<'_>>) -> Option<&'s str> {
    value.as_ref().map(JStr::as_str).filter(|s| !s.is_empty())
}

/// The error object providers put in a stream or a body: `{"code": .., "message": .., "type": ..}`.
/// `code` may be a string or a number (OpenRouter sends HTTP statuses).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
pub struct ErrorObject<'a> {
    pub code: Option<&'a RawValue>,
    pub message: Option<JStr<'a>>,
    #[serde(rename = "type")]
    pub kind: Option<JStr<'a>>,
}

impl ErrorObject<'_> {
    /// `code` as text (a JSON string unquoted, a number as written), else the error `type`.
    pub fn code_text(&self) -> Option<String> {
        let from_code = self.code.and_then(|raw| {
            let text = raw.get();
            if text == "null" {
                None
            } else if text.starts_with('"') {
                serde_json::from_str::<String>(text).ok()
            } else {
                Some(text.to_owned())
            }
        });
        from_code.or_else(|| self.kind.as_ref().map(|k| k.as_str().to_owned()))
    }

    pub fn into_error(self, raw: &str) -> Error {
        let code = self.code_text();
        let message = self
            .message
            .map(JStr::into_string)
            .unwrap_or_else(|| "the provider reported an error without a message".to_owned());
        Error::provider(code, message, raw)
    }
}

/// Parse an event payload, turning a serde error into a `ProtocolError` that names the
/// provider, the stream offset where the event ended and serde's position inside it.
pub fn parse<'a, T: Deserialize<'a>>(provider: &str, data: &'a str, offset: u64) -> Result<T> {
    serde_json::from_str(data).map_err(|err| malformed(provider, Some(data), offset, err))
}

/// The one wording of an event that is not the JSON its format allows (unparsable, or a
/// shape the format forbids): why, where the event ended, and the event's start if known.
pub fn malformed(
    provider: &str,
    event: Option<&str>,
    offset: u64,
    why: impl fmt::Display,
) -> Error {
    const PREVIEW: usize = 80;
    let mut message = format!(
        "malformed JSON in a {provider} event ({why}); the event ends at stream offset {offset}"
    );
    if let Some(data) = event {
        let mut end = data.len().min(PREVIEW);
        while !data.is_char_boundary(end) {
            end -= 1;
        }
        let ellipsis = if end < data.len() { "..." } else { "" };
        message.push_str(&format!(": {:?}{ellipsis}", &data[..end]));
    }
    Error::protocol(message, Some(offset))
}

/// True when the raw JSON value is `null` or an empty array (nothing worth keeping).
pub fn is_blank_raw(raw: &RawValue) -> bool {
    let text = raw.get().trim();
    text == "null" || text == "[]"
}
