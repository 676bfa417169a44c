//! Criterion benches of the text parser: `cargo bench --bench text --features bench-peers`
//! (without the feature the side-by-side group with the `tool-parser` crate is left out).
//!
//! * `text_mixed_stream`: reasoning + answer + 2 Hermes calls + a stop list of 4, fed in 1-4
//!   character deltas (the per-delta cost of the core).
//! * `text_linear`: one call with 16 KiB / 64 KiB / 256 KiB of arguments in 4-character deltas;
//!   time per byte must stay flat (no rescans).
//! * `hermes_side_by_side`: the same Hermes streams through fastsse and through `tool-parser`
//!   (the Rust parser behind SGLang's gateway, `QwenParser`), parser construction excluded.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};

use _fastsse::text::{ReasoningSpec, TextParser, TextParserConfig};

const STOPS: [&str; 4] = ["<|im_end|>", "\n\nUser:", "</s>", "Observation:"];

const REASONING: &str = "The user wants the weather in Paris and the Louvre's opening hours. \
I should call get_weather with the city and a unit; they write from France, so celsius is the \
natural choice. For the opening hours a web search is better than guessing, because museums \
change their schedules on holidays. Two independent calls, so I can make them in parallel. \
Let me also keep the answer short: one sentence before the calls, nothing after them, since \
the results will come back as tool messages and I will summarise them then.";

const ANSWER: &str = "Sure! Let me look up the current weather in Paris and the Louvre's \
opening hours for you. I'll check both at once so you get everything in one reply.";

fn calls(separator: &str) -> String {
    format!(
        "<tool_call>\n{{\"name\": \"get_weather\", \"arguments\": {{\"city\": \"Paris\", \"unit\": \"celsius\"}}}}\n</tool_call>{separator}\
         <tool_call>\n{{\"name\": \"search_web\", \"arguments\": {{\"query\": \"Louvre opening hours today\", \"max_results\": 5}}}}\n</tool_call>"
    )
}

/// The realistic mixed stream (the Python bench builds the same one).
fn mixed_stream() -> String {
    format!(
        "<think>\n{REASONING}\n</think>\n\n{ANSWER}\n{}<|im_end|>",
        calls("\n")
    )
}

#[cfg_attr(not(feature = "bench-peers"), allow(dead_code))]
/// Answer text and two Hermes calls, in the layout `tool-parser`'s Qwen parser expects.
fn hermes_stream() -> String {
    format!("{ANSWER}\n{}", calls("\n"))
}

/// One call whose arguments are `size` bytes of JSON text.
fn long_call(size: usize) -> String {
    let mut value = String::new();
    let line = "fn main() { println!(\\\"hello, world\\\"); }\\n";
    while value.len() < size {
        value.push_str(line);
    }
    value.truncate(size);
    while value.ends_with('\\') {
        value.pop();
    }
    format!("<tool_call>\n{{\"name\": \"write_file\", \"arguments\": {{\"content\": \"{value}\"}}}}\n</tool_call>")
}

#[path = "support/mod.rs"]
mod support;
use support::{cut, run, DELTAS};

fn parser(stop: &[&str], reasoning: bool) -> TextParser {
    TextParser::new(TextParserConfig {
        stop: stop.iter().map(|s| (*s).to_owned()).collect(),
        reasoning: reasoning.then(|| ReasoningSpec::named("think").unwrap()),
        tools: Some("hermes".into()),
        ..Default::default()
    })
    .unwrap()
}

fn mixed(c: &mut Criterion) {
    let text = mixed_stream();
    let pieces = cut(&text, &DELTAS);
    let mut group = c.benchmark_group("text_mixed_stream");
    group.throughput(Throughput::Elements(pieces.len() as u64));
    group.bench_function("fastsse_1-4_char_deltas", |b| {
        b.iter_batched(
            || parser(&STOPS, true),
            |p| run(p, &pieces),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn linear(c: &mut Criterion) {
    let mut group = c.benchmark_group("text_linear");
    for size in [16 << 10, 64 << 10, 256 << 10] {
        let text = long_call(size);
        let pieces = cut(&text, &[4]);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("hermes_arguments_4_char_deltas", size),
            &pieces,
            |b, pieces| {
                b.iter_batched(
                    || parser(&[], false),
                    |p| run(p, pieces),
                    BatchSize::SmallInput,
                )
            },
        );
    }
    let mut value = "let x = \"quoted\" & <tag>;\n".repeat((64 << 10) / 26);
    value.truncate(64 << 10);
    let text = format!(
        "<tool_call>\n<function=write_file>\n<parameter=content>\n{value}\n</parameter>\n</function>\n</tool_call>"
    );
    let pieces = cut(&text, &[4]);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("qwen3_coder_value_64KiB_4_char_deltas", |b| {
        b.iter_batched(
            || {
                TextParser::new(TextParserConfig {
                    tools: Some("qwen3-coder".into()),
                    ..Default::default()
                })
                .unwrap()
            },
            |p| run(p, &pieces),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

#[cfg(feature = "bench-peers")]
mod peer {
    //! `tool-parser`'s API is async; `support::ready` runs its futures without a runtime.

    use super::support::ready;

    use openai_protocol::common::Tool;
    use tool_parser::{QwenParser, ToolParser};

    /// The request's tool list (QwenParser only accepts declared names).
    pub fn tools() -> Vec<Tool> {
        serde_json::from_str(
            r#"[
              {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
              {"type": "function", "function": {"name": "search_web", "parameters": {"type": "object"}}},
              {"type": "function", "function": {"name": "write_file", "parameters": {"type": "object"}}}
            ]"#,
        )
        .unwrap()
    }

    pub fn new() -> QwenParser {
        QwenParser::new()
    }

    /// Feed every piece; returns the call names it announced and the number of items plus
    /// normal-text bytes (so nothing is optimised away).
    pub fn run(mut parser: QwenParser, pieces: &[&str], tools: &[Tool]) -> (Vec<String>, usize) {
        let mut names = Vec::new();
        let mut produced = 0;
        for piece in pieces {
            let result = ready(parser.parse_incremental(piece, tools)).unwrap();
            produced += result.calls.len() + result.normal_text.len();
            names.extend(result.calls.iter().filter_map(|c| c.name.clone()));
            std::hint::black_box(&result);
        }
        (names, produced)
    }
}

#[cfg(feature = "bench-peers")]
fn side_by_side(c: &mut Criterion) {
    let tools = peer::tools();
    let mut group = c.benchmark_group("hermes_side_by_side");
    let streams = [
        ("answer_and_2_calls", hermes_stream()),
        ("one_call_8KiB_arguments", long_call(8 << 10)),
    ];
    for (name, text) in &streams {
        let pieces = cut(text, &DELTAS);
        // Both must see the same calls before their speed means anything.
        let mut ours = parser(&[], false);
        let mut out = Vec::new();
        for piece in &pieces {
            ours.decode(piece, &mut out).unwrap();
        }
        let our_names: Vec<String> = out
            .iter()
            .filter_map(|c| c.tool_call_delta.as_ref()?.function_name.clone())
            .collect();
        assert_eq!(
            our_names,
            peer::run(peer::new(), &pieces, &tools).0,
            "{name}"
        );

        group.throughput(Throughput::Elements(pieces.len() as u64));
        group.bench_with_input(BenchmarkId::new("fastsse", name), &pieces, |b, pieces| {
            b.iter_batched(
                || parser(&[], false),
                |p| run(p, pieces),
                BatchSize::SmallInput,
            )
        });
        group.bench_with_input(
            BenchmarkId::new("tool-parser", name),
            &pieces,
            |b, pieces| {
                b.iter_batched(
                    peer::new,
                    |p| peer::run(p, pieces, &tools).1,
                    BatchSize::SmallInput,
                )
            },
        );
    }
    group.finish();
}

#[cfg(not(feature = "bench-peers"))]
fn side_by_side(_: &mut Criterion) {
    eprintln!("hermes_side_by_side skipped: run with --features bench-peers");
}

fn all(c: &mut Criterion) {
    mixed(c);
    linear(c);
    side_by_side(c);
}

criterion_group! {
    name = benches;
    config = support::criterion(20, 500, 2000);
    targets = all
}
criterion_main!(benches);
