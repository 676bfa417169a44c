//! TGI `/generate_stream` reducer on SYNTHETIC streams written from TGI's documented
//! `StreamResponse` format (tests/data/tgi; no public capture was available), fed whole,
//! byte by byte and split at every/random point.

mod support;

use _fastsse::{Error, FinishReason};
use support::*;

/// Every stream that finishes (columns: `support::COLUMNS`).
const CAPTURES: &str = "
tgi/generate-stream-eos.sse           stop   - 10 47 0 0 0
tgi/generate-stream-length.sse        length 7 5  17 0 0 0
tgi/generate-stream-no-details.sse    stop   - -  6  0 0 0
tgi/generate-stream-stop-sequence.sse stop   - 4  15 0 0 0
";
const ERROR: &str = "tgi/generate-stream-error.sse";

/// The text of each stream: the end-of-sequence token (`</s>`, `special`) is left out.
const TEXTS: &[(&str, &str)] = &[
    (
        "tgi/generate-stream-eos.sse",
        " Deep learning is a subset of machine learning.",
    ),
    ("tgi/generate-stream-length.sse", "Le café est\n très"),
    ("tgi/generate-stream-no-details.sse", "Hello!"),
    ("tgi/generate-stream-stop-sequence.sse", "Answer: 42\nUser"),
];

#[test]
fn every_stream_is_covered() {
    assert_covered(&table(CAPTURES), &[ERROR], fixtures_in("tgi"));
}

#[test]
fn streams_match_their_rows_and_texts() {
    let checked = check_table("tgi", &table(CAPTURES), Sweep::Full);
    let texts: Vec<(&str, String)> = checked
        .iter()
        .map(|(row, chunks)| (row.path.as_str(), collect(chunks).text))
        .collect();
    let expected: Vec<(&str, String)> = TEXTS.iter().map(|(p, t)| (*p, t.to_string())).collect();
    assert_eq!(texts, expected);
    let (_, no_details) = &checked[2];
    assert_eq!(
        terminal_raw(no_details).unwrap()["generated_text"],
        "Hello!"
    );
}

#[test]
fn error_event_is_a_provider_error() {
    let (code, message, _) = provider_error(run("tgi", &[&data(ERROR)]).err());
    assert_eq!(code.as_deref(), Some("generation"));
    assert!(message.starts_with("Request failed during generation"));
}

#[test]
fn truncated_stream_is_incomplete() {
    let bytes = data("tgi/generate-stream-eos.sse");
    let cut = bytes.len() / 2;
    assert!(decode_incomplete("tgi", &bytes[..cut])
        .text
        .starts_with(" Deep"));
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
