//! The SSE writer against the decoder: whatever is written reads back as the same events,
//! however the bytes are split, and no field value can inject a field or an event.

use _fastsse::sse::{write_event, OutgoingEvent, SseConfig, SseDecoder, SseEvent};
use proptest::prelude::*;

fn decode_split(bytes: &[u8], split: usize) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new(SseConfig::default());
    let mut out = Vec::new();
    for piece in bytes.chunks(split.max(1)) {
        decoder.decode(piece, &mut out).unwrap();
    }
    decoder.flush(&mut out).unwrap();
    out
}

/// What a decoder reports for written events: line breaks normalized to LF, the default type
/// "message", and the id carried over from the last event that set one.
fn expected(events: &[(String, String, String, Option<u64>)]) -> Vec<SseEvent> {
    let mut last_id = String::new();
    events
        .iter()
        .map(|(event, data, id, retry)| {
            if !id.is_empty() {
                last_id.clone_from(id);
            }
            SseEvent {
                event: if event.is_empty() {
                    "message".into()
                } else {
                    event.clone()
                },
                data: data.replace("\r\n", "\n").replace('\r', "\n"),
                id: last_id.clone(),
                retry: *retry,
            }
        })
        .collect()
}

fn single_line() -> impl Strategy<Value = String> {
    "[^\r\n\0]{0,12}"
}

proptest! {
    #[test]
    fn written_events_decode_back_however_split(
        events in prop::collection::vec(
            (single_line(), "(?s).{0,40}", single_line(), prop::option::of(0u64..100_000)),
            0..8,
        ),
        split in 1usize..64,
    ) {
        let mut bytes = Vec::new();
        for (event, data, id, retry) in &events {
            let outgoing = OutgoingEvent { event, data, id, retry: *retry };
            write_event(&mut bytes, &outgoing).unwrap();
        }
        let want = expected(&events);
        prop_assert_eq!(decode_split(&bytes, bytes.len()), want.clone());
        prop_assert_eq!(decode_split(&bytes, split), want);
    }

    #[test]
    fn a_line_break_in_event_or_id_is_refused(
        head in single_line(),
        tail in single_line(),
        brk in prop::sample::select(vec!["\n", "\r", "\r\n"]),
        in_id in any::<bool>(),
    ) {
        let value = format!("{head}{brk}{tail}");
        let outgoing = if in_id {
            OutgoingEvent { id: &value, data: "x", ..Default::default() }
        } else {
            OutgoingEvent { event: &value, data: "x", ..Default::default() }
        };
        let mut bytes = Vec::new();
        prop_assert!(write_event(&mut bytes, &outgoing).is_err());
        prop_assert!(bytes.is_empty());
    }
}
