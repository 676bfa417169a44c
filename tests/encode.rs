//! The encoders end to end: exact wire bytes for small streams, event structure for realistic
//! ones, finish-reason tables, non-streaming bodies, and properties over random chunk sequences
//! (valid JSON in every event; batch boundaries never change the bytes).

use _fastsse::encode::{encode, encode_response, Encoder, Envelope, Format, ReasoningField};
use _fastsse::sse::{SseConfig, SseDecoder};
use _fastsse::{Error, FinishReason, GenerationChunk, RareFields, ToolCallDelta};
use proptest::prelude::*;
use serde_json::{json, Value};

fn envelope() -> Envelope {
    Envelope {
        id: "chatcmpl-1".into(),
        model: "m".into(),
        created: 7,
        ..Default::default()
    }
}

fn events(bytes: &[u8]) -> Vec<(String, String)> {
    let mut decoder = SseDecoder::new(SseConfig::default());
    let mut out = Vec::new();
    decoder
        .decode_with(bytes, |event| {
            out.push((event.event.to_owned(), event.data.to_owned()));
            Ok(())
        })
        .unwrap();
    decoder
        .flush_with(|_| panic!("unterminated event"))
        .unwrap();
    out
}

/// Every event's data as JSON (`[DONE]` as the string "[DONE]").
fn json_events(bytes: &[u8]) -> Vec<(String, Value)> {
    events(bytes)
        .into_iter()
        .map(|(event, data)| {
            let value = if data == "[DONE]" {
                Value::String(data)
            } else {
                serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {data}"))
            };
            (event, value)
        })
        .collect()
}

fn call(index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) -> GenerationChunk {
    GenerationChunk::tool_call(ToolCallDelta {
        index,
        id: id.map(Into::into),
        function_name: name.map(Into::into),
        arguments_delta: arguments.into(),
    })
}

/// `base` with `rare` fields.
fn with_rare(base: GenerationChunk, rare: RareFields) -> GenerationChunk {
    GenerationChunk {
        rare: rare.into(),
        ..base
    }
}

fn terminal(reason: FinishReason, prompt: u64, completion: u64) -> GenerationChunk {
    let usage = RareFields {
        prompt_tokens: Some(prompt),
        completion_tokens: Some(completion),
        ..RareFields::NONE
    };
    with_rare(GenerationChunk::finish(reason), usage)
}

fn with_logprobs(base: GenerationChunk, logprobs: &str) -> GenerationChunk {
    let logprobs = RareFields {
        logprobs: Some(logprobs.into()),
        ..RareFields::NONE
    };
    with_rare(base, logprobs)
}

/// `base` reporting an error.
fn failed(base: GenerationChunk, code: Option<&str>, message: &str) -> GenerationChunk {
    let error = RareFields {
        error_code: code.map(Into::into),
        error_message: Some(message.into()),
        ..RareFields::NONE
    };
    with_rare(base, error)
}

// --- OpenAI -----------------------------------------------------------------------------------

#[test]
fn openai_exact_bytes_for_a_short_stream() {
    let chunks = [
        GenerationChunk::text("Hi \"you\"\n"),
        terminal(FinishReason::Stop, 3, 2),
    ];
    let envelope = Envelope {
        include_usage: true,
        ..envelope()
    };
    let bytes = encode(&chunks, Format::OpenAi, envelope).unwrap();
    let head = r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":7,"model":"m","choices":["#;
    let expected = [
        format!("{head}{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"),
        format!("{head}{{\"index\":0,\"delta\":{{\"content\":\"Hi \\\"you\\\"\\n\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"),
        format!("{head}{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}]}}\n\n"),
        format!("{head}],\"usage\":{{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}}}\n\n"),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
}

#[test]
fn openai_reasoning_tool_calls_and_fingerprint() {
    let chunks = [
        GenerationChunk::reasoning("think"),
        GenerationChunk::text("ok"),
        call(0, Some("call_a"), Some("get"), ""),
        call(0, None, None, "{\"q\":"),
        call(0, Some("call_a"), Some("get"), "1}"),
        call(1, None, Some("put"), "{}"),
        terminal(FinishReason::ToolCalls, 1, 9),
    ];
    let envelope = Envelope {
        system_fingerprint: Some("fp_x".into()),
        reasoning_field: ReasoningField::Reasoning,
        ..envelope()
    };
    let events = json_events(&encode(&chunks, Format::OpenAi, envelope).unwrap());
    let deltas: Vec<&Value> = events[..events.len() - 1]
        .iter()
        .map(|(_, v)| {
            assert_eq!(v["system_fingerprint"], "fp_x");
            assert_eq!(v["object"], "chat.completion.chunk");
            &v["choices"][0]
        })
        .collect();
    assert_eq!(deltas[1]["delta"], json!({"reasoning": "think"}));
    assert_eq!(deltas[2]["delta"], json!({"content": "ok"}));
    assert_eq!(
        deltas[3]["delta"]["tool_calls"],
        json!([{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get", "arguments": ""}}])
    );
    assert_eq!(
        deltas[4]["delta"]["tool_calls"],
        json!([{"index": 0, "function": {"arguments": "{\"q\":"}}])
    );
    // A repeated id/name on a later fragment is not written again.
    assert_eq!(
        deltas[5]["delta"]["tool_calls"],
        json!([{"index": 0, "function": {"arguments": "1}"}}])
    );
    // A first fragment without an id gets one derived from the response id.
    assert_eq!(deltas[6]["delta"]["tool_calls"][0]["id"], "call_1_1");
    assert_eq!(deltas[7]["finish_reason"], "tool_calls");
    assert_eq!(events.last().unwrap().1, "[DONE]");
    assert_eq!(events.len(), 9, "no usage chunk unless include_usage");
}

#[test]
fn openai_finish_reason_table() {
    let cases = [
        (FinishReason::Stop, false, "stop"),
        (FinishReason::Stop, true, "tool_calls"),
        (FinishReason::Length, false, "length"),
        (FinishReason::Cancelled, false, "length"),
        (FinishReason::ToolCalls, false, "tool_calls"),
        (FinishReason::ContentFilter, false, "content_filter"),
    ];
    for (reason, with_call, expected) in cases {
        let mut chunks = vec![GenerationChunk::text("x")];
        if with_call {
            chunks.push(call(0, Some("c"), Some("f"), "{}"));
        }
        chunks.push(GenerationChunk::finish(reason));
        let events = json_events(&encode(&chunks, Format::OpenAi, envelope()).unwrap());
        let finish = &events[events.len() - 2].1["choices"][0];
        assert_eq!(finish["finish_reason"], expected, "{reason:?}");
        assert_eq!(finish["delta"], json!({}));
    }
}

#[test]
fn openai_choices_each_get_role_and_finish() {
    let chunks = [
        GenerationChunk::text("a"),
        GenerationChunk {
            choice_index: 1,
            ..GenerationChunk::text("b")
        },
        GenerationChunk {
            choice_index: 1,
            ..GenerationChunk::finish(FinishReason::Length)
        },
    ];
    let events = json_events(&encode(&chunks, Format::OpenAi, envelope()).unwrap());
    let summary: Vec<(u64, Value, Value)> = events[..events.len() - 1]
        .iter()
        .map(|(_, v)| {
            let choice = &v["choices"][0];
            (
                choice["index"].as_u64().unwrap(),
                choice["delta"].clone(),
                choice["finish_reason"].clone(),
            )
        })
        .collect();
    let role = json!({"role": "assistant", "content": ""});
    assert_eq!(
        summary,
        vec![
            (0, role.clone(), Value::Null),
            (0, json!({"content": "a"}), Value::Null),
            (1, role, Value::Null),
            (1, json!({"content": "b"}), Value::Null),
            (1, json!({}), json!("length")),
            // finish() closes choice 0, which never got a terminal chunk.
            (0, json!({}), json!("stop")),
        ]
    );
}

#[test]
fn openai_refusal_and_logprobs_pass_through() {
    let chunks = [
        with_logprobs(
            GenerationChunk::text("a"),
            r#"[{"token":"a","logprob":-0.5,"bytes":[97],"top_logprobs":[]}]"#,
        ),
        GenerationChunk::refusal("no"),
    ];
    let events = json_events(&encode(&chunks, Format::OpenAi, envelope()).unwrap());
    let with_logprobs = &events[1].1["choices"][0];
    assert_eq!(with_logprobs["logprobs"]["content"][0]["logprob"], -0.5);
    assert_eq!(with_logprobs["logprobs"]["refusal"], Value::Null);
    assert_eq!(events[2].1["choices"][0]["delta"], json!({"refusal": "no"}));
}

#[test]
fn openai_error_chunk_becomes_error_event_then_done() {
    let chunks = [
        GenerationChunk::text("partial"),
        failed(
            GenerationChunk::finish(FinishReason::Error),
            Some("overloaded"),
            "engine \"died\"",
        ),
        GenerationChunk::text("ignored after the error"),
    ];
    let with_usage = Envelope {
        include_usage: true,
        ..envelope()
    };
    let events = json_events(&encode(&chunks, Format::OpenAi, with_usage).unwrap());
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[2].1,
        json!({"error": {"message": "engine \"died\"", "type": "server_error", "param": null, "code": "overloaded"}})
    );
    assert_eq!(events[3].1, "[DONE]");
    // A bare error finish still explains itself.
    let bare = json_events(
        &encode(
            &[GenerationChunk::finish(FinishReason::Error)],
            Format::OpenAi,
            envelope(),
        )
        .unwrap(),
    );
    assert_eq!(bare[1].1["error"]["message"], "generation failed");
}

#[test]
fn openai_preamble_comes_with_the_first_call_even_empty() {
    let mut encoder = Encoder::new(Format::OpenAi, envelope());
    let mut out = Vec::new();
    encoder.encode([].iter(), &mut out).unwrap();
    assert_eq!(json_events(&out).len(), 1);
    out.clear();
    encoder.encode([].iter(), &mut out).unwrap();
    assert!(out.is_empty());
    encoder.finish(&mut out).unwrap();
    assert_eq!(json_events(&out).len(), 2);
}

#[test]
fn openai_response_body() {
    let chunks = [
        GenerationChunk::reasoning("r1"),
        GenerationChunk::reasoning("r2"),
        with_logprobs(
            GenerationChunk::text("x"),
            "[{\"token\":\"x\",\"logprob\":0}]",
        ),
        with_logprobs(call(0, Some("call_z"), Some("f"), "{\"a\""), "[]"),
        call(0, None, None, ":1}"),
        terminal(FinishReason::ToolCalls, 4, 5),
    ];
    let with_fingerprint = Envelope {
        system_fingerprint: Some("fp".into()),
        ..envelope()
    };
    let body: Value = serde_json::from_slice(
        &encode_response(&chunks, Format::OpenAi, with_fingerprint).unwrap(),
    )
    .unwrap();
    assert_eq!(
        body,
        json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 7, "model": "m",
            "system_fingerprint": "fp",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant", "content": "x", "reasoning_content": "r1r2", "refusal": null,
                    "tool_calls": [{"id": "call_z", "type": "function",
                                    "function": {"name": "f", "arguments": "{\"a\":1}"}}]
                },
                "logprobs": {"content": [{"token": "x", "logprob": 0}], "refusal": null},
                "finish_reason": "tool_calls"
            }],
            "usage": {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9}
        })
    );
    let empty: Value = serde_json::from_slice(
        &encode_response([].iter(), Format::OpenAi, Envelope::default()).unwrap(),
    )
    .unwrap();
    assert_eq!(empty["choices"][0]["message"]["content"], "");
    assert_eq!(empty["choices"][0]["finish_reason"], "stop");
    let refusal: Value = serde_json::from_slice(
        &encode_response(
            &[GenerationChunk::refusal("nope")],
            Format::OpenAi,
            envelope(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(refusal["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(refusal["choices"][0]["message"]["refusal"], "nope");
}

#[test]
fn openai_response_error_body() {
    let chunks = [
        GenerationChunk::text("lost"),
        failed(GenerationChunk::default(), None, "boom"),
    ];
    let body: Value =
        serde_json::from_slice(&encode_response(&chunks, Format::OpenAi, envelope()).unwrap())
            .unwrap();
    assert_eq!(
        body,
        json!({"error": {"message": "boom", "type": "server_error", "param": null, "code": null}})
    );
}

// --- Anthropic --------------------------------------------------------------------------------

fn anthropic_envelope() -> Envelope {
    Envelope {
        id: "msg_1".into(),
        model: "claude".into(),
        ..Default::default()
    }
}

#[test]
fn anthropic_exact_bytes_for_a_short_stream() {
    let chunks = [
        GenerationChunk::text("Hi"),
        terminal(FinishReason::Stop, 3, 2),
    ];
    let envelope = Envelope {
        prompt_tokens: Some(3),
        ping: true,
        ..anthropic_envelope()
    };
    let bytes = encode(&chunks, Format::Anthropic, envelope).unwrap();
    let expected = concat!(
        "event: message_start\n",
        r#"data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":0}}}"#,
        "\n\nevent: ping\n",
        r#"data: {"type":"ping"}"#,
        "\n\nevent: content_block_start\n",
        r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        "\n\nevent: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
        "\n\nevent: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":0}"#,
        "\n\nevent: message_delta\n",
        r#"data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":3,"output_tokens":2}}"#,
        "\n\nevent: message_stop\n",
        r#"data: {"type":"message_stop"}"#,
        "\n\n",
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
}

#[test]
fn anthropic_blocks_are_contiguous_and_typed() {
    let chunks = [
        GenerationChunk::reasoning("hm"),
        with_rare(
            GenerationChunk::reasoning(" ok"),
            RareFields {
                reasoning_signature: Some("sig".into()),
                ..RareFields::NONE
            },
        ),
        GenerationChunk::text("Let me check."),
        call(0, Some("toolu_a"), Some("get"), "{\"q\":"),
        call(0, None, None, "1}"),
        call(1, None, Some("put"), ""),
        GenerationChunk::text("after"),
        terminal(FinishReason::ToolCalls, 5, 6),
    ];
    let events = json_events(&encode(&chunks, Format::Anthropic, anthropic_envelope()).unwrap());
    for (name, data) in &events {
        assert_eq!(
            data["type"],
            name.as_str(),
            "event: line matches the data type"
        );
    }
    let shape: Vec<String> = events
        .iter()
        .map(|(name, data)| match name.as_str() {
            "content_block_start" => format!("start {} {}", data["index"], data["content_block"]),
            "content_block_delta" => format!("delta {} {}", data["index"], data["delta"]),
            "content_block_stop" => format!("stop {}", data["index"]),
            _ => name.clone(),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "message_start",
            r#"start 0 {"signature":"","thinking":"","type":"thinking"}"#,
            r#"delta 0 {"thinking":"hm","type":"thinking_delta"}"#,
            r#"delta 0 {"thinking":" ok","type":"thinking_delta"}"#,
            r#"delta 0 {"signature":"sig","type":"signature_delta"}"#,
            "stop 0",
            r#"start 1 {"text":"","type":"text"}"#,
            r#"delta 1 {"text":"Let me check.","type":"text_delta"}"#,
            "stop 1",
            r#"start 2 {"id":"toolu_a","input":{},"name":"get","type":"tool_use"}"#,
            r#"delta 2 {"partial_json":"{\"q\":","type":"input_json_delta"}"#,
            r#"delta 2 {"partial_json":"1}","type":"input_json_delta"}"#,
            "stop 2",
            r#"start 3 {"id":"toolu_1_1","input":{},"name":"put","type":"tool_use"}"#,
            "stop 3",
            r#"start 4 {"text":"","type":"text"}"#,
            r#"delta 4 {"text":"after","type":"text_delta"}"#,
            "stop 4",
            "message_delta",
            "message_stop",
        ]
    );
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(
        delta["usage"],
        json!({"input_tokens": 5, "output_tokens": 6})
    );
}

#[test]
fn anthropic_stop_reason_table() {
    let with = |reason: FinishReason, extra: GenerationChunk| {
        let chunks = [extra, GenerationChunk::finish(reason)];
        let events =
            json_events(&encode(&chunks, Format::Anthropic, anthropic_envelope()).unwrap());
        events[events.len() - 2].1["delta"].clone()
    };
    let text = || GenerationChunk::text("x");
    assert_eq!(with(FinishReason::Stop, text())["stop_reason"], "end_turn");
    assert_eq!(
        with(FinishReason::Length, text())["stop_reason"],
        "max_tokens"
    );
    assert_eq!(
        with(FinishReason::Cancelled, text())["stop_reason"],
        "max_tokens"
    );
    assert_eq!(
        with(FinishReason::ToolCalls, text())["stop_reason"],
        "tool_use"
    );
    assert_eq!(
        with(FinishReason::ContentFilter, text())["stop_reason"],
        "refusal"
    );
    assert_eq!(
        with(FinishReason::Stop, call(0, Some("t"), Some("f"), "{}"))["stop_reason"],
        "tool_use"
    );
    let refusal = GenerationChunk::refusal("I can't");
    assert_eq!(with(FinishReason::Stop, refusal)["stop_reason"], "refusal");
    let end = RareFields {
        stop_sequence: Some("END".into()),
        ..RareFields::NONE
    };
    let stopped = with_rare(text(), end);
    assert_eq!(
        with(FinishReason::Stop, stopped),
        json!({"stop_reason": "stop_sequence", "stop_sequence": "END"})
    );
}

#[test]
fn anthropic_error_event_ends_the_stream() {
    let chunks = [
        GenerationChunk::text("partial"),
        failed(
            GenerationChunk::default(),
            Some("overloaded_error"),
            "Overloaded",
        ),
        GenerationChunk::text("ignored"),
    ];
    let events = json_events(&encode(&chunks, Format::Anthropic, anthropic_envelope()).unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "error"
        ]
    );
    assert_eq!(
        events[3].1,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
}

#[test]
fn anthropic_usage_errors() {
    let second_choice = GenerationChunk {
        choice_index: 1,
        ..GenerationChunk::text("x")
    };
    let err = encode(&[second_choice], Format::Anthropic, anthropic_envelope()).unwrap_err();
    assert!(matches!(&err, Error::Usage { message } if message.contains("choice_index 1")));

    let interleaved = [
        call(0, Some("a"), Some("f"), "{"),
        call(1, Some("b"), Some("g"), "{"),
        call(0, None, None, "}"),
    ];
    let err = encode(&interleaved, Format::Anthropic, anthropic_envelope()).unwrap_err();
    assert!(matches!(&err, Error::Usage { message } if message.contains("tool call 0")));
    // The OpenAI format has no such limit.
    encode(&interleaved, Format::OpenAi, envelope()).unwrap();
}

#[test]
fn anthropic_response_body() {
    let chunks = [
        GenerationChunk::reasoning("why"),
        GenerationChunk::signature("s"),
        GenerationChunk::text("ok"),
        call(0, Some("toolu_x"), Some("get"), " {\"city\": \"Paris\"} "),
        call(1, Some("toolu_y"), Some("bad"), "{\"unterminated"),
        call(2, Some("toolu_z"), Some("list"), "[1]"),
        call(3, Some("toolu_w"), Some("none"), ""),
        terminal(FinishReason::ToolCalls, 8, 9),
    ];
    let body: Value = serde_json::from_slice(
        &encode_response(&chunks, Format::Anthropic, anthropic_envelope()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        body,
        json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
            "content": [
                {"type": "thinking", "thinking": "why", "signature": "s"},
                {"type": "text", "text": "ok"},
                {"type": "tool_use", "id": "toolu_x", "name": "get", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_y", "name": "bad", "input": {}},
                {"type": "tool_use", "id": "toolu_z", "name": "list", "input": {}},
                {"type": "tool_use", "id": "toolu_w", "name": "none", "input": {}},
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 8, "output_tokens": 9}
        })
    );
    let error = encode_response(
        &[GenerationChunk::finish(FinishReason::Error)],
        Format::Anthropic,
        anthropic_envelope(),
    )
    .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&error).unwrap(),
        json!({"type": "error", "error": {"type": "api_error", "message": "generation failed"}})
    );
}

// --- OpenAI Responses and the AI SDK UI stream ---------------------------------------------

#[test]
fn vercel_ui_exact_bytes_for_a_short_stream() {
    let chunks = [
        GenerationChunk::text("Hi"),
        call(0, Some("c1"), Some("f"), "{\"a\":"),
        call(0, None, None, "1}"),
        terminal(FinishReason::Stop, 3, 2),
    ];
    let envelope = Envelope {
        id: "msg_1".into(),
        ..Default::default()
    };
    let bytes = encode(&chunks, Format::VercelUi, envelope).unwrap();
    let expected = [
        r#"{"type":"start","messageId":"msg_1"}"#,
        r#"{"type":"start-step"}"#,
        r#"{"type":"text-start","id":"text-0"}"#,
        r#"{"type":"text-delta","id":"text-0","delta":"Hi"}"#,
        r#"{"type":"text-end","id":"text-0"}"#,
        r#"{"type":"tool-input-start","toolCallId":"c1","toolName":"f"}"#,
        r#"{"type":"tool-input-delta","toolCallId":"c1","inputTextDelta":"{\"a\":"}"#,
        r#"{"type":"tool-input-delta","toolCallId":"c1","inputTextDelta":"1}"}"#,
        r#"{"type":"tool-input-available","toolCallId":"c1","toolName":"f","input":{"a":1}}"#,
        r#"{"type":"finish-step"}"#,
        r#"{"type":"finish","finishReason":"tool-calls"}"#,
        "[DONE]",
    ]
    .map(|data| format!("data: {data}\n\n"))
    .concat();
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
}

#[test]
fn responses_items_follow_the_blocks() {
    let chunks = [
        GenerationChunk::reasoning("r"),
        GenerationChunk::text("t"),
        call(0, Some("c1"), Some("f"), "{}"),
        terminal(FinishReason::Length, 3, 2),
    ];
    let envelope = Envelope {
        id: "resp_x".into(),
        ..envelope()
    };
    let events = json_events(&encode(&chunks, Format::OpenAiResponses, envelope.clone()).unwrap());
    let added: Vec<(&str, &str)> = events
        .iter()
        .filter(|(name, _)| name == "response.output_item.added")
        .map(|(_, e)| {
            (
                e["item"]["type"].as_str().unwrap(),
                e["item"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        added,
        [
            ("reasoning", "rs_x_0"),
            ("message", "msg_x_1"),
            ("function_call", "fc_x_2")
        ]
    );
    let (name, last) = events.last().unwrap();
    assert_eq!(name, "response.incomplete");
    assert_eq!(
        last["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );
    assert_eq!(last["response"]["usage"]["total_tokens"], 5);
    let body: Value = serde_json::from_slice(
        &encode_response(&chunks, Format::OpenAiResponses, envelope).unwrap(),
    )
    .unwrap();
    assert_eq!(body["output"], last["response"]["output"]);
    assert_eq!(body["output"][2]["call_id"], "c1");
}

// --- properties -------------------------------------------------------------------------------

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z \"\\\\]{0,6}",
        any::<String>().prop_map(|s| s.chars().take(8).collect()),
        "[\u{0}-\u{1f}\u{7f}\u{2028}\u{fffd}]{1,4}",
    ]
}

fn any_chunk() -> impl Strategy<Value = GenerationChunk> {
    (
        any_text(),
        any_text(),
        prop::option::of((0u32..3, prop::option::of(any_text()), any_text())),
        prop::option::weighted(0.1, any_text()),
        prop::option::weighted(0.05, 0usize..FinishReason::ALL.len()),
        prop::option::weighted(0.2, 0u64..1000),
    )
        .prop_map(
            |(text, reasoning, call, signature, finish, tokens)| GenerationChunk {
                text_delta: text,
                reasoning_delta: reasoning,
                tool_call_delta: call.map(|(index, name, arguments)| {
                    Box::new(ToolCallDelta {
                        index,
                        id: name.as_ref().map(|n| format!("id{n}")),
                        function_name: name,
                        arguments_delta: arguments,
                    })
                }),
                finish_reason: finish.map(|i| FinishReason::ALL[i]),
                rare: RareFields {
                    reasoning_signature: signature,
                    completion_tokens: tokens,
                    error_message: (finish == Some(5)).then(|| "bad\n\"thing\"".to_owned()),
                    ..RareFields::NONE
                }
                .into(),
                ..Default::default()
            },
        )
}

fn split_encode(
    chunks: &[GenerationChunk],
    cuts: &[usize],
    format: Format,
) -> Result<Vec<u8>, Error> {
    let mut encoder = Encoder::new(
        format,
        Envelope {
            include_usage: true,
            ..envelope()
        },
    );
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain([chunks.len()].iter()) {
        let cut = cut.clamp(start, chunks.len());
        encoder.encode(&chunks[start..cut], &mut out)?;
        start = cut;
    }
    encoder.finish(&mut out)?;
    Ok(out)
}

proptest! {
    #[test]
    fn every_event_is_valid_json_and_batches_do_not_matter(
        chunks in prop::collection::vec(any_chunk(), 0..12),
        mut cuts in prop::collection::vec(0usize..12, 0..4),
    ) {
        cuts.sort_unstable();
        for format in Format::ALL {
            let whole = encode(&chunks, format, Envelope { include_usage: true, ..envelope() });
            let split = split_encode(&chunks, &cuts, format);
            match (whole, split) {
                (Ok(whole), Ok(split)) => {
                    prop_assert_eq!(&whole, &split);
                    let events = json_events(&whole);
                    prop_assert!(!events.is_empty());
                    match format {
                        Format::Anthropic | Format::OpenAiResponses => {
                            for (name, data) in &events {
                                prop_assert_eq!(data["type"].as_str(), Some(name.as_str()));
                            }
                        }
                        Format::OpenAi | Format::VercelUi => {
                            prop_assert_eq!(&events.last().unwrap().1, "[DONE]");
                        }
                    }
                    if format == Format::OpenAiResponses {
                        let numbers: Vec<u64> =
                            events.iter().map(|(_, e)| e["sequence_number"].as_u64().unwrap()).collect();
                        prop_assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>());
                    }
                    if format != Format::VercelUi {
                        let body = encode_response(&chunks, format, envelope()).unwrap();
                        serde_json::from_slice::<Value>(&body).unwrap();
                    }
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "whole {:?} vs split {:?}", a.is_ok(), b.is_ok()),
            }
        }
    }

    #[test]
    fn openai_text_and_arguments_survive_exactly(
        chunks in prop::collection::vec(any_chunk(), 0..12),
    ) {
        let chunks: Vec<GenerationChunk> = chunks
            .into_iter()
            .map(|mut c| {
                c.finish_reason = None;
                c.rare.error_message = None;
                c
            })
            .collect();
        let events = json_events(&encode(&chunks, Format::OpenAi, envelope()).unwrap());
        let (mut text, mut reasoning, mut arguments) = (String::new(), String::new(), String::new());
        for (_, event) in &events {
            let delta = &event["choices"][0]["delta"];
            text.push_str(delta["content"].as_str().unwrap_or(""));
            reasoning.push_str(delta["reasoning_content"].as_str().unwrap_or(""));
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                arguments.push_str(call["function"]["arguments"].as_str().unwrap());
            }
        }
        let concat = |f: fn(&GenerationChunk) -> &str| chunks.iter().map(f).collect::<String>();
        prop_assert_eq!(text, concat(|c| &c.text_delta));
        prop_assert_eq!(reasoning, concat(|c| &c.reasoning_delta));
        prop_assert_eq!(
            arguments,
            concat(|c| c.tool_call_delta.as_ref().map_or("", |d| &d.arguments_delta))
        );
    }
}
