//! Building the output chunks of one `decode()`/`flush()` call.
//!
//! Consecutive pieces of the same kind (text, reasoning, arguments of the same call) produced
//! in one call are merged into one chunk, so a network chunk costs one Python object per kind,
//! not one per internal step. `is_first` marks the stream's first chunk with content.

use crate::chunk::{GenerationChunk, ToolCallDelta};

/// Tool-call ids: `call_` + 24 alphanumerics (OpenAI style) or 9 alphanumerics (Mistral).
/// A splitmix64 sequence seeded from the process's random hasher keys: unique enough for ids,
/// no dependency, and reproducible when a seed is given (tests).
#[derive(Debug, Clone)]
pub struct IdGenerator {
    state: u64,
}

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl IdGenerator {
    pub fn new(seed: Option<u64>) -> IdGenerator {
        let state = seed.unwrap_or_else(|| {
            use std::hash::{BuildHasher, Hasher};
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(0x5eed);
            hasher.finish()
        });
        IdGenerator { state }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn alphanumerics(&mut self, out: &mut String, count: usize) {
        let mut bits = 0u64;
        let mut left = 0;
        for _ in 0..count {
            if left == 0 {
                bits = self.next_u64();
                left = 10; // 10 draws of 6 bits per u64
            }
            // 64 values folded onto 62: a negligible bias for an id.
            out.push(ALPHANUMERIC[(bits & 63) as usize % 62] as char);
            bits >>= 6;
            left -= 1;
        }
    }

    pub fn openai_id(&mut self) -> String {
        let mut id = String::with_capacity(29);
        id.push_str("call_");
        self.alphanumerics(&mut id, 24);
        id
    }

    pub fn mistral_id(&mut self) -> String {
        let mut id = String::with_capacity(9);
        self.alphanumerics(&mut id, 9);
        id
    }
}

/// What persists between calls: whether content was sent, the next call index, ids.
#[derive(Debug, Clone)]
pub struct EmitState {
    first_sent: bool,
    next_index: u32,
    /// Text a tool section gives back, held for the parser to read again (the section
    /// opened inside reasoning); `None`: given-back text is answer text.
    given_back: Option<String>,
    /// Ids the model wrote itself (forwarded), to keep ids distinct when it repeats one.
    model_ids: std::collections::HashSet<String>,
    pub ids: IdGenerator,
}

impl EmitState {
    pub fn new(id_seed: Option<u64>) -> EmitState {
        EmitState {
            first_sent: false,
            next_index: 0,
            given_back: None,
            model_ids: std::collections::HashSet::new(),
            ids: IdGenerator::new(id_seed),
        }
    }

    /// How many tool calls were announced so far.
    pub fn calls(&self) -> u32 {
        self.next_index
    }
}

/// Counts the characters (not bytes) of UTF-8 text: the offsets in messages are `str` indexes.
#[inline]
pub fn char_count(text: &str) -> u64 {
    let bytes = text.as_bytes();
    if bytes.len() < 32 {
        // Streamed deltas are a few bytes: a plain loop beats the vector set-up.
        let mut n = 0u64;
        for &b in bytes {
            n += u64::from((b & 0xC0) != 0x80);
        }
        return n;
    }
    bytes
        .iter()
        .fold(0u64, |n, &b| n + u64::from((b & 0xC0) != 0x80))
}

/// Appends chunks for one `decode()`/`flush()` call.
pub struct Emitter<'a> {
    out: &'a mut Vec<GenerationChunk>,
    /// Chunks before this index came from earlier calls and are never merged into.
    start: usize,
    state: &'a mut EmitState,
    /// The text of the current `decode()` (empty in `flush()`), for character offsets.
    input: &'a str,
    /// Characters in the stream before `input`.
    char_base: u64,
    /// The last offset asked for, as (byte in `input`, characters before it): offsets are
    /// asked for in stream order, so each is counted from the previous one, not from the
    /// start of the input (linear in the input, however many calls it holds).
    counted: std::cell::Cell<(usize, u64)>,
}

impl<'a> Emitter<'a> {
    pub fn new(
        out: &'a mut Vec<GenerationChunk>,
        state: &'a mut EmitState,
        input: &'a str,
        char_base: u64,
    ) -> Emitter<'a> {
        let start = out.len();
        Emitter {
            out,
            start,
            state,
            input,
            char_base,
            counted: std::cell::Cell::new((0, 0)),
        }
    }

    pub fn ids(&mut self) -> &mut IdGenerator {
        &mut self.state.ids
    }

    #[inline]
    fn last_mut(&mut self) -> Option<&mut GenerationChunk> {
        if self.out.len() > self.start {
            self.out.last_mut()
        } else {
            None
        }
    }

    /// Append a default chunk and return it; `content` says whether it will carry content
    /// (for `is_first`). Filling it in place avoids moving the large struct around.
    #[inline]
    fn push_new(&mut self, content: bool) -> &mut GenerationChunk {
        self.out.push(GenerationChunk::default());
        let first = content && !self.state.first_sent;
        self.state.first_sent |= content;
        let chunk = self.out.last_mut().expect("just pushed");
        chunk.is_first = first;
        chunk
    }

    #[inline]
    pub fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(last) = self.last_mut() {
            if !last.text_delta.is_empty() {
                last.text_delta.push_str(text);
                return;
            }
        }
        self.push_new(true).text_delta.push_str(text);
    }

    #[inline]
    pub fn reasoning(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(last) = self.last_mut() {
            if !last.reasoning_delta.is_empty() {
                last.reasoning_delta.push_str(text);
                return;
            }
        }
        self.push_new(true).reasoning_delta.push_str(text);
    }

    /// Answer text; while `*trim`, leading blanks are dropped (blanks after a marker that
    /// are not text) until a non-blank character comes.
    #[inline]
    pub fn answer_text(&mut self, text: &str, trim: &mut bool) {
        if *trim {
            let rest = text.trim_start();
            *trim = rest.is_empty();
            self.text(rest);
        } else {
            self.text(text);
        }
    }

    /// Reasoning, or answer text when `as_text` (append-think formats).
    #[inline]
    pub fn reasoning_or_text(&mut self, text: &str, as_text: bool) {
        if as_text {
            self.text(text);
        } else {
            self.reasoning(text);
        }
    }

    /// Record a call id the model wrote; false when the stream used it already.
    pub fn claim_id(&mut self, id: &str) -> bool {
        if self.state.model_ids.contains(id) {
            return false;
        }
        self.state.model_ids.insert(id.to_owned())
    }

    /// From now on, hold what tool sections give back (see `take_given_back`).
    pub fn hold_given_back(&mut self) {
        self.state.given_back = Some(String::new());
    }

    /// What was given back since the last call; `stop` ends the holding.
    pub fn take_given_back(&mut self, stop: bool) -> String {
        if stop {
            self.state.given_back.take().unwrap_or_default()
        } else {
            self.state
                .given_back
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default()
        }
    }

    /// Text a tool section gives back as the model wrote it (a call that never got a name).
    #[inline]
    pub fn give_back(&mut self, text: &str) {
        match &mut self.state.given_back {
            Some(held) => held.push_str(text),
            None => self.text(text),
        }
    }

    /// How many tool calls were announced so far.
    pub fn calls(&self) -> u32 {
        self.state.next_index
    }

    /// The first delta of a new call: a fresh index, the id and the name. Returns the index.
    pub fn announce_call(&mut self, id: String, name: String, arguments: &str) -> u32 {
        let index = self.state.next_index;
        self.state.next_index += 1;
        self.push_new(true).tool_call_delta = Some(Box::new(ToolCallDelta {
            index,
            id: Some(id),
            function_name: Some(name),
            arguments_delta: arguments.to_owned(),
        }));
        index
    }

    #[inline]
    pub fn arguments(&mut self, index: u32, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(last) = self.last_mut() {
            if let Some(delta) = &mut last.tool_call_delta {
                if delta.index == index {
                    delta.arguments_delta.push_str(text);
                    return;
                }
            }
        }
        self.push_new(true).tool_call_delta = Some(Box::new(ToolCallDelta {
            index,
            arguments_delta: text.to_owned(),
            ..Default::default()
        }));
    }

    pub fn error(&mut self, code: &str, message: String) {
        let chunk = self.push_new(false);
        chunk.rare.error_code = Some(code.to_owned());
        chunk.rare.error_message = Some(message);
    }

    /// The stream offset (in characters) of byte `pos` of `piece`, a slice of the current
    /// input; the end of everything seen when `piece` is not part of it.
    pub fn char_offset(&self, piece: &str, pos: usize) -> u64 {
        let input_start = self.input.as_ptr() as usize;
        let piece_start = piece.as_ptr() as usize;
        if piece_start >= input_start && piece_start + pos <= input_start + self.input.len() {
            let byte = piece_start - input_start + pos;
            if self.input.is_char_boundary(byte) {
                return self.char_base + self.chars_before(byte);
            }
        }
        self.end_offset()
    }

    /// The offset just past everything seen so far.
    pub fn end_offset(&self) -> u64 {
        self.char_base + self.chars_before(self.input.len())
    }

    /// Characters of `input` before byte `byte` (a char boundary).
    fn chars_before(&self, byte: usize) -> u64 {
        let (from, chars) = self.counted.get();
        let chars = if byte >= from {
            chars + char_count(&self.input[from..byte])
        } else {
            char_count(&self.input[..byte])
        };
        self.counted.set((byte, chars));
        chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_shapes_and_differ() {
        let mut ids = IdGenerator::new(Some(1));
        let a = ids.openai_id();
        let b = ids.openai_id();
        assert!(a.starts_with("call_") && a.len() == 29, "{a}");
        assert!(a[5..].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        let m = ids.mistral_id();
        assert!(
            m.len() == 9 && m.bytes().all(|c| c.is_ascii_alphanumeric()),
            "{m}"
        );
        assert_eq!(
            IdGenerator::new(Some(7)).openai_id(),
            IdGenerator::new(Some(7)).openai_id()
        );
    }

    #[test]
    fn merges_pieces_of_one_kind_within_a_call() {
        let mut out = Vec::new();
        let mut state = EmitState::new(Some(0));
        let mut em = Emitter::new(&mut out, &mut state, "", 0);
        em.text("a");
        em.text("b");
        em.reasoning("r");
        em.text("c");
        let index = em.announce_call("id".into(), "f".into(), "{");
        em.arguments(index, "}");
        assert_eq!(out.len(), 4);
        assert_eq!(out[0].text_delta, "ab");
        assert!(out[0].is_first && !out[1].is_first);
        assert_eq!(
            out[3].tool_call_delta.as_ref().unwrap().arguments_delta,
            "{}"
        );
        // A new call to decode never merges into the previous call's chunks.
        let mut em = Emitter::new(&mut out, &mut state, "", 0);
        em.arguments(index, "x");
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn counts_characters() {
        assert_eq!(char_count("aé日🙂"), 4);
    }
}
