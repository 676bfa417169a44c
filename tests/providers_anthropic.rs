//! `provider="anthropic"` on every Messages capture: each fed whole, byte by byte, in CRLF
//! and at random cuts.

mod support;

use _fastsse::providers::ChunkDecoderConfig;
use _fastsse::{Error, FinishReason};
use support::*;

use FinishReason::{ContentFilter, Length, Stop, ToolCalls};

struct Expected {
    path: &'static str,
    finish: FinishReason,
    tokens: (u64, u64),
    /// (text, reasoning) lengths in chars.
    lengths: (usize, usize),
    /// (name, argument chars) per client tool call.
    tools: &'static [(&'static str, usize)],
    /// Chunks that carry only `raw` (signatures, citations, server tools, redacted thinking).
    raw_only: usize,
}

const fn exp(
    path: &'static str,
    finish: FinishReason,
    tokens: (u64, u64),
    lengths: (usize, usize),
    tools: &'static [(&'static str, usize)],
    raw_only: usize,
) -> Expected {
    Expected {
        path,
        finish,
        tokens,
        lengths,
        tools,
        raw_only,
    }
}

const PELICANS: &[(&str, usize)] = &[("pelican_name_generator", 2), ("pelican_name_generator", 2)];

const EXPECTED: &[Expected] = &[
    exp(
        "anthropic/adaptive-thinking-text-thinking-text.sse",
        Stop,
        (34, 44),
        (36, 40),
        &[],
        1,
    ),
    exp(
        "anthropic/compaction-text.sse",
        Stop,
        (181, 8),
        (8, 0),
        &[],
        2,
    ),
    exp(
        "anthropic/parallel-tool-use.sse",
        ToolCalls,
        (542, 62),
        (0, 0),
        PELICANS,
        0,
    ),
    exp(
        "anthropic/redacted-thinking-text.sse",
        Stop,
        (92, 189),
        (359, 0),
        &[],
        2,
    ),
    exp(
        "anthropic/sdk-basic-text.sse",
        Stop,
        (11, 6),
        (12, 0),
        &[],
        0,
    ),
    exp(
        "anthropic/sdk-compaction.sse",
        Stop,
        (30, 8),
        (12, 0),
        &[],
        2,
    ),
    exp(
        "anthropic/sdk-fallback-credit.sse",
        Stop,
        (25, 8),
        (12, 0),
        &[],
        0,
    ),
    exp("anthropic/sdk-fallback.sse", Stop, (25, 8), (12, 0), &[], 1),
    exp(
        "anthropic/sdk-incomplete-partial-json.sse",
        Length,
        (450, 124),
        (135, 0),
        &[("make_file", 149)],
        0,
    ),
    exp(
        "anthropic/sdk-refusal.sse",
        ContentFilter,
        (20, 0),
        (0, 0),
        &[],
        0,
    ),
    exp(
        "anthropic/sdk-synthetic-fallback-text.sse",
        Stop,
        (31, 547),
        (1312, 0),
        &[],
        0,
    ),
    exp(
        "anthropic/sdk-synthetic-server-tool-refusal.sse",
        ContentFilter,
        (28, 106),
        (54, 0),
        &[],
        10,
    ),
    exp(
        "anthropic/sdk-synthetic-thinking-refusal.sse",
        ContentFilter,
        (28, 106),
        (2, 212),
        &[],
        1,
    ),
    exp(
        "anthropic/sdk-text-tool-use.sse",
        ToolCalls,
        (377, 65),
        (48, 0),
        &[("get_weather", 21)],
        0,
    ),
    exp(
        "anthropic/stop-sequence.sse",
        Stop,
        (16, 28),
        (102, 0),
        &[],
        0,
    ),
    exp(
        "anthropic/text-parallel-tool-use.sse",
        ToolCalls,
        (310, 84),
        (102, 0),
        PELICANS,
        0,
    ),
    exp(
        "anthropic/thinking-code-execution.sse",
        Stop,
        (4714, 304),
        (501, 46),
        &[],
        12,
    ),
    exp(
        "anthropic/thinking-mcp-tool-use.sse",
        Stop,
        (3042, 354),
        (806, 192),
        &[],
        20,
    ),
    exp(
        "anthropic/thinking-signature-text.sse",
        Stop,
        (43, 282),
        (1021, 202),
        &[],
        1,
    ),
    exp(
        "anthropic/thinking-text.sse",
        Stop,
        (46, 84),
        (17, 218),
        &[],
        1,
    ),
    exp(
        "anthropic/thinking-tool-use.sse",
        ToolCalls,
        (598, 92),
        (0, 180),
        &[("fixed_version", 2)],
        1,
    ),
    exp(
        "anthropic/thinking-web-search-citations.sse",
        Stop,
        (22397, 637),
        (1335, 405),
        &[],
        33,
    ),
    exp(
        "anthropic/tool-search-then-tool-use.sse",
        ToolCalls,
        (1591, 175),
        (158, 0),
        &[("get_exchange_rate", 46)],
        11,
    ),
    exp(
        "anthropic/web-search-citations.sse",
        Stop,
        (10423, 341),
        (650, 0),
        &[],
        14,
    ),
];

#[test]
fn every_capture_is_covered() {
    let listed: Vec<&str> = EXPECTED.iter().map(|e| e.path).collect();
    assert_eq!(listed, fixtures_in("anthropic"));
}

#[test]
fn captures_decode_the_same_every_way_and_match_expectations() {
    for expected in EXPECTED {
        let outcome = decode_every_way("anthropic", expected.path);
        assert_eq!(outcome.error, None, "{}", expected.path);
        let summary = summarize(&outcome.chunks, 0);
        let tools: Vec<(&str, usize)> = summary
            .tool_calls
            .iter()
            .map(|t| (t.name.as_str(), t.arguments.chars().count()))
            .collect();
        let raw_only = outcome
            .chunks
            .iter()
            .filter(|c| !c.done && !c.has_content() && c.rare.logprobs.is_none())
            .count();
        assert_eq!(
            (
                summary.finish_reason,
                (
                    summary.prompt_tokens.unwrap(),
                    summary.completion_tokens.unwrap()
                ),
                (
                    summary.text.chars().count(),
                    summary.reasoning.chars().count()
                ),
                tools.as_slice(),
                raw_only,
            ),
            (
                Some(expected.finish),
                expected.tokens,
                expected.lengths,
                expected.tools,
                expected.raw_only
            ),
            "{}",
            expected.path
        );
        for tool in &summary.tool_calls {
            assert!(tool
                .id
                .as_deref()
                .is_some_and(|id| id.starts_with("toolu_")));
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
    match outcome.error {
        Some(Error::Provider { code, message, raw }) => {
            assert_eq!(
                (code.as_deref(), message.as_str()),
                (Some("overloaded_error"), "Overloaded")
            );
            assert!(raw.contains("overloaded_error"));
        }
        other => panic!("expected a provider error, got {other:?}"),
    }
}

#[test]
fn a_stream_cut_before_the_stop_reason_ends_with_an_error_terminal() {
    let bytes = fixture("anthropic/thinking-text.sse");
    let text = String::from_utf8(bytes).unwrap();
    let cut = text.find("event: message_delta").unwrap();
    let outcome = decode_whole("anthropic", &text.as_bytes()[..cut]);
    check_invariants(&outcome);
    let summary = summarize(&outcome.chunks, 0);
    assert_eq!(summary.finish_reason, Some(FinishReason::Error));
    assert_eq!(summary.error_code.as_deref(), Some("incomplete_stream"));
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
    for content_type in [None, Some("application/json")] {
        let config = ChunkDecoderConfig {
            content_type: content_type.map(str::to_owned),
            ..Default::default()
        };
        let outcome = decode_with("anthropic", config.clone(), &[MESSAGE_BODY.as_bytes()]);
        let bytewise: Vec<&[u8]> = MESSAGE_BODY.as_bytes().chunks(1).collect();
        assert_eq!(decode_with("anthropic", config, &bytewise), outcome);
        check_invariants(&outcome);
        let summary = summarize(&outcome.chunks, 0);
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
}

#[test]
fn a_json_error_body_is_a_provider_error() {
    let body = br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_1"}"#;
    let outcome = decode_whole("anthropic", body);
    assert!(
        matches!(outcome.error, Some(Error::Provider { code: Some(c), .. }) if c == "authentication_error")
    );
}
