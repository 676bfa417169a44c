//! Any bytes, split anywhere: the decoder never panics, respects its cap, and gives the same
//! events whether the input arrives whole or in the fuzzer-chosen pieces.
#![no_main]

use _fastsse::sse::{SseConfig, SseDecoder};
use libfuzzer_sys::fuzz_target;

fn run(pieces: &[&[u8]], config: SseConfig) -> Result<Vec<_fastsse::sse::SseEvent>, ()> {
    let mut decoder = SseDecoder::new(config);
    let mut out = Vec::new();
    for piece in pieces {
        decoder.decode(piece, &mut out).map_err(|_| ())?;
    }
    decoder.flush(&mut out).map_err(|_| ())?;
    Ok(out)
}

fuzz_target!(|input: &[u8]| {
    let Some((&cut_seed, data)) = input.split_first() else {
        return;
    };
    let config = SseConfig {
        max_event_size: 1 << 16,
        dispatch_unterminated: cut_seed & 1 == 1,
    };
    let whole = run(&[data], config);
    let step = usize::from(cut_seed % 13) + 1;
    let pieces: Vec<&[u8]> = data.chunks(step).collect();
    let split = run(&pieces, config);
    // The cap can trip at a different piece, but success and events must agree.
    assert_eq!(whole.is_ok(), split.is_ok());
    if let (Ok(a), Ok(b)) = (whole, split) {
        assert_eq!(a, b);
    }
});
