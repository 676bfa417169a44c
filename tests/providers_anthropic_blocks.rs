//! Anthropic's blocks that a multi-turn caller must keep: `redacted_thinking` (its opaque
//! `data`, sent back unchanged) and citations (`citations_delta`, and a body's text
//! `citations`), checked against the events of real captures, fed every way.

mod support;

use _fastsse::providers::ChunkDecoderConfig;
use serde_json::Value;
use support::*;

/// The JSON of every `data:` line of an SSE capture.
fn events(path: &str) -> Vec<Value> {
    String::from_utf8(fixture(path))
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(json)
        .collect()
}

#[test]
fn redacted_thinking_carries_each_blocks_data() {
    let path = "anthropic/redacted-thinking-text.sse";
    let want: Vec<String> = events(path)
        .iter()
        .filter(|e| e["content_block"]["type"] == "redacted_thinking")
        .map(|e| e["content_block"]["data"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(want.len(), 2);
    let got: Vec<String> = decode_every_way("anthropic", path)
        .chunks
        .iter()
        .filter_map(|c| c.rare.redacted_thinking.clone())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn citations_deltas_carry_each_citation() {
    for path in [
        "anthropic/web-search-citations.sse",
        "anthropic/thinking-web-search-citations.sse",
    ] {
        let want: Vec<Value> = events(path)
            .iter()
            .filter(|e| e["delta"]["type"] == "citations_delta")
            .map(|e| e["delta"]["citation"].clone())
            .collect();
        assert!(!want.is_empty(), "{path}");
        let outcome = decode_every_way("anthropic", path);
        let mut got = Vec::new();
        for chunk in &outcome.chunks {
            if let Some(citations) = chunk.rare.citations.as_deref() {
                // One citation per delta, as a one-item array; the chunk keeps its event.
                let array: Vec<Value> = serde_json::from_str(citations).unwrap();
                assert_eq!(array.len(), 1, "{path}");
                assert!(chunk.raw.as_deref().unwrap().contains("citations_delta"));
                assert!(!chunk.has_content());
                got.extend(array);
            }
        }
        assert_eq!(got, want, "{path}");
    }
}

/// A non-streaming body with both kinds, shaped as the Messages API documents them
/// (hand-written: no capture of such a body exists).
const BODY: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x",
 "content":[{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"},
            {"type":"text","text":"Paris is the capital.","citations":[
               {"type":"char_location","cited_text":"Paris is the capital of France.",
                "document_index":0,"document_title":"Atlas","start_char_index":0,"end_char_index":31}]},
            {"type":"text","text":" Enjoy!","citations":null}],
 "stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":9}}"#;

#[test]
fn a_body_keeps_redacted_thinking_and_text_citations() {
    let config = ChunkDecoderConfig {
        content_type: Some("application/json".to_owned()),
        ..Default::default()
    };
    let outcome = decode_with("anthropic", config, &[BODY.as_bytes()]);
    check_invariants(&outcome);
    let chunks = outcome.into_result().unwrap();
    let redacted: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c.rare.redacted_thinking.as_deref())
        .collect();
    assert_eq!(redacted, ["EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"]);
    let cited: Vec<Value> = chunks
        .iter()
        .filter_map(|c| c.rare.citations.as_deref())
        .map(json)
        .collect();
    let want = json(BODY)["content"][1]["citations"].clone();
    assert_eq!(cited, [want]);
    // The citations follow the text they belong to.
    let texts: Vec<&str> = chunks.iter().map(|c| c.text_delta.as_str()).collect();
    let at = chunks
        .iter()
        .position(|c| c.rare.citations.is_some())
        .unwrap();
    assert_eq!(texts[at - 1], "Paris is the capital.");
    assert_eq!(summarize(&chunks, 0).text, "Paris is the capital. Enjoy!");
}
