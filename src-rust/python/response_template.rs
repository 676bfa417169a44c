//! `TextParser.from_response_template`: the template's JSON text comes from
//! `fastsse._response_template` (dict, JSON text or a file), the core compiles it, and a
//! refusal becomes `fastsse.ResponseTemplateError` with the field and key it names.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::text::{compile_response_template, TemplateError, TextParserConfig};

/// The compiled template applied to `base` (the caller's stop strings and limits).
pub fn config(
    py: Python<'_>,
    template: &Bound<'_, PyAny>,
    prefix: Option<&str>,
    base: TextParserConfig,
) -> PyResult<TextParserConfig> {
    let json: String = py
        .import("fastsse._response_template")?
        .getattr("template_json")?
        .call1((template,))?
        .extract()?;
    let compiled = compile_response_template(&json, prefix).map_err(|e| template_error(py, e))?;
    compiled
        .apply(base)
        .map_err(|e| super::errors::to_py_err(py, e))
}

fn template_error(py: Python<'_>, error: TemplateError) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let kwargs = PyDict::new(py);
        kwargs.set_item("field", &error.field)?;
        kwargs.set_item("key", &error.key)?;
        let class = py
            .import("fastsse.errors")?
            .getattr("ResponseTemplateError")?;
        Ok(PyErr::from_value(
            class.call((error.to_string(),), Some(&kwargs))?,
        ))
    };
    build().unwrap_or_else(|failure| failure)
}
