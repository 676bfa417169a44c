//! `ChunkDecoder` for Python: provider bytes -> `list[GenerationChunk]`, one call per network
//! chunk; plus the provider table (`PROVIDERS`, `provider_capabilities`).

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::bytes_input::with_bytes;
use super::chunk::guarded_chunks;
use super::errors::{error_of_class, require_positive_size, IntoPyResult};
use crate::chunk::GenerationChunk as CoreChunk;
use crate::providers::registry::{self, Framing};
use crate::providers::{ChunkDecoder as CoreDecoder, ChunkDecoderConfig};
use crate::sse::DEFAULT_MAX_EVENT_SIZE;

/// Incremental decoder of one provider's response body into unified chunks.
#[pyclass(module = "fastsse")]
pub struct ChunkDecoder {
    /// A `Mutex` only to make the class `Sync` (reducers are `Send`); every method has
    /// `&mut self`, so it is reached through `get_mut` and never locked.
    inner: Mutex<CoreDecoder>,
    provider: &'static str,
    max_event_size: usize,
    /// Reused between calls so a decode allocates no vector of its own.
    scratch: Vec<CoreChunk>,
}

#[pymethods]
impl ChunkDecoder {
    #[new]
    #[pyo3(signature = (provider, *, content_type = None, max_event_size = DEFAULT_MAX_EVENT_SIZE))]
    fn py_new(
        py: Python<'_>,
        provider: &str,
        content_type: Option<String>,
        max_event_size: usize,
    ) -> PyResult<Self> {
        require_positive_size("max_event_size", max_event_size)?;
        let config = ChunkDecoderConfig {
            max_event_size,
            content_type,
        };
        if registry::lookup(provider).is_none() {
            return Err(unknown_provider(py, provider));
        }
        let inner = CoreDecoder::new(provider, config).py_result(py)?;
        Ok(ChunkDecoder {
            provider: inner.provider().name,
            inner: Mutex::new(inner),
            max_event_size,
            scratch: Vec::new(),
        })
    }

    fn decode<'py>(&mut self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let ChunkDecoder { inner, scratch, .. } = self;
        let inner = decoder(inner);
        with_bytes(data, |bytes| {
            guarded_chunks(data.py(), scratch, |out| inner.decode_into(bytes, out))
        })
    }

    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let ChunkDecoder { inner, scratch, .. } = self;
        let inner = decoder(inner);
        guarded_chunks(py, scratch, |out| inner.flush_into(out))
    }

    /// The provider name this decoder reads.
    #[getter]
    fn provider(&self) -> &'static str {
        self.provider
    }

    #[getter]
    fn max_event_size(&self) -> usize {
        self.max_event_size
    }

    /// True once the body is known to be a whole JSON response (the non-streaming fallback).
    #[getter]
    fn json_body(&mut self) -> bool {
        decoder(&mut self.inner).is_json_body()
    }

    fn __repr__(&self) -> String {
        format!("ChunkDecoder('{}')", self.provider)
    }
}

fn decoder(inner: &mut Mutex<CoreDecoder>) -> &mut CoreDecoder {
    // Never locked, so never poisoned; recover the value regardless.
    inner
        .get_mut()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn framing_name(framing: Framing) -> &'static str {
    match framing {
        Framing::Sse => "sse",
        Framing::Ndjson => "ndjson",
        Framing::EventStream => "eventstream",
    }
}

/// `fastsse.UnknownNameError` (a `UsageError` and a `ValueError`), the same from every entry point.
fn unknown_provider(py: Python<'_>, name: &str) -> PyErr {
    let known: Vec<&str> = registry::PROVIDERS.iter().map(|p| p.name).collect();
    let message = format!(
        "unknown provider {name:?}; known providers: {}",
        known.join(", ")
    );
    error_of_class(py, "UnknownNameError", message)
}

/// What a provider's streams carry: `{"name", "framing", "streaming", "tools", "reasoning", "usage"}`.
#[pyfunction]
pub fn provider_capabilities<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyDict>> {
    let spec = registry::lookup(name).ok_or_else(|| unknown_provider(py, name))?;
    let info = PyDict::new(py);
    info.set_item("name", spec.name)?;
    info.set_item("framing", framing_name(spec.framing))?;
    info.set_item("streaming", spec.capabilities.streaming)?;
    info.set_item("tools", spec.capabilities.tools)?;
    info.set_item("reasoning", spec.capabilities.reasoning)?;
    info.set_item("usage", spec.capabilities.usage)?;
    Ok(info)
}

/// Add the classes, functions and the `PROVIDERS` name tuple to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ChunkDecoder>()?;
    m.add_function(wrap_pyfunction!(provider_capabilities, m)?)?;
    let names = PyTuple::new(m.py(), registry::PROVIDERS.iter().map(|p| p.name))?;
    m.add("PROVIDERS", names)?;
    Ok(())
}
