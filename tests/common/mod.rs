//! Helpers shared by the provider integration tests: fixtures, feeding strategies and a
//! summary of a chunk stream (what `fastsse.collect` would build).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use _fastsse::providers::{ChunkDecoder, ChunkDecoderConfig};
use _fastsse::{Error, FinishReason, GenerationChunk};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A fixture as the wire bytes of a stream: `.jsonl` files (framing removed) are wrapped
/// back into SSE `data:` events.
pub fn fixture(path: &str) -> Vec<u8> {
    let bytes = std::fs::read(data_dir().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    if path.ends_with(".jsonl") {
        let text = String::from_utf8(bytes).unwrap();
        let mut out = String::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            out.push_str("data: ");
            out.push_str(line);
            out.push_str("\n\n");
        }
        out.into_bytes()
    } else {
        bytes
    }
}

/// Every fixture file in a data directory (sorted).
pub fn fixtures_in(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sse") || n.ends_with(".jsonl"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    names.sort();
    names
}

/// LF line ends -> CRLF (JSON text never holds a raw LF, so this only touches framing).
pub fn to_crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8);
    for &b in bytes {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// What a stream produced: its chunks, and the error that ended it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub chunks: Vec<GenerationChunk>,
    pub error: Option<Error>,
}

pub fn decode_with(provider: &str, config: ChunkDecoderConfig, parts: &[&[u8]]) -> Outcome {
    let mut decoder = ChunkDecoder::new(provider, config).unwrap();
    let mut chunks = Vec::new();
    for part in parts {
        if let Err(error) = decoder.decode_into(part, &mut chunks) {
            return Outcome {
                chunks,
                error: Some(error),
            };
        }
    }
    let error = decoder.flush_into(&mut chunks).err();
    Outcome { chunks, error }
}

pub fn decode_parts(provider: &str, parts: &[&[u8]]) -> Outcome {
    decode_with(provider, ChunkDecoderConfig::default(), parts)
}

pub fn decode_whole(provider: &str, bytes: &[u8]) -> Outcome {
    decode_parts(provider, &[bytes])
}

pub fn decode_bytewise(provider: &str, bytes: &[u8]) -> Outcome {
    let parts: Vec<&[u8]> = bytes.chunks(1).collect();
    decode_parts(provider, &parts)
}

/// Split `bytes` at the given cut points (any order, any values).
pub fn split_at<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut parts = Vec::new();
    let mut start = 0;
    for cut in cuts {
        parts.push(&bytes[start..cut]);
        start = cut;
    }
    parts.push(&bytes[start..]);
    parts
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

/// One choice assembled, the way `fastsse.collect` does it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub text: String,
    pub reasoning: String,
    pub refusal: String,
    pub tools: Vec<ToolCall>,
    pub finish: Option<FinishReason>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub stop_sequence: Option<String>,
    pub error_code: Option<String>,
    pub done_chunks: usize,
}

pub fn summarize(chunks: &[GenerationChunk], choice: u32) -> Summary {
    let mut summary = Summary::default();
    let mut tools: BTreeMap<u32, ToolCall> = BTreeMap::new();
    for chunk in chunks.iter().filter(|c| c.choice_index == choice) {
        summary.text.push_str(&chunk.text_delta);
        summary.reasoning.push_str(&chunk.reasoning_delta);
        summary.refusal.push_str(&chunk.refusal_delta);
        if let Some(delta) = &chunk.tool_call_delta {
            let tool = tools.entry(delta.index).or_default();
            if tool.id.is_none() {
                tool.id.clone_from(&delta.id);
            }
            if tool.name.is_none() {
                tool.name.clone_from(&delta.function_name);
            }
            tool.arguments.push_str(&delta.arguments_delta);
        }
        if chunk.done {
            summary.done_chunks += 1;
            summary.finish = chunk.finish_reason;
            summary.prompt_tokens = chunk.prompt_tokens;
            summary.completion_tokens = chunk.completion_tokens;
            summary.stop_sequence.clone_from(&chunk.stop_sequence);
            summary.error_code.clone_from(&chunk.error_code);
        }
    }
    summary.tools = tools.into_values().collect();
    summary
}

/// The rules every provider stream obeys: one terminal chunk per choice, after every other
/// chunk of that choice; `is_first` exactly on the first content chunk; `raw` everywhere
/// except on terminals made at end of stream.
pub fn check_invariants(outcome: &Outcome) {
    let chunks = &outcome.chunks;
    let first_content = chunks.iter().position(GenerationChunk::has_content);
    for (i, chunk) in chunks.iter().enumerate() {
        assert_eq!(
            chunk.is_first,
            Some(i) == first_content,
            "is_first on chunk {i}: {chunk:?}"
        );
        if !chunk.done {
            assert!(chunk.raw.is_some(), "chunk {i} has no raw event: {chunk:?}");
        }
    }
    if outcome.error.is_some() {
        assert!(
            chunks.iter().all(|c| !c.done),
            "a failed stream has no terminal chunk"
        );
        return;
    }
    let mut choices: Vec<u32> = chunks.iter().map(|c| c.choice_index).collect();
    choices.sort_unstable();
    choices.dedup();
    assert!(
        !choices.is_empty(),
        "a finished stream yields at least its terminal chunk"
    );
    for choice in choices {
        let of_choice: Vec<&GenerationChunk> =
            chunks.iter().filter(|c| c.choice_index == choice).collect();
        let dones = of_choice.iter().filter(|c| c.done).count();
        assert_eq!(dones, 1, "choice {choice} has {dones} terminal chunks");
        let last = of_choice.last().unwrap();
        assert!(
            last.done && last.finish_reason.is_some(),
            "choice {choice} does not end with its terminal"
        );
    }
}

/// Decode a fixture whole, byte by byte, in CRLF and at deterministic pseudo-random cuts;
/// every way must give the same outcome. Returns it.
pub fn decode_every_way(provider: &str, path: &str) -> Outcome {
    let bytes = fixture(path);
    let whole = decode_whole(provider, &bytes);
    check_invariants(&whole);
    assert_eq!(
        decode_bytewise(provider, &bytes),
        whole,
        "{path}: byte by byte differs"
    );
    let crlf = to_crlf(&bytes);
    assert_eq!(decode_whole(provider, &crlf), whole, "{path}: CRLF differs");
    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ bytes.len() as u64;
    for _ in 0..8 {
        let cuts: Vec<usize> = (0..12)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as usize
            })
            .collect();
        let source = if seed % 2 == 0 { &bytes } else { &crlf };
        let parts = split_at(source, &cuts);
        assert_eq!(
            decode_parts(provider, &parts),
            whole,
            "{path}: split at {cuts:?} differs"
        );
    }
    whole
}
