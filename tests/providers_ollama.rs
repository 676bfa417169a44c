//! Ollama NDJSON reducer on real captures (tests/data/ollama, langchaingo recordings) and
//! SYNTHETIC streams for the fields no public capture has (thinking, tool calls, errors),
//! fed whole, byte by byte and split at every/random point.

mod support;

use _fastsse::{Error, FinishReason};
use serde_json::Value;
use support::{collect, data, json, run, run_all_splits, run_body, terminal_raw};

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

#[test]
fn real_captures() {
    for (file, finish) in [
        ("chat-stream.ndjson", FinishReason::Stop),
        ("generate-stream.ndjson", FinishReason::Stop),
        ("chat-done-reason-length.ndjson", FinishReason::Length),
    ] {
        let bytes = data(&format!("ollama/{file}"));
        let chunks = run_all_splits("ollama", &bytes);
        let got = collect(&chunks);
        let (text, last) = reference(&bytes);
        assert!(!text.is_empty());
        assert_eq!(got.text, text, "{file}");
        assert_eq!(got.finish_reason, Some(finish), "{file}");
        assert_eq!(
            got.prompt_tokens,
            last["prompt_eval_count"].as_u64(),
            "{file}"
        );
        assert_eq!(got.completion_tokens, last["eval_count"].as_u64(), "{file}");
        assert_eq!(
            terminal_raw(&chunks),
            Some(last),
            "{file}: raw of the done line"
        );
        // CRLF line endings give the same chunks.
        let crlf = String::from_utf8(bytes.clone())
            .unwrap()
            .replace('\n', "\r\n");
        assert_eq!(
            collect(&run("ollama", &[crlf.as_bytes()]).unwrap()).text,
            got.text
        );
    }
}

#[test]
fn thinking_and_whole_tool_calls() {
    let bytes = data("ollama/synthetic-chat-thinking-tool-calls.ndjson");
    let chunks = run_all_splits("ollama", &bytes);
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
    assert_eq!(got.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(
        (got.prompt_tokens, got.completion_tokens),
        (Some(182), Some(61))
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
fn generate_thinking() {
    let got = collect(&run_all_splits(
        "ollama",
        &data("ollama/synthetic-generate-thinking.ndjson"),
    ));
    assert_eq!(
        (got.reasoning.as_str(), got.text.as_str()),
        ("Two plus two is four.", "4")
    );
    assert_eq!(
        (got.prompt_tokens, got.completion_tokens),
        (Some(9), Some(14))
    );
}

#[test]
fn error_line_is_a_provider_error() {
    let bytes = data("ollama/synthetic-chat-error-mid-stream.ndjson");
    match run("ollama", &[&bytes]) {
        Err(Error::Provider { code, message, raw }) => {
            assert_eq!(code, None);
            assert_eq!(
                message,
                "an error was encountered while running the model: unexpected EOF"
            );
            assert!(raw.starts_with("{\"error\""));
        }
        other => panic!("{other:?}"),
    }
    let object = r#"{"error":{"message":"model 'x' not found","code":404}}"#;
    match run_body("ollama", object) {
        Err(Error::Provider { code, message, .. }) => {
            assert_eq!(
                (code.as_deref(), message.as_str()),
                (Some("404"), "model 'x' not found")
            );
        }
        other => panic!("{other:?}"),
    }
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
    let got = collect(
        &run(
            "ollama",
            &[b"{\"message\":{\"content\":\"Hi\"},\"done\":false}\n"],
        )
        .unwrap(),
    );
    assert_eq!(got.text, "Hi");
    assert_eq!(got.error_code.as_deref(), Some("incomplete_stream"));
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
