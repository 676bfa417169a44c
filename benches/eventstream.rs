//! AWS eventstream decode throughput on real Bedrock ConverseStream frames
//! (tests/data/bedrock/converse-stream-text.bin repeated): framing alone, whole and in network
//! sized pieces, and framing + the bedrock reducer producing unified chunks.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

use _fastsse::eventstream::{EventStreamDecoder, MessageKind};
use _fastsse::providers::bedrock::BedrockReducer;
use _fastsse::providers::Reducer;

#[path = "support/mod.rs"]
mod support;

fn stream() -> (Vec<u8>, usize) {
    let capture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/bedrock/converse-stream-text.bin"
    ))
    .expect("capture");
    let copies = 64;
    (capture.repeat(copies), 33 * copies)
}

fn frames(input: &[u8], piece: usize) -> usize {
    let mut decoder = EventStreamDecoder::default();
    let mut count = 0;
    for chunk in input.chunks(piece) {
        decoder
            .decode_with(chunk, |message| {
                black_box(message.payload());
                count += 1;
                Ok(())
            })
            .unwrap();
    }
    decoder.flush().unwrap();
    count
}

fn chunks(input: &[u8], piece: usize) -> usize {
    let mut decoder = EventStreamDecoder::default();
    let mut reducer = BedrockReducer::new();
    let mut out = Vec::with_capacity(64);
    let mut count = 0;
    for chunk in input.chunks(piece) {
        decoder
            .decode_with(chunk, |message| match message.kind()? {
                MessageKind::Event(event) => reducer.on_event(&event, &mut out),
                MessageKind::Fault(fault) => Err(reducer.on_fault(&fault)),
            })
            .unwrap();
        count += out.len();
        out.clear();
    }
    count
}

fn frame_lengths(input: &[u8]) -> Vec<usize> {
    let mut lengths = Vec::new();
    let mut at = 0;
    while at < input.len() {
        let len = u32::from_be_bytes(input[at..at + 4].try_into().unwrap()) as usize;
        lengths.push(len);
        at += len;
    }
    lengths
}

fn bench(c: &mut Criterion) {
    let (input, frame_count) = stream();
    assert_eq!(frames(&input, input.len()), frame_count);
    let mut group = c.benchmark_group("eventstream");
    group.throughput(Throughput::Bytes(input.len() as u64));
    for piece in [input.len(), 16 * 1024, 1024] {
        let label = if piece == input.len() {
            "whole".to_owned()
        } else {
            format!("{}KiB", piece / 1024)
        };
        group.bench_with_input(BenchmarkId::new("frames", &label), &piece, |b, &piece| {
            b.iter(|| frames(black_box(&input), piece))
        });
    }
    group.bench_function("bedrock_chunks/4KiB", |b| {
        b.iter(|| chunks(black_box(&input), 4096))
    });
    // The floor: CRC32 over every frame's bytes once, which any correct decoder must do.
    let lengths = frame_lengths(&input);
    group.bench_function("crc32_floor", |b| {
        b.iter(|| {
            let mut at = 0;
            let mut acc = 0u32;
            for &len in &lengths {
                acc ^= crc32fast::hash(black_box(&input[at..at + len]));
                at += len;
            }
            acc
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion(20, 500, 2000);
    targets = bench
}
criterion_main!(benches);
