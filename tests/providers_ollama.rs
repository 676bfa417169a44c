//! Ollama NDJSON reducer on real captures (tests/data/ollama, langchaingo recordings) and
//! SYNTHETIC streams for the fields no public capture has (thinking, tool calls, errors),
//! fed whole, byte by byte and split at every/random point.

mod support;

use _fastsse::{Error, FinishReason};
use serde_json::Value;
use support::*;

/// Independent reference: concatenated content/response and the final line's fields.
fn reference(bytes: &[u8]) -> (String, Value) {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(json)
        .collect();
    let content = lines
        .iter()
        .map(|l| {
            l["message"]["content"]
                .as_str()
                .or(l["response"].as_str())
                .unwrap_or("")
        })
        .collect();
    (content, lines.last().unwrap().clone())
}

/// Every capture that finishes (columns: `support::COLUMNS`).
const CAPTURES: &str = "
ollama/chat-done-reason-length.ndjson            length     15  50 185 0  0 0
ollama/chat-stream.ndjson                        stop       16  22 33  0  0 0
ollama/generate-stream.ndjson                    stop       16  22 33  0  0 0
ollama/synthetic-chat-thinking-tool-calls.ndjson tool_calls 182 61 0   46 0 0 get_weather:33 get_weather:54
ollama/synthetic-generate-thinking.ndjson        stop       9   14 1   21 0 0
";
const ERROR: &str = "ollama/synthetic-chat-error-mid-stream.ndjson";

#[test]
fn every_capture_is_covered() {
    assert_covered(&table(CAPTURES), &[ERROR], fixtures_in("ollama"));
}

/// Every capture fed every way (LF and CRLF), matched to its row and to the reference; the
/// terminal chunk's `raw` is the done line.
#[test]
fn captures_match_their_rows_and_the_reference() {
    for (row, chunks) in check_table("ollama", &table(CAPTURES), Sweep::Full) {
        let path = row.path.as_str();
        let (text, last) = reference(&data(path));
        assert_eq!(collect(&chunks).text, text, "{path}");
        assert_eq!(
            terminal_raw(&chunks),
            Some(last),
            "{path}: raw of the done line"
        );
    }
}

#[test]
fn thinking_and_whole_tool_calls() {
    let bytes = data("ollama/synthetic-chat-thinking-tool-calls.ndjson");
    let chunks = run("ollama", &[&bytes]).unwrap();
    let got = collect(&chunks);
    assert_eq!(
        got.reasoning,
        "The user wants the weather in Paris and Tōkyō."
    );
    assert_eq!(got.text, "");
    assert_eq!(got.tool_calls.len(), 2);
    assert_eq!(got.tool_calls[0].id.as_deref(), Some("call_k3j2"));
    assert_eq!(got.tool_calls[1].id, None);
    assert_eq!(
        json(&got.tool_calls[0].arguments),
        json(r#"{"city":"Paris","unit":"celsius"}"#)
    );
    assert_eq!(
        got.tool_calls[1].arguments, r#"{"city":"Tōkyō","days":[1,2],"detail":{"hourly":true}}"#,
        "the provider's own JSON text, not re-serialised"
    );
    // Each call is two chunks: id + name, then the whole arguments.
    let calls: Vec<_> = chunks
        .iter()
        .filter_map(|c| c.tool_call_delta.as_ref())
        .collect();
    assert_eq!(calls.len(), 4);
    assert!(calls[0].function_name.is_some() && calls[0].arguments_delta.is_empty());
    assert!(calls[1].function_name.is_none() && !calls[1].arguments_delta.is_empty());
}

#[test]
fn error_line_is_a_provider_error() {
    let (code, message, raw) = provider_error(run("ollama", &[&data(ERROR)]).err());
    assert_eq!(code, None);
    assert_eq!(
        message,
        "an error was encountered while running the model: unexpected EOF"
    );
    assert!(raw.starts_with("{\"error\""));
    let object = r#"{"error":{"message":"model 'x' not found","code":404}}"#;
    let (code, message, _) = provider_error(run_body("ollama", object).err());
    assert_eq!(
        (code.as_deref(), message.as_str()),
        (Some("404"), "model 'x' not found")
    );
}

#[test]
fn done_reasons() {
    for (reason, want) in [
        ("stop", FinishReason::Stop),
        ("length", FinishReason::Length),
        ("load", FinishReason::Stop),
        ("unload", FinishReason::Stop),
    ] {
        let line = format!(r#"{{"model":"m","response":"","done":true,"done_reason":"{reason}"}}"#);
        assert_eq!(
            collect(&run("ollama", &[line.as_bytes()]).unwrap()).finish_reason,
            Some(want)
        );
    }
}

#[test]
fn malformed_line_is_a_protocol_error_with_offset() {
    let stream = b"{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"message\":{\"content\":\n";
    match run("ollama", &[stream]) {
        Err(Error::Protocol { offset, .. }) => assert_eq!(offset, Some(stream.len() as u64)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        run("ollama", &[b"[1,2]\n"]),
        Err(Error::Protocol { .. })
    ));
}

#[test]
fn stream_without_done_is_incomplete() {
    let line = b"{\"message\":{\"content\":\"Hi\"},\"done\":false}\n";
    assert_eq!(decode_incomplete("ollama", line).text, "Hi");
}

#[test]
fn non_streaming_body() {
    let body = r#"{"model":"llama3.2","created_at":"2025-09-01T10:00:00Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_time","arguments":{}}}]},"done_reason":"stop","done":true,"prompt_eval_count":30,"eval_count":12}"#;
    let got = collect(&run_body("ollama", body).unwrap());
    assert_eq!(got.tool_calls[0].name, "get_time");
    assert_eq!(got.tool_calls[0].arguments, "{}");
    assert_eq!(got.finish_reason, Some(FinishReason::ToolCalls));
    // The streamed form of the same response gives the same chunks.
    assert_eq!(
        run_body("ollama", body).unwrap(),
        run("ollama", &[body.as_bytes()]).unwrap()
    );
}

#[test]
fn corrupted_streams_never_panic() {
    for file in [
        "chat-stream.ndjson",
        "synthetic-chat-thinking-tool-calls.ndjson",
    ] {
        support::mutations_never_panic("ollama", &data(&format!("ollama/{file}")));
    }
}
