//! Building a JSON arguments object from key/value pairs written as raw text (Qwen3-Coder's
//! `<parameter=k>v</parameter>`, GLM's `<arg_key>k</arg_key><arg_value>v</arg_value>`).
//!
//! The object is written as it goes: `{` when the call is announced, `"key": ` when a value
//! starts, `, ` between members, `}` at the end. A value the schema types as a string (or any
//! value when the format says so) is streamed as a JSON string, escaped piece by piece; other
//! values are collected (up to the buffer cap) and converted once complete: numbers, booleans
//! and null from their spelling, objects and arrays from JSON or Python-literal syntax, and a
//! string when the text fits no better.

use super::super::emit::Emitter;
use super::super::pyliteral::{escape_json_into, is_json_number, number_to_json, to_json};
use super::super::schema::{Kind, ParamType, ToolSchemas};
use super::CallSlot;

/// How an argument value's text becomes JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A JSON string, streamed.
    String,
    /// Converted by the schema's type once complete.
    Typed(ParamType),
    /// No schema: JSON if it parses, else a Python literal, else a string.
    Guess,
}

/// What a format does with a parameter the schema does not describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Untyped {
    /// Qwen3-Coder: strings.
    String,
    /// GLM: JSON when it parses (the chat template writes non-strings as JSON).
    Guess,
}

pub fn value_type(schemas: &ToolSchemas, tool: &str, param: &str, untyped: Untyped) -> ValueType {
    match schemas.param(tool, param) {
        Some(ty) if ty.kind == Kind::String && !ty.nullable => ValueType::String,
        Some(ty) if ty.kind == Kind::Unknown && !ty.nullable => match untyped {
            Untyped::String => ValueType::String,
            Untyped::Guess => ValueType::Guess,
        },
        Some(ty) => ValueType::Typed(ty),
        None => match untyped {
            Untyped::String => ValueType::String,
            Untyped::Guess => ValueType::Guess,
        },
    }
}

/// JSON text for a complete value.
pub fn convert(raw: &str, ty: ValueType) -> String {
    let json_string = |text: &str| {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        escape_json_into(&mut out, text);
        out.push('"');
        out
    };
    let trimmed = raw.trim();
    let lower = trimmed.to_ascii_lowercase();
    let ty = match ty {
        ValueType::String => return json_string(raw),
        ValueType::Guess => {
            if serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok() {
                return trimmed.to_owned();
            }
            return to_json(trimmed).unwrap_or_else(|| json_string(raw));
        }
        ValueType::Typed(ty) => ty,
    };
    if ty.nullable && (lower == "null" || lower == "none") {
        return "null".to_owned();
    }
    let converted = match ty.kind {
        Kind::String => return json_string(raw),
        Kind::Null => (lower == "null" || lower == "none").then(|| "null".to_owned()),
        Kind::Boolean => match lower.as_str() {
            "true" => Some("true".to_owned()),
            "false" => Some("false".to_owned()),
            _ => None,
        },
        Kind::Integer => {
            let cleaned: String = trimmed.chars().filter(|&c| c != '_').collect();
            let cleaned = cleaned.trim_start_matches('+');
            match cleaned.parse::<i128>() {
                Ok(value) => Some(value.to_string()),
                // "3.0" for an integer: keep it when it is a whole number.
                Err(_) => number_to_json(trimmed)
                    .filter(|n| n.parse::<f64>().is_ok_and(|v| v.fract() == 0.0)),
            }
        }
        Kind::Number => number_to_json(trimmed),
        Kind::Object | Kind::Array | Kind::Unknown => {
            let opener = if ty.kind == Kind::Array { '[' } else { '{' };
            if serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok()
                && (ty.kind == Kind::Unknown || trimmed.starts_with(opener))
            {
                Some(trimmed.to_owned())
            } else {
                to_json(trimmed).filter(|j| ty.kind == Kind::Unknown || j.starts_with(opener))
            }
        }
    };
    converted.unwrap_or_else(|| {
        if is_json_number(trimmed) && ty.kind == Kind::Unknown {
            trimmed.to_owned()
        } else {
            json_string(raw)
        }
    })
}

/// The JSON object under construction for one call.
#[derive(Debug, Clone)]
pub struct ArgsBuilder {
    members: usize,
    value: Option<ValueType>,
    buffer: String,
    scratch: String,
    limit: usize,
}

impl ArgsBuilder {
    pub fn new(limit: usize) -> ArgsBuilder {
        ArgsBuilder {
            members: 0,
            value: None,
            buffer: String::new(),
            scratch: String::new(),
            limit,
        }
    }

    /// A new call: forget the previous one.
    pub fn reset(&mut self) {
        self.members = 0;
        self.value = None;
        self.buffer.clear();
    }

    /// Write `{`.
    pub fn open(&mut self, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        self.reset();
        slot.arguments(em, "{");
    }

    /// A member starts: `"key": ` (and the opening quote of a streamed string).
    pub fn begin_value(
        &mut self,
        key: &str,
        ty: ValueType,
        slot: &mut CallSlot,
        em: &mut Emitter<'_>,
    ) {
        self.scratch.clear();
        if self.members > 0 {
            self.scratch.push_str(", ");
        }
        self.scratch.push('"');
        escape_json_into(&mut self.scratch, key);
        self.scratch.push_str("\": ");
        if ty == ValueType::String {
            self.scratch.push('"');
        }
        slot.arguments(em, &self.scratch);
        self.members += 1;
        self.value = Some(ty);
        self.buffer.clear();
    }

    /// More of the value's text. False when a collected value outgrows the cap.
    pub fn value_text(&mut self, text: &str, slot: &mut CallSlot, em: &mut Emitter<'_>) -> bool {
        match self.value {
            Some(ValueType::String) => {
                self.scratch.clear();
                escape_json_into(&mut self.scratch, text);
                slot.arguments(em, &self.scratch);
                true
            }
            Some(_) => {
                self.buffer.push_str(text);
                self.buffer.len() <= self.limit
            }
            None => true,
        }
    }

    /// The value is complete.
    pub fn end_value(&mut self, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        match self.value.take() {
            Some(ValueType::String) => slot.arguments(em, "\""),
            Some(ty) => {
                let json = convert(&self.buffer, ty);
                self.buffer.clear();
                slot.arguments(em, &json);
            }
            None => {}
        }
    }

    /// Write `}` (closing a value left open first).
    pub fn close(&mut self, slot: &mut CallSlot, em: &mut Emitter<'_>) {
        if self.value.is_some() {
            self.end_value(slot, em);
        }
        slot.arguments(em, "}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(kind: Kind, nullable: bool) -> ValueType {
        ValueType::Typed(ParamType { kind, nullable })
    }

    #[test]
    fn converts_by_schema_type() {
        let cases = [
            ("42", typed(Kind::Integer, false), "42"),
            (" 42\n", typed(Kind::Integer, false), "42"),
            ("3.0", typed(Kind::Integer, false), "3.0"),
            ("forty", typed(Kind::Integer, false), "\"forty\""),
            ("2.50", typed(Kind::Number, false), "2.50"),
            (".5", typed(Kind::Number, false), "0.5"),
            ("True", typed(Kind::Boolean, false), "true"),
            ("yes", typed(Kind::Boolean, false), "\"yes\""),
            ("None", typed(Kind::Object, true), "null"),
            ("null", typed(Kind::String, true), "null"),
            ("{\"a\": [1]}", typed(Kind::Object, false), "{\"a\": [1]}"),
            (
                "{'a': (1, 2)}",
                typed(Kind::Object, false),
                "{\"a\": [1, 2]}",
            ),
            ("[1, 2]", typed(Kind::Object, false), "\"[1, 2]\""),
            ("['x']", typed(Kind::Array, false), "[\"x\"]"),
            (
                "a \"quoted\"\nline",
                ValueType::String,
                "\"a \\\"quoted\\\"\\nline\"",
            ),
            ("17", ValueType::Guess, "17"),
            ("{'k': True}", ValueType::Guess, "{\"k\": true}"),
            ("hello world", ValueType::Guess, "\"hello world\""),
        ];
        for (raw, ty, json) in cases {
            assert_eq!(convert(raw, ty), json, "{raw:?} as {ty:?}");
            serde_json::from_str::<serde_json::Value>(json).unwrap();
        }
    }
}
