//! Making Python `str` objects fast: the one hot allocation of every event and chunk.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

/// Below this length the generic constructor is as fast as the ASCII path (and
/// `is_ascii_words` needs one whole word).
const ASCII_FAST_PATH_MIN: usize = 16;

/// `text.is_ascii()` in 16-byte words with no byte-by-byte tail (the standard one walks up to 63
/// trailing bytes one at a time, which costs more than the rest for a 250-byte JSON event).
#[inline]
fn is_ascii_words(text: &[u8]) -> bool {
    const HIGH_BITS: u128 = u128::from_ne_bytes([0x80; 16]);
    let word = |bytes: &[u8]| u128::from_ne_bytes(bytes.try_into().unwrap_or([0; 16]));
    // The last 16 bytes, overlapping the last whole word: covers the tail (len >= 16 here).
    let mut any = word(&text[text.len() - 16..]);
    for chunk in text.chunks_exact(16) {
        any |= word(chunk);
    }
    any & HIGH_BITS == 0
}

/// `PyString::new`, with a fast path for ASCII text (most JSON payloads): the bytes are copied
/// straight into a compact ASCII string instead of being decoded as UTF-8 a second time.
pub fn new_str<'py>(py: Python<'py>, text: &str) -> Bound<'py, PyString> {
    if text.len() >= ASCII_FAST_PATH_MIN && is_ascii_words(text.as_bytes()) {
        // SAFETY: PyUnicode_New(len, 127) returns a compact ASCII string with room for `len`
        // bytes (plus the NUL it writes itself) or NULL on memory error; we fill exactly `len`
        // bytes of ASCII before anyone else sees the object.
        unsafe {
            let obj = ffi::PyUnicode_New(text.len() as ffi::Py_ssize_t, 127);
            if !obj.is_null() {
                let data = ffi::PyUnicode_DATA(obj) as *mut u8;
                std::ptr::copy_nonoverlapping(text.as_ptr(), data, text.len());
                return Bound::from_owned_ptr(py, obj).cast_into_unchecked();
            }
            ffi::PyErr_Clear(); // fall back to the generic path, which raises properly
        }
    }
    PyString::new(py, text)
}

/// `prefix + tail` when both are ASCII, with the prefix's characters copied as they are (no
/// UTF-8 pass over them again); None otherwise (the caller builds the whole string).
pub fn extend_ascii<'py>(
    py: Python<'py>,
    prefix: &Bound<'py, PyString>,
    tail: &str,
) -> Option<Bound<'py, PyString>> {
    if !tail.is_ascii() {
        return None;
    }
    // SAFETY: `prefix` is a live str; when it is compact ASCII its data holds `len` bytes. The
    // new string is compact ASCII with room for `len + tail.len()` bytes, filled entirely
    // before anyone else sees it (as in `new_str`).
    unsafe {
        let old = prefix.as_ptr();
        if ffi::PyUnicode_IS_ASCII(old) == 0 {
            return None;
        }
        let len = ffi::PyUnicode_GET_LENGTH(old) as usize;
        let obj = ffi::PyUnicode_New((len + tail.len()) as ffi::Py_ssize_t, 127);
        if obj.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let data = ffi::PyUnicode_DATA(obj) as *mut u8;
        std::ptr::copy_nonoverlapping(ffi::PyUnicode_DATA(old) as *const u8, data, len);
        std::ptr::copy_nonoverlapping(tail.as_ptr(), data.add(len), tail.len());
        Some(Bound::from_owned_ptr(py, obj).cast_into_unchecked())
    }
}
