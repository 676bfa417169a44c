//! Writing Server-Sent Events: the inverse of the decoder, for any payload.
//!
//! The provider encoders (`crate::encode`) write their own fixed event shapes; this writes a
//! caller's events (`event`, `data`, `id`, `retry`) so that a WHATWG decoder reads back exactly
//! the same fields:
//!
//! * `data` is split at every line break (CRLF, CR or LF) into one `data:` line per line;
//! * `event` and `id` are single-line fields: a CR or LF inside them would end the field early
//!   and let the rest of the value inject fields or whole events, so such values are refused
//!   (and NUL in `id`, which decoders ignore); nothing is written for a refused event;
//! * the default type `message` and the empty id are left out, as they change nothing.

use crate::error::{Error, Result};

/// One event to write; every field borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutgoingEvent<'a> {
    /// Event type; "" or "message" writes no `event:` line.
    pub event: &'a str,
    pub data: &'a str,
    /// Event id; "" writes no `id:` line.
    pub id: &'a str,
    /// Reconnection time in milliseconds.
    pub retry: Option<u64>,
}

fn check_single_line(field: &str, value: &str, refused: &[char]) -> Result<()> {
    match value.find(refused) {
        None => Ok(()),
        Some(position) => Err(Error::usage(format!(
            "the SSE {field} {value:?} contains {:?} at byte {position}; {field}s must be one line \
             (a line break there would inject fields into the stream)",
            value[position..].chars().next().unwrap_or_default()
        ))),
    }
}

/// The lines of `data`, split as the decoder splits them (CRLF, CR, LF).
fn data_lines(data: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(text)
            }
            Some(end) => {
                let skip = if text[end..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = Some(&text[end + skip..]);
                Some(&text[..end])
            }
        }
    })
}

/// Append `event` to `out`, ending with the blank line that dispatches it.
pub fn write_event(out: &mut Vec<u8>, event: &OutgoingEvent<'_>) -> Result<()> {
    check_single_line("event type", event.event, &['\r', '\n'])?;
    check_single_line("event id", event.id, &['\r', '\n', '\0'])?;
    if !event.event.is_empty() && event.event != "message" {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(event.event.as_bytes());
        out.push(b'\n');
    }
    if !event.id.is_empty() {
        out.extend_from_slice(b"id: ");
        out.extend_from_slice(event.id.as_bytes());
        out.push(b'\n');
    }
    if let Some(retry) = event.retry {
        out.extend_from_slice(format!("retry: {retry}\n").as_bytes());
    }
    for line in data_lines(event.data) {
        // The space after the colon is the one the decoder strips, so a line's own leading
        // space survives.
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(event: OutgoingEvent<'_>) -> String {
        let mut out = Vec::new();
        write_event(&mut out, &event).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn data_lines_split_like_the_decoder() {
        let cases: [(&str, &[&str]); 6] = [
            ("", &[""]),
            ("a", &["a"]),
            ("a\nb", &["a", "b"]),
            ("a\r\nb\rc", &["a", "b", "c"]),
            ("a\n", &["a", ""]),
            ("\r\n\r\n", &["", "", ""]),
        ];
        for (data, lines) in cases {
            assert_eq!(data_lines(data).collect::<Vec<_>>(), lines, "{data:?}");
        }
    }

    #[test]
    fn fields_in_order_and_defaults_left_out() {
        let full = OutgoingEvent {
            event: "delta",
            data: "x",
            id: "7",
            retry: Some(1500),
        };
        assert_eq!(
            written(full),
            "event: delta\nid: 7\nretry: 1500\ndata: x\n\n"
        );
        let plain = OutgoingEvent {
            event: "message",
            data: " lead",
            ..Default::default()
        };
        assert_eq!(written(plain), "data:  lead\n\n");
    }

    #[test]
    fn line_breaks_in_single_line_fields_are_refused_before_writing() {
        // (event type, id)
        let bad = [
            ("a\nevent: b", ""),
            ("a\r", ""),
            ("", "1\n\ndata: injected"),
            ("", "1\0"),
        ];
        for (event, id) in bad {
            let event = OutgoingEvent {
                event,
                id,
                ..Default::default()
            };
            let mut out = b"kept".to_vec();
            let error = write_event(&mut out, &event).unwrap_err();
            assert!(matches!(error, Error::Usage { .. }), "{error}");
            assert!(error.to_string().contains("one line"), "{error}");
            assert_eq!(out, b"kept");
        }
    }
}
