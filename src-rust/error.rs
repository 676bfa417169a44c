//! One error type for the whole core, split by blame (see docs/ARCHITECTURE.md).
//!
//! The Python binding maps each variant onto a class of the `FastSSEError` hierarchy;
//! messages always say what was wrong, where (byte offset) and which limit applied.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A single event (or the unfinished line that would become one) outgrew its cap.
    EventTooLarge {
        what: &'static str,
        limit: usize,
        offset: u64,
    },
    /// A CRC32 in a binary frame did not match.
    Checksum {
        what: &'static str,
        expected: u32,
        actual: u32,
        offset: u64,
    },
    /// Bytes that break the wire format: a malformed frame, malformed JSON in an event, ...
    Protocol {
        message: String,
        offset: Option<u64>,
    },
    /// The caller used an object wrongly (decode after flush, unknown option value, ...).
    Usage { message: String },
    /// An input outgrew a cap that bounds its cost (stop strings, schema depth, path index, ...).
    /// `limit_name` names the cap (`max_stop_strings`, `max_schema_depth`, ...).
    LimitExceeded {
        limit_name: &'static str,
        limit: usize,
        message: String,
    },
    /// The provider itself reported an error inside the stream.
    Provider {
        code: Option<String>,
        message: String,
        raw: String,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn protocol(message: impl Into<String>, offset: Option<u64>) -> Self {
        Error::Protocol {
            message: message.into(),
            offset,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
        }
    }

    /// The provider's own error, with the event (or body) that reported it.
    pub fn provider(code: Option<String>, message: impl Into<String>, raw: &str) -> Self {
        Error::Provider {
            code,
            message: message.into(),
            raw: raw.to_owned(),
        }
    }

    pub fn limit(limit_name: &'static str, limit: usize, message: impl Into<String>) -> Self {
        Error::LimitExceeded {
            limit_name,
            limit,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EventTooLarge {
                what,
                limit,
                offset,
            } => write!(
                f,
                "{what} exceeds the limit of {limit} bytes (stream offset {offset}); raise the limit if this is expected"
            ),
            Error::Checksum {
                what,
                expected,
                actual,
                offset,
            } => write!(
                f,
                "{what} checksum mismatch at stream offset {offset}: frame says {expected:#010x}, bytes give {actual:#010x}"
            ),
            Error::Protocol {
                message,
                offset: Some(offset),
            } => write!(f, "{message} (stream offset {offset})"),
            Error::Protocol {
                message,
                offset: None,
            } => f.write_str(message),
            Error::Usage { message } => f.write_str(message),
            Error::LimitExceeded {
                limit_name,
                limit,
                message,
            } => write!(f, "{message} (limit {limit_name} = {limit})"),
            Error::Provider {
                code: Some(code),
                message,
                ..
            } => write!(f, "provider error {code}: {message}"),
            Error::Provider {
                code: None,
                message,
                ..
            } => write!(f, "provider error: {message}"),
        }
    }
}

impl std::error::Error for Error {}
