//! Server-Sent Events framing: the WHATWG "event stream interpretation", exactly.

mod decoder;

pub use decoder::{SseConfig, SseDecoder, SseEvent, SseEventView, DEFAULT_MAX_EVENT_SIZE};
