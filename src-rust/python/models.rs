//! `formats_for_model(name) -> (tools, reasoning)` for Python.

use pyo3::prelude::*;

/// The `tools=` and `reasoning=` names a model writes, from its name; `(None, None)` when the
/// name is unknown.
#[pyfunction]
pub fn formats_for_model(name: &str) -> (Option<&'static str>, Option<&'static str>) {
    crate::text::formats_for_model(name)
}
