//! `provider="anthropic"` on every Messages capture: each fed whole, byte by byte, in CRLF
//! and at random cuts.

mod support;

use _fastsse::{Error, FinishReason};
use support::*;

/// Every capture (columns: `support::COLUMNS`); raw-only chunks carry signatures,
/// citations, server tools and redacted thinking.
const CAPTURES: &str = "
anthropic/adaptive-thinking-text-thinking-text.sse stop           34    44  36   40  0 1
anthropic/compaction-text.sse                      stop           181   8   8    0   0 2
anthropic/parallel-tool-use.sse                    tool_calls     542   62  0    0   0 0  pelican_name_generator:2 pelican_name_generator:2
anthropic/redacted-thinking-text.sse               stop           92    189 359  0   0 2
anthropic/sdk-basic-text.sse                       stop           11    6   12   0   0 0
anthropic/sdk-compaction.sse                       stop           30    8   12   0   0 2
anthropic/sdk-fallback-credit.sse                  stop           25    8   12   0   0 0
anthropic/sdk-fallback.sse                         stop           25    8   12   0   0 1
anthropic/sdk-incomplete-partial-json.sse          length         450   124 135  0   0 0  make_file:149
anthropic/sdk-refusal.sse                          content_filter 20    0   0    0   0 0
anthropic/sdk-synthetic-fallback-text.sse          stop           31    547 1312 0   0 0
anthropic/sdk-synthetic-server-tool-refusal.sse    content_filter 28    106 54   0   0 10
anthropic/sdk-synthetic-thinking-refusal.sse       content_filter 28    106 2    212 0 1
anthropic/sdk-text-tool-use.sse                    tool_calls     377   65  48   0   0 0  get_weather:21
anthropic/stop-sequence.sse                        stop           16    28  102  0   0 0
anthropic/text-parallel-tool-use.sse               tool_calls     310   84  102  0   0 0  pelican_name_generator:2 pelican_name_generator:2
anthropic/thinking-code-execution.sse              stop           4714  304 501  46  0 12
anthropic/thinking-mcp-tool-use.sse                stop           3042  354 806  192 0 20
anthropic/thinking-signature-text.sse              stop           43    282 1021 202 0 1
anthropic/thinking-text.sse                        stop           46    84  17   218 0 1
anthropic/thinking-tool-use.sse                    tool_calls     598   92  0    180 0 1  fixed_version:2
anthropic/thinking-web-search-citations.sse        stop           22397 637 1335 405 0 33
anthropic/tool-search-then-tool-use.sse            tool_calls     1591  175 158  0   0 11 get_exchange_rate:46
anthropic/web-search-citations.sse                 stop           10423 341 650  0   0 14
";

#[test]
fn every_capture_is_covered() {
    assert_covered(&table(CAPTURES), &[], fixtures_in("anthropic"));
}

#[test]
fn captures_decode_the_same_every_way_and_match_their_rows() {
    for (row, chunks) in check_table("anthropic", &table(CAPTURES), Sweep::Light) {
        for tool in summarize(&chunks, 0).tool_calls {
            assert!(
                tool.id.is_some_and(|id| id.starts_with("toolu_")),
                "{}",
                row.path
            );
        }
    }
}

#[test]
fn server_tools_are_not_client_tool_calls() {
    // web_search runs at Anthropic: its input deltas and results are raw-only chunks.
    let outcome = decode_whole("anthropic", &fixture("anthropic/web-search-citations.sse"));
    assert!(outcome.chunks.iter().all(|c| c.tool_call_delta.is_none()));
    let server_inputs = outcome
        .chunks
        .iter()
        .filter(|c| {
            c.raw
                .as_deref()
                .is_some_and(|raw| raw.contains("input_json_delta"))
        })
        .count();
    assert_eq!(server_inputs, 7);
}

#[test]
fn stop_sequence_and_cache_tokens() {
    let outcome = decode_whole("anthropic", &fixture("anthropic/stop-sequence.sse"));
    let terminal = outcome.chunks.last().unwrap();
    assert_eq!(terminal.rare.stop_sequence.as_deref(), Some("```"));
    // prompt_tokens counts the whole prompt, cached parts included.
    let stream = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":20,\"output_tokens\":1}}}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let summary = summarize(&decode_whole("anthropic", stream).chunks, 0);
    assert_eq!(
        (summary.prompt_tokens, summary.completion_tokens),
        (Some(125), Some(9))
    );
}

#[test]
fn error_event_raises_after_what_arrived() {
    let bytes = fixture("anthropic/sdk-synthetic-fallback-text.sse");
    let text = String::from_utf8(bytes).unwrap();
    let cut = text.find("event: content_block_stop").unwrap();
    let stream = format!(
        "{}event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}}}\n\n",
        &text[..cut]
    );
    let outcome = decode_whole("anthropic", stream.as_bytes());
    assert_eq!(summarize(&outcome.chunks, 0).text.chars().count(), 1312);
    let (code, message, raw) = provider_error(outcome.error);
    assert_eq!(
        (code.as_deref(), message.as_str()),
        (Some("overloaded_error"), "Overloaded")
    );
    assert!(raw.contains("overloaded_error"));
}

#[test]
fn a_stream_cut_before_the_stop_reason_ends_with_an_error_terminal() {
    let bytes = fixture("anthropic/thinking-text.sse");
    let text = String::from_utf8(bytes).unwrap();
    let cut = text.find("event: message_delta").unwrap();
    decode_incomplete("anthropic", &text.as_bytes()[..cut]);
}

#[test]
fn malformed_json_is_a_protocol_error() {
    let stream = b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a}}\n\n";
    let outcome = decode_whole("anthropic", stream);
    assert!(
        matches!(outcome.error, Some(Error::Protocol { offset: Some(o), .. }) if o == stream.len() as u64)
    );
}

const MESSAGE_BODY: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x",
 "content":[{"type":"thinking","thinking":"Weather question.","signature":"sig"},
            {"type":"text","text":"Checking."},
            {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},
            {"type":"tool_use","id":"toolu_2","name":"get_time","input":{}}],
 "stop_reason":"tool_use","stop_sequence":null,
 "usage":{"input_tokens":10,"cache_read_input_tokens":2,"output_tokens":30}}"#;

#[test]
fn a_json_body_yields_the_chunks_a_stream_would() {
    let body = MESSAGE_BODY.as_bytes();
    let sniffed = decode_every_way_body("anthropic", body, None);
    let declared = decode_every_way_body("anthropic", body, Some("application/json"));
    assert_eq!(sniffed, declared);
    check_invariants(&sniffed);
    let summary = summarize(&sniffed.chunks, 0);
    assert_eq!(summary.text, "Checking.");
    assert_eq!(summary.reasoning, "Weather question.");
    assert_eq!(summary.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(
        (summary.prompt_tokens, summary.completion_tokens),
        (Some(12), Some(30))
    );
    let tools: Vec<(&str, &str)> = summary
        .tool_calls
        .iter()
        .map(|t| (t.name.as_str(), t.arguments.as_str()))
        .collect();
    assert_eq!(
        tools,
        vec![("get_weather", r#"{"city":"Paris"}"#), ("get_time", "{}")]
    );
}

#[test]
fn a_json_error_body_is_a_provider_error() {
    let body = br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_1"}"#;
    let outcome = decode_whole("anthropic", body);
    assert!(
        matches!(outcome.error, Some(Error::Provider { code: Some(c), .. }) if c == "authentication_error")
    );
}
