//! Core `Error` -> the Python exception classes defined in `fastsse/errors.py`, and the guard
//! every call into the core goes through (`catch_panic`, `decode_into_list`).

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

use crate::error::Error;

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    let module =
        ERRORS_MODULE.get_or_try_init(py, || py.import("fastsse.errors").map(Bound::unbind))?;
    module.bind(py).getattr(name)
}

/// Build the Python exception for a core error. Extra context goes in keyword arguments so
/// the Python classes can expose it as attributes (`limit`, `offset`, `code`, `raw`, ...).
pub fn to_py_err(py: Python<'_>, error: Error) -> PyErr {
    match build(py, &error) {
        Ok(err) => err,
        Err(import_failure) => PyRuntimeError::new_err(format!(
            "{error} (and fastsse.errors failed: {import_failure})"
        )),
    }
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let message = error.to_string();
    let kwargs = PyDict::new(py);
    let name = match error {
        Error::EventTooLarge { limit, offset, .. } => {
            kwargs.set_item("limit", limit)?;
            kwargs.set_item("offset", offset)?;
            "EventTooLargeError"
        }
        Error::Checksum {
            expected,
            actual,
            offset,
            ..
        } => {
            kwargs.set_item("expected", expected)?;
            kwargs.set_item("actual", actual)?;
            kwargs.set_item("offset", offset)?;
            "ChecksumError"
        }
        Error::Protocol { offset, .. } => {
            kwargs.set_item("offset", offset)?;
            "ProtocolError"
        }
        Error::Usage { .. } => "UsageError",
        Error::LimitExceeded {
            limit_name, limit, ..
        } => {
            kwargs.set_item("limit_name", limit_name)?;
            kwargs.set_item("limit", limit)?;
            "LimitExceededError"
        }
        Error::Provider { code, message, raw } => {
            kwargs.set_item("code", code)?;
            kwargs.set_item("provider_message", message)?;
            kwargs.set_item("raw", raw)?;
            "ProviderError"
        }
    };
    let instance = class(py, name)?.call((message,), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}

/// An instance of the `fastsse.errors` class `name` with `message` (no extra attributes).
pub fn error_of_class(py: Python<'_>, name: &str, message: String) -> PyErr {
    match class(py, name).and_then(|c| c.call1((message.as_str(),))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(failure) => failure,
    }
}

/// A size cap given from Python must be positive (a zero cap would refuse every input):
/// `ValueError` naming the keyword otherwise.
pub fn require_positive_size(keyword: &str, value: usize) -> PyResult<()> {
    if value == 0 {
        return Err(PyValueError::new_err(format!(
            "{keyword} must be a positive number of bytes"
        )));
    }
    Ok(())
}

/// Shorthand for `map_err` at call sites that hold a `Python` token.
pub trait IntoPyResult<T> {
    fn py_result(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for crate::error::Result<T> {
    fn py_result(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py_err(py, e))
    }
}

/// Run one call into the core, catching a panic (a bug) so that it never escapes as pyo3's
/// `PanicException`, which derives from `BaseException` and slips past `except Exception`.
/// `Err` carries the panic message; turn it into an error with `internal_error`.
pub fn catch_panic<T>(call: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

/// `fastsse.InternalError` for a caught panic; `partial` is what the call produced before it.
pub fn internal_error(
    py: Python<'_>,
    message: String,
    partial: PyResult<Bound<'_, PyList>>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let kwargs = PyDict::new(py);
        kwargs.set_item("partial", partial.unwrap_or_else(|_| PyList::empty(py)))?;
        let text = format!("internal error in fastsse (a bug, please report it): {message}");
        let instance = class(py, "InternalError")?.call((text,), Some(&kwargs))?;
        Ok(PyErr::from_value(instance))
    };
    build().unwrap_or_else(|e| e)
}

/// Where a core decoder's callback puts the Python objects it makes (see `decode_into_list`).
pub struct ListSink<'py> {
    list: Bound<'py, PyList>,
    /// The first Python error (making or appending an object).
    error: Option<PyErr>,
}

impl<'py> ListSink<'py> {
    /// Append `item`; on a Python error, keep it and hand the core a placeholder error so
    /// that it stops.
    #[inline]
    pub fn push<T: IntoPyObject<'py>>(&mut self, item: PyResult<T>) -> crate::error::Result<()> {
        item.and_then(|item| self.list.append(item))
            .map_err(|error| {
                self.error = Some(error);
                Error::usage("python error")
            })
    }
}

/// One guarded decode call (`run`: the core's `decode_with` / `flush_with`, whose callback
/// pushes to the sink) -> the list of what it made. A panic becomes `InternalError` carrying
/// what was made; else the callback's Python error is raised, then the core's own error.
pub fn decode_into_list<'py>(
    py: Python<'py>,
    run: impl FnOnce(&mut ListSink<'py>) -> crate::error::Result<()>,
) -> PyResult<Bound<'py, PyList>> {
    let mut sink = ListSink {
        list: PyList::empty(py),
        error: None,
    };
    let outcome = catch_panic(|| run(&mut sink));
    let result = outcome.map_err(|m| internal_error(py, m, Ok(sink.list.clone())))?;
    if let Some(error) = sink.error {
        return Err(error);
    }
    result.py_result(py)?;
    Ok(sink.list)
}

/// Test hook: a panic inside the core, through the same guard as every decode call, so the
/// tests can check that it surfaces as `fastsse.InternalError` (no known input panics).
#[pyfunction]
#[pyo3(name = "_panic_for_tests")]
pub fn panic_for_tests(py: Python<'_>, message: &str) -> PyResult<()> {
    catch_panic(|| panic!("{message}")).map_err(|m| internal_error(py, m, Ok(PyList::empty(py))))
}
