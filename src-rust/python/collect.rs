//! `Collector`, `GenerationResult` and `ToolCall` for Python: one collector for `collect()`,
//! the streams' `snapshot()` and the timeouts' partial results.
//!
//! A snapshot is cheap: it records the lengths of the collector's append-only buffers and
//! builds each string only when read (then keeps it). `ToolCall.parsed_arguments` of the
//! latest snapshot is converted from the core's incremental parser; the Python objects of
//! values that are complete are kept between snapshots, so a read costs the width of the
//! containers still open plus the unfinished string, never a re-parse of the arguments.

use std::collections::HashMap;

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use super::chunk::{chunks_to_list, parse_finish_reason, GenerationChunk};
use super::errors::to_py_err;
use super::json::orjson_loads;
use super::strings::{extend_ascii, new_str};
use super::value_objects::{compare, repr_opt_str, richcmp};
use crate::chunk::FinishReason;
use crate::collect::{ChoiceState, Collector as CoreCollector};
use crate::partial_json::{Container, PartialJson, Value};

/// Which append-only buffer of a choice a lazy string reads.
#[derive(Clone, Copy)]
enum Buffer {
    Text,
    Reasoning,
    Refusal,
    Arguments(u32),
}

impl Buffer {
    fn of(self, choice: &ChoiceState) -> &str {
        match self {
            Buffer::Text => &choice.text,
            Buffer::Reasoning => &choice.reasoning,
            Buffer::Refusal => &choice.refusal,
            Buffer::Arguments(index) => choice
                .tools
                .get(&index)
                .map_or("", |tool| tool.arguments.as_str()),
        }
    }
}

/// A string given from Python, or a prefix of a collector's buffer built on first read.
enum LazyText {
    Owned(Py<PyString>),
    Collected(CollectedText),
}

/// The first `len` bytes of a collector's buffer, as a Python str once read.
struct CollectedText {
    collector: Py<Collector>,
    choice: u32,
    buffer: Buffer,
    len: usize,
    cache: PyOnceLock<Py<PyString>>,
}

impl LazyText {
    fn collected(
        py: Python<'_>,
        collector: &Py<Collector>,
        choice: u32,
        buffer: Buffer,
        len: usize,
    ) -> Self {
        LazyText::Collected(CollectedText {
            collector: collector.clone_ref(py),
            choice,
            buffer,
            len,
            cache: PyOnceLock::new(),
        })
    }

    fn get<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        match self {
            LazyText::Owned(text) => Ok(text.bind(py).clone()),
            LazyText::Collected(collected) => {
                let text = collected
                    .cache
                    .get_or_try_init(py, || -> PyResult<Py<PyString>> {
                        let collector = collected.collector.bind(py).try_borrow()?;
                        let full = collector
                            .core
                            .choice(collected.choice)
                            .map_or("", |state| collected.buffer.of(state));
                        Ok(new_str(py, &full[..collected.len]).unbind())
                    })?;
                Ok(text.bind(py).clone())
            }
        }
    }

    fn clone_ref(&self, py: Python<'_>) -> Self {
        match self {
            LazyText::Owned(text) => LazyText::Owned(text.clone_ref(py)),
            LazyText::Collected(collected) => {
                let cache = PyOnceLock::new();
                if let Some(text) = collected.cache.get(py) {
                    let _ = cache.set(py, text.clone_ref(py));
                }
                LazyText::Collected(CollectedText {
                    collector: collected.collector.clone_ref(py),
                    cache,
                    ..*collected
                })
            }
        }
    }
}

fn owned_text(py: Python<'_>, text: &str) -> LazyText {
    LazyText::Owned(PyString::new(py, text).unbind())
}

// --- JSON values to Python ------------------------------------------------------------------

fn number_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    if text.contains(['.', 'e', 'E']) {
        let value: f64 = text
            .parse()
            .map_err(|_| PyValueError::new_err(format!("bad JSON number {text:?}")))?;
        return Ok(PyFloat::new(py, value).into_any());
    }
    match text.parse::<i64>() {
        Ok(value) => Ok(value.into_pyobject(py)?.into_any()),
        // Bigger than 64 bits: Python's int() keeps every digit, as `json.loads` does.
        Err(_) => py.get_type::<PyInt>().call1((text,)),
    }
}

fn value_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => flag.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(text) => number_to_py(py, text)?,
        Value::String(text) => new_str(py, text).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(members) => {
            let dict = PyDict::new(py);
            for (key, item) in members {
                dict.set_item(new_str(py, key), value_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// The Python objects of one open container's completed children, kept between reads.
struct Level {
    frame_id: u64,
    keys: Vec<Py<PyAny>>,
    items: Vec<Py<PyAny>>,
}

/// What was converted of one tool call's arguments.
#[derive(Default)]
struct TreeCache {
    levels: Vec<Level>,
    /// The whole value once it is complete (converted once, then shared).
    root: Option<Py<PyAny>>,
    /// The unfinished string of the last read, the prefix of the next one's.
    pending: Option<PendingText>,
}

/// An unfinished string handed out: where it sits (its container's frame id and position in
/// it), its length in bytes, and its Python object. A pending string only grows, so the next
/// read of the same one copies this object's characters and converts only the new tail.
struct PendingText {
    at: (u64, usize),
    len: usize,
    text: Py<PyString>,
}

/// The unfinished string `text` at `at` as a Python str, reusing the last read's (see above).
fn pending_to_py<'py>(
    py: Python<'py>,
    last: &mut Option<PendingText>,
    at: (u64, usize),
    text: &str,
) -> Bound<'py, PyString> {
    let grown = match last.as_ref() {
        Some(previous) if previous.at == at && previous.len == text.len() => {
            return previous.text.bind(py).clone();
        }
        Some(previous) if previous.at == at => text
            .get(previous.len..)
            .and_then(|tail| extend_ascii(py, previous.text.bind(py), tail)),
        _ => None,
    };
    let value = grown.unwrap_or_else(|| new_str(py, text));
    *last = Some(PendingText {
        at,
        len: text.len(),
        text: value.clone().unbind(),
    });
    value
}

/// The value parsed so far as Python objects, reusing the converted children of open containers.
fn live_value<'py>(
    py: Python<'py>,
    parser: &PartialJson,
    cache: &mut TreeCache,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(error) = parser.error() {
        return Err(to_py_err(py, error.clone()));
    }
    if let Some(root) = parser.root() {
        if let Some(value) = &cache.root {
            return Ok(value.bind(py).clone());
        }
        cache.levels.clear();
        let value = value_to_py(py, root)?;
        cache.root = Some(value.clone().unbind());
        return Ok(value);
    }
    let frames = parser.frames();
    let keep = cache
        .levels
        .iter()
        .zip(frames)
        .take_while(|(level, frame)| level.frame_id == frame.id)
        .count();
    cache.levels.truncate(keep);
    for frame in &frames[keep..] {
        cache.levels.push(Level {
            frame_id: frame.id,
            keys: Vec::new(),
            items: Vec::new(),
        });
    }
    for (level, frame) in cache.levels.iter_mut().zip(frames) {
        match &frame.container {
            Container::Array(items) => {
                for item in &items[level.items.len()..] {
                    level.items.push(value_to_py(py, item)?.unbind());
                }
            }
            Container::Object { members, .. } => {
                for (key, item) in &members[level.items.len()..] {
                    level.keys.push(new_str(py, key).into_any().unbind());
                    level.items.push(value_to_py(py, item)?.unbind());
                }
            }
        }
    }
    let at = frames.last().map_or((u64::MAX, 0), |frame| {
        let position = match &frame.container {
            Container::Array(items) => items.len(),
            Container::Object { members, .. } => members.len(),
        };
        (frame.id, position)
    });
    let mut inner = parser
        .pending_string()
        .map(|text| pending_to_py(py, &mut cache.pending, at, text).into_any());
    for (level, frame) in cache.levels.iter().zip(frames).rev() {
        inner = Some(match &frame.container {
            Container::Array(_) => {
                let items = level.items.iter().map(|item| item.bind(py).clone());
                PyList::new(py, items.chain(inner))?.into_any()
            }
            Container::Object { key, .. } => {
                let dict = PyDict::new(py);
                for (key, item) in level.keys.iter().zip(&level.items) {
                    dict.set_item(key.bind(py), item.bind(py))?;
                }
                if let (Some(key), Some(value)) = (key, inner) {
                    dict.set_item(new_str(py, key), value)?;
                }
                dict.into_any()
            }
        });
    }
    Ok(inner.unwrap_or_else(|| PyDict::new(py).into_any()))
}

/// Parse a whole argument text at once (a `ToolCall` built from Python, or an old snapshot).
fn parse_whole<'py>(py: Python<'py>, arguments: &str) -> PyResult<Bound<'py, PyAny>> {
    let mut parser = PartialJson::default();
    parser.push(arguments).map_err(|e| to_py_err(py, e))?;
    live_value(py, &parser, &mut TreeCache::default())
}

// --- Collector --------------------------------------------------------------------------------

/// What a chunk stream delivered so far; `snapshot()` at any point, cheaply.
#[pyclass(module = "fastsse")]
pub struct Collector {
    pub(crate) core: CoreCollector,
    trees: HashMap<(u32, u32), TreeCache>,
}

/// Hands out the items of a list, taking each into a collector as it is handed out, so the
/// collector holds exactly what the reader has seen (one native call per item).
#[pyclass(module = "fastsse")]
pub struct CollectingIterator {
    items: Py<PyList>,
    at: usize,
    collector: Py<Collector>,
}

#[pymethods]
impl CollectingIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let items = self.items.bind(py);
        if self.at >= items.len() {
            return Ok(None);
        }
        let item = items.get_item(self.at)?;
        self.at += 1;
        self.collector.bind(py).try_borrow_mut()?.add(&item);
        Ok(Some(item))
    }
}

fn choice_result(
    py: Python<'_>,
    collector: &Py<Collector>,
    index: u32,
    state: &ChoiceState,
) -> PyResult<GenerationResult> {
    let tool_calls = PyList::empty(py);
    for (&tool_index, tool) in &state.tools {
        let call = ToolCall {
            id: tool.id.clone(),
            name: tool.name.clone(),
            arguments: LazyText::collected(
                py,
                collector,
                index,
                Buffer::Arguments(tool_index),
                tool.arguments.len(),
            ),
            index: tool_index,
            complete: tool.is_complete(),
            origin: Some((collector.clone_ref(py), index)),
            parsed: PyOnceLock::new(),
        };
        tool_calls.append(Bound::new(py, call)?)?;
    }
    Ok(GenerationResult {
        text: LazyText::collected(py, collector, index, Buffer::Text, state.text.len()),
        reasoning: LazyText::collected(
            py,
            collector,
            index,
            Buffer::Reasoning,
            state.reasoning.len(),
        ),
        refusal: LazyText::collected(py, collector, index, Buffer::Refusal, state.refusal.len()),
        tool_calls: tool_calls.unbind(),
        finish_reason: state.finish_reason,
        prompt_tokens: state.usage.prompt_tokens,
        completion_tokens: state.usage.completion_tokens,
        stop_sequence: state.usage.stop_sequence.clone(),
        error_code: state.error_code.clone(),
        error_message: state.error_message.clone(),
        reasoning_signature: state.reasoning_signature.clone(),
        choice_index: index,
        choices: PyTuple::empty(py).unbind(),
        redacted_thinking: PyTuple::new(py, &state.redacted_thinking)?.unbind(),
        citations: citations_of(py, state)?,
    })
}

/// Every citation of the choice so far, in order (each chunk holds a JSON array of them).
fn citations_of(py: Python<'_>, state: &ChoiceState) -> PyResult<Py<PyTuple>> {
    if state.citations.is_empty() {
        return Ok(PyTuple::empty(py).unbind());
    }
    let all = PyList::empty(py);
    let loads = orjson_loads(py)?;
    for array in &state.citations {
        for citation in loads.call1((array.as_ref(),))?.try_iter()? {
            all.append(citation?)?;
        }
    }
    Ok(all.to_tuple().unbind())
}

#[pymethods]
impl Collector {
    #[new]
    fn py_new() -> Self {
        Collector {
            core: CoreCollector::new(),
            trees: HashMap::new(),
        }
    }

    /// Take in one item; anything that is not a `GenerationChunk` is only counted.
    fn add(&mut self, item: &Bound<'_, PyAny>) {
        match item.cast::<GenerationChunk>() {
            Ok(chunk) => self.core.add(&chunk.get().inner),
            Err(_) => self.core.count_other(),
        }
    }

    /// An iterator over `chunks` that takes each one in as it is handed out.
    fn through(slf: &Bound<'_, Self>, chunks: Bound<'_, PyList>) -> CollectingIterator {
        CollectingIterator {
            items: chunks.unbind(),
            at: 0,
            collector: slf.clone().unbind(),
        }
    }

    /// Take in every item of an iterable.
    fn extend(&mut self, items: &Bound<'_, PyAny>) -> PyResult<()> {
        for item in items.try_iter()? {
            self.add(&item?);
        }
        Ok(())
    }

    /// Items taken in so far.
    #[getter]
    fn count(&self) -> u64 {
        self.core.count()
    }

    /// The `GenerationResult` of everything taken in so far (cheap: strings are built on read).
    fn snapshot(slf: &Bound<'_, Self>) -> PyResult<GenerationResult> {
        let py = slf.py();
        let collector = slf.clone().unbind();
        let this = slf.borrow();
        let mut results = Vec::new();
        for (&index, state) in this.core.choices() {
            results.push(choice_result(py, &collector, index, state)?);
        }
        if results.is_empty() {
            let empty = GenerationResult::empty(py);
            let choices = PyTuple::new(py, [Bound::new(py, GenerationResult::empty(py))?])?;
            return Ok(GenerationResult {
                choices: choices.unbind(),
                ..empty
            });
        }
        let first = results
            .iter()
            .position(|r| r.choice_index == 0)
            .unwrap_or(0);
        let top = results[first].clone_ref(py);
        let choices = PyTuple::new(
            py,
            results
                .into_iter()
                .map(|r| Bound::new(py, r))
                .collect::<PyResult<Vec<_>>>()?,
        )?;
        Ok(GenerationResult {
            choices: choices.unbind(),
            ..top
        })
    }

    /// The same as `snapshot()`: the result of everything taken in.
    fn result(slf: &Bound<'_, Self>) -> PyResult<GenerationResult> {
        Collector::snapshot(slf)
    }

    /// The stream so far in a few chunks (per choice: text, reasoning, refusal, one per tool
    /// call with its whole arguments, and one with the finish reason and usage).
    fn chunks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        chunks_to_list(py, self.core.compacted())
    }

    fn __repr__(&self) -> String {
        format!(
            "Collector(count={}, choices={})",
            self.core.count(),
            self.core.choices().len()
        )
    }
}

// --- ToolCall ---------------------------------------------------------------------------------

/// One tool call: `arguments` is the model's JSON text as sent; `parsed_arguments` the value
/// parsed so far; `complete` whether the arguments can still grow (a state of the stream, so
/// not compared by `==`, which compares id, name, arguments and index).
#[pyclass(module = "fastsse", frozen)]
pub struct ToolCall {
    #[pyo3(get)]
    id: Option<String>,
    #[pyo3(get)]
    name: Option<String>,
    arguments: LazyText,
    #[pyo3(get)]
    index: u32,
    /// True when the arguments are whole (their JSON closed, a later call started, or the
    /// stream finished), so the tool can run before the stream ends.
    #[pyo3(get)]
    complete: bool,
    /// The collector and choice this call was read from (for the incremental parse).
    origin: Option<(Py<Collector>, u32)>,
    parsed: PyOnceLock<Py<PyAny>>,
}

impl ToolCall {
    fn arguments_len(&self, py: Python<'_>) -> PyResult<usize> {
        match &self.arguments {
            LazyText::Collected(collected) => Ok(collected.len),
            LazyText::Owned(text) => Ok(text.bind(py).to_str()?.len()),
        }
    }

    /// From the collector's live parser, when it is still at this call's length.
    fn parsed_live<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some((collector, choice)) = &self.origin else {
            return Ok(None);
        };
        let len = self.arguments_len(py)?;
        let mut guard = collector.bind(py).try_borrow_mut()?;
        let Collector { core, trees } = &mut *guard;
        let Some(tool) = core.choice(*choice).and_then(|c| c.tools.get(&self.index)) else {
            return Ok(None);
        };
        if tool.arguments.len() != len {
            return Ok(None); // the call grew since: parse this prefix on its own
        }
        let cache = trees.entry((*choice, self.index)).or_default();
        live_value(py, &tool.parser, cache).map(Some)
    }
}

#[pymethods]
impl ToolCall {
    #[new]
    #[pyo3(signature = (id, name, arguments, index = 0, *, complete = true))]
    fn py_new(
        py: Python<'_>,
        id: Option<String>,
        name: Option<String>,
        arguments: &str,
        index: u32,
        complete: bool,
    ) -> Self {
        ToolCall {
            id,
            name,
            arguments: owned_text(py, arguments),
            index,
            complete,
            origin: None,
            parsed: PyOnceLock::new(),
        }
    }

    #[classattr]
    fn __match_args__(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        Ok(PyTuple::new(py, ["id", "name", "arguments", "index"])?.unbind())
    }

    #[getter]
    fn arguments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        self.arguments.get(py)
    }

    /// The arguments parsed as far as they go, as Python values: an unfinished string is kept
    /// as far as it goes, an unfinished number or literal and a key without a value are left
    /// out, open containers are closed; `{}` before anything arrived. Raises `ProtocolError`
    /// when the text is not JSON (or outgrows a cap). Treat the result as read-only: values
    /// that were complete are shared with later snapshots.
    #[getter]
    fn parsed_arguments<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = self.parsed.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            if let Some(value) = self.parsed_live(py)? {
                return Ok(value.unbind());
            }
            let text = self.arguments.get(py)?;
            Ok(parse_whole(py, text.to_str()?)?.unbind())
        })?;
        Ok(value.bind(py).clone())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let complete = if self.complete {
            ""
        } else {
            ", complete=False"
        };
        Ok(format!(
            "ToolCall(id={}, name={}, arguments={}, index={}{complete})",
            repr_opt_str(py, &self.id)?,
            repr_opt_str(py, &self.name)?,
            self.arguments.get(py)?.repr()?,
            self.index
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        richcmp(self, other, op, |a, b| {
            Ok(a.id == b.id
                && a.name == b.name
                && a.index == b.index
                && a.arguments.get(py)?.to_str()? == b.arguments.get(py)?.to_str()?)
        })
    }
}

// --- GenerationResult -------------------------------------------------------------------------

/// A whole generation (or the part of it read so far), assembled from its chunks. The
/// top-level fields describe choice 0; `choices` holds one result per choice.
#[pyclass(module = "fastsse", frozen)]
pub struct GenerationResult {
    text: LazyText,
    reasoning: LazyText,
    refusal: LazyText,
    tool_calls: Py<PyList>,
    finish_reason: Option<FinishReason>,
    #[pyo3(get)]
    prompt_tokens: Option<u64>,
    #[pyo3(get)]
    completion_tokens: Option<u64>,
    #[pyo3(get)]
    stop_sequence: Option<String>,
    #[pyo3(get)]
    error_code: Option<String>,
    #[pyo3(get)]
    error_message: Option<String>,
    /// The signature closing the reasoning (Anthropic thinking), needed to send it back.
    #[pyo3(get)]
    reasoning_signature: Option<String>,
    #[pyo3(get)]
    choice_index: u32,
    choices: Py<PyTuple>,
    /// Each redacted reasoning block's opaque data (Anthropic `redacted_thinking`), to send
    /// back unchanged in the next assistant turn.
    #[pyo3(get)]
    redacted_thinking: Py<PyTuple>,
    /// The citation objects of the text, in order (Anthropic `citations_delta`).
    #[pyo3(get)]
    citations: Py<PyTuple>,
}

impl GenerationResult {
    fn empty(py: Python<'_>) -> Self {
        GenerationResult {
            text: owned_text(py, ""),
            reasoning: owned_text(py, ""),
            refusal: owned_text(py, ""),
            tool_calls: PyList::empty(py).unbind(),
            finish_reason: None,
            prompt_tokens: None,
            completion_tokens: None,
            stop_sequence: None,
            error_code: None,
            error_message: None,
            reasoning_signature: None,
            choice_index: 0,
            choices: PyTuple::empty(py).unbind(),
            redacted_thinking: PyTuple::empty(py).unbind(),
            citations: PyTuple::empty(py).unbind(),
        }
    }

    fn clone_ref(&self, py: Python<'_>) -> Self {
        GenerationResult {
            text: self.text.clone_ref(py),
            reasoning: self.reasoning.clone_ref(py),
            refusal: self.refusal.clone_ref(py),
            tool_calls: self.tool_calls.clone_ref(py),
            finish_reason: self.finish_reason,
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            stop_sequence: self.stop_sequence.clone(),
            error_code: self.error_code.clone(),
            error_message: self.error_message.clone(),
            reasoning_signature: self.reasoning_signature.clone(),
            choice_index: self.choice_index,
            choices: self.choices.clone_ref(py),
            redacted_thinking: self.redacted_thinking.clone_ref(py),
            citations: self.citations.clone_ref(py),
        }
    }
}

const RESULT_FIELDS: [&str; 15] = [
    "text",
    "reasoning",
    "tool_calls",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "refusal",
    "stop_sequence",
    "error_code",
    "error_message",
    "reasoning_signature",
    "choice_index",
    "choices",
    "redacted_thinking",
    "citations",
];

/// The items of an optional iterable given from Python (None: no items).
fn items_of<'py>(items: Option<&Bound<'py, PyAny>>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    match items {
        None => Ok(Vec::new()),
        Some(items) => items.try_iter()?.collect(),
    }
}

/// `ValueError` unless every item of the field `name` is `valid` ("{name} must hold {what}").
fn check_items(
    items: &[Bound<'_, PyAny>],
    name: &str,
    what: &str,
    valid: impl Fn(&Bound<'_, PyAny>) -> bool,
) -> PyResult<()> {
    match items.iter().find(|item| !valid(item)) {
        None => Ok(()),
        Some(item) => Err(PyValueError::new_err(format!(
            "{name} must hold {what}, got {}",
            item.get_type().name()?
        ))),
    }
}

#[pymethods]
impl GenerationResult {
    #[new]
    #[pyo3(signature = (
        text = "", reasoning = "", tool_calls = None, finish_reason = None, prompt_tokens = None,
        completion_tokens = None, refusal = "", stop_sequence = None, error_code = None,
        error_message = None, reasoning_signature = None, choice_index = 0, choices = None,
        redacted_thinking = None, citations = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        py: Python<'_>,
        text: &str,
        reasoning: &str,
        tool_calls: Option<&Bound<'_, PyAny>>,
        finish_reason: Option<&str>,
        prompt_tokens: Option<u64>,
        completion_tokens: Option<u64>,
        refusal: &str,
        stop_sequence: Option<String>,
        error_code: Option<String>,
        error_message: Option<String>,
        reasoning_signature: Option<String>,
        choice_index: u32,
        choices: Option<&Bound<'_, PyAny>>,
        redacted_thinking: Option<&Bound<'_, PyAny>>,
        citations: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let redacted_thinking = items_of(redacted_thinking)?;
        check_items(&redacted_thinking, "redacted_thinking", "str", |data| {
            data.is_instance_of::<PyString>()
        })?;
        let tool_calls = items_of(tool_calls)?;
        check_items(
            &tool_calls,
            "tool_calls",
            "fastsse.ToolCall objects",
            |call| call.cast::<ToolCall>().is_ok(),
        )?;
        let choices = items_of(choices)?;
        Ok(GenerationResult {
            text: owned_text(py, text),
            reasoning: owned_text(py, reasoning),
            refusal: owned_text(py, refusal),
            tool_calls: PyList::new(py, tool_calls)?.unbind(),
            finish_reason: parse_finish_reason(finish_reason)?,
            prompt_tokens,
            completion_tokens,
            stop_sequence,
            error_code,
            error_message,
            reasoning_signature,
            choice_index,
            choices: PyTuple::new(py, choices)?.unbind(),
            redacted_thinking: PyTuple::new(py, redacted_thinking)?.unbind(),
            citations: PyTuple::new(py, items_of(citations)?)?.unbind(),
        })
    }

    #[classattr]
    fn __match_args__(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        Ok(PyTuple::new(py, RESULT_FIELDS)?.unbind())
    }

    #[getter]
    fn text<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        self.text.get(py)
    }
    #[getter]
    fn reasoning<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        self.reasoning.get(py)
    }
    #[getter]
    fn refusal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        self.refusal.get(py)
    }
    #[getter]
    fn tool_calls<'py>(&self, py: Python<'py>) -> Bound<'py, PyList> {
        self.tool_calls.bind(py).clone()
    }
    /// The tool calls whose arguments are whole (`ToolCall.complete`): start them before the
    /// stream ends.
    #[getter]
    fn completed_tool_calls<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let done = PyList::empty(py);
        for call in self.tool_calls.bind(py).iter() {
            if call.cast::<ToolCall>().is_ok_and(|c| c.get().complete) {
                done.append(call)?;
            }
        }
        Ok(done)
    }
    #[getter]
    fn finish_reason(&self) -> Option<&'static str> {
        self.finish_reason.map(FinishReason::as_str)
    }
    #[getter]
    fn choices<'py>(&self, py: Python<'py>) -> Bound<'py, PyTuple> {
        self.choices.bind(py).clone()
    }

    /// A copy with the given fields changed (`copy.replace()` works too).
    #[pyo3(signature = (**changes))]
    fn replace(slf: &Bound<'_, Self>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let fields = PyDict::new(py);
        for name in RESULT_FIELDS {
            fields.set_item(name, slf.getattr(name)?)?;
        }
        if let Some(changes) = changes {
            for (name, value) in changes.iter() {
                if !fields.contains(&name)? {
                    return Err(PyValueError::new_err(format!(
                        "GenerationResult has no field {name}"
                    )));
                }
                fields.set_item(name, value)?;
            }
        }
        Ok(slf.get_type().call((), Some(&fields))?.unbind())
    }

    #[pyo3(signature = (**changes))]
    fn __replace__(
        slf: &Bound<'_, Self>,
        changes: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        GenerationResult::replace(slf, changes)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let mut parts = Vec::new();
        for name in RESULT_FIELDS {
            let value = slf.getattr(name)?;
            // The rare block lists show only when there are some.
            let rare_and_empty =
                matches!(name, "redacted_thinking" | "citations") && value.len()? == 0;
            if name == "choices" || rare_and_empty {
                continue;
            }
            parts.push(format!("{name}={}", value.repr()?));
        }
        Ok(format!("GenerationResult({})", parts.join(", ")))
    }

    fn __richcmp__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        if other.cast::<GenerationResult>().is_err() {
            return Ok(py.NotImplemented());
        }
        let mut equal = true;
        for name in RESULT_FIELDS {
            if !slf.getattr(name)?.eq(other.getattr(name)?)? {
                equal = false;
                break;
            }
        }
        compare(equal, op, py)
    }
}

/// Add the classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Collector>()?;
    m.add_class::<CollectingIterator>()?;
    m.add_class::<ToolCall>()?;
    m.add_class::<GenerationResult>()?;
    Ok(())
}
