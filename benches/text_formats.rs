//! Criterion benches of every tool format on one stream shape, side by side with the peers
//! that read the same format:
//!
//!     cargo bench --bench text_formats                          # fastsse alone
//!     cargo bench --bench text_formats --features bench-peers   # + the `tool-parser` crate
//!     cargo bench --bench text_formats --features bench-dynamo  # + NVIDIA's `dynamo-parsers`
//!
//! The streams are benches/data/format_streams.json (an answer sentence and two calls, written
//! the way each format writes them; the Python bench reads the same file), cut into 1-4
//! character deltas as an inference engine sends them. Every parser gets a fresh instance per
//! stream (construction excluded) and must announce the same two calls before its time counts;
//! a peer that does not is left out of that format's group, with a line saying so.
//! `tool-parser` runs its parsers' `parse_incremental` per delta; `dynamo-parsers` has no
//! incremental parser, so its streaming path (`JailedStream`, which holds text back once a
//! call may be starting and parses the block) runs over the same deltas as chat-completion
//! chunks, built before the clock starts.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use serde_json::Value;

use _fastsse::text::{TextParser, TextParserConfig, ToolSchemas, TOOL_FORMATS};
use _fastsse::{FinishReason, GenerationChunk};

#[path = "support/mod.rs"]
mod support;
use support::{cut, DELTAS};

struct Streams {
    names: Vec<String>,
    tools: Value,
    streams: serde_json::Map<String, Value>,
}

fn streams() -> Streams {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/data/format_streams.json"
    );
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Streams {
        names: data["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .collect(),
        tools: data["tools"].clone(),
        streams: data["streams"].as_object().unwrap().clone(),
    }
}

fn ours(format: &str, schemas: &std::sync::Arc<ToolSchemas>) -> TextParser {
    TextParser::new(TextParserConfig {
        tools: Some(format.to_owned()),
        tool_schemas: schemas.clone(),
        ..Default::default()
    })
    .unwrap()
}

/// Feed every piece; the call names announced and the number of chunks.
fn run_ours(mut parser: TextParser, pieces: &[&str]) -> (Vec<String>, usize) {
    let mut out: Vec<GenerationChunk> = Vec::with_capacity(8);
    let mut names = Vec::new();
    let mut chunks = 0;
    for piece in pieces.iter().map(Some).chain([None]) {
        out.clear();
        match piece {
            Some(piece) => parser.decode(piece, &mut out).unwrap(),
            None => parser.flush(FinishReason::Stop, &mut out).unwrap(),
        }
        chunks += out.len();
        names.extend(
            out.iter()
                .filter_map(|c| c.tool_call_delta.as_ref()?.function_name.clone()),
        );
        black_box(&out);
    }
    (names, chunks)
}

#[cfg(feature = "bench-peers")]
mod tool_parser_peer {
    //! `tool-parser`'s API is async; `support::ready` runs its futures without a runtime.

    use super::support::ready;

    use openai_protocol::common::Tool;
    use tool_parser::parsers::QwenXmlParser;
    use tool_parser::{
        CohereParser, DeepSeek31Parser, DeepSeekDsmlParser, DeepSeekParser, Gemma4Parser,
        Glm4MoeParser, KimiK2Parser, LlamaParser, MinimaxM2Parser, MistralParser, PythonicParser,
        QwenParser, Step3Parser, ToolParser,
    };

    /// The `tool-parser` parser for one of our format names, where it has one.
    pub fn parser(format: &str) -> Option<Box<dyn ToolParser>> {
        Some(match format {
            "hermes" => Box::new(QwenParser::new()),
            "qwen3-coder" => Box::new(QwenXmlParser::new()),
            "mistral" => Box::new(MistralParser::new()),
            "llama3-json" => Box::new(LlamaParser::new()),
            "pythonic" => Box::new(PythonicParser::new()),
            "deepseek-v3" => Box::new(DeepSeekParser::new()),
            "deepseek-v3.1" => Box::new(DeepSeek31Parser::new()),
            "deepseek-v3.2" => Box::new(DeepSeekDsmlParser::v32()),
            "kimi-k2" => Box::new(KimiK2Parser::new()),
            "glm-4.5" => Box::new(Glm4MoeParser::glm45()),
            "glm-4.7" => Box::new(Glm4MoeParser::glm47()),
            "step3" => Box::new(Step3Parser::new()),
            "minimax-m2" => Box::new(MinimaxM2Parser::new()),
            "gemma4" => Box::new(Gemma4Parser::new()),
            "cohere" => Box::new(CohereParser::new()),
            _ => return None,
        })
    }

    pub fn tools(tools: &serde_json::Value) -> Vec<Tool> {
        serde_json::from_value(tools.clone()).unwrap()
    }

    /// Feed every piece; the call names announced and how much came out.
    pub fn run(
        mut parser: Box<dyn ToolParser>,
        pieces: &[&str],
        tools: &[Tool],
    ) -> (Vec<String>, usize) {
        let mut names = Vec::new();
        let mut produced = 0;
        for piece in pieces {
            let Ok(result) = ready(parser.parse_incremental(piece, tools)) else {
                return (names, produced);
            };
            produced += result.calls.len() + result.normal_text.len();
            names.extend(result.calls.iter().filter_map(|c| c.name.clone()));
            std::hint::black_box(&result);
        }
        (names, produced)
    }
}

#[cfg(feature = "bench-dynamo")]
mod dynamo_peer {
    //! `dynamo-parsers` streams through `JailedStream` over chat-completion chunks; a
    //! current-thread Tokio runtime drives it (nothing in it waits on I/O).

    use dynamo_parsers::tool_calling::jail::{Annotated, JailedStream};
    use dynamo_parsers::tool_calling::ToolDefinition;
    use dynamo_protocols::types::{
        ChatChoiceStream, ChatCompletionMessageContent, ChatCompletionStreamResponseDelta,
        CreateChatCompletionStreamResponse, FinishReason, Role,
    };
    use futures::StreamExt;

    pub type Chunk = Annotated<CreateChatCompletionStreamResponse>;

    /// The `dynamo-parsers` name for one of our format names, where it has one.
    pub fn name(format: &str) -> Option<&'static str> {
        Some(match format {
            "hermes" => "hermes",
            "qwen3-coder" => "qwen3_coder",
            "mistral" => "mistral",
            "llama3-json" => "llama3_json",
            "pythonic" => "pythonic",
            "deepseek-v3" => "deepseek_v3",
            "deepseek-v3.1" => "deepseek_v3_1",
            "deepseek-v3.2" => "deepseek_v3_2",
            "kimi-k2" => "kimi_k2",
            "glm-4.7" => "glm47",
            "minimax-m2" => "minimax_m2",
            "gemma4" => "gemma4",
            "phi4-mini" => "phi4",
            "jamba" => "jamba",
            _ => return None,
        })
    }

    fn chunk(content: Option<&str>, finish: bool) -> Chunk {
        #[allow(deprecated)]
        let choice = ChatChoiceStream {
            index: 0,
            delta: ChatCompletionStreamResponseDelta {
                role: Some(Role::Assistant),
                content: content.map(|c| ChatCompletionMessageContent::Text(c.to_owned())),
                tool_calls: None,
                function_call: None,
                refusal: None,
                reasoning_content: None,
            },
            finish_reason: finish.then_some(FinishReason::Stop),
            logprobs: None,
        };
        Annotated {
            data: Some(CreateChatCompletionStreamResponse {
                id: "bench".to_owned(),
                choices: vec![choice],
                created: 0,
                model: "bench".to_owned(),
                system_fingerprint: None,
                object: "chat.completion.chunk".to_owned(),
                usage: None,
                service_tier: None,
            }),
            id: None,
            event: None,
            comment: None,
            error: None,
        }
    }

    /// The deltas as the chunks an engine would hand the jail, and the final one.
    pub fn chunks(pieces: &[&str]) -> Vec<Chunk> {
        let mut out: Vec<Chunk> = pieces.iter().map(|p| chunk(Some(p), false)).collect();
        out.push(chunk(None, true));
        out
    }

    pub fn definitions(tools: &serde_json::Value) -> Vec<ToolDefinition> {
        tools
            .as_array()
            .unwrap()
            .iter()
            .map(|t| ToolDefinition {
                name: t["function"]["name"].as_str().unwrap().to_owned(),
                parameters: Some(t["function"]["parameters"].clone()),
                strict: None,
            })
            .collect()
    }

    pub fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    /// Run the jail over the chunks; the call names it announced and the chunks it sent.
    pub fn run(
        runtime: &tokio::runtime::Runtime,
        parser: &str,
        tools: &[ToolDefinition],
        input: Vec<Chunk>,
    ) -> (Vec<String>, usize) {
        let jail = JailedStream::builder()
            .tool_call_parser(parser)
            .tool_definitions(tools.to_vec())
            .build();
        let out: Vec<Chunk> = runtime.block_on(jail.apply(futures::stream::iter(input)).collect());
        let names = out
            .iter()
            .filter_map(|a| a.data.as_ref())
            .flat_map(|r| &r.choices)
            .flat_map(|c| c.delta.tool_calls.iter().flatten())
            .filter_map(|t| t.function.as_ref()?.name.clone())
            .collect();
        (names, out.len())
    }
}

fn formats(c: &mut Criterion) {
    let data = streams();
    let schemas = std::sync::Arc::new(ToolSchemas::from_json(&data.tools.to_string()).unwrap());
    #[cfg(feature = "bench-peers")]
    let tp_tools = tool_parser_peer::tools(&data.tools);
    #[cfg(feature = "bench-dynamo")]
    let (dyn_tools, runtime) = (
        dynamo_peer::definitions(&data.tools),
        dynamo_peer::runtime(),
    );
    let only: Option<String> = std::env::var("FORMATS_ONLY").ok();

    for format in TOOL_FORMATS {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|f| f == *format))
        {
            continue;
        }
        let Some(text) = data.streams.get(*format).and_then(Value::as_str) else {
            panic!("{format}: no stream in benches/data/format_streams.json");
        };
        let pieces = cut(text, &DELTAS);
        let (names, _) = run_ours(ours(format, &schemas), &pieces);
        assert_eq!(
            names, data.names,
            "{format}: fastsse must read the two calls"
        );

        let mut group = c.benchmark_group(format!("format/{format}"));
        group.throughput(Throughput::Elements(pieces.len() as u64));
        group.bench_function(BenchmarkId::from_parameter("fastsse"), |b| {
            b.iter_batched(
                || ours(format, &schemas),
                |p| run_ours(p, &pieces),
                BatchSize::SmallInput,
            )
        });

        #[cfg(feature = "bench-peers")]
        if let Some(parser) = tool_parser_peer::parser(format) {
            let (names, _) = tool_parser_peer::run(parser, &pieces, &tp_tools);
            if names == data.names {
                group.bench_function(BenchmarkId::from_parameter("tool-parser"), |b| {
                    b.iter_batched(
                        || tool_parser_peer::parser(format).unwrap(),
                        |p| tool_parser_peer::run(p, &pieces, &tp_tools),
                        BatchSize::SmallInput,
                    )
                });
            } else {
                eprintln!("{format}: tool-parser announced {names:?}; left out");
            }
        }

        #[cfg(feature = "bench-dynamo")]
        if let Some(name) = dynamo_peer::name(format) {
            let (names, _) =
                dynamo_peer::run(&runtime, name, &dyn_tools, dynamo_peer::chunks(&pieces));
            if names == data.names {
                group.bench_function(BenchmarkId::from_parameter("dynamo-parsers"), |b| {
                    b.iter_batched(
                        || dynamo_peer::chunks(&pieces),
                        |input| dynamo_peer::run(&runtime, name, &dyn_tools, input),
                        BatchSize::SmallInput,
                    )
                });
            } else {
                eprintln!("{format}: dynamo-parsers announced {names:?}; left out");
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = support::criterion(10, 300, 1000);
    targets = formats
}
criterion_main!(benches);
