//! TGI `/generate_stream` reducer on SYNTHETIC streams written from TGI's documented
//! `StreamResponse` format (tests/data/tgi; no public capture was available), fed whole,
//! byte by byte and split at every/random point.

mod support;

use _fastsse::{Error, FinishReason};
use support::{collect, data, run, run_all_splits, run_body, terminal_raw};

#[test]
fn eos_token_is_skipped_and_maps_to_stop() {
    let got = collect(&run_all_splits("tgi", &data("tgi/generate-stream-eos.sse")));
    assert_eq!(got.text, " Deep learning is a subset of machine learning.");
    assert!(!got.text.contains("</s>"));
    assert_eq!(got.finish_reason, Some(FinishReason::Stop));
    assert_eq!((got.prompt_tokens, got.completion_tokens), (None, Some(10)));
}

#[test]
fn length_with_prompt_tokens() {
    let got = collect(&run_all_splits(
        "tgi",
        &data("tgi/generate-stream-length.sse"),
    ));
    assert_eq!(got.text, "Le café est\n très");
    assert_eq!(got.finish_reason, Some(FinishReason::Length));
    assert_eq!(
        (got.prompt_tokens, got.completion_tokens),
        (Some(7), Some(5))
    );
}

#[test]
fn stop_sequence() {
    let got = collect(&run_all_splits(
        "tgi",
        &data("tgi/generate-stream-stop-sequence.sse"),
    ));
    assert_eq!(got.text, "Answer: 42\nUser");
    assert_eq!(got.finish_reason, Some(FinishReason::Stop));
    assert_eq!(got.completion_tokens, Some(4));
}

#[test]
fn without_details() {
    let chunks = run_all_splits("tgi", &data("tgi/generate-stream-no-details.sse"));
    let got = collect(&chunks);
    assert_eq!(got.text, "Hello!");
    assert_eq!(got.finish_reason, Some(FinishReason::Stop));
    assert_eq!(got.completion_tokens, None);
    assert_eq!(terminal_raw(&chunks).unwrap()["generated_text"], "Hello!");
}

#[test]
fn error_event_is_a_provider_error() {
    match run("tgi", &[&data("tgi/generate-stream-error.sse")]) {
        Err(Error::Provider { code, message, .. }) => {
            assert_eq!(code.as_deref(), Some("generation"));
            assert!(message.starts_with("Request failed during generation"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_stream_is_incomplete() {
    let bytes = data("tgi/generate-stream-eos.sse");
    let cut = bytes.len() / 2;
    let got = collect(&run("tgi", &[&bytes[..cut]]).unwrap());
    assert!(got.text.starts_with(" Deep"));
    assert_eq!(got.finish_reason, Some(FinishReason::Error));
    assert_eq!(got.error_code.as_deref(), Some("incomplete_stream"));
}

#[test]
fn malformed_event_is_a_protocol_error_with_offset() {
    let stream =
        b"data:{\"token\":{\"id\":1,\"text\":\"a\",\"special\":false}}\n\ndata:{\"token\":\n\n";
    match run("tgi", &[stream]) {
        Err(Error::Protocol { offset, .. }) => assert_eq!(offset, Some(stream.len() as u64)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_streaming_bodies() {
    let body = String::from_utf8(data("tgi/generate.json")).unwrap();
    let got = collect(&run_body("tgi", &body).unwrap());
    assert_eq!(got.text, " Deep learning is a subset of machine learning.");
    assert_eq!(got.finish_reason, Some(FinishReason::Stop));
    assert_eq!(got.completion_tokens, Some(10));
    // The `/` compat route wraps the same object in a one-element list.
    let listed = collect(&run_body("tgi", &format!("[{body}]")).unwrap());
    assert_eq!(listed.text, got.text);
    let error = r#"{"error":"Input validation error: `inputs` must have less than 1024 tokens","error_type":"validation"}"#;
    assert!(matches!(
        run_body("tgi", error),
        Err(Error::Provider { .. })
    ));
}

#[test]
fn corrupted_streams_never_panic() {
    support::mutations_never_panic("tgi", &data("tgi/generate-stream-length.sse"));
}
