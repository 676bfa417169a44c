//! gpt-oss Harmony beyond the corpus (tests/data/text/harmony.json, run with every split by
//! text_corpus.rs): random soups of Harmony markers never raise and read the same however they
//! are split; content streams out as it arrives; the header cap; the format names.

mod support;

use _fastsse::text::harmony::{ERR_HEADER_INVALID, ERR_HEADER_TOO_LARGE, MAX_HEADER};
use _fastsse::text::{ReasoningSpec, TextParser, TextParserConfig};
use _fastsse::{FinishReason, GenerationChunk};
use proptest::prelude::*;

fn parser(tools: Option<&str>, reasoning: Option<&str>) -> TextParser {
    TextParser::new(TextParserConfig {
        tools: tools.map(str::to_owned),
        reasoning: reasoning.map(|name| ReasoningSpec::named(name).unwrap()),
        id_seed: Some(7),
        ..TextParserConfig::default()
    })
    .unwrap()
}

fn run(pieces: &[&str]) -> Vec<GenerationChunk> {
    let mut p = parser(Some("harmony"), None);
    let mut out = Vec::new();
    for piece in pieces {
        p.decode(piece, &mut out).unwrap();
    }
    p.flush(FinishReason::Stop, &mut out).unwrap();
    out
}

/// (text, reasoning, [(index, id, name, arguments)], error codes)
type Seen = (
    String,
    String,
    Vec<(u32, String, String, String)>,
    Vec<String>,
);

/// What a client assembles, checking the stream's rules on the way: one kind per chunk, dense
/// indexes, id and name only on a call's first delta, ids distinct.
fn assemble(chunks: &[GenerationChunk]) -> Seen {
    let mut seen: Seen = Default::default();
    for chunk in &chunks[..chunks.len() - 1] {
        seen.0.push_str(&chunk.text_delta);
        seen.1.push_str(&chunk.reasoning_delta);
        if let Some(code) = &chunk.rare.error_code {
            seen.3.push(code.clone());
        }
        if let Some(delta) = &chunk.tool_call_delta {
            let calls = &mut seen.2;
            if delta.index as usize == calls.len() {
                let id = delta.id.clone().expect("id on the first delta");
                assert!(calls.iter().all(|c| c.1 != id), "ids distinct");
                let name = delta
                    .function_name
                    .clone()
                    .expect("name on the first delta");
                calls.push((delta.index, id, name, String::new()));
            } else {
                assert!((delta.index as usize) < calls.len(), "dense indexes");
                assert!(delta.id.is_none() && delta.function_name.is_none());
            }
            calls[delta.index as usize]
                .3
                .push_str(&delta.arguments_delta);
        }
    }
    assert!(chunks.last().unwrap().done);
    seen
}

const PIECES: &[&str] = &[
    "<|start|>",
    "assistant",
    "<|channel|>",
    "analysis",
    "final",
    "commentary",
    " to=functions.f",
    " to=functions.get_weather",
    " to=browser.search",
    "<|constrain|>",
    " json",
    "<|message|>",
    "<|end|>",
    "<|call|>",
    "<|return|>",
    "{\"a\": ",
    "\"x<|call|>y\"",
    "1}",
    "[",
    " ",
    "\n",
    "é日🙂",
    "Hello",
    "<|",
    "|>",
    "<|mess",
    "to=",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any sequence of Harmony fragments: no panic, a well-formed stream, and the same reading
    /// whole, character by character and at random cuts.
    #[test]
    fn marker_soup_is_split_invariant(
        picks in proptest::collection::vec(0..PIECES.len(), 0..40),
        cuts in proptest::collection::vec(any::<u16>(), 0..12),
    ) {
        let text: String = picks.iter().map(|&n| PIECES[n]).collect();
        let whole = assemble(&run(&[&text]));
        prop_assert_eq!(&assemble(&run(&support::by_char(&text))), &whole);
        prop_assert_eq!(&assemble(&run(&support::cut_at_chars(&text, &cuts))), &whole);
    }
}

/// Fed one character at a time, reasoning, text and arguments leave as they arrive: what is
/// held back is never more than a marker's length.
#[test]
fn content_streams_as_it_arrives() {
    let body = "lorem ipsum dolor sit amet ".repeat(40);
    let arguments = format!("{{\"body\": \"{body}\"}}");
    let text = format!(
        "<|channel|>analysis<|message|>{body}<|end|><|start|>assistant<|channel|>final<|message|>{body}<|end|>\
         <|start|>assistant<|channel|>commentary to=functions.save <|constrain|>json<|message|>{arguments}<|call|>"
    );
    let longest_marker = "<|constrain|>".len();
    let mut p = parser(Some("harmony"), None);
    let mut out = Vec::new();
    let mut fed = String::new();
    for c in text.chars() {
        fed.push(c);
        p.decode(c.encode_utf8(&mut [0; 4]), &mut out).unwrap();
        let reasoning: usize = out.iter().map(|c| c.reasoning_delta.len()).sum();
        let answer: usize = out.iter().map(|c| c.text_delta.len()).sum();
        let args: usize = out
            .iter()
            .filter_map(|c| c.tool_call_delta.as_ref())
            .map(|d| d.arguments_delta.len())
            .sum();
        // Content of the message being fed so far: the part after its last `<|message|>`.
        let Some((_, current)) = fed.rsplit_once("<|message|>") else {
            continue;
        };
        let current = current.split("<|").next().unwrap_or("");
        let emitted_of_current = match fed.matches("<|message|>").count() {
            1 => reasoning,
            2 => answer,
            _ => args,
        };
        assert!(
            current.len() <= emitted_of_current + longest_marker,
            "held back too much after {} bytes",
            fed.len()
        );
    }
    p.flush(FinishReason::Stop, &mut out).unwrap();
    let seen = assemble(&out);
    assert_eq!(
        (seen.0.as_str(), seen.1.as_str()),
        (body.as_str(), body.as_str())
    );
    assert_eq!(seen.2[0].3, arguments);
}

#[test]
fn many_calls_have_distinct_ids_and_dense_indexes() {
    let call = "<|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{}<|call|>";
    let seen = assemble(&run(&[&call.repeat(50)]));
    assert_eq!(seen.2.len(), 50);
    assert!(seen
        .2
        .iter()
        .enumerate()
        .all(|(n, c)| c.0 as usize == n && c.2 == "f"));
}

#[test]
fn a_header_past_the_cap_is_an_error_naming_the_limit() {
    let long = format!(
        "<|channel|>final {}<|message|>ok<|return|>",
        "x".repeat(MAX_HEADER)
    );
    let chunks = run(&[&long]);
    let error = chunks.iter().find(|c| c.rare.error_code.is_some()).unwrap();
    assert_eq!(error.rare.error_code.as_deref(), Some(ERR_HEADER_TOO_LARGE));
    let message = error.rare.error_message.as_deref().unwrap();
    assert!(
        message.contains(&format!("limit of {MAX_HEADER} bytes")),
        "{message}"
    );
    assert_eq!(assemble(&chunks).0, "ok");
    // A header of exactly the cap is read; one byte more is not.
    for (extra, errors) in [(0, 0), (1, 1)] {
        let kind = "x".repeat(MAX_HEADER - "final ".len() + extra);
        let seen = assemble(&run(&[&format!("<|channel|>final {kind}<|message|>ok")]));
        assert_eq!((seen.0.as_str(), seen.3.len()), ("ok", errors));
    }
}

#[test]
fn a_malformed_header_says_where_and_why() {
    let chunks = run(&[
        "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>commentary to=functions.a to=functions.b<|message|>{}",
    ]);
    let error = chunks.iter().find(|c| c.rare.error_code.is_some()).unwrap();
    assert_eq!(error.rare.error_code.as_deref(), Some(ERR_HEADER_INVALID));
    let message = error.rare.error_message.as_deref().unwrap();
    assert!(
        message.contains("at character 38") && message.contains("two recipients"),
        "{message}"
    );
}

#[test]
fn either_name_selects_the_reader_and_others_do_not_mix() {
    let text =
        "<|channel|>analysis<|message|>r<|end|><|start|>assistant<|channel|>final<|message|>t";
    for (tools, reasoning) in [
        (Some("harmony"), None),
        (None, Some("harmony")),
        (Some("harmony"), Some("harmony")),
    ] {
        let mut p = parser(tools, reasoning);
        let mut out = p.decode_to_vec(text).unwrap();
        out.extend(p.flush_to_vec(FinishReason::Stop).unwrap());
        let seen = assemble(&out);
        assert_eq!((seen.0.as_str(), seen.1.as_str()), ("t", "r"));
    }
    let mix = |tools: &str, reasoning: &str| {
        TextParser::new(TextParserConfig {
            tools: Some(tools.to_owned()),
            reasoning: ReasoningSpec::named(reasoning),
            ..TextParserConfig::default()
        })
        .is_err()
    };
    assert!(mix("hermes", "harmony") && mix("harmony", "think"));
}
