//! Helpers the text benches share: the criterion settings, cutting a stream into deltas,
//! feeding a parser, and running the `tool-parser` crate's futures (which never wait on
//! anything) to completion without a runtime.

#![allow(dead_code)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Duration;

use _fastsse::text::TextParser;
use _fastsse::{FinishReason, GenerationChunk};
use criterion::Criterion;

/// Criterion taking `samples` samples, after `warm_up_ms` of warm-up, in `measure_ms`.
pub fn criterion(samples: usize, warm_up_ms: u64, measure_ms: u64) -> Criterion {
    Criterion::default()
        .sample_size(samples)
        .warm_up_time(Duration::from_millis(warm_up_ms))
        .measurement_time(Duration::from_millis(measure_ms))
}

/// Delta sizes in characters, cycled: what a model's stream of 1-4 character deltas looks like.
pub const DELTAS: [usize; 8] = [1, 3, 2, 4, 1, 2, 3, 4];

/// Feed every piece, then flush; returns the number of chunks (so nothing is optimised away).
pub fn run(mut parser: TextParser, pieces: &[&str]) -> usize {
    let mut out: Vec<GenerationChunk> = Vec::with_capacity(8);
    let mut chunks = 0;
    for piece in pieces {
        out.clear();
        parser.decode(black_box(piece), &mut out).unwrap();
        chunks += out.len();
        black_box(&out);
    }
    out.clear();
    parser.flush(FinishReason::Stop, &mut out).unwrap();
    chunks + out.len()
}

/// Cut `text` into pieces of `sizes` characters, cycling.
pub fn cut<'a>(text: &'a str, sizes: &[usize]) -> Vec<&'a str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()];
        let end = rest.char_indices().nth(n).map_or(rest.len(), |(at, _)| at);
        pieces.push(&rest[..end]);
        rest = &rest[end..];
        i += 1;
    }
    pieces
}

fn noop_raw() -> RawWaker {
    fn clone(_: *const ()) -> RawWaker {
        noop_raw()
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    RawWaker::new(std::ptr::null(), &VTABLE)
}

/// Poll `future` once with a no-op waker; it must be ready.
pub fn ready<F: Future>(future: F) -> F::Output {
    // SAFETY: the vtable's functions do nothing and never touch the data pointer.
    let waker = unsafe { Waker::from_raw(noop_raw()) };
    let mut context = Context::from_waker(&waker);
    match pin!(future).poll(&mut context) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("tool-parser future was not immediately ready"),
    }
}
