//! Bedrock ConverseStream reducer on real captures (tests/data/bedrock), framed by the
//! eventstream decoder, fed whole, byte by byte and split at every/random point; checked
//! against an independent reference reduction of the decoded frames.

mod support;

use _fastsse::eventstream::{encode_message, EventStreamDecoder, Header, HeaderValue};
use _fastsse::{Error, FinishReason};
use serde_json::Value;
use support::*;

fn frame(headers: &[(&str, &str)], payload: &str) -> Vec<u8> {
    let headers: Vec<Header<'_>> = headers
        .iter()
        .map(|(name, value)| Header {
            name,
            value: HeaderValue::String(value),
        })
        .collect();
    let mut out = Vec::new();
    encode_message(&headers, payload.as_bytes(), &mut out).unwrap();
    out
}

fn event(event_type: &str, payload: &str) -> Vec<u8> {
    frame(
        &[
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload,
    )
}

/// (event type, payload) of every frame.
fn frames(bytes: &[u8]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut decoder = EventStreamDecoder::default();
    decoder
        .decode_with(bytes, |m| {
            out.push((
                m.event_type().unwrap().to_owned(),
                json(std::str::from_utf8(m.payload()).unwrap()),
            ));
            Ok(())
        })
        .unwrap();
    out
}

#[derive(Debug, Default)]
struct Reference {
    text: String,
    reasoning: String,
    calls: Vec<(u64, String, String, String)>, // block, id, name, arguments
    stop_reason: String,
    input: Option<u64>,
    output: Option<u64>,
}

fn reference(frames: &[(String, Value)]) -> Reference {
    let mut r = Reference::default();
    for (kind, body) in frames {
        let block = body["contentBlockIndex"].as_u64().unwrap_or(0);
        match kind.as_str() {
            "contentBlockStart" => {
                let tool = &body["start"]["toolUse"];
                if tool.is_object() && tool["type"] != "server_tool_use" {
                    r.calls.push((
                        block,
                        tool["toolUseId"].as_str().unwrap().to_owned(),
                        tool["name"].as_str().unwrap().to_owned(),
                        String::new(),
                    ));
                }
            }
            "contentBlockDelta" => {
                let delta = &body["delta"];
                r.text.push_str(delta["text"].as_str().unwrap_or(""));
                r.reasoning
                    .push_str(delta["reasoningContent"]["text"].as_str().unwrap_or(""));
                if let Some(input) = delta["toolUse"]["input"].as_str() {
                    if let Some(call) = r.calls.iter_mut().find(|c| c.0 == block) {
                        call.3.push_str(input);
                    }
                }
            }
            "messageStop" => r.stop_reason = body["stopReason"].as_str().unwrap().to_owned(),
            "metadata" => {
                r.input = body["usage"]["inputTokens"].as_u64();
                r.output = body["usage"]["outputTokens"].as_u64();
            }
            _ => {}
        }
    }
    r
}

/// Every capture (columns: `support::COLUMNS`); raw-only chunks carry reasoning signatures,
/// redacted reasoning, and a server tool's call and result.
const CAPTURES: &str = "
bedrock/converse-stream-composed-reasoning-tool-use.bin tool_calls 471 91 0 193 0 1 get_temperature:16
bedrock/converse-stream-empty-text-delta.bin    stop       70   43  32  119 0 0
bedrock/converse-stream-reasoning-signature.bin stop       36   73  55  193 0 1
bedrock/converse-stream-redacted-reasoning.bin  stop       92   253 359 0   0 2
bedrock/converse-stream-server-tool.bin         tool_calls 1002 59  0   0   0 4 final_result:20
bedrock/converse-stream-text-tool-use.bin       tool_calls 471  91  283 0   0 0 get_temperature:16
bedrock/converse-stream-text.bin                stop       13   82  375 0   0 0
";

#[test]
fn every_capture_is_covered() {
    assert_covered(&table(CAPTURES), &[], fixtures_in("bedrock"));
}

/// Every capture fed every way, matched to its row, and to the reference.
#[test]
fn captures_match_their_rows_and_the_reference() {
    for (row, chunks) in check_table("bedrock", &table(CAPTURES), Sweep::Full) {
        let path = row.path.as_str();
        let got = collect(&chunks);
        let want = reference(&frames(&data(path)));
        assert_eq!(got.text, want.text, "{path}");
        assert_eq!(got.reasoning, want.reasoning, "{path}");
        assert_eq!(got.tool_calls.len(), want.calls.len(), "{path}");
        for (call, (_, id, name, args)) in got.tool_calls.iter().zip(&want.calls) {
            assert_eq!(call.id.as_deref(), Some(id.as_str()));
            assert_eq!(&call.name, name);
            assert_eq!(&call.arguments, args);
            json(&call.arguments);
        }
        let finish = match want.stop_reason.as_str() {
            "end_turn" => FinishReason::Stop,
            "tool_use" => FinishReason::ToolCalls,
            other => panic!("{other}"),
        };
        assert_eq!(got.finish_reason, Some(finish), "{path}");
        assert_eq!(
            (got.prompt_tokens, got.completion_tokens),
            (want.input, want.output),
            "{path}"
        );
    }
}

#[test]
fn stop_reason_mapping() {
    for (reason, want) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("tool_use", FinishReason::ToolCalls),
        ("max_tokens", FinishReason::Length),
        ("model_context_window_exceeded", FinishReason::Length),
        ("guardrail_intervened", FinishReason::ContentFilter),
        ("content_filtered", FinishReason::ContentFilter),
    ] {
        let stream = [
            event("messageStart", r#"{"role":"assistant"}"#),
            event("messageStop", &format!(r#"{{"stopReason":"{reason}"}}"#)),
            event(
                "metadata",
                r#"{"usage":{"inputTokens":10,"outputTokens":2,"cacheReadInputTokens":5,"totalTokens":17}}"#,
            ),
        ]
        .concat();
        let got = collect(&run("bedrock", &[&stream]).unwrap());
        assert_eq!(got.finish_reason, Some(want), "{reason}");
        assert_eq!(
            (got.prompt_tokens, got.completion_tokens),
            (Some(15), Some(2))
        );
    }
}

#[test]
fn exception_frame_is_a_provider_error() {
    let stream = [
        event("messageStart", r#"{"role":"assistant"}"#),
        event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"Hel"}}"#,
        ),
        frame(
            &[
                (":exception-type", "modelStreamErrorException"),
                (":content-type", "application/json"),
                (":message-type", "exception"),
            ],
            r#"{"message":"Model stream failed","originalStatusCode":500}"#,
        ),
    ]
    .concat();
    let (code, message, raw) = provider_error(run("bedrock", &[&stream]).err());
    assert_eq!(code.as_deref(), Some("modelStreamErrorException"));
    assert_eq!(message, "Model stream failed");
    assert!(raw.contains("originalStatusCode"));
}

#[test]
fn malformed_payload_is_a_protocol_error_with_offset() {
    let first = event("messageStart", r#"{"role":"assistant"}"#);
    let bad = event("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":"#);
    let stream = [first.clone(), bad.clone()].concat();
    match run("bedrock", &[&stream]) {
        Err(Error::Protocol { offset, message }) => {
            assert_eq!(offset, Some((first.len() + bad.len()) as u64), "{message}");
            assert!(message.contains("bedrock"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let orphan = event(
        "contentBlockDelta",
        r#"{"contentBlockIndex":3,"delta":{"toolUse":{"input":"{"}}}"#,
    );
    assert!(matches!(
        run("bedrock", &[&orphan]),
        Err(Error::Protocol { .. })
    ));
}

#[test]
fn tool_call_without_input_gets_empty_object() {
    let stream = [
        event(
            "contentBlockStart",
            r#"{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"t1","name":"now"}}}"#,
        ),
        event("contentBlockStop", r#"{"contentBlockIndex":0}"#),
        event("messageStop", r#"{"stopReason":"tool_use"}"#),
    ]
    .concat();
    let got = collect(&run("bedrock", &[&stream]).unwrap());
    assert_eq!(got.tool_calls[0].arguments, "{}");
    assert_eq!(got.tool_calls[0].id.as_deref(), Some("t1"));
}

#[test]
fn stream_without_message_stop_is_incomplete() {
    let stream = event(
        "contentBlockDelta",
        r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
    );
    assert_eq!(decode_incomplete("bedrock", &stream).text, "Hi");
}

#[test]
fn non_streaming_converse_body() {
    let body = r#"{"output":{"message":{"role":"assistant","content":[
        {"reasoningContent":{"reasoningText":{"text":"Think.","signature":"sig"}}},
        {"text":"Let me check."},
        {"toolUse":{"toolUseId":"tooluse_1","name":"get_weather","input":{"city":"Paris"}}}]}},
        "stopReason":"tool_use","usage":{"inputTokens":20,"outputTokens":9,"totalTokens":29},
        "metrics":{"latencyMs":100}}"#;
    let got = collect(&run_body("bedrock", body).unwrap());
    assert_eq!(got.reasoning, "Think.");
    assert_eq!(got.text, "Let me check.");
    assert_eq!(got.tool_calls[0].name, "get_weather");
    assert_eq!(
        json(&got.tool_calls[0].arguments),
        json(r#"{"city":"Paris"}"#)
    );
    assert_eq!(got.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(
        (got.prompt_tokens, got.completion_tokens),
        (Some(20), Some(9))
    );

    let error = r#"{"message":"The security token included in the request is invalid."}"#;
    assert!(matches!(
        run_body("bedrock", error),
        Err(Error::Provider { .. })
    ));
}

#[test]
fn corrupted_streams_never_panic() {
    support::mutations_never_panic("bedrock", &data("bedrock/converse-stream-server-tool.bin"));
}

#[test]
fn events_wrapped_in_their_name_as_json() {
    // boto3 hands out `{"contentBlockDelta": {...}}` objects; relayed as JSON lines they
    // reach the reducer without an event type.
    use _fastsse::providers::bedrock::BedrockReducer;
    use _fastsse::providers::{Reducer, WireEvent};
    let lines = [
        r#"{"messageStart":{"role":"assistant"}}"#,
        r#"{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"Hi"}}}"#,
        r#"{"messageStop":{"stopReason":"max_tokens"}}"#,
        r#"{"metadata":{"usage":{"inputTokens":3,"outputTokens":1}}}"#,
    ];
    let mut reducer = BedrockReducer::new();
    let mut out = Vec::new();
    for (offset, data) in lines.iter().enumerate() {
        let event = WireEvent {
            event: "",
            data,
            offset: offset as u64,
        };
        reducer.on_event(&event, &mut out).unwrap();
    }
    reducer.finish(&mut out).unwrap();
    // Straight from the reducer (no pipeline stamps `is_first`): each chunk's `raw` is the
    // inner event, as the stream form would carry it.
    let [text, terminal] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(text.text_delta, "Hi");
    assert_eq!(
        text.raw.as_deref(),
        Some(r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#)
    );
    assert!(terminal.done);
    assert_eq!(terminal.finish_reason, Some(FinishReason::Length));
    let throttled = WireEvent {
        event: "",
        data: r#"{"throttlingException":{"message":"Rate exceeded"}}"#,
        offset: 9,
    };
    assert!(matches!(
        BedrockReducer::new().on_event(&throttled, &mut Vec::new()),
        Err(Error::Provider { code: Some(ref c), .. }) if c == "throttlingException"
    ));
}

#[test]
fn pipeline_sniffs_a_json_body_and_reports_a_cut_frame() {
    use _fastsse::providers::{ChunkDecoder, ChunkDecoderConfig};
    let body = r#"{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":1}}"#;
    // No Content-Type: the first byte `{` cannot start an eventstream frame.
    let sniffed = run("bedrock", &[body.as_bytes()]).unwrap();
    assert_eq!(sniffed, run_body("bedrock", body).unwrap());
    assert_eq!(collect(&sniffed).text, "Hi");

    let config = ChunkDecoderConfig {
        content_type: Some("application/vnd.amazon.eventstream".into()),
        ..Default::default()
    };
    let bytes = data("bedrock/converse-stream-text.bin");
    let mut decoder = ChunkDecoder::new("bedrock", config).unwrap();
    let mut chunks = Vec::new();
    decoder
        .decode_into(&bytes[..bytes.len() - 3], &mut chunks)
        .unwrap();
    assert!(!chunks.is_empty());
    match decoder.flush_into(&mut chunks) {
        Err(Error::Protocol { message, .. }) => {
            assert!(
                message.contains("inside an eventstream message"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
}
