//! Anthropic stream events shaped like the SDK's models, made in one call per network chunk.
//!
//! `AnthropicEventDecoder` is what `accelerate(anthropic.Anthropic())` reads a Messages stream
//! with. It frames SSE, applies the SDK `Stream`'s rules (skip `ping` and unnamed events, raise on
//! `error`) and hands out, per chunk, a list of ready events:
//!
//! * a plain text / input-json / thinking / signature delta (nearly every event: see
//!   `crate::anthropic_delta`) becomes native views here, with the SDK's attribute names;
//! * any other event is parsed like `json.loads` (big integers stay ints) and shaped by a
//!   Python hook (`fastsse/sdk/_anthropic.py`), which also owns the message-level JSON.
//!
//! In `helper` and `text` modes it also keeps what `messages.stream(...)` needs: each content
//! block's text, thinking and tool-input JSON so far, in Rust, written into the block's JSON
//! only when the block ends or the message is read. `text` mode hands out only the text of
//! text deltas (`text_stream`): no event view at all.
//!
//! The views' `model_dump()` / `to_dict()` / `to_json()` build the SDK's own model from the
//! same JSON (`fastsse.sdk._native.build`), so they equal the SDK's by construction.

use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use pyo3::PyClass;

use super::bytes_input::with_bytes;
use super::errors::{catch_panic, internal_error, IntoPyResult};
use super::json::json_loads;
use super::sse::sse_decoder;
use super::strings::new_str;
use crate::anthropic_delta::{plain_delta, DeltaKind};
use crate::error::Error;
use crate::sse::{SseDecoder, DEFAULT_MAX_EVENT_SIZE};

/// The most text (or tool-input JSON) one content block may gather, unless told otherwise.
const DEFAULT_MAX_BLOCK_BYTES: usize = 64 << 20;

// --- the views ------------------------------------------------------------------------------

/// The JSON a view stands for, in the SDK's key order. The view's class is named after the
/// SDK class it is shaped after (`PyClass::NAME`).
trait SdkView: PyClass {
    /// The event's `type`: the first key of its JSON, and its class attribute.
    fn sdk_type() -> &'static str;
    /// The keys after `type`.
    fn add_fields(&self, py: Python<'_>, dict: &Bound<'_, PyDict>) -> PyResult<()>;

    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item(intern!(py, "type"), Self::sdk_type())?;
        self.add_fields(py, &dict)?;
        Ok(dict)
    }
}

static BUILD_MODEL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The SDK's own model for a view (`fastsse.sdk._native.build`).
fn sdk_model<'py, V: SdkView>(py: Python<'py>, view: &V) -> PyResult<Bound<'py, PyAny>> {
    let build = BUILD_MODEL.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("fastsse.sdk._native")?.getattr("build")?.unbind())
    })?;
    build.bind(py).call1((V::NAME, view.fields(py)?))
}

type Options<'a, 'py> = Option<&'a Bound<'py, PyDict>>;
type Converted<'py> = PyResult<Bound<'py, PyAny>>;

/// `view.sdk_model().<method>(**options)`.
fn convert<'py, V: SdkView>(
    py: Python<'py>,
    view: &V,
    method: &Bound<'py, PyString>,
    options: Options<'_, 'py>,
) -> Converted<'py> {
    sdk_model(py, view)?.call_method(method, (), options)
}

/// The pymethods every view has, around its own getters: `type`, conversions through the
/// SDK's model, `==` on the JSON, and a repr.
macro_rules! sdk_view_methods {
    ($class:ident { $($getters:tt)* }) => {
        #[pymethods]
        impl $class {
            /// A class attribute: read faster than a getter, as every loop reads it.
            #[classattr]
            #[pyo3(name = "type")]
            fn kind() -> &'static str {
                <Self as SdkView>::sdk_type()
            }

            $($getters)*

            /// The SDK's own pydantic model for this event (built on each call).
            fn sdk_model<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                sdk_model(py, self)
            }

            #[pyo3(signature = (**options))]
            fn model_dump<'py>(&self, py: Python<'py>, options: Option<&Bound<'py, PyDict>>) -> Converted<'py> {
                convert(py, self, intern!(py, "model_dump"), options)
            }

            #[pyo3(signature = (**options))]
            fn model_dump_json<'py>(&self, py: Python<'py>, options: Option<&Bound<'py, PyDict>>) -> Converted<'py> {
                convert(py, self, intern!(py, "model_dump_json"), options)
            }

            #[pyo3(signature = (**options))]
            fn to_dict<'py>(&self, py: Python<'py>, options: Option<&Bound<'py, PyDict>>) -> Converted<'py> {
                convert(py, self, intern!(py, "to_dict"), options)
            }

            #[pyo3(signature = (**options))]
            fn to_json<'py>(&self, py: Python<'py>, options: Option<&Bound<'py, PyDict>>) -> Converted<'py> {
                convert(py, self, intern!(py, "to_json"), options)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
                let py = other.py();
                match other.cast::<$class>() {
                    Ok(other) => self.fields(py)?.eq(other.get().fields(py)?),
                    Err(_) => Ok(false),
                }
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                Ok(format!("{}(fastsse view of {})", Self::NAME, self.fields(py)?.repr()?))
            }
        }
    };
}

/// A delta with one string field (`TextDelta`, `InputJSONDelta`, `ThinkingDelta`,
/// `SignatureDelta`): one class per kind, so each has only its own attribute, as in the SDK.
macro_rules! delta_view {
    ($class:ident, $kind:expr, $field:ident) => {
        #[pyclass(module = "fastsse.sdk", frozen, freelist = 64)]
        pub struct $class {
            #[pyo3(get)]
            $field: Py<PyString>,
        }

        impl SdkView for $class {
            fn sdk_type() -> &'static str {
                $kind.wire_type()
            }
            fn add_fields(&self, py: Python<'_>, dict: &Bound<'_, PyDict>) -> PyResult<()> {
                dict.set_item($kind.field(), self.$field.bind(py))
            }
        }

        sdk_view_methods!($class {});
    };
}

delta_view!(TextDelta, DeltaKind::Text, text);
delta_view!(InputJSONDelta, DeltaKind::InputJson, partial_json);
delta_view!(ThinkingDelta, DeltaKind::Thinking, thinking);
delta_view!(SignatureDelta, DeltaKind::Signature, signature);

fn delta_object(
    py: Python<'_>,
    kind: DeltaKind,
    value: Bound<'_, PyString>,
) -> PyResult<Py<PyAny>> {
    let value = value.unbind();
    Ok(match kind {
        DeltaKind::Text => Py::new(py, TextDelta { text: value })?.into_any(),
        DeltaKind::InputJson => Py::new(
            py,
            InputJSONDelta {
                partial_json: value,
            },
        )?
        .into_any(),
        DeltaKind::Thinking => Py::new(py, ThinkingDelta { thinking: value })?.into_any(),
        DeltaKind::Signature => Py::new(py, SignatureDelta { signature: value })?.into_any(),
    })
}

/// `RawContentBlockDeltaEvent`: `type`, `index`, `delta` (one of the delta views above).
#[pyclass(module = "fastsse.sdk", frozen, freelist = 64)]
pub struct RawContentBlockDeltaEvent {
    #[pyo3(get)]
    index: u64,
    #[pyo3(get)]
    delta: Py<PyAny>,
}

impl SdkView for RawContentBlockDeltaEvent {
    fn sdk_type() -> &'static str {
        "content_block_delta"
    }
    fn add_fields(&self, py: Python<'_>, dict: &Bound<'_, PyDict>) -> PyResult<()> {
        dict.set_item(intern!(py, "index"), self.index)?;
        let delta = self.delta.bind(py);
        let nested = [
            delta.cast::<TextDelta>().map(|d| d.get().fields(py)),
            delta.cast::<InputJSONDelta>().map(|d| d.get().fields(py)),
            delta.cast::<ThinkingDelta>().map(|d| d.get().fields(py)),
            delta.cast::<SignatureDelta>().map(|d| d.get().fields(py)),
        ];
        let fields = nested
            .into_iter()
            .find_map(Result::ok)
            .ok_or_else(|| PyTypeError::new_err("unexpected delta view"))??;
        dict.set_item(intern!(py, "delta"), fields)
    }
}

sdk_view_methods!(RawContentBlockDeltaEvent {});

/// What one content block gathered so far (text, thinking or tool-input JSON), shared with the
/// helper events that show a prefix of it; it only grows, so a prefix never changes.
#[derive(Default)]
struct Log(Mutex<String>);

impl Log {
    fn new(initial: &str) -> Arc<Log> {
        Arc::new(Log(Mutex::new(initial.to_owned())))
    }

    fn text(&self) -> MutexGuard<'_, String> {
        // A panic while holding the lock (a bug) leaves the text as it was: still valid.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Append `piece`; the new length.
    fn push(&self, piece: &str, limit: usize) -> Result<usize, Error> {
        let mut text = self.text();
        if text.len() + piece.len() > limit {
            return Err(Error::limit(
                "max_block_bytes",
                limit,
                format!("a content block gathered more than max_block_bytes={limit} bytes"),
            ));
        }
        text.push_str(piece);
        Ok(text.len())
    }

    fn prefix<'py>(&self, py: Python<'py>, len: usize) -> Bound<'py, PyString> {
        new_str(py, &self.text()[..len])
    }
}

/// The helper's `TextEvent` / `ThinkingEvent`: the delta, and the block's text so far
/// (`snapshot`, made when read).
macro_rules! snapshot_view {
    ($class:ident, $sdk_type:literal, $field:ident) => {
        #[pyclass(module = "fastsse.sdk", frozen, freelist = 64)]
        pub struct $class {
            #[pyo3(get)]
            $field: Py<PyString>,
            log: Arc<Log>,
            len: usize,
        }

        impl $class {
            /// The event for a delta that brought `log` to `len` bytes.
            fn object(
                py: Python<'_>,
                $field: Py<PyString>,
                log: &Arc<Log>,
                len: usize,
            ) -> PyResult<Py<PyAny>> {
                let log = log.clone();
                Py::new(py, $class { $field, log, len }).map(Py::into_any)
            }
        }

        impl SdkView for $class {
            fn sdk_type() -> &'static str {
                $sdk_type
            }
            fn add_fields(&self, py: Python<'_>, dict: &Bound<'_, PyDict>) -> PyResult<()> {
                dict.set_item(stringify!($field), self.$field.bind(py))?;
                dict.set_item(intern!(py, "snapshot"), self.log.prefix(py, self.len))
            }
        }

        sdk_view_methods!($class {
            #[getter]
            fn snapshot<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
                self.log.prefix(py, self.len)
            }
        });
    };
}

snapshot_view!(TextEvent, "text", text);
snapshot_view!(ThinkingEvent, "thinking", thinking);

/// The helper's `InputJsonEvent`: the delta, and the tool input parsed so far (`snapshot`,
/// parsed when read, the way the SDK parses it).
#[pyclass(module = "fastsse.sdk", frozen, freelist = 64)]
pub struct InputJsonEvent {
    #[pyo3(get)]
    partial_json: Py<PyString>,
    log: Arc<Log>,
    len: usize,
    initial: Py<PyAny>,
    hooks: Py<PyAny>,
}

impl InputJsonEvent {
    fn parsed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        parse_partial(
            py,
            self.hooks.bind(py),
            &self.log,
            self.len,
            self.initial.bind(py),
        )
    }
}

fn parse_partial<'py>(
    py: Python<'py>,
    hooks: &Bound<'py, PyAny>,
    log: &Log,
    len: usize,
    initial: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let json = PyBytes::new(py, &log.text().as_bytes()[..len]);
    hooks.call_method1(intern!(py, "parse_partial"), (json, initial))
}

impl SdkView for InputJsonEvent {
    fn sdk_type() -> &'static str {
        "input_json"
    }
    fn add_fields(&self, py: Python<'_>, dict: &Bound<'_, PyDict>) -> PyResult<()> {
        dict.set_item(intern!(py, "partial_json"), self.partial_json.bind(py))?;
        dict.set_item(intern!(py, "snapshot"), self.parsed(py)?)
    }
}

sdk_view_methods!(InputJsonEvent {
    #[getter]
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.parsed(py)
    }
});

/// The helper's `SignatureEvent`.
#[pyclass(module = "fastsse.sdk", frozen, freelist = 8)]
pub struct SignatureEvent {
    #[pyo3(get)]
    signature: Py<PyAny>,
}

impl SdkView for SignatureEvent {
    fn sdk_type() -> &'static str {
        "signature"
    }
    fn add_fields(&self, py: Python<'_>, dict: &Bound<'_, PyDict>) -> PyResult<()> {
        dict.set_item(intern!(py, "signature"), self.signature.bind(py))
    }
}

sdk_view_methods!(SignatureEvent {});

// --- the decoder ----------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `messages.create(stream=True)`: the raw events only.
    Raw,
    /// `messages.stream(...)` iterated: raw events and the helper's events.
    Helper,
    /// `messages.stream(...).text_stream`: the text of text deltas only.
    Text,
}

/// What a content block gathers, by its `type`.
enum Content {
    Text(Arc<Log>),
    Thinking(Arc<Log>),
    /// `tool_use` / `server_tool_use`: the input JSON so far and the block's initial `input`.
    ToolInput(Arc<Log>, Py<PyAny>),
    Other,
}

struct Block {
    /// The block's JSON (a dict the Python hooks made), where the gathered content is written.
    json: Py<PyDict>,
    content: Content,
    /// The log's length when it was last written into `json`.
    written: usize,
}

impl Block {
    fn new(json: Bound<'_, PyAny>) -> PyResult<Block> {
        let py = json.py();
        let json = json.cast_into::<PyDict>()?;
        let kind = str_item(&json, intern!(py, "type"))?;
        let initial = |key: &Bound<'_, PyString>| -> PyResult<Arc<Log>> {
            let text = str_item(&json, key)?;
            Ok(Log::new(match &text {
                Some(text) => text.to_str()?,
                None => "",
            }))
        };
        let content = match kind.as_ref().map(|k| k.to_str()).transpose()? {
            Some("text") => Content::Text(initial(intern!(py, "text"))?),
            Some("thinking") => Content::Thinking(initial(intern!(py, "thinking"))?),
            Some("tool_use" | "server_tool_use") => {
                let input = json.get_item(intern!(py, "input"))?;
                Content::ToolInput(Log::new(""), input.map_or_else(|| py.None(), Bound::unbind))
            }
            _ => Content::Other,
        };
        let written = match &content {
            Content::Text(log) | Content::Thinking(log) => log.text().len(),
            _ => 0,
        };
        Ok(Block {
            json: json.unbind(),
            content,
            written,
        })
    }

    /// Write what the block gathered since the last time into its JSON.
    fn write(&mut self, py: Python<'_>, hooks: &Bound<'_, PyAny>) -> PyResult<()> {
        let json = self.json.bind(py);
        match &self.content {
            Content::Text(log) | Content::Thinking(log) => {
                let text = log.text();
                if text.len() != self.written {
                    let key = match self.content {
                        Content::Text(_) => intern!(py, "text"),
                        _ => intern!(py, "thinking"),
                    };
                    json.set_item(key, new_str(py, &text))?;
                    self.written = text.len();
                }
            }
            Content::ToolInput(log, initial) => {
                let len = log.text().len();
                if len != self.written && len > 0 {
                    let input = parse_partial(py, hooks, log, len, initial.bind(py))?;
                    json.set_item(intern!(py, "input"), input)?;
                    self.written = len;
                }
            }
            Content::Other => {}
        }
        Ok(())
    }
}

/// The string at `key` of a JSON object; None when `value` is not an object or the item is
/// missing or not a string.
fn str_item<'py>(
    value: &Bound<'py, PyAny>,
    key: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyString>>> {
    let Ok(object) = value.cast::<PyDict>() else {
        return Ok(None);
    };
    Ok(object
        .get_item(key)?
        .and_then(|item| item.cast_into::<PyString>().ok()))
}

/// How an event's raw view is made: natively from a plain delta, or already made by the hooks.
enum RawEvent<'py> {
    Plain,
    Made(Bound<'py, PyAny>),
}

/// SSE bytes -> the SDK's Messages stream events (see the module doc).
#[pyclass(module = "fastsse.sdk")]
pub struct AnthropicEventDecoder {
    sse: SseDecoder,
    state: Stream,
    /// An error met after some events of the same chunk: raised on the next call.
    pending_error: Option<PyErr>,
    stopped: bool,
}

/// What the decoder keeps besides its SSE framing.
struct Stream {
    mode: Mode,
    hooks: Py<PyAny>,
    /// The message's JSON (made by the hooks) once `message_start` arrived, helper and text modes.
    message: Option<Py<PyAny>>,
    blocks: Vec<Block>,
    final_message: Option<Py<PyAny>>,
    /// The cap on what one block gathers (`LimitExceededError` past it).
    max_block_bytes: usize,
}

impl AnthropicEventDecoder {
    fn run<'py>(&mut self, py: Python<'py>, input: Option<&[u8]>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        if let Some(error) = self.pending_error.take() {
            self.stopped = true;
            return Err(error);
        }
        if self.stopped {
            return Ok(out);
        }
        let AnthropicEventDecoder { sse, state, .. } = self;
        let mut failure: Option<PyErr> = None;
        let mut on_event = |view: crate::sse::SseEventView<'_>| {
            if failure.is_none() {
                failure = state.on_event(py, view.event, view.data, &out).err();
            }
            Ok(())
        };
        let result = catch_panic(|| match input {
            Some(bytes) => sse.decode_with(bytes, &mut on_event),
            None => sse.flush_with(&mut on_event),
        });
        let result = result.map_err(|m| internal_error(py, m, Ok(out.clone())))?;
        if let Some(error) = failure.or(result.py_result(py).err()) {
            if out.is_empty() {
                self.stopped = true;
                return Err(error);
            }
            // The SDK hands out the events before an error, then raises.
            self.pending_error = Some(error);
        }
        Ok(out)
    }
}

impl Stream {
    /// One SSE event, with the SDK `Stream`'s rules.
    fn on_event(
        &mut self,
        py: Python<'_>,
        name: &str,
        data: &str,
        out: &Bound<'_, PyList>,
    ) -> PyResult<()> {
        match name {
            "ping" | "message" => return Ok(()), // "message": the event had no name
            "error" => {
                let error = self.hook(py, intern!(py, "error"), (data,))?;
                return Err(PyErr::from_value(error));
            }
            _ if data.is_empty() => return Ok(()),
            _ => {}
        }
        if let Some(delta) = plain_delta(data) {
            let value = new_str(py, delta.value.as_str()).into_any();
            return self.on_delta(py, delta.index, delta.kind, value, RawEvent::Plain, out);
        }
        let payload = json_loads(py, &new_str(py, data))?;
        if self.mode == Mode::Raw {
            return out.append(self.hook(py, intern!(py, "raw_event"), (&payload,))?);
        }
        self.accumulate(py, payload, out)
    }

    fn hook<'py, A: pyo3::call::PyCallArgs<'py>>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
        args: A,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.hooks.bind(py).call_method1(name, args)
    }

    /// The raw event view the hooks make of `payload`, handed out (not in text mode).
    fn emit_raw<'py>(
        &self,
        py: Python<'py>,
        payload: &Bound<'py, PyAny>,
        out: &Bound<'py, PyList>,
    ) -> PyResult<()> {
        if self.mode == Mode::Text {
            return Ok(());
        }
        out.append(self.hook(py, intern!(py, "raw_event"), (payload,))?)
    }

    /// One of the helper's own events, handed out in helper mode.
    fn emit_helper(&self, out: &Bound<'_, PyList>, event: Bound<'_, PyAny>) -> PyResult<()> {
        if self.mode == Mode::Helper {
            out.append(event)?;
        }
        Ok(())
    }

    /// Any event but a plain delta, in helper and text modes: the message-level JSON is the
    /// hooks'; the blocks' content is gathered here.
    fn accumulate<'py>(
        &mut self,
        py: Python<'py>,
        payload: Bound<'py, PyAny>,
        out: &Bound<'py, PyList>,
    ) -> PyResult<()> {
        let kind = str_item(&payload, intern!(py, "type"))?;
        let kind = kind.as_ref().map(|k| k.to_str()).transpose()?.unwrap_or("");
        if kind == "content_block_delta" {
            return self.general_delta(py, payload, out);
        }
        let Some(message) = self.message.as_ref().map(|m| m.bind(py).clone()) else {
            if kind == "message_start" {
                let message = self.hook(py, intern!(py, "start_message"), (&payload,))?;
                let content = message.get_item(intern!(py, "content"))?;
                self.blocks = content
                    .try_iter()?
                    .map(|block| Block::new(block?))
                    .collect::<PyResult<_>>()?;
                self.message = Some(message.unbind());
            }
            return self.emit_raw(py, &payload, out);
        };
        match kind {
            "content_block_start" => {
                let block = self.hook(py, intern!(py, "start_block"), (&message, &payload))?;
                self.blocks.push(Block::new(block)?);
                self.emit_raw(py, &payload, out)
            }
            "content_block_stop" => {
                let index = payload.get_item(intern!(py, "index"))?;
                let hooks = self.hooks.clone_ref(py);
                let block = self.block(index.extract()?)?;
                block.write(py, hooks.bind(py))?;
                let json = block.json.clone_ref(py);
                let event = self.hook(py, intern!(py, "block_stop"), (&payload, json))?;
                self.emit_helper(out, event)
            }
            "message_delta" => {
                self.hook(py, intern!(py, "message_delta"), (&message, &payload))?;
                self.emit_raw(py, &payload, out)
            }
            "message_stop" => {
                let message = self.final_message(py)?;
                let event = self.hook(py, intern!(py, "message_stop"), (message,))?;
                self.emit_helper(out, event)
            }
            // A second message_start (the SDK keeps its first message) and unknown events.
            _ => self.emit_raw(py, &payload, out),
        }
    }

    /// A delta event the plain path did not take: its fields read from the parsed JSON.
    fn general_delta<'py>(
        &mut self,
        py: Python<'py>,
        payload: Bound<'py, PyAny>,
        out: &Bound<'py, PyList>,
    ) -> PyResult<()> {
        let started = self.message.is_some();
        let index: u64 = if started {
            let index: usize = payload.get_item(intern!(py, "index"))?.extract()?;
            self.block(index)?; // an index past the blocks: IndexError, as in the SDK
            index as u64
        } else {
            0 // not read before the message started
        };
        let delta = payload.get_item(intern!(py, "delta"))?;
        let kind = str_item(&delta, intern!(py, "type"))?;
        let kind = kind
            .as_ref()
            .map(|k| k.to_str())
            .transpose()?
            .unwrap_or("")
            .to_owned();
        let raw = if self.mode == Mode::Text && kind != "text_delta" {
            None
        } else {
            Some(self.hook(py, intern!(py, "raw_event"), (&payload,))?)
        };
        let known = DeltaKind::TABLE.iter().find(|(_, wire, _)| *wire == kind);
        if let (Some(raw), Some(&(kind, _, field))) = (raw.clone(), known) {
            let value = delta.get_item(field)?;
            return self.on_delta(py, index, kind, value, RawEvent::Made(raw), out);
        }
        if let Some(raw) = raw {
            if self.mode != Mode::Text {
                out.append(raw)?;
            }
        }
        if kind == "citations_delta" && started {
            let block = self.block(index as usize)?;
            if matches!(block.content, Content::Text(_)) {
                let json = block.json.clone_ref(py);
                let event = self.hook(py, intern!(py, "citation"), (json, &delta))?;
                self.emit_helper(out, event)?;
            }
        }
        Ok(())
    }

    fn block(&mut self, index: usize) -> PyResult<&mut Block> {
        self.blocks
            .get_mut(index)
            .ok_or_else(|| PyIndexError::new_err("list index out of range"))
    }

    /// A delta: its raw event (in text mode, the text of a text delta), then, once the message
    /// started, what its block gathers and the helper's event for it.
    fn on_delta<'py>(
        &mut self,
        py: Python<'py>,
        index: u64,
        kind: DeltaKind,
        value: Bound<'py, PyAny>,
        raw: RawEvent<'py>,
        out: &Bound<'py, PyList>,
    ) -> PyResult<()> {
        match (self.mode, raw) {
            (Mode::Text, _) => {
                if kind == DeltaKind::Text {
                    out.append(&value)?;
                }
            }
            (_, RawEvent::Made(raw)) => out.append(raw)?,
            (_, RawEvent::Plain) => {
                let delta = delta_object(py, kind, value.clone().cast_into::<PyString>()?)?;
                out.append(Bound::new(py, RawContentBlockDeltaEvent { index, delta })?)?;
            }
        }
        if self.mode == Mode::Raw || self.message.is_none() {
            return Ok(());
        }
        let helper = self.mode == Mode::Helper;
        let limit = self.max_block_bytes;
        let hooks = self.hooks.clone_ref(py);
        let block = self.block(usize::try_from(index).unwrap_or(usize::MAX))?;
        let event = match (kind, &block.content) {
            (DeltaKind::Text, Content::Text(log)) => {
                let (text, len) = gather(py, log, &value, limit)?;
                helper.then(|| TextEvent::object(py, text, log, len))
            }
            (DeltaKind::Thinking, Content::Thinking(log)) => {
                let (thinking, len) = gather(py, log, &value, limit)?;
                helper.then(|| ThinkingEvent::object(py, thinking, log, len))
            }
            (DeltaKind::InputJson, Content::ToolInput(log, initial)) => {
                let (partial_json, len) = gather(py, log, &value, limit)?;
                let initial = initial.clone_ref(py);
                let event = InputJsonEvent {
                    partial_json,
                    log: log.clone(),
                    len,
                    initial,
                    hooks,
                };
                helper.then(|| Py::new(py, event).map(Py::into_any))
            }
            (DeltaKind::Signature, Content::Thinking(_)) => {
                block
                    .json
                    .bind(py)
                    .set_item(intern!(py, "signature"), &value)?;
                helper.then(|| {
                    Py::new(
                        py,
                        SignatureEvent {
                            signature: value.unbind(),
                        },
                    )
                    .map(Py::into_any)
                })
            }
            _ => None,
        };
        if let Some(event) = event.transpose()? {
            out.append(event)?;
        }
        Ok(())
    }

    fn write_blocks(&mut self, py: Python<'_>) -> PyResult<()> {
        let hooks = self.hooks.clone_ref(py);
        for block in &mut self.blocks {
            block.write(py, hooks.bind(py))?;
        }
        Ok(())
    }

    /// The message built by the hooks from its JSON, with every block's content written in.
    fn build_message<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(message) = self.message.as_ref().map(|m| m.clone_ref(py)) else {
            return Ok(None);
        };
        self.write_blocks(py)?;
        self.hook(py, intern!(py, "message"), (message,)).map(Some)
    }

    fn final_message<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(message) = &self.final_message {
            return Ok(message.bind(py).clone());
        }
        let built = self.build_message(py)?.ok_or_else(|| {
            PyRuntimeError::new_err("the stream ended before its message_start event")
        })?;
        self.final_message = Some(built.clone().unbind());
        Ok(built)
    }
}

/// Append a delta's string to its block's log: the string, and the log's new length. A value
/// that is not a string fails as the SDK's `+=` does.
fn gather(
    py: Python<'_>,
    log: &Log,
    value: &Bound<'_, PyAny>,
    limit: usize,
) -> PyResult<(Py<PyString>, usize)> {
    let piece = value.cast::<PyString>().map_err(|_| {
        let name = value
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        PyTypeError::new_err(format!("can only concatenate str (not \"{name}\") to str"))
    })?;
    let len = log.push(piece.to_str()?, limit).py_result(py)?;
    Ok((piece.clone().unbind(), len))
}

#[pymethods]
impl AnthropicEventDecoder {
    /// `mode`: "raw" (`messages.create(stream=True)`), "helper" (`messages.stream(...)`) or
    /// "text" (its `text_stream`); `hooks`: the Python side (`fastsse.sdk._anthropic`).
    #[new]
    #[pyo3(signature = (
        mode, hooks, *, max_event_size = DEFAULT_MAX_EVENT_SIZE, max_block_bytes = DEFAULT_MAX_BLOCK_BYTES
    ))]
    fn py_new(
        mode: &str,
        hooks: Py<PyAny>,
        max_event_size: usize,
        max_block_bytes: usize,
    ) -> PyResult<Self> {
        Ok(AnthropicEventDecoder {
            sse: sse_decoder(max_event_size, false)?,
            state: Stream {
                mode: parse_mode(mode)?,
                hooks,
                message: None,
                blocks: Vec::new(),
                final_message: None,
                max_block_bytes,
            },
            pending_error: None,
            stopped: false,
        })
    }

    /// Feed one network chunk; returns the events (or, in text mode, the texts) it completes.
    fn decode<'py>(&mut self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        with_bytes(data, |bytes| self.run(data.py(), Some(bytes)))
    }

    /// End of stream.
    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.run(py, None)
    }

    #[getter]
    fn mode(&self) -> &'static str {
        match self.state.mode {
            Mode::Raw => "raw",
            Mode::Helper => "helper",
            Mode::Text => "text",
        }
    }

    /// Switch between "helper" and "text" output (`text_stream` after some events).
    #[setter]
    fn set_mode(&mut self, mode: &str) -> PyResult<()> {
        let mode = parse_mode(mode)?;
        if (mode == Mode::Raw) != (self.state.mode == Mode::Raw) {
            return Err(PyValueError::new_err(
                "a raw decoder keeps no message to switch to",
            ));
        }
        self.state.mode = mode;
        Ok(())
    }

    /// The SDK's own message, built once from everything gathered (after the stream ended).
    #[pyo3(name = "final_message")]
    fn py_final_message<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.state.final_message(py)
    }

    /// The message so far, as the SDK's model (built on each call); None before it started.
    fn message_snapshot<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.state.final_message {
            Some(message) => Ok(Some(message.bind(py).clone())),
            None => self.state.build_message(py),
        }
    }
}

fn parse_mode(mode: &str) -> PyResult<Mode> {
    match mode {
        "raw" => Ok(Mode::Raw),
        "helper" => Ok(Mode::Helper),
        "text" => Ok(Mode::Text),
        other => Err(PyValueError::new_err(format!(
            "mode must be \"raw\", \"helper\" or \"text\", got {other:?}"
        ))),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AnthropicEventDecoder>()?;
    m.add_class::<RawContentBlockDeltaEvent>()?;
    m.add_class::<TextDelta>()?;
    m.add_class::<InputJSONDelta>()?;
    m.add_class::<ThinkingDelta>()?;
    m.add_class::<SignatureDelta>()?;
    m.add_class::<TextEvent>()?;
    m.add_class::<ThinkingEvent>()?;
    m.add_class::<InputJsonEvent>()?;
    m.add_class::<SignatureEvent>()?;
    Ok(())
}
