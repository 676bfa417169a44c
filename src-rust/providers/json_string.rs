//! A JSON string token, scanned by hand: the fast paths' one string reader (the OpenAI
//! scanner, the reducers' templates). It is deliberately partial: escaped surrogates, bad
//! escapes and raw control characters give `None`, and the caller's serde path decides, so
//! whatever this accepts serde reads the same.

use std::borrow::Cow;

/// The string whose opening quote is at `pos`, decoded, and the position just past it.
pub(crate) fn read(text: &str, pos: usize) -> Option<(Cow<'_, str>, usize)> {
    let (end, escaped) = skip(text.as_bytes(), pos)?;
    if !escaped {
        return Some((Cow::Borrowed(&text[pos + 1..end - 1]), end));
    }
    // Escapes are rare: serde decodes them, so both paths agree to the byte.
    let value = serde_json::from_str::<String>(&text[pos..end]).ok()?;
    Some((Cow::Owned(value), end))
}

/// Validate and pass over the string whose opening quote is at `pos`: the position just past
/// it, and whether it had escapes. Strings here are short (keys, ids, one token): eight
/// bytes at a time, no vector setup.
pub(crate) fn skip(bytes: &[u8], pos: usize) -> Option<(usize, bool)> {
    if bytes.get(pos) != Some(&b'"') {
        return None;
    }
    let mut pos = pos + 1;
    let mut escaped = false;
    loop {
        while let Some(word) = bytes.get(pos..pos + 8) {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            let special = special_bytes(word);
            if special != 0 {
                // The lowest flagged lane is exact: jump straight to that byte.
                pos += (special.trailing_zeros() / 8) as usize;
                break;
            }
            pos += 8;
        }
        match *bytes.get(pos)? {
            b'"' => return Some((pos + 1, escaped)),
            b'\\' => {
                escaped = true;
                match *bytes.get(pos + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => pos += 2,
                    b'u' => {
                        let hex = bytes.get(pos + 2..pos + 6)?;
                        let mut unit = 0u32;
                        for &digit in hex {
                            unit = unit * 16 + char::from(digit).to_digit(16)?;
                        }
                        if (0xD800..0xE000).contains(&unit) {
                            // Surrogates (pairs or lone) are left to serde.
                            return None;
                        }
                        pos += 6;
                    }
                    _ => return None,
                }
            }
            // Raw control characters are invalid JSON: let serde report them.
            0..=0x1F => return None,
            _ => pos += 1,
        }
    }
}

/// The high bit of each byte lane of `word` (little-endian) holding a quote, a backslash or
/// a control character, by the classic "has zero byte" / "has byte less than" word tricks.
/// The lowest set lane is always exact; lanes above a hit may be false alarms.
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (quote | backslash | control) & HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bytes_are_found_in_any_lane() {
        for lane in 0..8 {
            for special in [b'"', b'\\', 0x00, 0x1F] {
                let mut word = *b"abcdefgh";
                word[lane] = special;
                let lanes = special_bytes(u64::from_le_bytes(word));
                assert_eq!(lanes.trailing_zeros() / 8, lane as u32);
            }
        }
        for text in [
            *b"abcdefgh",
            *b"caf\xC3\xA9 !#",
            [0x20, 0x7F, 0x80, 0xFF, b'!', b'#', b'[', b']'],
        ] {
            assert_eq!(special_bytes(u64::from_le_bytes(text)), 0, "{text:?}");
        }
    }

    #[test]
    fn reads_plain_and_escaped_strings_and_refuses_the_rest() {
        let text = r#"x"a \"b\" \u00e9"y"#;
        assert_eq!(
            read(text, 1),
            Some((Cow::Owned("a \"b\" é".to_owned()), 17))
        );
        assert_eq!(read(r#""plain""#, 0), Some((Cow::Borrowed("plain"), 7)));
        for refused in [r#""\ud83d\ude42""#, r#""\q""#, "\"\u{1}\"", r#""open"#, "x"] {
            assert_eq!(read(refused, 0), None, "{refused}");
        }
    }
}
