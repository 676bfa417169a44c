//! Server-Sent Events framing: the WHATWG "event stream interpretation", exactly, both ways.

mod decoder;
mod writer;

pub use decoder::{SseConfig, SseDecoder, SseEvent, SseEventView, DEFAULT_MAX_EVENT_SIZE};
pub use writer::{write_event, OutgoingEvent};
