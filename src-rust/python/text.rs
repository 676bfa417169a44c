//! `TextParser` for Python: `decode(str) -> list[GenerationChunk]`, one crossing per piece.

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

use super::chunk::{finish_reason_named, guarded_chunks};
use super::errors::{require_positive_size, to_py_err};
use super::json::orjson_dumps;
use crate::chunk::GenerationChunk as CoreChunk;
use crate::error::Error;
use crate::text::harmony::tokens::TokenText;
use crate::text::schema;
use crate::text::{
    formats_for_model, ReasoningSpec, TextParser as CoreTextParser, TextParserConfig, ToolSchemas,
    DEFAULT_MAX_BUFFER, REASONING_FORMATS, TOOL_FORMATS,
};

#[pyclass(module = "fastsse")]
pub struct TextParser {
    inner: CoreTextParser,
    /// `decode_tokens`: bytes of a character split across token ids.
    token_text: TokenText,
    /// Reused between calls: the chunks of one call before they become Python objects.
    out: Vec<CoreChunk>,
}

/// `str` -> one item; any other iterable of `str` -> its items.
fn strings(value: Option<Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    let Some(value) = value.filter(|value| !value.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(vec![s.to_str()?.to_owned()]);
    }
    let mut items = Vec::new();
    for item in value.try_iter()? {
        let item = item?;
        let s = item
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err(format!("{what} must be a str or a list of str")))?;
        items.push(s.to_str()?.to_owned());
    }
    Ok(items)
}

/// A bad option: a `ValueError`, or its `LimitExceededError` subclass for a crossed cap.
fn value_error(error: Error) -> PyErr {
    match error {
        Error::LimitExceeded { .. } => Python::attach(|py| to_py_err(py, error)),
        _ => PyValueError::new_err(error.to_string()),
    }
}

fn parse_schemas(py: Python<'_>, value: Option<Bound<'_, PyAny>>) -> PyResult<ToolSchemas> {
    let Some(value) = value.filter(|value| !value.is_none()) else {
        return Ok(ToolSchemas::default());
    };
    let json = orjson_dumps(py)?.call1((value,)).map_err(|e| {
        if e.to_string().contains("Recursion limit") {
            return to_py_err(py, schema::too_deep()); // orjson stops at 255 levels
        }
        PyTypeError::new_err(format!(
            "tool_schemas must be JSON-serialisable (the request's `tools` list): {e}"
        ))
    })?;
    let bytes = json.cast::<PyBytes>()?;
    let text = std::str::from_utf8(bytes.as_bytes())
        .map_err(|e| PyValueError::new_err(format!("tool_schemas: {e}")))?;
    ToolSchemas::from_json(text).map_err(value_error)
}

/// The options every constructor takes.
fn shared_options(
    py: Python<'_>,
    stop: Option<Bound<'_, PyAny>>,
    include_stop: bool,
    tool_schemas: Option<Bound<'_, PyAny>>,
    max_buffer_size: usize,
) -> PyResult<TextParserConfig> {
    require_positive_size("max_buffer_size", max_buffer_size)?;
    Ok(TextParserConfig {
        stop: strings(stop, "stop")?,
        include_stop,
        tool_schemas: Arc::new(parse_schemas(py, tool_schemas)?),
        max_buffer: max_buffer_size,
        ..TextParserConfig::default()
    })
}

impl TextParser {
    fn with_config(config: TextParserConfig) -> PyResult<Self> {
        Ok(TextParser {
            inner: CoreTextParser::new(config).map_err(value_error)?,
            token_text: TokenText::new(),
            out: Vec::new(),
        })
    }
}

#[pymethods]
impl TextParser {
    #[new]
    #[pyo3(signature = (
        *,
        stop = None,
        include_stop = false,
        reasoning = None,
        tools = None,
        reasoning_start = None,
        reasoning_end = None,
        tool_schemas = None,
        max_buffer_size = DEFAULT_MAX_BUFFER,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        py: Python<'_>,
        stop: Option<Bound<'_, PyAny>>,
        include_stop: bool,
        reasoning: Option<&str>,
        tools: Option<String>,
        reasoning_start: Option<Bound<'_, PyAny>>,
        reasoning_end: Option<Bound<'_, PyAny>>,
        tool_schemas: Option<Bound<'_, PyAny>>,
        max_buffer_size: usize,
    ) -> PyResult<Self> {
        let mut config = shared_options(py, stop, include_stop, tool_schemas, max_buffer_size)?;
        let starts = strings(reasoning_start, "reasoning_start")?;
        let ends = strings(reasoning_end, "reasoning_end")?;
        let reasoning = match (reasoning, starts.is_empty() && ends.is_empty()) {
            (None, true) => None,
            (Some(name), true) => Some(ReasoningSpec::named(name).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "unknown reasoning format {name:?}; expected one of {} \
                     (or reasoning_start=/reasoning_end= for custom markers)",
                    REASONING_FORMATS.join(", ")
                ))
            })?),
            (None, false) => Some(ReasoningSpec::custom(starts, ends).map_err(value_error)?),
            (Some(_), false) => {
                return Err(PyValueError::new_err(
                    "give either reasoning= (a named format) or reasoning_start=/reasoning_end=, not both",
                ))
            }
        };
        config.reasoning = reasoning;
        config.tools = tools;
        TextParser::with_config(config)
    }

    /// A parser for the output format a Hugging Face response template declares (see
    /// `text::response_template`); `prefix` is the prompt, when known.
    #[classmethod]
    #[pyo3(signature = (
        template,
        *,
        prefix = None,
        stop = None,
        include_stop = false,
        tool_schemas = None,
        max_buffer_size = DEFAULT_MAX_BUFFER,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn from_response_template(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        template: Bound<'_, PyAny>,
        prefix: Option<&str>,
        stop: Option<Bound<'_, PyAny>>,
        include_stop: bool,
        tool_schemas: Option<Bound<'_, PyAny>>,
        max_buffer_size: usize,
    ) -> PyResult<Self> {
        let base = shared_options(py, stop, include_stop, tool_schemas, max_buffer_size)?;
        let config = super::response_template::config(py, &template, prefix, base)?;
        TextParser::with_config(config)
    }

    /// A parser for the formats the model `name` writes (`formats_for_model`); `options` are
    /// constructor arguments and override them (custom reasoning markers replace the named
    /// reasoning format).
    #[classmethod]
    #[pyo3(signature = (name, **options))]
    fn for_model<'py>(
        cls: &Bound<'py, PyType>,
        name: &str,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (tools, reasoning) = formats_for_model(name);
        let kwargs = PyDict::new(cls.py());
        kwargs.set_item("tools", tools)?;
        let custom = match options {
            Some(o) => o.contains("reasoning_start")? || o.contains("reasoning_end")?,
            None => false,
        };
        if !custom {
            kwargs.set_item("reasoning", reasoning)?;
        }
        if let Some(options) = options {
            kwargs.update(options.as_mapping())?;
        }
        cls.call((), Some(&kwargs))
    }

    /// The accepted `tools=` names.
    #[classattr]
    #[pyo3(name = "TOOL_FORMATS")]
    fn tool_formats(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        Ok(PyTuple::new(py, TOOL_FORMATS)?.unbind())
    }

    /// The accepted `reasoning=` names.
    #[classattr]
    #[pyo3(name = "REASONING_FORMATS")]
    fn reasoning_formats(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        Ok(PyTuple::new(py, REASONING_FORMATS)?.unbind())
    }

    fn decode<'py>(&mut self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyList>> {
        guarded_chunks(py, &mut self.out, |out| self.inner.decode(text, out))
    }

    /// gpt-oss token ids (o200k_harmony, special tokens included) instead of text.
    fn decode_tokens<'py>(
        &mut self,
        py: Python<'py>,
        ids: Vec<u32>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut text = String::new();
        self.token_text
            .decode(&ids, &mut text)
            .map_err(value_error)?;
        self.decode(py, &text)
    }

    #[pyo3(signature = (finish_reason = "stop"))]
    fn flush<'py>(&mut self, py: Python<'py>, finish_reason: &str) -> PyResult<Bound<'py, PyList>> {
        let reason = finish_reason_named(finish_reason)?;
        let mut rest = String::new();
        self.token_text.finish(&mut rest);
        guarded_chunks(py, &mut self.out, |out| {
            if !rest.is_empty() {
                self.inner.decode(&rest, out)?;
            }
            self.inner.flush(reason, out)
        })
    }

    /// True once a stop string matched; later text is ignored (stop generating).
    #[getter]
    fn stopped(&self) -> bool {
        self.inner.stopped()
    }

    /// The stop string that ended the output, or None.
    #[getter]
    fn stop_sequence(&self) -> Option<&str> {
        self.inner.stop_sequence()
    }

    /// Number of tool calls announced so far.
    #[getter]
    fn tool_call_count(&self) -> u32 {
        self.inner.tool_calls()
    }
}
