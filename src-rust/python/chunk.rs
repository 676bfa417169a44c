//! `GenerationChunk` and `ToolCallDelta` for Python: frozen wrappers around the core structs.
//! Fields are converted on access, so producing a chunk costs one small allocation.

use std::sync::OnceLock;

use crate::shared_text::SharedText;

use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use super::errors::{catch_panic, internal_error, IntoPyResult};
use super::json::{json_loads, orjson_loads};
use super::value_objects::{repr_opt_str, repr_str, richcmp};
use crate::chunk::{
    FinishReason, GenerationChunk as CoreChunk, Rare, RareFields,
    ToolCallDelta as CoreToolCallDelta,
};

fn repr_opt<T: std::fmt::Debug>(value: &Option<T>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "None".into(),
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
        richcmp(self, other, op, |a, b| Ok(a.inner == b.inner))
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
///
/// Chunks made by the core hold no Python object except what they parse from their own JSON
/// (`logprobs`, `citations`), which cannot refer back to the chunk, so they are untracked by
/// the cyclic garbage collector: keeping a million of them costs a collection nothing.
#[pyclass(module = "fastsse", frozen, freelist = 256)]
pub struct GenerationChunk {
    pub inner: CoreChunk,
    /// `(logprobs, citations)` as Python objects: parsed from the core's JSON on first access,
    /// or given by the caller at construction (then the core holds no JSON for either).
    objects: OnceLock<Py<PyTuple>>,
}

/// A list given for a sequence field becomes a tuple: the chunk is immutable.
fn frozen_sequence(value: Bound<'_, PyAny>) -> Bound<'_, PyAny> {
    match value.cast::<PyList>() {
        Ok(list) => list.to_tuple().into_any(),
        Err(_) => value,
    }
}

fn parse_json_field<'py>(py: Python<'py>, json: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
    match json {
        None => Ok(py.None().into_bound(py)),
        Some(json) => Ok(frozen_sequence(orjson_loads(py)?.call1((json,))?)),
    }
}

impl GenerationChunk {
    pub fn from_core(inner: CoreChunk) -> Self {
        GenerationChunk {
            inner,
            objects: OnceLock::new(),
        }
    }

    /// A chunk whose `logprobs` and `citations` are the given Python objects.
    fn with_objects(
        py: Python<'_>,
        mut inner: CoreChunk,
        logprobs: Bound<'_, PyAny>,
        citations: Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        if inner.rare.logprobs.is_some() || inner.rare.citations.is_some() {
            inner.rare.logprobs = None;
            inner.rare.citations = None;
        }
        let chunk = GenerationChunk::from_core(inner);
        if !logprobs.is_none() || !citations.is_none() {
            let objects =
                PyTuple::new(py, [frozen_sequence(logprobs), frozen_sequence(citations)])?;
            let _ = chunk.objects.set(objects.unbind());
        }
        Ok(chunk)
    }

    /// Whether the chunk holds objects that came from Python (which may refer to anything,
    /// the chunk included), rather than ones parsed from its own JSON.
    fn holds_python_objects(&self) -> bool {
        let rare = &self.inner.rare;
        self.objects.get().is_some() && rare.logprobs.is_none() && rare.citations.is_none()
    }

    /// The chunk as a Python object, left to the cyclic GC only when it can be in a cycle.
    pub fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, GenerationChunk>> {
        let object = Bound::new(py, self)?;
        set_gc_tracking(&object);
        Ok(object)
    }

    /// Logprobs given from Python at construction (the core holds no JSON for them then).
    pub(crate) fn logprobs_from_python<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        if !self.holds_python_objects() {
            return None;
        }
        let objects = self.objects.get()?.bind(py);
        objects.get_item(0).ok().filter(|value| !value.is_none())
    }

    /// `(logprobs, citations)` as Python objects, parsing the core's JSON on first use.
    fn objects<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        if let Some(objects) = self.objects.get() {
            return Ok(Some(objects.bind(py).clone()));
        }
        let rare = &self.inner.rare;
        if rare.logprobs.is_none() && rare.citations.is_none() {
            return Ok(None);
        }
        let parsed = PyTuple::new(
            py,
            [
                parse_json_field(py, rare.logprobs.as_deref())?,
                parse_json_field(py, rare.citations.as_deref())?,
            ],
        )?;
        // Another thread may have parsed first: every reader then sees the first value.
        let _ = self.objects.set(parsed.unbind());
        Ok(self.objects.get().map(|objects| objects.bind(py).clone()))
    }

    fn object<'py>(&self, py: Python<'py>, position: usize) -> PyResult<Bound<'py, PyAny>> {
        match self.objects(py)? {
            Some(objects) => objects.get_item(position),
            None => Ok(py.None().into_bound(py)),
        }
    }
}

/// Track `object` by the cyclic GC exactly when it holds objects that came from Python.
fn set_gc_tracking(object: &Bound<'_, GenerationChunk>) {
    let in_cycles = object.get().holds_python_objects();
    // SAFETY: `object` is a live GC object and we hold the GIL. Untracking is what CPython
    // does for tuples of atomic items; `tp_dealloc` untracks again, which is allowed. An
    // object reused from the freelist comes back untracked, so track the ones that need it.
    unsafe {
        let tracked = pyo3::ffi::PyObject_GC_IsTracked(object.as_ptr()) != 0;
        if in_cycles && !tracked {
            pyo3::ffi::PyObject_GC_Track(object.as_ptr().cast());
        } else if !in_cycles && tracked {
            pyo3::ffi::PyObject_GC_UnTrack(object.as_ptr().cast());
        }
    }
}

/// A finish-reason name from Python, checked against the six the core knows.
pub(crate) fn finish_reason_named(name: &str) -> PyResult<FinishReason> {
    FinishReason::parse(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "finish_reason must be one of stop, length, cancelled, tool_calls, content_filter, error; got {name:?}"
        ))
    })
}

/// An optional finish-reason name from Python (see `finish_reason_named`).
pub(crate) fn parse_finish_reason(name: Option<&str>) -> PyResult<Option<FinishReason>> {
    name.map(finish_reason_named).transpose()
}

/// Turn core chunks into a Python list in one go (one FFI return per network chunk).
pub fn chunks_to_list<'py>(
    py: Python<'py>,
    chunks: impl IntoIterator<Item = CoreChunk>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for chunk in chunks {
        list.append(GenerationChunk::from_core(chunk).into_py(py)?)?;
    }
    Ok(list)
}

/// One guarded call into the core that writes chunks into `out` (a buffer reused between
/// calls): the chunks as a list, or the core's error; a panic becomes `InternalError` carrying
/// the chunks made before it.
pub fn guarded_chunks<'py>(
    py: Python<'py>,
    out: &mut Vec<CoreChunk>,
    call: impl FnOnce(&mut Vec<CoreChunk>) -> crate::error::Result<()>,
) -> PyResult<Bound<'py, PyList>> {
    out.clear();
    let result = catch_panic(|| call(out));
    let result = result.map_err(|m| internal_error(py, m, chunks_to_list(py, out.drain(..))))?;
    result.py_result(py)?;
    chunks_to_list(py, out.drain(..))
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
        redacted_thinking = None,
        citations = None,
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
        redacted_thinking: Option<String>,
        citations: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let rare = RareFields {
            reasoning_signature,
            redacted_thinking,
            refusal_delta,
            prompt_tokens,
            completion_tokens,
            error_code,
            error_message,
            logprobs: None,
            citations: None,
            stop_sequence,
        };
        let inner = CoreChunk {
            text_delta,
            reasoning_delta,
            tool_call_delta: tool_call_delta.map(|d| Box::new(d.get().inner.clone())),
            raw: raw.map(SharedText::from),
            rare: if rare == RareFields::NONE {
                Rare::default()
            } else {
                rare.into()
            },
            choice_index,
            done,
            is_first,
            finish_reason: parse_finish_reason(finish_reason)?,
        };
        let none = || py.None().into_bound(py);
        GenerationChunk::with_objects(
            py,
            inner,
            logprobs.unwrap_or_else(none),
            citations.unwrap_or_else(none),
        )
    }

    /// Runs after `__new__` (which has no object to track): a chunk given Python objects is
    /// tracked by the cyclic GC, any other is not.
    #[pyo3(signature = (*_args, **_kwargs))]
    fn __init__(
        slf: &Bound<'_, Self>,
        _args: &Bound<'_, PyTuple>,
        _kwargs: Option<&Bound<'_, PyDict>>,
    ) {
        set_gc_tracking(slf);
    }

    /// Only the Python objects a caller gave can lead back to the chunk.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(objects) = self.objects.get() {
            visit.call(objects)?;
        }
        Ok(())
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
        self.inner.rare.reasoning_signature.as_deref()
    }
    /// An Anthropic `redacted_thinking` block's opaque data, to send back unchanged.
    #[getter]
    fn redacted_thinking(&self) -> Option<&str> {
        self.inner.rare.redacted_thinking.as_deref()
    }
    #[getter]
    fn refusal_delta(&self) -> &str {
        &self.inner.rare.refusal_delta
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
        self.inner.rare.prompt_tokens
    }
    #[getter]
    fn completion_tokens(&self) -> Option<u64> {
        self.inner.rare.completion_tokens
    }
    #[getter]
    fn tool_call_delta(&self) -> Option<ToolCallDelta> {
        self.inner
            .tool_call_delta
            .as_deref()
            .map(|inner| ToolCallDelta {
                inner: inner.clone(),
            })
    }
    #[getter]
    fn error_code(&self) -> Option<&str> {
        self.inner.rare.error_code.as_deref()
    }
    #[getter]
    fn error_message(&self) -> Option<&str> {
        self.inner.rare.error_message.as_deref()
    }
    #[getter]
    fn logprobs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.object(py, 0)
    }
    /// The citations of the text this chunk is in (Anthropic `citations_delta`), a tuple.
    #[getter]
    fn citations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.object(py, 1)
    }
    #[getter]
    fn choice_index(&self) -> u32 {
        self.inner.choice_index
    }
    #[getter]
    fn stop_sequence(&self) -> Option<&str> {
        self.inner.rare.stop_sequence.as_deref()
    }
    /// The provider's own event (JSON text) this chunk came from, or None.
    #[getter]
    fn raw(&self) -> Option<&str> {
        self.inner.raw.as_deref()
    }

    /// A copy with the given fields changed (chunks are frozen); every other field, `raw`,
    /// `logprobs` and `citations` included, is kept. An unknown field name raises `TypeError`.
    #[pyo3(signature = (**changes))]
    fn replace<'py>(
        &self,
        py: Python<'py>,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, GenerationChunk>> {
        let mut inner = self.inner.clone();
        let (mut logprobs, mut citations) = (None, None);
        for (name, value) in changes.into_iter().flat_map(|changes| changes.iter()) {
            let name = name.extract::<String>()?;
            match name.as_str() {
                "text_delta" => inner.text_delta = value.extract()?,
                "reasoning_delta" => inner.reasoning_delta = value.extract()?,
                "reasoning_signature" => inner.rare.reasoning_signature = value.extract()?,
                "redacted_thinking" => inner.rare.redacted_thinking = value.extract()?,
                "refusal_delta" => inner.rare.refusal_delta = value.extract()?,
                "done" => inner.done = value.extract()?,
                "is_first" => inner.is_first = value.extract()?,
                "finish_reason" => {
                    let name = value.extract::<Option<String>>()?;
                    inner.finish_reason = parse_finish_reason(name.as_deref())?
                }
                "prompt_tokens" => inner.rare.prompt_tokens = value.extract()?,
                "completion_tokens" => inner.rare.completion_tokens = value.extract()?,
                "tool_call_delta" => {
                    inner.tool_call_delta = value
                        .extract::<Option<Bound<'_, ToolCallDelta>>>()?
                        .map(|delta| Box::new(delta.get().inner.clone()))
                }
                "error_code" => inner.rare.error_code = value.extract()?,
                "error_message" => inner.rare.error_message = value.extract()?,
                "logprobs" => logprobs = Some(value),
                "citations" => citations = Some(value),
                "choice_index" => inner.choice_index = value.extract()?,
                "stop_sequence" => inner.rare.stop_sequence = value.extract()?,
                "raw" => inner.raw = value.extract::<Option<String>>()?.map(SharedText::from),
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "GenerationChunk has no field {name:?}"
                    )))
                }
            }
        }
        let chunk = if logprobs.is_some() || citations.is_some() {
            let logprobs = logprobs.map_or_else(|| self.object(py, 0), Ok)?;
            let citations = citations.map_or_else(|| self.object(py, 1), Ok)?;
            GenerationChunk::with_objects(py, inner, logprobs, citations)?
        } else {
            let chunk = GenerationChunk::from_core(inner);
            if let Some(objects) = self.objects.get() {
                let _ = chunk.objects.set(objects.clone_ref(py));
            }
            chunk
        };
        chunk.into_py(py)
    }

    #[pyo3(signature = (**changes))]
    fn __replace__<'py>(
        &self,
        py: Python<'py>,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, GenerationChunk>> {
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
        // Optional strings appear only when set.
        let push_present = |parts: &mut Vec<String>, fields: [(&str, &Option<String>); 2]| {
            for (name, value) in fields {
                if value.is_some() {
                    parts.push(format!("{name}={}", repr_opt_str(py, value)?));
                }
            }
            PyResult::Ok(())
        };
        push_present(
            &mut parts,
            [
                ("reasoning_signature", &c.rare.reasoning_signature),
                ("redacted_thinking", &c.rare.redacted_thinking),
            ],
        )?;
        if !c.rare.refusal_delta.is_empty() {
            parts.push(format!(
                "refusal_delta={}",
                repr_str(py, &c.rare.refusal_delta)?
            ));
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
        let counts = [
            ("prompt_tokens", c.rare.prompt_tokens),
            ("completion_tokens", c.rare.completion_tokens),
        ];
        for (name, value) in counts {
            if value.is_some() {
                parts.push(format!("{name}={}", repr_opt(&value)));
            }
        }
        if let Some(delta) = c.tool_call_delta.as_deref() {
            let delta = ToolCallDelta {
                inner: delta.clone(),
            };
            parts.push(format!("tool_call_delta={}", delta.__repr__(py)?));
        }
        push_present(
            &mut parts,
            [
                ("error_code", &c.rare.error_code),
                ("error_message", &c.rare.error_message),
            ],
        )?;
        if c.choice_index != 0 {
            parts.push(format!("choice_index={}", c.choice_index));
        }
        if c.rare.stop_sequence.is_some() {
            parts.push(format!(
                "stop_sequence={}",
                repr_opt_str(py, &c.rare.stop_sequence)?
            ));
        }
        let citations = self.object(py, 1)?;
        if !citations.is_none() {
            parts.push(format!("citations={}", citations.repr()?));
        }
        Ok(format!("GenerationChunk({})", parts.join(", ")))
    }

    /// Equal when every field is equal; `raw` (where the chunk came from) is not compared.
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        richcmp(self, other, op, |this, other| this.equals(py, other))
    }
}

impl GenerationChunk {
    fn equals(&self, py: Python<'_>, other: &GenerationChunk) -> PyResult<bool> {
        let (a, b) = (&self.inner, &other.inner);
        let (ra, rb) = (&*a.rare, &*b.rare);
        let same_fields = a.text_delta == b.text_delta
            && a.reasoning_delta == b.reasoning_delta
            && ra.reasoning_signature == rb.reasoning_signature
            && ra.redacted_thinking == rb.redacted_thinking
            && ra.refusal_delta == rb.refusal_delta
            && a.done == b.done
            && a.is_first == b.is_first
            && a.finish_reason == b.finish_reason
            && ra.prompt_tokens == rb.prompt_tokens
            && ra.completion_tokens == rb.completion_tokens
            && a.tool_call_delta == b.tool_call_delta
            && ra.error_code == rb.error_code
            && ra.error_message == rb.error_message
            && a.choice_index == b.choice_index
            && ra.stop_sequence == rb.stop_sequence;
        Ok(same_fields
            && self.object(py, 0)?.eq(other.object(py, 0)?)?
            && self.object(py, 1)?.eq(other.object(py, 1)?)?)
    }
}
