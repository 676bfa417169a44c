//! `NDJSONDecoder` for Python: `decode(bytes) -> list[str]` (one str per non-blank line).

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::bytes_input::with_bytes;
use super::errors::{catch_panic, internal_error, IntoPyResult};
use super::strings::new_str;
use crate::ndjson::{NdjsonDecoder, DEFAULT_MAX_LINE_SIZE};

#[pyclass(module = "fastsse")]
pub struct NDJSONDecoder {
    inner: NdjsonDecoder,
}

#[pymethods]
impl NDJSONDecoder {
    #[new]
    #[pyo3(signature = (*, max_line_size = DEFAULT_MAX_LINE_SIZE))]
    fn py_new(max_line_size: usize) -> PyResult<Self> {
        if max_line_size == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "max_line_size must be a positive number of bytes",
            ));
        }
        Ok(NDJSONDecoder {
            inner: NdjsonDecoder::new(max_line_size),
        })
    }

    fn decode<'py>(&mut self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let py = data.py();
        let list = PyList::empty(py);
        with_bytes(data, |bytes| {
            let mut appended = Ok(());
            let result = catch_panic(|| {
                self.inner.decode_with(bytes, |line, _| {
                    if appended.is_ok() {
                        appended = list.append(new_str(py, line));
                    }
                    Ok(())
                })
            });
            let result = result.map_err(|m| internal_error(py, m, Ok(list.clone())))?;
            appended?;
            result.py_result(py)
        })?;
        Ok(list)
    }

    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        let mut appended = Ok(());
        let result = catch_panic(|| {
            self.inner.flush_with(|line, _| {
                if appended.is_ok() {
                    appended = list.append(new_str(py, line));
                }
                Ok(())
            })
        });
        let result = result.map_err(|m| internal_error(py, m, Ok(list.clone())))?;
        appended?;
        result.py_result(py)?;
        Ok(list)
    }

    #[getter]
    fn max_line_size(&self) -> usize {
        self.inner.max_line_size()
    }
}
