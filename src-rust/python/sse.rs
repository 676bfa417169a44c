//! `ServerSentEvent` and `SSEDecoder` for Python.

use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use super::bytes_input::with_bytes;
use super::errors::{decode_into_list, require_positive_size, IntoPyResult};
use super::iterate::for_each_item;
use super::json::{json_loads, orjson_dumps};
use super::strings::new_str;
use super::value_objects::richcmp;
use crate::error::Error;
use crate::sse::{write_event, OutgoingEvent, SseConfig, SseDecoder, DEFAULT_MAX_EVENT_SIZE};

/// One dispatched event. Frozen value object; its fields are plain `Py` fields, which PyO3
/// exposes as struct members (read by the interpreter directly, no getter call).
#[pyclass(module = "fastsse", frozen, freelist = 256)]
pub struct ServerSentEvent {
    #[pyo3(get)]
    event: Py<PyString>,
    #[pyo3(get)]
    data: Py<PyString>,
    #[pyo3(get)]
    id: Py<PyString>,
    /// `int | None`.
    #[pyo3(get)]
    retry: Py<PyAny>,
}

impl ServerSentEvent {
    fn retry_ms(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        self.retry.bind(py).extract()
    }
}

/// `None`, or the `int` of a `retry` field.
fn retry_object(py: Python<'_>, retry: Option<u64>) -> Py<PyAny> {
    match retry {
        Some(ms) => {
            let Ok(int) = ms.into_pyobject(py);
            int.into_any().unbind()
        }
        None => py.None(),
    }
}

#[pymethods]
impl ServerSentEvent {
    #[new]
    #[pyo3(signature = (event = None, data = None, id = None, retry = None))]
    fn py_new(
        py: Python<'_>,
        event: Option<Bound<'_, PyString>>,
        data: Option<Bound<'_, PyString>>,
        id: Option<Bound<'_, PyString>>,
        retry: Option<u64>,
    ) -> Self {
        let or_default = |value: Option<Bound<'_, PyString>>, default: &str| match value {
            Some(value) => value.unbind(),
            None => PyString::intern(py, default).unbind(),
        };
        ServerSentEvent {
            event: or_default(event, "message"),
            data: or_default(data, ""),
            id: or_default(id, ""),
            retry: retry_object(py, retry),
        }
    }

    #[classattr]
    fn __match_args__(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        Ok(PyTuple::new(py, ["event", "data", "id", "retry"])?.unbind())
    }

    /// Parse `data` as JSON: what `json.loads` gives (big integers stay ints, NaN and
    /// Infinity are read), at orjson's speed for everything else.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, self.data.bind(py))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ServerSentEvent(event={}, data={}, id={}, retry={})",
            self.event.bind(py).repr()?,
            self.data.bind(py).repr()?,
            self.id.bind(py).repr()?,
            self.retry.bind(py).repr()?,
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        richcmp(self, other, op, |a, b| {
            Ok(a.retry_ms(py)? == b.retry_ms(py)?
                && a.event.bind(py).as_any().eq(b.event.bind(py))?
                && a.data.bind(py).as_any().eq(b.data.bind(py))?
                && a.id.bind(py).as_any().eq(b.id.bind(py))?)
        })
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        PyTuple::new(
            py,
            [
                self.event.bind(py).as_any(),
                self.data.bind(py).as_any(),
                self.id.bind(py).as_any(),
            ],
        )?
        .hash()
    }
}

/// Incremental WHATWG event-stream decoder: `decode(bytes) -> list[ServerSentEvent]`.
#[pyclass(module = "fastsse")]
pub struct SSEDecoder {
    inner: SseDecoder,
    /// Python strings reused across events: the default type and the current last-event-ID.
    message_type: Py<PyString>,
    last_type: Option<(String, Py<PyString>)>,
    last_id: (String, Py<PyString>),
}

impl SSEDecoder {
    fn run<'py>(&mut self, py: Python<'py>, input: Option<&[u8]>) -> PyResult<Bound<'py, PyList>> {
        let SSEDecoder {
            inner,
            message_type,
            last_type,
            last_id,
        } = self;
        decode_into_list(py, |sink| {
            let mut on_event = |view: crate::sse::SseEventView<'_>| {
                let event = if view.event == "message" {
                    message_type.clone_ref(py)
                } else {
                    match last_type {
                        Some((name, obj)) if name == view.event => obj.clone_ref(py),
                        _ => {
                            let obj = PyString::new(py, view.event).unbind();
                            *last_type = Some((view.event.to_owned(), obj.clone_ref(py)));
                            obj
                        }
                    }
                };
                // Lengths first: two empty strings compared with `!=` reach memcmp with
                // dangling pointers, which takes a slow path on this machine (see
                // `dispatch_at` in the core).
                if last_id.0.len() != view.id.len() || (!view.id.is_empty() && last_id.0 != view.id)
                {
                    *last_id = (view.id.to_owned(), PyString::new(py, view.id).unbind());
                }
                let event = ServerSentEvent {
                    event,
                    data: new_str(py, view.data).unbind(),
                    id: last_id.1.clone_ref(py),
                    retry: retry_object(py, view.retry),
                };
                sink.push(Bound::new(py, event))
            };
            match input {
                Some(bytes) => inner.decode_with(bytes, &mut on_event),
                None => inner.flush_with(&mut on_event),
            }
        })
    }
}

/// The core SSE decoder for the keywords `max_event_size` and `dispatch_unterminated` given
/// from Python (`SSEDecoder`, `AnthropicEventDecoder`).
pub fn sse_decoder(max_event_size: usize, dispatch_unterminated: bool) -> PyResult<SseDecoder> {
    require_positive_size("max_event_size", max_event_size)?;
    Ok(SseDecoder::new(SseConfig {
        max_event_size,
        dispatch_unterminated,
    }))
}

#[pymethods]
impl SSEDecoder {
    #[new]
    #[pyo3(signature = (*, max_event_size = DEFAULT_MAX_EVENT_SIZE, dispatch_unterminated = false))]
    fn py_new(
        py: Python<'_>,
        max_event_size: usize,
        dispatch_unterminated: bool,
    ) -> PyResult<Self> {
        Ok(SSEDecoder {
            inner: sse_decoder(max_event_size, dispatch_unterminated)?,
            message_type: PyString::intern(py, "message").unbind(),
            last_type: None,
            last_id: (String::new(), PyString::intern(py, "").unbind()),
        })
    }

    /// Feed one network chunk; returns the events it completes.
    fn decode<'py>(&mut self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        with_bytes(data, |bytes| self.run(data.py(), Some(bytes)))
    }

    /// End of stream. An unterminated event is discarded unless `dispatch_unterminated` was set.
    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.run(py, None)
    }

    #[getter]
    fn last_event_id(&self) -> &str {
        self.inner.last_event_id()
    }

    #[getter]
    fn retry(&self) -> Option<u64> {
        self.inner.retry()
    }

    #[getter]
    fn max_event_size(&self) -> usize {
        self.inner.config().max_event_size
    }
}

/// One item of `encode_sse`'s input written into `out`: a `ServerSentEvent`, a `str` (the
/// data of a plain event) or anything else, serialized as JSON data with orjson.
fn write_item(item: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<Result<(), Error>> {
    let py = item.py();
    if let Ok(event) = item.cast::<ServerSentEvent>() {
        let event = event.get();
        return Ok(write_event(
            out,
            &OutgoingEvent {
                event: event.event.bind(py).to_str()?,
                data: event.data.bind(py).to_str()?,
                id: event.id.bind(py).to_str()?,
                retry: event.retry_ms(py)?,
            },
        ));
    }
    if let Ok(text) = item.cast::<PyString>() {
        let data = text.to_str()?;
        return Ok(write_event(
            out,
            &OutgoingEvent {
                data,
                ..Default::default()
            },
        ));
    }
    let json = orjson_dumps(py)?.call1((item,))?;
    // orjson writes UTF-8 only.
    let data = std::str::from_utf8(json.cast::<PyBytes>()?.as_bytes())
        .map_err(|error| pyo3::exceptions::PyValueError::new_err(error.to_string()))?;
    Ok(write_event(
        out,
        &OutgoingEvent {
            data,
            ..Default::default()
        },
    ))
}

/// The SSE bytes of a batch of events, in one call: each item a `ServerSentEvent`, a `str`
/// (data) or a JSON-serializable value (data, via orjson). Multi-line data becomes several
/// `data:` lines; a CR or LF inside an event type or id raises `UsageError` (no injection).
#[pyfunction]
pub fn encode_sse<'py>(events: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let py = events.py();
    let mut out = Vec::with_capacity(256);
    for_each_item(events, |position, item| {
        write_item(&item, &mut out)?
            .map_err(|error| Error::usage(format!("events[{position}]: {error}")))
            .py_result(py)
    })?;
    Ok(PyBytes::new(py, &out))
}
