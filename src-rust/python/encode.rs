//! `Encoder`, `encode()` and `encode_response()` for Python: `GenerationChunk`s in, wire bytes
//! out, one call per batch. Chunks are borrowed from their Python objects, never copied, except
//! the rare chunk whose `logprobs` was given from Python (serialized once with orjson).

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use super::chunk::GenerationChunk;
use super::errors::{catch_panic, internal_error, IntoPyResult};
use super::iterate::for_each_item;
use super::json::orjson_dumps;
use super::value_objects::repr_str;
use crate::chunk::GenerationChunk as CoreChunk;
use crate::encode::{self, Envelope, Format, ReasoningField, ResponseFields};

/// 96 bits of hex for default response ids: not secret, only unique.
fn unique_hex() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(nanos);
    let high = hasher.finish();
    hasher.write_u8(1);
    let low = hasher.finish() as u32;
    format!("{high:016x}{low:08x}")
}

fn default_id(format: Format) -> String {
    match format {
        Format::OpenAi => format!("chatcmpl-{}", unique_hex()),
        Format::Anthropic | Format::VercelUi => format!("msg_{}", unique_hex()),
        Format::OpenAiResponses => format!("resp_{}", unique_hex()),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The envelope keywords shared by `Encoder`, `encode` and `encode_response`.
#[allow(clippy::too_many_arguments)]
fn envelope(
    py: Python<'_>,
    format: Format,
    id: Option<String>,
    model: &str,
    created: Option<u64>,
    system_fingerprint: Option<String>,
    include_usage: bool,
    reasoning_field: &str,
    prompt_tokens: Option<u64>,
    ping: bool,
    reasoning_summary: bool,
    response_fields: Option<&Bound<'_, PyAny>>,
) -> PyResult<Envelope> {
    let response_fields = match response_fields {
        None => ResponseFields::default(),
        Some(fields) => {
            let json = orjson_dumps(py)?.call1((fields,))?;
            let json = String::from_utf8_lossy(json.cast::<PyBytes>()?.as_bytes());
            ResponseFields::parse(&json).py_result(py)?
        }
    };
    Ok(Envelope {
        id: id.unwrap_or_else(|| default_id(format)),
        model: model.to_owned(),
        created: created.unwrap_or_else(unix_now),
        system_fingerprint,
        include_usage,
        reasoning_field: ReasoningField::parse(reasoning_field).py_result(py)?,
        prompt_tokens,
        ping,
        reasoning_summary,
        response_fields,
    })
}

/// The chunks of a Python iterable, held for one encode call.
struct Batch<'py> {
    items: Vec<Bound<'py, GenerationChunk>>,
    /// Copies of the chunks whose logprobs came from Python, with them as JSON text.
    with_logprobs: Vec<Option<CoreChunk>>,
}

impl<'py> Batch<'py> {
    fn collect(chunks: &Bound<'py, PyAny>) -> PyResult<Batch<'py>> {
        let py = chunks.py();
        let mut items = Vec::new();
        for_each_item(chunks, |position, item| {
            match item.cast_into::<GenerationChunk>() {
                Ok(chunk) => {
                    items.push(chunk);
                    Ok(())
                }
                Err(error) => Err(PyTypeError::new_err(format!(
                    "chunks must be GenerationChunk objects; item {position} is {}",
                    error.into_inner().get_type().name()?
                ))),
            }
        })?;
        let mut with_logprobs = Vec::new();
        for (position, item) in items.iter().enumerate() {
            if let Some(value) = item.get().logprobs_from_python(py) {
                let json = orjson_dumps(py)?.call1((value,))?;
                // orjson writes UTF-8; lossy conversion never replaces anything here.
                let json = String::from_utf8_lossy(json.cast::<PyBytes>()?.as_bytes());
                with_logprobs.resize(position + 1, None);
                let mut chunk = item.get().inner.clone();
                chunk.rare.logprobs = Some(json.as_ref().into());
                with_logprobs[position] = Some(chunk);
            }
        }
        Ok(Batch {
            items,
            with_logprobs,
        })
    }

    fn iter(&self) -> impl Iterator<Item = &CoreChunk> {
        self.items.iter().enumerate().map(|(position, item)| {
            match self.with_logprobs.get(position) {
                Some(Some(copy)) => copy,
                _ => &item.get().inner,
            }
        })
    }
}

/// A stream encoder: `encode(chunks) -> bytes` per batch, then `finish() -> bytes` once.
///
/// `format` is "openai" (`chat.completion.chunk` events, then `data: [DONE]`), "anthropic"
/// (Messages events, each with an `event:` line), "openai-responses" (Responses events) or
/// "vercel-ui" (the AI SDK UI message stream). Keywords: `id` (default `chatcmpl-<hex>` /
/// `msg_<hex>` / `resp_<hex>`), `model`, `created` (Unix seconds, default now),
/// `system_fingerprint`, `include_usage` (OpenAI usage chunk), `reasoning_field`
/// ("reasoning_content" or "reasoning"), `prompt_tokens` (input tokens when known up front),
/// `ping` (Anthropic `ping` after `message_start`), `reasoning_summary` (Responses: reasoning
/// as summary parts), `response_fields` (Responses: a dict of the request fields the response
/// object repeats, e.g. `tools`, `instructions`).
///
/// The first `encode` call writes the preamble, even with no chunks. A chunk with an error
/// becomes the format's error event and ends the stream.
#[pyclass(module = "fastsse")]
pub struct Encoder {
    inner: encode::Encoder,
    /// Reused output buffer: one allocation for the encoder's life, not one per batch.
    buffer: Vec<u8>,
    id: String,
    model: String,
    created: u64,
}

impl Encoder {
    /// One guarded call into the core encoder, writing into the reused buffer: its bytes.
    fn write<'py>(
        &mut self,
        py: Python<'py>,
        call: impl FnOnce(&mut encode::Encoder, &mut Vec<u8>) -> crate::error::Result<()>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        self.buffer.clear();
        let result = catch_panic(|| call(&mut self.inner, &mut self.buffer));
        let nothing_made = Ok(PyList::empty(py));
        result
            .map_err(|m| internal_error(py, m, nothing_made))?
            .py_result(py)?;
        Ok(PyBytes::new(py, &self.buffer))
    }
}

#[pymethods]
impl Encoder {
    #[new]
    #[pyo3(signature = (
        format = "openai",
        *,
        id = None,
        model = "",
        created = None,
        system_fingerprint = None,
        include_usage = false,
        reasoning_field = "reasoning_content",
        prompt_tokens = None,
        ping = false,
        reasoning_summary = false,
        response_fields = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        py: Python<'_>,
        format: &str,
        id: Option<String>,
        model: &str,
        created: Option<u64>,
        system_fingerprint: Option<String>,
        include_usage: bool,
        reasoning_field: &str,
        prompt_tokens: Option<u64>,
        ping: bool,
        reasoning_summary: bool,
        response_fields: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let format = Format::parse(format).py_result(py)?;
        let envelope = envelope(
            py,
            format,
            id,
            model,
            created,
            system_fingerprint,
            include_usage,
            reasoning_field,
            prompt_tokens,
            ping,
            reasoning_summary,
            response_fields,
        )?;
        Ok(Encoder {
            id: envelope.id.clone(),
            model: envelope.model.clone(),
            created: envelope.created,
            inner: encode::Encoder::new(format, envelope),
            buffer: Vec::with_capacity(1024),
        })
    }

    /// SSE bytes for a batch of chunks (the first call also writes the preamble).
    fn encode<'py>(&mut self, chunks: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
        let batch = Batch::collect(chunks)?;
        self.write(chunks.py(), |encoder, out| {
            encoder.encode(batch.iter(), out)
        })
    }

    /// The end of the stream; the encoder accepts nothing after this.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.write(py, |encoder, out| encoder.finish(out))
    }

    #[getter]
    fn format(&self) -> &'static str {
        self.inner.format().as_str()
    }
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }
    #[getter]
    fn model(&self) -> &str {
        &self.model
    }
    #[getter]
    fn created(&self) -> u64 {
        self.created
    }
    #[getter]
    fn finished(&self) -> bool {
        self.inner.is_finished()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Encoder({}, id={}, model={}{})",
            repr_str(py, self.inner.format().as_str())?,
            repr_str(py, &self.id)?,
            repr_str(py, &self.model)?,
            if self.inner.is_finished() {
                ", finished"
            } else {
                ""
            },
        ))
    }
}

/// Declares a one-shot Python function: `chunks`, `format` and the envelope keywords in, the
/// bytes `$encode` writes for the whole chunk sequence out (the keyword list is written once).
macro_rules! one_shot_function {
    ($(#[$attribute:meta])* fn $name:ident => $encode:path) => {
        $(#[$attribute])*
        #[pyo3(signature = (
            chunks,
            format = "openai",
            *,
            id = None,
            model = "",
            created = None,
            system_fingerprint = None,
            include_usage = false,
            reasoning_field = "reasoning_content",
            prompt_tokens = None,
            ping = false,
            reasoning_summary = false,
            response_fields = None,
        ))]
        #[allow(clippy::too_many_arguments)]
        pub fn $name<'py>(
            chunks: &Bound<'py, PyAny>,
            format: &str,
            id: Option<String>,
            model: &str,
            created: Option<u64>,
            system_fingerprint: Option<String>,
            include_usage: bool,
            reasoning_field: &str,
            prompt_tokens: Option<u64>,
            ping: bool,
            reasoning_summary: bool,
            response_fields: Option<&Bound<'py, PyAny>>,
        ) -> PyResult<Bound<'py, PyBytes>> {
            let py = chunks.py();
            let format = Format::parse(format).py_result(py)?;
            let envelope = envelope(
                py,
                format,
                id,
                model,
                created,
                system_fingerprint,
                include_usage,
                reasoning_field,
                prompt_tokens,
                ping,
                reasoning_summary,
                response_fields,
            )?;
            let batch = Batch::collect(chunks)?;
            let bytes = $encode(batch.iter(), format, envelope).py_result(py)?;
            Ok(PyBytes::new(py, &bytes))
        }
    };
}

one_shot_function! {
    /// The whole SSE stream for `chunks`: `Encoder(format, **envelope)`, `encode`, `finish`.
    #[pyfunction(name = "encode")]
    fn encode_stream => encode::encode
}

one_shot_function! {
    /// The non-streaming body for `chunks`: an OpenAI `chat.completion`, an Anthropic `message` or
    /// an OpenAI Responses `response` ("vercel-ui" is a stream only).
    ///
    /// When a chunk carries an error (`error_code`, `error_message` or `finish_reason="error"`),
    /// the body is the provider's error object instead; send it with a 5xx status.
    #[pyfunction]
    fn encode_response => encode::encode_response
}
