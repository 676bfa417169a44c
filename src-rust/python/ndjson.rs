//! `NDJSONDecoder` for Python: `decode(bytes) -> list[str]` (one str per non-blank line).

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::bytes_input::with_bytes;
use super::errors::{decode_into_list, require_positive_size};
use super::strings::new_str;
use crate::ndjson::{NdjsonDecoder, DEFAULT_MAX_LINE_SIZE};

#[pyclass(module = "fastsse")]
pub struct NDJSONDecoder {
    inner: NdjsonDecoder,
}

impl NDJSONDecoder {
    /// The lines `input` completes (None: the end of the stream), as `str`s.
    fn run<'py>(&mut self, py: Python<'py>, input: Option<&[u8]>) -> PyResult<Bound<'py, PyList>> {
        decode_into_list(py, |sink| {
            let mut on_line = |line: &str, _: u64| sink.push(Ok(new_str(py, line)));
            match input {
                Some(bytes) => self.inner.decode_with(bytes, &mut on_line),
                None => self.inner.flush_with(&mut on_line),
            }
        })
    }
}

#[pymethods]
impl NDJSONDecoder {
    #[new]
    #[pyo3(signature = (*, max_line_size = DEFAULT_MAX_LINE_SIZE))]
    fn py_new(max_line_size: usize) -> PyResult<Self> {
        require_positive_size("max_line_size", max_line_size)?;
        Ok(NDJSONDecoder {
            inner: NdjsonDecoder::new(max_line_size),
        })
    }

    fn decode<'py>(&mut self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        with_bytes(data, |bytes| self.run(data.py(), Some(bytes)))
    }

    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.run(py, None)
    }

    #[getter]
    fn max_line_size(&self) -> usize {
        self.inner.max_line_size()
    }
}
