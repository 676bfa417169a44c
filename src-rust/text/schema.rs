//! Parameter types from the request's tool list, for formats that write argument values as raw
//! text (Qwen3-Coder, GLM-4.5) and need the JSON Schema to know `42` is a number.
//!
//! Accepts the OpenAI shape `[{"type": "function", "function": {"name", "parameters"}}]`, a
//! bare `{"name", "parameters"}` and Anthropic's `{"name", "input_schema"}`.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
    Null,
    /// No usable `type` in the schema.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamType {
    pub kind: Kind,
    /// `null` is allowed (`"type": [.., "null"]` or a null branch of `anyOf`).
    pub nullable: bool,
}

fn kind_from_name(name: &str) -> Kind {
    let name = name.trim().to_ascii_lowercase();
    let n = name.as_str();
    match n {
        "string" | "str" | "text" | "varchar" | "char" | "enum" => Kind::String,
        "boolean" | "bool" | "binary" => Kind::Boolean,
        "object" => Kind::Object,
        "array" | "arr" => Kind::Array,
        "null" => Kind::Null,
        _ if ["int", "uint", "long", "short", "unsigned"]
            .iter()
            .any(|p| n.starts_with(p)) =>
        {
            Kind::Integer
        }
        _ if ["num", "float", "double"].iter().any(|p| n.starts_with(p)) => Kind::Number,
        _ if n.starts_with("dict") => Kind::Object,
        _ if n.starts_with("list") => Kind::Array,
        _ => Kind::Unknown,
    }
}

impl ParamType {
    pub fn from_schema(schema: &Value) -> ParamType {
        let mut kinds: Vec<Kind> = Vec::new();
        match schema.get("type") {
            Some(Value::String(name)) => kinds.push(kind_from_name(name)),
            Some(Value::Array(names)) => {
                kinds.extend(names.iter().filter_map(Value::as_str).map(kind_from_name))
            }
            _ => {}
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(options)) = schema.get(key) {
                kinds.extend(options.iter().map(|o| ParamType::from_schema(o).kind));
                if options.iter().any(|o| ParamType::from_schema(o).nullable) {
                    kinds.push(Kind::Null);
                }
            }
        }
        if kinds.is_empty() {
            if schema.get("properties").is_some() {
                kinds.push(Kind::Object);
            } else if schema.get("items").is_some() {
                kinds.push(Kind::Array);
            } else if schema.get("enum").is_some() {
                kinds.push(Kind::String);
            }
        }
        let nullable = kinds.contains(&Kind::Null);
        let kind = kinds
            .iter()
            .copied()
            .find(|k| *k != Kind::Null && *k != Kind::Unknown)
            .unwrap_or(if nullable { Kind::Null } else { Kind::Unknown });
        ParamType { kind, nullable }
    }
}

/// Function name -> parameter name -> type.
#[derive(Debug, Clone, Default)]
pub struct ToolSchemas {
    tools: HashMap<String, HashMap<String, ParamType>>,
}

impl ToolSchemas {
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// The type of `param` of `tool`, when the schema names it.
    pub fn param(&self, tool: &str, param: &str) -> Option<ParamType> {
        self.tools.get(tool)?.get(param).copied()
    }

    /// Parse a JSON array of tool definitions.
    pub fn from_json(text: &str) -> Result<ToolSchemas> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::usage(format!("tool_schemas is not valid JSON: {e}")))?;
        let Value::Array(items) = value else {
            return Err(Error::usage(
                "tool_schemas must be a list of tool definitions (the request's `tools`)",
            ));
        };
        let mut tools = HashMap::new();
        for (index, item) in items.iter().enumerate() {
            let function = item.get("function").unwrap_or(item);
            let Some(name) = function.get("name").and_then(Value::as_str) else {
                return Err(Error::usage(format!(
                    "tool_schemas[{index}] has no function name"
                )));
            };
            let parameters = function
                .get("parameters")
                .or_else(|| function.get("input_schema"));
            let mut params = HashMap::new();
            if let Some(Value::Object(properties)) = parameters.and_then(|p| p.get("properties")) {
                for (param, schema) in properties {
                    params.insert(param.clone(), ParamType::from_schema(schema));
                }
            }
            tools.insert(name.to_owned(), params);
        }
        Ok(ToolSchemas { tools })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openai_and_anthropic_shapes() {
        let schemas = ToolSchemas::from_json(
            r#"[
              {"type": "function", "function": {"name": "f", "parameters": {"type": "object",
                "properties": {"n": {"type": "integer"}, "s": {"type": "string"},
                               "o": {"anyOf": [{"type": "null"}, {"type": "object"}]},
                               "l": {"type": ["array", "null"]}, "e": {"enum": ["a"]},
                               "x": {"description": "anything"}}}}},
              {"name": "g", "input_schema": {"properties": {"b": {"type": "boolean"}}}}
            ]"#,
        )
        .unwrap();
        let p = |t, n| schemas.param(t, n).unwrap();
        assert_eq!(p("f", "n").kind, Kind::Integer);
        assert_eq!(p("f", "s").kind, Kind::String);
        assert_eq!(
            p("f", "o"),
            ParamType {
                kind: Kind::Object,
                nullable: true
            }
        );
        assert_eq!(
            p("f", "l"),
            ParamType {
                kind: Kind::Array,
                nullable: true
            }
        );
        assert_eq!(p("f", "e").kind, Kind::String);
        assert_eq!(p("f", "x").kind, Kind::Unknown);
        assert_eq!(p("g", "b").kind, Kind::Boolean);
        assert!(schemas.param("f", "missing").is_none());
    }

    #[test]
    fn rejects_what_is_not_a_tool_list() {
        assert!(ToolSchemas::from_json("{}").is_err());
        assert!(ToolSchemas::from_json(r#"[{"type": "function"}]"#).is_err());
        assert!(ToolSchemas::from_json("[").is_err());
    }
}
