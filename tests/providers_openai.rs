//! `provider="openai"` on every Chat Completions capture (OpenAI, Azure, OpenRouter, DeepSeek,
//! Groq, Mistral): each fed whole, byte by byte, in CRLF and at random cuts.

mod support;

use _fastsse::providers::{ChunkDecoder, ChunkDecoderConfig};
use _fastsse::{Error, FinishReason};
use support::*;

/// Choice 0 of every capture that finishes (columns: `support::COLUMNS`).
const CAPTURES: &str = "
openai-chat/azure-content-filter-results.jsonl        stop       15   78  19  0    0  0
openai-chat/chat-content-logprobs.sse                 stop       9    2   4   0    0  0
openai-chat/chat-finish-length.sse                    length     79   1   2   0    0  0
openai-chat/chat-gpt5-moderation-obfuscation.sse      stop       13   11  6   0    0  0
openai-chat/chat-json-response-format-long.sse        stop       19   177 608 0    0  0
openai-chat/chat-n3-choices.sse                       stop       79   42  53  0    0  0
openai-chat/chat-parallel-tool-calls.sse              tool_calls 149  60  0   0    0  0 GetWeatherArgs:52 get_stock_price:40
openai-chat/chat-refusal-logprobs.sse                 stop       79   12  0   0    45 0
openai-chat/chat-refusal.sse                          stop       79   11  0   0    44 0
openai-chat/chat-structured-output.sse                stop       79   14  53  0    0  0
openai-chat/chat-text.sse                             stop       14   30  159 0    0  0
openai-chat/chat-tool-call-non-strict.sse             tool_calls 44   16  0   0    0  0 get_weather:24
openai-chat/chat-tool-call-obfuscation.sse            tool_calls 53   15  0   0    0  0 get_capital:16
openai-chat/chat-tool-call-strict.sse                 tool_calls 48   19  0   0    0  0 get_weather:37
openai-chat/chat-tool-call.sse                        tool_calls 76   24  0   0    0  0 GetWeatherArgs:47
openai-chat/openrouter-comments-reasoning-details.sse stop       43   36  9   51   0  0
deepseek/reasoner-reasoning-content.sse               stop       6    212 40  882  0  0
deepseek/vercel-reasoning-tool-call.jsonl             tool_calls 339  83  0   191  0  0 weather:29
groq/compound-web-search-executed-tools.sse           stop       5003 359 200 6255 0  0
groq/reasoning-tool-call.sse                          tool_calls 304  49  0   92   0  0 get_something_by_name:18
groq/vercel-tool-call.jsonl                           tool_calls 210  15  0   0    0  0 weather:2
mistral/magistral-thinking-content-parts.sse          stop       10   232 607 421  0  0
mistral/vercel-incremental-tool-call.jsonl            tool_calls 171  14  0   0    0  0 webSearchTool:35
mistral/vercel-reasoning.jsonl                        stop       10   46  9   60   0  0
mistral/vercel-text.jsonl                             stop       13   8   38  0    0  0
mistral/vercel-tool-call.jsonl                        tool_calls 124  22  0   0    0  0 weather:29
";

/// Captures that end in a provider error: path and error code.
const ERRORS: &str = "
openai-chat/openrouter-comments-mid-stream-error.sse 400
groq/mid-stream-error-event.sse                      tool_use_failed
";

#[test]
fn every_capture_is_covered() {
    let errors: Vec<&str> = ERRORS.split_whitespace().step_by(2).collect();
    let on_disk = ["openai-chat", "groq", "mistral", "deepseek"]
        .iter()
        .flat_map(|dir| fixtures_in(dir))
        .filter(|path| !path.starts_with("deepseek/responses"))
        .collect();
    assert_covered(&table(CAPTURES), &errors, on_disk);
}

#[test]
fn captures_decode_the_same_every_way_and_match_their_rows() {
    for (row, chunks) in check_table("openai", &table(CAPTURES), Sweep::Light) {
        for tool in summarize(&chunks, 0).tool_calls {
            assert!(tool.id.is_some_and(|id| !id.is_empty()), "{}", row.path);
            json(&tool.arguments);
        }
    }
}

#[test]
fn error_captures_raise_after_what_arrived() {
    let outcomes = check_error_table("openai", ERRORS);
    let reasoning: Vec<String> = outcomes
        .iter()
        .map(|(_, outcome)| summarize(&outcome.chunks, 0).reasoning)
        .collect();
    assert_eq!(reasoning[0], "We need to respond to a greeting. The user");
    assert_eq!(reasoning[1].chars().count(), 412);
    let messages: Vec<String> = outcomes
        .into_iter()
        .map(|(_, outcome)| {
            let (_, message, raw) = provider_error(outcome.error);
            assert!(raw.contains("error"));
            message
        })
        .collect();
    assert_eq!(messages[0], "Token limit reached");
    assert!(messages[1].starts_with("Tool call validation failed"));
}

#[test]
fn three_choices_are_kept_apart() {
    let outcome = decode_whole("openai", &fixture("openai-chat/chat-n3-choices.sse"));
    let texts: Vec<String> = (0..3).map(|i| summarize(&outcome.chunks, i).text).collect();
    for text in &texts {
        serde_json::from_str::<serde_json::Value>(text).expect("each choice is whole JSON");
    }
    // The three terminal chunks come last, in choice order.
    let tail: Vec<(bool, u32)> = outcome.chunks[outcome.chunks.len() - 3..]
        .iter()
        .map(|c| (c.done, c.choice_index))
        .collect();
    assert_eq!(tail, vec![(true, 0), (true, 1), (true, 2)]);
}

#[test]
fn logprobs_are_the_raw_token_arrays() {
    let outcome = decode_whole("openai", &fixture("openai-chat/chat-content-logprobs.sse"));
    let with_logprobs: Vec<(&str, &str)> = outcome
        .chunks
        .iter()
        .filter_map(|c| Some((c.text_delta.as_str(), c.rare.logprobs.as_deref()?)))
        .collect();
    assert_eq!(with_logprobs.len(), 2);
    assert_eq!(with_logprobs[0].0, "Foo");
    let parsed: serde_json::Value = serde_json::from_str(with_logprobs[0].1).unwrap();
    assert_eq!(parsed[0]["token"], "Foo");

    let outcome = decode_whole("openai", &fixture("openai-chat/chat-refusal-logprobs.sse"));
    let refusal_chunks = outcome
        .chunks
        .iter()
        .filter(|c| !c.rare.refusal_delta.is_empty());
    assert!(refusal_chunks.clone().count() > 5);
    assert!(refusal_chunks.clone().all(|c| c.rare.logprobs.is_some()));
}

#[test]
fn raw_is_shared_by_the_chunks_of_one_event() {
    let stream = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"r\",\"content\":\"t\"}}]}\n\ndata: [DONE]\n\n";
    let outcome = decode_whole("openai", stream);
    let (a, b) = (&outcome.chunks[0], &outcome.chunks[1]);
    assert_eq!(
        (a.reasoning_delta.as_str(), b.text_delta.as_str()),
        ("r", "t")
    );
    assert!(a
        .raw
        .as_ref()
        .unwrap()
        .shares_buffer(b.raw.as_ref().unwrap()));
    assert!(a.is_first && !b.is_first);
}

#[test]
fn the_error_waits_for_the_next_call_when_chunks_came_first() {
    let mut decoder = ChunkDecoder::new("openai", ChunkDecoderConfig::default()).unwrap();
    let stream = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"error\":{\"message\":\"boom\"}}\n\n";
    let chunks = decoder.decode(stream).unwrap();
    assert_eq!(chunks.len(), 1);
    assert!(matches!(decoder.flush(), Err(Error::Provider { .. })));
    assert!(matches!(decoder.flush(), Err(Error::Usage { .. })));
}

#[test]
fn malformed_json_is_a_protocol_error_with_the_offset() {
    let good = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n";
    let bad = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}]}\n\n";
    let mut stream = good.to_vec();
    stream.extend_from_slice(bad);
    let outcome = decode_whole("openai", &stream);
    assert_eq!(
        outcome.chunks.len(),
        1,
        "the good event before it still arrives"
    );
    match outcome.error {
        Some(Error::Protocol { message, offset }) => {
            assert_eq!(offset, Some(stream.len() as u64));
            assert!(
                message.contains("malformed JSON in a openai event"),
                "{message}"
            );
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    let alone = decode_whole("openai", bad);
    assert!(
        matches!(alone.error, Some(Error::Protocol { offset: Some(o), .. }) if o == bad.len() as u64)
    );
}

#[test]
fn events_after_done_are_ignored_and_missing_done_still_finishes() {
    let stream = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n\
data: [DONE]\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"}}]}\n\n";
    let outcome = decode_whole("openai", stream);
    assert_eq!(summarize(&outcome.chunks, 0).text, "a");
    let first_event_end = stream.windows(2).position(|w| w == b"\n\n").unwrap() + 2;
    let without_done = decode_whole("openai", &stream[..first_event_end]);
    check_invariants(&without_done);
    assert_eq!(
        summarize(&without_done.chunks, 0).finish_reason,
        Some(FinishReason::Stop)
    );
}

#[test]
fn a_cut_stream_ends_with_an_error_terminal() {
    let bytes = fixture("openai-chat/chat-text.sse");
    decode_incomplete("openai", &bytes[..bytes.len() / 2]);
}

#[test]
fn vllm_reasoning_field_and_unknown_finish_reasons() {
    let stream = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"think\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"abort\"}]}\n\ndata: [DONE]\n\n";
    let summary = summarize(&decode_whole("openai", stream).chunks, 0);
    assert_eq!(summary.reasoning, "think");
    assert_eq!(summary.finish_reason, Some(FinishReason::Cancelled));
}

const COMPLETION_BODY: &str = r#"{
  "id": "chatcmpl-1", "object": "chat.completion", "model": "m",
  "choices": [{"index": 0, "finish_reason": "tool_calls",
    "message": {"role": "assistant", "content": "Let me check.", "reasoning_content": "They want weather.",
      "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                     {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]}}],
  "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
}"#;

#[test]
fn a_json_body_yields_the_chunks_a_stream_would() {
    let sniffed = decode_every_way_body("openai", COMPLETION_BODY.as_bytes(), None);
    let declared = decode_every_way_body(
        "openai",
        COMPLETION_BODY.as_bytes(),
        Some("application/json; charset=utf-8"),
    );
    assert_eq!(sniffed, declared);
    check_invariants(&sniffed);
    let summary = summarize(&sniffed.chunks, 0);
    assert_eq!(summary.text, "Let me check.");
    assert_eq!(summary.reasoning, "They want weather.");
    assert_eq!(summary.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(
        (summary.prompt_tokens, summary.completion_tokens),
        (Some(12), Some(7))
    );
    let tools: Vec<(Option<&str>, &str)> = summary
        .tool_calls
        .iter()
        .map(|t| (t.id.as_deref(), t.arguments.as_str()))
        .collect();
    assert_eq!(
        tools,
        vec![
            (Some("call_1"), "{\"city\":\"Paris\"}"),
            (Some("call_2"), "{}")
        ]
    );
    // Announcement first (id + name, no arguments), then the arguments: a stream's shape.
    let first_call = sniffed
        .chunks
        .iter()
        .find_map(|c| c.tool_call_delta.as_ref())
        .unwrap();
    assert_eq!(
        (
            first_call.function_name.as_deref(),
            first_call.arguments_delta.as_str()
        ),
        (Some("get_weather"), "")
    );
}

#[test]
fn a_json_error_body_is_a_provider_error() {
    let body = br#"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}"#;
    let outcome = decode_with(
        "openai",
        ChunkDecoderConfig {
            content_type: Some("application/json".into()),
            ..Default::default()
        },
        &[body],
    );
    assert!(
        matches!(outcome.error, Some(Error::Provider { code: Some(c), .. }) if c == "invalid_api_key")
    );
}

#[test]
fn a_json_body_over_the_cap_is_refused() {
    let outcome = decode_with(
        "openai",
        ChunkDecoderConfig {
            max_event_size: 64,
            content_type: None,
        },
        &[COMPLETION_BODY.as_bytes()],
    );
    assert!(matches!(
        outcome.error,
        Some(Error::EventTooLarge { limit: 64, .. })
    ));
}

#[test]
fn a_declared_event_stream_is_never_sniffed() {
    let outcome = decode_with(
        "openai",
        ChunkDecoderConfig {
            content_type: Some("text/event-stream".into()),
            ..Default::default()
        },
        &[COMPLETION_BODY.as_bytes()],
    );
    // Not SSE: nothing dispatches, and the stream ends incomplete.
    assert_eq!(
        summarize(&outcome.chunks, 0).error_code.as_deref(),
        Some("incomplete_stream")
    );
}
