//! The one harness of the Rust integration tests: fixtures, feeding a stream every way
//! (whole, byte by byte, at every cut, at pseudo-random cuts, in CRLF), a summary of a chunk
//! stream (what `fastsse.collect` builds) and the invariants every unified stream obeys.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use _fastsse::providers::registry::lookup;
use _fastsse::providers::Framing;
use _fastsse::providers::{ChunkDecoder, ChunkDecoderConfig};
use _fastsse::{Error, FinishReason, GenerationChunk};

// ---- fixtures ---------------------------------------------------------------------------

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The bytes of a file under `tests/data`, as stored.
pub fn data(path: &str) -> Vec<u8> {
    let full = data_dir().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// A fixture as the wire bytes of a stream: `.jsonl` files (framing removed) are wrapped
/// back into SSE `data:` events.
pub fn fixture(path: &str) -> Vec<u8> {
    let bytes = data(path);
    if path.ends_with(".jsonl") {
        jsonl_to_sse(std::str::from_utf8(&bytes).unwrap(), "\n")
    } else {
        bytes
    }
}

/// Every stream fixture in a data directory (sorted).
pub fn fixtures_in(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| {
            [".sse", ".jsonl", ".ndjson", ".bin"]
                .iter()
                .any(|ext| n.ends_with(ext))
        })
        .map(|n| format!("{dir}/{n}"))
        .collect();
    names.sort();
    names
}

/// SSE bytes from JSON lines (`data: <line>` + blank line), with the given line ending.
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

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

// ---- decoding -------------------------------------------------------------------------

/// What a stream produced: its chunks, and the error that ended it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub chunks: Vec<GenerationChunk>,
    pub error: Option<Error>,
}

impl Outcome {
    pub fn into_result(self) -> Result<Vec<GenerationChunk>, Error> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.chunks),
        }
    }
}

/// The `provider` pipeline (the registry's framer, then the reducer) fed `parts` in order,
/// then flushed; stops at the first error.
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

/// `decode_parts` as a `Result`.
pub fn run(provider: &str, parts: &[&[u8]]) -> Result<Vec<GenerationChunk>, Error> {
    decode_parts(provider, parts).into_result()
}

/// A non-streaming body through the pipeline (`content_type` declared, or `None` to sniff it)
/// whole and byte by byte, which must agree, and after leading blank space (the same
/// summary). Returns the whole outcome.
pub fn decode_every_way_body(provider: &str, body: &[u8], content_type: Option<&str>) -> Outcome {
    let config = ChunkDecoderConfig {
        content_type: content_type.map(str::to_owned),
        ..Default::default()
    };
    let whole = decode_with(provider, config.clone(), &[body]);
    let bytewise: Vec<&[u8]> = body.chunks(1).collect();
    assert_eq!(decode_with(provider, config.clone(), &bytewise), whole);
    let mut padded = b"\r\n  ".to_vec();
    padded.extend_from_slice(body);
    let padded_outcome = decode_with(provider, config, &[&padded[..1], &padded[1..]]);
    assert_eq!(
        summarize(&padded_outcome.chunks, 0),
        summarize(&whole.chunks, 0)
    );
    whole
}

/// A non-streaming body through `on_complete_body` (then `finish`, which must add nothing),
/// returned as the pipeline delivers it (with `raw` and `is_first`, which the pipeline stamps).
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
    let config = ChunkDecoderConfig {
        content_type: Some("application/json".to_owned()),
        ..Default::default()
    };
    let mut decoder = ChunkDecoder::new(provider, config)?;
    let mut chunks = decoder.decode(body.as_bytes())?;
    chunks.extend(decoder.flush()?);
    assert_eq!(
        chunks.len(),
        out.len(),
        "the pipeline adds no chunks to a body"
    );
    Ok(chunks)
}

// ---- splitting ------------------------------------------------------------------------

/// A tiny deterministic PRNG (xorshift) for split points.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
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

/// `text` one character a piece.
pub fn by_char(text: &str) -> Vec<&str> {
    text.char_indices()
        .map(|(i, c)| &text[i..i + c.len_utf8()])
        .collect()
}

/// Where `text` may be cut in two: the character boundaries inside it.
pub fn char_boundaries(text: &str) -> Vec<usize> {
    text.char_indices().map(|(i, _)| i).skip(1).collect()
}

/// `text` cut at the character boundaries `seeds` pick (seed `s` picks boundary `s % count`,
/// repeats cut once); whole when it has none.
pub fn cut_at_chars<'a>(text: &'a str, seeds: &[u16]) -> Vec<&'a str> {
    let bounds = char_boundaries(text);
    let mut cuts: Vec<usize> = match bounds.len() {
        0 => Vec::new(),
        n => seeds.iter().map(|&s| bounds[usize::from(s) % n]).collect(),
    };
    cuts.sort_unstable();
    cuts.dedup();
    split_at(text.as_bytes(), &cuts)
        .into_iter()
        .map(|piece| std::str::from_utf8(piece).expect("cut at character boundaries"))
        .collect()
}

/// Inputs up to this size are also cut once at every point.
pub const EVERY_POINT_LIMIT: usize = 12 * 1024;

/// Feed `bytes` whole, byte by byte, cut once at every point (inputs up to `every_point_limit`
/// bytes) and in pseudo-random pieces of growing size; every way must give the same outcome
/// (chunks and error). Returns it.
pub fn every_split_limit(provider: &str, bytes: &[u8], every_point_limit: usize) -> Outcome {
    let whole = decode_whole(provider, bytes);
    assert_eq!(decode_bytewise(provider, bytes), whole, "byte by byte");
    if bytes.len() <= every_point_limit {
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(decode_parts(provider, &[a, b]), whole, "cut at {cut}");
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
            decode_parts(provider, &pieces),
            whole,
            "random round {round}"
        );
    }
    whole
}

pub fn every_split(provider: &str, bytes: &[u8]) -> Outcome {
    every_split_limit(provider, bytes, EVERY_POINT_LIMIT)
}

/// `every_split` for a stream that must decode without error; returns its chunks.
pub fn run_all_splits(provider: &str, bytes: &[u8]) -> Vec<GenerationChunk> {
    run_all_splits_limit(provider, bytes, EVERY_POINT_LIMIT)
}

pub fn run_all_splits_limit(
    provider: &str,
    bytes: &[u8],
    every_point_limit: usize,
) -> Vec<GenerationChunk> {
    every_split_limit(provider, bytes, every_point_limit)
        .into_result()
        .expect("the stream decodes")
}

/// A text-framed fixture whole, byte by byte, in CRLF, and at pseudo-random cuts of both
/// (a lighter sweep than `every_split`, for directories of fixtures); checks the stream
/// invariants. Returns the outcome.
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
    let mut rng = Rng::new(bytes.len() as u64);
    for round in 0..8 {
        let cuts: Vec<usize> = (0..12).map(|_| rng.next() as usize).collect();
        let source = if round % 2 == 0 { &bytes } else { &crlf };
        assert_eq!(
            decode_parts(provider, &split_at(source, &cuts)),
            whole,
            "{path}: cut at {cuts:?} differs"
        );
    }
    whole
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

// ---- summaries and invariants -----------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCall {
    pub index: u32,
    pub id: Option<String>,
    /// Empty when no delta named the call.
    pub name: String,
    pub arguments: String,
}

/// One choice assembled, the way `fastsse.collect` does it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    pub text: String,
    pub reasoning: String,
    pub refusal: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<FinishReason>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub stop_sequence: Option<String>,
    pub error_code: Option<String>,
    pub done_chunks: usize,
    /// Chunks with no content (raw-only carriers of unmapped output).
    pub raw_only: usize,
}

/// The provider event of a stream's last terminal chunk, as JSON.
pub fn terminal_raw(chunks: &[GenerationChunk]) -> Option<serde_json::Value> {
    let terminal = chunks.iter().rev().find(|c| c.done)?;
    terminal.raw.as_deref().map(json)
}

/// Choice `choice` of a stream assembled, without judging its shape.
pub fn summarize(chunks: &[GenerationChunk], choice: u32) -> Summary {
    let mut summary = Summary::default();
    let mut tools: BTreeMap<u32, ToolCall> = BTreeMap::new();
    for chunk in chunks.iter().filter(|c| c.choice_index == choice) {
        summary.text.push_str(&chunk.text_delta);
        summary.reasoning.push_str(&chunk.reasoning_delta);
        summary.refusal.push_str(&chunk.rare.refusal_delta);
        if let Some(delta) = &chunk.tool_call_delta {
            let tool = tools.entry(delta.index).or_insert_with(|| ToolCall {
                index: delta.index,
                ..ToolCall::default()
            });
            if tool.id.is_none() {
                tool.id.clone_from(&delta.id);
            }
            if let (true, Some(name)) = (tool.name.is_empty(), &delta.function_name) {
                tool.name.clone_from(name);
            }
            tool.arguments.push_str(&delta.arguments_delta);
        }
        if chunk.done {
            summary.done_chunks += 1;
            summary.finish_reason = chunk.finish_reason;
            summary.prompt_tokens = chunk.rare.prompt_tokens;
            summary.completion_tokens = chunk.rare.completion_tokens;
            summary.stop_sequence.clone_from(&chunk.rare.stop_sequence);
            summary.error_code.clone_from(&chunk.rare.error_code);
        } else if !chunk.has_content() {
            summary.raw_only += 1;
        }
    }
    summary.tool_calls = tools.into_values().collect();
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

/// A single-choice stream that ends before the provider's final event, decoded whole: no
/// error, the shape `collect` checks, and a terminal chunk that says `finish_reason="error"`
/// with code `incomplete_stream`. Returns it assembled.
pub fn decode_incomplete(provider: &str, bytes: &[u8]) -> Summary {
    let outcome = decode_whole(provider, bytes);
    let summary = collect(&outcome.into_result().expect("a cut stream is not an error"));
    assert_eq!(summary.finish_reason, Some(FinishReason::Error));
    assert_eq!(summary.error_code.as_deref(), Some("incomplete_stream"));
    summary
}

/// A single-choice stream assembled after checking its shape strictly: exactly one terminal
/// chunk, last, with a finish reason and no content; `raw` on every chunk but arguments closed
/// at end of stream; id and name on a call's first delta only; call indexes dense from 0.
pub fn collect(chunks: &[GenerationChunk]) -> Summary {
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
    let mut named = 0u32;
    let mut seen_first = false;
    for chunk in body {
        assert!(!chunk.done, "exactly one terminal chunk, at the end");
        assert!(chunk.finish_reason.is_none());
        // Only arguments closed at end of stream (no event of their own) lack a raw event.
        assert!(
            chunk.raw.is_some() || chunk.tool_call_delta.is_some(),
            "every chunk carries its raw event"
        );
        assert_eq!(
            chunk.is_first,
            chunk.has_content() && !seen_first,
            "is_first on the first content chunk only"
        );
        seen_first |= chunk.has_content();
        if let Some(delta) = &chunk.tool_call_delta {
            if delta.index == named {
                assert!(delta.function_name.is_some(), "name on the first delta");
                named += 1;
            } else {
                assert!(delta.index < named, "indices count up from 0");
                assert!(
                    delta.id.is_none() && delta.function_name.is_none(),
                    "id/name on the first delta only"
                );
            }
        }
    }
    summarize(chunks, 0)
}

// ---- capture tables -----------------------------------------------------------------------

/// What choice 0 of a stream adds up to, in the terms of a capture table's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub finish: Option<FinishReason>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    /// Lengths in chars of the text, the reasoning and the refusal.
    pub chars: [usize; 3],
    /// Chunks that carry only `raw` (signatures, server tools, unmapped parts).
    pub raw_only: usize,
    /// Name and argument length in chars of each tool call.
    pub tools: Vec<(String, usize)>,
}

impl Digest {
    pub fn of(summary: &Summary) -> Digest {
        let chars = |text: &str| text.chars().count();
        Digest {
            finish: summary.finish_reason,
            prompt_tokens: summary.prompt_tokens,
            completion_tokens: summary.completion_tokens,
            chars: [
                chars(&summary.text),
                chars(&summary.reasoning),
                chars(&summary.refusal),
            ],
            raw_only: summary.raw_only,
            tools: summary
                .tool_calls
                .iter()
                .map(|t| (t.name.clone(), chars(&t.arguments)))
                .collect(),
        }
    }
}

/// One row of a capture table.
#[derive(Debug, Clone)]
pub struct Row {
    pub path: String,
    pub expected: Digest,
}

/// The columns of every capture table, in order (`-` for a count the stream does not give;
/// tools as `name:argument-chars`, as many as there are calls).
pub const COLUMNS: &str = "path finish prompt completion text reasoning refusal raw_only tools...";

/// A capture table: one row a line, columns (`COLUMNS`) split by blanks; blank lines and
/// lines starting with `#` are skipped.
pub fn table(text: &str) -> Vec<Row> {
    let count = |cell: &str| (cell != "-").then(|| cell.parse::<u64>().expect(cell));
    let size = |cell: &str| cell.parse::<usize>().expect(cell);
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            assert!(
                cells.len() >= 8,
                "row has too few columns ({COLUMNS}): {line}"
            );
            let tools = cells[8..]
                .iter()
                .map(|cell| {
                    let (name, chars) = cell.rsplit_once(':').expect(cell);
                    (name.to_owned(), size(chars))
                })
                .collect();
            Row {
                path: cells[0].to_owned(),
                expected: Digest {
                    finish: Some(FinishReason::parse(cells[1]).expect(cells[1])),
                    prompt_tokens: count(cells[2]),
                    completion_tokens: count(cells[3]),
                    chars: [size(cells[4]), size(cells[5]), size(cells[6])],
                    raw_only: size(cells[7]),
                    tools,
                },
            }
        })
        .collect()
}

/// How hard a table's captures are fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    /// `decode_every_way`: whole, byte by byte, in CRLF and at random cuts.
    Light,
    /// `every_split`: whole, byte by byte, at every cut (small captures) and in 50 rounds of
    /// random pieces; text framings also in CRLF.
    Full,
}

/// Every row's capture decoded the `sweep` way (same outcome every way, no error, the stream
/// invariants) and matched to its row, the rows in parallel (like separate tests). Returns
/// each row with its chunks, for the provider's own further checks.
pub fn check_table(provider: &str, rows: &[Row], sweep: Sweep) -> Vec<(Row, Vec<GenerationChunk>)> {
    std::thread::scope(|scope| {
        let checks: Vec<_> = rows
            .iter()
            .map(|row| scope.spawn(move || (row.clone(), check_row(provider, row, sweep))))
            .collect();
        checks
            .into_iter()
            .map(|check| {
                check
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

fn check_row(provider: &str, row: &Row, sweep: Sweep) -> Vec<GenerationChunk> {
    let path = row.path.as_str();
    let outcome = match sweep {
        Sweep::Light => decode_every_way(provider, path),
        Sweep::Full => {
            let bytes = fixture(path);
            let outcome = every_split(provider, &bytes);
            check_invariants(&outcome);
            if lookup(provider).expect("registered").framing != Framing::EventStream {
                let crlf = decode_whole(provider, &to_crlf(&bytes));
                assert_eq!(crlf, outcome, "{path}: CRLF differs");
            }
            outcome
        }
    };
    assert_eq!(outcome.error, None, "{path}");
    let got = Digest::of(&summarize(&outcome.chunks, 0));
    assert_eq!(got, row.expected, "{path}");
    outcome.chunks
}

/// Every capture on disk is a row of a table or one of `others`, and nothing else is.
pub fn assert_covered(rows: &[Row], others: &[&str], on_disk: Vec<String>) {
    let mut listed: Vec<String> = rows.iter().map(|row| row.path.clone()).collect();
    listed.extend(others.iter().map(|path| path.to_string()));
    listed.sort_unstable();
    let mut on_disk = on_disk;
    on_disk.sort_unstable();
    assert_eq!(listed, on_disk, "captures listed vs on disk");
}

/// The `Error::Provider` a stream or body had to fail with: its code, message and raw event.
pub fn provider_error(error: Option<Error>) -> (Option<String>, String, String) {
    match error {
        Some(Error::Provider { code, message, raw }) => (code, message, raw),
        other => panic!("expected a provider error, got {other:?}"),
    }
}

/// Rows of captures that end in a provider error: `path code` (`-` for no code). Each is
/// decoded every way (same chunks and error every way, the invariants hold) and must fail
/// with `Error::Provider` of that code. Returns each path with its outcome.
pub fn check_error_table(provider: &str, text: &str) -> Vec<(String, Outcome)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (path, code) = line.split_once(char::is_whitespace).expect(line);
            let code = Some(code.trim()).filter(|code| *code != "-");
            let outcome = decode_every_way(provider, path);
            match &outcome.error {
                Some(Error::Provider { code: got, .. }) => {
                    assert_eq!(got.as_deref(), code, "{path}")
                }
                other => panic!("{path}: expected a provider error, got {other:?}"),
            }
            (path.to_owned(), outcome)
        })
        .collect()
}
