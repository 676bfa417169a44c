//! A small JSON writer for the encoders: strings escaped per RFC 8259 §7, numbers via `itoa`,
//! everything appended to a caller-owned `Vec<u8>` (no intermediate values, no allocation
//! beyond the buffer's growth).
//!
//! A Rust `&str` is always valid UTF-8 and cannot hold a lone surrogate, so the output is
//! valid UTF-8 JSON by construction; only `"`, `\` and the C0 controls need escaping.

/// What each byte becomes inside a JSON string: 0 = copied as is, `u` = `\u00XX`,
/// anything else = the two-byte escape `\<that byte>`.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append `value` as a quoted JSON string.
#[inline]
pub fn write_str(out: &mut Vec<u8>, value: &str) {
    out.reserve(value.len() + 2);
    out.push(b'"');
    write_str_contents(out, value);
    out.push(b'"');
}

/// Append the escaped contents of a JSON string, without the quotes.
pub fn write_str_contents(out: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    // Copy runs of plain bytes in one go; only escapes break a run.
    let mut run_start = 0;
    for (position, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPE[byte as usize];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[run_start..position]);
        if escape == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(byte >> 4) as usize],
                HEX[(byte & 0xf) as usize],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        run_start = position + 1;
    }
    out.extend_from_slice(&bytes[run_start..]);
}

/// Append a JSON string or `null`.
#[inline]
pub fn write_opt_str(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(value) => write_str(out, value),
        None => out.extend_from_slice(b"null"),
    }
}

#[inline]
pub fn write_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Append `"key":` (the key must need no escaping; keys here are our own literals).
#[inline]
pub fn write_key(out: &mut Vec<u8>, key: &str) {
    debug_assert!(key.bytes().all(|b| ESCAPE[b as usize] == 0));
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(value: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_text_is_copied() {
        assert_eq!(quoted("hello, wörld ✓ 🦀"), "\"hello, wörld ✓ 🦀\"");
        assert_eq!(quoted(""), "\"\"");
    }

    #[test]
    fn quotes_backslashes_and_short_escapes() {
        assert_eq!(quoted("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quoted("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
    }

    #[test]
    fn other_controls_use_unicode_escapes() {
        assert_eq!(quoted("\u{0}\u{1f}\u{1b}"), r#""\u0000\u001f\u001b""#);
        // DEL and the JS line separators are valid unescaped JSON.
        assert_eq!(quoted("\u{7f}\u{2028}"), "\"\u{7f}\u{2028}\"");
    }

    #[test]
    fn every_char_round_trips_through_serde_json() {
        let all: String = (0u32..0x3000)
            .chain([0xfffd, 0x10ffff])
            .filter_map(char::from_u32)
            .collect();
        let encoded = quoted(&all);
        let decoded: String = serde_json::from_str(&encoded).unwrap();
        assert_eq!(decoded, all);
    }

    #[test]
    fn numbers_and_null() {
        let mut out = Vec::new();
        write_u64(&mut out, u64::MAX);
        out.push(b',');
        write_opt_str(&mut out, None);
        out.push(b',');
        write_key(&mut out, "k");
        assert_eq!(out, b"18446744073709551615,null,\"k\":");
    }
}
