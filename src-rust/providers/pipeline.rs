//! The provider pipeline: response bytes -> framer -> reducer -> unified chunks.
//!
//! `ChunkDecoder` owns the framer the provider's `registry::Framing` names (SSE, NDJSON or
//! AWS eventstream) and hands every framed event to the provider's `Reducer`. It also owns
//! the cross-provider rules, so reducers do not repeat them:
//!
//! * `raw`: every chunk made from one event gets that event's text, a `SharedText` piece of
//!   one buffer holding the events of the `decode` call (one allocation a call, not one an
//!   event);
//! * `is_first`: set on the first chunk of the stream that carries content;
//! * the non-streaming fallback: an `application/json` body (named by `content_type`, or
//!   sniffed for SSE and eventstream providers when the first non-blank byte is `{`) is buffered, capped, and
//!   given whole to `Reducer::on_complete_body`, which yields the same chunk sequence;
//! * errors keep what arrived: when an event fails (a provider error, malformed JSON) after
//!   other events of the same `decode` call produced chunks, those chunks are returned and the
//!   error is raised by the next `decode`/`flush` call.

use std::ops::Range;
use std::sync::Arc;

use crate::chunk::GenerationChunk;
use crate::error::{Error, Result};
use crate::framing::eventstream::{EventStreamDecoder, MessageKind};
use crate::framing::ndjson::NdjsonDecoder;
use crate::framing::sse::{SseConfig, SseDecoder, DEFAULT_MAX_EVENT_SIZE};
use crate::framing::{body_kind, BodyKind, Framing, Lifecycle};
use crate::providers::Chunks;
use crate::shared_text::SharedText;

use super::registry::{self, ProviderSpec};
use super::{Reducer, WireEvent};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkDecoderConfig {
    /// Cap on one framed event, and on a buffered JSON body.
    pub max_event_size: usize,
    /// The response's Content-Type header, when the caller knows it. A JSON media type
    /// selects the non-streaming fallback; `None` lets SSE providers sniff the first byte.
    pub content_type: Option<String>,
}

impl Default for ChunkDecoderConfig {
    fn default() -> Self {
        ChunkDecoderConfig {
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            content_type: None,
        }
    }
}

enum Mode {
    /// An SSE or eventstream provider without a known Content-Type, before the first
    /// non-blank byte: the body may still turn out to be JSON. Holds the blank bytes seen so
    /// far. (An eventstream frame never starts with `{` or a blank: its first byte is the top
    /// byte of a length under the cap.)
    Sniffing(Vec<u8>),
    Sse(SseDecoder),
    Ndjson(NdjsonDecoder),
    EventStream(EventStreamDecoder),
    JsonBody(Vec<u8>),
}

pub struct ChunkDecoder {
    spec: &'static ProviderSpec,
    reducer: Box<dyn Reducer>,
    mode: Mode,
    max_event_size: usize,
    stamper: Stamper,
    /// An error that happened after chunks of the same call were produced; raised next call.
    pending_error: Option<Error>,
    lifecycle: Lifecycle,
    /// Bytes fed so far (offsets of JSON-body errors).
    consumed: u64,
}

impl std::fmt::Debug for ChunkDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkDecoder")
            .field("provider", &self.spec.name)
            .field("lifecycle", &self.lifecycle)
            .finish_non_exhaustive()
    }
}

impl ChunkDecoder {
    pub fn new(provider: &str, config: ChunkDecoderConfig) -> Result<Self> {
        let spec = registry::lookup(provider).ok_or_else(|| {
            let known: Vec<&str> = registry::PROVIDERS.iter().map(|p| p.name).collect();
            Error::usage(format!(
                "unknown provider {provider:?}; known providers: {}",
                known.join(", ")
            ))
        })?;
        if config.max_event_size == 0 {
            return Err(Error::usage(
                "max_event_size must be a positive number of bytes",
            ));
        }
        let kind = config
            .content_type
            .as_deref()
            .map(body_kind)
            .unwrap_or(BodyKind::Unknown);
        let sse = || {
            SseDecoder::new(SseConfig {
                max_event_size: config.max_event_size,
                // Providers' last event is sometimes left without its blank line; it is a
                // complete JSON object all the same.
                dispatch_unterminated: true,
            })
        };
        let mode = match (kind, spec.framing) {
            (BodyKind::Json, _) => Mode::JsonBody(Vec::new()),
            (BodyKind::Framed(framing), expected) if framing != expected => {
                return Err(Error::usage(format!(
                    "provider {:?} streams {} but the response Content-Type is {:?}; pick the provider \
                     that matches the endpoint (OpenAI-compatible servers use \"openai\")",
                    spec.name,
                    expected.content_type(),
                    config.content_type.as_deref().unwrap_or_default(),
                )));
            }
            (BodyKind::Framed(_), Framing::Sse) => Mode::Sse(sse()),
            (BodyKind::Unknown, Framing::Sse | Framing::EventStream) => Mode::Sniffing(Vec::new()),
            (_, Framing::Ndjson) => Mode::Ndjson(NdjsonDecoder::new(config.max_event_size)),
            (_, Framing::EventStream) => {
                Mode::EventStream(EventStreamDecoder::new(config.max_event_size))
            }
        };
        Ok(ChunkDecoder {
            spec,
            reducer: (spec.new_reducer)(),
            mode,
            max_event_size: config.max_event_size,
            stamper: Stamper::default(),
            pending_error: None,
            lifecycle: Lifecycle::new("ChunkDecoder"),
            consumed: 0,
        })
    }

    pub fn provider(&self) -> &'static ProviderSpec {
        self.spec
    }

    pub fn max_event_size(&self) -> usize {
        self.max_event_size
    }

    /// True once the body is known to be a whole JSON document rather than a stream.
    pub fn is_json_body(&self) -> bool {
        matches!(self.mode, Mode::JsonBody(_))
    }

    /// Feed bytes; returns the chunks they complete.
    pub fn decode(&mut self, input: &[u8]) -> Result<Vec<GenerationChunk>> {
        let mut out = Vec::new();
        self.decode_into(input, &mut out)?;
        Ok(out)
    }

    /// End of stream; returns the last chunks (always ending with the terminal ones).
    pub fn flush(&mut self) -> Result<Vec<GenerationChunk>> {
        let mut out = Vec::new();
        self.flush_into(&mut out)?;
        Ok(out)
    }

    pub fn decode_into(&mut self, input: &[u8], out: &mut Chunks) -> Result<()> {
        self.check_usable("decode")?;
        let start = out.len();
        let result = self.decode_inner(input, out);
        self.stamper.share(out);
        self.settle(result, out.len() > start)
    }

    pub fn flush_into(&mut self, out: &mut Chunks) -> Result<()> {
        self.check_usable("flush")?;
        let start = out.len();
        let result = self.flush_inner(out);
        self.stamper.share(out);
        if result.is_ok() {
            self.lifecycle.after_flush(Ok(()))?;
        }
        self.settle(result, out.len() > start)
    }

    fn check_usable(&mut self, what: &str) -> Result<()> {
        if let Some(error) = self.pending_error.take() {
            self.lifecycle.fail();
            return Err(error);
        }
        self.lifecycle.check(what)
    }

    /// Deliver chunks made before an error now, and the error on the next call.
    fn settle(&mut self, result: Result<()>, produced: bool) -> Result<()> {
        match result {
            Ok(()) => Ok(()),
            Err(error) if produced => {
                self.pending_error = Some(error);
                self.lifecycle.fail();
                Ok(())
            }
            Err(error) => self.lifecycle.after_decode(Err(error)),
        }
    }

    fn decode_inner(&mut self, input: &[u8], out: &mut Chunks) -> Result<()> {
        let offset = self.consumed;
        self.consumed += input.len() as u64;
        if let Mode::Sniffing(held) = &mut self.mode {
            match input.iter().position(|b| !b.is_ascii_whitespace()) {
                None => {
                    if held.len() + input.len() > self.max_event_size {
                        return Err(Error::EventTooLarge {
                            what: "blank prefix of the response body",
                            limit: self.max_event_size,
                            offset: offset + input.len() as u64,
                        });
                    }
                    held.extend_from_slice(input);
                    return Ok(());
                }
                Some(first) if input[first] == b'{' => {
                    let mut body = std::mem::take(held);
                    body.extend_from_slice(input);
                    self.mode = Mode::JsonBody(body);
                    return self.check_json_cap(offset + input.len() as u64);
                }
                Some(_) => {
                    let held = std::mem::take(held);
                    self.mode = match self.spec.framing {
                        Framing::EventStream => {
                            Mode::EventStream(EventStreamDecoder::new(self.max_event_size))
                        }
                        _ => Mode::Sse(SseDecoder::new(SseConfig {
                            max_event_size: self.max_event_size,
                            dispatch_unterminated: true,
                        })),
                    };
                    if !held.is_empty() {
                        self.feed_framer(&held, out)?;
                    }
                }
            }
        }
        if let Mode::JsonBody(body) = &mut self.mode {
            body.extend_from_slice(input);
            return self.check_json_cap(offset + input.len() as u64);
        }
        self.feed_framer(input, out)
    }

    fn check_json_cap(&self, offset: u64) -> Result<()> {
        match &self.mode {
            Mode::JsonBody(body) if body.len() > self.max_event_size => Err(Error::EventTooLarge {
                what: "JSON response body",
                limit: self.max_event_size,
                offset,
            }),
            _ => Ok(()),
        }
    }

    fn feed_framer(&mut self, input: &[u8], out: &mut Chunks) -> Result<()> {
        let reducer = &mut self.reducer;
        let stamper = &mut self.stamper;
        match &mut self.mode {
            Mode::Sse(decoder) => decoder.decode_with(input, |view| {
                let event = WireEvent {
                    event: view.event,
                    data: view.data,
                    offset: view.offset,
                };
                reduce(reducer.as_mut(), &event, out, stamper)
            }),
            Mode::Ndjson(decoder) => decoder.decode_with(input, |line, offset| {
                let event = WireEvent {
                    event: "",
                    data: line,
                    offset,
                };
                reduce(reducer.as_mut(), &event, out, stamper)
            }),
            Mode::EventStream(decoder) => {
                decoder.decode_with(input, |message| match message.kind()? {
                    MessageKind::Event(event) => reduce(reducer.as_mut(), &event, out, stamper),
                    // An `exception`/`error` frame: the provider says what error it is.
                    MessageKind::Fault(fault) => Err(reducer.on_fault(&fault)),
                })
            }
            Mode::Sniffing(_) | Mode::JsonBody(_) => unreachable!("handled by decode_inner"),
        }
    }

    fn flush_inner(&mut self, out: &mut Chunks) -> Result<()> {
        let reducer = &mut self.reducer;
        let stamper = &mut self.stamper;
        match &mut self.mode {
            Mode::Sniffing(_) => {}
            Mode::Sse(decoder) => decoder.flush_with(|view| {
                let event = WireEvent {
                    event: view.event,
                    data: view.data,
                    offset: view.offset,
                };
                // Only an event left without its blank line reaches here. Complete, it
                // counts; cut off mid-JSON, the stream was truncated, which the reducer's
                // terminal chunk reports (`incomplete_stream`) better than a parse error.
                match reduce(reducer.as_mut(), &event, out, stamper) {
                    Err(Error::Protocol { .. }) => Ok(()),
                    other => other,
                }
            })?,
            Mode::Ndjson(decoder) => decoder.flush_with(|line, offset| {
                let event = WireEvent {
                    event: "",
                    data: line,
                    offset,
                };
                reduce(reducer.as_mut(), &event, out, stamper)
            })?,
            // A frame left unfinished is a typed ProtocolError (the stream was cut mid-frame).
            Mode::EventStream(decoder) => decoder.flush()?,
            Mode::JsonBody(body) => {
                let body = String::from_utf8_lossy(body);
                let start = out.len();
                if let Err(error) = reducer.on_complete_body(&body, self.consumed, out) {
                    out.truncate(start);
                    return Err(error);
                }
                stamper.stamp(out, start, Some(&body));
            }
        }
        let start = out.len();
        reducer.finish(out)?;
        stamper.stamp(out, start, None);
        Ok(())
    }
}

/// One framed event through the reducer. The event is atomic: if the reducer fails, the
/// chunks it had appended for this event are dropped.
fn reduce(
    reducer: &mut dyn Reducer,
    event: &WireEvent<'_>,
    out: &mut Chunks,
    stamper: &mut Stamper,
) -> Result<()> {
    let start = out.len();
    if let Err(error) = reducer.on_event(event, out) {
        out.truncate(start);
        return Err(error);
    }
    stamper.stamp(out, start, Some(event.data));
    Ok(())
}

/// What the pipeline sets on every reducer's chunk: `is_first` on the stream's first content
/// chunk, and `raw` (unless the reducer set it) from one buffer per `decode` call.
#[derive(Default)]
struct Stamper {
    seen_content: bool,
    /// The text of this call's events, one after the other. Chunks of earlier calls may
    /// still share it; once none does, it is reused rather than allocated again.
    buffer: Arc<String>,
    /// Per event not yet shared: its chunks (a range of the output) and its span in `buffer`.
    events: Vec<(Range<usize>, Range<usize>)>,
}

impl Stamper {
    /// `out[from..]` came from the event `raw` (`None`: from no event, e.g. end of stream).
    fn stamp(&mut self, out: &mut Chunks, from: usize, raw: Option<&str>) {
        if from == out.len() {
            return;
        }
        if !self.seen_content {
            if let Some(first) = out[from..].iter_mut().find(|c| c.has_content()) {
                first.is_first = true;
                self.seen_content = true;
            }
        }
        let Some(raw) = raw else { return };
        if self.buffer.len() + raw.len() > SharedText::MAX_BUFFER {
            self.share(out);
        }
        if self.events.is_empty() {
            // The last call's chunks may hold the buffer: start a new one if so.
            match Arc::get_mut(&mut self.buffer) {
                Some(text) => text.clear(),
                None => self.buffer = Arc::default(),
            }
        }
        let text = Arc::get_mut(&mut self.buffer).expect("unshared until `share`");
        let start = text.len();
        text.push_str(raw);
        self.events.push((from..out.len(), start..text.len()));
    }

    /// Give the stamped chunks their events' text, all pieces of the one buffer.
    fn share(&mut self, out: &mut Chunks) {
        for (chunks, span) in self.events.drain(..) {
            for chunk in out[chunks].iter_mut().filter(|c| c.raw.is_none()) {
                chunk.raw = Some(SharedText::piece(&self.buffer, span.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The raw buffer is reused only once no chunk of an earlier call holds it.
    #[test]
    fn raw_of_kept_chunks_survives_later_calls() {
        let event = |text: &str| {
            format!(
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}}}}]}}\n\n"
            )
        };
        let raw = |chunks: &[GenerationChunk]| chunks[0].raw.as_deref().unwrap().to_owned();
        let mut decoder = ChunkDecoder::new("openai", ChunkDecoderConfig::default()).unwrap();
        let kept = decoder.decode(event("a").as_bytes()).unwrap();
        let second = decoder.decode(event("b").as_bytes()).unwrap();
        assert!(raw(&kept).contains("\"a\"") && raw(&second).contains("\"b\""));
        drop(kept);
        let third = decoder.decode(event("c").as_bytes()).unwrap();
        assert!(raw(&second).contains("\"b\"") && raw(&third).contains("\"c\""));
        drop((second, third));
        let mut out = Vec::new();
        decoder
            .decode_into(format!("{}{}", event("d"), event("e")).as_bytes(), &mut out)
            .unwrap();
        assert!(raw(&out[..1]).contains("\"d\"") && raw(&out[1..]).contains("\"e\""));
    }

    #[test]
    fn unknown_provider_lists_known_ones() {
        let err = ChunkDecoder::new("nope", ChunkDecoderConfig::default()).unwrap_err();
        assert!(
            matches!(&err, Error::Usage { message } if message.contains("openai")),
            "{err}"
        );
    }
}
