//! Parameter types from the request's tool list, for formats that write argument values as raw
//! text (Qwen3-Coder, GLM-4.5) and need the JSON Schema to know `42` is a number.
//!
//! Accepts the OpenAI shape `[{"type": "function", "function": {"name", "parameters"}}]`, a
//! bare `{"name", "parameters"}` and Anthropic's `{"name", "input_schema"}`.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{Error, Result};

/// Deepest nesting accepted in the tool list (arrays and objects, the list itself included).
/// Real schemas stay under 10; serde_json refuses 128 anyway.
pub const MAX_SCHEMA_DEPTH: usize = 48;
/// Most JSON values (objects, arrays, scalars) accepted in the whole tool list.
pub const MAX_SCHEMA_NODES: usize = 100_000;

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
                // Each option once: walking it twice would cost 2^depth on nested anyOf.
                let mut nullable = false;
                for option in options {
                    let option = ParamType::from_schema(option);
                    kinds.push(option.kind);
                    nullable |= option.nullable;
                }
                if nullable {
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
        let value: Value = serde_json::from_str(text).map_err(|e| {
            if e.to_string().starts_with("recursion limit exceeded") {
                too_deep()
            } else {
                Error::usage(format!("tool_schemas is not valid JSON: {e}"))
            }
        })?;
        check_size(&value)?;
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

/// The error for a tool list nested past `MAX_SCHEMA_DEPTH` (also used when a serializer in
/// front of `from_json` gives up on the depth first).
pub fn too_deep() -> Error {
    Error::limit(
        "max_schema_depth",
        MAX_SCHEMA_DEPTH,
        "tool_schemas nest deeper than the limit",
    )
}

/// Depth and node count of the whole tool list, walked once without recursion, stopping at the
/// first cap crossed. `from_schema` recurses afterwards, so its depth is bounded here.
fn check_size(value: &Value) -> Result<()> {
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    let mut nodes = 0usize;
    while let Some((value, depth)) = stack.pop() {
        nodes += 1;
        if nodes > MAX_SCHEMA_NODES {
            return Err(Error::limit(
                "max_schema_nodes",
                MAX_SCHEMA_NODES,
                "tool_schemas hold more JSON values than the limit",
            ));
        }
        if depth > MAX_SCHEMA_DEPTH {
            return Err(too_deep());
        }
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(members) => stack.extend(members.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    Ok(())
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

    fn limit_name(text: &str) -> &'static str {
        match ToolSchemas::from_json(text) {
            Err(Error::LimitExceeded { limit_name, .. }) => limit_name,
            other => panic!("expected a limit error, got {other:?}"),
        }
    }

    fn tools_with_param(schema: &str) -> String {
        format!(r#"[{{"name": "f", "parameters": {{"properties": {{"p": {schema}}}}}}}]"#)
    }

    #[test]
    fn nested_any_of_is_linear() {
        // 40 single-option anyOf levels used to cost 2^40 walks (issue 13, finding 1).
        let mut schema = r#"{"type": "string"}"#.to_string();
        for _ in 0..40 {
            schema = format!(r#"{{"anyOf": [{schema}]}}"#);
        }
        // Through the tool list it is past the depth cap; the walk itself must still be linear.
        assert_eq!(limit_name(&tools_with_param(&schema)), "max_schema_depth");
        let value: Value = serde_json::from_str(&schema).unwrap();
        assert_eq!(ParamType::from_schema(&value).kind, Kind::String);
    }

    #[test]
    fn depth_and_size_are_capped() {
        let mut schema = r#"{"type": "string"}"#.to_string();
        for _ in 0..60 {
            schema = format!(r#"{{"anyOf": [{schema}]}}"#);
        }
        assert_eq!(limit_name(&tools_with_param(&schema)), "max_schema_depth");
        // Past serde_json's own recursion limit: the same error, not a syntax error.
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(limit_name(&deep), "max_schema_depth");
        let wide = format!(r#"{{"enum": [{}0]}}"#, "0,".repeat(MAX_SCHEMA_NODES));
        assert_eq!(limit_name(&tools_with_param(&wide)), "max_schema_nodes");
    }
}
