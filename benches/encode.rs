//! Criterion benches of the encoders: `cargo bench --bench encode`.
//!
//! A realistic response (reasoning, prose, one tool call streamed in fragments) encoded chunk
//! by chunk, as a server does, in both formats; throughput is in chunks.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use _fastsse::encode::{encode_response, Encoder, Envelope, Format};
use _fastsse::{FinishReason, GenerationChunk, RareFields, ToolCallDelta};

fn response(tokens: usize) -> Vec<GenerationChunk> {
    let mut chunks = Vec::with_capacity(tokens + 8);
    for i in 0..tokens / 4 {
        chunks.push(GenerationChunk::reasoning(format!(" step {i}")));
    }
    for i in 0..tokens / 2 {
        chunks.push(GenerationChunk::text(if i % 7 == 0 {
            " \"quoted\"\n"
        } else {
            " word"
        }));
    }
    chunks.push(GenerationChunk::tool_call(ToolCallDelta {
        index: 0,
        id: Some("call_DdmO9pD3xa9XTPNJ32zg2hcA".into()),
        function_name: Some("get_weather".into()),
        arguments_delta: String::new(),
    }));
    for fragment in [
        "{\"location\": \"",
        "Paris, ",
        "France\", ",
        "\"unit\": \"c\"}",
    ]
    .iter()
    .cycle()
    .take(tokens / 4)
    {
        chunks.push(GenerationChunk::tool_call(ToolCallDelta {
            arguments_delta: (*fragment).into(),
            ..Default::default()
        }));
    }
    chunks.push(GenerationChunk {
        rare: RareFields {
            prompt_tokens: Some(120),
            completion_tokens: Some(tokens as u64),
            ..RareFields::NONE
        }
        .into(),
        ..GenerationChunk::finish(FinishReason::ToolCalls)
    });
    chunks
}

fn envelope() -> Envelope {
    Envelope {
        id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT".into(),
        model: "gpt-4o-2024-08-06".into(),
        created: 1_727_346_163,
        system_fingerprint: Some("fp_5050236cbd".into()),
        include_usage: true,
        ..Default::default()
    }
}

fn bench_stream(c: &mut Criterion) {
    let chunks = response(1000);
    let mut group = c.benchmark_group("encode_stream_per_chunk");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(chunks.len() as u64));
    for format in [Format::OpenAi, Format::Anthropic] {
        group.bench_function(format.as_str(), |b| {
            let mut out = Vec::with_capacity(1024);
            b.iter(|| {
                let mut encoder = Encoder::new(format, envelope());
                let mut written = 0;
                for chunk in &chunks {
                    out.clear();
                    encoder.encode([chunk], &mut out).unwrap();
                    written += out.len();
                }
                out.clear();
                encoder.finish(&mut out).unwrap();
                black_box(written + out.len())
            })
        });
    }
    group.finish();
}

fn bench_response(c: &mut Criterion) {
    let chunks = response(1000);
    let mut group = c.benchmark_group("encode_response");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(chunks.len() as u64));
    for format in [Format::OpenAi, Format::Anthropic] {
        group.bench_function(format.as_str(), |b| {
            b.iter(|| black_box(encode_response(&chunks, format, envelope()).unwrap().len()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_stream, bench_response);
criterion_main!(benches);
