//! UTF-8 decoding with U+FFFD for invalid bytes, never an error.

use std::borrow::Cow;

/// Like `String::from_utf8_lossy`, but valid input (the usual case) takes the fast validator
/// instead of the chunk-by-chunk lossy scanner, which is several times slower.
#[inline]
pub fn decode_lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_is_borrowed_invalid_is_replaced() {
        assert!(matches!(
            decode_lossy("héllo".as_bytes()),
            Cow::Borrowed("héllo")
        ));
        assert_eq!(decode_lossy(b"a\xffb\xe2\x82"), "a\u{fffd}b\u{fffd}");
    }
}
