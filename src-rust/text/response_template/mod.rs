//! Hugging Face response templates compiled into the text parser's own parts.
//!
//! A checkpoint may declare how its output splits into a message (`response_template` in
//! `tokenizer_config.json`, read by transformers 5.13+ `parse_response` and by vLLM): a dict
//! of *fields*, each with delimiters (`open` / `close` literals, or `open_pattern` /
//! `close_pattern` regexes) and a content parser. Serving routes three fields, as vLLM does:
//!
//! * `thinking` (also accepted as `reasoning` / `reasoning_content`) becomes a custom
//!   `ReasoningSpec`: its open markers start reasoning, its close markers end it; a field with
//!   no open (or `^` among its open alternatives) means the output starts inside reasoning.
//! * `content`: with an `open`, its delimiters are removed from the answer text; without one
//!   (the leftover field) its `close` markers end the message (like stop strings, but not
//!   reported as the caller's `stop_sequence`).
//! * `tool_calls` becomes a row of an existing grammar: `json` content with a literal opener is
//!   a JSON-envelope row (one object per region, or an array with `transform_each`);
//!   `xml-inline` content with `<function=NAME>`-style patterns is an XML-tags row; a function
//!   name captured in the opener with JSON arguments is recognised for the layouts that have a
//!   format of their own (Gemma 4, Harmony).
//!
//! The engine matches fixed markers, so regexes are read as far as `pattern` can (literal text,
//! optional parts, blanks at either end, a named group for a name, a skip). What cannot be
//! said with markers is refused with a `TemplateError` naming the field and key: the parser
//! never quietly reads a stream differently from what the template declares. Whitespace that a
//! pattern allows around a marker stays in the text (transformers strips text fields at the
//! end; a stream cannot take back what it sent). Tool-call ids are generated, as for every
//! format. A `prefix` (the prompt) tells whether the chat template left the output inside an
//! open reasoning region, as `parse_response(prefix=...)` does.

pub mod pattern;

use std::fmt;

use serde_json::{Map, Value};

use self::pattern::{literals, Atom, Literals};
use super::parser::TextParserConfig;
use super::sections::ReasoningSpec;
use super::tools::{intern, Body, CustomRow, JsonRow, Untyped, XmlRow, TOOL_FORMATS};
use crate::error::{Error, Result};

/// Longest JSON text read (a whole tokenizer config may carry a large vocabulary).
pub const MAX_TEMPLATE_BYTES: usize = 64 << 20;
/// Longest marker (characters).
pub const MAX_MARKER: usize = 256;

/// Why a template cannot be compiled: where (field and key) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub field: Option<String>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("response_template")?;
        if let Some(field) = &self.field {
            write!(f, " field {field:?}")?;
        }
        if let Some(key) = &self.key {
            write!(f, " key {key:?}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for TemplateError {}

type Compiled<T> = std::result::Result<T, TemplateError>;

fn top_error(message: impl Into<String>) -> TemplateError {
    TemplateError {
        field: None,
        key: None,
        message: message.into(),
    }
}

/// How a template's tool calls are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateTools {
    /// A format of its own (`tools=` name).
    Named(&'static str),
    /// A row of an existing grammar with the template's markers.
    Row(CustomRow),
}

/// What a template compiles to: the parts of a `TextParserConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompiledTemplate {
    pub reasoning: Option<ReasoningSpec>,
    pub tools: Option<TemplateTools>,
    /// The leftover content field's close markers: the end of the message.
    pub end: Vec<String>,
    /// An explicit content field's delimiters, removed from the answer (they join the
    /// reasoning format's `drop` markers).
    pub strip: Vec<String>,
}

impl CompiledTemplate {
    /// Fill `config` with the template's parts (the caller's stop strings and limits stay).
    pub fn apply(self, mut config: TextParserConfig) -> Result<TextParserConfig> {
        if config.reasoning.is_some() || config.tools.is_some() || config.tool_grammar.is_some() {
            return Err(Error::usage(
                "a response template sets the reasoning and tool formats itself",
            ));
        }
        config.reasoning = self.reasoning;
        match self.tools {
            None => {}
            Some(TemplateTools::Named(name)) => config.tools = Some(name.to_owned()),
            Some(TemplateTools::Row(row)) => config.tool_grammar = Some(intern(row)?),
        }
        config.end = self.end;
        if !self.strip.is_empty() {
            // Answer markers that are not text: the reasoning table's `drop` column.
            let spec = config.reasoning.get_or_insert_with(ReasoningSpec::default);
            spec.drop.extend(self.strip);
        }
        Ok(config)
    }
}

/// Compile a response template given as JSON text: the template itself, or a tokenizer
/// config that holds one under `response_template`. `prefix` is the prompt the output
/// continues, if known.
pub fn compile(json: &str, prefix: Option<&str>) -> Compiled<CompiledTemplate> {
    if json.len() > MAX_TEMPLATE_BYTES {
        return Err(top_error(format!(
            "the JSON text is longer than {MAX_TEMPLATE_BYTES} bytes"
        )));
    }
    let value: Value =
        serde_json::from_str(json).map_err(|e| top_error(format!("not valid JSON: {e}")))?;
    let Value::Object(outer) = &value else {
        return Err(top_error("must be a JSON object"));
    };
    let template = if outer.contains_key("fields") {
        outer
    } else {
        match outer.get("response_template") {
            Some(Value::Object(inner)) => inner,
            Some(_) => return Err(top_error("`response_template` must be an object")),
            None if outer.contains_key("response_schema") => {
                return Err(top_error(
                    "this config has only the older `response_schema` (JSON schema with x-regex, \
                     transformers 4.x-5.12), which is not supported; it needs a `response_template`",
                ))
            }
            None => {
                return Err(top_error(
                    "no `fields` and no `response_template` key: not a response template or a \
                     tokenizer config that has one",
                ))
            }
        }
    };
    compile_template(template, prefix)
}

const TOP_KEYS: &[&str] = &[
    "version",
    "defaults",
    "fields",
    "start_anchor",
    "start_anchor_pattern",
];
const FIELD_KEYS: &[&str] = &[
    "open",
    "open_pattern",
    "close",
    "close_pattern",
    "content",
    "content_args",
    "repeats",
    "join",
    "optional",
    "transform",
    "transform_each",
];
const REASONING_FIELDS: &[&str] = &["thinking", "reasoning", "reasoning_content"];

fn compile_template(
    template: &Map<String, Value>,
    prefix: Option<&str>,
) -> Compiled<CompiledTemplate> {
    if let Some(key) = template.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
        return Err(top_error(format!(
            "unknown key {key:?}; expected {}",
            TOP_KEYS.join(", ")
        )));
    }
    if template.contains_key("start_anchor") && template.contains_key("start_anchor_pattern") {
        return Err(top_error(
            "give `start_anchor` or `start_anchor_pattern`, not both",
        ));
    }
    match template.get("version") {
        None => {}
        Some(v) if v.as_u64() == Some(1) => {}
        Some(v) => return Err(top_error(format!("unsupported version {v} (only 1)"))),
    }
    match template.get("defaults") {
        None => {}
        Some(Value::Object(defaults)) => {
            if let Some(key) = defaults.keys().find(|k| k.as_str() != "role") {
                return Err(top_error(format!(
                    "default {key:?} cannot be streamed as a chunk (only \"role\")"
                )));
            }
        }
        Some(_) => return Err(top_error("`defaults` must be an object")),
    }
    let Some(Value::Object(fields)) = template.get("fields") else {
        return Err(top_error("`fields` must be a non-empty object"));
    };
    if fields.is_empty() {
        return Err(top_error("`fields` must be a non-empty object"));
    }
    let mut implicit = Vec::new();
    let mut out = CompiledTemplate::default();
    let mut thinking: Option<Field<'_>> = None;
    for (name, raw) in fields {
        let Value::Object(raw) = raw else {
            return Err(Field::error_for(name, None, "must be an object"));
        };
        let field = Field { name, raw };
        if let Some(key) = raw.keys().find(|k| !FIELD_KEYS.contains(&k.as_str())) {
            return Err(field.error(Some(key), "unknown key"));
        }
        if raw.contains_key("open") && raw.contains_key("open_pattern") {
            return Err(field.error(
                Some("open_pattern"),
                "give `open` or `open_pattern`, not both",
            ));
        }
        if raw.contains_key("close") && raw.contains_key("close_pattern") {
            return Err(field.error(
                Some("close_pattern"),
                "give `close` or `close_pattern`, not both",
            ));
        }
        if !raw.contains_key("open") && !raw.contains_key("open_pattern") {
            implicit.push(name.as_str());
        }
        match name.as_str() {
            n if REASONING_FIELDS.contains(&n) => {
                if thinking.is_some() {
                    return Err(field.error(None, "a second reasoning field"));
                }
                thinking = Some(field);
            }
            "content" => content(&field, &mut out)?,
            "tool_calls" => out.tools = Some(tools(&field)?),
            _ => {
                return Err(field.error(
                    None,
                    "only thinking, content and tool_calls can be streamed as chunks",
                ))
            }
        }
    }
    if implicit.len() > 1 {
        return Err(top_error(format!(
            "at most one field may have no open marker; found {}",
            implicit.join(", ")
        )));
    }
    if let Some(field) = thinking {
        out.reasoning = Some(reasoning(&field, template, prefix)?);
    }
    if let Some(TemplateTools::Named(name)) = out.tools {
        if ReasoningSpec::named(name).is_some_and(|spec| spec.reader.is_some()) {
            // The format reads its channels itself (Harmony): the template's reasoning and
            // content markers are its own, and already understood.
            out = CompiledTemplate {
                tools: out.tools,
                ..CompiledTemplate::default()
            };
        }
    }
    Ok(out)
}

struct Field<'a> {
    name: &'a str,
    raw: &'a Map<String, Value>,
}

/// A field's `open` / `close` delimiters.
enum Delimiter {
    /// `close: "eos"`: the end of the output.
    Eos,
    Markers(Literals),
}

impl Field<'_> {
    fn error_for(field: &str, key: Option<&str>, message: impl Into<String>) -> TemplateError {
        TemplateError {
            field: Some(field.to_owned()),
            key: key.map(str::to_owned),
            message: message.into(),
        }
    }

    fn error(&self, key: Option<&str>, message: impl Into<String>) -> TemplateError {
        Field::error_for(self.name, key, message)
    }

    /// `content`, `text` by default.
    fn content_type(&self) -> Compiled<&str> {
        match self.raw.get("content") {
            None => Ok("text"),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(self.error(Some("content"), "must be a string")),
        }
    }

    fn plain_text(&self) -> Compiled<()> {
        if self.content_type()? != "text" {
            return Err(self.error(Some("content"), "must be \"text\" to stream as text"));
        }
        if self.raw.contains_key("transform") {
            return Err(self.error(
                Some("transform"),
                "a text field cannot be streamed with a transform",
            ));
        }
        Ok(())
    }

    /// The pattern atoms of `open_pattern` (or the literal `open`).
    fn open_atoms(&self) -> Compiled<Option<Vec<Atom>>> {
        match (self.raw.get("open"), self.raw.get("open_pattern")) {
            (Some(_), _) => {
                let texts = self.literal_list("open")?;
                let choices = texts
                    .into_iter()
                    .map(|t| vec![Atom::Lit(t)])
                    .collect::<Vec<_>>();
                Ok(Some(match <[Vec<Atom>; 1]>::try_from(choices) {
                    Ok([one]) => one,
                    Err(choices) => vec![Atom::Alt {
                        choices,
                        optional: false,
                    }],
                }))
            }
            (None, Some(_)) => self.pattern("open_pattern").map(Some),
            (None, None) => Ok(None),
        }
    }

    fn pattern(&self, key: &str) -> Compiled<Vec<Atom>> {
        let Some(Value::String(text)) = self.raw.get(key) else {
            return Err(self.error(Some(key), "must be a string (a regex)"));
        };
        pattern::read(text).map_err(|e| self.error(Some(key), e.to_string()))
    }

    /// `open` / `close`: a string or a non-empty list of strings.
    fn literal_list(&self, key: &str) -> Compiled<Vec<String>> {
        let texts = match self.raw.get(key) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(self.error(Some(key), "must hold only strings")),
                })
                .collect::<Compiled<Vec<_>>>()?,
            _ => {
                return Err(self.error(Some(key), "must be a string or a non-empty list of strings"))
            }
        };
        self.checked(key, texts)
    }

    fn checked(&self, key: &str, texts: Vec<String>) -> Compiled<Vec<String>> {
        if texts.len() > pattern::MAX_EXPANSION {
            return Err(self.error(
                Some(key),
                format!("more than {} markers", pattern::MAX_EXPANSION),
            ));
        }
        for text in &texts {
            if text.is_empty() {
                return Err(self.error(Some(key), "markers cannot be empty"));
            }
            if text.chars().count() > MAX_MARKER {
                return Err(self.error(
                    Some(key),
                    format!("a marker is longer than {MAX_MARKER} characters"),
                ));
            }
        }
        Ok(texts)
    }

    /// The markers of `open`/`open_pattern` (`side` = "open") or `close`/`close_pattern`.
    fn delimiter(&self, side: &str) -> Compiled<Option<Delimiter>> {
        let pattern_key = format!("{side}_pattern");
        if self.raw.contains_key(side) {
            let texts = self.literal_list(side)?;
            if texts.iter().any(|t| t == "eos") {
                if texts.len() > 1 {
                    return Err(
                        self.error(Some(side), "\"eos\" cannot be combined with other markers")
                    );
                }
                return Ok(Some(Delimiter::Eos));
            }
            return Ok(Some(Delimiter::Markers(Literals {
                texts,
                at_start: false,
            })));
        }
        if self.raw.contains_key(&pattern_key) {
            let atoms = self.pattern(&pattern_key)?;
            let found = literals(&atoms).map_err(|e| self.error(Some(&pattern_key), e))?;
            let texts = self.checked(&pattern_key, found.texts)?;
            return Ok(Some(Delimiter::Markers(Literals {
                texts,
                at_start: found.at_start,
            })));
        }
        Ok(None)
    }

    /// Close markers as a plain list (`eos` and no close give none).
    fn close_markers(&self) -> Compiled<Vec<String>> {
        let key = if self.raw.contains_key("close") {
            "close"
        } else {
            "close_pattern"
        };
        match self.delimiter("close")? {
            Some(Delimiter::Markers(found)) if found.at_start => {
                Err(self.error(Some(key), "^ cannot close a region"))
            }
            Some(Delimiter::Markers(found)) => Ok(found.texts),
            Some(Delimiter::Eos) | None => Ok(Vec::new()),
        }
    }
}

fn content(field: &Field<'_>, out: &mut CompiledTemplate) -> Compiled<()> {
    field.plain_text()?;
    let closes = field.close_markers()?;
    match field.delimiter("open")? {
        None => out.end.extend(closes),
        Some(Delimiter::Eos) => {
            return Err(field.error(Some("open"), "\"eos\" cannot open a region"))
        }
        Some(Delimiter::Markers(found)) => {
            if found.at_start {
                return Err(field.error(
                    Some("open_pattern"),
                    "^ is understood for the reasoning field only (answer text is the default)",
                ));
            }
            out.strip.extend(found.texts);
            out.strip.extend(closes);
        }
    }
    Ok(())
}

fn reasoning(
    field: &Field<'_>,
    template: &Map<String, Value>,
    prefix: Option<&str>,
) -> Compiled<ReasoningSpec> {
    field.plain_text()?;
    let (starts, at_start) = match field.delimiter("open")? {
        None => (Vec::new(), true),
        Some(Delimiter::Eos) => {
            return Err(field.error(Some("open"), "\"eos\" cannot open a region"))
        }
        Some(Delimiter::Markers(found)) => (found.texts, found.at_start),
    };
    let ends = field.close_markers()?;
    if ends.is_empty() {
        return Err(field.error(
            Some("close"),
            "reasoning that runs to the end of the output cannot be told from the answer; it needs a close marker",
        ));
    }
    let starts_inside = match prefix {
        None => at_start,
        Some(prefix) => {
            let tail = after_anchor(template, prefix)?;
            inside_at_end(tail, &starts, at_start, &ends)
        }
    };
    Ok(ReasoningSpec {
        starts,
        ends,
        starts_inside,
        ..ReasoningSpec::default()
    })
}

/// The prompt after the last start anchor (the current assistant message so far).
fn after_anchor<'p>(template: &Map<String, Value>, prefix: &'p str) -> Compiled<&'p str> {
    let anchor = Field {
        name: "",
        raw: template,
    };
    let anchors = match anchor.delimiter("start_anchor") {
        Ok(Some(Delimiter::Markers(found))) => found.texts,
        Ok(Some(Delimiter::Eos)) | Ok(None) => Vec::new(),
        Err(error) => {
            return Err(TemplateError {
                field: None,
                ..error
            })
        }
    };
    let start = anchors
        .iter()
        .filter_map(|a| prefix.rfind(a.as_str()).map(|at| at + a.len()))
        .max()
        .unwrap_or(0);
    Ok(&prefix[start..])
}

/// Whether `tail` leaves a reasoning region open: its last open comes after its last close.
fn inside_at_end(tail: &str, starts: &[String], at_start: bool, ends: &[String]) -> bool {
    let last = |markers: &[String]| {
        markers
            .iter()
            .filter_map(|m| tail.rfind(m.as_str()).map(|at| at + m.len()))
            .max()
    };
    let opened = last(starts).or(if at_start || starts.is_empty() {
        Some(0)
    } else {
        None
    });
    match (opened, last(ends)) {
        (Some(open), Some(close)) => open > close,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Formats whose opener carries the function name, with the arguments as JSON after it.
/// (literal before the name, whether a skip follows the name, its close marker, `tools=` name)
const NAMED_LAYOUTS: &[(&str, bool, &str, &str)] = &[
    ("<|tool_call>call:", false, "<tool_call|>", "gemma4"),
    (
        "<|channel|>commentary to=functions.",
        true,
        "<|call|>",
        "harmony",
    ),
];

fn tools(field: &Field<'_>) -> Compiled<TemplateTools> {
    let Some(open) = field.open_atoms()? else {
        return Err(field.error(
            Some("open"),
            "tool calls need an open marker (a leftover field is answer text)",
        ));
    };
    match field.content_type()? {
        "json" => json_tools(field, &open),
        "xml-inline" => xml_tools(field, &open),
        other => Err(field.error(
            Some("content"),
            format!("{other:?} tool calls are not supported (json and xml-inline are)"),
        )),
    }
}

fn has_group(atoms: &[Atom]) -> bool {
    atoms.iter().any(|atom| match atom {
        Atom::Group(_) => true,
        Atom::Alt { choices, .. } => choices.iter().any(|c| has_group(c)),
        _ => false,
    })
}

fn json_tools(field: &Field<'_>, open: &[Atom]) -> Compiled<TemplateTools> {
    let closes = field.close_markers()?;
    if has_group(open) {
        return named_layout(field, open, &closes);
    }
    if let Some(Value::Object(args)) = field.raw.get("content_args") {
        if let Some(key) = args.keys().find(|k| k.as_str() != "allow_non_json") {
            return Err(field.error(
                Some("content_args"),
                format!(
                    "{key:?} (JSON that is not JSON) is understood only for the Gemma 4 layout"
                ),
            ));
        }
    }
    let found = literals(open).map_err(|e| field.error(Some("open_pattern"), e))?;
    if found.at_start {
        return Err(field.error(Some("open_pattern"), "^ cannot open tool calls"));
    }
    let openers = field.checked("open", found.texts)?;
    let closer = match closes.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        _ => {
            return Err(field.error(
                Some("close"),
                "JSON tool calls are understood with one close marker",
            ))
        }
    };
    let body = json_body(field)?;
    Ok(TemplateTools::Row(CustomRow::Json(JsonRow {
        closers: vec![closer; openers.len()],
        openers,
        body,
    })))
}

/// `{name}` -> `name`; `{content.name}` -> `content.name`.
fn placeholder(value: Option<&Value>) -> Option<&str> {
    value?.as_str()?.strip_prefix('{')?.strip_suffix('}')
}

/// What a JSON region holds, read from its `transform`.
fn json_body(field: &Field<'_>) -> Compiled<Body> {
    let each = match field.raw.get("transform_each") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(field.error(Some("transform_each"), "must be a bool")),
    };
    let Some(transform) = field.raw.get("transform") else {
        return if each {
            Err(field.error(Some("transform_each"), "is set but there is no transform"))
        } else {
            Ok(Body::Object)
        };
    };
    let unsupported = |what: &str| {
        Err(field.error(
            Some("transform"),
            format!(
                "{what}; understood: {{\"type\": \"function\", \"function\": \"{{content}}\"}} or \
                 {{\"function\": {{\"name\": \"{{name}}\" or \"{{tool_name}}\", \"arguments\": \
                 \"{{arguments}}\" or \"{{parameters}}\"}}}}"
            ),
        ))
    };
    let Value::Object(transform) = transform else {
        return unsupported("not an object");
    };
    if let Some(kind) = transform.get("type") {
        if kind.as_str() != Some("function") {
            return unsupported("a type other than \"function\"");
        }
    }
    match transform.get("function") {
        Some(Value::String(_)) if placeholder(transform.get("function")) == Some("content") => {
            if each {
                return unsupported("transform_each with the whole element as the function");
            }
            Ok(Body::Object)
        }
        Some(Value::Object(function)) => {
            let (Some(name), Some(arguments)) = (
                placeholder(function.get("name")),
                placeholder(function.get("arguments")),
            ) else {
                return unsupported("the function's name and arguments are not placeholders");
            };
            let (name, arguments) = if each {
                (name, arguments)
            } else {
                match (
                    name.strip_prefix("content."),
                    arguments.strip_prefix("content."),
                ) {
                    (Some(n), Some(a)) => (n, a),
                    _ => return unsupported("name and arguments taken from outside the JSON body"),
                }
            };
            // The envelope reads these keys (`formats::json_calls`).
            if !matches!(name, "name" | "tool_name")
                || !matches!(arguments, "arguments" | "parameters")
            {
                return unsupported(&format!(
                    "keys {name:?} / {arguments:?} for the name and arguments"
                ));
            }
            Ok(if each { Body::Either } else { Body::Object })
        }
        _ => unsupported("no function"),
    }
}

fn named_layout(field: &Field<'_>, open: &[Atom], closes: &[String]) -> Compiled<TemplateTools> {
    for &(before, skip, close, format) in NAMED_LAYOUTS {
        let shape_fits = match open {
            [Atom::Lit(lit), Atom::Group(_)] => lit == before && !skip,
            [Atom::Lit(lit), Atom::Group(_), Atom::Skip, Atom::Lit(_)] => lit == before && skip,
            _ => false,
        };
        if shape_fits && closes.iter().any(|c| c == close) {
            return match TOOL_FORMATS.iter().find(|known| **known == format) {
                Some(name) => Ok(TemplateTools::Named(name)),
                None => Err(field.error(
                    Some("open_pattern"),
                    format!("this is the {format:?} layout, which this build does not have"),
                )),
            };
        }
    }
    Err(field.error(
        Some("open_pattern"),
        "a function name in the opener with JSON arguments is understood for the Gemma 4 and \
         Harmony layouts only",
    ))
}

fn xml_tools(field: &Field<'_>, open: &[Atom]) -> Compiled<TemplateTools> {
    let key = "open_pattern";
    let Some(Value::Object(args)) = field.raw.get("content_args") else {
        return Err(field.error(
            Some("content_args"),
            "xml-inline needs content_args.tag_pattern",
        ));
    };
    if args.get("merge_duplicates").and_then(Value::as_bool) == Some(true) {
        return Err(field.error(
            Some("content_args"),
            "merge_duplicates (a repeated key becomes a list) is not supported",
        ));
    }
    // The opener: [block literal] [blanks] <invoke literal> (?P<name>..) (">" | "\">")
    let (block, invoke, quoted_name) = match trim_trailing_blank(open) {
        [before @ .., Atom::Group(_), Atom::Lit(after)] if after == ">" || after == "\">" => {
            let literal: Vec<&str> = before
                .iter()
                .filter_map(|a| match a {
                    Atom::Lit(text) => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            if before.iter().any(|a| !matches!(a, Atom::Lit(_) | Atom::Blank)) {
                return Err(field.error(Some(key), "only literal text and blanks may come before the name"));
            }
            let (block, invoke) = match literal.as_slice() {
                [block, invoke] => ((*block).to_owned(), (*invoke).to_owned()),
                [merged] => match merged.rfind('<') {
                    Some(at) if at > 0 => (merged[..at].to_owned(), merged[at..].to_owned()),
                    _ => {
                        return Err(field.error(
                            Some(key),
                            "needs a block marker before the function tag (as <tool_call><function=NAME>)",
                        ))
                    }
                },
                _ => return Err(field.error(Some(key), "needs a block marker, then the function tag")),
            };
            (block, invoke, after == "\">")
        }
        _ => {
            return Err(field.error(
                Some(key),
                "xml-inline calls are understood as BLOCK <tag=(?P<name>...)> or BLOCK <tag name=\"(?P<name>...)\">",
            ))
        }
    };
    let invoke = unquote(field, key, invoke, quoted_name)?;
    let Some(Value::String(tag_text)) = args.get("tag_pattern") else {
        return Err(field.error(Some("content_args"), "tag_pattern must be a string"));
    };
    let tag = pattern::read(tag_text)
        .map_err(|e| field.error(Some("content_args"), format!("tag_pattern: {e}")))?;
    let tag: Vec<Atom> = tag.into_iter().filter(|a| *a != Atom::Blank).collect();
    let (param, param_end, quoted_key) = match tag.as_slice() {
        [Atom::Lit(param), Atom::Group(k), Atom::Lit(after), Atom::Group(v), Atom::Lit(end)]
            if k == "key" && v == "value" && (after == ">" || after == "\">") =>
        {
            (param.clone(), end.clone(), after == "\">")
        }
        _ => {
            return Err(field.error(
                Some("content_args"),
                "tag_pattern is understood as <tag=(?P<key>...)>(?P<value>.*?)</tag> or with name=\"...\"",
            ))
        }
    };
    if quoted_key != quoted_name {
        return Err(field.error(
            Some("content_args"),
            "the function name and the parameter keys must both be quoted or both bare",
        ));
    }
    let param = unquote(field, "content_args", param, quoted_key)?;
    let untyped = match args.get("value_parser") {
        None => Untyped::String,
        Some(Value::Object(parser)) => match parser.get("name").and_then(Value::as_str) {
            Some("json") => Untyped::Guess,
            Some("text") => Untyped::String,
            _ => {
                return Err(field.error(
                    Some("content_args"),
                    "value_parser is understood as json or text",
                ))
            }
        },
        Some(_) => return Err(field.error(Some("content_args"), "value_parser must be an object")),
    };
    let closes = field.close_markers()?;
    let [close] = closes.as_slice() else {
        return Err(field.error(Some("close"), "xml-inline calls need one close marker"));
    };
    // The function's own end tag is not in the template; it is the opener's tag closed.
    let tag_name: String = invoke
        .strip_prefix('<')
        .unwrap_or(&invoke)
        .chars()
        .take_while(|c| *c != '=' && *c != ' ')
        .collect();
    let row = XmlRow {
        openers: field.checked("open_pattern", vec![block])?,
        closers: vec![close.clone()],
        invoke_end: format!("</{tag_name}>"),
        invoke,
        param,
        param_end,
        quoted: quoted_name,
        untyped,
    };
    if let Some(transform) = field.raw.get("transform") {
        let function = transform.get("function");
        let named = placeholder(function.and_then(|f| f.get("name")));
        let arguments = placeholder(function.and_then(|f| f.get("arguments")));
        if named.is_none() || arguments != Some("content") {
            return Err(field.error(
                Some("transform"),
                "xml-inline calls are understood with {\"function\": {\"name\": \"{name}\", \"arguments\": \"{content}\"}}",
            ));
        }
    }
    Ok(TemplateTools::Row(CustomRow::Xml(row)))
}

fn trim_trailing_blank(atoms: &[Atom]) -> &[Atom] {
    match atoms {
        [rest @ .., Atom::Blank] => rest,
        _ => atoms,
    }
}

/// `<invoke name="` -> `<invoke name=` when names are quoted.
fn unquote(field: &Field<'_>, key: &str, text: String, quoted: bool) -> Compiled<String> {
    if !quoted {
        return Ok(text);
    }
    text.strip_suffix('"').map(str::to_owned).ok_or_else(|| {
        field.error(
            Some(key),
            "a quoted name needs its opening quote in the marker",
        )
    })
}

#[cfg(test)]
mod tests;
