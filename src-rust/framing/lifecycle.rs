//! The one lifecycle every incremental decoder follows: open until `flush()` or an error, then
//! every further call is a usage error naming the decoder and the call.

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Flushed,
    Failed,
}

/// Tracks whether a decoder may still be called; `owner` is the Python class name used in
/// messages (e.g. "SSEDecoder").
#[derive(Debug, Clone)]
pub struct Lifecycle {
    owner: &'static str,
    state: State,
}

impl Lifecycle {
    pub const fn new(owner: &'static str) -> Self {
        Lifecycle {
            owner,
            state: State::Open,
        }
    }

    /// Refuse `what` (e.g. "decode") once the stream was flushed or failed.
    pub fn check(&self, what: &str) -> Result<()> {
        let owner = self.owner;
        match self.state {
            State::Open => Ok(()),
            State::Flushed => Err(Error::usage(format!(
                "{owner}.{what}() called after flush(); create a new decoder for a new stream"
            ))),
            State::Failed => Err(Error::usage(format!(
                "{owner}.{what}() called after the decoder raised an error; the stream cannot be resumed"
            ))),
        }
    }

    /// The outcome of a `decode` call: an error poisons the decoder.
    pub fn after_decode<T>(&mut self, result: Result<T>) -> Result<T> {
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    /// The outcome of a `flush` call: the stream is over either way.
    pub fn after_flush<T>(&mut self, result: Result<T>) -> Result<T> {
        self.state = if result.is_ok() {
            State::Flushed
        } else {
            State::Failed
        };
        result
    }

    /// Poison the decoder (an error surfaced outside `after_decode`).
    pub fn fail(&mut self) {
        self.state = State::Failed;
    }

    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }
}
