//! `EventStreamDecoder` and `EventStreamMessage` for Python (AWS eventstream framing).
//!
//! Header values map to Python as: bool -> bool, byte/int16/int32/int64 -> int,
//! byte array -> bytes, string -> str, timestamp -> aware `datetime` (UTC), uuid -> `uuid.UUID`.

use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use super::bytes_input::with_bytes;
use super::errors::decode_into_list;
use super::json::orjson_loads;
use super::value_objects::richcmp;
use crate::eventstream::{
    EventStreamDecoder as CoreDecoder, EventStreamMessage as CoreMessage, HeaderValue,
    DEFAULT_MAX_MESSAGE_SIZE,
};

static EPOCH: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static TIMEDELTA: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UUID: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn cached<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    init: impl FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    cell.get_or_try_init(py, || init(py).map(Bound::unbind))
        .map(|obj| obj.bind(py).clone())
}

/// A timestamp header as an aware `datetime` (UTC); one outside `datetime`'s range (years
/// 1..=9999) stays the number of milliseconds since the epoch, an `int`, rather than failing
/// a valid frame.
fn timestamp<'py>(py: Python<'py>, millis: i64) -> PyResult<Bound<'py, PyAny>> {
    let epoch = cached(py, &EPOCH, |py| {
        let datetime = py.import("datetime")?;
        let utc = datetime.getattr("timezone")?.getattr("utc")?;
        datetime
            .getattr("datetime")?
            .call1((1970, 1, 1, 0, 0, 0, 0, utc))
    })?;
    let timedelta = cached(py, &TIMEDELTA, |py| {
        py.import("datetime")?.getattr("timedelta")
    })?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("milliseconds", millis)?;
    match timedelta
        .call((), Some(&kwargs))
        .and_then(|delta| epoch.add(delta))
    {
        Ok(datetime) => Ok(datetime),
        Err(_) => Ok(millis.into_pyobject(py)?.into_any()),
    }
}

fn header_value<'py>(py: Python<'py>, value: HeaderValue<'_>) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        HeaderValue::Bool(v) => v.into_pyobject(py)?.to_owned().into_any(),
        HeaderValue::Byte(v) => v.into_pyobject(py)?.into_any(),
        HeaderValue::Int16(v) => v.into_pyobject(py)?.into_any(),
        HeaderValue::Int32(v) => v.into_pyobject(py)?.into_any(),
        HeaderValue::Int64(v) => v.into_pyobject(py)?.into_any(),
        HeaderValue::ByteArray(v) => PyBytes::new(py, v).into_any(),
        HeaderValue::String(v) => PyString::new(py, v).into_any(),
        HeaderValue::Timestamp(v) => timestamp(py, v)?,
        HeaderValue::Uuid(v) => {
            let uuid = cached(py, &UUID, |py| py.import("uuid")?.getattr("UUID"))?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("bytes", PyBytes::new(py, &v))?;
            uuid.call((), Some(&kwargs))?
        }
    })
}

/// One eventstream message: its headers and its payload. Frozen value object.
#[pyclass(module = "fastsse", frozen)]
pub struct EventStreamMessage {
    headers: Py<PyDict>,
    payload: Py<PyBytes>,
}

/// Python strings for header names and `:`-header string values, which repeat on every
/// message of a stream; reusing them saves an allocation and a hash per header.
#[derive(Default)]
struct StringCache {
    entries: Vec<(Box<str>, Py<PyString>)>,
}

impl StringCache {
    /// Enough for the names and `:event-type` values of any real stream; later strings
    /// are simply not cached.
    const MAX_ENTRIES: usize = 64;

    fn get<'py>(&mut self, py: Python<'py>, text: &str) -> Bound<'py, PyString> {
        if let Some((_, cached)) = self.entries.iter().find(|(t, _)| &**t == text) {
            return cached.bind(py).clone();
        }
        let created = PyString::new(py, text);
        if self.entries.len() < Self::MAX_ENTRIES {
            self.entries.push((text.into(), created.clone().unbind()));
        }
        created
    }
}

impl EventStreamMessage {
    fn from_core(
        py: Python<'_>,
        message: &CoreMessage<'_>,
        strings: &mut StringCache,
    ) -> PyResult<Self> {
        let headers = PyDict::new(py);
        for header in message.headers() {
            let name = strings.get(py, header.name);
            match header.value {
                HeaderValue::String(text) if header.name.starts_with(':') => {
                    headers.set_item(name, strings.get(py, text))?
                }
                value => headers.set_item(name, header_value(py, value)?)?,
            }
        }
        Ok(EventStreamMessage {
            headers: headers.unbind(),
            payload: PyBytes::new(py, message.payload()).unbind(),
        })
    }

    fn header_str<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.headers.bind(py).get_item(name)? {
            Some(value) if value.is_instance_of::<PyString>() => Ok(Some(value)),
            _ => Ok(None),
        }
    }
}

#[pymethods]
impl EventStreamMessage {
    #[new]
    #[pyo3(signature = (headers = None, payload = None))]
    fn py_new(
        py: Python<'_>,
        headers: Option<&Bound<'_, PyDict>>,
        payload: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let headers = match headers {
            Some(headers) => headers.copy()?,
            None => PyDict::new(py),
        };
        let payload = match payload {
            Some(payload) => with_bytes(payload, |bytes| Ok(PyBytes::new(py, bytes)))?,
            None => PyBytes::new(py, b""),
        };
        Ok(EventStreamMessage {
            headers: headers.unbind(),
            payload: payload.unbind(),
        })
    }

    #[classattr]
    fn __match_args__(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        Ok(PyTuple::new(py, ["headers", "payload"])?.unbind())
    }

    /// The headers, name -> value (a new dict on each access: the message is immutable).
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.headers.bind(py).copy()
    }

    #[getter]
    fn payload(&self, py: Python<'_>) -> Py<PyBytes> {
        self.payload.clone_ref(py)
    }

    /// The `:event-type` header, e.g. "contentBlockDelta" (None when absent).
    #[getter]
    fn event_type<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.header_str(py, ":event-type")
    }

    /// The `:message-type` header: "event", "exception" or "error" (None when absent).
    #[getter]
    fn message_type<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.header_str(py, ":message-type")
    }

    /// Parse the payload as JSON (orjson).
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        orjson_loads(py)?.call1((self.payload.bind(py),))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "EventStreamMessage(headers={}, payload={})",
            self.headers.bind(py).repr()?,
            self.payload.bind(py).repr()?,
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        richcmp(self, other, op, |a, b| {
            Ok(a.payload.bind(py).as_any().eq(b.payload.bind(py))?
                && a.headers.bind(py).as_any().eq(b.headers.bind(py))?)
        })
    }
}

/// Incremental AWS eventstream decoder: `decode(bytes) -> list[EventStreamMessage]`.
#[pyclass(module = "fastsse")]
pub struct EventStreamDecoder {
    inner: CoreDecoder,
    strings: StringCache,
}

impl EventStreamDecoder {
    fn run<'py>(&mut self, py: Python<'py>, input: Option<&[u8]>) -> PyResult<Bound<'py, PyList>> {
        let EventStreamDecoder { inner, strings } = self;
        decode_into_list(py, |sink| {
            let mut on_message = |message: CoreMessage<'_>| {
                sink.push(EventStreamMessage::from_core(py, &message, strings))
            };
            match input {
                Some(bytes) => inner.decode_with(bytes, &mut on_message),
                None => inner.flush_with(&mut on_message),
            }
        })
    }
}

#[pymethods]
impl EventStreamDecoder {
    #[new]
    #[pyo3(signature = (*, max_message_size = DEFAULT_MAX_MESSAGE_SIZE))]
    fn py_new(max_message_size: usize) -> PyResult<Self> {
        if max_message_size < crate::eventstream::MIN_MESSAGE_LEN {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "max_message_size must be at least {} bytes (the smallest message)",
                crate::eventstream::MIN_MESSAGE_LEN
            )));
        }
        Ok(EventStreamDecoder {
            inner: CoreDecoder::new(max_message_size),
            strings: StringCache::default(),
        })
    }

    /// Feed one network chunk; returns the messages it completes.
    fn decode<'py>(&mut self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        with_bytes(data, |bytes| self.run(data.py(), Some(bytes)))
    }

    /// End of stream: raises `ProtocolError` if a message was left unfinished.
    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.run(py, None)
    }

    #[getter]
    fn max_message_size(&self) -> usize {
        self.inner.max_message_size()
    }
}
