//! Provider pipeline throughput: response bytes -> unified chunks, for a long OpenAI Chat
//! Completions stream and a long Anthropic Messages stream, fed in 1-16 KiB network reads
//! (the shape of `benches/python/bench_providers.py`, without Python).
//!
//! `cargo bench --bench providers` (times are the benchmark thread's CPU time: this machine's
//! cores are shared, and waiting for one is not the decoder's cost).

use std::hint::black_box;
use std::time::Duration;

use _fastsse::providers::{ChunkDecoder, ChunkDecoderConfig};
use _fastsse::GenerationChunk;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::CpuTime;

const WORDS: &[&str] = &[
    " the",
    " model",
    " streams",
    " tokens",
    ",",
    " one",
    " delta",
    " at",
    " a",
    " time",
    ".",
    " It",
    " says",
    " \\\"hello\\\"",
    " and",
    "\\n",
    " café",
    " 🙂",
    " then",
    " stops",
];

fn openai_stream(chunks: usize) -> Vec<u8> {
    let head = r#"{"id":"chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL","object":"chat.completion.chunk","created":1727346168,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":"#;
    let mut out = String::new();
    for i in 0..chunks {
        out.push_str("data: ");
        out.push_str(head);
        out.push_str(r#"{"content":""#);
        out.push_str(WORDS[i % WORDS.len()]);
        out.push_str(r#""},"logprobs":null,"finish_reason":null}]}"#);
        out.push_str("\n\n");
    }
    out.push_str("data: ");
    out.push_str(head);
    out.push_str(r#"{},"logprobs":null,"finish_reason":"stop"}]}"#);
    out.push_str("\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":14,\"completion_tokens\":100000}}\n\ndata: [DONE]\n\n");
    out.into_bytes()
}

fn anthropic_stream(deltas: usize) -> Vec<u8> {
    let mut out = String::from(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_019Q1hrJbZG26Fb9BQhrkHEr\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":377,\"output_tokens\":1}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    );
    for i in 0..deltas {
        out.push_str("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"");
        out.push_str(WORDS[i % WORDS.len()]);
        out.push_str("\"}}\n\n");
    }
    out.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":50000}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    out.into_bytes()
}

/// Network reads of 1-16 KiB (deterministic).
fn pieces(bytes: &[u8]) -> Vec<&[u8]> {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let size = (1024 + (seed % (15 * 1024)) as usize).min(rest.len());
        out.push(&rest[..size]);
        rest = &rest[size..];
    }
    out
}

fn run(provider: &str, parts: &[&[u8]], out: &mut Vec<GenerationChunk>) -> usize {
    let mut decoder = ChunkDecoder::new(provider, ChunkDecoderConfig::default()).unwrap();
    let mut count = 0;
    for part in parts {
        out.clear();
        decoder.decode_into(part, out).unwrap();
        count += out.len();
    }
    out.clear();
    decoder.flush_into(out).unwrap();
    count + out.len()
}

fn bench(c: &mut Criterion<CpuTime>) {
    let mut group = c.benchmark_group("providers");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let openai = openai_stream(100_000);
    let anthropic = anthropic_stream(50_000);
    for (name, provider, bytes, chunks) in [
        ("openai_100k_chunks", "openai", &openai, 100_000u64),
        ("anthropic_50k_deltas", "anthropic", &anthropic, 50_000u64),
    ] {
        let parts = pieces(bytes);
        let mut out = Vec::new();
        assert!(run(provider, &parts, &mut out) > chunks as usize);
        group.throughput(Throughput::Elements(chunks));
        group.bench_function(name, |b| {
            b.iter(|| black_box(run(provider, &parts, &mut out)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = bench
}
criterion_main!(benches);
