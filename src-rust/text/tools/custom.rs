//! Tool formats made at run time: rows of the existing grammar tables whose markers come from
//! data (a Hugging Face response template) instead of a `tools=` name.
//!
//! The scanners hold `&'static` rows, so a row made here lives as long as the process. Equal
//! rows are made once, and the number of distinct rows is capped: a server compiles its
//! checkpoint's template once per request, and that must not grow memory.

use std::sync::Mutex;

use super::formats::json_calls::{self, JsonGrammar};
use super::formats::xml_calls::{self, XmlGrammar};
use super::{ToolContext, ToolSection};
use crate::error::{Error, Result};

pub use super::formats::json_calls::Body;
pub use super::xml_args::Untyped;

/// Distinct rows one process may make.
pub const MAX_CUSTOM_ROWS: usize = 64;

/// A JSON-envelope row (see `formats::json_calls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonRow {
    pub openers: Vec<String>,
    /// One per opener; `None`: the section ends with its JSON.
    pub closers: Vec<Option<String>>,
    pub body: Body,
}

/// An XML-tags row (see `formats::xml_calls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlRow {
    pub openers: Vec<String>,
    pub closers: Vec<String>,
    pub invoke: String,
    pub invoke_end: String,
    pub param: String,
    pub param_end: String,
    pub quoted: bool,
    pub untyped: Untyped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomRow {
    Json(JsonRow),
    Xml(XmlRow),
}

/// A grammar row that parsers can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrammarRow {
    Json(&'static JsonGrammar),
    Xml(&'static XmlGrammar),
}

impl GrammarRow {
    pub fn build(self, context: ToolContext) -> Box<dyn ToolSection> {
        match self {
            GrammarRow::Json(grammar) => json_calls::build(grammar, context),
            GrammarRow::Xml(grammar) => xml_calls::build(grammar, context),
        }
    }
}

static ROWS: Mutex<Vec<(CustomRow, GrammarRow)>> = Mutex::new(Vec::new());

/// The process-wide row equal to `row`, made on first use.
pub fn intern(row: CustomRow) -> Result<GrammarRow> {
    let mut rows = ROWS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, made)) = rows.iter().find(|(known, _)| *known == row) {
        return Ok(*made);
    }
    if rows.len() >= MAX_CUSTOM_ROWS {
        return Err(Error::usage(format!(
            "more than {MAX_CUSTOM_ROWS} distinct custom tool-call formats in one process \
             (each response template with its own markers makes one)"
        )));
    }
    let made = match &row {
        CustomRow::Json(json) => GrammarRow::Json(leak(JsonGrammar {
            openers: leak_all(&json.openers),
            closers: leak(
                json.closers
                    .iter()
                    .map(|c| c.as_deref().map(leak_str))
                    .collect::<Vec<_>>(),
            ),
            leading: None,
            body: json.body,
            chained: false,
        })),
        CustomRow::Xml(xml) => GrammarRow::Xml(leak(XmlGrammar {
            openers: leak_all(&xml.openers),
            closers: leak_all(&xml.closers),
            invoke: leak_str(&xml.invoke),
            invoke_end: leak_str(&xml.invoke_end),
            param: leak_str(&xml.param),
            param_end: leak_str(&xml.param_end),
            quoted: xml.quoted,
            untyped: xml.untyped,
            confirmed_closers: false,
        })),
    };
    rows.push((row, made));
    Ok(made)
}

fn leak<T: ?Sized>(value: impl Into<Box<T>>) -> &'static T {
    Box::leak(value.into())
}

fn leak_str(text: &str) -> &'static str {
    leak::<str>(text)
}

fn leak_all(texts: &[String]) -> &'static [&'static str] {
    leak(texts.iter().map(|t| leak_str(t)).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(opener: &str) -> CustomRow {
        CustomRow::Json(JsonRow {
            openers: vec![opener.into()],
            closers: vec![Some(format!("</{opener}"))],
            body: Body::Object,
        })
    }

    #[test]
    fn equal_rows_are_made_once() {
        let a = intern(row("<interned_once>")).unwrap();
        let b = intern(row("<interned_once>")).unwrap();
        match (a, b) {
            (GrammarRow::Json(a), GrammarRow::Json(b)) => {
                assert!(std::ptr::eq(a, b));
                assert_eq!(a.openers, &["<interned_once>"]);
            }
            _ => panic!("not JSON rows"),
        }
    }
}
