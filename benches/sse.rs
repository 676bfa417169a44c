//! Criterion benches of the SSE core: `cargo bench --bench sse`.
//!
//! Every group reports bytes/s and ends with a `floor_newline_scan` row: a plain SIMD count of the
//! LF bytes of the same input (`memchr_iter`), the memory-bandwidth limit any line scanner meets.
//! Times are the thread's CPU time, not wall time: see `CpuTime`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};

use _fastsse::sse::SseDecoder;

/// Criterion's clock here: the thread's CPU time (Linux `/proc/thread-self/schedstat`), which a
/// machine shared with other busy processes disturbs far less than wall time. Elsewhere it
/// falls back to wall time.
struct CpuTime;

fn thread_cpu_ns() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|stat| stat.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| START.get_or_init(Instant::now).elapsed().as_nanos() as u64)
}

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = Duration;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> Duration {
        Duration::from_nanos(thread_cpu_ns().saturating_sub(start))
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL_TIME: WallTime = WallTime;
        WALL_TIME.formatter() // the same units: nanoseconds
    }
}

/// An OpenAI Chat Completions stream of `n` content chunks, shaped like the real captures.
fn openai_stream(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        out.extend_from_slice(
            format!(
                "data: {{\"id\":\"chatcmpl-ABC123\",\"object\":\"chat.completion.chunk\",\"created\":1727346163,\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_5050236cbd\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" tok{i}\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

fn count_events(pieces: &[&[u8]]) -> usize {
    let mut decoder = SseDecoder::default();
    let mut events = 0usize;
    let mut bytes = 0usize;
    for piece in pieces {
        decoder
            .decode_with(piece, |event| {
                events += 1;
                bytes += event.data.len();
                Ok(())
            })
            .unwrap();
    }
    decoder.flush_with(|_| Ok(())).unwrap();
    black_box(bytes);
    events
}

/// The floor row: bytes/s of the plainest newline scan of `input`.
fn floor_newline_scan(group: &mut BenchmarkGroup<'_, CpuTime>, input: &[u8]) {
    let lines = memchr::memchr_iter(b'\n', input).count();
    group.bench_function("floor_newline_scan", |b| {
        b.iter(|| assert_eq!(memchr::memchr_iter(b'\n', black_box(input)).count(), lines))
    });
}

/// Cut `data` into pieces whose sizes cycle through `sizes`.
fn cut<'a>(data: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while start < data.len() {
        let end = (start + sizes[i % sizes.len()]).min(data.len());
        pieces.push(&data[start..end]);
        start = end;
        i += 1;
    }
    pieces
}

fn bench_openai(c: &mut Criterion<CpuTime>) {
    let stream = openai_stream(10_000);
    let mut group = c.benchmark_group("openai_chat_10k_events");
    // 10,001 events: ns/event = time / 10,001.
    group.throughput(Throughput::Bytes(stream.len() as u64));
    for (label, sizes) in [
        ("whole", vec![stream.len()]),
        ("1-16KiB", vec![1024, 16384, 4096, 8192, 2048, 12288]),
        ("1-7B", vec![1, 2, 3, 4, 5, 6, 7]),
    ] {
        let pieces = cut(&stream, &sizes);
        group.bench_with_input(BenchmarkId::from_parameter(label), &pieces, |b, pieces| {
            b.iter(|| assert_eq!(count_events(pieces), 10_001))
        });
    }
    floor_newline_scan(&mut group, &stream);
    group.finish();
}

fn bench_large_events(c: &mut Criterion<CpuTime>) {
    let mut stream = Vec::new();
    for _ in 0..64 {
        stream.extend_from_slice(b"data: ");
        stream.extend(std::iter::repeat_n(b'x', 64 * 1024));
        stream.extend_from_slice(b"\n\n");
    }
    let mut group = c.benchmark_group("events_64KiB");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    let pieces = cut(&stream, &[16 * 1024]);
    group.bench_function("16KiB_pieces", |b| {
        b.iter(|| assert_eq!(count_events(&pieces), 64))
    });
    floor_newline_scan(&mut group, &stream);
    group.finish();
}

fn bench_long_line(c: &mut Criterion<CpuTime>) {
    let mut line = b"data: ".to_vec();
    line.extend(std::iter::repeat_n(b'x', 8 * 1024 * 1024));
    line.extend_from_slice(b"\n\n");
    let mut group = c.benchmark_group("one_8MiB_line");
    group.throughput(Throughput::Bytes(line.len() as u64));
    group.sample_size(20);
    let whole = vec![line.as_slice()];
    let kib = cut(&line, &[1024]);
    group.bench_function("whole", |b| b.iter(|| assert_eq!(count_events(&whole), 1)));
    group.bench_function("1KiB_pieces", |b| {
        b.iter(|| assert_eq!(count_events(&kib), 1))
    });
    floor_newline_scan(&mut group, &line);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = bench_openai, bench_large_events, bench_long_line
}
criterion_main!(benches);
