//! Replay harness for provider reducers: runs recorded bytes through the provider pipeline
//! (`ChunkDecoder`: the framer the registry names, then the reducer) and checks the invariants
//! every unified stream must hold. Feeding is done whole, byte by byte, at every split point
//! and at pseudo-random split points; all must give identical chunks.

#![allow(dead_code)]

use _fastsse::providers::registry::lookup;
use _fastsse::providers::{ChunkDecoder, ChunkDecoderConfig};
use _fastsse::{Error, FinishReason, GenerationChunk};

/// The `provider` pipeline fed `pieces` in order, then flushed.
pub fn run(provider: &str, pieces: &[&[u8]]) -> Result<Vec<GenerationChunk>, Error> {
    let mut decoder = ChunkDecoder::new(provider, ChunkDecoderConfig::default())?;
    let mut out = Vec::new();
    for piece in pieces {
        decoder.decode_into(piece, &mut out)?;
    }
    decoder.flush_into(&mut out)?;
    Ok(out)
}

/// A non-streaming body through `on_complete_body` (then `finish`, which must add nothing).
pub fn run_body(provider: &str, body: &str) -> Result<Vec<GenerationChunk>, Error> {
    let spec = lookup(provider).expect("registered");
    // Straight to the reducer, so `finish` after the body is checked to add nothing.
    let mut reducer = (spec.new_reducer)();
    let mut out = Vec::new();
    reducer.on_complete_body(body, body.len() as u64, &mut out)?;
    let before = out.len();
    reducer.finish(&mut out)?;
    assert_eq!(
        out.len(),
        before,
        "finish after on_complete_body added chunks"
    );
    Ok(out)
}

/// A tiny deterministic PRNG (xorshift) for split points.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Feed `bytes` whole, byte by byte, split once at every point (files up to `every_point_limit`
/// bytes) and in random pieces; assert identical output; return it.
pub fn run_all_splits(provider: &str, bytes: &[u8]) -> Vec<GenerationChunk> {
    run_all_splits_limit(provider, bytes, 12 * 1024)
}

pub fn run_all_splits_limit(
    provider: &str,
    bytes: &[u8],
    every_point_limit: usize,
) -> Vec<GenerationChunk> {
    let whole = run(provider, &[bytes]).expect("whole input decodes");
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(run(provider, &singles).unwrap(), whole, "byte by byte");
    if bytes.len() <= every_point_limit {
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(run(provider, &[a, b]).unwrap(), whole, "split at {cut}");
        }
    }
    let mut rng = Rng::new(bytes.len() as u64);
    for round in 0..50 {
        let mut pieces = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len().min(1 + round * 40));
            let (piece, tail) = rest.split_at(n);
            pieces.push(piece);
            rest = tail;
        }
        assert_eq!(
            run(provider, &pieces).unwrap(),
            whole,
            "random round {round}"
        );
    }
    whole
}

/// SSE bytes from vercel/ai `*.chunks.txt` lines (`data: <line>` + blank line), with the
/// given line ending.
pub fn jsonl_to_sse(jsonl: &str, newline: &str) -> Vec<u8> {
    let mut out = String::new();
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str("data: ");
        out.push_str(line);
        out.push_str(newline);
        out.push_str(newline);
    }
    out.into_bytes()
}

pub fn data(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[derive(Debug, Default, PartialEq)]
pub struct ToolCall {
    pub index: u32,
    pub id: Option<String>,
    pub name: String,
    pub arguments: String,
}

/// What a stream adds up to, after checking the unified-stream invariants.
#[derive(Debug, Default)]
pub struct Collected {
    pub text: String,
    pub reasoning: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<FinishReason>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub error_code: Option<String>,
    /// Chunks with no content (raw-only carriers of unmapped output).
    pub raw_only: usize,
    pub terminal: GenerationChunk,
}

pub fn collect(chunks: &[GenerationChunk]) -> Collected {
    let mut collected = Collected::default();
    let (terminal, body) = chunks.split_last().expect("at least the terminal chunk");
    assert!(terminal.done, "the last chunk is the terminal one");
    assert!(
        terminal.finish_reason.is_some(),
        "the terminal chunk has a finish reason"
    );
    assert!(
        !terminal.has_content(),
        "the terminal chunk carries no content"
    );
    let mut seen_first = false;
    for chunk in body {
        assert!(!chunk.done, "exactly one terminal chunk, at the end");
        assert!(chunk.finish_reason.is_none());
        // Only arguments closed at end of stream (no event of their own) lack a raw event.
        assert!(
            chunk.raw.is_some() || chunk.tool_call_delta.is_some(),
            "every chunk carries its raw event"
        );
        if chunk.has_content() {
            assert_eq!(
                chunk.is_first, !seen_first,
                "is_first on the first content chunk only"
            );
            seen_first = true;
        } else {
            assert!(!chunk.is_first);
            collected.raw_only += 1;
        }
        collected.text.push_str(&chunk.text_delta);
        collected.reasoning.push_str(&chunk.reasoning_delta);
        if let Some(delta) = &chunk.tool_call_delta {
            match collected
                .tool_calls
                .iter_mut()
                .find(|c| c.index == delta.index)
            {
                Some(call) => {
                    assert!(
                        delta.id.is_none() && delta.function_name.is_none(),
                        "id/name on the first delta only"
                    );
                    call.arguments.push_str(&delta.arguments_delta);
                }
                None => {
                    assert_eq!(
                        delta.index as usize,
                        collected.tool_calls.len(),
                        "indices count up"
                    );
                    collected.tool_calls.push(ToolCall {
                        index: delta.index,
                        id: delta.id.clone(),
                        name: delta
                            .function_name
                            .clone()
                            .expect("name on the first delta"),
                        arguments: delta.arguments_delta.clone(),
                    });
                }
            }
        }
    }
    collected.finish_reason = terminal.finish_reason;
    collected.prompt_tokens = terminal.prompt_tokens;
    collected.completion_tokens = terminal.completion_tokens;
    collected.error_code = terminal.error_code.clone();
    collected.terminal = terminal.clone();
    collected
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Corrupt `bytes` in many random ways (overwrite a byte, drop a range, duplicate a range):
/// the result may be chunks or a typed error, never a panic.
pub fn mutations_never_panic(provider: &str, bytes: &[u8]) {
    let mut rng = Rng::new(bytes.len() as u64 ^ 0xDEAD_BEEF);
    let interesting = b"{}[]\":,\\0-9aetnuxX\r\n ";
    for round in 0..400 {
        let mut corrupt = bytes.to_vec();
        let at = rng.below(corrupt.len());
        match round % 3 {
            0 => corrupt[at] = interesting[rng.below(interesting.len())],
            1 => {
                let end = (at + 1 + rng.below(16)).min(corrupt.len());
                corrupt.drain(at..end);
            }
            _ => {
                let end = (at + 1 + rng.below(64)).min(corrupt.len());
                let copy = corrupt[at..end].to_vec();
                let to = rng.below(corrupt.len());
                corrupt.splice(to..to, copy);
            }
        }
        let pieces: Vec<&[u8]> = corrupt.chunks(1 + rng.below(64)).collect();
        if let Ok(chunks) = run(provider, &pieces) {
            assert!(
                chunks.last().is_some_and(|c| c.done),
                "a terminal chunk even for odd input"
            );
        }
    }
}
