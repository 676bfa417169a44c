//! JSON through Python: orjson's `loads` / `dumps`, and `json_loads` (what `json.loads` gives,
//! at orjson's speed where the two agree). Each function is imported once.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

static ORJSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

pub fn orjson_loads(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    ORJSON_LOADS.import(py, "orjson", "loads")
}

static ORJSON_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

pub fn orjson_dumps(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    ORJSON_DUMPS.import(py, "orjson", "dumps")
}

static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An integer literal this long may not fit 64 bits, where orjson would give a float.
const BIG_INTEGER_DIGITS: usize = 19;

fn has_long_digit_run(text: &str) -> bool {
    let mut run = 0;
    for byte in text.bytes() {
        run = if byte.is_ascii_digit() { run + 1 } else { 0 };
        if run >= BIG_INTEGER_DIGITS {
            return true;
        }
    }
    false
}

/// What `json.loads(text)` gives, fast: orjson, except where orjson would differ (a possibly
/// big integer, which it turns into a float; NaN / Infinity, which it rejects): the stdlib.
pub fn json_loads<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyString>,
) -> PyResult<Bound<'py, PyAny>> {
    if !has_long_digit_run(text.to_str()?) {
        if let Ok(value) = orjson_loads(py)?.call1((text,)) {
            return Ok(value);
        }
    }
    JSON_LOADS.import(py, "json", "loads")?.call1((text,))
}
