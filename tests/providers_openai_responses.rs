//! `provider="openai-responses"` on every Responses capture (OpenAI, OpenRouter, DeepSeek):
//! each fed whole, byte by byte, in CRLF and at random cuts.

mod support;

use _fastsse::providers::ChunkDecoderConfig;
use _fastsse::{Error, FinishReason};
use support::*;

/// Every single-response capture (columns: `support::COLUMNS`).
const CAPTURES: &str = "
openai-responses/openrouter-responses-reasoning-text-no-event-lines.sse stop       78    37  1   85  0 1
openai-responses/responses-background-queued.sse                        stop       15    9   15  0   0 0
openai-responses/responses-function-call-no-sequence-number.sse         tool_calls 255   16  0   0   0 0 get_capital:20
openai-responses/responses-phase-reasoning-text-function-call.sse       tool_calls 63    69  52  0   0 1 get_capital:24
openai-responses/responses-reasoning-function-call-usage.sse            tool_calls 53    469 0   0   0 1 final_result:15
openai-responses/responses-reasoning-summary-code-interpreter.sse       stop       3727  347 646 440 0 4
openai-responses/responses-text-logprobs.sse                            stop       25    10  46  0   0 0
openai-responses/responses-text-no-sequence-number.sse                  stop       278   9   31  0   0 0
openai-responses/responses-web-search-annotation.sse                    stop       12243 140 162 0   0 3
deepseek/responses-reasoning-function-call.sse                          tool_calls 366   59  0   61  0 1 get_temperature:17
";

/// Four responses in one capture, one after the other.
const MULTI: &str = "openai-responses/responses-reasoning-encrypted-function-calls.jsonl";
const ERROR: &str = "openai-responses/responses-error-insufficient-quota.jsonl";

#[test]
fn every_capture_is_covered() {
    let mut on_disk = fixtures_in("openai-responses");
    on_disk.extend(
        fixtures_in("deepseek")
            .into_iter()
            .filter(|p| p.starts_with("deepseek/responses")),
    );
    assert_covered(&table(CAPTURES), &[MULTI, ERROR], on_disk);
}

#[test]
fn captures_decode_the_same_every_way_and_match_their_rows() {
    for (row, chunks) in check_table("openai-responses", &table(CAPTURES), Sweep::Light) {
        for tool in summarize(&chunks, 0).tool_calls {
            assert!(
                tool.id.is_some_and(|id| id.starts_with("call_")),
                "{}",
                row.path
            );
            json(&tool.arguments);
        }
    }
}

/// The vercel capture holds four consecutive responses; each is one stream.
fn split_responses(path: &str) -> Vec<Vec<u8>> {
    let bytes = fixture(path);
    let text = String::from_utf8(bytes).unwrap();
    let mut streams: Vec<String> = Vec::new();
    for event in text.split_inclusive("\n\n") {
        if event.contains("\"type\":\"response.created\"") || streams.is_empty() {
            streams.push(String::new());
        }
        streams.last_mut().unwrap().push_str(event);
    }
    streams.into_iter().map(String::into_bytes).collect()
}

#[test]
fn four_responses_in_one_capture() {
    let streams = split_responses(MULTI);
    assert_eq!(streams.len(), 4);
    let summaries: Vec<Summary> = streams
        .iter()
        .map(|s| {
            let outcome = decode_whole("openai-responses", s);
            check_invariants(&outcome);
            assert_eq!(decode_bytewise("openai-responses", s), outcome);
            summarize(&outcome.chunks, 0)
        })
        .collect();
    let calls: Vec<usize> = summaries.iter().map(|s| s.tool_calls.len()).collect();
    assert_eq!(calls, vec![1, 1, 1, 0]);
    assert!(summaries[0].reasoning.chars().count() > 100);
    assert!(summaries[3].text.chars().count() > 10);
    assert_eq!(summaries[3].finish_reason, Some(FinishReason::Stop));
}

#[test]
fn error_event_is_a_provider_error() {
    let outcome = decode_every_way("openai-responses", ERROR);
    let (code, message, _) = provider_error(outcome.error);
    assert_eq!(code.as_deref(), Some("insufficient_quota"));
    assert!(message.starts_with("You exceeded your current quota"));
}

#[test]
fn response_failed_alone_is_a_provider_error() {
    let stream = b"data: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"boom\"}}}\n\n";
    let outcome = decode_whole("openai-responses", stream);
    assert!(
        matches!(outcome.error, Some(Error::Provider { code: Some(c), .. }) if c == "server_error")
    );
}

#[test]
fn incomplete_maps_to_length_or_content_filter() {
    let incomplete = |reason: &str| {
        let stream = format!(
            "data: {{\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"a\"}}\n\n\
data: {{\"type\":\"response.incomplete\",\"response\":{{\"status\":\"incomplete\",\"incomplete_details\":{{\"reason\":\"{reason}\"}},\"usage\":{{\"input_tokens\":1,\"output_tokens\":2}}}}}}\n\n"
        );
        summarize(
            &decode_whole("openai-responses", stream.as_bytes()).chunks,
            0,
        )
        .finish_reason
    };
    assert_eq!(incomplete("max_output_tokens"), Some(FinishReason::Length));
    assert_eq!(
        incomplete("content_filter"),
        Some(FinishReason::ContentFilter)
    );
}

#[test]
fn text_logprobs_ride_on_the_text_chunks() {
    let outcome = decode_whole(
        "openai-responses",
        &fixture("openai-responses/responses-text-logprobs.sse"),
    );
    let text_chunks: Vec<_> = outcome
        .chunks
        .iter()
        .filter(|c| !c.text_delta.is_empty())
        .collect();
    assert!(text_chunks.iter().all(|c| c
        .rare
        .logprobs
        .as_deref()
        .is_some_and(|l| l.starts_with('['))));
}

/// The `response` object of `response.completed` is what a non-streaming call returns: as a
/// JSON body it must give what the stream gave.
#[test]
fn the_completed_response_as_a_json_body_matches_the_stream() {
    for row in table(CAPTURES) {
        let bytes = fixture(&row.path);
        let streamed = decode_whole("openai-responses", &bytes);
        let text = String::from_utf8(bytes).unwrap();
        let completed = text
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .find(|data| data.contains("\"type\":\"response.completed\""))
            .unwrap();
        let event: serde_json::Value = serde_json::from_str(completed).unwrap();
        let body = serde_json::to_vec(&event["response"]).unwrap();
        let config = ChunkDecoderConfig {
            content_type: Some("application/json".into()),
            ..Default::default()
        };
        let outcome = decode_with("openai-responses", config, &[&body]);
        check_invariants(&outcome);
        let (from_body, from_stream) = (
            summarize(&outcome.chunks, 0),
            summarize(&streamed.chunks, 0),
        );
        assert_eq!(
            (
                &from_body.text,
                &from_body.tool_calls,
                from_body.finish_reason,
                from_body.prompt_tokens,
                from_body.completion_tokens
            ),
            (
                &from_stream.text,
                &from_stream.tool_calls,
                from_stream.finish_reason,
                from_stream.prompt_tokens,
                from_stream.completion_tokens
            ),
            "{}",
            row.path
        );
        // Reasoning summaries are in the body only when the response kept them.
        if !from_body.reasoning.is_empty() {
            assert_eq!(from_body.reasoning, from_stream.reasoning, "{}", row.path);
        }
    }
}
