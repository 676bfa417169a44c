//! The corpus in tests/data/text through the Rust core: each case fed whole, one character at a
//! time, split at every single position and at random positions (proptest). Every way must give
//! the expected aggregate and a well-formed stream.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use _fastsse::text::{
    compile_response_template, ReasoningSpec, TextParser, TextParserConfig, ToolSchemas,
};
use _fastsse::{FinishReason, GenerationChunk};
use proptest::prelude::*;
use serde_json::Value;

struct Case {
    id: String,
    config: serde_json::Map<String, Value>,
    input: String,
    expect: Value,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        Some(other) => panic!("not a string list: {other}"),
    }
}

fn load_cases() -> Vec<Case> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/text");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut cases = Vec::new();
    for path in paths {
        let data: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        for case in data["cases"].as_array().unwrap() {
            let mut config = data["config"].as_object().unwrap().clone();
            if let Some(extra) = case.get("config").and_then(Value::as_object) {
                config.extend(extra.clone());
            }
            cases.push(Case {
                id: format!("{stem}: {}", case["name"].as_str().unwrap()),
                config,
                input: case["input"].as_str().unwrap().to_owned(),
                expect: case["expect"].clone(),
            });
        }
    }
    assert!(cases.len() > 50, "the corpus is missing");
    cases
}

fn parser(config: &serde_json::Map<String, Value>) -> TextParser {
    let starts = strings(config.get("reasoning_start"));
    let ends = strings(config.get("reasoning_end"));
    let reasoning = match config.get("reasoning").and_then(Value::as_str) {
        Some(name) => Some(ReasoningSpec::named(name).unwrap()),
        None if !ends.is_empty() => Some(ReasoningSpec::custom(starts, ends).unwrap()),
        None => None,
    };
    let schemas = match config.get("tool_schemas") {
        Some(value) => ToolSchemas::from_json(&value.to_string()).unwrap(),
        None => ToolSchemas::default(),
    };
    let base = TextParserConfig {
        stop: strings(config.get("stop")),
        include_stop: config
            .get("include_stop")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        reasoning,
        tools: config
            .get("tools")
            .and_then(Value::as_str)
            .map(str::to_owned),
        tool_schemas: Arc::new(schemas),
        max_buffer: config
            .get("max_buffer_size")
            .and_then(Value::as_u64)
            .map_or(0, |n| n as usize),
        id_seed: Some(42),
        ..TextParserConfig::default()
    };
    // A case may name a Hugging Face response template (tests/data/response_templates).
    let config = match config.get("response_template").and_then(Value::as_str) {
        None => base,
        Some(file) => {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(file);
            let json = std::fs::read_to_string(path).unwrap();
            let prefix = config.get("prefix").and_then(Value::as_str);
            compile_response_template(&json, prefix)
                .unwrap()
                .apply(base)
                .unwrap()
        }
    };
    TextParser::new(config).unwrap()
}

fn run(case: &Case, pieces: &[&str]) -> Vec<GenerationChunk> {
    let mut parser = parser(&case.config);
    let mut out = Vec::new();
    for piece in pieces {
        parser.decode(piece, &mut out).unwrap();
    }
    let finish = case
        .config
        .get("flush")
        .and_then(Value::as_str)
        .map(|name| FinishReason::parse(name).unwrap())
        .unwrap_or(FinishReason::Stop);
    parser.flush(finish, &mut out).unwrap();
    out
}

/// (text, reasoning, [(id, name, arguments)], error codes, finish reason, stop sequence)
type Aggregate = (
    String,
    String,
    Vec<(String, String, String)>,
    Vec<String>,
    String,
    Option<String>,
);

fn aggregate(chunks: &[GenerationChunk]) -> Aggregate {
    let mut calls: BTreeMap<u32, (String, String, String)> = BTreeMap::new();
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut errors = Vec::new();
    for chunk in chunks {
        text.push_str(&chunk.text_delta);
        reasoning.push_str(&chunk.reasoning_delta);
        if let Some(code) = &chunk.rare.error_code {
            errors.push(code.clone());
        }
        if let Some(delta) = &chunk.tool_call_delta {
            let call = calls.entry(delta.index).or_default();
            if let Some(id) = &delta.id {
                call.0.clone_from(id);
            }
            if let Some(name) = &delta.function_name {
                call.1.clone_from(name);
            }
            call.2.push_str(&delta.arguments_delta);
        }
    }
    let last = chunks.last().unwrap();
    (
        text,
        reasoning,
        calls.into_values().collect(),
        errors,
        last.finish_reason.unwrap().as_str().to_owned(),
        last.rare.stop_sequence.clone(),
    )
}

fn check_shape(id: &str, chunks: &[GenerationChunk]) {
    let (last, body) = chunks.split_last().unwrap();
    assert!(
        last.done && last.finish_reason.is_some(),
        "{id}: final chunk"
    );
    let mut announced = 0u32;
    let mut first_seen = false;
    for chunk in body {
        assert!(!chunk.done, "{id}: done only at the end");
        let kinds = [
            !chunk.text_delta.is_empty(),
            !chunk.reasoning_delta.is_empty(),
            chunk.tool_call_delta.is_some(),
            chunk.rare.error_code.is_some(),
        ];
        assert_eq!(kinds.iter().filter(|k| **k).count(), 1, "{id}: {chunk:?}");
        if chunk.has_content() {
            assert_eq!(chunk.is_first, !first_seen, "{id}: is_first");
            first_seen = true;
        }
        if let Some(delta) = &chunk.tool_call_delta {
            if delta.index == announced {
                assert!(delta.id.is_some() && delta.function_name.is_some(), "{id}");
                announced += 1;
            } else {
                assert!(delta.index < announced, "{id}: dense indices");
                assert!(delta.id.is_none() && delta.function_name.is_none(), "{id}");
                assert!(!delta.arguments_delta.is_empty(), "{id}: empty delta");
            }
        }
    }
}

fn check_expected(case: &Case, got: &Aggregate) {
    let e = &case.expect;
    let id = &case.id;
    assert_eq!(got.0, e["text"].as_str().unwrap(), "{id}: text");
    assert_eq!(got.1, e["reasoning"].as_str().unwrap(), "{id}: reasoning");
    let errors: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(got.3, errors, "{id}: errors");
    assert_eq!(got.4, e["finish_reason"].as_str().unwrap(), "{id}: finish");
    assert_eq!(got.5.as_deref(), e["stop_sequence"].as_str(), "{id}: stop");
    let calls = e["calls"].as_array().unwrap();
    assert_eq!(got.2.len(), calls.len(), "{id}: number of calls");
    for ((call_id, name, arguments), want) in got.2.iter().zip(calls) {
        assert_eq!(name, want["name"].as_str().unwrap(), "{id}");
        match want.get("id").and_then(Value::as_str) {
            Some(expected) => assert_eq!(call_id, expected, "{id}: call id"),
            None => assert!(
                (call_id.starts_with("call_") && call_id.len() == 29)
                    || (call_id.len() == 9 && call_id.bytes().all(|b| b.is_ascii_alphanumeric())),
                "{id}: generated id {call_id:?}"
            ),
        }
        if let Some(raw) = want.get("arguments_raw") {
            assert_eq!(arguments, raw.as_str().unwrap(), "{id}: raw arguments");
        }
        if let Some(value) = want.get("arguments") {
            let parsed: Value = serde_json::from_str(arguments)
                .unwrap_or_else(|e| panic!("{id}: arguments {arguments:?}: {e}"));
            assert_eq!(&parsed, value, "{id}: arguments");
        }
    }
}

/// `"streams": {"char": C, "max_behind": N}`: fed one character at a time, the output never
/// lags the input by more than N copies of C (a long value streams as it arrives).
fn check_streaming(case: &Case) {
    let Some(streams) = case.expect.get("streams") else {
        return;
    };
    let watched = streams["char"].as_str().unwrap().chars().next().unwrap();
    let max_behind = streams["max_behind"].as_u64().unwrap() as usize;
    let count = |text: &str| text.chars().filter(|c| *c == watched).count();
    let mut parser = parser(&case.config);
    let (mut fed, mut sent, mut worst) = (0, 0, 0);
    for c in case.input.chars() {
        fed += usize::from(c == watched);
        for chunk in parser.decode_to_vec(c.encode_utf8(&mut [0; 4])).unwrap() {
            sent += count(&chunk.text_delta) + count(&chunk.reasoning_delta);
            sent += chunk
                .tool_call_delta
                .as_ref()
                .map_or(0, |d| count(&d.arguments_delta));
        }
        worst = worst.max(fed.saturating_sub(sent));
    }
    assert!(
        worst <= max_behind,
        "{}: held back {worst} > {max_behind}",
        case.id
    );
}

#[test]
fn corpus_whole_and_char_by_char() {
    for case in load_cases() {
        let whole = run(&case, &[&case.input]);
        check_shape(&case.id, &whole);
        let expected = aggregate(&whole);
        check_expected(&case, &expected);

        let by_char = run(&case, &support::by_char(&case.input));
        check_shape(&case.id, &by_char);
        assert_eq!(aggregate(&by_char), expected, "{}: char by char", case.id);
        check_streaming(&case);
    }
}

#[test]
fn corpus_every_two_way_split() {
    for case in load_cases() {
        let expected = aggregate(&run(&case, &[&case.input]));
        for cut in support::char_boundaries(&case.input) {
            let (a, b) = case.input.split_at(cut);
            let chunks = run(&case, &[a, b]);
            check_shape(&case.id, &chunks);
            assert_eq!(aggregate(&chunks), expected, "{}: split at {cut}", case.id);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn corpus_random_splits(seeds in proptest::collection::vec(any::<u16>(), 0..16)) {
        for case in load_cases() {
            let expected = aggregate(&run(&case, &[&case.input]));
            let chunks = run(&case, &support::cut_at_chars(&case.input, &seeds));
            check_shape(&case.id, &chunks);
            prop_assert_eq!(aggregate(&chunks), expected.clone(), "{}", case.id);
        }
    }
}
