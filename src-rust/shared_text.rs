//! `SharedText`: a piece of a text buffer that many owners share. The provider pipeline
//! copies the events of one `decode` call into one buffer and gives each chunk its event's
//! span as `raw`: one allocation a call instead of one an event (the text is read only when
//! a caller asks for `chunk.raw`).

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// `text[start..end]` of a shared buffer. Cloning shares the buffer; while any piece lives,
/// the whole buffer does (for a decoded stream: the events of one network read).
#[derive(Clone)]
pub struct SharedText {
    buffer: Arc<String>,
    start: u32,
    end: u32,
}

impl SharedText {
    /// The largest buffer pieces can point into (offsets are `u32` to keep the piece small).
    pub const MAX_BUFFER: usize = u32::MAX as usize;

    /// `span` of `buffer`. Panics when the span is out of bounds, not on char boundaries, or
    /// the buffer is over `MAX_BUFFER` bytes: the caller owns both.
    pub fn piece(buffer: &Arc<String>, span: Range<usize>) -> SharedText {
        assert!(
            buffer.len() <= Self::MAX_BUFFER && buffer.get(span.clone()).is_some(),
            "SharedText span {span:?} outside a buffer of {} bytes",
            buffer.len()
        );
        SharedText {
            buffer: Arc::clone(buffer),
            start: span.start as u32,
            end: span.end as u32,
        }
    }

    /// Whether two pieces point into the same buffer.
    pub fn shares_buffer(&self, other: &SharedText) -> bool {
        Arc::ptr_eq(&self.buffer, &other.buffer)
    }
}

impl Deref for SharedText {
    type Target = str;

    fn deref(&self) -> &str {
        // In bounds and on char boundaries: checked when the piece was made.
        &self.buffer[self.start as usize..self.end as usize]
    }
}

/// A buffer of its own, holding exactly `text`.
impl From<String> for SharedText {
    fn from(text: String) -> Self {
        let end = text.len();
        SharedText::piece(&Arc::new(text), 0..end)
    }
}

impl From<&str> for SharedText {
    fn from(text: &str) -> Self {
        SharedText::from(text.to_owned())
    }
}

impl PartialEq for SharedText {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for SharedText {}

impl fmt::Debug for SharedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_share_one_buffer_and_compare_by_text() {
        let buffer = Arc::new("{\"a\":1}{\"b\":2}".to_owned());
        let (a, b) = (
            SharedText::piece(&buffer, 0..7),
            SharedText::piece(&buffer, 7..14),
        );
        assert_eq!((&*a, &*b), ("{\"a\":1}", "{\"b\":2}"));
        assert!(a.shares_buffer(&b));
        assert_eq!(a, SharedText::from("{\"a\":1}"));
        assert!(!a.shares_buffer(&SharedText::from("{\"a\":1}")));
        assert_eq!(format!("{a:?}"), "\"{\\\"a\\\":1}\"");
    }

    #[test]
    #[should_panic(expected = "outside a buffer")]
    fn a_span_off_a_char_boundary_is_refused() {
        SharedText::piece(&Arc::new("é".to_owned()), 0..1);
    }
}
