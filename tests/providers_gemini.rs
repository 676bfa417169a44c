//! Gemini reducer on real captures (tests/data/gemini), fed whole, byte by byte and split at
//! every/random point, CRLF (as sent) and LF; checked against an independent reference
//! reduction written with serde_json::Value.

mod support;

use _fastsse::providers::gemini::GeminiReducer;
use _fastsse::providers::{Reducer, WireEvent};
use _fastsse::{Error, FinishReason};
use serde_json::{json, Value};
use support::*;

/// The payloads of the SSE events in `bytes` (CRLF or LF).
fn payloads(bytes: &[u8]) -> Vec<Value> {
    let text = String::from_utf8(bytes.to_vec())
        .unwrap()
        .replace("\r\n", "\n");
    text.split("\n\n")
        .filter_map(|block| block.strip_prefix("data: "))
        .map(json)
        .collect()
}

/// Set `value` at a `$.a.b[0]` path inside `root`, creating containers; strings append.
fn set_path(root: &mut Value, path: &str, value: &Value) {
    let mut node = root;
    let mut rest = path.strip_prefix('$').unwrap();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let key = &after[..end];
            if !node.is_object() {
                *node = json!({});
            }
            node = node
                .as_object_mut()
                .unwrap()
                .entry(key)
                .or_insert(Value::Null);
            rest = &after[end..];
        } else {
            let close = rest.find(']').unwrap();
            let index: usize = rest[1..close].parse().unwrap();
            if !node.is_array() {
                *node = json!([]);
            }
            let array = node.as_array_mut().unwrap();
            while array.len() <= index {
                array.push(Value::Null);
            }
            node = &mut array[index];
            rest = &rest[close + 1..];
        }
    }
    match (node.as_str(), value.as_str()) {
        (Some(old), Some(new)) => *node = Value::String(format!("{old}{new}")),
        _ => *node = value.clone(),
    }
}

#[derive(Debug, Default)]
struct Reference {
    text: String,
    reasoning: String,
    calls: Vec<(String, Value)>,
    finish: Option<String>,
    prompt: Option<u64>,
    completion: Option<u64>,
}

fn reference(events: &[Value]) -> Reference {
    let mut r = Reference::default();
    for event in events {
        for part in event["candidates"][0]["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(text) = part["text"].as_str() {
                if part["thought"] == json!(true) {
                    r.reasoning.push_str(text);
                } else {
                    r.text.push_str(text);
                }
            }
            let call = &part["functionCall"];
            if let Some(name) = call["name"].as_str() {
                let args = if call["args"].is_null() {
                    json!({})
                } else {
                    call["args"].clone()
                };
                r.calls.push((name.to_owned(), args));
            }
            for piece in call["partialArgs"].as_array().into_iter().flatten() {
                let value = ["stringValue", "numberValue", "boolValue"]
                    .iter()
                    .map(|k| &piece[*k])
                    .find(|v| !v.is_null())
                    .cloned()
                    .unwrap_or(Value::Null);
                let args = &mut r.calls.last_mut().unwrap().1;
                set_path(args, piece["jsonPath"].as_str().unwrap(), &value);
            }
        }
        if let Some(reason) = event["candidates"][0]["finishReason"].as_str() {
            r.finish = Some(reason.to_owned());
        }
        let usage = &event["usageMetadata"];
        if let Some(prompt) = usage["promptTokenCount"].as_u64() {
            r.prompt = Some(prompt + usage["toolUsePromptTokenCount"].as_u64().unwrap_or(0));
        }
        if usage["candidatesTokenCount"].is_u64() || usage["thoughtsTokenCount"].is_u64() {
            r.completion = Some(
                usage["candidatesTokenCount"].as_u64().unwrap_or(0)
                    + usage["thoughtsTokenCount"].as_u64().unwrap_or(0),
            );
        }
    }
    r
}

/// Every capture (columns: `support::COLUMNS`); the raw-only chunks are code execution's
/// `executableCode` and `codeExecutionResult` parts and the `thoughtSignature`s of empty parts.
const CAPTURES: &str = "
gemini/code-execution.sse                                    stop       507 276  82   0    0 3
gemini/function-call-thought-signature.sse                   tool_calls 29  212  0    0    0 0 get_country:2
gemini/text.sse                                              stop       13  8    32   0    0 0
gemini/thinking-thought-parts-text.sse                       stop       34  1256 1938 1575 0 0
gemini/usage-live-mid-stream.sse                             stop       18  115  80   0    0 0
gemini/vercel-function-call-no-args-thought.jsonl            tool_calls 249 241  0    320  0 0 read_theme:2 read_screen:10 read_screen:10 read_screen:10
gemini/vercel-function-call-partial-args.jsonl               tool_calls 26  155  0    0    0 0 getWeather:21 getWeather:28
gemini/vercel-function-call.jsonl                            tool_calls 29  60   0    0    0 0 weather:28
gemini/vercel-text.jsonl                                     stop       9   208  55   0    0 1
gemini/vercel-vertex-function-call-nested-partial-args.jsonl tool_calls 31  1710 0    0    0 0 cookRecipe:1062
gemini/web-search-grounding-metadata.sse                     stop       119 653  926  0    0 0
";

#[test]
fn every_capture_is_covered() {
    assert_covered(&table(CAPTURES), &[], fixtures_in("gemini"));
}

/// Every capture fed every way (LF and CRLF), matched to its row, and to the reference.
#[test]
fn captures_match_their_rows_and_the_reference() {
    for (row, chunks) in check_table("gemini", &table(CAPTURES), Sweep::Full) {
        let path = row.path.as_str();
        let got = collect(&chunks);
        let want = reference(&payloads(&fixture(path)));
        assert_eq!(got.text, want.text, "{path}: text");
        assert_eq!(got.reasoning, want.reasoning, "{path}: reasoning");
        assert_eq!(got.tool_calls.len(), want.calls.len(), "{path}: tool calls");
        for (call, (name, args)) in got.tool_calls.iter().zip(&want.calls) {
            assert_eq!(&call.name, name);
            assert_eq!(&json(&call.arguments), args, "{path}: arguments of {name}");
        }
        assert_eq!(got.prompt_tokens, want.prompt, "{path}: prompt tokens");
        assert_eq!(
            got.completion_tokens, want.completion,
            "{path}: completion tokens"
        );
        let expected_finish = match want.finish.as_deref() {
            Some("STOP") if !want.calls.is_empty() => FinishReason::ToolCalls,
            Some("STOP") => FinishReason::Stop,
            other => panic!("{path}: unexpected finish {other:?}"),
        };
        assert_eq!(got.finish_reason, Some(expected_finish), "{path}: finish");
    }
}

#[test]
fn arguments_arrive_incrementally() {
    // The streamed call's arguments come in many deltas, not one blob at the end.
    let sse = jsonl_to_sse(
        &String::from_utf8(data(
            "gemini/vercel-vertex-function-call-nested-partial-args.jsonl",
        ))
        .unwrap(),
        "\n",
    );
    let chunks = run("gemini", &[&sse]).unwrap();
    let deltas = chunks
        .iter()
        .filter(|c| {
            c.tool_call_delta
                .as_ref()
                .is_some_and(|d| !d.arguments_delta.is_empty())
        })
        .count();
    assert!(deltas > 60, "{deltas} argument deltas");
    let first = chunks
        .iter()
        .find_map(|c| c.tool_call_delta.as_ref())
        .unwrap();
    assert_eq!(first.function_name.as_deref(), Some("cookRecipe"));
    assert!(chunks[0].is_first);
}

fn one(data: &str) -> Result<Vec<_fastsse::GenerationChunk>, Error> {
    let mut reducer = GeminiReducer::new();
    let mut out = Vec::new();
    reducer.on_event(
        &WireEvent {
            event: "message",
            data,
            offset: 42,
        },
        &mut out,
    )?;
    reducer.finish(&mut out)?;
    Ok(out)
}

#[test]
fn finish_reason_mapping() {
    let cases = [
        ("STOP", FinishReason::Stop),
        ("MAX_TOKENS", FinishReason::Length),
        ("SAFETY", FinishReason::ContentFilter),
        ("RECITATION", FinishReason::ContentFilter),
        ("PROHIBITED_CONTENT", FinishReason::ContentFilter),
        ("MALFORMED_FUNCTION_CALL", FinishReason::Error),
        ("OTHER", FinishReason::Error),
        ("FINISH_REASON_UNSPECIFIED", FinishReason::Stop),
    ];
    for (reason, want) in cases {
        let event = format!(
            r#"{{"candidates":[{{"content":{{"parts":[{{"text":"x"}}]}},"finishReason":"{reason}","finishMessage":"why"}}]}}"#
        );
        let chunks = one(&event).unwrap();
        let terminal = chunks.last().unwrap();
        assert_eq!(terminal.finish_reason, Some(want), "{reason}");
        if want == FinishReason::Error {
            assert_eq!(terminal.rare.error_code.as_deref(), Some(reason));
            assert_eq!(terminal.rare.error_message.as_deref(), Some("why"));
        }
    }
    let blocked = one(
        r#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":5}}"#,
    )
    .unwrap();
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].finish_reason, Some(FinishReason::ContentFilter));
    assert_eq!(blocked[0].rare.prompt_tokens, Some(5));
}

#[test]
fn error_object_is_a_provider_error() {
    let body = r#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}"#;
    let (code, message, raw) = provider_error(one(body).err());
    assert_eq!(code.as_deref(), Some("RESOURCE_EXHAUSTED"));
    assert_eq!(message, "Resource has been exhausted");
    assert_eq!(raw, body);
    // Mid-stream: what came before is still delivered by the caller's collect.
    let stream = format!("data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"Hi\"}}]}}}}]}}\r\n\r\ndata: {body}\r\n\r\n");
    assert!(matches!(
        run("gemini", &[stream.as_bytes()]),
        Err(Error::Provider { .. })
    ));
}

#[test]
fn malformed_json_is_a_protocol_error_with_offset() {
    for bad in [
        "{",
        "[]",
        r#"{"candidates": 5}"#,
        r#"{"candidates":[{"index":999999}]}"#,
    ] {
        match one(bad) {
            Err(Error::Protocol {
                offset: Some(42), ..
            }) => {}
            other => panic!("{bad}: {other:?}"),
        }
    }
    let orphan = r#"{"candidates":[{"content":{"parts":[{"functionCall":{"partialArgs":[{"jsonPath":"$.a","stringValue":"x"}]}}]}}]}"#;
    assert!(matches!(one(orphan), Err(Error::Protocol { .. })));
    let bad_path = r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","partialArgs":[{"jsonPath":"$[*]","stringValue":"x"}],"willContinue":true}}]}}]}"#;
    assert!(matches!(one(bad_path), Err(Error::Protocol { .. })));
}

#[test]
fn stream_cut_short() {
    let sse = b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"willContinue\":true}}]}}]}\n\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"partialArgs\":[{\"jsonPath\":\"$.q\",\"stringValue\":\"par\",\"willContinue\":true}],\"willContinue\":true}}]}}]}\n\n";
    let got = decode_incomplete("gemini", sse);
    assert_eq!(
        got.tool_calls[0].arguments, r#"{"q":"par"}"#,
        "closed so it parses"
    );
}

#[test]
fn second_candidate_gets_its_choice_index() {
    let event = r#"{"candidates":[{"content":{"parts":[{"text":"a"}]},"index":0},{"content":{"parts":[{"text":"b"}]},"index":1,"finishReason":"MAX_TOKENS"}]}"#;
    let chunks = one(event).unwrap();
    assert_eq!(chunks[0].choice_index, 0);
    assert_eq!(chunks[1].choice_index, 1);
    assert_eq!(chunks[1].text_delta, "b");
}

#[test]
fn non_streaming_body_matches_the_stream() {
    // generateContent returns the same object shape; the JSON-array form of
    // streamGenerateContent (no alt=sse) is the list of stream events.
    for path in [
        "gemini/text.sse",
        "gemini/vercel-function-call-partial-args.jsonl",
    ] {
        let raw = data(path);
        let sse = if path.ends_with(".jsonl") {
            jsonl_to_sse(&String::from_utf8(raw).unwrap(), "\n")
        } else {
            raw
        };
        let events: Vec<String> = payloads(&sse).iter().map(|v| v.to_string()).collect();
        let array = format!("[{}]", events.join(",\n"));
        let from_body = collect(&run_body("gemini", &array).unwrap());
        let from_stream = collect(&run("gemini", &[&sse]).unwrap());
        assert_eq!(from_body.text, from_stream.text);
        assert_eq!(from_body.tool_calls, from_stream.tool_calls);
        assert_eq!(from_body.finish_reason, from_stream.finish_reason);
        assert_eq!(from_body.completion_tokens, from_stream.completion_tokens);
    }
    let body = r#"{"candidates":[{"content":{"parts":[{"text":"Paris."}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2}}"#;
    let got = collect(&run_body("gemini", body).unwrap());
    assert_eq!(got.text, "Paris.");
    assert_eq!(
        (got.prompt_tokens, got.completion_tokens),
        (Some(3), Some(2))
    );
}

#[test]
fn corrupted_streams_never_panic() {
    for path in [
        "gemini/thinking-thought-parts-text.sse",
        "gemini/code-execution.sse",
    ] {
        support::mutations_never_panic("gemini", &data(path));
    }
    let nested = jsonl_to_sse(
        &String::from_utf8(data(
            "gemini/vercel-vertex-function-call-nested-partial-args.jsonl",
        ))
        .unwrap(),
        "\n",
    );
    support::mutations_never_panic("gemini", &nested);
}
