//! Helpers the text benches share: cutting a stream into deltas, and running the `tool-parser`
//! crate's futures (which never wait on anything) to completion without a runtime.

#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

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
