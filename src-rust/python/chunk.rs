//! `GenerationChunk` and `ToolCallDelta` for Python: frozen wrappers around the core structs.
//! Fields are converted on access, so producing a chunk costs one small allocation.

use crate::shared_text::SharedText;

use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use super::sse::{json_loads, orjson_loads};
use crate::chunk::{
    FinishReason, GenerationChunk as CoreChunk, ToolCallDelta as CoreToolCallDelta,
};

fn compare(equal: bool, op: CompareOp, py: Python<'_>) -> PyResult<Py<PyAny>> {
    match op {
        CompareOp::Eq => Ok(equal.into_pyobject(py)?.to_owned().into_any().unbind()),
        CompareOp::Ne => Ok((!equal).into_pyobject(py)?.to_owned().into_any().unbind()),
        _ => Ok(py.NotImplemented()),
    }
}

fn repr_opt<T: std::fmt::Debug>(value: &Option<T>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "None".into(),
    }
}

fn repr_str(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_string())
}

fn repr_opt_str(py: Python<'_>, s: &Option<String>) -> PyResult<String> {
    match s {
        Some(s) => repr_str(py, s),
        None => Ok("None".into()),
    }
}

#[pyclass(module = "fastsse", frozen)]
pub struct ToolCallDelta {
    pub inner: CoreToolCallDelta,
}

#[pymethods]
impl ToolCallDelta {
    #[new]
    #[pyo3(signature = (index, id = None, r#type = "function", function_name = None, arguments_delta = String::new()))]
    fn py_new(
        index: u32,
        id: Option<String>,
        r#type: &str,
        function_name: Option<String>,
        arguments_delta: String,
    ) -> PyResult<Self> {
        if r#type != "function" {
            return Err(PyValueError::new_err(format!(
                "ToolCallDelta.type must be 'function', got {type:?}"
            )));
        }
        Ok(ToolCallDelta {
            inner: CoreToolCallDelta {
                index,
                id,
                function_name,
                arguments_delta,
            },
        })
    }

    #[classattr]
    fn __match_args__(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        Ok(PyTuple::new(
            py,
            ["index", "id", "type", "function_name", "arguments_delta"],
        )?
        .unbind())
    }

    #[getter]
    fn index(&self) -> u32 {
        self.inner.index
    }
    #[getter]
    fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }
    #[getter]
    fn r#type(&self) -> &'static str {
        "function"
    }
    #[getter]
    fn function_name(&self) -> Option<&str> {
        self.inner.function_name.as_deref()
    }
    #[getter]
    fn arguments_delta(&self) -> &str {
        &self.inner.arguments_delta
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ToolCallDelta(index={}, id={}, type='function', function_name={}, arguments_delta={})",
            self.inner.index,
            repr_opt_str(py, &self.inner.id)?,
            repr_opt_str(py, &self.inner.function_name)?,
            repr_str(py, &self.inner.arguments_delta)?,
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        match other.cast::<ToolCallDelta>() {
            Ok(other) => compare(self.inner == other.get().inner, op, py),
            Err(_) => Ok(py.NotImplemented()),
        }
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        (
            self.inner.index,
            self.inner.id.as_deref(),
            self.inner.function_name.as_deref(),
            self.inner.arguments_delta.as_str(),
        )
            .into_pyobject(py)?
            .hash()
    }
}

/// One item of the unified stream (see docs/ARCHITECTURE.md). Frozen; build with keywords.
#[pyclass(module = "fastsse", frozen, freelist = 256)]
pub struct GenerationChunk {
    pub inner: CoreChunk,
    /// `logprobs` as a Python object: parsed from the core's JSON on first access, or given
    /// by the caller at construction.
    logprobs: PyOnceLock<Py<PyAny>>,
}

impl GenerationChunk {
    pub fn from_core(inner: CoreChunk) -> Self {
        GenerationChunk {
            inner,
            logprobs: PyOnceLock::new(),
        }
    }

    /// Logprobs given from Python at construction (the core holds no JSON for them then).
    pub(crate) fn logprobs_from_python<'py>(&self, py: Python<'py>) -> Option<&Bound<'py, PyAny>> {
        if self.inner.logprobs.is_some() {
            return None;
        }
        self.logprobs
            .get(py)
            .map(|value| value.bind(py))
            .filter(|value| !value.is_none())
    }

    fn logprobs_value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = self
            .logprobs
            .get_or_try_init(py, || -> PyResult<Py<PyAny>> {
                match &self.inner.logprobs {
                    None => Ok(py.None()),
                    Some(json) => {
                        let parsed = orjson_loads(py)?.call1((json.as_ref(),))?;
                        // A list from the wire becomes a tuple: the chunk is immutable.
                        match parsed.cast::<PyList>() {
                            Ok(list) => Ok(list.to_tuple().into_any().unbind()),
                            Err(_) => Ok(parsed.unbind()),
                        }
                    }
                }
            })?;
        Ok(value.bind(py).clone())
    }
}

/// A finish-reason name from Python, checked against the six the core knows.
pub(crate) fn parse_finish_reason(name: Option<&str>) -> PyResult<Option<FinishReason>> {
    name.map(|name| {
        FinishReason::parse(name).ok_or_else(|| {
            PyValueError::new_err(format!(
                "finish_reason must be one of stop, length, cancelled, tool_calls, content_filter, error; got {name:?}"
            ))
        })
    })
    .transpose()
}

/// Turn core chunks into a Python list in one go (one FFI return per network chunk).
pub fn chunks_to_list<'py>(
    py: Python<'py>,
    chunks: impl IntoIterator<Item = CoreChunk>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for chunk in chunks {
        list.append(Bound::new(py, GenerationChunk::from_core(chunk))?)?;
    }
    Ok(list)
}

#[pymethods]
impl GenerationChunk {
    #[new]
    #[pyo3(signature = (
        text_delta = String::new(),
        *,
        reasoning_delta = String::new(),
        reasoning_signature = None,
        refusal_delta = String::new(),
        done = false,
        is_first = false,
        finish_reason = None,
        prompt_tokens = None,
        completion_tokens = None,
        tool_call_delta = None,
        error_code = None,
        error_message = None,
        logprobs = None,
        choice_index = 0,
        stop_sequence = None,
        raw = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        py: Python<'_>,
        text_delta: String,
        reasoning_delta: String,
        reasoning_signature: Option<String>,
        refusal_delta: String,
        done: bool,
        is_first: bool,
        finish_reason: Option<&str>,
        prompt_tokens: Option<u64>,
        completion_tokens: Option<u64>,
        tool_call_delta: Option<Bound<'_, ToolCallDelta>>,
        error_code: Option<String>,
        error_message: Option<String>,
        logprobs: Option<Bound<'_, PyAny>>,
        choice_index: u32,
        stop_sequence: Option<String>,
        raw: Option<String>,
    ) -> PyResult<Self> {
        let finish_reason = parse_finish_reason(finish_reason)?;
        let chunk = GenerationChunk::from_core(CoreChunk {
            text_delta,
            reasoning_delta,
            reasoning_signature,
            refusal_delta,
            done,
            is_first,
            finish_reason,
            prompt_tokens,
            completion_tokens,
            tool_call_delta: tool_call_delta.map(|d| d.get().inner.clone()),
            error_code,
            error_message,
            logprobs: None,
            choice_index,
            stop_sequence,
            raw: raw.map(SharedText::from),
        });
        if let Some(value) = logprobs {
            let value = match value.cast::<PyList>() {
                Ok(list) => list.to_tuple().into_any(),
                Err(_) => value,
            };
            let _ = chunk.logprobs.set(py, value.unbind());
        }
        Ok(chunk)
    }

    #[classattr]
    fn __match_args__(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        Ok(PyTuple::new(
            py,
            [
                "text_delta",
                "reasoning_delta",
                "done",
                "finish_reason",
                "tool_call_delta",
            ],
        )?
        .unbind())
    }

    #[getter]
    fn text_delta(&self) -> &str {
        &self.inner.text_delta
    }
    #[getter]
    fn reasoning_delta(&self) -> &str {
        &self.inner.reasoning_delta
    }
    #[getter]
    fn reasoning_signature(&self) -> Option<&str> {
        self.inner.reasoning_signature.as_deref()
    }
    #[getter]
    fn refusal_delta(&self) -> &str {
        &self.inner.refusal_delta
    }
    #[getter]
    fn done(&self) -> bool {
        self.inner.done
    }
    #[getter]
    fn is_first(&self) -> bool {
        self.inner.is_first
    }
    #[getter]
    fn finish_reason(&self) -> Option<&'static str> {
        self.inner.finish_reason.map(FinishReason::as_str)
    }
    #[getter]
    fn prompt_tokens(&self) -> Option<u64> {
        self.inner.prompt_tokens
    }
    #[getter]
    fn completion_tokens(&self) -> Option<u64> {
        self.inner.completion_tokens
    }
    #[getter]
    fn tool_call_delta(&self) -> Option<ToolCallDelta> {
        self.inner
            .tool_call_delta
            .clone()
            .map(|inner| ToolCallDelta { inner })
    }
    #[getter]
    fn error_code(&self) -> Option<&str> {
        self.inner.error_code.as_deref()
    }
    #[getter]
    fn error_message(&self) -> Option<&str> {
        self.inner.error_message.as_deref()
    }
    #[getter]
    fn logprobs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.logprobs_value(py)
    }
    #[getter]
    fn choice_index(&self) -> u32 {
        self.inner.choice_index
    }
    #[getter]
    fn stop_sequence(&self) -> Option<&str> {
        self.inner.stop_sequence.as_deref()
    }
    /// The provider's own event (JSON text) this chunk came from, or None.
    #[getter]
    fn raw(&self) -> Option<&str> {
        self.inner.raw.as_deref()
    }

    /// A copy with the given fields changed (chunks are frozen); every other field, `raw` and
    /// `logprobs` included, is kept. An unknown field name raises `TypeError`.
    #[pyo3(signature = (**changes))]
    fn replace(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut inner = self.inner.clone();
        let mut logprobs = self.logprobs.get(py).map(|value| value.clone_ref(py));
        for (name, value) in changes.into_iter().flat_map(|changes| changes.iter()) {
            let name = name.extract::<String>()?;
            match name.as_str() {
                "text_delta" => inner.text_delta = value.extract()?,
                "reasoning_delta" => inner.reasoning_delta = value.extract()?,
                "reasoning_signature" => inner.reasoning_signature = value.extract()?,
                "refusal_delta" => inner.refusal_delta = value.extract()?,
                "done" => inner.done = value.extract()?,
                "is_first" => inner.is_first = value.extract()?,
                "finish_reason" => {
                    let name = value.extract::<Option<String>>()?;
                    inner.finish_reason = parse_finish_reason(name.as_deref())?
                }
                "prompt_tokens" => inner.prompt_tokens = value.extract()?,
                "completion_tokens" => inner.completion_tokens = value.extract()?,
                "tool_call_delta" => {
                    inner.tool_call_delta = value
                        .extract::<Option<Bound<'_, ToolCallDelta>>>()?
                        .map(|delta| delta.get().inner.clone())
                }
                "error_code" => inner.error_code = value.extract()?,
                "error_message" => inner.error_message = value.extract()?,
                "logprobs" => {
                    inner.logprobs = None;
                    let value = match value.cast::<PyList>() {
                        Ok(list) => list.to_tuple().into_any(),
                        Err(_) => value,
                    };
                    logprobs = Some(value.unbind());
                }
                "choice_index" => inner.choice_index = value.extract()?,
                "stop_sequence" => inner.stop_sequence = value.extract()?,
                "raw" => inner.raw = value.extract::<Option<String>>()?.map(SharedText::from),
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "GenerationChunk has no field {name:?}"
                    )))
                }
            }
        }
        let chunk = GenerationChunk::from_core(inner);
        if let Some(value) = logprobs {
            let _ = chunk.logprobs.set(py, value);
        }
        Ok(chunk)
    }

    #[pyo3(signature = (**changes))]
    fn __replace__(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        self.replace(py, changes)
    }

    /// The provider's own event parsed as JSON (None when there is none).
    fn raw_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner.raw {
            None => Ok(py.None().into_bound(py)),
            Some(raw) => json_loads(py, &PyString::new(py, raw)),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let c = &self.inner;
        let mut parts = vec![format!("text_delta={}", repr_str(py, &c.text_delta)?)];
        if !c.reasoning_delta.is_empty() {
            parts.push(format!(
                "reasoning_delta={}",
                repr_str(py, &c.reasoning_delta)?
            ));
        }
        if c.reasoning_signature.is_some() {
            parts.push(format!(
                "reasoning_signature={}",
                repr_opt_str(py, &c.reasoning_signature)?
            ));
        }
        if !c.refusal_delta.is_empty() {
            parts.push(format!("refusal_delta={}", repr_str(py, &c.refusal_delta)?));
        }
        if c.done {
            parts.push("done=True".into());
        }
        if c.is_first {
            parts.push("is_first=True".into());
        }
        if let Some(reason) = c.finish_reason {
            parts.push(format!("finish_reason='{}'", reason.as_str()));
        }
        if c.prompt_tokens.is_some() {
            parts.push(format!("prompt_tokens={}", repr_opt(&c.prompt_tokens)));
        }
        if c.completion_tokens.is_some() {
            parts.push(format!(
                "completion_tokens={}",
                repr_opt(&c.completion_tokens)
            ));
        }
        if let Some(delta) = &c.tool_call_delta {
            let delta = ToolCallDelta {
                inner: delta.clone(),
            };
            parts.push(format!("tool_call_delta={}", delta.__repr__(py)?));
        }
        if c.error_code.is_some() {
            parts.push(format!("error_code={}", repr_opt_str(py, &c.error_code)?));
        }
        if c.error_message.is_some() {
            parts.push(format!(
                "error_message={}",
                repr_opt_str(py, &c.error_message)?
            ));
        }
        if c.choice_index != 0 {
            parts.push(format!("choice_index={}", c.choice_index));
        }
        if c.stop_sequence.is_some() {
            parts.push(format!(
                "stop_sequence={}",
                repr_opt_str(py, &c.stop_sequence)?
            ));
        }
        Ok(format!("GenerationChunk({})", parts.join(", ")))
    }

    /// Equal when every field is equal; `raw` (where the chunk came from) is not compared.
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<GenerationChunk>() else {
            return Ok(py.NotImplemented());
        };
        let other = other.get();
        let (a, b) = (&self.inner, &other.inner);
        let same_fields = a.text_delta == b.text_delta
            && a.reasoning_delta == b.reasoning_delta
            && a.reasoning_signature == b.reasoning_signature
            && a.refusal_delta == b.refusal_delta
            && a.done == b.done
            && a.is_first == b.is_first
            && a.finish_reason == b.finish_reason
            && a.prompt_tokens == b.prompt_tokens
            && a.completion_tokens == b.completion_tokens
            && a.tool_call_delta == b.tool_call_delta
            && a.error_code == b.error_code
            && a.error_message == b.error_message
            && a.choice_index == b.choice_index
            && a.stop_sequence == b.stop_sequence;
        let equal = same_fields && self.logprobs_value(py)?.eq(other.logprobs_value(py)?)?;
        compare(equal, op, py)
    }
}
