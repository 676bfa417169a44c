//! Integration tests of the SSE core through its public API: split invariance on real captures.

mod support;

use _fastsse::sse::{SseConfig, SseDecoder, SseEvent};
use support::{data, fixtures_in};

fn decode(pieces: &[&[u8]]) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new(SseConfig::default());
    let mut out = Vec::new();
    for piece in pieces {
        decoder.decode(piece, &mut out).unwrap();
    }
    decoder.flush(&mut out).unwrap();
    out
}

#[test]
fn captures_decode_identically_however_split() {
    let captures = fixtures_in("sse");
    assert!(
        captures.len() >= 3,
        "expected SSE captures in tests/data/sse"
    );
    for name in captures {
        let bytes = data(&name);
        let expected = decode(&[&bytes]);
        assert!(!expected.is_empty(), "{name}: no events");
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(decode(&bytewise), expected, "{name}: byte by byte");
        for size in [2, 3, 7, 64, 1000] {
            let pieces: Vec<&[u8]> = bytes.chunks(size).collect();
            assert_eq!(decode(&pieces), expected, "{name}: pieces of {size}");
        }
        for cut in (0..=bytes.len()).step_by(1 + bytes.len() / 97) {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(decode(&[a, b]), expected, "{name}: cut at {cut}");
        }
        // The same stream with CRLF line ends gives the same events.
        let crlf = String::from_utf8_lossy(&bytes)
            .replace("\r\n", "\n")
            .replace('\n', "\r\n");
        assert_eq!(decode(&[crlf.as_bytes()]), expected, "{name}: CRLF");
    }
}

#[test]
fn openai_capture_has_done_sentinel_last() {
    let bytes = data("sse/openai-chat-text.sse");
    let events = decode(&[&bytes]);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    assert!(events.iter().all(|e| e.event == "message"));
}

#[test]
fn long_line_in_small_pieces() {
    let mut line = b"data: ".to_vec();
    line.resize(6 + (1 << 20), b'x');
    line.extend_from_slice(b"\n\n");
    let pieces: Vec<&[u8]> = line.chunks(1024).collect();
    let events = decode(&pieces);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data.len(), 1 << 20);
}
