//! Criterion benches of the gpt-oss Harmony reader: `cargo bench --bench harmony`.
//!
//! * `harmony_vs_hermes`: the same answer (reasoning, a preamble, two calls) written as gpt-oss
//!   writes it and as a Hermes model writes it, fed in 1-4 character deltas: the cost per delta
//!   of `tools="harmony"` next to `tools="hermes"` + `reasoning="think"`.
//! * `harmony_linear`: one call with 16 / 64 / 256 KiB of arguments in 4-character deltas; the
//!   time per byte must stay flat (no rescans); Hermes at 64 KiB for a same-run comparison.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};

use _fastsse::text::{ReasoningSpec, TextParser, TextParserConfig};

const REASONING: &str = "The user wants the weather in Paris and the Louvre's opening hours. \
I should call get_weather with the city and a unit; they write from France, so celsius is the \
natural choice. For the opening hours a web search is better than guessing, because museums \
change their schedules on holidays. Two independent calls, so I can make them in parallel.";

const PREAMBLE: &str = "Let me look up the weather in Paris and the Louvre's opening hours.";
const WEATHER: &str = r#"{"city": "Paris", "unit": "celsius"}"#;
const SEARCH: &str = r#"{"query": "Louvre opening hours today", "max_results": 5}"#;

fn harmony_stream() -> String {
    format!(
        "<|channel|>analysis<|message|>{REASONING}<|end|>\
         <|start|>assistant<|channel|>commentary<|message|>{PREAMBLE}<|end|>\
         <|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{WEATHER}<|call|>\
         <|start|>assistant<|channel|>commentary to=functions.search_web <|constrain|>json<|message|>{SEARCH}"
    )
}

fn hermes_stream() -> String {
    format!(
        "<think>\n{REASONING}\n</think>\n\n{PREAMBLE}\n\
         <tool_call>\n{{\"name\": \"get_weather\", \"arguments\": {WEATHER}}}\n</tool_call>\n\
         <tool_call>\n{{\"name\": \"search_web\", \"arguments\": {SEARCH}}}\n</tool_call>"
    )
}

/// One call whose arguments are `size` bytes of JSON text, as gpt-oss and as Hermes write it.
fn long_call(size: usize, harmony: bool) -> String {
    let mut value = "fn main() { println!(\\\"hello, world\\\"); }\\n".repeat(size / 40 + 1);
    value.truncate(size);
    while value.ends_with('\\') {
        value.pop();
    }
    let arguments = format!("{{\"content\": \"{value}\"}}");
    if harmony {
        format!("<|channel|>commentary to=functions.write_file <|constrain|>json<|message|>{arguments}<|call|>")
    } else {
        format!(
            "<tool_call>\n{{\"name\": \"write_file\", \"arguments\": {arguments}}}\n</tool_call>"
        )
    }
}

#[path = "support/mod.rs"]
mod support;
use support::{cut, run, DELTAS};

fn parser(tools: &str, reasoning: Option<&str>) -> TextParser {
    TextParser::new(TextParserConfig {
        tools: Some(tools.to_owned()),
        reasoning: reasoning.and_then(ReasoningSpec::named),
        id_seed: Some(1),
        ..TextParserConfig::default()
    })
    .unwrap()
}

fn versus_hermes(c: &mut Criterion) {
    let mut group = c.benchmark_group("harmony_vs_hermes");
    for (name, stream, tools, reasoning) in [
        ("harmony", harmony_stream(), "harmony", None),
        ("hermes+think", hermes_stream(), "hermes", Some("think")),
    ] {
        let pieces = cut(&stream, &DELTAS);
        group.throughput(Throughput::Elements(pieces.len() as u64));
        group.bench_function(name, |b| {
            b.iter_batched(
                || parser(tools, reasoning),
                |p| run(p, &pieces),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn linear(c: &mut Criterion) {
    let mut group = c.benchmark_group("harmony_linear");
    // Hermes at 64 KiB: the same arguments through another format, in the same run.
    for (tools, kib) in [
        ("harmony", 16),
        ("harmony", 64),
        ("harmony", 256),
        ("hermes", 64),
    ] {
        let stream = long_call(kib * 1024, tools == "harmony");
        let pieces = cut(&stream, &[4]);
        group.throughput(Throughput::Bytes(stream.len() as u64));
        group.bench_with_input(BenchmarkId::new(tools, kib), &pieces, |b, pieces| {
            b.iter_batched(
                || parser(tools, None),
                |p| run(p, pieces),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = versus_hermes, linear
}
criterion_main!(benches);
