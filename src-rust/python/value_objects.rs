//! What the frozen value classes (`ServerSentEvent`, `GenerationChunk`, `ToolCall`, ...) share:
//! `==` / `!=` answered from one equality, and the reprs of their string fields.

use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::pyclass::boolean_struct::True;
use pyo3::types::PyString;
use pyo3::PyClass;

/// `__richcmp__` from whether the two values are equal: `==` and `!=` answer, orderings are
/// `NotImplemented`.
pub fn compare(equal: bool, op: CompareOp, py: Python<'_>) -> PyResult<Py<PyAny>> {
    match op {
        CompareOp::Eq => Ok(equal.into_pyobject(py)?.to_owned().into_any().unbind()),
        CompareOp::Ne => Ok((!equal).into_pyobject(py)?.to_owned().into_any().unbind()),
        _ => Ok(py.NotImplemented()),
    }
}

/// `__richcmp__` of a frozen class: `==` / `!=` from `equal(self, other)` when `other` is of
/// the same class, `NotImplemented` otherwise.
pub fn richcmp<T: PyClass<Frozen = True> + Sync>(
    this: &T,
    other: &Bound<'_, PyAny>,
    op: CompareOp,
    equal: impl FnOnce(&T, &T) -> PyResult<bool>,
) -> PyResult<Py<PyAny>> {
    let py = other.py();
    match other.cast::<T>() {
        Ok(other) => compare(equal(this, other.get())?, op, py),
        Err(_) => Ok(py.NotImplemented()),
    }
}

/// Python's `repr()` of a string.
pub fn repr_str(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_string())
}

/// Python's `repr()` of an optional string (`None` when absent).
pub fn repr_opt_str(py: Python<'_>, s: &Option<String>) -> PyResult<String> {
    match s {
        Some(s) => repr_str(py, s),
        None => Ok("None".into()),
    }
}
