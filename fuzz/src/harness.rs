//! The fuzz harnesses: one function per decoder, each taking arbitrary bytes. The cargo-fuzz
//! targets (`fuzz/fuzz_targets/`) call them under libFuzzer, and `tests/fuzz_regressions.rs`
//! calls them from a plain `cargo test` on every file of `fuzz/regressions/` plus a short
//! deterministic pass, so CI replays every crash ever found.
//!
//! Each harness checks more than "no panic": a cap is never exceeded silently, and the output
//! is the same whether the input arrives whole or in pieces cut where the input says.

use _fastsse::chunk::{FinishReason, GenerationChunk};
use _fastsse::encode::{self, Envelope, Format};
use _fastsse::error::Error;
use _fastsse::eventstream::EventStreamDecoder;
use _fastsse::ndjson::NdjsonDecoder;
use _fastsse::providers::{ChunkDecoder, ChunkDecoderConfig};
use _fastsse::sse::{SseConfig, SseDecoder};
use _fastsse::text::{
    ReasoningSpec, TextParser, TextParserConfig, ToolSchemas, REASONING_FORMATS, TOOL_FORMATS,
};

/// A harness: arbitrary bytes in, a panic on any broken property.
pub type Harness = fn(&[u8]);

/// Every harness, by the name of its fuzz target (and of its `fuzz/regressions/` folder).
pub const TARGETS: &[(&str, Harness)] = &[
    ("sse_decoder", sse_decoder),
    ("ndjson_decoder", ndjson_decoder),
    ("eventstream_decoder", eventstream_decoder),
    ("providers", providers),
    ("text_parser", text_parser),
    ("tool_schemas", tool_schemas),
    ("stop_strings", stop_strings),
    ("encode_roundtrip", encode_roundtrip),
];

/// The first byte picks how to cut the rest: pieces of 1 to 13 bytes.
fn split_seed(input: &[u8]) -> Option<(usize, &[u8])> {
    let (&seed, data) = input.split_first()?;
    Some((usize::from(seed % 13) + 1, data))
}

/// Every piece through `step(Some(piece), out)`, then `step(None, out)` (the end of input).
fn feed<P, T>(
    pieces: impl Iterator<Item = P>,
    mut step: impl FnMut(Option<P>, &mut Vec<T>) -> Result<(), Error>,
) -> Result<Vec<T>, Error> {
    let mut out = Vec::new();
    for piece in pieces {
        step(Some(piece), &mut out)?;
    }
    step(None, &mut out)?;
    Ok(out)
}

/// `run` over the input whole and over `pieces` of it: both runs must agree on failing and,
/// when both succeed, on the output. (Errors may surface one call later in pieces, so only
/// "did it fail" is compared when either run failed.)
fn whole_and_split<'a, P: ?Sized, T: PartialEq + std::fmt::Debug>(
    whole: &'a P,
    mut pieces: impl Iterator<Item = &'a P>,
    run: impl Fn(&mut dyn Iterator<Item = &'a P>) -> Result<T, Error>,
) {
    let whole = run(&mut std::iter::once(whole));
    let split = run(&mut pieces);
    assert_eq!(
        whole.is_ok(),
        split.is_ok(),
        "whole and split disagree on failing"
    );
    if let (Ok(a), Ok(b)) = (whole, split) {
        assert_eq!(a, b);
    }
}

/// A byte decoder's harness: the first byte picks the piece size (`split_seed`), and
/// `run(piece_size, pieces)` over the rest whole and in pieces of that size must agree.
fn bytes_whole_and_split<T: PartialEq + std::fmt::Debug>(
    input: &[u8],
    run: impl Fn(usize, &mut dyn Iterator<Item = &[u8]>) -> Result<T, Error>,
) {
    let Some((step, data)) = split_seed(input) else {
        return;
    };
    whole_and_split(data, data.chunks(step), |pieces| run(step, pieces));
}

pub fn sse_decoder(input: &[u8]) {
    bytes_whole_and_split(input, |step, pieces| {
        let config = SseConfig {
            max_event_size: 1 << 12,
            dispatch_unterminated: step % 2 == 1,
        };
        let mut decoder = SseDecoder::new(config);
        let out = feed(pieces, |piece, out| match piece {
            Some(bytes) => decoder.decode(bytes, out),
            None => decoder.flush(out),
        })?;
        // The cap counts input bytes; invalid UTF-8 becomes U+FFFD (3 bytes for 1).
        assert!(out
            .iter()
            .all(|e| e.data.len() <= 3 * config.max_event_size));
        Ok(out)
    });
}

pub fn ndjson_decoder(input: &[u8]) {
    bytes_whole_and_split(input, |_, pieces| {
        let mut decoder = NdjsonDecoder::new(1 << 10);
        let out = feed(pieces, |piece, out| match piece {
            Some(bytes) => decoder.decode(bytes, out),
            None => decoder.flush(out),
        })?;
        assert!(out.iter().all(|line| line.len() <= 3 << 10)); // U+FFFD: 3 bytes for 1
        Ok(out)
    });
}

pub fn eventstream_decoder(input: &[u8]) {
    bytes_whole_and_split(input, |_, pieces| {
        // A cap far above the input: the decoder must not reserve what a prelude declares.
        let mut decoder = EventStreamDecoder::new(u32::MAX as usize);
        feed(pieces, |piece, out| match piece {
            Some(bytes) => decoder.decode(bytes, out),
            None => decoder.flush(),
        })
    });
}

/// Byte 0 picks the provider (registry order), byte 1 the split; the rest is the body.
pub fn providers(input: &[u8]) {
    let Some((&pick, rest)) = input.split_first() else {
        return;
    };
    let names = _fastsse::providers::registry::PROVIDERS;
    let name = names[usize::from(pick) % names.len()].name;
    bytes_whole_and_split(rest, |_, pieces| {
        let config = ChunkDecoderConfig {
            max_event_size: 1 << 14,
            content_type: None,
        };
        let mut decoder = ChunkDecoder::new(name, config).expect("a registered provider");
        feed(pieces, |piece, out| match piece {
            Some(bytes) => decoder.decode_into(bytes, out),
            None => decoder.flush_into(out),
        })
    });
}

/// What a stream of chunks means, independent of how deltas were cut.
#[derive(Debug, PartialEq, Default)]
pub struct Meaning {
    text: String,
    reasoning: String,
    calls: Vec<(u32, Option<String>, Option<String>, String)>,
    finish: Option<FinishReason>,
    errors: Vec<Option<String>>,
}

pub fn meaning(chunks: &[GenerationChunk]) -> Meaning {
    let mut m = Meaning::default();
    for chunk in chunks {
        m.text.push_str(&chunk.text_delta);
        m.reasoning.push_str(&chunk.reasoning_delta);
        if let Some(call) = &chunk.tool_call_delta {
            match m.calls.iter_mut().find(|c| c.0 == call.index) {
                Some(known) => known.3.push_str(&call.arguments_delta),
                None => m.calls.push((
                    call.index,
                    call.id.clone(),
                    call.function_name.clone(),
                    call.arguments_delta.clone(),
                )),
            }
        }
        if chunk.finish_reason.is_some() {
            m.finish = chunk.finish_reason;
        }
        if chunk.rare.error_code.is_some() {
            m.errors.push(chunk.rare.error_code.clone());
        }
    }
    m
}

/// Byte 0 picks the tool format, byte 1 the reasoning format (past the lists: none), byte 2
/// the split; the rest, as UTF-8 (lossy), is the model's text. Stop strings are fixed.
pub fn text_parser(input: &[u8]) {
    let [tools, reasoning, rest @ ..] = input else {
        return;
    };
    let Some((step, data)) = split_seed(rest) else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    let config = TextParserConfig {
        stop: vec!["STOP".into(), "\n\n\n".into()],
        ..formats_config(*tools, *reasoning)
    };
    whole_and_split(&*text, char_pieces(&text, step), |pieces| {
        let parser = TextParser::new(config.clone()).expect("valid configuration");
        parse(parser, pieces).map(|out| meaning(&out))
    });
}

/// The parser the selector bytes `tools` and `reasoning` pick (an index past the format lists:
/// none), with a small buffer cap and fixed call ids.
fn formats_config(tools: u8, reasoning: u8) -> TextParserConfig {
    TextParserConfig {
        tools: TOOL_FORMATS.get(usize::from(tools)).map(|s| s.to_string()),
        reasoning: REASONING_FORMATS
            .get(usize::from(reasoning))
            .and_then(|name| ReasoningSpec::named(name)),
        max_buffer: 1 << 12,
        id_seed: Some(7),
        ..Default::default()
    }
}

/// The chunks of `parser` over `pieces`, flushed with finish reason "stop".
fn parse<'a>(
    mut parser: TextParser,
    pieces: impl Iterator<Item = &'a str>,
) -> Result<Vec<GenerationChunk>, Error> {
    feed(pieces, |piece, out| match piece {
        Some(text) => parser.decode(text, out),
        None => parser.flush(FinishReason::Stop, out),
    })
}

/// `text` in pieces of about `step` bytes, cut on character boundaries.
fn char_pieces(text: &str, step: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut cut = step.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        Some(piece)
    })
}

/// Any text as the request's tool list: a value or a typed error, never a panic or a stall.
pub fn tool_schemas(input: &[u8]) {
    let _ = ToolSchemas::from_json(&String::from_utf8_lossy(input));
}

/// Byte 0 (mod 4, plus 1) is the number of stop strings; they and the text are separated by
/// `|` in the rest. The answer must be the text before the stop that completes first (ties to
/// the first listed), whole or split.
pub fn stop_strings(input: &[u8]) {
    let Some((&count, rest)) = input.split_first() else {
        return;
    };
    let Some((step, data)) = split_seed(rest) else {
        return;
    };
    let data = String::from_utf8_lossy(data);
    let mut stops: Vec<String> = data
        .splitn(usize::from(count % 4) + 2, '|')
        .map(str::to_string)
        .collect();
    let text = stops.pop().unwrap_or_default();
    let config = TextParserConfig {
        stop: stops.clone(),
        ..Default::default()
    };
    let reference = reference_stop(&text, &stops);
    whole_and_split(&*text, char_pieces(&text, step), |pieces| {
        let answer =
            parse(TextParser::new(config.clone())?, pieces).map(|out| meaning(&out).text)?;
        assert_eq!(answer, reference);
        Ok(answer)
    });
}

/// The text before the earliest-completing stop string (ties to the first listed), naively.
fn reference_stop(text: &str, stops: &[String]) -> String {
    for end in 0..=text.len() {
        if !text.is_char_boundary(end) {
            continue;
        }
        if let Some(stop) = stops.iter().find(|s| text[..end].ends_with(s.as_str())) {
            return text[..end - stop.len()].to_string();
        }
    }
    text.to_string()
}

/// The model text of `text_parser` (same selector bytes) parsed, encoded as OpenAI or Anthropic
/// SSE (byte 0 is odd: Anthropic) and decoded back by that provider's reducer: the same text,
/// reasoning and tool calls (names and arguments) come out. No reflected text can forge an event.
pub fn encode_roundtrip(input: &[u8]) {
    let [tools, reasoning, data @ ..] = input else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    let parser = TextParser::new(formats_config(*tools, *reasoning)).expect("valid configuration");
    let Ok(chunks) = parse(parser, std::iter::once(&*text)) else {
        return;
    };
    let (format, provider) = if tools % 2 == 1 {
        (Format::Anthropic, "anthropic")
    } else {
        (Format::OpenAi, "openai")
    };
    let envelope = Envelope {
        id: "id-1".into(),
        model: "m".into(),
        ..Default::default()
    };
    let wire = encode::encode(&chunks, format, envelope).expect("encoding parsed chunks");
    let mut decoder = ChunkDecoder::new(provider, ChunkDecoderConfig::default()).expect("known");
    let back = feed(std::iter::once(&wire[..]), |piece, out| match piece {
        Some(bytes) => decoder.decode_into(bytes, out),
        None => decoder.flush_into(out),
    })
    .expect("our own wire decodes");
    let (sent, received) = (meaning(&chunks), meaning(&back));
    assert_eq!(sent.text, received.text);
    assert_eq!(sent.reasoning, received.reasoning);
    let calls = |m: &Meaning| -> Vec<(Option<String>, String)> {
        m.calls.iter().map(|c| (c.2.clone(), c.3.clone())).collect()
    };
    assert_eq!(calls(&sent), calls(&received));
}
